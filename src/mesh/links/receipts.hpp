// Control messages with receipts: the sender learns that the peer has *stored* a message (in its
// SQLite store, which a SIGKILL does not lose), not only that SCTP took it. A message handed to
// SCTP can still be lost with the process that received it (in flight, or in its in-memory inbox);
// one acknowledged here cannot. Delivery is at least once: a sender that got no receipt (timeout,
// the link went down) sends the same id again, through whichever link or instance serves the peer
// by then, and the receiver stores each (peer, id) once (a repeat is acknowledged again).
//
// On the control channel, as JSON text (docs/PROTOCOL.md, "Messages with receipts"):
//   {"type": "f0.msg", "id": "<1-64 of [A-Za-z0-9_-]>", "text": "..."}   (or "base64": bytes)
//   {"type": "f0.ack", "id": "..."}
//   {"type": "f0.nack", "id": "...", "error": "too_large" | "store"}
//
// Bounds: max_pending messages waiting for their receipt (more: Busy), max_body bytes per message
// (more: TooLarge, and the receiver refuses with a nack), keep_per_peer and keep_total stored
// messages (the oldest go first, counted as evicted).
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/core/errors.hpp"
#include "mesh/links/link_table.hpp"
#include "store/mesh_store.hpp"

#include <map>
#include <string>

namespace f0::mesh {

class Receipts {
public:
    struct Limits {
        std::size_t max_pending = 1'000;
        std::size_t max_body = 64 * 1024;
        std::int64_t keep_per_peer = 1'000, keep_total = 4'096;
        std::chrono::milliseconds timeout{10'000}, max_timeout{60'000};
    };
    struct Counters {
        std::uint64_t sent = 0, acked = 0, not_acked = 0, refused_busy = 0; // as the sender
        std::uint64_t stored = 0, repeats = 0, refused = 0, evicted = 0;    // as the receiver
    };

    Receipts(Clock& clock, LinkTable& links, store::MeshStore& store, Limits limits);

    // Sends `body` to `peer` on its control channel (the link must be open) and calls `done` with
    // {"sent": true, "acked": true, "id", "bytes", "binary"} once the peer has stored it, or with
    // NotAcknowledged (no receipt within `timeout`, 0: the default; a nack; the link went down).
    // An empty id gets a random one. Synchronous refusals: BadRequest (id), TooLarge, Busy.
    void send(const std::string& peer, std::string body, bool binary, std::string id,
              std::chrono::milliseconds timeout, OutcomeCallback done);
    // A control message: true when it was one of these frames (handled here, never an inbox
    // entry as it came); a stored message goes to the inbox as its body.
    bool on_control(const std::string& peer, const std::string& text);
    // The link to `peer` went down: its messages waiting for a receipt fail now.
    void on_link_down(const std::string& peer);
    // Stored messages after `after` (a seq), of `peer` or of all (""); oldest first.
    Outcome stored(const std::string& peer, std::int64_t after, std::int64_t limit) const;
    void stop();

    const Counters& counters() const { return counters_; }
    std::size_t pending() const { return pending_.size(); }
    const Limits& limits() const { return limits_; }

    static bool valid_id(const std::string& id);

private:
    struct Pending {
        std::string peer;
        std::size_t bytes = 0;
        bool binary = false;
        OutcomeCallback done;
        Timer timer;
    };
    void settle(const std::string& id, Outcome o);
    void receive(const std::string& peer, const nlohmann::json& frame);
    void answer(const std::string& peer, const std::string& id, const char* error);

    Clock& clock_;
    LinkTable& links_;
    store::MeshStore& store_;
    Limits limits_;
    Counters counters_;
    std::map<std::string, Pending> pending_; // by id
};

} // namespace f0::mesh

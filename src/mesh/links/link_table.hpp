// LinkTable owns the links: one per remote peer, each with a generation (events of a replaced
// PeerLink are ignored), the dials waiting for it to open, its dial timeout, and the redial
// backoff after it fails. It wires the three channels and raises events; it knows nothing of
// signaling, gossip or replication.
//
//   dialing --(answer applied)--> connecting --(all channels open)--> open
//      |                              |                                 |
//      +------(timeout, transport failure, peer refused)----------------+--> failed
//   failed --(backoff: redial_min doubling to redial_max, +-50 % jitter)--> redial_due
//   close(): any state --> closed (not desired: no redial, removed from the store)
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/core/errors.hpp"
#include "mesh/core/events.hpp"
#include "mesh/links/link.hpp"
#include "store/mesh_store.hpp"

#include <atomic>
#include <map>
#include <string>
#include <vector>

namespace f0::mesh {

class LinkTable {
public:
    struct Options {
        std::string self; // our peer id (sent in the hello)
        std::chrono::milliseconds dial_timeout{10'000};
        std::chrono::milliseconds redial_min{1'000}, redial_max{60'000};
        std::chrono::milliseconds gather_limit{3'000}; // offer/answer sent with what we have then
        std::size_t qos_probe_size = 64;
        std::size_t inbox_limit = 100;
        // ...and at most inbox_bytes of them per link; a message over keep_bytes is kept (and
        // shown on /events) as {"omitted": "too large", "bytes": n}, not whole. Every entry has
        // the message's size and SHA-256 ("bytes", "sha256").
        std::size_t inbox_bytes = 64 * 1024, keep_bytes = 8 * 1024;
        std::size_t max_links = 1'000; // links holding a PeerConnection (not failed or closed)
        std::size_t max_pending = 64;  // of which dialling or connecting
        // Control-channel messages accepted per second from a peer of trust 0 .. 1, with a
        // burst of control_burst_s seconds of that rate; the rest are dropped.
        double control_rate_min = 50, control_rate_max = 500, control_burst_s = 2;
    };
    struct Counters {
        std::uint64_t created = 0, opened = 0, failed = 0, dials_failed = 0, redials = 0;
        std::uint64_t closed_by_peer = 0;    // the peer closed it cleanly (not redialled)
        std::uint64_t control_not_utf8 = 0;  // control messages kept as base64
        std::uint64_t control_too_large = 0; // ...kept as their size only
        std::uint64_t refused_total = 0, refused_pending = 0; // new links over max_links/pending
        std::uint64_t control_rate_limited = 0;               // control messages dropped
    };
    using Notify = std::function<void(const std::string& type, nlohmann::json data)>;

    LinkTable(Clock& clock, PeerLinkFactory& factory, store::MeshStore& store, Options options,
              Notify notify);
    ~LinkTable();

    // Raised on the control thread.
    Event<const std::string&> opened;                   // every channel of the link is open
    Event<const std::string&, const std::string&> down; // peer, why: failed or closed
    Event<const std::string&> redial_due;               // its backoff elapsed: dial again
    Event<const std::string&, const std::string&, const std::string&> message; // peer, label, bytes

    // Trust of a peer in [0, 1] (set by the composition root; default 0.5): scales the
    // control-channel rate.
    std::function<double(const std::string& peer)> trust_of;
    // Whether a new link to `peer` fits the caps (one replacing the peer's own link always
    // does); counted when it does not.
    std::optional<Error> admit(const std::string& peer);
    // A new link to peer (a new generation), replacing and closing any previous one; keeps the
    // attempt count. role: "dialer" or "accepter".
    Link& create(const std::string& peer, const std::string& role);
    Link* find(const std::string& peer);
    const Link* find(const std::string& peer) const;
    Link* current(const std::string& peer, std::uint64_t gen); // null if replaced or gone
    void erase(const std::string& peer);                       // a link that never got going

    // Dials waiting for peer's link: settled with its view when it opens, an error when it fails.
    void wait(const std::string& peer, OutcomeCallback done);
    bool has_waiters(const std::string& peer) const { return waiters_.count(peer) > 0; }
    // then() runs once the link's candidates are gathered, or after gather_limit.
    void when_gathered(const std::string& peer, std::uint64_t gen, std::function<void()> then);
    // Fails this generation if it is not open after dial_timeout.
    void arm_dial_timeout(const std::string& peer, std::uint64_t gen);

    void fail(const std::string& peer, const std::string& why);
    // The peer closed the link cleanly (SCTP SHUTDOWN or ABORT, DTLS close_notify): `closed`, by
    // the peer, not `failed`; a link we want is redialled with backoff, as after a failure (the
    // peer may be restarting).
    void closed_by_peer(const std::string& peer);
    Outcome close(const std::string& peer); // by the operator: not desired any more
    void changed(const Link& link);         // store it and tell the dashboards
    // A message on one of the channels of an open link.
    // As text (WebRTC String), or binary (WebRTC Binary) for bytes that are not text.
    Status send(const std::string& peer, const std::string& label, std::string_view bytes,
                bool binary = false);
    // A control message that no protocol claimed: kept (bounded) and shown.
    void record_control(const std::string& peer, const std::string& text);
    void stop(); // closes every link; they stay desired in the store

    std::vector<std::string> open_peers() const;
    const std::map<std::string, Link>& all() const { return links_; }
    // f(peer, link) for every open link; f must not add or remove links.
    template <class F> void each_open(F&& f) {
        for (auto& [peer, link] : links_)
            if (link.state == LinkState::Open)
                f(peer, link);
    }
    const Counters& counters() const { return counters_; }
    // Channels a peer opened that we do not carry (refused on the transport thread).
    std::uint64_t channels_refused() const { return channels_refused_->load(); }
    nlohmann::json to_json() const;

private:
    bool admit_control(Link& link); // the control-channel token bucket
    void on_state(const std::string& peer, std::uint64_t gen, rtc::PeerState s);
    void on_channel(const std::string& peer, std::uint64_t gen, const std::string& label,
                    bool open);
    void on_gathered(const std::string& peer, std::uint64_t gen);
    void settle(const std::string& peer, const std::optional<Error>& err);
    void schedule_redial(const std::string& peer);

    Clock& clock_;
    PeerLinkFactory& factory_;
    store::MeshStore& store_;
    Options opt_;
    Notify notify_;
    std::map<std::string, Link> links_;
    std::map<std::string, std::vector<OutcomeCallback>> waiters_;
    std::map<std::string, Timer> redial_;
    std::uint64_t next_generation_ = 1;
    Counters counters_;
    std::shared_ptr<std::atomic<std::uint64_t>> channels_refused_ =
        std::make_shared<std::atomic<std::uint64_t>>(0);
    bool stopped_ = false;
};

} // namespace f0::mesh

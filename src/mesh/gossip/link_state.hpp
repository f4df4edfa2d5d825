// Link-state gossip (issue 18): every QoS interval each worker publishes a compact summary of its
// open links on the reserved topic `mesh/links` (signed as every gossip message is, by its origin
// or an instance of it); every worker keeps the latest summary per sender and serves the graph of
// the whole mesh from them (GET /mesh). No I/O: the worker and the gossip simulator run this code.
//
// Payload (the gossip message's; compact, so that up to 200 links fit in the 16 KiB payload bound):
//   {"v":1, "i":INTERVAL_MS, "n":LINKS_OPEN, "l":[[PEER, RTT_MS|null, JITTER_MS, LOSS_PCT,
//                                                  TX_KBPS, RX_KBPS, HEALTH, PATH], ...]}
// HEALTH is good|degraded|bad|unknown, PATH host|srflx|prflx|relay|"" (the link's candidate
// pair, see MeshView::path_kind). More than fit (kMaxLinks, kMaxPayloadBytes): the worst-health
// links are the ones sent and n tells how many there are.
//
// Bounds: a summary of more than kMaxLinks entries, a malformed entry or a value out of range is
// refused whole (counted invalid); at most max_senders summaries are held (the one heard from
// longest ago makes room, counted evicted; so do they when the links of all summaries held would
// pass max_entries); one not renewed within expire_ms is dropped (counted
// expired). Numbers are rounded to 0.1 before they are sent.
#pragma once

#include "mesh/gossip/gossip_message.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace f0::mesh::gossip {

struct LinkSummary {
    std::string peer;
    std::optional<double> rtt_ms;
    double jitter_ms = 0, loss_pct = 0, tx_kbps = 0, rx_kbps = 0;
    std::string health = "unknown";
    std::string path;
};

struct LinkStateLimits {
    std::size_t max_senders = 10'000; // summaries held (one per worker: peer, or peer/instance)
    std::int64_t expire_ms = 60'000;  // dropped when not renewed for this long (4 intervals)
    // Links over all summaries held (GET /mesh stays a few MB: ~150 bytes per link end).
    std::size_t max_entries = 50'000;
};

struct LinkStateCounters {
    std::uint64_t stored = 0, stale = 0, invalid = 0, evicted = 0, expired = 0;
};

class LinkStateBook {
public:
    static constexpr std::string_view kTopic = "mesh/links";
    static constexpr std::size_t kMaxLinks = 200;
    // A summary's payload stays under this (the gossip bound is 16 KiB): 200 links of short peer
    // ids take ~9 KiB; with 64-character ids about 130 fit.
    static constexpr std::size_t kMaxPayloadBytes = 15'000;

    LinkStateBook(std::string self, LinkStateLimits limits);

    // The payload of this worker's summary (the worst kMaxLinks when there are more).
    static nlohmann::json payload(std::vector<LinkSummary> links, std::int64_t interval_ms);
    static Result<std::vector<LinkSummary>> parse(const nlohmann::json& payload);

    enum class Take { Stored, Stale, Invalid };
    // A delivered message of kTopic (the engine has checked its signature and its origin).
    Take on_message(const GossipMessage& m, std::int64_t now_ms);
    void expire(std::int64_t now_ms);

    // The mesh as the summaries held tell it: nodes (every sender and every peer a sender names,
    // with `about(id)` merged in: region, lat, lon when known) and links (one per pair, each
    // end's report under "ends", health the worse of the two).
    nlohmann::json graph_json(std::int64_t now_ms,
                              const std::function<nlohmann::json(const std::string&)>& about) const;
    std::size_t size() const { return held_.size(); }
    const LinkStateLimits& limits() const { return limits_; }
    const LinkStateCounters& counters() const { return counters_; }
    // Whether the summary held from `sender` (peer or peer/instance) was published at ts_ms or
    // later: what the simulator checks convergence with.
    bool holds(const std::string& sender, std::int64_t ts_ms) const;

private:
    struct Held {
        std::string origin, instance;
        std::int64_t ts_ms = 0, received_ms = 0, interval_ms = 0;
        std::size_t open = 0;
        std::vector<LinkSummary> links;
    };
    std::string self_;
    LinkStateLimits limits_;
    std::map<std::string, Held> held_; // by sender: origin, or origin/instance
    std::size_t entries_ = 0;          // links over all of held_
    LinkStateCounters counters_;
};

} // namespace f0::mesh::gossip

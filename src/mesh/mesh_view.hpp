// MeshView: the whole mesh as link-state gossip tells it (gossip/link_state.hpp). After every QoS
// sample round this worker publishes the summary of its open links on `mesh/links`, and once more
// soon after a link opens or goes down (at most one such extra summary per interval/5, at least
// 1 s apart, batching the changes of that second), so that a new link is on every dashboard within
// seconds rather than an interval; summaries
// delivered from the others (and its own) are kept in a bounded, expiring book, served as the
// mesh graph (GET /mesh) with what the registry knows of each node (region, position).
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/gossip/gossip_bridge.hpp"
#include "mesh/gossip/link_state.hpp"
#include "mesh/links/link_table.hpp"
#include "mesh/peers/peer_registry.hpp"

namespace f0::mesh {

class MeshView {
public:
    struct Options {
        std::string self;
        std::chrono::milliseconds interval{15'000}; // the QoS interval: one summary each
        gossip::LinkStateLimits limits;
        std::chrono::milliseconds settle{1'000}; // a change is published this long after it
    };
    struct Counters {
        std::uint64_t published = 0, publish_failed = 0;
        std::uint64_t on_change = 0; // publishes (tried) because a link opened or went down
    };

    MeshView(Clock& clock, LinkTable& links, GossipBridge& gossip, const PeerRegistry& peers,
             Options options);

    void publish(); // this worker's summary, now
    // A link opened or went down: publish soon (see above), unless a summary is already due.
    void links_changed();
    // A delivered gossip message: true when it was link state (taken or refused here).
    bool on_gossip(const gossip::GossipMessage& m);
    nlohmann::json graph() const;
    const gossip::LinkStateBook& book() const { return book_; }
    const Counters& counters() const { return counters_; }
    // What a link's candidate pair is, in one word: relay when either side relays, else srflx
    // or prflx when either side's address was learnt, else host ("" before the pair is known).
    static std::string path_kind(const std::optional<LinkPath>& path);

private:
    Clock& clock_;
    LinkTable& links_;
    GossipBridge& gossip_;
    const PeerRegistry& peers_;
    Options opt_;
    gossip::LinkStateBook book_;
    Counters counters_;
    std::int64_t last_published_ms_ = 0;
    Timer soon_; // the summary after a change, while one is due
};

} // namespace f0::mesh

// The gossip bridge: the pure gossip engine (gossip_engine.hpp) wired to the worker: frames over
// the `gossip` channels of open links, HTTPS (a signed envelope to POST /gossip) only for peers
// without one, delivered messages kept in the store, trust fed by link life, the heartbeat and
// periodic push timers. Replicated-state topics (crdt/...) go to `state` instead of the dashboards,
// and so does link state (mesh/...), which is not stored either.
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/core/errors.hpp"
#include "mesh/core/events.hpp"
#include "mesh/gossip/gossip_engine.hpp"
#include "mesh/links/link_table.hpp"
#include "mesh/peers/peer_registry.hpp"
#include "mesh/signaling/signaling.hpp"
#include "store/mesh_store.hpp"

namespace f0::mesh {

class GossipBridge {
public:
    struct Options {
        std::string self;
        gossip::GossipParams params;
        gossip::TrustParams trust;
        std::chrono::milliseconds heartbeat{1000};
        std::chrono::milliseconds push_interval{120'000};
        std::int64_t keep = 10'000; // delivered messages kept in the store
        bool https_fallback = true;
    };
    struct Counters {
        std::uint64_t https_in = 0, https_refused = 0, store_errors = 0;
    };
    using Notify = std::function<void(const std::string& type, nlohmann::json data)>;

    GossipBridge(Clock& clock, const identity::Identity& id, PeerRegistry& peers, LinkTable& links,
                 Signaling& signaling, SignalingClient& client, store::MeshStore& store,
                 Options options, Notify notify);

    Event<const gossip::GossipMessage&, const std::string&> state; // crdt/, mesh/: message, from

    void start();
    void stop();
    Result<gossip::GossipMessage> publish(const std::string& topic, nlohmann::json payload);
    void on_frame(const std::string& peer, const std::string& frame); // from a gossip channel
    Outcome accept_https(const nlohmann::json& envelope);             // the HTTPS fallback
    // Delivered messages after since_ms, oldest first: at most `limit` and about `max_bytes` of
    // JSON. {"items": [...], "truncated": bool, "nextSince": ms}: when truncated, asking again
    // with since = nextSince continues where this page stopped (a page never splits one
    // millisecond's messages, so none is skipped).
    Outcome messages(const std::string& topic, std::int64_t since_ms, std::int64_t limit,
                     std::size_t max_bytes = kMaxPageBytes);
    static constexpr std::size_t kMaxPageBytes = 4u << 20;
    void on_link_open(const std::string& peer);
    void on_link_down(const std::string& peer) { trust_.on_link_down(peer); }

    gossip::TrustBook& trust() { return trust_; }
    const gossip::TrustBook& trust() const { return trust_; }
    const gossip::GossipCounters& engine_counters() const { return engine_->counters(); }
    const Counters& counters() const { return counters_; }

private:
    gossip::Via send(const std::string& peer, const std::string& frame, gossip::Route route);
    void delivered(const gossip::GossipMessage& m, const std::string& from);
    void heartbeat_tick();
    void push_tick();

    Clock& clock_;
    PeerRegistry& peers_;
    LinkTable& links_;
    Signaling& signaling_;
    SignalingClient& client_;
    store::MeshStore& store_;
    Options opt_;
    Notify notify_;
    gossip::TrustBook trust_;
    std::unique_ptr<gossip::GossipEngine> engine_;
    Timer heartbeat_timer_, push_timer_;
    Counters counters_;
};

} // namespace f0::mesh

// The peer, as a composition root: builds the owners, wires their events in a written-down order,
// starts and stops them. Each owner keeps its own state; all of them run on the control thread
// (the io_context in the worker, a sim::Scheduler in tests/sim). HTTP stays outside: the API calls
// the owners, and outgoing requests go through the SignalingClient seam.
//
//   LinkTable    links, generations, waiters, dial timeout, redial backoff, channel wiring
//   Signaling    dial / offer / answer, glare, envelope checks, registration, beacon client
//   GossipBridge the gossip engine on the gossip channels, trust, HTTPS fallback
//   Replication  HLC, replicated registry and lists, anti-entropy
//   QosSampler   probes and samples on every open link
//   MeshView     link-state gossip: this worker's links published, the whole mesh's kept
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/gossip/gossip_bridge.hpp"
#include "mesh/links/link_table.hpp"
#include "mesh/links/receipts.hpp"
#include "mesh/mesh_view.hpp"
#include "mesh/peers/peer_record.hpp"
#include "mesh/peers/peer_registry.hpp"
#include "mesh/qos_sampler.hpp"
#include "mesh/replication/replication.hpp"
#include "mesh/signaling/signaling.hpp"
#include "mesh/worker_config.hpp"

namespace f0::mesh {

class Node {
public:
    using EventSink = std::function<void(const nlohmann::json& event)>;
    struct Seams {
        Clock& clock;
        PeerLinkFactory& links;
        SignalingClient& client;
    };

    Node(Seams seams, WorkerConfig config, identity::Identity identity,
         std::unique_ptr<store::MeshStore> store);
    ~Node();

    Status start(); // loads the store, registers itself, redials desired links, starts timers
    void stop();    // closes every link (they stay desired in the store), saves pending state
    // Reads --allowlist again; the file replaces the list (SIGHUP). Links are not touched.
    Status reload_allowlist();
    void on_event(EventSink sink) { sinks_.push_back(std::move(sink)); }

    LinkTable& links() { return *links_; }
    const LinkTable& links() const { return *links_; }
    Signaling& signaling() { return *signaling_; }
    const Signaling& signaling() const { return *signaling_; }
    GossipBridge& gossip() { return *gossip_; }
    const GossipBridge& gossip() const { return *gossip_; }
    Replication& replication() { return *replication_; }
    Receipts& receipts() { return *receipts_; }
    const Receipts& receipts() const { return *receipts_; }
    const Replication& replication() const { return *replication_; }
    QosSampler& qos() { return *qos_; }
    const QosSampler& qos() const { return *qos_; }
    const MeshView& view() const { return *view_; }
    const PeerRegistry& peers() const { return peers_; }
    Clock& clock() const { return clock_; }

    store::PeerRecord self_record() const;
    // Signed by this worker's key (what it registers).
    nlohmann::json self_json() const { return signed_record_json(signed_self()); }
    SignedRecord signed_self() const;
    // With each peer's link state and trust; a page: up to `limit` peers with ids after `after`,
    // in id order.
    nlohmann::json peers_json(const std::string& after = "", std::size_t limit = SIZE_MAX) const;
    const WorkerConfig& config() const { return config_; }
    const identity::Identity& identity() const { return identity_; }

private:
    void emit(const std::string& type, nlohmann::json data);
    void wire();

    Clock& clock_;
    WorkerConfig config_;
    identity::Identity identity_;
    std::unique_ptr<store::MeshStore> store_;
    PeerRegistry peers_;
    std::vector<EventSink> sinks_;
    std::unique_ptr<LinkTable> links_;
    std::unique_ptr<Signaling> signaling_;
    std::unique_ptr<GossipBridge> gossip_;
    std::unique_ptr<Replication> replication_;
    std::unique_ptr<QosSampler> qos_;
    std::unique_ptr<MeshView> view_;
    std::unique_ptr<Receipts> receipts_;
    std::vector<Timer> restore_;
    bool stopped_ = false;
    mutable std::optional<SignedRecord> self_signed_;
};

} // namespace f0::mesh

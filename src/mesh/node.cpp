#include "mesh/node.hpp"

#include "mesh/peers/peer_record.hpp"
#include "util/base64.hpp"
#include "util/log.hpp"

namespace f0::mesh {

namespace {
const auto& node_log() {
    static const auto& l = log::forever("mesh.node");
    return l;
}
} // namespace

Node::Node(Seams seams, WorkerConfig config, identity::Identity identity,
           std::unique_ptr<store::MeshStore> store)
    : clock_(seams.clock), config_(std::move(config)), identity_(std::move(identity)),
      store_(std::move(store)) {
    auto notify = [this](const std::string& type, nlohmann::json data) {
        emit(type, std::move(data));
    };
    const auto& c = config_;
    links_ = std::make_unique<LinkTable>(clock_, seams.links, *store_,
                                         LinkTable::Options{.self = c.id,
                                                            .dial_timeout = c.dial_timeout,
                                                            .redial_min = c.redial_min,
                                                            .redial_max = c.redial_max,
                                                            .gather_limit = c.gather_limit,
                                                            .qos_probe_size = c.qos_probe_size,
                                                            .inbox_limit = c.link_inbox,
                                                            .max_links = c.max_links,
                                                            .max_pending = c.max_pending_links},
                                         notify);
    signaling_ = std::make_unique<Signaling>(clock_, identity_, peers_, *links_, seams.client,
                                             *store_, Signaling::options_of(c), notify);
    gossip_ = std::make_unique<GossipBridge>(
        clock_, identity_, peers_, *links_, *signaling_, seams.client, *store_,
        GossipBridge::Options{
            c.id, c.gossip, c.trust, c.gossip_heartbeat,
            std::chrono::duration_cast<std::chrono::milliseconds>(c.gossip_interval), c.gossip_keep,
            c.gossip_https_fallback},
        notify);
    replication_ = std::make_unique<Replication>(
        clock_, *store_, peers_, *links_,
        Replication::Options{c.id, c.crdt_max_offset, c.crdt_sync_interval, c.crdt_save_delay,
                             c.crdt_publish_delay, c.crdt_sync_budget,
                             RegistryState::Limits{c.registry_per_id, c.registry_max_elements},
                             identity_.public_key_base64(), c.registrar_keys()},
        notify);
    qos_ =
        std::make_unique<QosSampler>(clock_, *links_, *store_, QosSampler::options_of(c), notify);
    view_ = std::make_unique<MeshView>(clock_, *links_, *gossip_, peers_,
                                       MeshView::Options{c.id, c.qos_interval, {}});
    receipts_ = std::make_unique<Receipts>(clock_, *links_, *store_, Receipts::Limits{});
    wire();
}

Node::~Node() {
    stop();
}

// The order of what happens, written down. When a link opens, LinkTable has already marked it
// open, stored it, told the dashboards, sent our hello and settled the dials waiting for it; then:
//   1. gossip: trust counts the link up, and the peer gets a digest of the recent window;
//   2. replication: the peer gets our registry and list summaries (anti-entropy).
// QoS sampling needs no signal: it probes every open link on its own timer.
void Node::wire() {
    links_->opened.subscribe([this](const std::string& peer) {
        gossip_->on_link_open(peer);
        replication_->on_link_open(peer);
    });
    links_->down.subscribe([this](const std::string& peer, const std::string&) {
        gossip_->on_link_down(peer);
        receipts_->on_link_down(peer);
    });
    links_->redial_due.subscribe(
        [this](const std::string& peer) { signaling_->dial(peer, [](Outcome) {}); });
    links_->trust_of = [this](const std::string& peer) {
        return gossip_->trust().trust(peer, clock_.unix_ms());
    };
    links_->message.subscribe(
        [this](const std::string& peer, const std::string& label, const std::string& bytes) {
            if (label == "gossip")
                gossip_->on_frame(peer, bytes);
            else if (label == "control" && !replication_->on_control(peer, bytes) &&
                     !receipts_->on_control(peer, bytes))
                links_->record_control(peer, bytes);
        });
    signaling_->registered.subscribe(
        [this](const SignedRecord& r) { replication_->take(r, identity_); });
    signaling_->newest_record_ts = [this](const std::string& id) {
        return replication_->current_ts(id);
    };
    signaling_->beacon_seen.subscribe([this](const std::string& id, const std::string& key) {
        replication_->trust_registrar(id, key);
    });
    gossip_->state.subscribe([this](const gossip::GossipMessage& m, const std::string& from) {
        if (!signaling_->on_gossip(m) && !view_->on_gossip(m))
            replication_->on_gossip(m, from);
    });
    replication_->set_publish([this](const std::string& topic, nlohmann::json payload) -> Status {
        if (auto m = gossip_->publish(topic, std::move(payload)); !m)
            return m.error();
        return Ok{};
    });
    qos_->sampled.subscribe(
        [this](const std::string& peer, const store::QosSample& q, double loss) {
            auto& trust = gossip_->trust();
            if (q.rtt_ms)
                trust.on_qos(peer, *q.rtt_ms, loss);
            else if (loss >= 100)
                trust.on_qos(peer, config_.trust.rtt_bad_ms, loss);
        });
    qos_->round_done.subscribe([this] { view_->publish(); }); // link state, after the samples
    qos_->is_known = [this](const std::string& peer) {
        return peers_.find(peer) || links_->find(peer);
    };
}

Status Node::reload_allowlist() {
    return config_.allowlist.empty() ? Status(Ok{}) : peers_.load_allowlist(config_.allowlist);
}

Status Node::start() {
    peers_.set_open_registration(config_.open_registration);
    if (auto st = reload_allowlist(); !st)
        return st;
    auto stored = store_->peers();
    if (!stored)
        return stored.error();
    for (const auto& p : stored.value())
        (void)peers_.add(p, true);
    auto self = self_record(); // so that /peers (what a beacon serves) includes us
    (void)peers_.add(self, true);
    (void)store_->upsert_peer(self);
    if (auto st = replication_->load(); !st)
        return st;
    // Others learn us from the replicated registry: from the beacon's countersigned copy when we
    // have a beacon, else from ours; anti-entropy carries it on every link either way. (A peer's
    // registration lost in a crash before its registry row was saved comes back with its next
    // beacon refresh.)
    auto mine = signed_self();
    countersign(mine, config_.id, identity_, clock_.unix_ms());
    if (!config_.delegation) // an instance is listed by beacons, not in the replicated registry
        replication_->put(mine, /*publish=*/config_.beacon.empty());
    auto links = store_->links();
    if (!links)
        return links.error();
    for (const auto& l : links.value()) {
        if (!l.desired || l.peer == config_.id)
            continue;
        // A link we held before a restart: bring it back. The peer replaces its stale side.
        F0_LOG_INFO(node_log(), "restoring link to {} (was {})", l.peer, l.state);
        restore_.push_back(clock_.after(std::chrono::milliseconds(0), [this, peer = l.peer] {
            signaling_->dial(peer, [](Outcome) {});
        }));
    }
    qos_->start();
    gossip_->start();
    replication_->start();
    signaling_->start_beacon([this] { return self_json(); });
    signaling_->start_watchdog();
    return Ok{};
}

void Node::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    restore_.clear();
    signaling_->stop();
    qos_->stop();
    gossip_->stop();
    replication_->stop();
    receipts_->stop();
    links_->stop();
}

void Node::emit(const std::string& type, nlohmann::json data) {
    nlohmann::json ev{{"type", type}, {"ts", clock_.unix_ms()}, {"data", std::move(data)}};
    for (const auto& sink : sinks_) {
        try {
            sink(ev);
        } catch (const std::exception& e) { // a sink's failure is not the mesh's
            F0_LOG_ERROR(node_log(), "a '{}' event could not be delivered: {}", type, e.what());
        }
    }
}

store::PeerRecord Node::self_record() const {
    auto now = clock_.unix_ms();
    // An instance's record names the peer's key; its delegation vouches for the signature.
    return {config_.id,
            config_.delegation ? base64_encode(config_.delegation->peer_key)
                               : identity_.public_key_base64(),
            config_.region,
            config_.advertised_url(),
            config_.lat,
            config_.lon,
            now,
            now};
}

SignedRecord Node::signed_self() const {
    auto p = self_record();
    // Signed again when the record changes (it does not while the worker runs).
    if (!self_signed_ || self_signed_->peer.id != p.id ||
        self_signed_->peer.endpoint != p.endpoint || self_signed_->peer.region != p.region ||
        self_signed_->peer.lat != p.lat || self_signed_->peer.lon != p.lon)
        self_signed_ = sign_record(p, clock_.unix_ms(), identity_, config_.delegation);
    return *self_signed_;
}

nlohmann::json Node::peers_json(const std::string& after, std::size_t limit) const {
    auto out = nlohmann::json::array();
    auto now = clock_.unix_ms();
    const auto& all = peers_.all();
    for (auto it = after.empty() ? all.begin() : all.upper_bound(after);
         it != all.end() && out.size() < limit; ++it) {
        const auto& [id, p] = *it;
        auto j = peer_record_json(p);
        j["registeredMs"] = p.registered_ms;
        j["self"] = id == config_.id;
        const Link* l = links_->find(id);
        j["link"] = l ? nlohmann::json(std::string(to_string(l->state))) : nlohmann::json(nullptr);
        if (auto rec = id == config_.id ? signed_record_json(signed_self())
                                        : replication_->current_record(id);
            !rec.is_null()) // as signed: what lets a change of a known peer through elsewhere
            j["record"] = std::move(rec);
        if (signaling_->instances().serves_by_instances(id)) // their signed records
            j["instances"] = signaling_->instances().records_json(id, now);
        if (id != config_.id) {
            auto t = gossip_->trust().to_json(id, now);
            j["trust"] = t["trust"];
            j["trustDetail"] = t;
        }
        out.push_back(j);
    }
    return out;
}

} // namespace f0::mesh

#include "mesh/gossip/gossip_bridge.hpp"

#include "util/log.hpp"

namespace f0::mesh {

namespace {
const auto& bridge_log() {
    static const auto& l = log::forever("mesh.gossip");
    return l;
}
constexpr std::size_t kFallbackSample = 64; // known peers considered for an HTTPS fan-out
} // namespace

GossipBridge::GossipBridge(Clock& clock, const identity::Identity& id, PeerRegistry& peers,
                           LinkTable& links, Signaling& signaling, SignalingClient& client,
                           store::MeshStore& store, Options options, Notify notify)
    : clock_(clock), peers_(peers), links_(links), signaling_(signaling), client_(client),
      store_(store), opt_(std::move(options)), notify_(std::move(notify)), trust_(opt_.trust) {
    gossip::GossipEngine::Hooks h;
    // Every linked peer, and (with the HTTPS fallback) a uniform sample of the other known peers:
    // the registry may hold 100,000 peers, and a fan-out needs only a few.
    h.candidates = [this] {
        std::vector<gossip::GossipEngine::Candidate> out;
        for (auto& pid : links_.open_peers())
            if (pid != opt_.self && peers_.find(pid))
                out.push_back({std::move(pid), true});
        if (!opt_.https_fallback)
            return out;
        for (auto& pid : peers_.sample(kFallbackSample, clock_.rng())) {
            const Link* l = links_.find(pid);
            const auto* p = peers_.find(pid);
            if (pid == opt_.self || (l && l->state == LinkState::Open) || !p || p->endpoint.empty())
                continue;
            out.push_back({std::move(pid), false});
        }
        return out;
    };
    h.send = [this](const std::string& peer, const std::string& frame, gossip::Route route) {
        return send(peer, frame, route);
    };
    h.key_of = [this](const std::string& origin) { return peers_.key_of(origin); };
    h.instance_key = [this](const gossip::GossipMessage& m, const identity::PublicKey& key) {
        return signaling_.instance_key(m.origin, *m.delegation, key);
    };
    h.deliver = [this](const gossip::GossipMessage& m, const std::string& from) {
        delivered(m, from);
    };
    h.log = [](const std::string& line) { F0_LOG_INFO(bridge_log(), "{}", line); };
    h.linked = [this](const std::string& peer) {
        const Link* l = links_.find(peer);
        return l && l->state == LinkState::Open;
    };
    engine_ = std::make_unique<gossip::GossipEngine>(opt_.self, id, opt_.params, trust_,
                                                     std::move(h), clock_.rng()());
    engine_->set_delegation(signaling_.delegation());
}

void GossipBridge::start() {
    heartbeat_tick();
    // The first push one interval after start: links need time to open.
    push_timer_ = clock_.after(opt_.push_interval, [this] { push_tick(); });
}

void GossipBridge::stop() {
    heartbeat_timer_.cancel();
    push_timer_.cancel();
}

gossip::Via GossipBridge::send(const std::string& peer, const std::string& frame,
                               gossip::Route route) {
    const Link* l = links_.find(peer);
    if (l && l->state == LinkState::Open) {
        if (auto st = links_.send(peer, "gossip", frame); st)
            return gossip::Via::Link;
        else
            F0_LOG_DEBUG(bridge_log(), "gossip to {} over the link failed: {}", peer,
                         st.error().message);
    }
    // No open link (or it failed): the HTTPS fallback, a signed envelope to the peer's signaling
    // endpoint; never for a links-only topic (link state), whose message is then not sent.
    const auto* p = peers_.find(peer);
    if (route == gossip::Route::LinkOnly || !opt_.https_fallback || !p || p->endpoint.empty())
        return gossip::Via::Failed;
    auto env = signaling_.make_envelope(peer, "gossip", frame);
    client_.gossip(p->endpoint, env.to_json(), [peer](std::optional<std::string> error) {
        if (error)
            F0_LOG_INFO(bridge_log(), "gossip to {} over HTTPS failed: {}", peer, *error);
    });
    return gossip::Via::Https;
}

void GossipBridge::on_frame(const std::string& peer, const std::string& frame) {
    auto v = engine_->on_frame(peer, frame, clock_.unix_ms());
    if (v != gossip::GossipEngine::Verdict::Delivered &&
        v != gossip::GossipEngine::Verdict::Duplicate &&
        v != gossip::GossipEngine::Verdict::Control) {
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_INFO(bridge_log(), "gossip frame from {} dropped: {} ({} dropped so far)", peer,
                        gossip::to_string(v), *n);
    }
}

void GossipBridge::delivered(const gossip::GossipMessage& m, const std::string& from) {
    if (m.topic.starts_with("mesh/")) { // link state: every worker every interval, not kept
        state(m, from);
        return;
    }
    store::GossipRecord r{
        m.id,   m.origin,         m.topic, m.ts_ms, static_cast<std::int64_t>(m.seq),
        m.hops, m.payload.dump(), m.sig,   from,    clock_.unix_ms()};
    if (auto st = store_.add_gossip(r); !st) {
        ++counters_.store_errors;
        F0_LOG_WARN(bridge_log(), "cannot store gossip {}: {}", m.id, st.error().message);
    }
    if (m.topic.starts_with("crdt/")) { // replicated state: its own events ("peer", "crdt")
        state(m, from);
        return;
    }
    if (notify_)
        notify_("gossip", {{"id", m.id},
                           {"from", from},
                           {"origin", m.origin},
                           {"topic", m.topic},
                           {"payload", m.payload},
                           {"ts", m.ts_ms},
                           {"hops", m.hops}});
}

void GossipBridge::heartbeat_tick() {
    engine_->heartbeat(clock_.unix_ms());
    heartbeat_timer_ = clock_.after(opt_.heartbeat, [this] { heartbeat_tick(); });
}

void GossipBridge::push_tick() {
    engine_->push(clock_.unix_ms());
    if (auto st = store_.prune_gossip(opt_.keep); !st)
        F0_LOG_WARN(bridge_log(), "cannot prune gossip: {}", st.error().message);
    push_timer_ = clock_.after(opt_.push_interval, [this] { push_tick(); });
}

Result<gossip::GossipMessage> GossipBridge::publish(const std::string& topic,
                                                    nlohmann::json payload) {
    return engine_->publish(topic, std::move(payload), clock_.unix_ms());
}

void GossipBridge::on_link_open(const std::string& peer) {
    auto now = clock_.unix_ms();
    trust_.on_link_up(peer, now);
    engine_->on_link_open(peer, now); // anti-entropy: what it may have missed
}

Outcome GossipBridge::messages(const std::string& topic, std::int64_t since_ms, std::int64_t limit,
                               std::size_t max_bytes) {
    if (!topic.empty() && !gossip::valid_topic(topic))
        return Error{Errc::BadRequest, "topic must be 1-64 characters of [A-Za-z0-9._:/-]", {}};
    auto rows = store_.gossip_messages(topic, since_ms, limit, max_bytes);
    if (!rows)
        return Error{Errc::Store, rows.error().message, {}};
    // Where the byte cap cuts the page: before the first row that does not fit, moved back to
    // the start of that row's millisecond (unless that empties the page).
    const auto& all = rows.value();
    std::size_t end = all.size(), bytes = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        bytes += all[i].payload_json.size() + all[i].sig.size() + 256;
        if (bytes > max_bytes && i > 0) {
            end = i;
            while (end > 0 && all[end - 1].received_ms == all[i].received_ms)
                --end;
            if (end == 0)
                end = i;
            break;
        }
    }
    bool truncated = end < all.size();
    auto out = nlohmann::json::array();
    for (std::size_t i = 0; i < end; ++i) {
        const auto& r = all[i];
        out.push_back({{"id", r.id},
                       {"origin", r.origin},
                       {"topic", r.topic},
                       {"ts", r.ts_ms},
                       {"seq", r.seq},
                       {"hops", r.hops},
                       {"payload", nlohmann::json::parse(r.payload_json, nullptr, false)},
                       {"from", r.from_peer},
                       {"receivedMs", r.received_ms}});
    }
    std::int64_t next = end > 0 ? all[end - 1].received_ms : since_ms;
    return nlohmann::json{{"items", std::move(out)}, {"truncated", truncated}, {"nextSince", next}};
}

Outcome GossipBridge::accept_https(const nlohmann::json& body) {
    auto env = identity::Envelope::from_json(body);
    if (!env) {
        ++counters_.https_refused;
        return Error{Errc::BadRequest, env.error().message, {}};
    }
    if (auto bad = signaling_.check_envelope(env.value(), "gossip")) {
        ++counters_.https_refused;
        return *bad;
    }
    ++counters_.https_in;
    auto v = engine_->on_frame(env.value().peer_from, env.value().sdp, clock_.unix_ms());
    return nlohmann::json{{"verdict", gossip::to_string(v)}};
}

} // namespace f0::mesh

// Node: gossip over the `gossip` DataChannels (HTTPS only for a peer with no open link), trust
// fed by QoS, link life and behaviour, delivered messages kept in SQLite, the two timers.
#include "mesh/node.hpp"

#include "util/log.hpp"

#include <boost/asio/post.hpp>

#include <random>

namespace f0::mesh {

namespace {
auto logger() {
    static auto l = log::get("mesh.gossip");
    return l;
}
} // namespace

void Node::init_gossip() {
    gossip::GossipEngine::Hooks h;
    h.candidates = [this] {
        std::vector<gossip::GossipEngine::Candidate> out;
        for (const auto& [id, p] : peers_.all()) {
            if (id == config_.id)
                continue;
            auto l = links_.find(id);
            bool linked = l != links_.end() && l->second.state == LinkState::Open;
            if (linked || (config_.gossip_https_fallback && !p.endpoint.empty()))
                out.push_back({id, linked});
        }
        return out;
    };
    h.send = [this](const std::string& peer, const std::string& frame) {
        return gossip_send(peer, frame);
    };
    h.key_of = [this](const std::string& origin) { return peers_.key_of(origin); };
    h.deliver = [this](const gossip::GossipMessage& m, const std::string& from) {
        on_gossip_delivered(m, from);
    };
    h.log = [](const std::string& line) { F0_LOG_INFO(logger(), "{}", line); };
    gossip_ = std::make_unique<gossip::GossipEngine>(config_.id, identity_, config_.gossip, trust_,
                                                     std::move(h), std::random_device{}());
}

gossip::Via Node::gossip_send(const std::string& peer, const std::string& frame) {
    auto l = links_.find(peer);
    if (l != links_.end() && l->second.state == LinkState::Open) {
        auto ch = l->second.channels.find("gossip");
        if (ch != l->second.channels.end() && ch->second->is_open()) {
            if (auto st = ch->second->send(std::string_view(frame)); st)
                return gossip::Via::Link;
            else
                F0_LOG_DEBUG(logger(), "gossip to {} over the link failed: {}", peer,
                             st.error().message);
        }
    }
    // No open link: the HTTPS fallback, a signed envelope to the peer's signaling endpoint.
    const auto* p = peers_.find(peer);
    if (!config_.gossip_https_fallback || !p || p->endpoint.empty())
        return gossip::Via::Failed;
    auto env = make_envelope(peer, "gossip", frame);
    http_("POST", p->endpoint + "/gossip", env.to_json().dump(),
          [peer](int status, std::string body, std::string error) {
              if (!error.empty() || status != 200)
                  F0_LOG_INFO(logger(), "gossip to {} over HTTPS failed: {}", peer,
                              error.empty() ? std::to_string(status) + " " + body : error);
          });
    return gossip::Via::Https;
}

void Node::on_gossip_frame(const std::string& peer, std::uint64_t gen, const std::string& frame) {
    if (!current_link(peer, gen) || !gossip_)
        return;
    auto v = gossip_->on_frame(peer, frame, unix_ms());
    if (v != gossip::GossipEngine::Verdict::Delivered &&
        v != gossip::GossipEngine::Verdict::Duplicate &&
        v != gossip::GossipEngine::Verdict::Control)
        F0_LOG_INFO(logger(), "gossip frame from {} dropped: {}", peer, gossip::to_string(v));
}

void Node::on_gossip_delivered(const gossip::GossipMessage& m, const std::string& from) {
    store::GossipRecord r{
        m.id,   m.origin,         m.topic, m.ts_ms, static_cast<std::int64_t>(m.seq),
        m.hops, m.payload.dump(), m.sig,   from,    unix_ms()};
    if (auto st = store_->add_gossip(r); !st) {
        ++gossip_store_errors_;
        F0_LOG_WARN(logger(), "cannot store gossip {}: {}", m.id, st.error().message);
    }
    if (m.topic.starts_with("crdt/")) { // replicated state: its own events ("peer", "crdt")
        on_crdt_gossip(m, from);
        return;
    }
    emit("gossip", {{"id", m.id},
                    {"from", from},
                    {"origin", m.origin},
                    {"topic", m.topic},
                    {"payload", m.payload},
                    {"ts", m.ts_ms},
                    {"hops", m.hops}});
}

void Node::gossip_heartbeat_tick() {
    if (stopped_)
        return;
    gossip_->heartbeat(unix_ms());
    rearm(*heartbeat_timer_, config_.gossip_heartbeat, &Node::gossip_heartbeat_tick);
}

void Node::gossip_push_tick() {
    if (stopped_)
        return;
    gossip_->push(unix_ms());
    if (auto st = store_->prune_gossip(config_.gossip_keep); !st)
        F0_LOG_WARN(logger(), "cannot prune gossip: {}", st.error().message);
    rearm(*push_timer_, config_.gossip_interval, &Node::gossip_push_tick);
}

Outcome Node::gossip_publish(const nlohmann::json& body) {
    if (!body.is_object() || !body.contains("topic") || !body["topic"].is_string() ||
        !body.contains("payload"))
        return ApiError{400, "bad_request",
                        "the body must be {\"topic\": string, \"payload\": any JSON}"};
    auto m = gossip_->publish(body["topic"].get<std::string>(), body["payload"], unix_ms());
    if (!m)
        return ApiError{400, "bad_request", m.error().message};
    return nlohmann::json{{"id", m.value().id},
                          {"origin", m.value().origin},
                          {"topic", m.value().topic},
                          {"ts", m.value().ts_ms},
                          {"seq", m.value().seq}};
}

Outcome Node::gossip_messages(const std::string& topic, std::int64_t since_ms, std::int64_t limit) {
    if (!topic.empty() && !gossip::valid_topic(topic))
        return ApiError{400, "bad_request", "topic must be 1-64 characters of [A-Za-z0-9._:/-]"};
    auto rows = store_->gossip_messages(topic, since_ms, limit);
    if (!rows)
        return ApiError{500, "store_error", rows.error().message};
    auto out = nlohmann::json::array();
    for (const auto& r : rows.value())
        out.push_back({{"id", r.id},
                       {"origin", r.origin},
                       {"topic", r.topic},
                       {"ts", r.ts_ms},
                       {"seq", r.seq},
                       {"hops", r.hops},
                       {"payload", nlohmann::json::parse(r.payload_json, nullptr, false)},
                       {"from", r.from_peer},
                       {"receivedMs", r.received_ms}});
    return out;
}

Outcome Node::accept_gossip(const nlohmann::json& body) {
    auto env = identity::Envelope::from_json(body);
    if (!env) {
        ++gossip_https_refused_;
        return ApiError{400, "bad_request", env.error().message};
    }
    if (auto bad = check_envelope(env.value(), "gossip")) {
        ++gossip_https_refused_;
        return *bad;
    }
    ++gossip_https_in_;
    auto v = gossip_->on_frame(env.value().peer_from, env.value().sdp, unix_ms());
    return nlohmann::json{{"verdict", gossip::to_string(v)}};
}

void Node::gossip_metrics(std::ostream& o) const {
    const auto& c = gossip_->counters();
    o << "# HELP f0_gossip_messages_total Gossip messages by what happened to them.\n"
      << "# TYPE f0_gossip_messages_total counter\n";
    for (auto [what, n] : {std::pair{"published", c.published},
                           {"delivered", c.delivered},
                           {"duplicate", c.duplicates},
                           {"forged", c.forged},
                           {"invalid", c.invalid},
                           {"replayed", c.replayed},
                           {"unknown_origin", c.unknown_origin},
                           {"rate_limited", c.rate_limited},
                           {"graylisted", c.graylisted},
                           {"duplicate_flood", c.duplicate_floods},
                           {"hop_limited", c.hop_limited}})
        o << "f0_gossip_messages_total{event=\"" << what << "\"} " << n << "\n";
    o << "# HELP f0_gossip_sent_total Gossip message frames sent, by path.\n"
      << "# TYPE f0_gossip_sent_total counter\n"
      << "f0_gossip_sent_total{via=\"datachannel\"} " << c.sent_link << "\n"
      << "f0_gossip_sent_total{via=\"https\"} " << c.sent_https << "\n"
      << "f0_gossip_sent_total{via=\"failed\"} " << c.send_failed << "\n";
    o << "# HELP f0_gossip_frames_total Gossip frames received, control frames sent, served.\n"
      << "# TYPE f0_gossip_frames_total counter\n"
      << "f0_gossip_frames_total{kind=\"received\"} " << c.frames_received << "\n"
      << "f0_gossip_frames_total{kind=\"received_https\"} " << gossip_https_in_ << "\n"
      << "f0_gossip_frames_total{kind=\"refused_https\"} " << gossip_https_refused_ << "\n"
      << "f0_gossip_frames_total{kind=\"ihave_sent\"} " << c.ihave_sent << "\n"
      << "f0_gossip_frames_total{kind=\"iwant_sent\"} " << c.iwant_sent << "\n"
      << "f0_gossip_frames_total{kind=\"served\"} " << c.served << "\n"
      << "f0_gossip_frames_total{kind=\"pushes\"} " << c.pushes << "\n";
    o << "# HELP f0_crdt_rejected_total Replicated updates refused (bad encoding, clock, key).\n"
      << "# TYPE f0_crdt_rejected_total counter\nf0_crdt_rejected_total " << crdt_rejected_ << "\n";
    o << "# HELP f0_crdt_lists Replicated lists held.\n# TYPE f0_crdt_lists gauge\nf0_crdt_lists "
      << lists_.size() << "\n";
    o << "# HELP f0_peer_trust Trust score of each known peer.\n# TYPE f0_peer_trust gauge\n";
    auto now = unix_ms();
    for (const auto& [id, p] : peers_.all())
        if (id != config_.id)
            o << "f0_peer_trust{peer=\"" << id << "\"} " << trust_.trust(id, now) << "\n";
}

} // namespace f0::mesh

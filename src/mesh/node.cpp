// Node: start-up, links (create, watch, fail, redial), events, persistence, peers and views.
// Signaling (dial, offer, answer) is in node_signaling.cpp.
#include "mesh/node.hpp"

#include "util/log.hpp"

#include <boost/asio/post.hpp>

#include <random>
#include <sstream>

namespace f0::mesh {

namespace {
auto logger() {
    static auto l = log::get("mesh.node");
    return l;
}
constexpr std::size_t kInboxLimit = 100;

} // namespace

std::int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Node::Node(boost::asio::io_context& io, WorkerConfig config, identity::Identity identity,
           std::unique_ptr<store::MeshStore> store, HttpCall http)
    : io_(io), config_(std::move(config)), identity_(std::move(identity)), store_(std::move(store)),
      http_(std::move(http)), replay_(config_.signaling_window), rtc_config_(config_.rtc_config()),
      trust_(config_.trust) {
    init_gossip();
}

Node::~Node() = default;

Status Node::start() {
    peers_.set_open_registration(config_.open_registration);
    if (!config_.allowlist.empty())
        if (auto st = peers_.load_allowlist(config_.allowlist); !st)
            return st;
    auto stored = store_->peers();
    if (!stored)
        return stored.error();
    for (const auto& p : stored.value())
        (void)peers_.add(p, true);
    // Ourselves, so that /peers (what a beacon serves) includes us.
    store::PeerRecord self{config_.id,     identity_.public_key_base64(),
                           config_.region, config_.advertised_url(),
                           config_.lat,    config_.lon,
                           unix_ms(),      unix_ms()};
    (void)peers_.add(self, true);
    (void)store_->upsert_peer(self);
    if (auto st = load_crdt(); !st)
        return st;
    registry_put(self); // others learn us from the replicated registry
    auto links = store_->links();
    if (!links)
        return links.error();
    for (const auto& l : links.value()) {
        if (!l.desired || l.peer == config_.id)
            continue;
        // A link we held before a restart: bring it back. The peer replaces its stale side.
        F0_LOG_INFO(logger(), "restoring link to {} (was {})", l.peer, l.state);
        auto peer = l.peer;
        boost::asio::post(io_, [self = weak_from_this(), peer] {
            if (auto n = self.lock())
                n->dial(peer, [](Outcome) {});
        });
    }
    probe_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
    qos_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
    heartbeat_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
    push_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
    crdt_sync_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
    boost::asio::post(io_, [self = weak_from_this()] {
        if (auto n = self.lock()) {
            n->probe_tick();
            n->qos_tick();
            n->gossip_heartbeat_tick();
            // The first push one interval after start: links need time to open.
            n->rearm(*n->push_timer_, n->config_.gossip_interval, &Node::gossip_push_tick);
            n->rearm(*n->crdt_sync_timer_, n->config_.crdt_sync_interval, &Node::crdt_sync_tick);
        }
    });
    if (!config_.beacon.empty()) {
        beacon_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
        boost::asio::post(io_, [self = weak_from_this()] {
            if (auto n = self.lock())
                n->beacon_tick();
        });
    }
    return Ok{};
}

void Node::stop() {
    stopped_ = true;
    for (auto& [peer, t] : timers_)
        t->cancel();
    for (auto* t : {beacon_timer_.get(), probe_timer_.get(), qos_timer_.get(),
                    heartbeat_timer_.get(), push_timer_.get(), crdt_sync_timer_.get()})
        if (t)
            t->cancel();
    for (auto& [peer, link] : links_)
        if (link.pc)
            link.pc->close();
    links_.clear();
}

void Node::emit(const std::string& type, nlohmann::json data) {
    nlohmann::json ev{{"type", type}, {"ts", unix_ms()}, {"data", std::move(data)}};
    for (const auto& sink : events_)
        sink(ev);
}

void Node::persist(const Link& link) {
    store::LinkRecord r;
    r.peer = link.peer;
    r.state = std::string(to_string(link.state));
    r.role = link.role;
    r.desired = link.desired;
    r.created_ms = link.created_ms;
    r.opened_ms = link.opened_ms;
    r.closed_ms = link.closed_ms;
    r.last_error = link.last_error;
    r.attempts = link.attempts;
    if (auto st = store_->upsert_link(r); !st)
        F0_LOG_ERROR(logger(), "cannot store link {}: {}", link.peer, st.error().message);
}

Link& Node::new_link(const std::string& peer, const std::string& role) {
    auto it = links_.find(peer);
    std::int64_t attempts = 0;
    if (it != links_.end()) {
        attempts = it->second.attempts;
        if (it->second.pc) {
            it->second.pc->on_state_change(nullptr);
            it->second.pc->close();
        }
    }
    Link& link = links_[peer];
    link = Link{};
    link.peer = peer;
    link.role = role;
    link.state = role == "dialer" ? LinkState::Dialing : LinkState::Connecting;
    link.created_ms = unix_ms();
    link.attempts = attempts;
    link.generation = next_generation_++;
    link.qos = std::make_shared<qos::QosProbe>(config_.qos_probe_size);
    link.pc = make_pc(link);
    return link;
}

std::shared_ptr<rtc::PeerConnection> Node::make_pc(Link& link) {
    auto pc = rtc::PeerConnection::create(rtc_config_);
    std::weak_ptr<Node> weak = weak_from_this();
    auto peer = link.peer;
    auto gen = link.generation;
    pc->on_state_change([weak, peer, gen, &io = io_](rtc::PeerState s) {
        boost::asio::post(io, [weak, peer, gen, s] {
            if (auto n = weak.lock())
                n->on_pc_state(peer, gen, s);
        });
    });
    pc->on_data_channel([weak, peer, gen, engine = link.qos](std::shared_ptr<rtc::DataChannel> ch) {
        if (auto n = weak.lock())
            n->watch_channel(peer, gen, ch,
                             engine); // on the rtc loop: handlers must be set right away
    });
    return pc;
}

// Called on the rtc loop for incoming channels and on the io thread for our own.
void Node::watch_channel(const std::string& peer, std::uint64_t gen,
                         const std::shared_ptr<rtc::DataChannel>& ch,
                         const std::shared_ptr<qos::QosProbe>& engine) {
    std::weak_ptr<Node> weak = weak_from_this();
    auto label = ch->label();
    auto post_event = [weak, peer, gen, &io = io_] {
        boost::asio::post(io, [weak, peer, gen] {
            if (auto n = weak.lock())
                n->on_channel_event(peer, gen);
        });
    };
    if (label == "qos" && engine) {
        // Probes are answered and echoes timed right here on the rtc thread: no hop to the control
        // plane inside the measured path.
        std::weak_ptr<rtc::DataChannel> weak_ch = ch;
        ch->on_message([engine, weak_ch](std::span<const std::uint8_t> d, bool) {
            if (auto echo = engine->on_message(d, steady_us()))
                if (auto c = weak_ch.lock())
                    (void)c->send(*echo);
        });
    }
    if (label == "gossip") {
        ch->on_message([weak, peer, gen, &io = io_](std::span<const std::uint8_t> d, bool) {
            boost::asio::post(io, [weak, peer, gen, text = std::string(d.begin(), d.end())] {
                if (auto n = weak.lock())
                    n->on_gossip_frame(peer, gen, text);
            });
        });
    }
    if (label == "control") {
        ch->on_message([weak, peer, gen, &io = io_](std::span<const std::uint8_t> d, bool) {
            std::string text(d.begin(), d.end());
            boost::asio::post(io, [weak, peer, gen, text = std::move(text)] {
                auto n = weak.lock();
                Link* link = n ? n->current_link(peer, gen) : nullptr;
                if (!link)
                    return;
                auto msg = nlohmann::json::parse(text, nullptr, false);
                if (msg.is_object() && msg.contains("type") && msg["type"].is_string() &&
                    msg["type"].get<std::string>().starts_with("crdt.")) {
                    n->on_crdt_control(peer, msg);
                    return;
                }
                nlohmann::json entry{{"ts", unix_ms()},
                                     {"message", msg.is_discarded() ? nlohmann::json(text) : msg}};
                link->inbox.push_back(entry);
                if (link->inbox.size() > kInboxLimit)
                    link->inbox.pop_front();
                n->emit("control", {{"peer", peer}, {"message", entry["message"]}});
            });
        });
    }
    ch->on_open(post_event);
    ch->on_close(post_event);
    // Record the channel on the io thread.
    boost::asio::post(io_, [weak, peer, gen, ch] {
        auto n = weak.lock();
        Link* link = n ? n->current_link(peer, gen) : nullptr;
        if (!link)
            return;
        link->channels[ch->label()] = ch;
        n->on_channel_event(peer, gen);
    });
}

void Node::on_channel_event(const std::string& peer, std::uint64_t gen) {
    Link* current = current_link(peer, gen);
    if (!current)
        return;
    Link& link = *current;
    if (link.state != LinkState::Open && link.all_channels_open()) {
        link.state = LinkState::Open;
        link.opened_ms = unix_ms();
        link.attempts = 0;
        link.last_error.clear();
        auto [tx, rx] = link.pc->wire_bytes();
        (void)link.qos->take_report(steady_us(), tx, rx); // the first interval starts now
        F0_LOG_INFO(logger(), "link to {} open ({} ms)", peer, *link.opened_ms - link.created_ms);
        persist(link);
        emit("link", link.to_json());
        auto hello = nlohmann::json{{"type", "hello"}, {"from", config_.id}}.dump();
        (void)link.channels["control"]->send(std::string_view(hello));
        settle_waiters(peer, std::nullopt);
        trust_.on_link_up(peer, unix_ms());
        gossip_->on_link_open(peer, unix_ms()); // anti-entropy: what it may have missed
        send_crdt_sync(peer);                   // ...and of the replicated registry and lists
    }
}

void Node::on_pc_state(const std::string& peer, std::uint64_t gen, rtc::PeerState s) {
    Link* link = current_link(peer, gen);
    if (!link)
        return;
    if (s == rtc::PeerState::Failed)
        fail_link(peer, "the WebRTC connection failed");
    else if (s == rtc::PeerState::Closed && link->state != LinkState::Closed)
        fail_link(peer, "the WebRTC connection closed");
}

void Node::fail_link(const std::string& peer, const std::string& why) {
    auto it = links_.find(peer);
    if (it == links_.end())
        return;
    Link& link = it->second;
    if (link.state == LinkState::Failed || link.state == LinkState::Closed)
        return;
    F0_LOG_INFO(logger(), "link to {} failed: {}", peer, why);
    trust_.on_link_down(peer);
    link.state = LinkState::Failed;
    link.last_error = why;
    link.closed_ms = unix_ms();
    ++link.attempts;
    if (link.pc) {
        link.pc->on_state_change(nullptr);
        link.pc->close();
    }
    persist(link);
    emit("link", link.to_json());
    settle_waiters(peer, ApiError{502, "dial_failed", why});
    if (link.desired && !stopped_)
        schedule_redial(peer);
}

void Node::settle_waiters(const std::string& peer, const std::optional<ApiError>& err) {
    auto w = waiters_.find(peer);
    if (w == waiters_.end())
        return;
    auto callbacks = std::move(w->second);
    waiters_.erase(w);
    auto it = links_.find(peer);
    for (auto& cb : callbacks) {
        if (err)
            cb(*err);
        else
            cb(it->second.to_json());
    }
}

void Node::schedule_redial(const std::string& peer) {
    auto it = links_.find(peer);
    if (it == links_.end())
        return;
    auto attempts = std::min<std::int64_t>(it->second.attempts, 16);
    auto factor = std::int64_t{1} << std::max<std::int64_t>(0, attempts - 1);
    auto base =
        std::min<std::chrono::milliseconds>(config_.redial_max, config_.redial_min * factor);
    thread_local std::mt19937 rng{std::random_device{}()};
    auto delay = base / 2 + std::chrono::milliseconds(
                                std::uniform_int_distribution<long>(0, base.count() / 2)(rng));
    auto& t = timers_[peer];
    if (!t)
        t = std::make_unique<boost::asio::steady_timer>(io_);
    t->expires_after(delay);
    F0_LOG_INFO(logger(), "redialling {} in {} ms (attempt {})", peer, delay.count(), attempts + 1);
    t->async_wait([weak = weak_from_this(), peer](const boost::system::error_code& ec) {
        auto n = weak.lock();
        if (ec || !n || n->stopped_)
            return;
        auto it = n->links_.find(peer);
        if (it == n->links_.end() || !it->second.desired || it->second.state == LinkState::Open)
            return;
        n->dial(peer, [](Outcome) {});
    });
}

Link* Node::current_link(const std::string& peer, std::uint64_t gen) {
    auto it = links_.find(peer);
    return it == links_.end() || it->second.generation != gen ? nullptr : &it->second;
}

Outcome Node::close_link(const std::string& peer) {
    auto it = links_.find(peer);
    if (it == links_.end())
        return ApiError{404, "no_link", "there is no link to '" + peer + "'"};
    Link& link = it->second;
    link.desired = false;
    if (link.pc) {
        link.pc->on_state_change(nullptr);
        link.pc->close();
    }
    link.state = LinkState::Closed;
    link.closed_ms = unix_ms();
    trust_.on_link_down(peer);
    if (auto t = timers_.find(peer); t != timers_.end())
        t->second->cancel();
    settle_waiters(peer, ApiError{409, "closed", "the link was closed while dialling"});
    auto view = link.to_json();
    emit("link", view);
    (void)store_->remove_link(peer);
    links_.erase(it);
    return view;
}

Outcome Node::send_control(const std::string& peer, const nlohmann::json& body) {
    auto it = links_.find(peer);
    if (it == links_.end() || it->second.state != LinkState::Open)
        return ApiError{409, "link_not_open", "there is no open link to '" + peer + "'"};
    std::string text = body.is_object() && body.contains("text") && body["text"].is_string()
                           ? body["text"].get<std::string>()
                           : body.dump();
    auto st = it->second.channels["control"]->send(std::string_view(text));
    if (!st)
        return ApiError{502, "send_failed", st.error().message};
    return nlohmann::json{{"sent", true}, {"bytes", text.size()}};
}

Outcome Node::link_messages(const std::string& peer) const {
    auto it = links_.find(peer);
    if (it == links_.end())
        return ApiError{404, "no_link", "there is no link to '" + peer + "'"};
    return nlohmann::json(
        std::vector<nlohmann::json>(it->second.inbox.begin(), it->second.inbox.end()));
}

nlohmann::json Node::links_json() const {
    auto out = nlohmann::json::array();
    for (const auto& [peer, link] : links_)
        out.push_back(link.to_json());
    return out;
}

std::size_t Node::open_links() const {
    std::size_t n = 0;
    for (const auto& [peer, link] : links_)
        n += link.state == LinkState::Open;
    return n;
}

nlohmann::json Node::self_json() const {
    nlohmann::json j{{"id", config_.id},
                     {"pubKey", identity_.public_key_base64()},
                     {"region", config_.region},
                     {"endpoints", {{"webrtc", config_.advertised_url()}}}};
    if (config_.lat && config_.lon)
        j["geo"] = {{"lat", *config_.lat}, {"lon", *config_.lon}};
    return j;
}

nlohmann::json Node::peers_json() const {
    auto out = nlohmann::json::array();
    for (const auto& [id, p] : peers_.all()) {
        nlohmann::json j{{"id", p.id},
                         {"pubKey", p.pub_key},
                         {"region", p.region},
                         {"endpoints", {{"webrtc", p.endpoint}}},
                         {"registeredMs", p.registered_ms},
                         {"self", id == config_.id}};
        if (p.lat && p.lon)
            j["geo"] = {{"lat", *p.lat}, {"lon", *p.lon}};
        auto l = links_.find(id);
        j["link"] = l == links_.end() ? nlohmann::json(nullptr)
                                      : nlohmann::json(std::string(to_string(l->second.state)));
        if (id != config_.id) {
            auto t = trust_.to_json(id, unix_ms());
            j["trust"] = t["trust"];
            j["trustDetail"] = t;
        }
        out.push_back(j);
    }
    return out;
}

Outcome Node::register_peer(const nlohmann::json& body) {
    if (!body.is_object())
        return ApiError{400, "bad_request", "the registration must be a JSON object"};
    auto str = [&](const char* k) -> std::optional<std::string> {
        auto it = body.find(k);
        if (it == body.end() || !it->is_string())
            return std::nullopt;
        return it->get<std::string>();
    };
    auto id = str("id"), key = str("pubKey");
    if (!id || !key)
        return ApiError{400, "bad_request", "'id' and 'pubKey' are required strings"};
    if (*id == config_.id)
        return ApiError{409, "self", "that id is this worker's own"};
    store::PeerRecord p;
    p.id = *id;
    p.pub_key = *key;
    p.region = str("region").value_or("");
    auto eps = body.find("endpoints");
    if (eps == body.end() || !eps->is_object() || !eps->contains("webrtc") ||
        !(*eps)["webrtc"].is_string())
        return ApiError{400, "bad_request",
                        "'endpoints.webrtc' (the peer's signaling URL) is required"};
    p.endpoint = (*eps)["webrtc"].get<std::string>();
    if (!p.endpoint.starts_with("http://") && !p.endpoint.starts_with("https://"))
        return ApiError{400, "bad_request", "'endpoints.webrtc' must be an http(s) URL"};
    if (auto g = body.find("geo"); g != body.end()) {
        if (!g->is_object() || !g->contains("lat") || !g->contains("lon") ||
            !(*g)["lat"].is_number() || !(*g)["lon"].is_number())
            return ApiError{400, "bad_request", "'geo' must be {\"lat\": number, \"lon\": number}"};
        p.lat = (*g)["lat"].get<double>();
        p.lon = (*g)["lon"].get<double>();
        if (*p.lat < -90 || *p.lat > 90 || *p.lon < -180 || *p.lon > 180)
            return ApiError{400, "bad_request", "'geo' is out of range"};
    }
    if (!identity::valid_peer_id(p.id))
        return ApiError{400, "bad_request", "peer ids are 1-64 characters of [A-Za-z0-9._-]"};
    p.registered_ms = p.updated_ms = unix_ms();
    auto st = peers_.add(p, false);
    if (!st) {
        const auto& m = st.error().message;
        auto code = m.substr(0, m.find(':'));
        int status = code == "not_allowlisted" ? 403 : code == "key_mismatch" ? 409 : 400;
        ++counters_.rejected[code];
        return ApiError{status, code, m.substr(m.find(':') + 2)};
    }
    (void)store_->upsert_peer(*peers_.find(p.id));
    registry_put(*peers_.find(p.id)); // gossiped: every worker learns it
    emit("peer", {{"id", p.id}, {"region", p.region}});
    return nlohmann::json{{"registered", p.id}};
}

std::string Node::metrics_text() const {
    std::ostringstream o;
    o << "# HELP f0_links Links by state.\n# TYPE f0_links gauge\n";
    std::map<std::string, int> by_state;
    for (const auto& [p, l] : links_)
        ++by_state[std::string(to_string(l.state))];
    for (auto s : {"dialing", "connecting", "open", "failed", "closed"})
        o << "f0_links{state=\"" << s << "\"} " << by_state[s] << "\n";
    o << "# HELP f0_peers Known peers.\n# TYPE f0_peers gauge\nf0_peers " << peers_.all().size()
      << "\n";
    o << "# HELP f0_dials_total Dials started.\n# TYPE f0_dials_total counter\nf0_dials_total "
      << counters_.dials << "\n";
    o << "# HELP f0_dials_failed_total Dials that failed.\n# TYPE f0_dials_failed_total counter\n"
      << "f0_dials_failed_total " << counters_.dials_failed << "\n";
    o << "# HELP f0_offers_accepted_total Offers answered.\n# TYPE f0_offers_accepted_total "
         "counter\n"
      << "f0_offers_accepted_total " << counters_.offers_accepted << "\n";
    o << "# HELP f0_signaling_rejected_total Signaling requests refused, by reason.\n"
      << "# TYPE f0_signaling_rejected_total counter\n";
    for (const auto& [code, n] : counters_.rejected)
        o << "f0_signaling_rejected_total{reason=\"" << code << "\"} " << n << "\n";
    o << "# HELP f0_link_rtt_ms Link RTT from qos probes (latest interval).\n# TYPE f0_link_rtt_ms "
         "gauge\n"
      << "# HELP f0_link_jitter_ms Link jitter, RFC 3550.\n# TYPE f0_link_jitter_ms gauge\n"
      << "# HELP f0_link_loss_pct Inbound probe loss.\n# TYPE f0_link_loss_pct gauge\n"
      << "# HELP f0_link_kbps Bytes moved by the link.\n# TYPE f0_link_kbps gauge\n"
      << "# HELP f0_link_health 1 for the link's current grade.\n# TYPE f0_link_health gauge\n";
    for (const auto& [peer, link] : links_) {
        if (!link.last_qos)
            continue;
        const auto& q = *link.last_qos;
        auto lbl = "{peer=\"" + peer + "\"}";
        if (q.rtt_ms)
            o << "f0_link_rtt_ms" << lbl << ' ' << *q.rtt_ms << "\n";
        o << "f0_link_jitter_ms" << lbl << ' ' << q.jitter_ms << "\n"
          << "f0_link_loss_pct" << lbl << ' ' << q.loss_pct << "\n"
          << "f0_link_kbps{peer=\"" << peer << "\",direction=\"tx\"} " << q.tx_kbps << "\n"
          << "f0_link_kbps{peer=\"" << peer << "\",direction=\"rx\"} " << q.rx_kbps << "\n"
          << "f0_link_health{peer=\"" << peer << "\",grade=\"" << q.health << "\"} 1\n";
    }
    for (const auto& [peer, link] : links_) {
        for (const auto& [label, ch] : link.channels) {
            o << "f0_link_bytes_sent_total{peer=\"" << peer << "\",channel=\"" << label << "\"} "
              << ch->bytes_sent() << "\n";
            o << "f0_link_bytes_received_total{peer=\"" << peer << "\",channel=\"" << label
              << "\"} " << ch->bytes_received() << "\n";
        }
    }
    gossip_metrics(o);
    return o.str();
}

} // namespace f0::mesh

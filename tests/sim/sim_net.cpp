#include "sim_net.hpp"

#include "mesh/peers/peer_record.hpp"

#include <cstdlib>
#include <stdexcept>

namespace f0::simtest {

namespace {
constexpr std::size_t kMaxMessage = 262144; // as the real stack's a=max-message-size

std::uint64_t parse_token(std::string_view sdp) {
    if (!sdp.starts_with("sim:"))
        return 0;
    try {
        return std::stoull(std::string(sdp.substr(4)));
    } catch (...) {
        return 0;
    }
}

// Simulated nodes advertise http://ID.sim (a real-looking URL, so the peer-record rules apply).
std::string target_of(const std::string& endpoint) {
    constexpr std::string_view pre = "http://", suf = ".sim";
    if (!endpoint.starts_with(pre) || !endpoint.ends_with(suf) ||
        endpoint.size() <= pre.size() + suf.size())
        return {};
    return endpoint.substr(pre.size(), endpoint.size() - pre.size() - suf.size());
}
} // namespace

// --- SimNet ---------------------------------------------------------------------------------

std::int64_t SimNet::delay_us() {
    auto j = p_.jitter_us > 0
                 ? std::uniform_int_distribution<std::int64_t>(0, p_.jitter_us - 1)(rng_)
                 : 0;
    return p_.delay_us + j;
}

void SimNet::cut(const std::string& a, const std::string& b) {
    cuts_.insert({a, b});
    cuts_.insert({b, a});
    after_us(p_.consent_timeout_ms * 1000, [this] { check_consent(); });
}

void SimNet::isolate(const std::string& a) {
    isolated_.insert(a);
    after_us(p_.consent_timeout_ms * 1000, [this] { check_consent(); });
}

void SimNet::heal_all() {
    cuts_.clear();
    isolated_.clear();
}

bool SimNet::reachable(const std::string& a, const std::string& b) const {
    if (a == b)
        return true;
    return !isolated_.count(a) && !isolated_.count(b) && !cuts_.count({a, b});
}

mesh::Node* SimNet::node(const std::string& id) const {
    auto it = nodes_.find(id);
    return it == nodes_.end() ? nullptr : it->second;
}

// Consent freshness: a connected link whose other end is gone or out of reach fails.
void SimNet::check_consent() {
    std::vector<std::uint64_t> dead;
    for (const auto& [t, l] : links_) {
        if (!l->connected())
            continue;
        auto* p = l->peer();
        if (!p || !reachable(l->owner(), p->owner()))
            dead.push_back(t);
    }
    for (auto t : dead)
        if (auto* l = link(t))
            l->fail(rtc::PeerState::Failed);
}

// --- SimPeerLink ----------------------------------------------------------------------------

SimPeerLink::SimPeerLink(SimNet& net, std::string owner, Handlers h)
    : net_(net), owner_(std::move(owner)), h_(std::move(h)) {
    token_ = net_.add_link(this);
}

SimPeerLink::~SimPeerLink() {
    close();
    net_.remove_link(token_);
}

SimPeerLink* SimPeerLink::peer() const {
    auto* p = net_.link(remote_);
    return p && p->remote_ == token_ ? p : nullptr;
}

void SimPeerLink::start_gathering() {
    net_.after_us(1000, [&net = net_, t = token_] {
        auto* l = net.link(t);
        if (!l || l->closed_ || l->gathered_)
            return;
        l->gathered_ = true;
        if (l->h_.gathered)
            l->h_.gathered();
    });
}

Result<std::string> SimPeerLink::create_offer() {
    dialer_ = true;
    start_gathering();
    return local_description();
}

Result<std::string> SimPeerLink::create_answer() {
    if (!remote_)
        return make_error("no remote offer");
    start_gathering();
    return local_description();
}

Status SimPeerLink::set_remote_description(std::string_view sdp, rtc::sdp::Type type) {
    auto t = parse_token(sdp);
    if (!t)
        return make_error("not a simulated session description");
    if (remote_)
        return make_error("the remote description is already set");
    remote_ = t;
    arm_ice_timeout();
    if (type == rtc::sdp::Type::Answer)
        connect();
    return Ok{};
}

void SimPeerLink::arm_ice_timeout() {
    net_.after_us(net_.params().consent_timeout_ms * 1000, [&net = net_, t = token_] {
        if (auto* l = net.link(t); l && !l->connected_ && !l->closed_)
            l->fail(rtc::PeerState::Failed);
    });
}

// ICE, DTLS and SCTP take a few round trips; then the dialer's channels open on both ends.
void SimPeerLink::connect() {
    auto rtt = 2 * net_.delay_us();
    net_.after_us(net_.params().connect_rtts * rtt, [&net = net_, t = token_] {
        auto* d = net.link(t);
        auto* a = d ? d->peer() : nullptr;
        if (!d || !a || d->closed_ || a->closed_ || !net.reachable(d->owner_, a->owner_))
            return; // the ICE timeout fails them
        for (auto* l : {d, a}) {
            l->connected_ = true;
            if (l->h_.state)
                l->h_.state(rtc::PeerState::Connected);
        }
        std::vector<std::string> labels;
        for (auto& [label, ch] : d->chans_) {
            if (a->h_.accept_channel && !a->h_.accept_channel(label))
                continue; // the accepter closes it; the dialer's end never opens
            a->chans_[label].ordered = ch.ordered;
            labels.push_back(label);
        }
        for (const auto& label : labels)
            for (auto tok : {d->token_, a->token_}) {
                auto* l = net.link(tok);
                if (!l || l->closed_)
                    continue;
                l->chans_[label].open = true;
                if (l->h_.channel)
                    l->h_.channel(label, true);
            }
    });
}

Status SimPeerLink::open_channel(const std::string& label, const rtc::DataChannelInit& init) {
    if (chans_.count(label))
        return make_error("channel '" + label + "' exists");
    chans_[label].ordered = init.ordered;
    return Ok{};
}

Status SimPeerLink::send(const std::string& label, std::string_view bytes, bool /*binary*/) {
    auto it = chans_.find(label);
    if (closed_ || !connected_ || it == chans_.end() || !it->second.open)
        return make_error("channel '" + label + "' is not open");
    if (bytes.size() > kMaxMessage)
        return make_error("message larger than the peer's max-message-size");
    auto& ch = it->second;
    ch.sent += bytes.size();
    tx_ += bytes.size();
    auto* p = peer();
    if (!p || !net_.reachable(owner_, p->owner_))
        return Ok{}; // lost on the way; consent freshness will notice
    auto now = net_.sched().now_us();
    auto at = now + net_.delay_us();
    if (ch.ordered) {
        at = std::max(at, ch.last_delivery_us + 1);
        ch.last_delivery_us = at;
    }
    net_.after_us(at - now, [&net = net_, to = remote_, from = token_, label,
                             data = std::string(bytes)]() mutable {
        auto* r = net.link(to);
        if (!r || r->closed_ || !r->connected_ || r->remote_ != from)
            return;
        auto* s = net.link(from);
        if (s && !net.reachable(s->owner_, r->owner_))
            return;
        r->deliver(label, std::move(data));
    });
    return Ok{};
}

void SimPeerLink::deliver(const std::string& label, std::string bytes) {
    rx_ += bytes.size();
    chans_[label].received += bytes.size();
    if (h_.inline_message) {
        auto reply = [&net = net_, t = token_, label](std::span<const std::uint8_t> b) {
            if (auto* l = net.link(t))
                (void)l->send(label, {reinterpret_cast<const char*>(b.data()), b.size()}, true);
        };
        auto span = std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        if (h_.inline_message(label, span, reply))
            return;
    }
    if (h_.message)
        h_.message(label, std::move(bytes));
}

void SimPeerLink::fail(rtc::PeerState s) {
    if (closed_)
        return;
    connected_ = false;
    for (auto& [label, ch] : chans_)
        ch.open = false;
    if (h_.state)
        h_.state(s); // may close us
}

void SimPeerLink::close() {
    if (closed_)
        return;
    bool was = connected_;
    closed_ = true;
    connected_ = false;
    auto* p = peer();
    if (was && p && net_.reachable(owner_, p->owner_))
        net_.after_us(net_.delay_us(), [&net = net_, to = remote_, from = token_] {
            auto* r = net.link(to);
            if (r && r->remote_ == from)
                r->fail(rtc::PeerState::Closed); // the far end closed
        });
}

std::vector<mesh::ChannelInfo> SimPeerLink::channels() const {
    std::vector<mesh::ChannelInfo> out;
    std::uint16_t id = 0;
    for (const auto& [label, ch] : chans_)
        out.push_back({label, ch.open && !closed_, id++, ch.sent, ch.received});
    return out;
}

// --- SimSignalingClient ---------------------------------------------------------------------

void SimSignalingClient::call(const std::string& endpoint, std::function<void(mesh::Node&)> at,
                              std::function<void()> fail) {
    auto target = target_of(endpoint);
    auto& net = net_;
    auto timeout = net.params().http_timeout_ms * 1000;
    if (target.empty() || !net.reachable(owner_, target) || !net.node(target))
        return net.after_us(timeout, std::move(fail));
    auto d = net.delay_us();
    net.after_us(d, [&net, owner = owner_, target, at = std::move(at), fail, timeout, d] {
        auto* n = net.node(target);
        if (!n || !net.reachable(owner, target))
            return net.after_us(timeout - d, fail);
        at(*n);
    });
}

void SimSignalingClient::offer(const std::string& endpoint, const nlohmann::json& envelope,
                               std::function<void(mesh::OfferReply)> done) {
    auto& net = net_;
    call(
        endpoint,
        [&net, envelope, done](mesh::Node& n) {
            n.signaling().accept_offer(envelope, [&net, done](mesh::Outcome o) {
                mesh::OfferReply r;
                if (auto* e = std::get_if<mesh::Error>(&o)) {
                    r.kind = e->code == mesh::Errc::Glare ? mesh::OfferReply::Kind::Glare
                                                          : mesh::OfferReply::Kind::Refused;
                    r.code = std::string(mesh::code_of(e->code));
                    r.detail = e->detail;
                } else {
                    r.kind = mesh::OfferReply::Kind::Answer;
                    r.answer = std::get<nlohmann::json>(o);
                }
                net.after_us(net.delay_us(), [done, r] { done(r); });
            });
        },
        [done] {
            done({mesh::OfferReply::Kind::Unreachable, {}, {}, "timed out (simulated)"});
        });
}

void SimSignalingClient::gossip(const std::string& endpoint, const nlohmann::json& envelope,
                                Done done) {
    auto& net = net_;
    call(
        endpoint,
        [&net, envelope, done](mesh::Node& n) {
            auto o = n.gossip().accept_https(envelope);
            std::optional<std::string> err;
            if (auto* e = std::get_if<mesh::Error>(&o))
                err = e->detail;
            net.after_us(net.delay_us(), [done, err] { done(err); });
        },
        [done] { done("timed out (simulated)"); });
}

void SimSignalingClient::register_at(const std::string& beacon, const nlohmann::json& self,
                                     Done done) {
    auto& net = net_;
    call(
        beacon,
        [&net, self, done](mesh::Node& n) {
            auto rec = mesh::signed_record_from_json(self);
            std::optional<std::string> err;
            if (auto* e = std::get_if<mesh::Error>(&rec))
                err = e->detail;
            else if (auto o = n.signaling().register_peer(std::get<mesh::SignedRecord>(rec));
                     !mesh::ok(o))
                err = std::get<mesh::Error>(o).detail;
            net.after_us(net.delay_us(), [done, err] { done(err); });
        },
        [done] { done("timed out (simulated)"); });
}

void SimSignalingClient::peers_of(const std::string& beacon,
                                  std::function<void(std::optional<nlohmann::json>)> done) {
    auto& net = net_;
    call(
        beacon,
        [&net, done](mesh::Node& n) {
            auto list = n.peers_json();
            net.after_us(net.delay_us(), [done, list] { done(list); });
        },
        [done] { done(std::nullopt); });
}

// --- SimMesh --------------------------------------------------------------------------------

SimMesh::SimMesh(std::uint64_t seed, NetParams p) : net(seed, p), seed_(seed) {
    char tmpl[] = "/tmp/f0-sim-XXXXXX";
    if (!mkdtemp(tmpl))
        throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
}

SimMesh::~SimMesh() {
    for (auto& [id, s] : nodes_)
        s.node.reset(); // nodes first: their links point into the net
    nodes_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

mesh::Node& SimMesh::add(const std::string& id, const Tweak& tweak, bool persistent) {
    auto& s = nodes_[id];
    s.tweak = tweak;
    s.db = persistent ? dir_ / (id + ".db") : std::filesystem::path(":memory:");
    return boot(id);
}

mesh::Node& SimMesh::boot(const std::string& id) {
    auto& s = nodes_.at(id);
    std::uint64_t node_seed = seed_ * 1'000'003 + std::hash<std::string>{}(id);
    std::mt19937_64 r(node_seed);
    std::array<std::uint8_t, 32> key{};
    for (auto& b : key)
        b = static_cast<std::uint8_t>(r());
    mesh::WorkerConfig cfg;
    cfg.id = id;
    cfg.advertise = "http://" + id + ".sim";
    cfg.open_registration = true;
    if (s.tweak)
        s.tweak(cfg);
    auto identity = mesh::identity::Identity::from_seed(key);
    auto db = store::Database::open(s.db);
    if (!identity || !db)
        throw std::runtime_error("cannot make node " + id);
    s.clock = std::make_unique<mesh::SimClock>(net.sched(), node_seed + s.starts++);
    s.links = std::make_unique<SimPeerLinkFactory>(net, id);
    s.client = std::make_unique<SimSignalingClient>(net, id);
    s.node = std::make_unique<mesh::Node>(
        mesh::Node::Seams{*s.clock, *s.links, *s.client}, cfg, std::move(identity).value(),
        std::make_unique<store::MeshStore>(std::move(db).value()));
    net.attach(id, s.node.get());
    if (auto st = s.node->start(); !st)
        throw std::runtime_error("node " + id + " did not start: " + st.error().message);
    return *s.node;
}

void SimMesh::introduce(const std::string& a, const std::string& b) {
    auto ra = node(a).self_record(), rb = node(b).self_record();
    (void)node(a).signaling().register_peer(rb);
    (void)node(b).signaling().register_peer(ra);
}

void SimMesh::crash(const std::string& id) {
    net.isolate(id); // its links vanish without a close
    net.detach(id);
    nodes_.at(id).node.reset();
}

mesh::Node& SimMesh::restart(const std::string& id) {
    net.rejoin(id);
    return boot(id);
}

bool SimMesh::run_until(const std::function<bool()>& pred, std::int64_t max_ms,
                        std::int64_t step_ms) {
    auto end = net.sched().now_us() + max_ms * 1000;
    while (!pred()) {
        if (net.sched().now_us() >= end)
            return false;
        net.sched().run_until(std::min(end, net.sched().now_us() + step_ms * 1000));
    }
    return true;
}

std::vector<std::uint64_t> sim_seeds(std::uint64_t first) {
    if (const char* one = std::getenv("F0_SIM_SEED"))
        return {std::strtoull(one, nullptr, 10)};
    std::uint64_t n = 1;
    if (const char* k = std::getenv("F0_SIM_SEEDS"))
        n = std::max<std::uint64_t>(1, std::strtoull(k, nullptr, 10));
    std::vector<std::uint64_t> out;
    for (std::uint64_t i = 0; i < n; ++i)
        out.push_back(first + i);
    return out;
}

} // namespace f0::simtest

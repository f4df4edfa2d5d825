// Signaling: A's dial creates an offer, signs it and posts it to B's /offer; B checks it and
// answers synchronously with a signed answer; A checks that and applies it. Glare (both dialling
// at once) resolves to one link: the offer from the lower peer id wins.
#include "mesh/node.hpp"

#include "util/log.hpp"

#include <boost/asio/post.hpp>

namespace f0::mesh {

namespace {
auto logger() {
    static auto l = log::get("mesh.signaling");
    return l;
}
constexpr auto kGatherLimit = std::chrono::seconds(3);
constexpr auto kGlareGuard = std::chrono::milliseconds(5000);

std::optional<ApiError> remote_error(int status, const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    std::string code = "remote_error", detail = body.substr(0, 200);
    if (j.is_object()) {
        code = j.value("error", code);
        detail = j.value("detail", detail);
    }
    return ApiError{status >= 400 && status < 500 ? 502 : 502, code,
                    "the peer answered " + std::to_string(status) + ": " + detail};
}
} // namespace

identity::Envelope Node::make_envelope(const std::string& peer, const std::string& type,
                                       const std::string& sdp) const {
    identity::Envelope e;
    e.peer_from = config_.id;
    e.peer_to = peer;
    e.type = type;
    e.sdp = sdp;
    e.ts_ms = unix_ms();
    e.nonce = identity::Envelope::random_nonce();
    e.sign(identity_);
    return e;
}

// Checks in order of cost, and records a nonce only for a correctly signed envelope.
std::optional<ApiError> Node::check_envelope(const identity::Envelope& e, const char* type) {
    auto reject = [&](int status, const std::string& code, const std::string& detail) {
        ++counters_.rejected[code];
        F0_LOG_INFO(logger(), "rejected {} from '{}': {}", type, e.peer_from, detail);
        return ApiError{status, code, detail};
    };
    if (e.type != type)
        return reject(400, "bad_request",
                      std::string("expected an envelope of type '") + type + "'");
    if (e.peer_to != config_.id)
        return reject(400, "wrong_recipient",
                      "the envelope is for '" + e.peer_to + "', this is '" + config_.id + "'");
    if (!peers_.is_allowed(e.peer_from) && peers_.has_allowlist())
        return reject(403, "not_allowlisted",
                      "peer '" + e.peer_from + "' is not on this worker's allowlist");
    auto key = peers_.key_of(e.peer_from);
    if (!key)
        return reject(403, "unknown_peer", "peer '" + e.peer_from + "' is not registered here");
    if (!peers_.is_allowed(e.peer_from) && !config_.open_registration)
        return reject(403, "not_allowlisted",
                      "peer '" + e.peer_from + "' is not on this worker's allowlist");
    if (!e.verify(*key))
        return reject(401, "bad_signature",
                      "the signature does not verify with the key registered for '" + e.peer_from +
                          "'");
    switch (replay_.check(e.ts_ms, e.nonce, unix_ms())) {
    case identity::ReplayVerdict::Stale:
        return reject(401, "stale_timestamp",
                      "ts is more than " + std::to_string(replay_.window().count()) +
                          " ms from this worker's clock");
    case identity::ReplayVerdict::Replayed:
        return reject(409, "replayed_nonce", "this nonce was already used");
    case identity::ReplayVerdict::Fresh:
        break;
    }
    return std::nullopt;
}

void Node::when_gathered(const std::shared_ptr<rtc::PeerConnection>& pc,
                         std::function<void()> then) {
    // Host candidates are gathered at once; STUN/TURN take a round trip. Poll the PC's state on
    // a short timer, bounded by kGatherLimit (after which we send what we have: trickle-less
    // peers then use the candidates gathered so far).
    auto timer = std::make_shared<boost::asio::steady_timer>(io_);
    auto deadline = std::chrono::steady_clock::now() + kGatherLimit;
    auto step = std::make_shared<std::function<void()>>();
    *step = [pc, then, timer, deadline, step]() {
        if (pc->gathering_complete() || std::chrono::steady_clock::now() >= deadline) {
            then();
            *step = nullptr; // break the cycle
            return;
        }
        timer->expires_after(std::chrono::milliseconds(20));
        timer->async_wait([step](const boost::system::error_code& ec) {
            if (!ec && *step)
                (*step)();
        });
    };
    (*step)();
}

void Node::dial(const std::string& peer, OutcomeCallback done) {
    if (peer == config_.id)
        return done(ApiError{400, "bad_request", "a worker cannot dial itself"});
    auto record = peers_.find(peer);
    if (!record)
        return done(ApiError{404, "unknown_peer",
                             "peer '" + peer + "' is not registered here (POST /beacon)"});
    auto it = links_.find(peer);
    if (it != links_.end()) {
        if (it->second.state == LinkState::Open)
            return done(it->second.to_json());
        if (it->second.state == LinkState::Dialing || it->second.state == LinkState::Connecting) {
            waiters_[peer].push_back(std::move(done));
            return;
        }
    }
    ++counters_.dials;
    Link& link = new_link(peer, "dialer");
    link.desired = true;
    waiters_[peer].push_back(std::move(done));
    for (const auto& spec : link_channels()) {
        auto ch = link.pc->create_data_channel(spec.label, spec.init);
        if (!ch) {
            fail_link(peer, "cannot create channel: " + ch.error().message);
            return;
        }
        watch_channel(peer, link.generation, ch.value(), link.qos);
    }
    persist(link);
    emit("link", link.to_json());
    arm_dial_timeout(peer, link.generation); // give up on the dial after dial_timeout
    auto offer = link.pc->create_offer();
    if (!offer) {
        fail_link(peer, "cannot create the offer: " + offer.error().message);
        return;
    }
    when_gathered(link.pc, [weak = weak_from_this(), peer, gen = link.generation] {
        if (auto n = weak.lock())
            n->send_offer(peer, gen);
    });
}

// Fails the link (and its waiting dials) if this generation is not open after dial_timeout.
void Node::arm_dial_timeout(const std::string& peer, std::uint64_t gen) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, config_.dial_timeout);
    timer->async_wait(
        [weak = weak_from_this(), peer, gen, timer](const boost::system::error_code&) {
            auto n = weak.lock();
            Link* link = n ? n->current_link(peer, gen) : nullptr;
            if (link && link->state != LinkState::Open) {
                ++n->counters_.dials_failed;
                n->fail_link(peer, "no open link within " +
                                       std::to_string(n->config_.dial_timeout.count()) + " ms");
            }
        });
}

void Node::send_offer(const std::string& peer, std::uint64_t gen) {
    Link* link = current_link(peer, gen);
    auto record = peers_.find(peer);
    if (!link || !record)
        return;
    auto env = make_envelope(peer, "offer", link->pc->local_description());
    std::string url = record->endpoint + "/offer";
    http_("POST", url, env.to_json().dump(),
          [weak = weak_from_this(), peer, gen](int status, std::string body, std::string error) {
              auto n = weak.lock();
              Link* link = n ? n->current_link(peer, gen) : nullptr;
              if (!link)
                  return;
              if (!error.empty()) {
                  ++n->counters_.dials_failed;
                  n->fail_link(peer, "cannot reach " + peer + ": " + error);
                  return;
              }
              if (status == 409 && body.find("\"glare\"") != std::string::npos) {
                  // Both of us dialled; the peer's offer wins and will arrive here. Our waiters
                  // stay, and are settled when that link opens.
                  F0_LOG_INFO(logger(), "glare with {}: waiting for its offer", peer);
                  link->pc->on_state_change(nullptr); // our PC's end is not the link's end
                  link->pc->close();
                  link->state = LinkState::Connecting;
                  link->role = "accepter";
                  return;
              }
              if (status != 200) {
                  ++n->counters_.dials_failed;
                  auto err = remote_error(status, body);
                  n->fail_link(peer, err->code + ": " + err->detail);
                  return;
              }
              auto j = nlohmann::json::parse(body, nullptr, false);
              auto env = identity::Envelope::from_json(j);
              if (!env) {
                  n->fail_link(peer, "the peer's answer is malformed: " + env.error().message);
                  return;
              }
              if (env.value().peer_from != peer) {
                  n->fail_link(peer, "the answer is signed as '" + env.value().peer_from +
                                         "', not '" + peer + "'");
                  return;
              }
              if (auto bad = n->check_envelope(env.value(), "answer")) {
                  n->fail_link(peer, "the peer's answer was refused: " + bad->detail);
                  return;
              }
              auto st = link->pc->set_remote_description(env.value().sdp, rtc::sdp::Type::Answer);
              if (!st) {
                  n->fail_link(peer, "the peer's answer SDP is unusable: " + st.error().message);
                  return;
              }
              ++n->counters_.answers_accepted;
              link->state = LinkState::Connecting;
              n->persist(*link);
          });
}

void Node::accept_offer(const nlohmann::json& body, OutcomeCallback done) {
    auto env = identity::Envelope::from_json(body);
    if (!env) {
        ++counters_.rejected["bad_request"];
        return done(ApiError{400, "bad_request", env.error().message});
    }
    const auto& e = env.value();
    if (auto bad = check_envelope(e, "offer"))
        return done(*bad);
    auto peer = e.peer_from;
    auto it = links_.find(peer);
    // Glare: the lower id's offer wins. While the link we dialled is pending, or opened moments
    // ago, an offer from the peer is its own colliding (now abandoned) dial: refuse it. A peer
    // that really restarted is refused at most briefly and gets in on its redial.
    if (it != links_.end() && it->second.role == "dialer" && config_.id < peer &&
        (it->second.state == LinkState::Dialing || it->second.state == LinkState::Connecting ||
         (it->second.state == LinkState::Open && it->second.opened_ms &&
          unix_ms() - *it->second.opened_ms < kGlareGuard.count()))) {
        ++counters_.rejected["glare"];
        return done(ApiError{409, "glare",
                             "both sides dialled; the offer from '" + config_.id +
                                 "' (the lower id) wins"});
    }
    // A new offer replaces whatever link we had (the peer may have restarted). Waiters of our
    // own dial stay and are settled when this link opens.
    bool keep_desired = it != links_.end() && it->second.desired;
    Link& link = new_link(peer, "accepter");
    link.desired = keep_desired;
    auto st = link.pc->set_remote_description(e.sdp, rtc::sdp::Type::Offer);
    if (!st) {
        ++counters_.rejected["bad_sdp"];
        links_.erase(peer);
        return done(ApiError{400, "bad_sdp", st.error().message});
    }
    auto answer = link.pc->create_answer();
    if (!answer) {
        links_.erase(peer);
        return done(ApiError{500, "internal", answer.error().message});
    }
    ++counters_.offers_accepted;
    if (waiters_.count(peer)) // our own dial to this peer lost the glare and waits for this link
        arm_dial_timeout(peer, link.generation);
    persist(link);
    emit("link", link.to_json());
    when_gathered(link.pc, [weak = weak_from_this(), peer, gen = link.generation, done] {
        auto n = weak.lock();
        if (!n)
            return done(ApiError{503, "stopping", "the worker is stopping"});
        Link* link = n->current_link(peer, gen);
        if (!link)
            return done(
                ApiError{409, "superseded", "a newer offer from the same peer replaced this one"});
        done(n->make_envelope(peer, "answer", link->pc->local_description()).to_json());
    });
}

Outcome Node::accept_answer(const nlohmann::json& body) {
    auto env = identity::Envelope::from_json(body);
    if (!env) {
        ++counters_.rejected["bad_request"];
        return ApiError{400, "bad_request", env.error().message};
    }
    const auto& e = env.value();
    if (auto bad = check_envelope(e, "answer"))
        return *bad;
    auto it = links_.find(e.peer_from);
    if (it == links_.end() || it->second.state != LinkState::Dialing)
        return ApiError{409, "no_pending_offer",
                        "there is no offer to '" + e.peer_from + "' waiting for an answer"};
    auto st = it->second.pc->set_remote_description(e.sdp, rtc::sdp::Type::Answer);
    if (!st)
        return ApiError{400, "bad_sdp", st.error().message};
    it->second.state = LinkState::Connecting;
    persist(it->second);
    return it->second.to_json();
}

void Node::beacon_tick() {
    if (stopped_)
        return;
    auto base = config_.beacon;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    http_("POST", base + "/beacon", self_json().dump(),
          [](int status, std::string body, std::string error) {
              if (!error.empty() || status != 200)
                  F0_LOG_WARN(logger(), "beacon registration failed: {}",
                              error.empty() ? body : error);
          });
    http_("GET", base + "/peers", "",
          [weak = weak_from_this()](int status, std::string body, std::string error) {
              auto n = weak.lock();
              if (!n || !error.empty() || status != 200)
                  return;
              auto list = nlohmann::json::parse(body, nullptr, false);
              if (!list.is_array())
                  return;
              for (const auto& p : list) {
                  if (!p.is_object() || p.value("id", "") == n->config_.id)
                      continue;
                  auto before = n->peers_.find(p.value("id", ""));
                  auto r = n->register_peer(p);
                  if (std::holds_alternative<nlohmann::json>(r) && !before)
                      F0_LOG_INFO(logger(), "learned peer {} from the beacon", p.value("id", ""));
              }
          });
    beacon_timer_->expires_after(config_.beacon_refresh);
    beacon_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        if (auto n = weak.lock(); n && !ec)
            n->beacon_tick();
    });
}

} // namespace f0::mesh

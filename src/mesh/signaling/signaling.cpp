#include "mesh/signaling/signaling.hpp"

#include <algorithm>

#include "mesh/instances/placement.hpp"
#include "mesh/peers/peer_record.hpp"
#include "util/log.hpp"

namespace f0::mesh {

namespace {
const auto& signaling_log() {
    static const auto& l = log::forever("mesh.signaling");
    return l;
}
} // namespace

Signaling::Options Signaling::options_of(const WorkerConfig& c) {
    return Options{.self = c.id,
                   .window = c.signaling_window,
                   .glare_guard = c.glare_guard,
                   .open_registration = c.open_registration,
                   .beacon = c.beacon,
                   .beacon_refresh = c.beacon_refresh,
                   .replay_per_peer = c.replay_per_peer,
                   .replay_max = c.replay_max,
                   .peer_rate_min = c.peer_signaling_rate_min,
                   .peer_rate_max = c.peer_signaling_rate_max,
                   .restart_after_silence = c.ice_restart_silence(),
                   .restart_after_silence_calm = c.ice_restart_silence_calm(),
                   .delegation = c.delegation,
                   .instance_limits = c.instance_limits()};
}

Signaling::Signaling(Clock& clock, const identity::Identity& id, PeerRegistry& peers,
                     LinkTable& links, SignalingClient& client, store::MeshStore& store,
                     Options options, Notify notify)
    : clock_(clock), identity_(id), peers_(peers), links_(links), client_(client), store_(store),
      opt_(std::move(options)), notify_(std::move(notify)),
      replay_({opt_.window, opt_.replay_per_peer, opt_.replay_max}, clock_.unix_ms()),
      instances_(opt_.instance_limits) {}

identity::Envelope Signaling::make_envelope(const std::string& peer, const std::string& type,
                                            const std::string& payload) {
    identity::Envelope e;
    e.peer_from = opt_.self;
    e.peer_to = peer;
    e.type = type;
    e.sdp = payload;
    e.ts_ms = clock_.unix_ms();
    e.nonce = identity::Envelope::random_nonce();
    e.delegation = opt_.delegation;
    e.sign(identity_);
    return e;
}

std::optional<Error> Signaling::check_envelope(const identity::Envelope& e, const char* type) {
    auto reject = [&](Errc code, const std::string& detail) {
        ++counters_.rejected[std::string(code_of(code))];
        F0_LOG_INFO(signaling_log(), "rejected {} from '{}': {}", type, e.peer_from, detail);
        return Error{code, detail, {}};
    };
    if (e.type != type)
        return reject(Errc::BadRequest, std::string("expected an envelope of type '") + type + "'");
    if (e.peer_to != opt_.self)
        return reject(Errc::WrongRecipient,
                      "the envelope is for '" + e.peer_to + "', this is '" + opt_.self + "'");
    if (!peers_.is_allowed(e.peer_from) && peers_.has_allowlist())
        return reject(Errc::NotAllowlisted,
                      "peer '" + e.peer_from + "' is not on this worker's allowlist");
    auto key = peers_.key_of(e.peer_from);
    if (!key)
        return reject(Errc::UnknownSender, "peer '" + e.peer_from + "' is not registered here");
    if (!peers_.is_allowed(e.peer_from) && !opt_.open_registration)
        return reject(Errc::NotAllowlisted,
                      "peer '" + e.peer_from + "' is not on this worker's allowlist");
    if (e.delegation) {
        // From one instance of the peer: the peer's key (pinned here) must certify the key that
        // signed, for this peer, now, and not revoked since.
        if (auto refused = identity::verify_delegation(
                *e.delegation, e.peer_from, *key, clock_.unix_ms(), opt_.window.count(), revoked_))
            return reject(Errc::BadDelegation, "the envelope's delegation is refused: " +
                                                   std::string(identity::to_string(*refused)));
        if (!e.verify(e.delegation->instance_key))
            return reject(Errc::BadSignature,
                          "the signature does not verify with the instance key of the delegation");
    } else if (!e.verify(*key))
        return reject(Errc::BadSignature,
                      "the signature does not verify with the key registered for '" + e.peer_from +
                          "'");
    // Offers and answers only: gossip by the HTTPS fallback has its own per-peer, trust-weighted
    // rate in the gossip engine (and a per-address one on POST /gossip).
    if (e.type != "gossip" && !peer_allowed(e.peer_from))
        return reject(Errc::RateLimited,
                      "peer '" + e.peer_from + "' is over its signaling rate (by id and trust)");
    switch (replay_.check(e.peer_from, e.ts_ms, e.nonce, clock_.unix_ms())) {
    case identity::ReplayVerdict::Stale:
        return reject(Errc::StaleTimestamp, "ts is more than " +
                                                std::to_string(replay_.window().count()) +
                                                " ms from this worker's clock");
    case identity::ReplayVerdict::BeforeStart:
        return reject(Errc::StaleTimestamp,
                      "ts is before this worker started: it cannot vouch that the nonce is new "
                      "(sign a new envelope)");
    case identity::ReplayVerdict::Replayed:
        return reject(Errc::ReplayedNonce, "this nonce was already used");
    case identity::ReplayVerdict::PeerWindowFull:
        return reject(Errc::ReplayWindowFull,
                      "peer '" + e.peer_from + "' sent " +
                          std::to_string(replay_.limits().per_peer) + " envelopes within " +
                          std::to_string(replay_.window().count()) + " ms; try later");
    case identity::ReplayVerdict::Full:
        return reject(Errc::Busy, "this worker remembers " +
                                      std::to_string(replay_.limits().max_nonces) +
                                      " nonces already and forgets none early; try later");
    case identity::ReplayVerdict::Fresh:
        break;
    }
    return std::nullopt;
}

bool Signaling::peer_allowed(const std::string& peer) {
    auto now = clock_.unix_ms();
    // Buckets idle long enough to be full again are forgotten: the map holds active senders
    // only (and at most one per registered id, since the signature was checked first).
    if (peer_buckets_.size() > 1'024)
        std::erase_if(peer_buckets_,
                      [&](const auto& kv) { return now - kv.second.refill_ms > 60'000; });
    double t = links_.trust_of ? std::clamp(links_.trust_of(peer), 0.0, 1.0) : 0.0;
    double rate = opt_.peer_rate_min + (opt_.peer_rate_max - opt_.peer_rate_min) * t;
    double burst = std::max(1.0, rate * opt_.peer_burst_s);
    auto& b = peer_buckets_[peer];
    if (b.tokens < 0)
        b.tokens = burst;
    else
        b.tokens = std::min(burst, b.tokens + rate * static_cast<double>(now - b.refill_ms) / 1e3);
    b.refill_ms = now;
    if (b.tokens < 1)
        return false;
    b.tokens -= 1;
    return true;
}

void Signaling::dial(const std::string& peer, OutcomeCallback done) {
    if (peer == opt_.self)
        return done(Error{Errc::BadRequest, "a worker cannot dial itself", {}});
    const auto* record = peers_.find(peer);
    if (!record)
        return done(Error{
            Errc::UnknownPeer, "peer '" + peer + "' is not registered here (POST /beacon)", {}});
    const auto* existing = links_.find(peer);
    if (existing && existing->state == LinkState::Open)
        return done(existing->to_json());
    if (record->endpoint.empty() && !instances_.serves_by_instances(peer))
        return done(Error{Errc::BadRequest,
                          "peer '" + peer +
                              "' is dial-only (registered without endpoints.webrtc, as a browser "
                              "page is): it dials this worker, this worker cannot dial it",
                          {}});
    if (existing &&
        (existing->state == LinkState::Dialing || existing->state == LinkState::Connecting))
        return links_.wait(peer, std::move(done));
    if (auto other = sibling_serving(peer))
        return done(Error{Errc::WrongInstance,
                          "instance " + *other + " of " + opt_.self + " serves the link to '" +
                              peer + "' (placement); dial from there, or let '" + peer + "' dial " +
                              opt_.self,
                          {}});
    if (auto busy = links_.admit(peer))
        return done(*busy);
    ++counters_.dials;
    Link& link = links_.create(peer, "dialer");
    link.desired = true;
    auto gen = link.generation;
    links_.wait(peer, std::move(done));
    for (const auto& spec : link_channels())
        if (auto st = link.pc->open_channel(spec.label, spec.init); !st)
            return links_.fail(peer, "cannot create channel: " + st.error().message);
    links_.changed(link);
    links_.arm_dial_timeout(peer, gen); // give up on the dial after dial_timeout
    if (auto offer = link.pc->create_offer(); !offer)
        return links_.fail(peer, "cannot create the offer: " + offer.error().message);
    links_.when_gathered(peer, gen, [this, peer, gen] { send_offer(peer, gen); });
}

void Signaling::send_offer(const std::string& peer, std::uint64_t gen) {
    Link* link = links_.current(peer, gen);
    const auto* record = peers_.find(peer);
    if (!link || !record)
        return;
    auto env = make_envelope(peer, "offer", link->pc->local_description());
    auto endpoint = endpoint_of(peer, link->instance);
    client_.offer(endpoint, env.to_json(),
                  [this, alive = std::weak_ptr<bool>(alive_), peer, gen](OfferReply r) {
                      if (alive.lock())
                          on_reply(peer, gen, r);
                  });
}

void Signaling::on_reply(const std::string& peer, std::uint64_t gen, const OfferReply& r) {
    Link* link = links_.current(peer, gen);
    if (!link)
        return;
    // (if, not switch: clang's use-after-scope check misreads temporaries across case labels)
    if (r.kind == OfferReply::Kind::Unreachable) {
        // A peer served by instances: the same offer goes to the next instance placement names
        // (each try marks one down, so this ends), and a dial waiting on the link keeps waiting.
        if (!link->instance.empty() && skip_instance(peer, link->instance, r.detail))
            return send_offer(peer, gen);
        return links_.fail(peer, "cannot reach " + peer + ": " + r.detail);
    }
    if (r.kind == OfferReply::Kind::Refused)
        return links_.fail(peer, r.code + ": " + r.detail);
    if (r.kind == OfferReply::Kind::Glare) {
        // Both of us dialled; the peer's offer wins and will arrive here. Our waiters stay, and
        // are settled when that link opens (or this one times out).
        F0_LOG_INFO(signaling_log(), "glare with {}: waiting for its offer", peer);
        link->pc->close(); // our PeerLink's end is not the link's end
        link->state = LinkState::Connecting;
        link->role = "accepter";
        return;
    }
    auto env = identity::Envelope::from_json(r.answer);
    if (!env)
        return links_.fail(peer, "the peer's answer is malformed: " + env.error().message);
    if (env.value().peer_from != peer)
        return links_.fail(peer, "the answer is signed as '" + env.value().peer_from + "', not '" +
                                     peer + "'");
    if (auto bad = check_envelope(env.value(), "answer"))
        return links_.fail(peer, "the peer's answer was refused: " + bad->detail);
    if (auto st = link->pc->set_remote_description(env.value().sdp, rtc::sdp::Type::Answer); !st)
        return links_.fail(peer, "the peer's answer SDP is unusable: " + st.error().message);
    link->instance = env.value().delegation ? env.value().delegation->instance : "";
    ++counters_.answers_accepted;
    link->state = LinkState::Connecting;
    links_.changed(*link);
}

void Signaling::accept_offer(const nlohmann::json& body, OutcomeCallback done) {
    auto env = identity::Envelope::from_json(body);
    if (!env) {
        ++counters_.rejected["bad_request"];
        return done(Error{Errc::BadRequest, env.error().message, {}});
    }
    const auto& e = env.value();
    if (e.type == "restart") {
        if (auto bad = check_envelope(e, "restart"))
            return done(*bad);
        return accept_restart(e, std::move(done));
    }
    if (auto bad = check_envelope(e, "offer"))
        return done(*bad);
    auto peer = e.peer_from;
    const Link* have = links_.find(peer);
    // Glare: the lower id's offer wins. While the link we dialled is pending, or opened moments
    // ago, an offer from the peer is its own colliding (now abandoned) dial: refuse it. A peer
    // that really restarted is refused at most briefly and gets in on its redial.
    if (have && have->role == "dialer" && opt_.self < peer &&
        (have->state == LinkState::Dialing || have->state == LinkState::Connecting ||
         (have->state == LinkState::Open && have->opened_ms &&
          clock_.unix_ms() - *have->opened_ms < opt_.glare_guard.count()))) {
        ++counters_.rejected["glare"];
        return done(
            Error{Errc::Glare,
                  "both sides dialled; the offer from '" + opt_.self + "' (the lower id) wins",
                  {}});
    }
    // A new offer replaces whatever link we had (the peer may have restarted). Waiters of our
    // own dial stay and are settled when this link opens.
    if (auto busy = links_.admit(peer)) {
        ++counters_.rejected["busy"];
        return done(*busy);
    }
    // A link an instance of a peer dialled is kept wanted here as if we had dialled it: when that
    // instance dies, nobody on its side redials (its siblings do not know its links), so we do,
    // and placement takes the redial to a live sibling (the dead one is marked down on the way).
    bool keep_desired = (have && have->desired) || e.delegation.has_value();
    Link& link = links_.create(peer, "accepter");
    link.desired = keep_desired;
    link.instance = e.delegation ? e.delegation->instance : "";
    auto gen = link.generation;
    if (auto st = link.pc->set_remote_description(e.sdp, rtc::sdp::Type::Offer); !st) {
        ++counters_.rejected["bad_sdp"];
        links_.erase(peer);
        return done(Error{Errc::BadSdp, st.error().message, {}});
    }
    if (auto answer = link.pc->create_answer(); !answer) {
        links_.erase(peer);
        return done(Error{Errc::Internal, answer.error().message, {}});
    }
    ++counters_.offers_accepted;
    if (links_.has_waiters(peer)) // our own dial lost the glare and waits for this link
        links_.arm_dial_timeout(peer, gen);
    links_.changed(link);
    links_.when_gathered(peer, gen, [this, peer, gen, done] {
        Link* l = links_.current(peer, gen);
        if (!l)
            return done(
                Error{Errc::Superseded, "a newer offer from the same peer replaced this one", {}});
        done(make_envelope(peer, "answer", l->pc->local_description()).to_json());
    });
}

Outcome Signaling::accept_answer(const nlohmann::json& body) {
    auto env = identity::Envelope::from_json(body);
    if (!env) {
        ++counters_.rejected["bad_request"];
        return Error{Errc::BadRequest, env.error().message, {}};
    }
    const auto& e = env.value();
    if (auto bad = check_envelope(e, "answer"))
        return *bad;
    Link* link = links_.find(e.peer_from);
    if (!link || link->state != LinkState::Dialing)
        return Error{Errc::NoPendingOffer,
                     "there is no offer to '" + e.peer_from + "' waiting for an answer",
                     {}};
    if (auto st = link->pc->set_remote_description(e.sdp, rtc::sdp::Type::Answer); !st)
        return Error{Errc::BadSdp, st.error().message, {}};
    link->state = LinkState::Connecting;
    links_.changed(*link);
    return link->to_json();
}

Outcome Signaling::register_peer(SignedRecord r, bool learned) {
    auto& p = r.peer;
    if (p.id == opt_.self && !r.delegation)
        return Error{Errc::Self, "that id is this worker's own", {}};
    if (r.is_signed() && r.ts > clock_.unix_ms() + opt_.window.count())
        return Error{Errc::StaleTimestamp,
                     "the record's 'ts' is ahead of this worker's clock by more than the signaling "
                     "window",
                     {}};
    if (r.delegation) {
        if (auto err = register_instance(r)) {
            ++counters_.rejected[std::string(code_of(err->code))];
            return *err;
        }
        return nlohmann::json{{"registered", p.id}, {"instance", r.delegation->instance}};
    }
    // The same record again (a beacon refresh): nothing to store or announce; a signed one is
    // replicated unless the registry holds it already.
    if (holds_same(p)) {
        if (r.is_signed() && !learned)
            registered(r);
        return nlohmann::json{{"registered", p.id}};
    }
    if (auto err = may_change(r)) {
        ++counters_.rejected[std::string(code_of(err->code))];
        return *err;
    }
    p.registered_ms = p.updated_ms = clock_.unix_ms();
    p.signed_ts = r.is_signed() ? r.ts : 0;
    if (auto err = peers_.add(p, false)) {
        ++counters_.rejected[std::string(code_of(err->code))];
        return *err;
    }
    const auto& stored = *peers_.find(p.id);
    if (auto st = store_.upsert_peer(stored); !st)
        F0_LOG_WARN(signaling_log(), "cannot store peer {}: {}", p.id, st.error().message);
    if (!learned)
        registered(r);
    if (notify_)
        notify_("peer", {{"id", p.id}, {"region", p.region}});
    return nlohmann::json{{"registered", p.id}};
}

bool Signaling::holds_same(const store::PeerRecord& p) const {
    const auto* have = peers_.find(p.id);
    return have && have->pub_key == p.pub_key && have->endpoint == p.endpoint &&
           have->region == p.region && have->lat == p.lat && have->lon == p.lon &&
           peers_.is_allowed(p.id);
}

// Anyone can send a record naming a known id and its (public) key: unsigned, it may only add an
// id never seen here, or an attacker would move a peer's endpoint to one of its own (dials to the
// peer would go there: denial of service). A signed record must not be older than the one held,
// or a record captured earlier (GET /registry shows them) would move the peer back.
std::optional<Error> Signaling::may_change(const SignedRecord& r) const {
    const auto& p = r.peer;
    const auto* have = peers_.find(p.id);
    if (!have || have->pub_key != p.pub_key) // new, or another key (key_mismatch, from the table)
        return std::nullopt;
    if (!r.is_signed())
        return Error{Errc::SignatureRequired,
                     "peer '" + p.id +
                         "' is registered here: a change to its record must be signed by its key "
                         "('ts' and 'sig', as GET /self answers)",
                     {}};
    auto held = have->signed_ts;
    if (newest_record_ts)
        held = std::max(held, newest_record_ts(p.id).value_or(0));
    if (r.ts < held)
        return Error{Errc::StaleTimestamp,
                     "the record of '" + p.id + "' is older (ts " + std::to_string(r.ts) +
                         ") than the one this worker holds (ts " + std::to_string(held) + ")",
                     {}};
    return std::nullopt;
}

// An instance's record (issue 17): its delegation must hold for the key pinned for the peer id
// (the first registration of the id binds the peer key, as for any record) before the instance
// is listed. Not replicated: instances are learned from beacons (and re-registered every refresh).
// Who may be bound here is decided as for any record (allowlist or open registration).
std::optional<Error> Signaling::register_instance(const SignedRecord& r) {
    const auto& p = r.peer;
    const auto& d = *r.delegation;
    auto now = clock_.unix_ms();
    if (d.instance == opt_.delegation.value_or(identity::Delegation{}).instance &&
        p.id == opt_.self)
        return Error{Errc::Self, "that instance is this worker", {}};
    auto pinned = peers_.key_of(p.id);
    if (!pinned) {
        if (p.id == opt_.self)
            return Error{Errc::Internal, "this worker's own id has no key", {}};
        auto q = p;
        q.registered_ms = q.updated_ms = now;
        if (auto err = peers_.add(q, false))
            return err;
        if (auto st = store_.upsert_peer(*peers_.find(p.id)); !st)
            F0_LOG_WARN(signaling_log(), "cannot store peer {}: {}", p.id, st.error().message);
        pinned = peers_.key_of(p.id);
    } else if (p.id != opt_.self && !peers_.is_allowed(p.id)) {
        return Error{Errc::NotAllowlisted, "peer '" + p.id + "' is not on the allowlist", {}};
    }
    if (auto refused =
            identity::verify_delegation(d, p.id, *pinned, now, opt_.window.count(), revoked_))
        return Error{Errc::BadDelegation,
                     "instance " + d.instance + " of " + p.id +
                         ": delegation refused: " + std::string(identity::to_string(*refused)),
                     {}};
    switch (instances_.upsert(r, now)) {
    case instances::InstanceTable::Upsert::Full:
        return Error{Errc::Busy,
                     "peer '" + p.id + "' has " + std::to_string(instances_.limits().per_peer) +
                         " live instances known here already",
                     {}};
    case instances::InstanceTable::Upsert::Stale:
        return Error{Errc::StaleTimestamp, "an instance record newer than this one is known", {}};
    case instances::InstanceTable::Upsert::New:
    case instances::InstanceTable::Upsert::Updated:
        F0_LOG_INFO(signaling_log(), "instance {} of {} at {}", d.instance, p.id, p.endpoint);
        if (notify_)
            notify_("instance", {{"id", p.id}, {"instance", d.instance}, {"endpoint", p.endpoint}});
        break;
    case instances::InstanceTable::Upsert::Same:
        break;
    }
    return std::nullopt;
}

std::optional<identity::PublicKey>
Signaling::instance_key(const std::string& peer, const identity::Delegation& d,
                        const identity::PublicKey& peer_key) const {
    if (identity::verify_delegation(d, peer, peer_key, clock_.unix_ms(), opt_.window.count(),
                                    revoked_))
        return std::nullopt;
    return d.instance_key;
}

Outcome Signaling::revoke(const identity::Revocation& r) {
    auto pinned = peers_.key_of(r.peer);
    if (!pinned)
        return Error{Errc::UnknownPeer, "peer '" + r.peer + "' is not registered here", {}};
    switch (revoked_.add(r, *pinned)) {
    case identity::RevocationSet::Added::BadSignature:
        return Error{Errc::BadSignature, "the revocation is not signed by its 'peerKey'", {}};
    case identity::RevocationSet::Added::WrongPeerKey:
        return Error{Errc::KeyMismatch,
                     "the revocation is signed by another key than the one bound to '" + r.peer +
                         "'",
                     {}};
    case identity::RevocationSet::Added::Full:
        return Error{Errc::Busy, "this worker holds revocations for too many peers", {}};
    case identity::RevocationSet::Added::Known:
        return nlohmann::json{{"revoked", r.instance}, {"new", false}};
    case identity::RevocationSet::Added::New:
        break;
    }
    F0_LOG_INFO(signaling_log(), "instance {} of {} revoked", r.instance, r.peer);
    instances_.revoke(r.peer, r.instance_key);
    // A link served by that instance key ends now (its envelopes would be refused from now on).
    if (const Link* l = links_.find(r.peer); l && l->instance == r.instance)
        links_.fail(r.peer, "instance " + r.instance + " was revoked by the peer's key");
    return nlohmann::json{{"revoked", r.instance}, {"new", true}};
}

bool Signaling::on_gossip(const gossip::GossipMessage& m) {
    if (m.topic != kRevocationTopic)
        return false;
    auto r = identity::Revocation::from_json(m.payload);
    if (!r) {
        ++counters_.rejected["bad_revocation"];
        return true;
    }
    auto out = revoke(r.value());
    if (auto* e = std::get_if<Error>(&out)) {
        ++counters_.rejected[std::string(code_of(e->code))];
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_INFO(signaling_log(), "revocation of {} of {} from {} refused: {} ({} so far)",
                        r.value().instance, r.value().peer, m.origin, e->detail, *n);
    }
    return true;
}

std::optional<std::string> Signaling::sibling_serving(const std::string& peer) const {
    if (!opt_.delegation)
        return std::nullopt;
    std::vector<std::string> names{opt_.delegation->instance};
    for (const auto* i : instances_.live(opt_.self, clock_.unix_ms()))
        names.push_back(i->name());
    auto pick = instances::place_link(opt_.self, peer, names);
    if (!pick || *pick == opt_.delegation->instance)
        return std::nullopt;
    return pick;
}

std::string Signaling::endpoint_of(const std::string& peer, std::string& instance) const {
    instance.clear();
    if (instances_.serves_by_instances(peer))
        if (const auto* i = instances_.placed(opt_.self, peer, clock_.unix_ms())) {
            instance = i->name();
            return i->endpoint();
        }
    const auto* rec = peers_.find(peer);
    return rec ? rec->endpoint : std::string();
}

bool Signaling::skip_instance(const std::string& peer, const std::string& instance,
                              const std::string& why) {
    instances_.mark_down(peer, instance, clock_.unix_ms());
    if (!instances_.placed(opt_.self, peer, clock_.unix_ms()))
        return false;
    ++counters_.instance_failovers;
    F0_LOG_INFO(signaling_log(),
                "instance {} of {} is unreachable ({}): on to the next placement names", instance,
                peer, why);
    return true;
}

void Signaling::rebalance() {
    auto now = clock_.unix_ms();
    std::vector<std::pair<std::string, std::string>> moves;
    for (const auto& [peer, link] : links_.all()) {
        if (link.role != "dialer" || link.state != LinkState::Open || link.instance.empty())
            continue;
        const auto* placed = instances_.placed(opt_.self, peer, now);
        if (placed && placed->name() != link.instance)
            moves.emplace_back(peer, placed->name());
    }
    for (const auto& [peer, to] : moves) {
        ++counters_.instance_moves;
        links_.fail(peer, "moving to instance " + to + ", which placement names now");
        dial(peer, [](Outcome) {});
    }
}

void Signaling::start_beacon(std::function<nlohmann::json()> self_record) {
    self_record_ = std::move(self_record);
    if (!opt_.beacon.empty())
        beacon_timer_ = clock_.after(std::chrono::milliseconds(0), [this] { beacon_tick(); });
}

// An entry of a beacon's peer list: its "record", the peer's own signed record as the beacon's
// registry holds it, when there is one that verifies and names the entry's id and key (only then
// may it change a peer known here); otherwise the entry as an unsigned record (a new id only).
// A record that changes nothing here (most refreshes) needs no signature checked: registered
// unsigned, it is the no-op it would be signed.
SignedRecord Signaling::learned_record(const nlohmann::json& entry, store::PeerRecord p) const {
    if (auto it = entry.find("record"); it != entry.end() && it->is_object()) {
        auto fields = peer_record_from_json(*it);
        if (auto* same = std::get_if<store::PeerRecord>(&fields);
            same && same->id == p.id && holds_same(*same))
            return SignedRecord{std::move(*same), 0, {}, std::nullopt};
        auto rec = signed_record_from_json(*it);
        if (auto* r = std::get_if<SignedRecord>(&rec); r && r->is_signed() && !r->delegation &&
                                                       r->peer.id == p.id &&
                                                       r->peer.pub_key == p.pub_key)
            return std::move(*r);
    }
    return SignedRecord{std::move(p), 0, {}, std::nullopt};
}

// The beacon's peer list (outside bytes: each entry is checked as any record).
void Signaling::learn_from_beacon(const nlohmann::json& list) {
    if (!list.is_array())
        return;
    for (const auto& j : list) {
        auto rec = peer_record_from_json(j);
        auto* p = std::get_if<store::PeerRecord>(&rec);
        // Our own id: only its other instances, when this worker is one.
        if (!p || (p->id == opt_.self && !opt_.delegation))
            continue;
        if (j.value("self", nlohmann::json()) == true)
            beacon_seen(p->id, p->pub_key);
        bool known = peers_.find(p->id) != nullptr;
        auto inst = j.find("instances");
        bool by_instances = inst != j.end() && inst->is_array() && !inst->empty();
        if (!by_instances && p->id != opt_.self &&
            ok(register_peer(learned_record(j, *p), /*learned=*/true)) && !known)
            F0_LOG_INFO(signaling_log(), "learned peer {} from the beacon", p->id);
        if (!by_instances)
            continue;
        // A peer served by instances: each entry is an instance's own signed record
        // (the beacon cannot forge one); at most the table's bound per peer is read.
        std::size_t n = 0;
        for (const auto& e : *inst) {
            if (++n > instances_.limits().per_peer)
                break;
            auto rec = signed_record_from_json(e);
            auto* r = std::get_if<SignedRecord>(&rec);
            if (!r || !r->delegation || r->peer.id != p->id)
                continue;
            (void)register_peer(*r, /*learned=*/true);
        }
    }
    rebalance();
}

// An instance whose delegation has run out is refused by every peer: it says so (once an hour
// through its last day ahead of time, then when it ends) and stops registering, so that the
// beacons forget it and dialers go to its siblings.
bool Signaling::delegation_usable() {
    if (!opt_.delegation)
        return true;
    const auto& d = *opt_.delegation;
    auto now = clock_.unix_ms();
    constexpr std::int64_t kHourMs = 3'600'000;
    bool usable = d.valid_at(now, 0);
    if (usable && d.not_after_ms - now < 24 * kHourMs && now - delegation_warned_ms_ >= kHourMs) {
        delegation_warned_ms_ = now;
        F0_LOG_WARN(signaling_log(),
                    "this instance's delegation ({} of {}) expires in {} s: issue a new one "
                    "(f0mesh delegate) and restart with it",
                    d.instance, d.peer, (d.not_after_ms - now) / 1000);
    }
    if (!usable && !delegation_ended_told_)
        F0_LOG_ERROR(signaling_log(),
                     "this instance's delegation ({} of {}) is not valid now (valid {} .. {} ms): "
                     "every peer refuses it; it no longer registers at its beacon. Issue a new one "
                     "(f0mesh delegate) and restart with it",
                     d.instance, d.peer, d.not_before_ms, d.not_after_ms);
    delegation_ended_told_ = !usable;
    return usable;
}

void Signaling::beacon_tick() {
    auto base = opt_.beacon;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    if (delegation_usable())
        client_.register_at(base, self_record_(), [](std::optional<std::string> error) {
            if (error)
                F0_LOG_WARN(signaling_log(), "beacon registration failed: {}", *error);
        });
    client_.peers_of(
        base, [this, alive = std::weak_ptr<bool>(alive_)](std::optional<nlohmann::json> list) {
            if (alive.lock() && list)
                learn_from_beacon(*list);
        });
    beacon_timer_ = clock_.after(opt_.beacon_refresh, [this] { beacon_tick(); });
}

void Signaling::start_watchdog() {
    if (opt_.restart_after_silence.count() > 0)
        watchdog_timer_ = clock_.after(std::chrono::milliseconds(250), [this] { watchdog_tick(); });
}

// Every open link we dialled: data must keep arriving (QoS probes alone bring some several times
// a second, or every --qos-idle-probe-interval on a calm link: then the longer bound applies until
// an overdue echo has made the link probe fast again, and a second more for those probes' echoes).
// When none has for restart_after_silence, its path is taken as broken (the peer's or our NAT lost
// its mapping, an address changed) and the link gets an ICE restart; after two restarts without
// data it fails, and the redial policy takes over.
void Signaling::watchdog_tick() {
    auto now = clock_.unix_ms();
    for (const auto& peer : links_.open_peers()) {
        Link* link = links_.find(peer);
        // Only an f0mesh peer (datagrams negotiated) is expected to send something every probe
        // interval and can take a restart: a browser or another stack may stay quiet for long
        // (one that echoes everything even answers our probes, and still cannot restart).
        if (!link || !link->pc || link->role != "dialer" || !link->pc->datagrams())
            continue;
        auto rx = link->pc->wire_bytes().second;
        if (rx != link->rx_seen || link->rx_moved_ms == 0) {
            link->rx_seen = rx;
            link->rx_moved_ms = now;
            link->restarts_without_data = 0;
            continue;
        }
        auto silence = link->qos_calm
                           ? std::max(opt_.restart_after_silence_calm, opt_.restart_after_silence)
                           : opt_.restart_after_silence;
        if (link->restarting || now - link->rx_moved_ms < silence.count() ||
            now < link->qos_grace_until_ms)
            continue;
        if (link->restarts_without_data >= 2) {
            links_.fail(peer, "nothing received, and two ICE restarts " +
                                  std::to_string(opt_.restart_after_silence.count()) +
                                  " ms apart did not bring data back");
            continue;
        }
        link->rx_moved_ms = now; // the next restart, if any, after another silent spell
        restart(peer);
    }
    watchdog_timer_ = clock_.after(std::chrono::milliseconds(250), [this] { watchdog_tick(); });
}

void Signaling::restart(const std::string& peer) {
    Link* link = links_.find(peer);
    const auto* record = peers_.find(peer);
    if (!link || !record)
        return;
    auto offer = link->pc->restart_ice();
    if (!offer)
        return links_.fail(peer, "the path went silent and an ICE restart could not start: " +
                                     offer.error().message);
    F0_LOG_INFO(signaling_log(), "link to {}: nothing received for {} ms; ICE restart", peer,
                opt_.restart_after_silence.count());
    link->restarting = true;
    ++link->restarts_without_data;
    ++counters_.ice_restarts_sent;
    // The restart gathers our candidates again (an address change makes the old ones useless);
    // the re-offer carries them all, as every description here does.
    auto gen = link->generation;
    links_.when_gathered(peer, gen, [this, peer, gen] {
        Link* l = links_.current(peer, gen);
        const auto* rec = peers_.find(peer);
        if (!l || !rec)
            return;
        auto env = make_envelope(peer, "restart", l->pc->local_description());
        // The instance serving the link, not the placement's current pick: it is its ICE.
        auto endpoint = rec->endpoint;
        if (!l->instance.empty()) {
            const auto* i = instances_.find(peer, l->instance);
            if (!i)
                return links_.fail(peer, "instance " + l->instance + " of " + peer + " is gone");
            endpoint = i->endpoint();
        }
        client_.offer(endpoint, env.to_json(),
                      [this, alive = std::weak_ptr<bool>(alive_), peer, gen](OfferReply r) {
                          if (alive.lock())
                              on_restart_reply(peer, gen, r);
                      });
    });
}

void Signaling::on_restart_reply(const std::string& peer, std::uint64_t gen, const OfferReply& r) {
    Link* link = links_.current(peer, gen);
    if (!link)
        return;
    link->restarting = false;
    if (r.kind == OfferReply::Kind::Unreachable) {
        auto instance = link->instance;
        bool desired = link->desired;
        links_.fail(peer, "nothing received for " +
                              std::to_string(opt_.restart_after_silence.count()) +
                              " ms, and the peer did not answer the ICE restart: " + r.detail);
        // Its ICE cannot move to another instance: a new link there, now rather than after the
        // backoff.
        if (!instance.empty() && skip_instance(peer, instance, r.detail) && desired)
            dial(peer, [](Outcome) {});
        return;
    }
    if (r.kind != OfferReply::Kind::Answer)
        return links_.fail(peer, "the peer refused the ICE restart: " +
                                     (r.code.empty() ? r.detail : r.code + ": " + r.detail));
    auto env = identity::Envelope::from_json(r.answer);
    if (!env || env.value().peer_from != peer)
        return links_.fail(peer, "ICE restart: the peer's answer is malformed");
    if (auto bad = check_envelope(env.value(), "answer"))
        return links_.fail(peer, "ICE restart: the peer's answer was refused: " + bad->detail);
    if (auto st = link->pc->set_remote_description(env.value().sdp, rtc::sdp::Type::Answer); !st)
        return links_.fail(peer,
                           "ICE restart: the peer's answer is unusable: " + st.error().message);
    ++counters_.ice_restarts_done;
    ++link->ice_restarts;
    F0_LOG_INFO(signaling_log(), "link to {}: ICE restart answered", peer);
    links_.changed(*link);
}

// A peer's ICE restart of the link it dialled to us: the same connection, new ICE credentials.
void Signaling::accept_restart(const identity::Envelope& e, OutcomeCallback done) {
    Link* link = links_.find(e.peer_from);
    if (!link || link->state != LinkState::Open || !link->pc)
        return done(Error{Errc::NoLink,
                          "there is no open link to '" + e.peer_from + "' to restart; dial anew",
                          {}});
    if (auto st = link->pc->set_remote_description(e.sdp, rtc::sdp::Type::Offer); !st) {
        ++counters_.rejected["bad_sdp"];
        return done(
            Error{Errc::BadSdp, "not an ICE restart of this link: " + st.error().message, {}});
    }
    ++counters_.ice_restarts_accepted;
    ++link->ice_restarts;
    F0_LOG_INFO(signaling_log(), "link to {}: the peer restarted ICE", e.peer_from);
    links_.changed(*link);
    // Our candidates are gathered again too; the answer carries them.
    auto peer = e.peer_from;
    auto gen = link->generation;
    links_.when_gathered(peer, gen, [this, peer, gen, done] {
        Link* l = links_.current(peer, gen);
        if (!l)
            return done(Error{Errc::Superseded, "the link was replaced during the restart", {}});
        auto answer = l->pc->create_answer();
        if (!answer)
            return done(Error{Errc::Internal, answer.error().message, {}});
        done(make_envelope(peer, "answer", answer.value()).to_json());
    });
}

void Signaling::stop() {
    beacon_timer_.cancel();
    watchdog_timer_.cancel();
    alive_.reset(); // replies still in flight find nothing
}

} // namespace f0::mesh

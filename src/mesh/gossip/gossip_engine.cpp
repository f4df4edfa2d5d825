// GossipEngine: push with a trust-weighted fan-out, digest pull, rate limits, checks.
#include "mesh/gossip/gossip_engine.hpp"

#include "mesh/gossip/weighted_fanout.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace f0::mesh::gossip {

namespace {
bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}
void add_holder(std::vector<std::string>& holders, const std::string& peer) {
    if (!contains(holders, peer))
        holders.push_back(peer);
}
} // namespace

const char* to_string(GossipEngine::Verdict v) {
    switch (v) {
    case GossipEngine::Verdict::Delivered:
        return "delivered";
    case GossipEngine::Verdict::Duplicate:
        return "duplicate";
    case GossipEngine::Verdict::Control:
        return "control";
    case GossipEngine::Verdict::Forged:
        return "forged";
    case GossipEngine::Verdict::Invalid:
        return "invalid";
    case GossipEngine::Verdict::Replayed:
        return "replayed";
    case GossipEngine::Verdict::UnknownOrigin:
        return "unknown_origin";
    case GossipEngine::Verdict::RateLimited:
        return "rate_limited";
    case GossipEngine::Verdict::Graylisted:
        return "graylisted";
    }
    return "unknown";
}

GossipEngine::GossipEngine(std::string self, const identity::Identity& signer, GossipParams params,
                           TrustBook& trust, Hooks hooks, std::uint64_t seed)
    : self_(std::move(self)), signer_(signer), params_(params), trust_(trust),
      hooks_(std::move(hooks)), rng_(seed) {
    limits_.max_payload_bytes = params_.max_payload_bytes;
    limits_.max_hops = params_.max_hops;
    limits_.max_ids = std::max<std::size_t>(params_.digest_max_ids, 1);
}

const GossipMessage* GossipEngine::find(const std::string& id) const {
    auto it = cache_.find(id);
    return it == cache_.end() ? nullptr : &it->second.msg;
}

Result<GossipMessage> GossipEngine::publish(const std::string& topic, nlohmann::json payload,
                                            std::int64_t now_ms) {
    if (!valid_topic(topic))
        return make_error("topic must be 1-64 characters of [A-Za-z0-9._:/-]");
    std::size_t bytes = 0;
    try {
        bytes = payload.is_discarded() ? 0 : payload.dump().size();
    } catch (const nlohmann::json::exception&) {
        return make_error("payload must be valid JSON (strings in UTF-8)");
    }
    if (payload.is_discarded() || bytes > params_.max_payload_bytes)
        return make_error("payload must be JSON of at most " +
                          std::to_string(params_.max_payload_bytes) + " bytes");
    auto m =
        GossipMessage::make(signer_, self_, topic, std::move(payload), now_ms, ++seq_, delegation_);
    ++counters_.published;
    Entry& e = remember(m, now_ms);
    if (hooks_.deliver)
        hooks_.deliver(e.msg, self_);
    std::size_t k = params_.fanout;
    if (params_.flood_publish && hooks_.candidates) {
        std::size_t linked = 0;
        for (const auto& c : hooks_.candidates())
            linked += c.linked && c.id != self_;
        k = std::max(k, linked);
    }
    forward(e, k, now_ms);
    return e.msg;
}

bool GossipEngine::admit(const std::string& from, std::int64_t now_ms) {
    double t = trust_.trust(from, now_ms);
    double rate = params_.rate_min + (params_.rate_max - params_.rate_min) * t;
    double burst = std::max(1.0, rate * params_.burst_s);
    auto [it, fresh] = buckets_.try_emplace(from, Bucket{burst, now_ms});
    Bucket& b = it->second;
    if (!fresh) {
        b.tokens = std::min(burst, b.tokens + (now_ms - b.last_ms) / 1000.0 * rate);
        b.last_ms = now_ms;
    }
    if (b.tokens < 1)
        return false;
    b.tokens -= 1;
    return true;
}

void GossipEngine::offence(const std::string& from, Offence o, std::int64_t now_ms) {
    trust_.on_offence(from, o, now_ms);
}

GossipEngine::Verdict GossipEngine::on_frame(const std::string& from, std::string_view frame,
                                             std::int64_t now_ms) {
    ++counters_.frames_received;
    if (trust_.trust(from, now_ms) < trust_.params().exclude_below) {
        ++counters_.graylisted;
        return Verdict::Graylisted;
    }
    if (!admit(from, now_ms)) {
        ++counters_.rate_limited;
        offence(from, Offence::RateLimited, now_ms);
        return Verdict::RateLimited;
    }
    auto parsed = parse_frame(frame, limits_);
    if (!parsed) {
        ++counters_.invalid;
        offence(from, Offence::Invalid, now_ms);
        return Verdict::Invalid;
    }
    Frame& f = parsed.value();
    if (f.type == Frame::Type::Msg)
        return on_msg(from, std::move(f.msg), now_ms);
    if (f.type == Frame::Type::IHave) {
        std::vector<std::string> want;
        for (const auto& id : f.ids) {
            auto it = cache_.find(id);
            if (it != cache_.end())
                add_holder(it->second.holders, from);
            else if (!seen_.count(id))
                want.push_back(id);
        }
        if (!want.empty()) {
            ++counters_.iwant_sent;
            send(from, ids_frame(Frame::Type::IWant, want), false);
        }
        return Verdict::Control;
    }
    for (const auto& id : f.ids) { // iwant
        auto it = cache_.find(id);
        if (it == cache_.end() || contains(it->second.holders, from) ||
            !may_send(from, it->second.msg.topic))
            continue;
        GossipMessage out = it->second.msg;
        out.hops = std::min(out.hops + 1, params_.max_hops);
        ++counters_.served;
        if (send(from, out.to_json().dump(), true, route_of(out.topic)) != Via::Failed)
            add_holder(it->second.sent, from);
    }
    return Verdict::Control;
}

GossipEngine::Verdict GossipEngine::on_msg(const std::string& from, GossipMessage m,
                                           std::int64_t now_ms) {
    if (m.compute_id() != m.id) {
        ++counters_.invalid;
        offence(from, Offence::Invalid, now_ms);
        return Verdict::Invalid;
    }
    if (auto it = cache_.find(m.id); it != cache_.end()) {
        on_duplicate(&it->second, from, now_ms);
        return Verdict::Duplicate;
    }
    if (seen_.count(m.id) || m.origin == self_) {
        on_duplicate(nullptr, from, now_ms);
        return Verdict::Duplicate;
    }
    if (now_ms - m.ts_ms > params_.max_age_ms) {
        ++counters_.replayed;
        return Verdict::Replayed;
    }
    if (m.ts_ms - now_ms > params_.max_skew_ms) {
        ++counters_.invalid;
        offence(from, Offence::Invalid, now_ms);
        return Verdict::Invalid;
    }
    auto key = hooks_.key_of ? hooks_.key_of(m.origin) : std::nullopt;
    if (!key) {
        ++counters_.unknown_origin;
        return Verdict::UnknownOrigin;
    }
    if (m.delegation) {
        auto instance = hooks_.instance_key ? hooks_.instance_key(m, *key) : std::nullopt;
        key = instance ? instance : std::nullopt;
    }
    if (!key || !(hooks_.verify ? hooks_.verify(m, *key) : m.verify(*key))) {
        ++counters_.forged;
        offence(from, Offence::BadSignature, now_ms);
        return Verdict::Forged;
    }
    Entry& e = remember(std::move(m), now_ms);
    add_holder(e.holders, from);
    ++counters_.delivered;
    if (hooks_.deliver)
        hooks_.deliver(e.msg, from);
    if (e.msg.hops >= params_.max_hops)
        ++counters_.hop_limited;
    else
        forward(e, params_.fanout, now_ms);
    return Verdict::Delivered;
}

void GossipEngine::on_duplicate(Entry* e, const std::string& from, std::int64_t now_ms) {
    ++counters_.duplicates;
    if (!e)
        return;
    add_holder(e->holders, from);
    for (auto& [peer, n] : e->dup)
        if (peer == from) {
            if (++n > params_.dup_flood_threshold) {
                ++counters_.duplicate_floods;
                offence(from, Offence::DuplicateFlood, now_ms);
            }
            return;
        }
    e->dup.emplace_back(from, 1);
}

GossipEngine::Entry& GossipEngine::remember(GossipMessage m, std::int64_t now_ms) {
    auto id = m.id;
    seen_[id] = m.ts_ms + params_.max_age_ms + params_.max_skew_ms;
    seen_order_.emplace_back(seen_[id], id);
    cache_order_.push_back(id);
    Entry& e = cache_[id];
    e.msg = std::move(m);
    e.received_ms = now_ms;
    if (cache_.size() > params_.cache_max)
        prune(now_ms);
    return e;
}

void GossipEngine::prune(std::int64_t now_ms) {
    while (!cache_order_.empty()) {
        auto it = cache_.find(cache_order_.front());
        bool expired = it == cache_.end() || now_ms - it->second.received_ms > params_.cache_ttl_ms;
        if (!expired && cache_.size() <= params_.cache_max)
            break;
        if (it != cache_.end())
            cache_.erase(it);
        cache_order_.pop_front();
    }
    // seen_order_ is in insertion order, not expiry order; a late entry only delays the others.
    while (!seen_order_.empty() && seen_order_.front().first < now_ms) {
        auto it = seen_.find(seen_order_.front().second);
        if (it != seen_.end() && it->second < now_ms && !cache_.count(it->first))
            seen_.erase(it);
        seen_order_.pop_front();
    }
}

std::vector<std::string>
GossipEngine::choose(std::size_t k, const std::vector<std::string>& skip, bool linked_only,
                     std::int64_t now_ms, std::vector<std::pair<std::string, double>>* weights) {
    auto all = hooks_.candidates ? hooks_.candidates() : std::vector<Candidate>{};
    std::vector<std::string> linked, other;
    for (auto& c : all) {
        if (c.id == self_ || contains(skip, c.id))
            continue;
        (c.linked ? linked : other).push_back(std::move(c.id));
    }
    // HTTPS only when the links cannot fill the fan-out.
    std::vector<std::string> pool = std::move(linked);
    std::size_t from_links = pool.size();
    if (!linked_only && from_links < k)
        pool.insert(pool.end(), other.begin(), other.end());
    std::vector<double> w(pool.size());
    for (std::size_t i = 0; i < pool.size(); ++i)
        w[i] = trust_.params().weight(trust_.trust(pool[i], now_ms));
    if (weights) {
        double sum = 0;
        for (double x : w)
            sum += x;
        for (std::size_t i = 0; i < pool.size(); ++i)
            weights->emplace_back(pool[i], sum > 0 ? w[i] / sum : 0);
    }
    std::vector<std::string> chosen;
    if (from_links >= k || linked_only) {
        std::span<const double> lw(w.data(), from_links);
        for (auto i : weighted_sample(lw, k, rng_))
            chosen.push_back(pool[i]);
        return chosen;
    }
    // Every linked peer (that is not excluded), then weighted among the fallback ones.
    for (std::size_t i = 0; i < from_links; ++i)
        if (w[i] > 0)
            chosen.push_back(pool[i]);
    std::span<const double> ow(w.data() + from_links, w.size() - from_links);
    for (auto i : weighted_sample(ow, k - chosen.size(), rng_))
        chosen.push_back(pool[from_links + i]);
    return chosen;
}

void GossipEngine::forward(Entry& e, std::size_t k, std::int64_t now_ms) {
    std::vector<std::string> skip = e.holders;
    skip.insert(skip.end(), e.sent.begin(), e.sent.end());
    skip.push_back(e.msg.origin);
    auto targets = choose(k, skip, links_only(e.msg.topic), now_ms);
    GossipMessage out = e.msg;
    out.hops = e.msg.hops + 1;
    auto frame = out.to_json().dump();
    for (const auto& peer : targets)
        if (send(peer, frame, true, route_of(out.topic)) != Via::Failed)
            add_holder(e.sent, peer);
}

bool GossipEngine::links_only(const std::string& topic) const {
    return !params_.links_only_prefix.empty() && topic.starts_with(params_.links_only_prefix);
}

bool GossipEngine::may_send(const std::string& peer, const std::string& topic) const {
    return !links_only(topic) || !hooks_.linked || hooks_.linked(peer);
}

Route GossipEngine::route_of(const std::string& topic) const {
    return links_only(topic) ? Route::LinkOnly : Route::Any;
}

Via GossipEngine::send(const std::string& peer, const std::string& frame, bool is_msg,
                       Route route) {
    Via via = hooks_.send ? hooks_.send(peer, frame, route) : Via::Failed;
    if (via == Via::Failed)
        ++counters_.send_failed;
    else if (is_msg)
        ++(via == Via::Link ? counters_.sent_link : counters_.sent_https);
    return via;
}

std::vector<std::string> GossipEngine::digest_for(const std::string& peer, std::int64_t now_ms,
                                                  std::int64_t window_ms, bool include_sent) const {
    std::vector<std::string> ids;
    for (auto it = cache_order_.rbegin();
         it != cache_order_.rend() && ids.size() < params_.digest_max_ids; ++it) {
        auto e = cache_.find(*it);
        if (e == cache_.end())
            continue;
        if (now_ms - e->second.received_ms > window_ms)
            break;
        const Entry& x = e->second;
        if (contains(x.holders, peer) || x.msg.origin == peer ||
            (!include_sent && contains(x.sent, peer)))
            continue;
        ids.push_back(*it);
    }
    return ids;
}

void GossipEngine::heartbeat(std::int64_t now_ms) {
    prune(now_ms);
    // Every linked peer that may be chosen (graylisted ones are not), the longest undigested
    // first; those with nothing to be told do not use up the fan-out.
    auto peers = choose(std::numeric_limits<std::size_t>::max(), {}, true, now_ms);
    std::unordered_map<std::string, std::int64_t> kept;
    for (const auto& p : peers)
        if (auto it = digested_ms_.find(p); it != digested_ms_.end())
            kept.emplace(p, it->second);
    digested_ms_ = std::move(kept); // peers gone are forgotten: the map stays the links' size
    std::stable_sort(peers.begin(), peers.end(), [&](const std::string& a, const std::string& b) {
        auto x = digested_ms_.find(a), y = digested_ms_.find(b);
        return (x == digested_ms_.end() ? 0 : x->second) <
               (y == digested_ms_.end() ? 0 : y->second);
    });
    std::size_t sent = 0;
    for (const auto& peer : peers) {
        if (sent >= params_.fanout)
            break;
        auto last = digested_ms_.find(peer);
        auto window = std::clamp<std::int64_t>(
            last == digested_ms_.end() ? params_.heartbeat_window_max_ms : now_ms - last->second,
            params_.heartbeat_window_ms, params_.heartbeat_window_max_ms);
        digested_ms_[peer] = now_ms;
        auto ids = digest_for(peer, now_ms, window, false);
        if (ids.empty())
            continue;
        ++sent;
        ++counters_.ihave_sent;
        send(peer, ids_frame(Frame::Type::IHave, ids), false);
    }
}

void GossipEngine::on_link_open(const std::string& peer, std::int64_t now_ms) {
    auto ids = digest_for(peer, now_ms, params_.digest_window_ms, true);
    if (ids.empty())
        return;
    ++counters_.ihave_sent;
    send(peer, ids_frame(Frame::Type::IHave, ids), false);
}

GossipEngine::PushReport GossipEngine::push(std::int64_t now_ms) {
    ++counters_.pushes;
    prune(now_ms);
    std::vector<std::pair<std::string, double>> weights;
    auto chosen = choose(params_.fanout, {}, false, now_ms, &weights);
    PushReport r{weights.size(), chosen.size(), 0};
    if (hooks_.log) {
        std::string line = "[gossipPush] Weighted peers: ";
        char buf[32];
        for (std::size_t i = 0; i < weights.size(); ++i) {
            std::snprintf(buf, sizeof buf, "%.3f", weights[i].second);
            line += (i ? ", " : "") + weights[i].first + ":" + buf;
        }
        hooks_.log(line);
        hooks_.log("[gossipPush] Selected " + std::to_string(r.selected) + "/" +
                   std::to_string(r.candidates) + " peers");
    }
    for (const auto& peer : chosen) {
        bool ok = true;
        std::size_t sent = 0;
        for (const auto& id : digest_for(peer, now_ms, params_.digest_window_ms, true)) {
            auto& e = cache_.at(id);
            if (contains(e.sent, peer) || !may_send(peer, e.msg.topic))
                continue;
            if (sent++ >= params_.push_max_messages)
                break;
            GossipMessage out = e.msg;
            out.hops = std::min(out.hops + 1, params_.max_hops);
            if (send(peer, out.to_json().dump(), true, route_of(out.topic)) == Via::Failed)
                ok = false;
            else
                add_holder(e.sent, peer);
        }
        if (sent == 0) // nothing new for it: a digest still tells it what we hold
            ok = send(peer, ids_frame(Frame::Type::IHave, {}), false) != Via::Failed;
        r.succeeded += ok;
    }
    if (hooks_.log)
        hooks_.log("[gossipPush] Complete: " + std::to_string(r.succeeded) + "/" +
                   std::to_string(r.selected) + " succeeded");
    return r;
}

} // namespace f0::mesh::gossip

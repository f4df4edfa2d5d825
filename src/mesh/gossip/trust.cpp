// TrustBook: see trust.hpp for the formula.
#include "mesh/gossip/trust.hpp"

#include <algorithm>

namespace f0::mesh::gossip {

namespace {
double clamp01(double v) {
    return std::clamp(v, 0.0, 1.0);
}
} // namespace

const char* to_string(Offence o) {
    switch (o) {
    case Offence::BadSignature:
        return "bad_signature";
    case Offence::Invalid:
        return "invalid";
    case Offence::DuplicateFlood:
        return "duplicate_flood";
    case Offence::RateLimited:
        return "rate_limited";
    }
    return "unknown";
}

double TrustParams::weight(double trust) const {
    if (trust < exclude_below)
        return 0;
    if (high <= low)
        return trust >= high ? 2 : 1;
    return 1 + clamp01((trust - low) / (high - low));
}

void TrustBook::on_qos(const std::string& peer, double rtt_ms, double loss_pct) {
    double span = std::max(1e-9, p_.rtt_bad_ms - p_.rtt_good_ms);
    double rtt = clamp01(1 - (rtt_ms - p_.rtt_good_ms) / span);
    double loss = clamp01(1 - loss_pct / std::max(1e-9, p_.loss_bad_pct));
    peers_[peer].qos = (rtt + loss) / 2;
}

void TrustBook::on_link_up(const std::string& peer, std::int64_t now_ms) {
    auto& e = peers_[peer];
    if (!e.up_since_ms)
        e.up_since_ms = now_ms;
}

void TrustBook::on_link_down(const std::string& peer) {
    auto it = peers_.find(peer);
    if (it != peers_.end())
        it->second.up_since_ms.reset();
}

void TrustBook::on_offence(const std::string& peer, Offence o, std::int64_t now_ms) {
    auto& e = peers_[peer];
    double penalty = 0;
    switch (o) {
    case Offence::BadSignature:
        penalty = p_.penalty_bad_signature;
        break;
    case Offence::Invalid:
        penalty = p_.penalty_invalid;
        break;
    case Offence::DuplicateFlood:
        penalty = p_.penalty_duplicate_flood;
        break;
    case Offence::RateLimited:
        penalty = p_.penalty_rate_limited;
        break;
    }
    e.behaviour = std::max(0.0, behaviour_at(e, now_ms) - penalty);
    e.behaviour_ms = now_ms;
    ++e.offences[to_string(o)];
}

double TrustBook::behaviour_at(const Entry& e, std::int64_t now_ms) const {
    double minutes = std::max<std::int64_t>(0, now_ms - e.behaviour_ms) / 60000.0;
    return std::min(1.0, e.behaviour + minutes * p_.recovery_per_min);
}

double TrustBook::uptime_of(const Entry& e, std::int64_t now_ms) const {
    if (!e.up_since_ms || p_.uptime_full_s <= 0)
        return 0;
    return clamp01((now_ms - *e.up_since_ms) / 1000.0 / p_.uptime_full_s);
}

double TrustBook::behaviour(const std::string& peer, std::int64_t now_ms) const {
    auto it = peers_.find(peer);
    return it == peers_.end() ? 1.0 : behaviour_at(it->second, now_ms);
}

double TrustBook::trust(const std::string& peer, std::int64_t now_ms) const {
    auto it = peers_.find(peer);
    Entry fresh;
    const Entry& e = it == peers_.end() ? fresh : it->second;
    double b = it == peers_.end() ? 1.0 : behaviour_at(e, now_ms);
    double score = p_.base + p_.w_qos * qos_of(e) + p_.w_uptime * uptime_of(e, now_ms);
    return clamp01(b * score);
}

nlohmann::json TrustBook::to_json(const std::string& peer, std::int64_t now_ms) const {
    auto it = peers_.find(peer);
    Entry fresh;
    const Entry& e = it == peers_.end() ? fresh : it->second;
    nlohmann::json offences = nlohmann::json::object();
    for (const auto& [k, v] : e.offences)
        offences[k] = v;
    return {{"trust", trust(peer, now_ms)},
            {"qos", e.qos ? nlohmann::json(*e.qos) : nlohmann::json()},
            {"uptime", uptime_of(e, now_ms)},
            {"behaviour", behaviour(peer, now_ms)},
            {"weight", p_.weight(trust(peer, now_ms))},
            {"offences", offences}};
}

} // namespace f0::mesh::gossip

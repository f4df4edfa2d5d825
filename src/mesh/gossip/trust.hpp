// TrustScore per peer in [0,1], from measured QoS (RTT, loss), uptime of the link, and behaviour
// (bad signatures, invalid messages, duplicate floods and rate-limit violations lower it; it
// recovers slowly). Pure: time is passed in.
//
//   trust = behaviour * (base + w_qos * qos + w_uptime * uptime)        (base + w_qos + w_uptime =
//   1) qos    = mean of an RTT score (1 at rtt_good, 0 at rtt_bad) and a loss score (1 at 0 %,
//            0 at loss_bad); 0.5 before the first sample
//   uptime = continuous open time of the link / uptime_full, at most 1
//   behaviour starts at 1, drops by a penalty per offence, climbs back recovery_per_min per minute
//
// A new, well-behaved peer thus starts at 0.5; an hour of a good link brings it to 1.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace f0::mesh::gossip {

enum class Offence { BadSignature, Invalid, DuplicateFlood, RateLimited };
const char* to_string(Offence o);

struct TrustParams {
    double base = 0.3, w_qos = 0.4, w_uptime = 0.3;
    double rtt_good_ms = 50, rtt_bad_ms = 500; // RTT score 1 at or below good, 0 at or above bad
    double loss_bad_pct = 10;                  // loss score 0 at or above this
    double uptime_full_s = 3600;               // continuous uptime that counts fully
    double penalty_bad_signature = 0.25;
    double penalty_invalid = 0.1;
    double penalty_duplicate_flood = 0.05;
    double penalty_rate_limited = 0.02; // per frame dropped by the rate limiter
    double recovery_per_min = 0.01;     // behaviour climbs back toward 1 this much per minute
    // Fan-out weights: trust <= low weighs 1, >= high weighs 2, linear between; below exclude the
    // peer is not chosen at all (and gets the floor rate).
    double low = 0.3, high = 0.7, exclude_below = 0.1;

    double weight(double trust) const;
};

class TrustBook {
public:
    explicit TrustBook(TrustParams p = {}) : p_(p) {}

    void on_qos(const std::string& peer, double rtt_ms, double loss_pct);
    void on_link_up(const std::string& peer, std::int64_t now_ms);
    void on_link_down(const std::string& peer);
    void on_offence(const std::string& peer, Offence o, std::int64_t now_ms);

    double trust(const std::string& peer, std::int64_t now_ms) const;
    double behaviour(const std::string& peer, std::int64_t now_ms) const;
    // {trust, qos, uptime, behaviour, offences}: what /peers shows.
    nlohmann::json to_json(const std::string& peer, std::int64_t now_ms) const;
    const TrustParams& params() const { return p_; }

private:
    struct Entry {
        std::optional<double> qos;
        std::optional<std::int64_t> up_since_ms;
        double behaviour = 1;
        std::int64_t behaviour_ms = 0; // when behaviour was last changed
        std::map<std::string, std::uint64_t> offences;
    };
    double behaviour_at(const Entry& e, std::int64_t now_ms) const;
    double qos_of(const Entry& e) const { return e.qos.value_or(0.5); }
    double uptime_of(const Entry& e, std::int64_t now_ms) const;

    TrustParams p_;
    std::map<std::string, Entry> peers_;
};

} // namespace f0::mesh::gossip

// A link's health grade from its RTT and loss, for the dashboard's colours. Thresholds come from
// the worker's config (defaults below).
#pragma once

#include <optional>
#include <string_view>

namespace f0::qos {

struct HealthThresholds {
    double good_rtt_ms = 150;     // good: RTT below this...
    double good_loss_pct = 1;     // ...and loss below this
    double degraded_rtt_ms = 400; // degraded: RTT below this and loss below the next; else bad
    double degraded_loss_pct = 5;
};

enum class Health { Good, Degraded, Bad, Unknown };

inline Health grade(std::optional<double> rtt_ms, double loss_pct, const HealthThresholds& t = {}) {
    if (!rtt_ms)
        return loss_pct >= 100 ? Health::Bad : Health::Unknown; // no echo came back
    if (*rtt_ms < t.good_rtt_ms && loss_pct < t.good_loss_pct)
        return Health::Good;
    if (*rtt_ms < t.degraded_rtt_ms && loss_pct < t.degraded_loss_pct)
        return Health::Degraded;
    return Health::Bad;
}

inline std::string_view to_string(Health h) {
    switch (h) {
    case Health::Good:
        return "good";
    case Health::Degraded:
        return "degraded";
    case Health::Bad:
        return "bad";
    case Health::Unknown:
        return "unknown";
    }
    return "unknown";
}

} // namespace f0::qos

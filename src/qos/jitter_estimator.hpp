// Interarrival jitter, RFC 3550 section 6.4.1: for each packet in arrival order, with transit
// time T = arrival - send (the clocks' offset cancels in the difference),
// D = T(i) - T(i-1) and J += (|D| - J) / 16.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>

namespace f0::qos {

class JitterEstimator {
public:
    void on_packet(std::int64_t send_us, std::int64_t arrival_us) {
        std::int64_t transit = arrival_us - send_us;
        if (last_transit_) {
            double d = std::abs(static_cast<double>(transit - *last_transit_));
            jitter_us_ += (d - jitter_us_) / 16.0;
        }
        last_transit_ = transit;
    }
    double jitter_us() const { return jitter_us_; }

private:
    std::optional<std::int64_t> last_transit_;
    double jitter_us_ = 0;
};

} // namespace f0::qos

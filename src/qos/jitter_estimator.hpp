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
    // send_us is the peer's word (any 64-bit value): the arithmetic is in double, so no value
    // overflows, and a change of transit over kMaxStepUs (a clock jump, or a lie) re-bases the
    // estimate instead of moving it.
    void on_packet(std::int64_t send_us, std::int64_t arrival_us) {
        double transit = static_cast<double>(arrival_us) - static_cast<double>(send_us);
        if (last_transit_) {
            double d = std::abs(transit - *last_transit_);
            if (d <= kMaxStepUs)
                jitter_us_ += (d - jitter_us_) / 16.0;
        }
        last_transit_ = transit;
    }
    static constexpr double kMaxStepUs = 60e6;
    double jitter_us() const { return jitter_us_; }

private:
    std::optional<double> last_transit_;
    double jitter_us_ = 0;
};

} // namespace f0::qos

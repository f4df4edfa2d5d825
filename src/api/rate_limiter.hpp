// Token bucket per source address (signaling routes): `rate` tokens per second up to `burst`.
// Time is passed in. Idle buckets are forgotten so the table stays small.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace f0::api {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

    bool allow(const std::string& source, Clock::time_point now) {
        if (buckets_.size() > 10000)
            prune(now);
        auto [it, fresh] = buckets_.try_emplace(source, Bucket{burst_, now});
        auto& b = it->second;
        if (!fresh) {
            double dt = std::chrono::duration<double>(now - b.last).count();
            b.tokens = std::min(burst_, b.tokens + dt * rate_);
            b.last = now;
        }
        if (b.tokens < 1) {
            ++refused_;
            return false;
        }
        b.tokens -= 1;
        return true;
    }

    std::uint64_t refused() const { return refused_; } // requests refused so far

private:
    struct Bucket {
        double tokens;
        Clock::time_point last;
    };
    void prune(Clock::time_point now) {
        for (auto it = buckets_.begin(); it != buckets_.end();)
            it = now - it->second.last > std::chrono::seconds(60) ? buckets_.erase(it)
                                                                  : std::next(it);
    }
    double rate_, burst_;
    std::uint64_t refused_ = 0;
    std::unordered_map<std::string, Bucket> buckets_;
};

} // namespace f0::api

// A bound on the control thread's time spent building one kind of costly public response (GET
// /peers: ~17 µs per peer, 80 ms for a 5,000-peer page on this project's test machine, asked for
// by anyone, as often as they like). Building spends from a bucket of milliseconds refilled at
// `ms_per_s` up to `burst_ms`; when it is empty, the last first page built for the same key is
// served instead (at most `max_stale` old), and without one the request is answered 503 busy.
// So a client asking in a loop costs at most ms_per_s of every second, and the workers polling
// a beacon still get its list (a little older). Time is passed in; no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace f0::api {

class BuildBudget {
public:
    using Clock = std::chrono::steady_clock;
    struct Cached {
        std::string body;
        std::string next_after; // the paging header, "" when none
        Clock::time_point built;
    };
    struct Counters {
        std::uint64_t built = 0, cached = 0, busy = 0;
    };
    static constexpr std::size_t kMaxKeys = 8; // first pages kept (one per `limit` asked)

    BuildBudget(double ms_per_s, double burst_ms,
                std::chrono::milliseconds max_stale = std::chrono::seconds(10))
        : rate_(ms_per_s), burst_(burst_ms), tokens_(burst_ms), max_stale_(max_stale) {}

    // Whether a build may run now (the bucket is not empty).
    bool may_build(Clock::time_point now) {
        refill(now);
        return tokens_ > 0;
    }
    // A build took `ms`; a first page's result is kept for `key` (bounded: the least recently
    // built key makes room).
    void built(double ms, Clock::time_point now, const std::string* key = nullptr,
               Cached page = {}) {
        refill(now);
        tokens_ -= ms; // may go below 0: the next builds wait until it is paid back
        ++counters_.built;
        if (!key)
            return;
        page.built = now;
        kept_[*key] = std::move(page);
        if (kept_.size() > kMaxKeys) {
            auto oldest = kept_.begin();
            for (auto it = kept_.begin(); it != kept_.end(); ++it)
                if (it->second.built < oldest->second.built)
                    oldest = it;
            kept_.erase(oldest);
        }
    }
    // Over budget: the page kept for `key`, when there is one young enough (counted cached);
    // otherwise nullopt (counted busy).
    std::optional<Cached> instead(const std::string& key, Clock::time_point now) {
        auto it = kept_.find(key);
        if (it == kept_.end() || now - it->second.built > max_stale_) {
            ++counters_.busy;
            return std::nullopt;
        }
        ++counters_.cached;
        return it->second;
    }
    const Counters& counters() const { return counters_; }
    // Milliseconds until a build may run again (0 when it may now).
    double wait_ms() const { return tokens_ > 0 || rate_ <= 0 ? 0 : -tokens_ / rate_ * 1000; }

private:
    void refill(Clock::time_point now) {
        if (last_ != Clock::time_point{}) {
            double dt = std::chrono::duration<double>(now - last_).count();
            tokens_ = std::min(burst_, tokens_ + dt * rate_);
        }
        last_ = now;
    }
    double rate_, burst_, tokens_;
    std::chrono::milliseconds max_stale_;
    Clock::time_point last_{};
    Counters counters_;
    std::map<std::string, Cached> kept_;
};

} // namespace f0::api

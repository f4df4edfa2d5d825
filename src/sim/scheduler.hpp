// A discrete-event scheduler on virtual time (µs): events run in time order (ties in the order
// they were scheduled), and the clock jumps from one to the next. The gossip simulator runs
// thousands of peers in one process on it; nothing waits for real time.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace f0::sim {

class Scheduler {
public:
    using Fn = std::function<void()>;

    std::int64_t now_us() const { return now_; }
    std::int64_t now_ms() const { return now_ / 1000; }
    void at(std::int64_t t_us, Fn fn) {
        q_.push({t_us < now_ ? now_ : t_us, seq_++, std::move(fn)});
    }
    void after(std::int64_t delay_us, Fn fn) { at(now_ + delay_us, std::move(fn)); }
    // Runs events up to and including time `until_us`; returns how many ran.
    std::uint64_t run_until(std::int64_t until_us) {
        std::uint64_t n = 0;
        while (!q_.empty() && q_.top().t <= until_us) {
            Event e = q_.top();
            q_.pop();
            now_ = e.t;
            e.fn();
            ++n;
        }
        if (now_ < until_us)
            now_ = until_us;
        return n;
    }
    std::size_t pending() const { return q_.size(); }

private:
    struct Event {
        std::int64_t t;
        std::uint64_t seq;
        Fn fn;
        bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
    };
    std::priority_queue<Event, std::vector<Event>, std::greater<>> q_;
    std::int64_t now_ = 0;
    std::uint64_t seq_ = 0;
};

} // namespace f0::sim

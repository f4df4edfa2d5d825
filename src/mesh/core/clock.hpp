// The Clock seam: everything in mesh/ reads time, arms timers, posts work and draws random numbers
// through it. RealClock runs on the control-plane io_context and the system clocks; SimClock runs
// on a sim::Scheduler (virtual time), so whole meshes run in one process, seeded and repeatable.
#pragma once

#include "sim/scheduler.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>

namespace f0::mesh {

// A one-shot timer. Cancels itself when destroyed or re-armed; cancel() is idempotent.
class Timer {
public:
    Timer() = default;
    Timer(Timer&&) = default;
    Timer& operator=(Timer&& o) noexcept {
        cancel();
        alive_ = std::move(o.alive_);
        return *this;
    }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    ~Timer() { cancel(); }
    void cancel() {
        if (alive_ && alive_->armed) {
            alive_->armed = false;
            if (alive_->on_cancel)
                alive_->on_cancel();
        }
        alive_.reset();
    }
    bool armed() const { return alive_ && alive_->armed; }

    struct State {
        bool armed = true;
        std::function<void()> on_cancel; // frees what the clock holds for it (may be empty)
    };

private:
    friend class Clock;
    explicit Timer(std::shared_ptr<State> s) : alive_(std::move(s)) {}
    std::shared_ptr<State> alive_;
};

class Clock {
public:
    using Fn = std::function<void()>;
    explicit Clock(std::uint64_t seed) : rng_(seed) {}
    virtual ~Clock() = default;

    virtual std::int64_t unix_ms() const = 0;   // wall clock: timestamps others read
    virtual std::int64_t steady_us() const = 0; // monotonic: measuring (thread-safe)
    // Runs fn on the control thread soon. The one call that is safe from any thread.
    virtual void post(Fn fn) = 0;

    // Runs fn on the control thread after delay, unless the Timer was cancelled or destroyed.
    Timer after(std::chrono::milliseconds delay, Fn fn) {
        auto state = std::make_shared<Timer::State>();
        std::weak_ptr<Timer::State> weak = state;
        state->on_cancel = schedule(delay, [weak, fn = std::move(fn)] {
            auto s = weak.lock();
            if (s && s->armed) {
                s->armed = false;
                s->on_cancel = nullptr;
                fn();
            }
        });
        return Timer(state);
    }
    std::mt19937_64& rng() { return rng_; } // control thread only
    std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
    }

protected:
    // Arms fn after delay; returns what cancels it early (or nothing).
    virtual Fn schedule(std::chrono::milliseconds delay, Fn fn) = 0;

private:
    std::mt19937_64 rng_;
};

class RealClock final : public Clock {
public:
    explicit RealClock(boost::asio::io_context& io);
    std::int64_t unix_ms() const override;
    std::int64_t steady_us() const override;
    void post(Fn fn) override;
    boost::asio::io_context& io() { return io_; }

protected:
    Fn schedule(std::chrono::milliseconds delay, Fn fn) override;

private:
    boost::asio::io_context& io_;
};

// Virtual time: unix_ms starts at `epoch_ms` and moves only when the scheduler runs events.
class SimClock final : public Clock {
public:
    SimClock(sim::Scheduler& s, std::uint64_t seed, std::int64_t epoch_ms = 1'700'000'000'000)
        : Clock(seed), s_(s), epoch_ms_(epoch_ms) {}
    std::int64_t unix_ms() const override { return epoch_ms_ + s_.now_ms(); }
    std::int64_t steady_us() const override { return s_.now_us(); }
    void post(Fn fn) override { s_.after(0, std::move(fn)); }
    sim::Scheduler& scheduler() { return s_; }

protected:
    Fn schedule(std::chrono::milliseconds delay, Fn fn) override {
        s_.after(delay.count() * 1000, std::move(fn));
        return nullptr;
    }

private:
    sim::Scheduler& s_;
    std::int64_t epoch_ms_;
};

} // namespace f0::mesh

// Test support: wait for events with a bound, never sleep. A Signal counts notifications.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace f0::test {

class Signal {
public:
    void notify() {
        {
            std::lock_guard lock(mu_);
            ++count_;
        }
        cv_.notify_all();
    }
    // True when at least n notifications arrived within the timeout.
    bool wait(int n = 1, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
    }
    int count() const {
        std::lock_guard lock(mu_);
        return count_;
    }

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    int count_ = 0;
};

} // namespace f0::test

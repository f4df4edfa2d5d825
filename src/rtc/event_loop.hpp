// The rtc event loop: one thread running a GLib main context. libnice agents, DTLS/SCTP timers and
// virtual links all run on it, so the whole stack for any number of connections costs one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

namespace f0::rtc {

class EventLoop {
public:
    using Task = std::function<void()>;
    using TimerId = std::uint32_t;

    EventLoop();
    ~EventLoop(); // stops the thread; pending tasks are dropped
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Runs task on the loop thread, soon. Safe from any thread.
    void post(Task task);
    // Runs task once after delay. Returns an id for cancel(). Safe from any thread.
    TimerId call_later(std::chrono::milliseconds delay, Task task);
    void cancel(TimerId id);
    // Runs task on the loop thread and waits for it (runs inline if already on the loop thread).
    void run_sync(const Task& task);

    bool in_loop_thread() const { return std::this_thread::get_id() == thread_id_; }
    // The GMainContext* (as void* so GLib headers stay out of users of this header).
    void* native_context() const { return context_; }

    // A loop from the process-wide pool, the least loaded: one loop per core at first (at most 4),
    // more as connections come (a new loop when each holds 64, at most 32 loops), so connections
    // spread over cores, no loop walks too many sources per wake-up, and each connection stays on
    // one thread. F0_RTC_THREADS=N: a fixed pool of N loops, round-robin.
    static std::shared_ptr<EventLoop> shared();

private:
    void* context_ = nullptr;   // GMainContext*
    void* main_loop_ = nullptr; // GMainLoop*
    std::thread::id thread_id_;
    std::uint64_t thread_key_ = 0; // the thread itself is held by a process-wide registry
};

} // namespace f0::rtc

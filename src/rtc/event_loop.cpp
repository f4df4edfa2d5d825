// GLib-backed event loop; tasks and timers are GSources attached to our own context.
#include "rtc/event_loop.hpp"

#include <glib.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <vector>

namespace f0::rtc {

namespace {
struct TaskBox {
    EventLoop::Task task;
};

gboolean run_task_once(gpointer data) {
    auto* box = static_cast<TaskBox*>(data);
    try {
        box->task();
    } catch (...) {
        // A task must not unwind into GLib's C frames.
    }
    return G_SOURCE_REMOVE;
}

void destroy_task(gpointer data) {
    delete static_cast<TaskBox*>(data);
}
// Busy polling: before blocking, poll without waiting for up to kSpin. A reply that arrives within
// microseconds (the next handshake flight, a ping's echo) is then handled without a thread wake-up,
// which costs tens of microseconds on a virtual machine. An idle loop blocks after one spin.
std::chrono::microseconds spin_budget() {
    if (const char* v = std::getenv("F0_RTC_SPIN_US")) {
        long n = std::atol(v);
        if (n >= 0 && n <= 10000)
            return std::chrono::microseconds(n);
    }
    return std::chrono::microseconds(50);
}

// Set by a loop thread as its last act; waited on, with a bound, at exit.
class ThreadState {
public:
    void finish() {
        {
            std::lock_guard lock(mu_);
            finished_ = true;
        }
        cv_.notify_all();
    }
    bool finished() {
        std::lock_guard lock(mu_);
        return finished_;
    }
    bool wait_until(std::chrono::steady_clock::time_point deadline) {
        std::unique_lock lock(mu_);
        return cv_.wait_until(lock, deadline, [&] { return finished_; });
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool finished_ = false;
};

// Every loop thread is registered here. A thread is joined by whoever releases its EventLoop; if
// that is the thread itself (the last owner let go inside one of its callbacks), it cannot join
// itself, so it is left here and joined once it has left its loop, when the next release comes by
// or at exit. At exit every loop still running is stopped and joined (each waited on for at most
// kExitWait), before OpenSSL's own exit-time cleanup: no thread is still inside a handshake while
// the process tears down, and each thread's per-thread state is released by the thread itself.
// OpenSSL's exit-time cleanup (OPENSSL_cleanup, registered with atexit on its first use) deletes
// the key that frees each thread's OpenSSL state when the thread ends; a thread that is still
// ending when the process exits (a loop thread, a usrsctp or libnice thread) then leaves its
// state behind, which LeakSanitizer reported now and then. Without that cleanup (before any
// other use of OpenSSL: this runs at static initialization) every thread frees its own state, and
// what is global is reachable at exit anyway.
[[maybe_unused]] const bool kOpensslNoAtexit =
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr) == 1;

class LoopThreads {
public:
    using Id = std::uint64_t;

    LoopThreads() {
        // OpenSSL registers its exit-time cleanup on first use; using it now puts that cleanup
        // after this object's destructor (atexit runs in reverse order).
        OPENSSL_init_ssl(0, nullptr);
    }

    ~LoopThreads() {
        std::vector<Entry> all;
        {
            std::lock_guard lock(mu_);
            for (auto& [id, e] : entries_)
                all.push_back(std::move(e));
            entries_.clear();
        }
        auto deadline = std::chrono::steady_clock::now() + kExitWait;
        for (auto& e : all) {
            g_main_loop_quit(e.loop);
            if (e.state->wait_until(deadline))
                e.thread.join();
            else
                e.thread.detach(); // stuck in a callback: exit must not hang on it
            g_main_loop_unref(e.loop);
        }
    }

    Id add(GMainLoop* loop, std::thread thread, std::shared_ptr<ThreadState> state) {
        std::lock_guard lock(mu_);
        Id id = ++next_;
        entries_.emplace(id,
                         Entry{g_main_loop_ref(loop), std::move(thread), std::move(state), false});
        return id;
    }

    // Called by ~EventLoop after it has quit the loop.
    void release(Id id, bool on_own_thread) {
        std::vector<Entry> to_join;
        {
            std::lock_guard lock(mu_);
            auto it = entries_.find(id);
            if (it == entries_.end())
                return; // already stopped at exit
            if (on_own_thread) {
                it->second.orphan = true;
            } else {
                to_join.push_back(std::move(it->second));
                entries_.erase(it);
            }
            for (auto o = entries_.begin(); o != entries_.end();) {
                if (o->second.orphan && o->second.state->finished()) {
                    to_join.push_back(std::move(o->second));
                    o = entries_.erase(o);
                } else {
                    ++o;
                }
            }
        }
        for (auto& e : to_join) {
            e.thread.join();
            g_main_loop_unref(e.loop);
        }
    }

private:
    static constexpr auto kExitWait = std::chrono::seconds(2);
    struct Entry {
        GMainLoop* loop;
        std::thread thread;
        std::shared_ptr<ThreadState> state;
        bool orphan;
    };
    std::mutex mu_;
    std::map<Id, Entry> entries_;
    Id next_ = 0;
};

LoopThreads& loop_threads() {
    static LoopThreads threads;
    return threads;
}

gint spin_poll(GPollFD* fds, guint nfds, gint timeout) {
    static const auto budget = spin_budget();
    if (timeout != 0 && budget.count() > 0) {
        auto until = std::chrono::steady_clock::now() + budget;
        do {
            gint r = g_poll(fds, nfds, 0);
            if (r != 0)
                return r;
        } while (std::chrono::steady_clock::now() < until);
    }
    return g_poll(fds, nfds, timeout);
}
} // namespace

EventLoop::EventLoop() {
    auto* ctx = g_main_context_new();
    context_ = ctx;
    g_main_context_set_poll_func(ctx, spin_poll);
    main_loop_ = g_main_loop_new(ctx, FALSE);
    std::promise<std::thread::id> started;
    auto id = started.get_future();
    // The thread holds its own references: it may outlive this object (see the destructor).
    auto* loop = g_main_loop_ref(static_cast<GMainLoop*>(main_loop_));
    g_main_context_ref(ctx);
    auto state = std::make_shared<ThreadState>();
    std::thread thread([loop, ctx, &started, state] {
        g_main_context_push_thread_default(ctx);
        // Started is said from inside the running loop, not before it: GLib ignores a quit that
        // comes before g_main_loop_run, so a loop dropped as soon as it was made ran for ever and
        // its destructor's join hung.
        GSource* running = g_idle_source_new();
        g_source_set_priority(running, G_PRIORITY_HIGH);
        g_source_set_callback(
            running,
            [](gpointer p) -> gboolean {
                static_cast<std::promise<std::thread::id>*>(p)->set_value(
                    std::this_thread::get_id());
                return G_SOURCE_REMOVE;
            },
            &started, nullptr);
        g_source_attach(running, ctx);
        g_source_unref(running);
        g_main_loop_run(loop);
        g_main_context_pop_thread_default(ctx);
        g_main_loop_unref(loop);
        g_main_context_unref(ctx);
        state->finish();
    });
    thread_id_ = id.get();
    thread_key_ = loop_threads().add(loop, std::move(thread), std::move(state));
}

EventLoop::~EventLoop() {
    g_main_loop_quit(static_cast<GMainLoop*>(main_loop_));
    // The last owner may let go inside one of this loop's own callbacks: joining would deadlock
    // (std::terminate). Then the thread finishes that callback, leaves the quit loop and drops
    // its own references; another thread joins it (see LoopThreads).
    loop_threads().release(thread_key_, in_loop_thread());
    g_main_loop_unref(static_cast<GMainLoop*>(main_loop_));
    g_main_context_unref(static_cast<GMainContext*>(context_));
}

void EventLoop::post(Task task) {
    GSource* source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, run_task_once, new TaskBox{std::move(task)}, destroy_task);
    g_source_attach(source, static_cast<GMainContext*>(context_));
    g_source_unref(source);
}

EventLoop::TimerId EventLoop::call_later(std::chrono::milliseconds delay, Task task) {
    GSource* source = g_timeout_source_new(static_cast<guint>(std::max<long>(0, delay.count())));
    g_source_set_callback(source, run_task_once, new TaskBox{std::move(task)}, destroy_task);
    TimerId id = g_source_attach(source, static_cast<GMainContext*>(context_));
    g_source_unref(source);
    return id;
}

void EventLoop::cancel(TimerId id) {
    if (id == 0)
        return;
    if (GSource* source =
            g_main_context_find_source_by_id(static_cast<GMainContext*>(context_), id))
        g_source_destroy(source);
}

void EventLoop::run_sync(const Task& task) {
    if (in_loop_thread()) {
        task();
        return;
    }
    // Loop calls take microseconds: spin for the answer briefly before sleeping on it.
    struct Done {
        std::atomic<bool> flag{false};
        std::mutex mu;
        std::condition_variable cv;
    };
    auto done = std::make_shared<Done>();
    // The waiter is woken when the task has run, and also when it is dropped unrun (the loop was
    // stopped): the notifier goes with the task.
    struct Notifier {
        std::shared_ptr<Done> done;
        ~Notifier() {
            if (!done)
                return;
            {
                std::lock_guard lock(done->mu);
                done->flag.store(true, std::memory_order_release);
            }
            done->cv.notify_one();
        }
    };
    auto notifier = std::make_shared<Notifier>();
    notifier->done = done;
    post([&task, notifier] {
        try {
            task();
        } catch (...) {
        }
    });
    notifier.reset();
    static const auto budget = spin_budget() * 4;
    auto until = std::chrono::steady_clock::now() + budget;
    while (!done->flag.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < until) {
    }
    std::unique_lock lock(done->mu);
    done->cv.wait(lock, [&] { return done->flag.load(std::memory_order_acquire); });
}

namespace {
// The pool: at first one loop per core (at most 4); a loop holding kConnectionsPerLoop connections
// makes the next connection open a new loop, up to kMaxLoops. A GLib loop's every wake-up walks
// all its sources (g_main_context_check), so its cost per packet grows with its connections: with
// 1,000 idle links on 2 loops that walk was half the worker's CPU. F0_RTC_THREADS=N fixes the pool
// at N loops instead (the old behaviour; benchmarks compare).
constexpr std::size_t kConnectionsPerLoop = 64;
constexpr std::size_t kMaxLoops = 32;

struct Pool {
    std::size_t initial = 1, max = 1;
    bool fixed = false;
};

Pool pool_shape() {
    if (const char* v = std::getenv("F0_RTC_THREADS")) {
        int n = std::atoi(v);
        if (n >= 1 && n <= 64)
            return {static_cast<std::size_t>(n), static_cast<std::size_t>(n), true};
    }
    auto cores = std::thread::hardware_concurrency();
    auto initial = std::clamp<std::size_t>(cores ? cores : 1, 1, 4);
    return {initial, std::max(initial, kMaxLoops), false};
}

struct Slot {
    std::weak_ptr<EventLoop> loop;
    std::shared_ptr<std::atomic<std::size_t>> leases =
        std::make_shared<std::atomic<std::size_t>>(0);
};
} // namespace

std::shared_ptr<EventLoop> EventLoop::shared() {
    static std::mutex mu;
    static const Pool shape = pool_shape();
    static std::vector<Slot> pool(shape.initial);
    static std::size_t next = 0;
    std::lock_guard lock(mu);
    Slot* slot = nullptr;
    if (shape.fixed) {
        slot = &pool[next++ % pool.size()];
    } else {
        // The least leased loop; a new one when even that one is full and there is room.
        for (auto& s : pool)
            if (!slot || s.leases->load() < slot->leases->load())
                slot = &s;
        if (slot->leases->load() >= kConnectionsPerLoop && pool.size() < shape.max) {
            pool.emplace_back();
            slot = &pool.back();
        }
    }
    auto loop = slot->loop.lock();
    if (!loop) {
        loop = std::make_shared<EventLoop>();
        slot->loop = loop;
        slot->leases->store(0);
    }
    // A lease: the caller's handle keeps the loop alive and, when its last copy goes, gives the
    // loop's place back to the pool.
    slot->leases->fetch_add(1);
    auto leases = slot->leases;
    EventLoop* raw = loop.get();
    return std::shared_ptr<EventLoop>(raw, [loop = std::move(loop), leases](EventLoop*) mutable {
        leases->fetch_sub(1);
        loop.reset();
    });
}

} // namespace f0::rtc

// GLib-backed event loop; tasks and timers are GSources attached to our own context.
#include "rtc/event_loop.hpp"

#include <glib.h>

#include <future>
#include <mutex>

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
} // namespace

EventLoop::EventLoop() {
    auto* ctx = g_main_context_new();
    context_ = ctx;
    main_loop_ = g_main_loop_new(ctx, FALSE);
    std::promise<std::thread::id> started;
    auto id = started.get_future();
    thread_ = std::thread([this, ctx, &started] {
        g_main_context_push_thread_default(ctx);
        started.set_value(std::this_thread::get_id());
        g_main_loop_run(static_cast<GMainLoop*>(main_loop_));
        g_main_context_pop_thread_default(ctx);
    });
    thread_id_ = id.get();
}

EventLoop::~EventLoop() {
    g_main_loop_quit(static_cast<GMainLoop*>(main_loop_));
    if (thread_.joinable())
        thread_.join();
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
    std::promise<void> done;
    auto fut = done.get_future();
    post([&] {
        try {
            task();
        } catch (...) {
        }
        done.set_value();
    });
    fut.wait();
}

std::shared_ptr<EventLoop> EventLoop::shared() {
    static std::mutex mu;
    static std::weak_ptr<EventLoop> instance;
    std::lock_guard lock(mu);
    auto loop = instance.lock();
    if (!loop) {
        loop = std::make_shared<EventLoop>();
        instance = loop;
    }
    return loop;
}

} // namespace f0::rtc

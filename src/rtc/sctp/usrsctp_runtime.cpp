// usrsctp runs without threads (usrsctp_init_nothreads); a 10 ms timer on the EventLoop drives it.
#include "rtc/sctp/usrsctp_runtime.hpp"

#include "rtc/sctp/sctp_association.hpp"

#include <usrsctp.h>

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace f0::rtc::sctp {

namespace {
constexpr auto kTick = std::chrono::milliseconds(10);

std::shared_mutex registry_mu;
std::unordered_map<std::uintptr_t, std::weak_ptr<SctpAssociation>> registry;
std::uintptr_t next_id = 1;

std::mutex runtime_mu;
std::weak_ptr<UsrsctpRuntime> runtime_instance;
bool initialised = false;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int conn_output(void* addr, void* buffer, size_t length, uint8_t, uint8_t) {
    try {
        if (auto a = UsrsctpRuntime::find(reinterpret_cast<std::uintptr_t>(addr)))
            a->handle_outgoing(buffer, length);
    } catch (...) {
    }
    return 0;
}

int receive_cb(struct socket*, union sctp_sockstore, void* data, size_t datalen,
               struct sctp_rcvinfo rcv, int flags, void* ulp_info) {
    auto a = UsrsctpRuntime::find(reinterpret_cast<std::uintptr_t>(ulp_info));
    try {
        if (a)
            a->handle_receive(data, datalen, rcv.rcv_sid, ntohl(rcv.rcv_ppid), flags);
    } catch (...) {
    }
    free(data);
    return 1;
}

int send_cb(struct socket*, uint32_t, void* ulp_info) {
    try {
        if (auto a = UsrsctpRuntime::find(reinterpret_cast<std::uintptr_t>(ulp_info)))
            a->handle_writable();
    } catch (...) {
    }
    return 0;
}

void init_usrsctp() {
    usrsctp_init_nothreads(0, conn_output, nullptr);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_asconf_enable(0);
    usrsctp_sysctl_set_sctp_auto_asconf(0);
    usrsctp_sysctl_set_sctp_pr_enable(1);
    usrsctp_sysctl_set_sctp_reconfig_enable(1);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);     // ms; RFC default 200 stalls bursts
    usrsctp_sysctl_set_sctp_rto_min_default(200);              // ms
    usrsctp_sysctl_set_sctp_rto_initial_default(1000);         // ms
    usrsctp_sysctl_set_sctp_rto_max_default(10000);            // ms
    usrsctp_sysctl_set_sctp_init_rto_max_default(10000);       // ms
    usrsctp_sysctl_set_sctp_max_chunks_on_queue(64 * 1024);    // the default 512 caps the window
    usrsctp_sysctl_set_sctp_initial_cwnd(10);                  // packets (RFC 6928's IW10)
    usrsctp_sysctl_set_sctp_heartbeat_interval_default(10000); // ms
    usrsctp_sysctl_set_sctp_enable_sack_immediately(1);
}
} // namespace

UsrsctpRuntime::UsrsctpRuntime(std::shared_ptr<EventLoop> loop) : loop_(std::move(loop)) {
    last_tick_ms_ = now_ms();
    timer_ = loop_->call_later(kTick, [this] { tick(); });
}

UsrsctpRuntime::~UsrsctpRuntime() {
    // The timer callback captures `this`: cancel on the loop thread so it cannot be mid-run.
    loop_->run_sync([this] { loop_->cancel(timer_); });
}

void UsrsctpRuntime::tick() {
    auto now = now_ms();
    auto elapsed = now - last_tick_ms_;
    if (elapsed > 0) {
        usrsctp_handle_timers(static_cast<uint32_t>(elapsed));
        last_tick_ms_ = now;
    }
    timer_ = loop_->call_later(kTick, [this] { tick(); });
}

std::shared_ptr<UsrsctpRuntime> UsrsctpRuntime::acquire(const std::shared_ptr<EventLoop>& loop) {
    std::lock_guard lock(runtime_mu);
    auto rt = runtime_instance.lock();
    if (!rt) {
        if (!initialised) {
            init_usrsctp();
            initialised = true; // usrsctp stays initialised for the life of the process
        }
        rt = std::make_shared<UsrsctpRuntime>(loop);
        runtime_instance = rt;
    }
    return rt;
}

std::uintptr_t UsrsctpRuntime::add(const std::shared_ptr<SctpAssociation>& association) {
    std::unique_lock lock(registry_mu);
    auto id = next_id++;
    registry[id] = association;
    return id;
}

void UsrsctpRuntime::remove(std::uintptr_t id) {
    std::unique_lock lock(registry_mu);
    registry.erase(id);
}

struct socket* UsrsctpRuntime::open_socket(std::uintptr_t id, std::uint32_t send_threshold) {
    return usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, receive_cb, send_cb, send_threshold,
                          reinterpret_cast<void*>(id));
}

std::shared_ptr<SctpAssociation> UsrsctpRuntime::find(std::uintptr_t id) {
    std::shared_lock lock(registry_mu);
    auto it = registry.find(id);
    return it == registry.end() ? nullptr : it->second.lock();
}

} // namespace f0::rtc::sctp

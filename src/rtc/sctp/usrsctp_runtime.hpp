// usrsctp is process-global: one refcounted runtime initialises it (without its own threads),
// drives its timers from an EventLoop, and maps its callbacks to live associations.
#pragma once

#include "rtc/event_loop.hpp"

#include <cstdint>
#include <memory>

struct socket;

namespace f0::rtc::sctp {

class SctpAssociation;

class UsrsctpRuntime {
public:
    // Held by each association; the last release shuts usrsctp down.
    static std::shared_ptr<UsrsctpRuntime> acquire(const std::shared_ptr<EventLoop>& loop);
    ~UsrsctpRuntime();

    std::uintptr_t add(const std::shared_ptr<SctpAssociation>& association);
    void remove(std::uintptr_t id);
    static std::shared_ptr<SctpAssociation> find(std::uintptr_t id);
    // A usrsctp AF_CONN socket whose callbacks reach the association registered under id.
    static struct socket* open_socket(std::uintptr_t id, std::uint32_t send_threshold);

    UsrsctpRuntime(std::shared_ptr<EventLoop> loop);

private:
    void tick();
    std::shared_ptr<EventLoop> loop_;
    EventLoop::TimerId timer_ = 0;
    std::int64_t last_tick_ms_ = 0;
};

} // namespace f0::rtc::sctp

// The one interface every rtc layer implements: send bytes down, receive bytes up, report state.
// A layer is built on a shared_ptr<Transport> below it, never on a concrete lower type, so DTLS
// runs unchanged over ICE or over a sim::VirtualLink.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace f0::rtc {

enum class TransportState { New, Connecting, Connected, Failed, Closed };

std::string_view to_string(TransportState state);

class Transport {
public:
    using ReceiveHandler = std::function<void(std::span<const std::uint8_t>)>;
    using StateHandler = std::function<void(TransportState)>;

    virtual ~Transport() = default;

    // Receivers must be set before start(); they are not changed afterwards.
    virtual void start() = 0;
    virtual void stop() = 0;
    // Sends one datagram/record down. False when it was dropped (not connected, buffer full).
    // Safe to call from any thread.
    virtual bool send(std::span<const std::uint8_t> packet) = 0;

    void on_receive(ReceiveHandler handler) { receive_ = std::move(handler); }
    void on_state_change(StateHandler handler) { state_handler_ = std::move(handler); }
    TransportState state() const { return state_.load(); }

protected:
    void deliver(std::span<const std::uint8_t> packet) {
        if (receive_)
            receive_(packet);
    }
    // Reports a state change once; repeated reports of the same state are ignored.
    void change_state(TransportState state) {
        if (state_.exchange(state) != state && state_handler_)
            state_handler_(state);
    }

private:
    ReceiveHandler receive_;
    StateHandler state_handler_;
    std::atomic<TransportState> state_{TransportState::New};
};

inline std::string_view to_string(TransportState state) {
    switch (state) {
    case TransportState::New:
        return "new";
    case TransportState::Connecting:
        return "connecting";
    case TransportState::Connected:
        return "connected";
    case TransportState::Failed:
        return "failed";
    case TransportState::Closed:
        return "closed";
    }
    return "?";
}

} // namespace f0::rtc

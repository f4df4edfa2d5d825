// Shares one DTLS association between SCTP and datagrams (datagram_codec.hpp): SCTP packets pass
// through both ways untouched; datagram records go to their own handler. SCTP sits on the mux as
// it would sit on DTLS.
#pragma once

#include "rtc/datagram/datagram_codec.hpp"
#include "rtc/transport.hpp"

#include <atomic>
#include <memory>

namespace f0::rtc::datagram {

class DatagramMux : public Transport {
public:
    using DatagramHandler = std::function<void(std::span<const std::uint8_t>)>;

    // Takes over `lower`'s receive and state handlers. `on_datagram` (may be empty: datagrams are
    // then dropped and counted) runs on the thread that delivers `lower`'s records.
    static std::shared_ptr<DatagramMux> create(std::shared_ptr<Transport> lower,
                                               DatagramHandler on_datagram);

    void start() override { lower_->start(); }
    void stop() override { lower_->stop(); }
    bool send(std::span<const std::uint8_t> packet) override { return lower_->send(packet); }
    // One datagram of 1..kMaxPayload bytes: false when it does not fit or the lower transport
    // refused it. Unreliable and unordered, like UDP. Any thread.
    bool send_datagram(std::span<const std::uint8_t> payload);

    // Process-wide counters, for /metrics.
    struct Counters {
        std::uint64_t sent = 0, received = 0;
        std::uint64_t dropped_malformed = 0; // looked like a datagram, was not one
        std::uint64_t dropped_unhandled = 0; // nobody on this connection takes datagrams
        std::uint64_t refused_oversize = 0;  // send_datagram() of more than kMaxPayload
    };
    static Counters counters();

private:
    DatagramMux(std::shared_ptr<Transport> lower, DatagramHandler on_datagram)
        : lower_(std::move(lower)), on_datagram_(std::move(on_datagram)) {}
    void on_lower_receive(std::span<const std::uint8_t> record);

    std::shared_ptr<Transport> lower_;
    DatagramHandler on_datagram_;
};

} // namespace f0::rtc::datagram

// An in-process link between two rtc::Transport endpoints with programmable impairments per
// direction: loss, delay, jitter, reordering, duplication and a rate limit. Deterministic for a
// seed (each direction has its own RNG). Delivery runs on the EventLoop in real time, because the C
// libraries above it (OpenSSL, usrsctp) keep their own real-time timers.
#pragma once

#include "rtc/event_loop.hpp"
#include "rtc/transport.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <utility>

namespace f0::sim {

struct Impairment {
    double loss = 0;                     // probability a packet is dropped
    std::chrono::microseconds delay{0};  // one-way base delay
    std::chrono::microseconds jitter{0}; // uniform extra delay in [0, jitter]
    double reorder = 0;                  // probability a packet is held back by reorder_delay
    std::chrono::microseconds reorder_delay{2000};
    double duplicate = 0;                       // probability a packet is delivered twice
    std::uint64_t rate_bps = 0;                 // 0: unlimited
    std::size_t queue_limit_bytes = 256 * 1024; // bytes waiting for the rate limit; beyond: drop

    static Impairment lossy(double loss, double reorder) {
        return {.loss = loss, .reorder = reorder};
    }
};

struct LinkCounters {
    std::uint64_t sent = 0, delivered = 0, dropped = 0, bytes = 0;
};

class VirtualEndpoint : public rtc::Transport,
                        public std::enable_shared_from_this<VirtualEndpoint> {
public:
    VirtualEndpoint(std::shared_ptr<rtc::EventLoop> loop, Impairment outgoing, std::uint64_t seed);

    void start() override { change_state(rtc::TransportState::Connected); }
    void stop() override { change_state(rtc::TransportState::Closed); }
    bool send(std::span<const std::uint8_t> packet) override;

    void set_impairment(const Impairment& i);
    LinkCounters counters() const;
    // The one-way delays (µs) of every delivered packet, in send order, for ground truth in tests.
    std::vector<std::int64_t> delivered_delays_us() const;

private:
    friend class VirtualLink;
    void receive(std::vector<std::uint8_t> packet);

    std::shared_ptr<rtc::EventLoop> loop_;
    std::weak_ptr<VirtualEndpoint> peer_;
    mutable std::mutex mu_;
    Impairment out_;
    std::mt19937_64 rng_;
    std::chrono::steady_clock::time_point link_free_{};
    LinkCounters counters_;
    std::vector<std::int64_t> delays_us_;
};

class VirtualLink {
public:
    static std::pair<std::shared_ptr<VirtualEndpoint>, std::shared_ptr<VirtualEndpoint>>
    make(std::shared_ptr<rtc::EventLoop> loop, Impairment a_to_b, Impairment b_to_a,
         std::uint64_t seed);
};

} // namespace f0::sim

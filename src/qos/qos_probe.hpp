// The QoS engine of one link: makes probes, answers the peer's probes with echoes, and turns what
// it sees into one report per interval. RTT from our probes' echoes (one clock, no offset);
// jitter (RFC 3550) and loss (sequence gaps) from the peer's probes, i.e. the inbound direction;
// bitrate from the byte counters handed in. Pure: time is passed in; thread-safe.
#pragma once

#include "qos/jitter_estimator.hpp"
#include "qos/loss_counter.hpp"
#include "qos/probe_codec.hpp"

#include <mutex>
#include <optional>

namespace f0::qos {

struct QosReport {
    std::int64_t interval_us = 0;
    std::optional<double> rtt_ms; // mean over the interval's echoes
    std::optional<double> rtt_min_ms, rtt_max_ms;
    double jitter_ms = 0;      // RFC 3550 estimate, averaged over the interval's packets
    double jitter_last_ms = 0; // RFC 3550 estimate at the end of the interval
    double loss_pct = 0;       // inbound probes lost, from sequence gaps
    std::uint64_t probes_expected = 0, probes_received = 0, echoes = 0, probes_sent = 0;
    double tx_kbps = 0, rx_kbps = 0; // bytes moved by the link, each direction
};

class QosProbe {
public:
    explicit QosProbe(std::size_t probe_size = 64) : probe_size_(probe_size) {}

    std::vector<std::uint8_t> make_probe(std::int64_t now_us);
    // An incoming qos message: returns the echo to send for a probe; records an echo's RTT.
    // Malformed messages are counted and ignored.
    std::optional<std::vector<std::uint8_t>> on_message(std::span<const std::uint8_t> data,
                                                        std::int64_t now_us);
    // Closes the interval. bytes_tx/rx are the link's cumulative byte counters.
    QosReport take_report(std::int64_t now_us, std::uint64_t bytes_tx, std::uint64_t bytes_rx);
    std::uint64_t malformed() const;
    // A probe of ours has waited longer than timeout_us for its echo (none came since): what
    // turns an idle link's slow probing fast again at once, and a dead peer's silence visible.
    bool echo_overdue(std::int64_t now_us, std::int64_t timeout_us) const;
    // Process-wide, for /metrics: qos messages ignored, malformed (not a probe or echo, or an echo
    // of no probe of ours) or over the loss counter's cap (LossCounter::kMaxTracked).
    static std::uint64_t malformed_total();
    static std::uint64_t over_cap_total();

private:
    mutable std::mutex mu_;
    std::size_t probe_size_;
    std::uint32_t next_seq_ = 0;
    JitterEstimator jitter_;
    LossCounter loss_;
    double rtt_sum_ms_ = 0, jitter_sum_us_ = 0;
    std::uint64_t jitter_n_ = 0;
    std::uint64_t rtt_n_ = 0, sent_ = 0, malformed_ = 0;
    std::optional<double> rtt_min_, rtt_max_;
    std::optional<std::int64_t> last_report_us_;
    std::optional<std::int64_t> unanswered_since_us_; // the first probe sent since the last echo
    std::uint64_t last_tx_ = 0, last_rx_ = 0;
};

} // namespace f0::qos

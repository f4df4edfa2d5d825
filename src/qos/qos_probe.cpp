// One lock around small state: probes are a few per second per link.
#include "qos/qos_probe.hpp"

#include <atomic>

namespace f0::qos {

namespace {
std::atomic<std::uint64_t> g_malformed{0}, g_over_cap{0};
}

std::uint64_t QosProbe::malformed_total() {
    return g_malformed.load(std::memory_order_relaxed);
}

std::uint64_t QosProbe::over_cap_total() {
    return g_over_cap.load(std::memory_order_relaxed);
}

std::vector<std::uint8_t> QosProbe::make_probe(std::int64_t now_us) {
    std::lock_guard l(mu_);
    ++sent_;
    if (!last_report_us_)
        last_report_us_ = now_us;
    if (!unanswered_since_us_)
        unanswered_since_us_ = now_us;
    return encode_probe({ProbeKind::Probe, next_seq_++, now_us}, probe_size_);
}

std::optional<std::vector<std::uint8_t>> QosProbe::on_message(std::span<const std::uint8_t> data,
                                                              std::int64_t now_us) {
    auto m = parse_probe(data);
    std::lock_guard l(mu_);
    if (!m) {
        ++malformed_;
        g_malformed.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    const auto& p = m.value();
    if (p.kind == ProbeKind::Probe) {
        if (!loss_.on_sequence(p.seq)) {
            g_over_cap.fetch_add(1, std::memory_order_relaxed);
            return std::nullopt; // no echo either: a flood is not answered beyond the cap
        }
        jitter_.on_packet(p.send_us, now_us);
        jitter_sum_us_ += jitter_.jitter_us();
        ++jitter_n_;
        return encode_probe({ProbeKind::Echo, p.seq, p.send_us});
    }
    // send_us is whatever the echo carries (our own, or a lie): no int64 arithmetic on it.
    double rtt = (static_cast<double>(now_us) - static_cast<double>(p.send_us)) / 1000.0;
    if (rtt < 0 || rtt > 60'000) { // not one of ours, or absurd
        ++malformed_;
        g_malformed.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    rtt_sum_ms_ += rtt;
    ++rtt_n_;
    unanswered_since_us_.reset();
    rtt_min_ = rtt_min_ ? std::min(*rtt_min_, rtt) : rtt;
    rtt_max_ = rtt_max_ ? std::max(*rtt_max_, rtt) : rtt;
    return std::nullopt;
}

QosReport QosProbe::take_report(std::int64_t now_us, std::uint64_t bytes_tx,
                                std::uint64_t bytes_rx) {
    std::lock_guard l(mu_);
    QosReport r;
    r.interval_us = last_report_us_ ? now_us - *last_report_us_ : 0;
    if (rtt_n_) {
        r.rtt_ms = rtt_sum_ms_ / static_cast<double>(rtt_n_);
        r.rtt_min_ms = rtt_min_;
        r.rtt_max_ms = rtt_max_;
    }
    r.jitter_last_ms = jitter_.jitter_us() / 1000.0;
    r.jitter_ms =
        jitter_n_ ? jitter_sum_us_ / static_cast<double>(jitter_n_) / 1000.0 : r.jitter_last_ms;
    jitter_sum_us_ = 0;
    jitter_n_ = 0;
    auto loss = loss_.take();
    r.loss_pct = loss.loss_pct();
    r.probes_expected = loss.expected;
    r.probes_received = loss.received;
    r.echoes = rtt_n_;
    r.probes_sent = sent_;
    if (r.interval_us > 0) {
        double secs = static_cast<double>(r.interval_us) / 1e6;
        r.tx_kbps = static_cast<double>(bytes_tx - std::min(bytes_tx, last_tx_)) * 8 / 1000 / secs;
        r.rx_kbps = static_cast<double>(bytes_rx - std::min(bytes_rx, last_rx_)) * 8 / 1000 / secs;
    }
    last_tx_ = bytes_tx;
    last_rx_ = bytes_rx;
    last_report_us_ = now_us;
    rtt_sum_ms_ = 0;
    rtt_n_ = 0;
    sent_ = 0;
    rtt_min_.reset();
    rtt_max_.reset();
    return r;
}

bool QosProbe::echo_overdue(std::int64_t now_us, std::int64_t timeout_us) const {
    std::lock_guard l(mu_);
    return unanswered_since_us_ && now_us - *unanswered_since_us_ > timeout_us;
}

std::uint64_t QosProbe::malformed() const {
    std::lock_guard l(mu_);
    return malformed_;
}

} // namespace f0::qos

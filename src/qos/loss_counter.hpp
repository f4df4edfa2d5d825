// Loss from sequence gaps over an interval: expected = highest - first + 1 of the sequence
// numbers that fell into the interval's range, received = distinct numbers seen. Duplicates are
// ignored; a packet that arrives after its interval was reported is not counted twice.
#pragma once

#include <cstdint>
#include <optional>
#include <set>

namespace f0::qos {

struct LossReport {
    std::uint64_t expected = 0, received = 0;
    double loss_pct() const {
        return expected == 0
                   ? 0.0
                   : 100.0 * static_cast<double>(expected - std::min(expected, received)) /
                         static_cast<double>(expected);
    }
};

class LossCounter {
public:
    // Distinct sequences tracked per interval: 200 probes a second for 5 minutes, far above any
    // honest peer (the default is 5 a second for 15 s). A peer that sends more distinct numbers
    // has the rest ignored: its own link's loss figure is all it can spoil.
    static constexpr std::size_t kMaxTracked = 65536;

    // False when the sequence was ignored because the interval already tracks kMaxTracked.
    bool on_sequence(std::uint32_t seq);
    // Closes the interval at the highest sequence seen so far.
    LossReport take();

private:
    std::optional<std::uint64_t> next_base_; // first sequence of the current interval
    std::set<std::uint64_t> seen_;           // this interval's distinct sequences (bounded by rate)
    std::optional<std::uint64_t> highest_;
    std::uint64_t epoch_ = 0; // 32-bit wraparound unrolled to 64 bits
    std::optional<std::uint32_t> last_raw_;
};

} // namespace f0::qos

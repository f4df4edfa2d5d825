// Sequence numbers are unrolled across 32-bit wrap-around before counting.
#include "qos/loss_counter.hpp"

namespace f0::qos {

bool LossCounter::on_sequence(std::uint32_t raw) {
    if (last_raw_ && raw < 0x40000000u && *last_raw_ > 0xC0000000u)
        epoch_ += 1ull << 32;
    std::uint64_t seq = epoch_ + raw;
    if (last_raw_ && raw > 0xC0000000u && *last_raw_ < 0x40000000u && epoch_ > 0)
        seq -= 1ull << 32; // a late packet from before the wrap
    last_raw_ = raw;
    if (!next_base_)
        next_base_ = seq;
    if (seq < *next_base_)
        return true; // belongs to an interval already reported
    if (seen_.size() >= kMaxTracked && !seen_.count(seq))
        return false;
    seen_.insert(seq);
    if (!highest_ || seq > *highest_)
        highest_ = seq;
    return true;
}

LossReport LossCounter::take() {
    LossReport r;
    if (next_base_ && highest_ && *highest_ >= *next_base_) {
        r.expected = *highest_ - *next_base_ + 1;
        r.received = seen_.size();
        next_base_ = *highest_ + 1;
    }
    seen_.clear();
    return r;
}

} // namespace f0::qos

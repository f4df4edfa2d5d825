// Hlc: see hlc.hpp for the rules.
#include "crdt/hlc.hpp"

#include <algorithm>

namespace f0::crdt {

namespace {
// The next timestamp after (l, c): the counter, or a carry into the milliseconds.
HlcTimestamp bump(std::uint64_t l, std::uint64_t c) {
    if (c >= HlcTimestamp::kLogicalMask)
        return HlcTimestamp::make(l + 1, 0);
    return HlcTimestamp::make(l, c + 1);
}
} // namespace

std::string HlcTimestamp::to_string() const {
    return std::to_string(physical_ms()) + "." + std::to_string(logical());
}

std::uint64_t Hlc::wall(std::int64_t wall_ms) {
    return std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max<std::int64_t>(0, wall_ms)),
                                   HlcTimestamp::kMaxPhysical);
}

HlcTimestamp Hlc::now(std::int64_t wall_ms) {
    std::uint64_t pt = wall(wall_ms), l = last_.physical_ms();
    last_ = pt > l ? HlcTimestamp::make(pt, 0) : bump(l, last_.logical());
    return last_;
}

Result<HlcTimestamp> Hlc::receive(HlcTimestamp remote, std::int64_t wall_ms) {
    std::uint64_t pt = wall(wall_ms);
    if (remote.physical_ms() >
        pt + static_cast<std::uint64_t>(std::max<std::int64_t>(0, max_offset_ms_)))
        return make_error("remote timestamp " + remote.to_string() + " is " +
                          std::to_string(remote.physical_ms() - pt) +
                          " ms ahead of this clock (max offset " + std::to_string(max_offset_ms_) +
                          " ms)");
    std::uint64_t l = last_.physical_ms(), c = last_.logical();
    std::uint64_t ml = remote.physical_ms(), mc = remote.logical();
    std::uint64_t nl = std::max({l, ml, pt});
    if (nl == l && nl == ml)
        last_ = bump(nl, std::max(c, mc));
    else if (nl == l)
        last_ = bump(nl, c);
    else if (nl == ml)
        last_ = bump(nl, mc);
    else
        last_ = HlcTimestamp::make(nl, 0);
    return last_;
}

} // namespace f0::crdt

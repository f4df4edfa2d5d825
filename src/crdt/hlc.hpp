// Hybrid Logical Clock (Kulkarni, Demirbas et al., "Logical Physical Clocks", 2014). A timestamp
// is 64 bits: 48 bits of physical milliseconds and a 16-bit logical counter, so it compares as a
// plain integer and stays close to wall time. Pure: the wall clock is passed in.
//
//   now / send:  l' = max(l, pt); c = (l' == l) ? c + 1 : 0; l = l'
//   receive(m):  l' = max(l, m.l, pt); c = l'==l==m.l ? max(c, m.c) + 1 : l'==l ? c + 1
//                                         : l'==m.l ? m.c + 1 : 0
// When the wall clock steps back, l keeps its value and c counts on: never backwards. A counter
// that would pass 65535 carries into the millisecond field. A remote timestamp more than
// max_offset ahead of our wall clock is refused with an error, not adopted (a peer with a broken
// clock must not drag everyone's clocks into the future).
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <string>

namespace f0::crdt {

struct HlcTimestamp {
    std::uint64_t raw = 0;

    static constexpr std::uint64_t kLogicalBits = 16;
    static constexpr std::uint64_t kLogicalMask = (1u << kLogicalBits) - 1;
    static constexpr std::uint64_t kMaxPhysical = (std::uint64_t{1} << 48) - 1;

    static HlcTimestamp make(std::uint64_t physical_ms, std::uint64_t logical) {
        return {(physical_ms << kLogicalBits) | (logical & kLogicalMask)};
    }
    std::uint64_t physical_ms() const { return raw >> kLogicalBits; }
    std::uint64_t logical() const { return raw & kLogicalMask; }
    auto operator<=>(const HlcTimestamp&) const = default;
    std::string to_string() const; // "physical.logical"
};

class Hlc {
public:
    explicit Hlc(std::int64_t max_offset_ms = 60'000) : max_offset_ms_(max_offset_ms) {}

    HlcTimestamp now(std::int64_t wall_ms);                                  // local or send
    Result<HlcTimestamp> receive(HlcTimestamp remote, std::int64_t wall_ms); // merge a remote one
    HlcTimestamp last() const { return last_; }

private:
    static std::uint64_t wall(std::int64_t wall_ms);
    HlcTimestamp last_;
    std::int64_t max_offset_ms_;
};

} // namespace f0::crdt

#include "rtc/datagram/datagram_codec.hpp"

#include <algorithm>
#include <array>

namespace f0::rtc::datagram {

namespace {
constexpr std::array<std::uint8_t, kHeaderSize> kHeader{0, 0, 0, 0, 'f', '0', 'd', 1};
}

Kind classify(std::span<const std::uint8_t> record) {
    if (record.size() < 4 || record[0] != 0 || record[1] != 0 || record[2] != 0 || record[3] != 0)
        return Kind::Sctp;
    if (record.size() <= kHeaderSize || record.size() > kHeaderSize + kMaxPayload ||
        !std::equal(kHeader.begin(), kHeader.end(), record.begin()))
        return Kind::Malformed;
    return Kind::Datagram;
}

std::vector<std::uint8_t> frame(std::span<const std::uint8_t> payload) {
    if (payload.empty() || payload.size() > kMaxPayload)
        return {};
    std::vector<std::uint8_t> out(kHeader.begin(), kHeader.end());
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

} // namespace f0::rtc::datagram

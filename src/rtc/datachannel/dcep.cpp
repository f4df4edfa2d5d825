// DCEP wire format (RFC 8832 section 5), all integers big-endian:
//   OPEN: type(1)=0x03 channel_type(1) priority(2) reliability(4) label_len(2) protocol_len(2) ...
//   ACK:  type(1)=0x02
#include "rtc/datachannel/dcep.hpp"

namespace f0::rtc::datachannel {

namespace {
constexpr std::size_t kOpenHeader = 12;

bool known_type(std::uint8_t t) {
    switch (t) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x80:
    case 0x81:
    case 0x82:
        return true;
    default:
        return false;
    }
}

std::uint16_t be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
    v.push_back(static_cast<std::uint8_t>(x >> 8));
    v.push_back(static_cast<std::uint8_t>(x));
}
} // namespace

Result<DcepMessage> parse_dcep(std::span<const std::uint8_t> b) {
    if (b.empty())
        return make_error("DCEP message is empty");
    if (b[0] == kMessageAck)
        return DcepMessage{AckMessage{}}; // RFC 8832: trailing bytes are ignored
    if (b[0] != kMessageOpen)
        return make_error("unknown DCEP message type " + std::to_string(b[0]));
    if (b.size() < kOpenHeader)
        return make_error("DATA_CHANNEL_OPEN is " + std::to_string(b.size()) +
                          " bytes, shorter than its 12-byte header");
    if (!known_type(b[1]))
        return make_error("DATA_CHANNEL_OPEN has unknown channel type " + std::to_string(b[1]));
    OpenMessage m;
    m.type = static_cast<ChannelType>(b[1]);
    m.priority = be16(&b[2]);
    m.reliability_parameter = be32(&b[4]);
    std::size_t label_len = be16(&b[8]), protocol_len = be16(&b[10]);
    if (kOpenHeader + label_len + protocol_len > b.size())
        return make_error("DATA_CHANNEL_OPEN label and protocol lengths (" +
                          std::to_string(label_len) + " + " + std::to_string(protocol_len) +
                          ") run past its " + std::to_string(b.size()) + " bytes");
    auto* p = reinterpret_cast<const char*>(b.data()) + kOpenHeader;
    m.label.assign(p, label_len);
    m.protocol.assign(p + label_len, protocol_len);
    return DcepMessage{std::move(m)};
}

std::vector<std::uint8_t> encode(const OpenMessage& m) {
    std::vector<std::uint8_t> v;
    auto label = m.label.substr(0, 0xffff), protocol = m.protocol.substr(0, 0xffff);
    v.reserve(kOpenHeader + label.size() + protocol.size());
    v.push_back(kMessageOpen);
    v.push_back(static_cast<std::uint8_t>(m.type));
    put16(v, m.priority);
    put16(v, static_cast<std::uint16_t>(m.reliability_parameter >> 16));
    put16(v, static_cast<std::uint16_t>(m.reliability_parameter));
    put16(v, static_cast<std::uint16_t>(label.size()));
    put16(v, static_cast<std::uint16_t>(protocol.size()));
    v.insert(v.end(), label.begin(), label.end());
    v.insert(v.end(), protocol.begin(), protocol.end());
    return v;
}

std::vector<std::uint8_t> encode(const AckMessage&) {
    return {kMessageAck};
}

} // namespace f0::rtc::datachannel

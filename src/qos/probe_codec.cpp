// Probe codec: fixed 14-byte header, any padding after it is ignored.
#include "qos/probe_codec.hpp"

namespace f0::qos {

std::vector<std::uint8_t> encode_probe(const ProbeMessage& m, std::size_t padded_size) {
    std::vector<std::uint8_t> b(std::max(kProbeHeader, padded_size), 0);
    b[0] = 0x51;
    b[1] = static_cast<std::uint8_t>(m.kind);
    for (int i = 0; i < 4; ++i)
        b[2 + i] = static_cast<std::uint8_t>(m.seq >> (24 - 8 * i));
    auto t = static_cast<std::uint64_t>(m.send_us);
    for (int i = 0; i < 8; ++i)
        b[6 + i] = static_cast<std::uint8_t>(t >> (56 - 8 * i));
    return b;
}

Result<ProbeMessage> parse_probe(std::span<const std::uint8_t> b) {
    if (b.size() < kProbeHeader)
        return make_error("qos message of " + std::to_string(b.size()) +
                          " bytes is shorter than its 14-byte header");
    if (b[0] != 0x51)
        return make_error("qos message does not start with 0x51");
    if (b[1] != 1 && b[1] != 2)
        return make_error("unknown qos message kind " + std::to_string(b[1]));
    ProbeMessage m;
    m.kind = static_cast<ProbeKind>(b[1]);
    for (int i = 0; i < 4; ++i)
        m.seq = m.seq << 8 | b[2 + i];
    std::uint64_t t = 0;
    for (int i = 0; i < 8; ++i)
        t = t << 8 | b[6 + i];
    m.send_us = static_cast<std::int64_t>(t);
    return m;
}

} // namespace f0::qos

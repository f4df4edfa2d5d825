// QoS probes on the link's "qos" channel (unordered, no retransmissions). Big-endian:
//   probe: 0x51 'Q', 0x01, seq u32, send_us u64, padding (to the configured probe size)
//   echo:  0x51 'Q', 0x02, seq u32, send_us u64 (copied from the probe)
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace f0::qos {

enum class ProbeKind : std::uint8_t { Probe = 1, Echo = 2 };

struct ProbeMessage {
    ProbeKind kind = ProbeKind::Probe;
    std::uint32_t seq = 0;
    std::int64_t send_us = 0;
};

constexpr std::size_t kProbeHeader = 14;

std::vector<std::uint8_t> encode_probe(const ProbeMessage& m, std::size_t padded_size = 0);
Result<ProbeMessage> parse_probe(std::span<const std::uint8_t> bytes);

} // namespace f0::qos

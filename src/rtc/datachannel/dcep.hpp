// Data Channel Establishment Protocol (RFC 8832): DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK.
// Pure codec: bytes -> message or error, message -> bytes.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace f0::rtc::datachannel {

enum class ChannelType : std::uint8_t {
    Reliable = 0x00,
    PartialReliableRexmit = 0x01,
    PartialReliableTimed = 0x02,
    ReliableUnordered = 0x80,
    PartialReliableRexmitUnordered = 0x81,
    PartialReliableTimedUnordered = 0x82,
};

struct OpenMessage {
    ChannelType type = ChannelType::Reliable;
    std::uint16_t priority = 256;
    std::uint32_t reliability_parameter = 0; // retransmissions or lifetime in ms
    std::string label;
    std::string protocol;
    bool operator==(const OpenMessage&) const = default;
};

struct AckMessage {
    bool operator==(const AckMessage&) const = default;
};

using DcepMessage = std::variant<OpenMessage, AckMessage>;

constexpr std::uint8_t kMessageAck = 0x02;
constexpr std::uint8_t kMessageOpen = 0x03;

Result<DcepMessage> parse_dcep(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> encode(const OpenMessage& open);
std::vector<std::uint8_t> encode(const AckMessage& ack);

} // namespace f0::rtc::datachannel

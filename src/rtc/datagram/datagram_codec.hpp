// Datagrams beside SCTP, inside DTLS: an f0mesh extension, offered as `a=x-f0-datagram` and used
// only when both sides offer it, for traffic that must not wait behind SCTP's congestion window
// and retransmissions (the QoS probes: their timings are to be the path's, not our queue's).
//
// A DTLS record carries either an SCTP packet or one datagram. An SCTP packet starts with its
// source and destination ports, and port 0 is never used (RFC 9260 section 3.1), so a record that
// starts with four zero bytes is ours:
//
//     00 00 00 00 | 'f' '0' 'd' version(1) | payload (1 .. kMaxPayload bytes)
//
// A peer without the extension never receives one (we send only after it offered it); if it did,
// its SCTP stack would drop the record (bad checksum, no association on port 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace f0::rtc::datagram {

inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::size_t kMaxPayload = 1024; // well inside one 1200-byte DTLS record

enum class Kind {
    Sctp,      // not ours: the SCTP packet it looks like
    Datagram,  // a well-formed datagram: payload() is its content
    Malformed, // starts like a datagram but is not one (bad magic or version, empty, oversize)
};

Kind classify(std::span<const std::uint8_t> record);
// The content of a record that classify() calls a Datagram.
inline std::span<const std::uint8_t> payload(std::span<const std::uint8_t> record) {
    return record.subspan(kHeaderSize);
}
// The record for a payload of 1..kMaxPayload bytes; empty when the payload does not fit.
std::vector<std::uint8_t> frame(std::span<const std::uint8_t> payload);

} // namespace f0::rtc::datagram

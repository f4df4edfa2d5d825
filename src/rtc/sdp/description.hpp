// A session description for a data-only WebRTC session (JSEP subset): the one m=application section
// with UDP/DTLS/SCTP. Parses what Chromium, Firefox and aiortc produce, ignores what it does not
// need, and writes what they accept. Connection logic never touches SDP text.
#pragma once

#include "rtc/sdp/candidate.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace f0::rtc::sdp {

enum class Type { Offer, Answer };
enum class Setup { ActPass, Active, Passive };

std::string_view to_string(Type type);
std::string_view to_string(Setup setup);
Result<Type> parse_type(std::string_view s); // "offer" / "answer"

struct Fingerprint {
    std::string algorithm; // lower case: sha-256, sha-384, sha-512, sha-1
    std::string value;     // upper-case hex pairs separated by ':'
    bool operator==(const Fingerprint&) const = default;
};

struct Description {
    Type type = Type::Offer;
    std::string session_id = "0";
    std::string mid = "0";
    std::string ice_ufrag;
    std::string ice_pwd;
    bool ice_trickle = false; // a=ice-options:trickle
    bool ice_lite = false;
    std::vector<Fingerprint> fingerprints;
    Setup setup = Setup::ActPass;
    std::uint16_t sctp_port = 5000;
    std::uint64_t max_message_size = 65536; // RFC 8841: 64 KiB when the attribute is absent
    std::vector<Candidate> candidates;
    bool end_of_candidates = false;
    // a=x-f0-datagram:offer|answer: datagrams beside SCTP inside DTLS
    // (rtc/datagram/datagram_codec.hpp), an f0mesh extension that other stacks ignore. Some
    // (libdatachannel) copy unknown attributes of an offer into their answer: an answer that says
    // `offer` is such an echo and does not count (a bare attribute, from an older f0mesh, does).
    bool datagrams = false;

    // Parses a whole description; errors name the offending line ("line 7: ...").
    static Result<Description> parse(std::string_view text, Type type);
    std::string to_string() const;
};

} // namespace f0::rtc::sdp

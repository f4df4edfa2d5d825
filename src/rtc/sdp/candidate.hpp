// An ICE candidate as carried in SDP (RFC 8839 section 5.1): parse and write "candidate:..." lines.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace f0::rtc::sdp {

struct Candidate {
    std::string foundation;
    int component = 1;
    std::string transport; // "udp" or "tcp", lower case
    std::uint32_t priority = 0;
    std::string address; // IP literal or hostname (an mDNS ".local" name from a browser)
    std::uint16_t port = 0;
    std::string type; // host, srflx, prflx, relay
    std::string related_address;
    std::uint16_t related_port = 0;
    std::vector<std::pair<std::string, std::string>> extensions; // generation 0, ufrag x, ...

    // Accepts "candidate:..." with or without a leading "a=".
    static Result<Candidate> parse(std::string_view line);
    // "candidate:..." without "a=".
    std::string to_string() const;
    bool is_mdns() const;
};

} // namespace f0::rtc::sdp

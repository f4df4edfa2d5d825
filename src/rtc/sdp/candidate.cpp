// Candidate grammar: foundation component transport priority address port "typ" type
// [raddr a rport p] *(extension-name extension-value).
#include "rtc/sdp/candidate.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace f0::rtc::sdp {

namespace {
std::vector<std::string_view> split_ws(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t')
            ++j;
        if (j > i)
            out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

template <class T> bool parse_uint(std::string_view s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

std::string lower(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    return r;
}
} // namespace

Result<Candidate> Candidate::parse(std::string_view line) {
    if (line.starts_with("a="))
        line.remove_prefix(2);
    if (!line.starts_with("candidate:"))
        return make_error("candidate must start with 'candidate:'");
    line.remove_prefix(10);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.remove_suffix(1);
    auto f = split_ws(line);
    if (f.size() < 8)
        return make_error("candidate has " + std::to_string(f.size()) +
                          " fields, needs at least 8");
    Candidate c;
    c.foundation = std::string(f[0]);
    if (!parse_uint(f[1], c.component) || c.component < 1 || c.component > 256)
        return make_error("candidate component '" + std::string(f[1]) + "' is not 1..256");
    c.transport = lower(f[2]);
    if (c.transport != "udp" && c.transport != "tcp")
        return make_error("candidate transport '" + std::string(f[2]) + "' is not udp or tcp");
    if (!parse_uint(f[3], c.priority))
        return make_error("candidate priority '" + std::string(f[3]) + "' is not a number");
    c.address = std::string(f[4]);
    if (c.address.empty() || c.address.size() > 255)
        return make_error("candidate address is empty or too long");
    if (!parse_uint(f[5], c.port))
        return make_error("candidate port '" + std::string(f[5]) + "' is not 0..65535");
    if (f[6] != "typ")
        return make_error("candidate field 7 must be 'typ', got '" + std::string(f[6]) + "'");
    c.type = lower(f[7]);
    if (c.type != "host" && c.type != "srflx" && c.type != "prflx" && c.type != "relay")
        return make_error("candidate type '" + std::string(f[7]) + "' is unknown");
    for (std::size_t i = 8; i + 1 < f.size(); i += 2) {
        if (f[i] == "raddr")
            c.related_address = std::string(f[i + 1]);
        else if (f[i] == "rport") {
            if (!parse_uint(f[i + 1], c.related_port))
                return make_error("candidate rport '" + std::string(f[i + 1]) + "' is bad");
        } else
            c.extensions.emplace_back(std::string(f[i]), std::string(f[i + 1]));
    }
    if ((f.size() - 8) % 2 != 0)
        return make_error("candidate has a dangling extension name '" + std::string(f.back()) +
                          "'");
    return c;
}

std::string Candidate::to_string() const {
    std::ostringstream o;
    o << "candidate:" << foundation << ' ' << component << ' ' << transport << ' ' << priority
      << ' ' << address << ' ' << port << " typ " << type;
    if (!related_address.empty())
        o << " raddr " << related_address << " rport " << related_port;
    for (const auto& [k, v] : extensions)
        o << ' ' << k << ' ' << v;
    return o.str();
}

bool Candidate::is_mdns() const {
    return address.ends_with(".local");
}

} // namespace f0::rtc::sdp

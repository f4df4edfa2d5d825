// SDP parsing and writing for the data-only subset. Unknown lines and other m= sections are
// ignored.
#include "rtc/sdp/description.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>

namespace f0::rtc::sdp {

namespace {
constexpr std::size_t kMaxSdpBytes = 256 * 1024; // real offers are a few KiB

template <class T> bool parse_uint(std::string_view s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

bool is_token(std::string_view s) {
    return !s.empty() && s.size() <= 256 &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

std::string upper(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::toupper(c); });
    return r;
}

std::string lower(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    return r;
}

bool valid_fingerprint_value(std::string_view v) {
    if (v.size() < 2 || (v.size() + 1) % 3 != 0)
        return false;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i % 3 == 2) {
            if (v[i] != ':')
                return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(v[i])))
            return false;
    }
    return true;
}

Error line_error(std::size_t n, const std::string& why) {
    return make_error("sdp line " + std::to_string(n) + ": " + why);
}

// Where attributes go: the session level, our application section, or an ignored section.
enum class Scope { Session, Ours, Ignored };

struct Partial {
    std::string ufrag, pwd;
    std::vector<Fingerprint> fingerprints;
    std::optional<Setup> setup;
    bool trickle = false;
};
} // namespace

std::string_view to_string(Type type) {
    return type == Type::Offer ? "offer" : "answer";
}

std::string_view to_string(Setup setup) {
    switch (setup) {
    case Setup::ActPass:
        return "actpass";
    case Setup::Active:
        return "active";
    case Setup::Passive:
        return "passive";
    }
    return "actpass";
}

Result<Type> parse_type(std::string_view s) {
    if (s == "offer")
        return Type::Offer;
    if (s == "answer")
        return Type::Answer;
    return make_error("sdp type must be 'offer' or 'answer', got '" + std::string(s) + "'");
}

Result<Description> Description::parse(std::string_view text, Type type) {
    if (text.size() > kMaxSdpBytes)
        return make_error("sdp is " + std::to_string(text.size()) + " bytes, limit is " +
                          std::to_string(kMaxSdpBytes));
    Description d;
    d.type = type;
    Partial session, media;
    Scope scope = Scope::Session;
    bool found = false, seen_version = false;
    std::size_t n = 0;
    while (!text.empty()) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        ++n;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            continue;
        if (line.size() < 2 || line[1] != '=' || !std::isalpha(static_cast<unsigned char>(line[0])))
            return line_error(n, "expected '<letter>=<value>', got '" +
                                     std::string(line.substr(0, 40)) + "'");
        const char kind = line[0];
        std::string_view value = line.substr(2);
        if (!seen_version) {
            if (line != "v=0")
                return line_error(n, "the first line must be 'v=0'");
            seen_version = true;
            continue;
        }
        if (kind == 'o' && scope == Scope::Session) {
            auto a = value.find(' '), b = value.find(' ', a == value.npos ? a : a + 1);
            if (a == value.npos || b == value.npos)
                return line_error(n, "malformed o= line");
            d.session_id = std::string(value.substr(a + 1, b - a - 1));
            continue;
        }
        if (kind == 'm') {
            // m=<media> <port> <proto> <fmt ...>
            std::istringstream in{std::string(value)};
            std::string media, port, proto, fmt;
            if (!(in >> media >> port >> proto))
                return line_error(n, "malformed m= line '" + std::string(value) + "'");
            in >> fmt;
            bool sctp = media == "application" && proto.find("DTLS/SCTP") != std::string::npos;
            if (sctp && !found) {
                found = true;
                scope = Scope::Ours;
                // Legacy "DTLS/SCTP 5000" carries the port as the format.
                std::uint16_t p = 0;
                if (proto == "DTLS/SCTP" && parse_uint(fmt, p))
                    d.sctp_port = p;
            } else
                scope = Scope::Ignored;
            continue;
        }
        if (kind != 'a' || scope == Scope::Ignored)
            continue;
        auto colon = value.find(':');
        std::string_view name = value.substr(0, colon);
        std::string_view arg = colon == value.npos ? std::string_view{} : value.substr(colon + 1);
        Partial& p = scope == Scope::Session ? session : media;
        if (name == "ice-ufrag") {
            if (!is_token(arg))
                return line_error(n, "bad ice-ufrag");
            p.ufrag = std::string(arg);
        } else if (name == "ice-pwd") {
            if (!is_token(arg))
                return line_error(n, "bad ice-pwd");
            p.pwd = std::string(arg);
        } else if (name == "ice-options") {
            p.trickle = p.trickle || arg.find("trickle") != arg.npos;
        } else if (name == "ice-lite") {
            d.ice_lite = true;
        } else if (name == "fingerprint") {
            auto sp = arg.find(' ');
            if (sp == arg.npos)
                return line_error(n, "fingerprint needs '<algorithm> <hex>'");
            auto algo = lower(arg.substr(0, sp));
            auto hex = arg.substr(sp + 1);
            if (!valid_fingerprint_value(hex))
                return line_error(n, "fingerprint value is not colon-separated hex");
            p.fingerprints.push_back({algo, upper(hex)});
        } else if (name == "setup") {
            if (arg == "actpass")
                p.setup = Setup::ActPass;
            else if (arg == "active")
                p.setup = Setup::Active;
            else if (arg == "passive")
                p.setup = Setup::Passive;
            else
                return line_error(n, "setup must be actpass, active or passive, got '" +
                                         std::string(arg) + "'");
        } else if (scope == Scope::Session) {
            continue; // group:BUNDLE, msid-semantic, extmap-allow-mixed: nothing to keep
        } else if (name == "mid") {
            if (!is_token(arg))
                return line_error(n, "bad mid");
            d.mid = std::string(arg);
        } else if (name == "sctp-port") {
            if (!parse_uint(arg, d.sctp_port))
                return line_error(n, "sctp-port '" + std::string(arg) + "' is not 0..65535");
        } else if (name == "sctpmap") {
            auto sp = arg.find(' ');
            if (!parse_uint(arg.substr(0, sp), d.sctp_port))
                return line_error(n, "bad sctpmap port");
        } else if (name == "max-message-size") {
            if (!parse_uint(arg, d.max_message_size))
                return line_error(n, "max-message-size '" + std::string(arg) + "' is not a number");
        } else if (name == "candidate") {
            auto c = Candidate::parse(value);
            if (!c)
                return line_error(n, c.error().message);
            d.candidates.push_back(std::move(c).value());
        } else if (name == "end-of-candidates") {
            d.end_of_candidates = true;
        } else if (name == "x-f0-datagram") {
            // An answer that repeats the offer's word is a stack echoing what it does not know.
            d.datagrams = !(type == Type::Answer && arg == "offer");
        }
    }
    if (!seen_version)
        return make_error("sdp is empty");
    if (!found)
        return make_error(
            "sdp has no 'm=application ... UDP/DTLS/SCTP webrtc-datachannel' section");
    d.ice_ufrag = !media.ufrag.empty() ? media.ufrag : session.ufrag;
    d.ice_pwd = !media.pwd.empty() ? media.pwd : session.pwd;
    d.fingerprints = !media.fingerprints.empty() ? media.fingerprints : session.fingerprints;
    d.ice_trickle = media.trickle || session.trickle;
    auto setup = media.setup ? media.setup : session.setup;
    d.setup = setup ? *setup : (type == Type::Offer ? Setup::ActPass : Setup::Active);
    if (d.ice_ufrag.empty())
        return make_error("sdp has no a=ice-ufrag");
    if (d.ice_pwd.empty())
        return make_error("sdp has no a=ice-pwd");
    if (d.fingerprints.empty())
        return make_error("sdp has no a=fingerprint");
    if (type == Type::Answer && d.setup == Setup::ActPass)
        return make_error("an answer must not use a=setup:actpass");
    return d;
}

std::string Description::to_string() const {
    std::ostringstream o;
    o << "v=0\r\n"
      << "o=- " << session_id << " 2 IN IP4 127.0.0.1\r\n"
      << "s=-\r\n"
      << "t=0 0\r\n"
      << "a=group:BUNDLE " << mid << "\r\n";
    if (ice_lite)
        o << "a=ice-lite\r\n";
    o << "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
      << "c=IN IP4 0.0.0.0\r\n"
      << "a=ice-ufrag:" << ice_ufrag << "\r\n"
      << "a=ice-pwd:" << ice_pwd << "\r\n";
    if (ice_trickle)
        o << "a=ice-options:trickle\r\n";
    for (const auto& f : fingerprints)
        o << "a=fingerprint:" << f.algorithm << ' ' << f.value << "\r\n";
    o << "a=setup:" << sdp::to_string(setup) << "\r\n"
      << "a=mid:" << mid << "\r\n"
      << "a=sctp-port:" << sctp_port << "\r\n"
      << "a=max-message-size:" << max_message_size << "\r\n";
    if (datagrams)
        o << "a=x-f0-datagram:" << (type == Type::Offer ? "offer" : "answer") << "\r\n";
    for (const auto& c : candidates)
        o << "a=" << c.to_string() << "\r\n";
    if (end_of_candidates)
        o << "a=end-of-candidates\r\n";
    return o.str();
}

} // namespace f0::rtc::sdp

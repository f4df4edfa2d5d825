#include "mesh/peers/peer_record.hpp"

#include "mesh/identity/identity.hpp"
#include "mesh/identity/jcs.hpp"
#include "mesh/identity/signed_envelope.hpp"

namespace f0::mesh {

namespace {
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// A DNS name (RFC 1123 labels of letters, digits and '-', not starting or ending with '-'), an
// IPv4 address in dotted decimal, or an IPv6 address in brackets.
bool valid_host(std::string_view h) {
    if (h.empty() || h.size() > 253)
        return false;
    if (h.front() == '[') {
        if (h.size() < 4 || h.back() != ']')
            return false;
        for (char c : h.substr(1, h.size() - 2))
            if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                  c == '.'))
                return false;
        return true;
    }
    std::size_t start = 0;
    while (start <= h.size()) {
        auto dot = h.find('.', start);
        auto label = h.substr(start, dot == std::string_view::npos ? h.npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label)
            if (!is_alnum(c) && c != '-')
                return false;
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return true;
}
} // namespace

std::optional<std::string> endpoint_refusal(const std::string& url) {
    if (url.size() > kMaxEndpointBytes)
        return "'endpoints.webrtc' is longer than 512 bytes";
    std::string_view rest(url);
    if (rest.starts_with("http://"))
        rest.remove_prefix(7);
    else if (rest.starts_with("https://"))
        rest.remove_prefix(8);
    else
        return "'endpoints.webrtc' must be an http(s) URL";
    if (rest.ends_with("/"))
        rest.remove_suffix(1);
    if (rest.find_first_of("/?#@\\ ") != std::string_view::npos)
        return "'endpoints.webrtc' is scheme, host and port only (no path, query or user): the "
               "paths are the protocol's";
    auto host = rest;
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (rest.front() != '[' || colon > rest.rfind(']'))) {
        auto port = rest.substr(colon + 1);
        host = rest.substr(0, colon);
        int n = 0;
        if (port.empty() || port.size() > 5)
            return "'endpoints.webrtc' has a port that is not 1-65535";
        for (char c : port) {
            if (!is_digit(c))
                return "'endpoints.webrtc' has a port that is not 1-65535";
            n = n * 10 + (c - '0');
        }
        if (n < 1 || n > 65535)
            return "'endpoints.webrtc' has a port that is not 1-65535";
    }
    if (!valid_host(host))
        return "'endpoints.webrtc' has a host that is not a DNS name, an IPv4 address or a "
               "bracketed IPv6 address";
    return std::nullopt;
}

nlohmann::json peer_record_json(const store::PeerRecord& p) {
    nlohmann::json j{{"id", p.id},
                     {"pubKey", p.pub_key},
                     {"region", p.region},
                     {"endpoints", {{"webrtc", p.endpoint}}}};
    if (p.lat && p.lon)
        j["geo"] = {{"lat", *p.lat}, {"lon", *p.lon}};
    return j;
}

std::string peer_record_canonical(const store::PeerRecord& p) {
    return identity::canonical_json(peer_record_json(p));
}

std::variant<store::PeerRecord, Error> peer_record_from_json(const nlohmann::json& j) {
    auto bad = [](std::string why) { return Error{Errc::BadRequest, std::move(why), {}}; };
    if (!j.is_object())
        return bad("a peer record must be a JSON object");
    auto str = [&](const char* k) -> const nlohmann::json* {
        auto it = j.find(k);
        return it == j.end() || !it->is_string() ? nullptr : &*it;
    };
    auto* id = str("id");
    auto* key = str("pubKey");
    if (!id || !key)
        return bad("'id' and 'pubKey' are required strings");
    store::PeerRecord p;
    p.id = id->get<std::string>();
    p.pub_key = key->get<std::string>();
    if (!identity::valid_peer_id(p.id))
        return bad("peer ids are 1-64 characters of [A-Za-z0-9._-]");
    if (auto k = identity::parse_public_key(p.pub_key); !k)
        return bad("'pubKey': " + k.error().message);
    if (auto r = j.find("region"); r != j.end()) {
        if (!r->is_string())
            return bad("'region' must be a string");
        p.region = r->get<std::string>();
        if (p.region.size() > kMaxRegionBytes)
            return bad("'region' is longer than 64 bytes");
    }
    auto eps = j.find("endpoints");
    if (eps == j.end() || !eps->is_object() || !eps->contains("webrtc") ||
        !(*eps)["webrtc"].is_string())
        return bad("'endpoints.webrtc' (the peer's signaling URL) is required");
    p.endpoint = (*eps)["webrtc"].get<std::string>();
    if (auto why = endpoint_refusal(p.endpoint))
        return bad(*why);
    if (p.endpoint.ends_with("/")) // one form per endpoint: the protocol appends its paths
        p.endpoint.pop_back();
    if (auto g = j.find("geo"); g != j.end() && !g->is_null()) {
        if (!g->is_object() || !g->contains("lat") || !g->contains("lon") ||
            !(*g)["lat"].is_number() || !(*g)["lon"].is_number())
            return bad("'geo' must be {\"lat\": number, \"lon\": number}");
        p.lat = (*g)["lat"].get<double>();
        p.lon = (*g)["lon"].get<double>();
        if (!(*p.lat >= -90 && *p.lat <= 90 && *p.lon >= -180 && *p.lon <= 180))
            return bad("'geo' is out of range");
    }
    return p;
}

} // namespace f0::mesh

#include "mesh/peers/peer_record.hpp"

#include "mesh/identity/identity.hpp"
#include "mesh/identity/jcs.hpp"
#include "mesh/identity/signed_envelope.hpp"

namespace f0::mesh {

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
    if (!p.endpoint.starts_with("http://") && !p.endpoint.starts_with("https://"))
        return bad("'endpoints.webrtc' must be an http(s) URL");
    if (p.endpoint.size() > kMaxEndpointBytes)
        return bad("'endpoints.webrtc' is longer than 512 bytes");
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

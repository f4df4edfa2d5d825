#include "mesh/peers/peer_record.hpp"

#include "mesh/identity/identity.hpp"
#include "mesh/identity/jcs.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "util/base64.hpp"

#include <openssl/sha.h>

#include <mutex>
#include <unordered_set>

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
    nlohmann::json j{{"id", p.id}, {"pubKey", p.pub_key}, {"region", p.region}};
    if (!p.endpoint.empty()) // a dial-only peer (a browser page) has none
        j["endpoints"] = {{"webrtc", p.endpoint}};
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
    // Optional: a peer without one (a browser page) only dials; nobody dials it or sends it
    // gossip over HTTPS.
    if (auto eps = j.find("endpoints"); eps != j.end()) {
        if (!eps->is_object() || eps->size() != 1 || !eps->contains("webrtc") ||
            !(*eps)["webrtc"].is_string())
            return bad("'endpoints' is {\"webrtc\": the peer's signaling URL}, or absent for a "
                       "peer that only dials");
        p.endpoint = (*eps)["webrtc"].get<std::string>();
        if (auto why = endpoint_refusal(p.endpoint))
            return bad(*why);
        if (p.endpoint.ends_with("/")) // one form per endpoint: the protocol appends its paths
            p.endpoint.pop_back();
    }
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

namespace f0::mesh {

namespace {
nlohmann::json self_signed_part(const SignedRecord& r) {
    auto j = peer_record_json(r.peer);
    j["ts"] = r.ts;
    if (r.delegation)
        j["delegation"] = r.delegation->to_json();
    return j;
}

std::string registration_input(const SignedRecord& r, const Registration& reg) {
    auto rec = self_signed_part(r);
    rec["sig"] = r.sig;
    return identity::canonical_json(
        nlohmann::json{{"at", reg.at}, {"by", reg.by}, {"key", reg.key}, {"record", rec}});
}

// Records are verified wherever they arrive, and the same record arrives again and again (from
// several peers, in every anti-entropy repair, at every node of a simulation in one process):
// signatures that verified are remembered, by SHA-256 of key, signature and text, in a bounded
// set (kVerifiedCache entries, cleared whole when full).
constexpr std::size_t kVerifiedCache = 65'536;

std::string verified_key(const std::string& key_b64, const std::string& sig_b64,
                         const std::string& text) {
    std::string all;
    all.reserve(key_b64.size() + sig_b64.size() + text.size() + 12);
    for (const auto* part : {&key_b64, &sig_b64, &text}) {
        auto n = std::to_string(part->size());
        all.append(n).push_back(':');
        all.append(*part);
    }
    std::string d(SHA256_DIGEST_LENGTH, '\0');
    SHA256(reinterpret_cast<const unsigned char*>(all.data()), all.size(),
           reinterpret_cast<unsigned char*>(d.data()));
    return d;
}

struct Verified {
    std::mutex mu;
    std::unordered_set<std::string> keys;
    bool has(const std::string& k) {
        std::lock_guard lock(mu);
        return keys.count(k) > 0;
    }
    void add(std::string k) {
        std::lock_guard lock(mu);
        if (keys.size() >= kVerifiedCache)
            keys.clear();
        keys.insert(std::move(k));
    }
};
Verified& verified() {
    static Verified v;
    return v;
}

bool verify_text(const std::string& key_b64, const std::string& sig_b64, const std::string& text) {
    auto cache_key = verified_key(key_b64, sig_b64, text);
    if (verified().has(cache_key))
        return true;
    auto key = identity::parse_public_key(key_b64);
    auto raw = base64_decode(sig_b64);
    if (!key || !raw || raw.value().size() != 64)
        return false;
    identity::Signature s;
    std::copy(raw.value().begin(), raw.value().end(), s.begin());
    if (!identity::verify(key.value(),
                          {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, s))
        return false;
    verified().add(std::move(cache_key));
    return true;
}

// Our own signature: known good without verifying it.
std::string sign_text(const identity::Identity& id, const std::string& text) {
    auto sig =
        base64_encode(id.sign({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
    verified().add(verified_key(id.public_key_base64(), sig, text));
    return sig;
}

// A positive integer of milliseconds that JSON numbers carry exactly (< 2^53).
std::optional<std::int64_t> millis(const nlohmann::json& j) {
    if (!j.is_number_integer())
        return std::nullopt;
    auto v = j.get<std::int64_t>();
    if (v <= 0 || v >= (std::int64_t{1} << 53))
        return std::nullopt;
    return v;
}
} // namespace

std::variant<SignedRecord, Error> signed_record_from_json(const nlohmann::json& j) {
    auto bad = [](Errc c, std::string why) { return Error{c, std::move(why), {}}; };
    auto base = peer_record_from_json(j);
    if (auto* e = std::get_if<Error>(&base))
        return *e;
    SignedRecord r;
    r.peer = std::get<store::PeerRecord>(std::move(base));
    auto ts = j.find("ts");
    auto sig = j.find("sig");
    if ((ts == j.end()) != (sig == j.end()))
        return bad(Errc::BadRequest, "a signed record has both 'ts' and 'sig'");
    if (j.contains("reg") && sig == j.end())
        return bad(Errc::BadRequest, "'reg' countersigns a signed record: 'ts' and 'sig' missing");
    if (sig == j.end())
        return r;
    auto t = millis(*ts);
    if (!t)
        return bad(Errc::BadRequest, "'ts' must be a positive integer of milliseconds");
    if (!sig->is_string() || sig->get_ref<const std::string&>().size() > 128)
        return bad(Errc::BadRequest, "'sig' must be a base64 Ed25519 signature");
    r.ts = *t;
    r.sig = sig->get<std::string>();
    std::string signer = r.peer.pub_key;
    if (auto d = j.find("delegation"); d != j.end()) {
        auto parsed = identity::Delegation::from_json(*d);
        if (!parsed)
            return bad(Errc::BadRequest, "'delegation': " + parsed.error().message);
        const auto& dl = parsed.value();
        if (dl.peer != r.peer.id || base64_encode(dl.peer_key) != r.peer.pub_key)
            return bad(Errc::BadDelegation,
                       "the delegation is for another peer or key than the record's 'id' and "
                       "'pubKey'");
        if (!dl.verify())
            return bad(Errc::BadDelegation, "the delegation is not signed by its 'peerKey'");
        signer = base64_encode(dl.instance_key);
        r.delegation = std::move(parsed.value());
    }
    if (!verify_text(signer, r.sig, identity::canonical_json(self_signed_part(r))))
        return bad(Errc::BadSignature,
                   r.delegation ? "the record's 'sig' does not verify with its delegation's "
                                  "'instanceKey'"
                                : "the record's 'sig' does not verify with its 'pubKey' (it "
                                  "signs the RFC 8785 text of the record without 'sig')");
    if (auto g = j.find("reg"); g != j.end()) {
        if (!g->is_object() || g->size() != 4 || !g->contains("by") || !(*g)["by"].is_string() ||
            !g->contains("key") || !(*g)["key"].is_string() || !g->contains("sig") ||
            !(*g)["sig"].is_string() || !g->contains("at"))
            return bad(Errc::BadRequest, "'reg' must be {\"by\", \"key\", \"at\", \"sig\"}");
        Registration reg{(*g)["by"].get<std::string>(), (*g)["key"].get<std::string>(),
                         (*g)["sig"].get<std::string>(), 0};
        auto at = millis((*g)["at"]);
        if (!at || !identity::valid_peer_id(reg.by) || reg.sig.size() > 128)
            return bad(Errc::BadRequest, "'reg' has a bad 'by', 'at' or 'sig'");
        reg.at = *at;
        if (auto k = identity::parse_public_key(reg.key); !k)
            return bad(Errc::BadRequest, "'reg.key': " + k.error().message);
        if (!verify_text(reg.key, reg.sig, registration_input(r, reg)))
            return bad(Errc::BadSignature, "'reg.sig' does not verify with 'reg.key'");
        r.reg = std::move(reg);
    }
    return r;
}

nlohmann::json signed_record_json(const SignedRecord& r) {
    auto j = peer_record_json(r.peer);
    if (!r.is_signed())
        return j;
    j["ts"] = r.ts;
    j["sig"] = r.sig;
    if (r.delegation)
        j["delegation"] = r.delegation->to_json();
    if (r.reg)
        j["reg"] = {{"by", r.reg->by}, {"key", r.reg->key}, {"at", r.reg->at}, {"sig", r.reg->sig}};
    return j;
}

std::string signed_record_canonical(const SignedRecord& r) {
    return identity::canonical_json(signed_record_json(r));
}

SignedRecord sign_record(const store::PeerRecord& p, std::int64_t ts,
                         const identity::Identity& identity,
                         const std::optional<identity::Delegation>& delegation) {
    SignedRecord r{p, ts, {}, std::nullopt, delegation};
    r.sig = sign_text(identity, identity::canonical_json(self_signed_part(r)));
    return r;
}

void countersign(SignedRecord& r, const std::string& registrar, const identity::Identity& identity,
                 std::int64_t at) {
    Registration reg{registrar, identity.public_key_base64(), {}, at};
    reg.sig = sign_text(identity, registration_input(r, reg));
    r.reg = std::move(reg);
}

} // namespace f0::mesh

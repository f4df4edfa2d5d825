// Envelope codec and signing.
#include "mesh/identity/signed_envelope.hpp"

#include "mesh/identity/jcs.hpp"
#include "util/base64.hpp"

#include <openssl/rand.h>

namespace f0::mesh::identity {

namespace {
constexpr std::size_t kMaxPeerId = 64;
constexpr std::size_t kMaxSdp = 64 * 1024;

} // namespace

Result<std::string> string_field(const nlohmann::json& j, const char* name, std::size_t max) {
    auto it = j.find(name);
    if (it == j.end())
        return make_error(std::string("missing field '") + name + "'");
    if (!it->is_string())
        return make_error(std::string("field '") + name + "' must be a string");
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max)
        return make_error(std::string("field '") + name + "' is longer than " +
                          std::to_string(max));
    return s;
}
bool valid_peer_id(const std::string& id) {
    if (id.empty() || id.size() > kMaxPeerId)
        return false;
    for (unsigned char c : id)
        if (!std::isalnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    return true;
}

nlohmann::json Envelope::to_json() const {
    nlohmann::json j{{"peerFrom", peer_from}, {"peerTo", peer_to}, {"type", type}, {"sdp", sdp},
                     {"ts", ts_ms},           {"nonce", nonce}};
    if (delegation)
        j["delegation"] = delegation->to_json();
    if (!sig.empty())
        j["sig"] = sig;
    return j;
}

Result<Envelope> Envelope::from_json(const nlohmann::json& j) {
    if (!j.is_object())
        return make_error("the envelope must be a JSON object");
    Envelope e;
    struct Field {
        const char* name;
        std::string* out;
        std::size_t max;
    };
    for (auto f :
         {Field{"peerFrom", &e.peer_from, kMaxPeerId}, Field{"peerTo", &e.peer_to, kMaxPeerId},
          Field{"type", &e.type, 16}, Field{"sdp", &e.sdp, kMaxSdp}, Field{"nonce", &e.nonce, 64},
          Field{"sig", &e.sig, 128}}) {
        auto v = string_field(j, f.name, f.max);
        if (!v)
            return v.error();
        *f.out = v.value();
    }
    auto ts = j.find("ts");
    if (ts == j.end())
        return make_error("missing field 'ts'");
    if (!ts->is_number_integer())
        return make_error("field 'ts' must be an integer (Unix ms)");
    e.ts_ms = ts->get<std::int64_t>();
    if (!valid_peer_id(e.peer_from) || !valid_peer_id(e.peer_to))
        return make_error("peer ids must be 1-64 characters of [A-Za-z0-9._-]");
    if (e.type != "offer" && e.type != "answer" && e.type != "gossip" && e.type != "restart")
        return make_error("field 'type' must be 'offer', 'answer', 'restart' or 'gossip'");
    auto nonce = base64_decode(e.nonce);
    if (!nonce || nonce.value().size() != 16)
        return make_error("field 'nonce' must be 16 bytes in base64");
    if (auto d = j.find("delegation"); d != j.end()) {
        auto parsed = Delegation::from_json(*d);
        if (!parsed)
            return make_error("field 'delegation': " + parsed.error().message);
        e.delegation = std::move(parsed.value());
    }
    return e;
}

std::string Envelope::signing_input() const {
    Envelope copy = *this;
    copy.sig.clear();
    return canonical_json(copy.to_json());
}

void Envelope::sign(const Identity& identity) {
    auto input = signing_input();
    auto s = identity.sign({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});
    sig = base64_encode(s);
}

bool Envelope::verify(const PublicKey& key) const {
    auto raw = base64_decode(sig);
    if (!raw || raw.value().size() != 64)
        return false;
    Signature s;
    std::copy(raw.value().begin(), raw.value().end(), s.begin());
    auto input = signing_input();
    return identity::verify(key,
                            {reinterpret_cast<const std::uint8_t*>(input.data()), input.size()}, s);
}

std::string Envelope::random_nonce() {
    std::uint8_t n[16];
    RAND_bytes(n, sizeof n);
    return base64_encode(n);
}

} // namespace f0::mesh::identity

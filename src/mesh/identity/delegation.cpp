// Delegations and revocations: codec, issuing, the receiver's check.
#include "mesh/identity/delegation.hpp"

#include "mesh/identity/jcs.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "util/base64.hpp"
#include "util/json_in.hpp"

#include <algorithm>

namespace f0::mesh::identity {

namespace {

constexpr std::string_view kDelegationType = "f0-delegation";
constexpr std::string_view kRevocationType = "f0-revocation";

Result<std::int64_t> int_field(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end())
        return make_error(std::string("missing field '") + name + "'");
    if (!it->is_number_integer())
        return make_error(std::string("field '") + name + "' must be an integer (Unix ms)");
    auto v = it->get<std::int64_t>();
    if (v < 0)
        return make_error(std::string("field '") + name + "' must not be negative");
    return v;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> bytes_field(const nlohmann::json& j, const char* name) {
    auto text = string_field(j, name, 2 * N);
    if (!text)
        return text.error();
    auto raw = base64_decode(text.value());
    if (!raw || raw.value().size() != N)
        return make_error(std::string("field '") + name + "' must be " + std::to_string(N) +
                          " bytes in base64");
    std::array<std::uint8_t, N> out{};
    std::copy(raw.value().begin(), raw.value().end(), out.begin());
    return out;
}

// The fields both documents share: type, v, peer, peerKey, instance, instanceKey, sig.
template <typename Doc>
Result<Doc> common_fields(const nlohmann::json& j, std::string_view type, std::size_t fields) {
    if (!j.is_object())
        return make_error("must be a JSON object");
    if (j.size() != fields)
        return make_error("must have exactly the fields of its type (" + std::to_string(fields) +
                          ")");
    auto t = string_field(j, "type", 32);
    if (!t)
        return t.error();
    if (t.value() != type)
        return make_error("field 'type' must be '" + std::string(type) + "'");
    auto v = j.find("v");
    if (v == j.end() || !v->is_number_integer() || v->get<std::int64_t>() != 1)
        return make_error("field 'v' must be 1");
    Doc d;
    auto peer = string_field(j, "peer", 64);
    auto instance = string_field(j, "instance", 64);
    if (!peer)
        return peer.error();
    if (!instance)
        return instance.error();
    d.peer = peer.value();
    d.instance = instance.value();
    if (!valid_peer_id(d.peer) || !valid_peer_id(d.instance))
        return make_error("'peer' and 'instance' must be 1-64 characters of [A-Za-z0-9._-]");
    auto pk = bytes_field<32>(j, "peerKey");
    if (!pk)
        return pk.error();
    auto ik = bytes_field<32>(j, "instanceKey");
    if (!ik)
        return ik.error();
    auto sig = bytes_field<64>(j, "sig");
    if (!sig)
        return sig.error();
    d.peer_key = pk.value();
    d.instance_key = ik.value();
    d.sig = sig.value();
    if (d.peer_key == d.instance_key)
        return make_error("'instanceKey' must not be the peer's own key");
    return d;
}

template <typename Doc> Result<Doc> parse_text(std::string_view text) {
    if (text.size() > kMaxDelegationBytes)
        return make_error("longer than " + std::to_string(kMaxDelegationBytes) + " bytes");
    auto j = parse_untrusted(text);
    if (j.is_discarded())
        return make_error("not JSON (or nested too deep)");
    return Doc::from_json(j);
}

// The fields both documents share, in their JSON form; each adds its time fields.
template <typename Doc> nlohmann::json common_json(const Doc& d, std::string_view type) {
    return {{"type", type},
            {"v", 1},
            {"peer", d.peer},
            {"peerKey", base64_encode(d.peer_key)},
            {"instance", d.instance},
            {"instanceKey", base64_encode(d.instance_key)},
            {"sig", base64_encode(d.sig)}};
}

// The bytes the signature covers: RFC 8785 of the document without "sig".
std::string unsigned_canonical(nlohmann::json j) {
    j.erase("sig");
    return canonical_json(j);
}

bool verify_bytes(const PublicKey& key, const std::string& input, const Signature& sig) {
    return verify(key, {reinterpret_cast<const std::uint8_t*>(input.data()), input.size()}, sig);
}

Signature sign_text(const Identity& id, const std::string& input) {
    return id.sign({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});
}

} // namespace

nlohmann::json Delegation::to_json() const {
    auto j = common_json(*this, kDelegationType);
    j["notBefore"] = not_before_ms;
    j["notAfter"] = not_after_ms;
    return j;
}

Result<Delegation> Delegation::from_json(const nlohmann::json& j) {
    auto d = common_fields<Delegation>(j, kDelegationType, 9);
    if (!d)
        return d.error();
    auto nb = int_field(j, "notBefore");
    if (!nb)
        return nb.error();
    auto na = int_field(j, "notAfter");
    if (!na)
        return na.error();
    d.value().not_before_ms = nb.value();
    d.value().not_after_ms = na.value();
    if (na.value() <= nb.value())
        return make_error("'notAfter' must be after 'notBefore'");
    if (na.value() - nb.value() > kMaxDelegationMs)
        return make_error("a delegation is valid for at most 90 days");
    return d;
}

Result<Delegation> Delegation::parse(std::string_view text) {
    return parse_text<Delegation>(text);
}

std::string Delegation::signing_input() const {
    return unsigned_canonical(to_json());
}

bool Delegation::verify() const {
    return verify_bytes(peer_key, signing_input(), sig);
}

nlohmann::json Revocation::to_json() const {
    auto j = common_json(*this, kRevocationType);
    j["ts"] = ts_ms;
    return j;
}

Result<Revocation> Revocation::from_json(const nlohmann::json& j) {
    auto r = common_fields<Revocation>(j, kRevocationType, 8);
    if (!r)
        return r.error();
    auto ts = int_field(j, "ts");
    if (!ts)
        return ts.error();
    r.value().ts_ms = ts.value();
    return r;
}

Result<Revocation> Revocation::parse(std::string_view text) {
    return parse_text<Revocation>(text);
}

std::string Revocation::signing_input() const {
    return unsigned_canonical(to_json());
}

bool Revocation::verify() const {
    return verify_bytes(peer_key, signing_input(), sig);
}

Result<Delegation> issue_delegation(const Identity& peer_key, std::string peer,
                                    std::string instance, const PublicKey& instance_key,
                                    std::int64_t not_before_ms, std::int64_t not_after_ms) {
    Delegation d;
    d.peer = std::move(peer);
    d.peer_key = peer_key.public_key();
    d.instance = std::move(instance);
    d.instance_key = instance_key;
    d.not_before_ms = not_before_ms;
    d.not_after_ms = not_after_ms;
    // Issued only as a receiver would accept it.
    auto checked = Delegation::from_json(d.to_json());
    if (!checked)
        return checked.error();
    d.sig = sign_text(peer_key, d.signing_input());
    return d;
}

Result<Revocation> issue_revocation(const Identity& peer_key, std::string peer,
                                    std::string instance, const PublicKey& instance_key,
                                    std::int64_t ts_ms) {
    Revocation r;
    r.peer = std::move(peer);
    r.peer_key = peer_key.public_key();
    r.instance = std::move(instance);
    r.instance_key = instance_key;
    r.ts_ms = ts_ms;
    auto checked = Revocation::from_json(r.to_json());
    if (!checked)
        return checked.error();
    r.sig = sign_text(peer_key, r.signing_input());
    return r;
}

std::string_view to_string(DelegationRefusal r) {
    switch (r) {
    case DelegationRefusal::BadSignature:
        return "the delegation is not signed by the peer key it names";
    case DelegationRefusal::WrongPeer:
        return "the delegation is for another peer";
    case DelegationRefusal::WrongPeerKey:
        return "the delegation is signed by a key that is not the peer's registered key";
    case DelegationRefusal::NotYetValid:
        return "the delegation is not valid yet";
    case DelegationRefusal::Expired:
        return "the delegation has expired";
    case DelegationRefusal::Revoked:
        return "the instance's key was revoked by the peer";
    }
    return "refused";
}

RevocationSet::Added RevocationSet::add(const Revocation& r, const PublicKey& pinned) {
    if (r.peer_key != pinned)
        return Added::WrongPeerKey;
    if (!r.verify())
        return Added::BadSignature;
    auto it = by_peer_.find(r.peer);
    if (it == by_peer_.end()) {
        if (by_peer_.size() >= max_peers_)
            return Added::Full;
        it = by_peer_.emplace(r.peer, std::set<std::pair<std::int64_t, PublicKey>>{}).first;
    }
    auto& keys = it->second;
    for (const auto& [ts, key] : keys)
        if (key == r.instance_key)
            return Added::Known;
    keys.emplace(r.ts_ms, r.instance_key);
    if (keys.size() > kMaxRevocationsPerPeer)
        keys.erase(keys.begin());
    return Added::New;
}

bool RevocationSet::revoked(const std::string& peer, const PublicKey& instance_key) const {
    auto it = by_peer_.find(peer);
    if (it == by_peer_.end())
        return false;
    return std::any_of(it->second.begin(), it->second.end(),
                       [&](const auto& e) { return e.second == instance_key; });
}

std::size_t RevocationSet::size() const {
    std::size_t n = 0;
    for (const auto& [peer, keys] : by_peer_)
        n += keys.size();
    return n;
}

std::optional<DelegationRefusal>
verify_delegation(const Delegation& d, const std::string& claimed_peer, const PublicKey& pinned,
                  std::int64_t now_ms, std::int64_t skew_ms, const RevocationSet& revoked) {
    if (d.peer != claimed_peer)
        return DelegationRefusal::WrongPeer;
    if (d.peer_key != pinned)
        return DelegationRefusal::WrongPeerKey;
    if (!d.verify())
        return DelegationRefusal::BadSignature;
    if (!d.valid_at(now_ms, skew_ms))
        return now_ms + skew_ms < d.not_before_ms ? DelegationRefusal::NotYetValid
                                                  : DelegationRefusal::Expired;
    if (revoked.revoked(d.peer, d.instance_key))
        return DelegationRefusal::Revoked;
    return std::nullopt;
}

} // namespace f0::mesh::identity

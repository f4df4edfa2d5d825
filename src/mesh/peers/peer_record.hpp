// The one JSON form of a peer record, with one set of validation rules, used by POST /beacon,
// the beacon's GET /peers, the replicated registry and GET /self:
//   {"id", "pubKey", "region", "endpoints": {"webrtc": URL}, "geo": {"lat", "lon"}?}
// and its signed form, the element of the replicated registry (docs/PROTOCOL.md, "Registry
// records"): the record with "ts" (ms, the signer's clock) and "sig" (Ed25519 by pubKey over the
// RFC 8785 text of the record without "sig" and "reg"), countersigned by the registrar that
// accepted it:
//   "reg": {"by": registrar id, "key": its public key, "at": ms (the registrar's clock),
//           "sig": Ed25519 by "key" over the RFC 8785 text of {"at", "by", "key", "record"}}
// where "record" is the self-signed record (with "sig", without "reg").
#pragma once

#include "mesh/core/errors.hpp"
#include "mesh/identity/delegation.hpp"
#include "mesh/identity/identity.hpp"
#include "store/records.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>

namespace f0::mesh {

constexpr std::size_t kMaxRegionBytes = 64;
constexpr std::size_t kMaxEndpointBytes = 512;

// The record as JSON (extra fields of a view, like trust, are added by the caller).
nlohmann::json peer_record_json(const store::PeerRecord& p);
// RFC 8785 canonical text of peer_record_json: the element of the replicated registry.
std::string peer_record_canonical(const store::PeerRecord& p);
// Why `url` is not a peer's signaling endpoint, or nothing when it is: http(s), a host (DNS name,
// IPv4, [IPv6]) and an optional port, and nothing else (one trailing '/' aside) — the paths
// (/offer, /gossip) are the protocol's, so a record cannot aim other workers at any other URL.
std::optional<std::string> endpoint_refusal(const std::string& url);
// Parses and validates: id, base64 Ed25519 key, region, http(s) endpoint, geo in range.
std::variant<store::PeerRecord, Error> peer_record_from_json(const nlohmann::json& j);

// A registrar's countersignature: it accepted the record at `at` (its clock).
struct Registration {
    std::string by, key, sig;
    std::int64_t at = 0;
};
struct SignedRecord {
    store::PeerRecord peer;
    std::int64_t ts = 0; // 0 with an empty sig: an unsigned record (registered locally only)
    std::string sig;
    std::optional<Registration> reg;
    // An instance's record (issue 17): `sig` is by the delegation's instance key, which the
    // delegation (signed by `pubKey`, the peer's key) certifies; `endpoints` is the instance's.
    std::optional<identity::Delegation> delegation;
    bool is_signed() const { return !sig.empty(); }
    const std::string* instance() const { return delegation ? &delegation->instance : nullptr; }
};
constexpr std::size_t kMaxSignedRecordBytes = 2048;

// Parses a record that may be signed: the fields as peer_record_from_json; "ts" and "sig" both or
// neither; when present, the signature must verify with "pubKey" (BadSignature otherwise), and a
// "reg" must be well formed and verify with its "key". A "delegation" (signed records only) must
// be for this "id" and "pubKey" and signed by it, and then "sig" must verify with its instance
// key instead; its validity in time and revocation are the receiver's to check (it has a clock).
std::variant<SignedRecord, Error> signed_record_from_json(const nlohmann::json& j);
nlohmann::json signed_record_json(const SignedRecord& r);
// RFC 8785 text of signed_record_json: the element of the replicated registry.
std::string signed_record_canonical(const SignedRecord& r);
// `p` signed by its own key at `ts` (the caller holds that key: p.pub_key is identity's).
// An instance signs with its own key and attaches its delegation (p.pub_key is the peer's key).
SignedRecord sign_record(const store::PeerRecord& p, std::int64_t ts,
                         const identity::Identity& identity,
                         const std::optional<identity::Delegation>& delegation = std::nullopt);
// Adds this registrar's countersignature (replacing any).
void countersign(SignedRecord& r, const std::string& registrar, const identity::Identity& identity,
                 std::int64_t at);

} // namespace f0::mesh

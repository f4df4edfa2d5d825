// The one JSON form of a peer record, with one set of validation rules, used by POST /beacon,
// the beacon's GET /peers, the replicated registry and GET /self:
//   {"id", "pubKey", "region", "endpoints": {"webrtc": URL}, "geo": {"lat", "lon"}?}
#pragma once

#include "mesh/core/errors.hpp"
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

} // namespace f0::mesh

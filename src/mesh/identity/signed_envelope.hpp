// The signaling envelope {peerFrom, peerTo, type, sdp, ts, nonce, delegation?, sig}: sig is the
// Ed25519 signature of the RFC 8785 serialisation of every other field. The SDP carries the DTLS
// fingerprint, so the signature binds the encrypted channel to the sender's identity.
#pragma once

#include "mesh/identity/delegation.hpp"
#include "mesh/identity/identity.hpp"
#include "util/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace f0::mesh::identity {

// Peer ids: 1-64 characters of [A-Za-z0-9._-].
bool valid_peer_id(const std::string& id);

// The string field `name` of a signed document (envelope, delegation, revocation): present, a
// string, at most `max` bytes; else an error that names the field.
Result<std::string> string_field(const nlohmann::json& j, const char* name, std::size_t max);

struct Envelope {
    std::string peer_from;
    std::string peer_to;
    std::string type; // "offer", "answer", or "gossip" (HTTPS fallback of the gossip channel)
    std::string sdp;  // the SDP; for "gossip", the gossip frame
    std::int64_t ts_ms = 0;
    std::string nonce; // 16 random bytes, base64
    std::string sig;   // base64 Ed25519 signature
    // From one instance of a peer served by several (issue 17): the peer key's certificate of the
    // instance key that signed this envelope. Signed like every other field.
    std::optional<Delegation> delegation;

    nlohmann::json to_json() const;
    // Checks presence, types and sizes of every field (not the signature).
    static Result<Envelope> from_json(const nlohmann::json& j);
    // The exact bytes the signature covers: JCS of the envelope without "sig".
    std::string signing_input() const;
    void sign(const Identity& identity);
    bool verify(const PublicKey& key) const;

    static std::string random_nonce();
};

} // namespace f0::mesh::identity

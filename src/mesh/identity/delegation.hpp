// Several workers per peer (issue 17), the identity part: the peer's Ed25519 key (kept by the
// operator) certifies each worker instance's own key for a bounded time, and can revoke it.
//
//   delegation  {type:"f0-delegation", v:1, peer, peerKey, instance, instanceKey,
//                notBefore, notAfter, sig}
//   revocation  {type:"f0-revocation", v:1, peer, peerKey, instance, instanceKey, ts, sig}
//
// sig: Ed25519 by peerKey over the RFC 8785 serialisation of every other field (as envelopes).
// A receiver accepts an instance speaking for `peer` only if the delegation parses, its signature
// holds, its peerKey is the key it has pinned for `peer`, it is inside its validity (with the
// signaling window's skew) and its instance key is not revoked. No instance holds the peer key.
// Pure: no clock, no I/O (time comes in as an argument).
#pragma once

#include "mesh/identity/identity.hpp"
#include "util/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace f0::mesh::identity {

// The longest validity a delegation may carry: an instance's key that leaks is good for at most
// this long even if nobody revokes it.
constexpr std::int64_t kMaxDelegationMs = 90LL * 24 * 3600 * 1000;
// A delegation or revocation document is at most this many bytes of JSON (they travel inside
// registry records and signaling envelopes).
constexpr std::size_t kMaxDelegationBytes = 1024;

struct Delegation {
    std::string peer;
    PublicKey peer_key{};
    std::string instance; // a peer id's alphabet, 1-64 characters
    PublicKey instance_key{};
    std::int64_t not_before_ms = 0;
    std::int64_t not_after_ms = 0;
    Signature sig{};

    nlohmann::json to_json() const;
    // Presence, types, sizes, alphabets, key lengths, notBefore < notAfter within
    // kMaxDelegationMs. Not the signature (verify_delegation does that).
    static Result<Delegation> from_json(const nlohmann::json& j);
    static Result<Delegation> parse(std::string_view text); // bounded by kMaxDelegationBytes
    std::string signing_input() const;
    bool verify() const; // signed by peer_key (the rest of the checks: verify_delegation)
    // now is within [notBefore, notAfter] widened by skew on both sides.
    bool valid_at(std::int64_t now_ms, std::int64_t skew_ms) const {
        return now_ms + skew_ms >= not_before_ms && now_ms - skew_ms <= not_after_ms;
    }
};

struct Revocation {
    std::string peer;
    PublicKey peer_key{};
    std::string instance;
    PublicKey instance_key{};
    std::int64_t ts_ms = 0;
    Signature sig{};

    nlohmann::json to_json() const;
    static Result<Revocation> from_json(const nlohmann::json& j);
    static Result<Revocation> parse(std::string_view text);
    std::string signing_input() const;
    bool verify() const; // signed by peer_key
};

// Made by the holder of the peer key (f0mesh delegate).
Result<Delegation> issue_delegation(const Identity& peer_key, std::string peer,
                                    std::string instance, const PublicKey& instance_key,
                                    std::int64_t not_before_ms, std::int64_t not_after_ms);
Result<Revocation> issue_revocation(const Identity& peer_key, std::string peer,
                                    std::string instance, const PublicKey& instance_key,
                                    std::int64_t ts_ms);

// Why a delegation is refused (Pion-style named errors; to_string gives the log/HTTP text).
enum class DelegationRefusal {
    BadSignature, // not signed by the peerKey it names
    WrongPeer,    // for another peer than the one the instance claims to be
    WrongPeerKey, // signed by a key that is not the one pinned for the peer
    NotYetValid,  // notBefore is ahead of now by more than the skew
    Expired,      // notAfter is behind now by more than the skew
    Revoked,      // its instance key was revoked by the peer key
};
std::string_view to_string(DelegationRefusal r);

// The revoked instance keys of each peer, learned from signed revocations. Bounded: at most
// kMaxRevocationsPerPeer per peer (the oldest is dropped beyond; a dropped one's delegation
// expires within kMaxDelegationMs anyway) and `max_peers` peers.
class RevocationSet {
public:
    static constexpr std::size_t kMaxRevocationsPerPeer = 64;
    explicit RevocationSet(std::size_t max_peers = 100'000) : max_peers_(max_peers) {}

    enum class Added { New, Known, BadSignature, WrongPeerKey, Full };
    // `pinned`: the key pinned for revocation.peer (a revocation signed by another key is refused).
    Added add(const Revocation& r, const PublicKey& pinned);
    bool revoked(const std::string& peer, const PublicKey& instance_key) const;
    std::size_t size() const;

private:
    std::size_t max_peers_;
    // peer -> (ts, instance key) ordered by ts, so the oldest goes first when over the cap.
    std::map<std::string, std::set<std::pair<std::int64_t, PublicKey>>> by_peer_;
};

// The whole check a receiver makes. `pinned`: the key this worker has bound to `claimed_peer`
// (its registry); `skew_ms`: the signaling window.
std::optional<DelegationRefusal>
verify_delegation(const Delegation& d, const std::string& claimed_peer, const PublicKey& pinned,
                  std::int64_t now_ms, std::int64_t skew_ms, const RevocationSet& revoked);

} // namespace f0::mesh::identity

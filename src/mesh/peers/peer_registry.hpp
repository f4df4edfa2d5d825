// Known peers (what the beacon holds): id -> public key, region, signaling endpoint, geo.
// A registered id is bound to its first public key; a new key for it is refused.
#pragma once

#include "mesh/core/errors.hpp"
#include "mesh/identity/identity.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace f0::mesh {

class PeerRegistry {
public:
    // Allowlist: peer ids, one per line ('#' comments); empty path with open registration: anyone.
    Status load_allowlist(const std::filesystem::path& file);
    void set_open_registration(bool open) { open_ = open; }

    bool is_allowed(const std::string& id) const { return open_ || allow_.count(id) > 0; }
    bool has_allowlist() const { return !allow_.empty(); }
    // Records a peer (validated by peer_record_from_json); errors say why (not allowlisted, key
    // mismatch, bad key).
    std::optional<Error> add(const store::PeerRecord& peer, bool trusted_source);
    // Binds `peer.id` to peer's key even when another is bound here: the replicated registry's
    // decision (the mesh's first registration) overrides a local one. Allowlist as add().
    std::optional<Error> rebind(const store::PeerRecord& peer);
    const store::PeerRecord* find(const std::string& id) const;
    std::optional<identity::PublicKey> key_of(const std::string& id) const;
    const std::map<std::string, store::PeerRecord>& all() const { return peers_; }
    std::size_t size() const { return peers_.size(); }
    // Up to k distinct ids chosen uniformly, in O(k log k) whatever the size.
    std::vector<std::string> sample(std::size_t k, std::mt19937_64& rng) const;

private:
    bool open_ = false;
    std::set<std::string> allow_;
    std::map<std::string, store::PeerRecord> peers_;
    std::vector<const std::string*> order_; // peers_' keys (never removed), for sampling
};

} // namespace f0::mesh

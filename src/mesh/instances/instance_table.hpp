// Several workers per peer (issue 17): the instances this worker knows of each peer served by
// several, learned from their signed records (POST /beacon, a beacon's list). Each entry is
// self-certifying: its record is signed by the instance key its delegation certifies. Liveness
// is local: an instance whose record was not refreshed within `ttl`, whose delegation is outside
// its validity, or that this worker failed to reach within `down_for`, is not live. Placement
// (placement.hpp) over the live ones names the instance that serves a link.
// Bounded: `per_peer` instances of a peer (a new one beyond is refused and counted) and `peers`
// peers. Pure: time comes in as an argument.
#pragma once

#include "mesh/peers/peer_record.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace f0::mesh::instances {

class InstanceTable {
public:
    struct Limits {
        std::size_t per_peer = 16;
        std::size_t peers = 10'000;
        std::int64_t ttl_ms = 30'000;      // an instance not refreshed this long is not live
        std::int64_t down_for_ms = 15'000; // an instance we could not reach is skipped this long
        std::int64_t skew_ms = 60'000;     // delegation validity widened by this (the window)
    };
    struct Instance {
        SignedRecord record;            // verified; record.delegation is set
        std::int64_t seen_ms = 0;       // when this worker last got that record
        std::int64_t down_until_ms = 0; // unreachable from here until then
        const std::string& name() const { return record.delegation->instance; }
        const std::string& endpoint() const { return record.peer.endpoint; }
    };
    enum class Upsert { New, Updated, Same, Stale, Full };
    struct Counters {
        std::uint64_t refused_full = 0, marked_down = 0, revoked = 0;
    };

    InstanceTable() = default;
    explicit InstanceTable(Limits limits) : limits_(limits) {}

    // A verified instance record (signed_record_from_json with a delegation). An older ts than
    // the one held: Stale. The caller has checked the delegation against its clock and pins.
    Upsert upsert(const SignedRecord& r, std::int64_t now_ms);
    bool serves_by_instances(const std::string& peer) const { return by_peer_.count(peer) > 0; }
    const Instance* find(const std::string& peer, const std::string& instance) const;
    std::vector<const Instance*> live(const std::string& peer, std::int64_t now_ms) const;
    // The live instance that serves the link between `self` and `peer`; nullptr when none is.
    const Instance* placed(const std::string& self, const std::string& peer,
                           std::int64_t now_ms) const;
    void mark_down(const std::string& peer, const std::string& instance, std::int64_t now_ms);
    // Drops every instance of `peer` whose key is `instance_key` (a revocation).
    void revoke(const std::string& peer, const identity::PublicKey& instance_key);
    // Every instance of `peer` that is live, as its signed record (a beacon lists them: the
    // receivers verify each).
    nlohmann::json records_json(const std::string& peer, std::int64_t now_ms) const;
    const Counters& counters() const { return counters_; }
    const Limits& limits() const { return limits_; }

private:
    bool is_live(const Instance& i, std::int64_t now_ms) const;
    Limits limits_;
    std::map<std::string, std::map<std::string, Instance>> by_peer_;
    Counters counters_;
};

} // namespace f0::mesh::instances

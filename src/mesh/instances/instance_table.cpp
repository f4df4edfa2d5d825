#include "mesh/instances/instance_table.hpp"

#include "mesh/instances/placement.hpp"

namespace f0::mesh::instances {

InstanceTable::Upsert InstanceTable::upsert(const SignedRecord& r, std::int64_t now_ms) {
    if (!r.delegation)
        return Upsert::Stale;
    const auto& peer = r.peer.id;
    auto it = by_peer_.find(peer);
    if (it == by_peer_.end()) {
        if (by_peer_.size() >= limits_.peers) {
            ++counters_.refused_full;
            return Upsert::Full;
        }
        it = by_peer_.emplace(peer, std::map<std::string, Instance>{}).first;
    }
    auto& set = it->second;
    const auto& name = r.delegation->instance;
    auto have = set.find(name);
    if (have == set.end()) {
        if (set.size() >= limits_.per_peer) {
            // Room is made by instances gone silent for good (three TTLs), never by live ones.
            std::erase_if(set, [&](const auto& kv) {
                return now_ms - kv.second.seen_ms > 3 * limits_.ttl_ms;
            });
            if (set.size() >= limits_.per_peer) {
                ++counters_.refused_full;
                return Upsert::Full;
            }
        }
        set.emplace(name, Instance{r, now_ms, 0});
        return Upsert::New;
    }
    auto& i = have->second;
    if (r.ts < i.record.ts)
        return Upsert::Stale;
    bool same = r.ts == i.record.ts && r.sig == i.record.sig;
    i.seen_ms = now_ms;
    if (same)
        return Upsert::Same;
    // A new record (a restart, a new endpoint or key): whatever we knew of its reachability is
    // about the old process.
    i.record = r;
    i.down_until_ms = 0;
    return Upsert::Updated;
}

const InstanceTable::Instance* InstanceTable::find(const std::string& peer,
                                                   const std::string& instance) const {
    auto it = by_peer_.find(peer);
    if (it == by_peer_.end())
        return nullptr;
    auto i = it->second.find(instance);
    return i == it->second.end() ? nullptr : &i->second;
}

bool InstanceTable::is_live(const Instance& i, std::int64_t now_ms) const {
    return now_ms - i.seen_ms <= limits_.ttl_ms && now_ms >= i.down_until_ms &&
           i.record.delegation->valid_at(now_ms, limits_.skew_ms);
}

std::vector<const InstanceTable::Instance*> InstanceTable::live(const std::string& peer,
                                                                std::int64_t now_ms) const {
    std::vector<const Instance*> out;
    if (auto it = by_peer_.find(peer); it != by_peer_.end())
        for (const auto& [name, i] : it->second)
            if (is_live(i, now_ms))
                out.push_back(&i);
    return out;
}

const InstanceTable::Instance*
InstanceTable::placed(const std::string& self, const std::string& peer, std::int64_t now_ms) const {
    auto set = live(peer, now_ms);
    std::vector<std::string> names;
    names.reserve(set.size());
    for (const auto* i : set)
        names.push_back(i->name());
    auto pick = place_link(self, peer, names);
    return pick ? find(peer, *pick) : nullptr;
}

void InstanceTable::mark_down(const std::string& peer, const std::string& instance,
                              std::int64_t now_ms) {
    if (auto it = by_peer_.find(peer); it != by_peer_.end())
        if (auto i = it->second.find(instance); i != it->second.end()) {
            i->second.down_until_ms = now_ms + limits_.down_for_ms;
            ++counters_.marked_down;
        }
}

void InstanceTable::revoke(const std::string& peer, const identity::PublicKey& instance_key) {
    auto it = by_peer_.find(peer);
    if (it == by_peer_.end())
        return;
    counters_.revoked += std::erase_if(it->second, [&](const auto& kv) {
        return kv.second.record.delegation->instance_key == instance_key;
    });
}

nlohmann::json InstanceTable::records_json(const std::string& peer, std::int64_t now_ms) const {
    auto out = nlohmann::json::array();
    if (auto it = by_peer_.find(peer); it != by_peer_.end())
        for (const auto& [name, i] : it->second)
            if (now_ms - i.seen_ms <= limits_.ttl_ms)
                out.push_back(signed_record_json(i.record));
    return out;
}

} // namespace f0::mesh::instances

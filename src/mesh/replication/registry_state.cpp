#include "mesh/replication/registry_state.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <tuple>

namespace f0::mesh {

namespace {
std::uint64_t first64(const unsigned char* d) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | d[i];
    return v;
}

void put64(unsigned char* out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<unsigned char>(v & 0xff);
        v >>= 8;
    }
}

} // namespace

RegistryState::RegistryState(Limits limits, Admit admit)
    : limits_(limits), admit_(std::move(admit)) {}

std::size_t RegistryState::bucket_of(const std::string& element) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(element.data()), element.size(), d);
    return (static_cast<std::size_t>(d[0]) << 8 | d[1]) % kBuckets;
}

std::uint64_t RegistryState::hash_of(const std::string& element, const Set::Entry& entry) {
    unsigned char stamps[1 + 4 * 8] = {};
    stamps[0] = static_cast<unsigned char>((entry.add ? 1 : 0) | (entry.remove ? 2 : 0));
    if (entry.add) {
        put64(stamps + 1, entry.add->ts.raw);
        put64(stamps + 9, entry.add->replica);
    }
    if (entry.remove) {
        put64(stamps + 17, entry.remove->ts.raw);
        put64(stamps + 25, entry.remove->replica);
    }
    std::string bytes = element;
    bytes.append(reinterpret_cast<const char*>(stamps), sizeof stamps);
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d);
    return first64(d);
}

namespace {
// The order of elements of one id: a registration's time, its key, its text.
std::tuple<std::int64_t, std::string_view, std::string_view> order_of(const RegistryState::Info& i,
                                                                      std::string_view e) {
    return {i.at, i.key, e};
}
} // namespace

void RegistryState::apply(const std::string& e, const Set::Entry& theirs, Changes& ch) {
    if (theirs.remove) {
        ++ch.tombstones;
        ++tombstones_;
    }
    if (!theirs.add)
        return;
    const Set::Entry add_only{theirs.add, std::nullopt};
    if (const Set::Entry* before = set_.entry(e)) {
        auto old_hash = hash_of(e, *before);
        if (!set_.merge_entry(e, add_only, crdt::Stamp{}))
            return;
        auto b = bucket_of(e);
        digest_[b] ^= old_hash ^ hash_of(e, *set_.entry(e));
        ch.changed.insert(e);
        return;
    }
    auto info = admit_(e);
    if (!info) {
        ++ch.refused;
        ++refused_;
        return;
    }
    const std::string id = info->id;
    bool rebinds = false;
    if (const std::string_view* b = binding(id)) {
        const Info& bi = info_.at(*b);
        if (bi.key != info->key) {
            if (order_of(bi, *b) < order_of(*info, e)) { // registered after the id's first key
                ch.conflicts.insert({id, info->key});
                ++conflicts_;
                return;
            }
            rebinds = true; // an earlier registration of another key: the id is its
        }
    }
    // Full: room only for the records of ids already held.
    if (set_.entries().size() >= limits_.max_elements && !by_id_.count(id)) {
        ++ch.refused;
        ++refused_;
        return;
    }
    set_.merge_entry(e, add_only, crdt::Stamp{});
    auto it = set_.entries().find(e);
    auto b = bucket_of(e);
    const std::string_view view(it->first);
    members_[b].insert(view);
    digest_[b] ^= hash_of(e, it->second);
    by_id_[id].insert(view);
    info_[view] = *info;
    ch.changed.insert(e);
    ch.erased.erase(e);
    ch.ids.insert(id);
    if (rebinds) {
        std::vector<std::string> losers;
        for (const auto& other : by_id_[id])
            if (info_.at(other).key != info->key)
                losers.emplace_back(other);
        for (const auto& other : losers) {
            ch.conflicts.insert({id, info_.at(other).key});
            ++conflicts_;
            forget(other, ch);
        }
    }
    enforce_cap(id, ch);
}

void RegistryState::forget(const std::string& e, Changes& ch) {
    auto it = set_.entries().find(e);
    if (it == set_.entries().end())
        return;
    auto b = bucket_of(e);
    digest_[b] ^= hash_of(e, it->second);
    members_[b].erase(std::string_view(it->first));
    auto info = info_.find(e);
    if (info != info_.end()) {
        auto ids = by_id_.find(info->second.id);
        if (ids != by_id_.end()) {
            ids->second.erase(e);
            if (ids->second.empty())
                by_id_.erase(ids);
        }
        info_.erase(info);
    }
    set_.erase(e);
    ch.changed.erase(e);
    ch.erased.insert(e);
}

const std::string_view* RegistryState::binding(const std::string& id) const {
    auto it = by_id_.find(id);
    if (it == by_id_.end())
        return nullptr;
    const std::string_view* best = nullptr;
    for (const auto& e : it->second)
        if (!best || order_of(info_.at(e), e) < order_of(info_.at(*best), *best))
            best = &e;
    return best;
}

void RegistryState::enforce_cap(const std::string& id, Changes& ch) {
    auto it = by_id_.find(id);
    if (it == by_id_.end() || it->second.size() <= limits_.per_id)
        return;
    const std::string keep_first(*binding(id));
    const std::string keep_current = *current(id);
    while (it->second.size() > limits_.per_id) {
        // The owner's oldest element other than its first registration and its current record.
        const std::string_view* oldest = nullptr;
        for (const auto& e : it->second) {
            if (e == keep_first || e == keep_current)
                continue;
            if (!oldest || std::tie(info_.at(e).ts, info_.at(e).at, e) <
                               std::tie(info_.at(*oldest).ts, info_.at(*oldest).at, *oldest))
                oldest = &e;
        }
        if (!oldest)
            return;
        forget(std::string(*oldest), ch);
        ++evicted_;
    }
}

RegistryState::Changes RegistryState::merge(const Set& delta) {
    Changes ch;
    for (const auto& [e, entry] : delta.entries())
        apply(e, entry, ch);
    return ch;
}

RegistryState::Set RegistryState::put(const std::string& element, crdt::Stamp stamp, Changes& ch) {
    Set delta;
    apply(element, Set::Entry{stamp, std::nullopt}, ch);
    if (ch.changed.count(element))
        delta.put(element, *set_.entry(element));
    return delta;
}

const std::string_view* RegistryState::current_of(const std::string& id) const {
    auto it = by_id_.find(id);
    if (it == by_id_.end())
        return nullptr;
    const std::string_view* best = nullptr;
    for (const auto& e : it->second) // every element of an id has its owner's key
        if (!best || std::tie(info_.at(*best).ts, info_.at(*best).at, *best) <
                         std::tie(info_.at(e).ts, info_.at(e).at, e))
            best = &e;
    return best;
}

std::optional<std::string> RegistryState::current(const std::string& id) const {
    const auto* best = current_of(id);
    if (!best)
        return std::nullopt;
    return std::string(*best);
}

std::optional<std::int64_t> RegistryState::current_ts(const std::string& id) const {
    const auto* best = current_of(id);
    if (!best)
        return std::nullopt;
    return info_.at(*best).ts;
}

std::vector<std::string> RegistryState::elements_of(const std::string& id) const {
    auto it = by_id_.find(id);
    if (it == by_id_.end())
        return {};
    return {it->second.begin(), it->second.end()};
}

std::optional<std::string> RegistryState::owner(const std::string& id) const {
    const std::string_view* b = binding(id);
    if (!b)
        return std::nullopt;
    return info_.at(*b).key;
}

std::string RegistryState::digest() const {
    std::string out(kDigestBytes, '\0');
    for (std::size_t b = 0; b < kBuckets; ++b)
        put64(reinterpret_cast<unsigned char*>(out.data()) + b * 8, digest_[b]);
    return out;
}

std::vector<std::size_t> RegistryState::differing(std::string_view theirs) const {
    std::vector<std::size_t> out;
    bool valid = theirs.size() == kDigestBytes;
    for (std::size_t b = 0; b < kBuckets; ++b) {
        if (valid &&
            first64(reinterpret_cast<const unsigned char*>(theirs.data()) + b * 8) == digest_[b])
            continue;
        if (!members_[b].empty())
            out.push_back(b);
    }
    return out;
}

std::vector<RegistryState::Set> RegistryState::pieces(const std::vector<std::size_t>& buckets,
                                                      std::size_t piece_bytes, std::size_t budget,
                                                      bool& more) const {
    std::vector<Set> out;
    more = false;
    std::size_t piece = 0, total = 0;
    for (auto b : buckets) {
        if (b >= kBuckets)
            continue;
        for (auto view : members_[b]) {
            if (total >= budget) {
                more = true;
                return out;
            }
            std::string e(view);
            const auto* entry = set_.entry(e);
            if (!entry)
                continue;
            if (out.empty() || piece >= piece_bytes) {
                out.emplace_back();
                out.back().set_horizon(set_.horizon());
                piece = 0;
            }
            out.back().put(e, *entry);
            piece += e.size() + 40;
            total += e.size() + 40;
        }
    }
    return out;
}

} // namespace f0::mesh

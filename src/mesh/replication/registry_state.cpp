#include "mesh/replication/registry_state.hpp"

#include <openssl/sha.h>

#include <algorithm>

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

// The newest stamp an entry has (add or remove).
crdt::Stamp newest(const RegistryState::Set::Entry& e) {
    crdt::Stamp s{};
    if (e.add)
        s = std::max(s, *e.add);
    if (e.remove)
        s = std::max(s, *e.remove);
    return s;
}
} // namespace

RegistryState::RegistryState(Limits limits, IdOf id_of) : limits_(limits), id_of_(id_of) {}

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

void RegistryState::apply(const std::string& e, const Set::Entry& theirs, crdt::Stamp horizon,
                          Changes& ch) {
    const Set::Entry* before = set_.entry(e);
    std::string id;
    if (before) {
        id = id_by_element_[e];
    } else {
        auto parsed = id_of_(e);
        if (!parsed) {
            ++ch.refused;
            ++refused_;
            return;
        }
        id = *parsed;
        // Full: room only for the records of ids already held.
        if (set_.entries().size() >= limits_.max_elements && !by_id_.count(id)) {
            ++ch.refused;
            ++refused_;
            return;
        }
    }
    std::optional<std::uint64_t> old_hash;
    if (before)
        old_hash = hash_of(e, *before);
    if (!set_.merge_entry(e, theirs, horizon))
        return;
    const Set::Entry* after = set_.entry(e);
    if (!after)
        return; // a straggler before our horizon
    auto b = bucket_of(e);
    if (old_hash) {
        digest_[b] ^= *old_hash;
    } else {
        auto it = set_.entries().find(e);
        members_[b].insert(std::string_view(it->first));
        by_id_[id].insert(e);
        id_by_element_[e] = id;
    }
    digest_[b] ^= hash_of(e, *after);
    ch.changed.insert(e);
    ch.erased.erase(e);
    ch.ids.insert(id);
    enforce_cap(id, ch);
}

void RegistryState::enforce_cap(const std::string& id, Changes& ch) {
    auto& mine = by_id_[id];
    if (mine.size() <= limits_.per_id)
        return;
    auto keep = current(id);
    while (mine.size() > limits_.per_id) {
        // The oldest element that is not the current record: every newer one beats it.
        std::optional<std::pair<crdt::Stamp, std::string>> oldest;
        for (const auto& e : mine) {
            if (keep && e == *keep)
                continue;
            auto s = newest(*set_.entry(e));
            if (!oldest || s < oldest->first)
                oldest = {{s, e}};
        }
        if (!oldest)
            return;
        const std::string e = oldest->second;
        auto b = bucket_of(e);
        digest_[b] ^= hash_of(e, *set_.entry(e));
        members_[b].erase(std::string_view(set_.entries().find(e)->first));
        mine.erase(e);
        id_by_element_.erase(e);
        set_.erase(e);
        ch.changed.erase(e);
        ch.erased.insert(e);
        ++evicted_;
    }
}

RegistryState::Changes RegistryState::merge(const Set& delta) {
    Changes ch;
    for (const auto& [e, entry] : delta.entries())
        apply(e, entry, delta.horizon(), ch);
    return ch;
}

RegistryState::Set RegistryState::put(const std::string& id, const std::string& element,
                                      crdt::Stamp stamp, Changes& ch) {
    Set delta;
    auto it = by_id_.find(id);
    if (it != by_id_.end())
        for (const auto& e : it->second)
            if (e != element && set_.contains(e))
                delta.put(e, Set::Entry{std::nullopt, stamp});
    delta.put(element, Set::Entry{stamp, std::nullopt});
    delta.set_horizon(set_.horizon());
    for (const auto& [e, entry] : delta.entries())
        apply(e, entry, delta.horizon(), ch);
    return delta;
}

std::optional<std::string> RegistryState::current(const std::string& id) const {
    auto it = by_id_.find(id);
    if (it == by_id_.end())
        return std::nullopt;
    std::optional<std::pair<crdt::Stamp, std::string>> best;
    for (const auto& e : it->second) {
        const auto* entry = set_.entry(e);
        if (!entry || !set_.contains(e) || !entry->add)
            continue;
        if (!best || best->first < *entry->add)
            best = {{*entry->add, e}};
    }
    if (!best)
        return std::nullopt;
    return best->second;
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

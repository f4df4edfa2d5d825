// The replicated peer registry as an LWW-Element-Set of canonical peer records, with what makes it
// cheap at 100,000 records and safe against a peer that floods it:
// - per peer id, the elements it has had (at most `per_id`: the oldest beyond that, which the
//   newer ones beat anyway, are forgotten) and which of them is current (the live one with the
//   latest add);
// - at most `max_elements` elements: an element of an id not yet held is refused when full;
// - a digest of kBuckets buckets (an element's bucket is fixed by its SHA-256; a bucket's digest is
//   the XOR of its entries' hashes, stamps included), kept up to date per change, so anti-entropy
//   compares 8 KiB and sends only the buckets that differ, in pieces;
// - every change reports which elements to write to the store and which to delete from it.
// I/O-free: the caller stores, gossips and announces.
#pragma once

#include "crdt/lww_set.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace f0::mesh {

class RegistryState {
public:
    using Set = crdt::LwwElementSet<std::string>;
    static constexpr std::size_t kBuckets = 1024;
    static constexpr std::size_t kDigestBytes = kBuckets * 8;

    struct Limits {
        std::size_t per_id = 4;
        std::size_t max_elements = 250'000;
    };
    struct Changes {
        std::set<std::string> ids;     // peer ids whose elements changed
        std::set<std::string> changed; // elements whose stamps changed (to store)
        std::set<std::string> erased;  // elements forgotten (to delete from the store)
        std::size_t refused = 0;       // elements refused: not a record, or the registry is full
        bool any() const { return !changed.empty() || !erased.empty(); }
    };
    // The peer id of an element (a canonical record), or nothing when it is not a record.
    using IdOf = std::optional<std::string> (*)(const std::string& element);

    RegistryState(Limits limits, IdOf id_of);

    // Joins a delta or a state (a peer's, or one loaded from the store).
    Changes merge(const Set& delta);
    // This replica's new record for `id`: the id's live elements are removed, `element` added.
    // Returns the delta to gossip.
    Set put(const std::string& id, const std::string& element, crdt::Stamp stamp, Changes& ch);

    bool contains(const std::string& element) const { return set_.contains(element); }
    const Set::Entry* entry(const std::string& element) const { return set_.entry(element); }
    // The current record of `id`: its live element with the latest add.
    std::optional<std::string> current(const std::string& id) const;
    const Set& set() const { return set_; }
    std::size_t size() const { return set_.entries().size(); }
    std::uint64_t evicted() const { return evicted_; }
    std::uint64_t refused() const { return refused_; }

    std::string digest() const; // kDigestBytes
    // Buckets whose digest differs from `theirs` (every bucket when it is not a digest).
    std::vector<std::size_t> differing(std::string_view theirs) const;
    // The entries of `buckets`, in pieces of about `piece_bytes` of elements, stopping after
    // `budget` bytes; `more` says whether some were left out.
    std::vector<Set> pieces(const std::vector<std::size_t>& buckets, std::size_t piece_bytes,
                            std::size_t budget, bool& more) const;

private:
    static std::size_t bucket_of(const std::string& element);
    static std::uint64_t hash_of(const std::string& element, const Set::Entry& entry);
    // Applies one entry; records what changed.
    void apply(const std::string& e, const Set::Entry& theirs, crdt::Stamp their_horizon,
               Changes& ch);
    void enforce_cap(const std::string& id, Changes& ch);

    Limits limits_;
    IdOf id_of_;
    Set set_;
    std::map<std::string, std::set<std::string>> by_id_;
    std::map<std::string, std::string> id_by_element_;
    std::array<std::set<std::string_view>, kBuckets> members_; // views of set_'s keys
    std::array<std::uint64_t, kBuckets> digest_{};
    std::uint64_t evicted_ = 0, refused_ = 0;
};

} // namespace f0::mesh

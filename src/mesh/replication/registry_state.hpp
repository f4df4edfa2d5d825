// The replicated peer registry: a grow-only set of self-signed, registrar-countersigned peer
// records (docs/PROTOCOL.md, "Registry records"), kept in an LWW-Element-Set for its stamps and
// digests, whose state decides every id the same way on every replica:
// - an element is admitted only when `admit` accepts it (a canonical record whose signatures verify
//   and whose registrar this replica trusts); tombstones are refused (no one removes a record:
//   its owner replaces it with a newer one);
// - per id, the owner key is the key of the registration with the earliest registrar time
//   ("at", then the key's text): the first key wins. Elements of any other key are dropped (and
//   refused when they come) and counted as conflicts;
// - the id's current record is the owner's element with the latest signed "ts";
// - per id at most `per_id` elements: the owner's first registration and its current record are
//   kept, the owner's oldest other elements go;
// - at most `max_elements` elements: an element of an id not yet held is refused when full;
// - a digest of kBuckets buckets (an element's bucket is fixed by its SHA-256; a bucket's digest is
//   the XOR of its entries' hashes, stamps included), kept up to date per change, so anti-entropy
//   compares 8 KiB and sends only the buckets that differ, in pieces;
// - every change reports which elements to write to the store and which to delete from it.
// Whatever the order and duplication of deliveries, replicas that admitted the same elements hold
// the same owner and current record for every id (tests/unit/mesh/registry_state_test.cpp).
// I/O-free: the caller stores, gossips and announces.
#pragma once

#include "crdt/lww_set.hpp"

#include <array>
#include <cstdint>
#include <functional>
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
        std::size_t refused = 0;       // elements refused: not admitted, or the registry is full
        std::size_t tombstones = 0;    // removals refused (no one removes a record)
        std::set<std::pair<std::string, std::string>> conflicts; // (id, key) that lost the id
        bool any() const { return !changed.empty() || !erased.empty(); }
    };
    // What the registry needs of an admitted element.
    struct Info {
        std::string id, key;
        std::int64_t at = 0; // the registrar's time of the registration
        std::int64_t ts = 0; // the owner's signed time of the record
    };
    // Info of an element this replica admits, or nothing (not a canonical signed record, a
    // signature that does not verify, an untrusted registrar).
    using Admit = std::function<std::optional<Info>(const std::string& element)>;

    RegistryState(Limits limits, Admit admit);

    // Joins a delta or a state (a peer's, or one loaded from the store).
    Changes merge(const Set& delta);
    // This replica's new element (a registration it countersigned). Returns the delta to gossip
    // (empty when the element was not admitted or lost its id).
    Set put(const std::string& element, crdt::Stamp stamp, Changes& ch);

    bool contains(const std::string& element) const { return set_.contains(element); }
    const Set::Entry* entry(const std::string& element) const { return set_.entry(element); }
    // The current record of `id`: the owner key's element with the latest signed ts.
    std::optional<std::string> current(const std::string& id) const;
    // Its signed ts (held already: no parse).
    std::optional<std::int64_t> current_ts(const std::string& id) const;
    // The elements held for `id` (at most per_id).
    std::vector<std::string> elements_of(const std::string& id) const;
    // The key bound to `id` (its first registration's), if any.
    std::optional<std::string> owner(const std::string& id) const;
    const Set& set() const { return set_; }
    std::size_t size() const { return set_.entries().size(); }
    std::uint64_t evicted() const { return evicted_; }
    std::uint64_t refused() const { return refused_; }
    std::uint64_t conflicts() const { return conflicts_; }
    std::uint64_t tombstones_refused() const { return tombstones_; }

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
    void apply(const std::string& e, const Set::Entry& theirs, Changes& ch);
    void forget(const std::string& e, Changes& ch);
    // The element of `id` that binds its key: the earliest (at, key, text).
    const std::string_view* binding(const std::string& id) const;
    const std::string_view* current_of(const std::string& id) const;
    void enforce_cap(const std::string& id, Changes& ch);

    Limits limits_;
    Admit admit_;
    Set set_;
    // Views of set_'s keys (its nodes do not move): an element's text is held once.
    std::map<std::string, std::set<std::string_view>> by_id_;
    std::map<std::string_view, Info> info_;                    // of every element held
    std::array<std::set<std::string_view>, kBuckets> members_; // views of set_'s keys
    std::array<std::uint64_t, kBuckets> digest_{};
    std::uint64_t evicted_ = 0, refused_ = 0, conflicts_ = 0, tombstones_ = 0;
};

} // namespace f0::mesh

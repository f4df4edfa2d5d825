// LWW-Element-Set (Shapiro et al. 2011), as a delta-state CRDT. Every add and remove carries a
// Stamp = (HLC timestamp, replica id): a total order, so every replica decides the same way.
// Per element we keep only the greatest add stamp and the greatest remove stamp (the join of the
// classic add/remove sets, per element). An element is in the set when its add stamp is greater
// than its remove stamp, or equal to it (add-bias: on a tie, which only happens for the same
// replica at the same timestamp, the add wins).
//
// Every mutation returns a delta: a set holding only the changed element. merge() is the join
// (per element, max of each stamp); it is commutative, associative and idempotent, for whole
// states and for deltas alike, so gossip carries only deltas and anti-entropy whole states.
//
// Tombstone compaction: an element whose remove stamp beats its add stamp can be forgotten only
// when no replica can still send an add older than that remove. compact(horizon) drops such
// tombstones with remove stamp < horizon, where horizon must be a stamp that every replica has
// passed and whose earlier updates every replica has delivered (e.g. the minimum over all
// replicas of the HLC they acknowledged in anti-entropy). The set remembers the horizon; when it
// merges a state whose horizon is behind its own, entries older than its horizon for elements it
// does not hold are ignored, so a late straggler cannot bring a compacted element back. A state
// compacted as far (a peer's, or the one a joining replica loads) is taken whole.
#pragma once

#include "crdt/hlc.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace f0::crdt {

using ReplicaId = std::uint64_t;

struct Stamp {
    HlcTimestamp ts;
    ReplicaId replica = 0;
    auto operator<=>(const Stamp&) const = default;
};

template <class T> class LwwElementSet {
public:
    struct Entry {
        std::optional<Stamp> add, remove;
    };

    LwwElementSet add(const T& e, Stamp s) { return update(e, s, true); }
    LwwElementSet remove(const T& e, Stamp s) { return update(e, s, false); }

    bool contains(const T& e) const {
        auto it = entries_.find(e);
        return it != entries_.end() && live(it->second);
    }
    std::vector<T> elements() const {
        std::vector<T> out;
        for (const auto& [e, entry] : entries_)
            if (live(entry))
                out.push_back(e);
        return out;
    }
    const Entry* entry(const T& e) const {
        auto it = entries_.find(e);
        return it == entries_.end() ? nullptr : &it->second;
    }

    void merge(const LwwElementSet& other) {
        // A state compacted at least as far as ours is the truth about what survived before our
        // horizon; from a state behind ours, old elements we do not hold are stragglers.
        bool trust_old = other.horizon_ >= horizon_;
        Stamp horizon = horizon_;
        horizon_ = std::max(horizon_, other.horizon_);
        for (const auto& [e, theirs] : other.entries_)
            join(e, theirs, trust_old ? Stamp{} : horizon);
    }

    // merge() of one entry of a state whose horizon is `their_horizon`; true when it changed ours.
    // Merging every entry of a state this way is merge() of that state.
    bool merge_entry(const T& e, const Entry& theirs, Stamp their_horizon) {
        Stamp stragglers = their_horizon >= horizon_ ? Stamp{} : horizon_;
        horizon_ = std::max(horizon_, their_horizon);
        return join(e, theirs, stragglers);
    }

    // Forgets an element outright (add and remove), e.g. one beyond a per-owner cap whose
    // successors all beat it. It may come back from a replica that still holds it.
    bool erase(const T& e) { return entries_.erase(e) > 0; }

    // Drops tombstones removed before `horizon` (see the rule above); returns how many.
    std::size_t compact(Stamp horizon) {
        horizon_ = std::max(horizon_, horizon);
        std::size_t n = 0;
        for (auto it = entries_.begin(); it != entries_.end();) {
            const Entry& en = it->second;
            if (!live(en) && en.remove && *en.remove < horizon_) {
                it = entries_.erase(it);
                ++n;
            } else {
                ++it;
            }
        }
        return n;
    }

    const std::map<T, Entry>& entries() const { return entries_; }
    Stamp horizon() const { return horizon_; }
    // For decoding: put an entry as it was encoded (joined, so order does not matter).
    void put(const T& e, const Entry& entry) { join(e, entry, Stamp{}); }
    void set_horizon(Stamp h) { horizon_ = std::max(horizon_, h); }
    bool operator==(const LwwElementSet& o) const {
        return horizon_ == o.horizon_ && entries_.size() == o.entries_.size() &&
               std::equal(entries_.begin(), entries_.end(), o.entries_.begin(),
                          [](const auto& a, const auto& b) {
                              return a.first == b.first && a.second.add == b.second.add &&
                                     a.second.remove == b.second.remove;
                          });
    }

private:
    static bool live(const Entry& e) { return e.add && (!e.remove || *e.add >= *e.remove); }

    LwwElementSet update(const T& e, Stamp s, bool is_add) {
        Entry d;
        (is_add ? d.add : d.remove) = s;
        join(e, d, Stamp{});
        LwwElementSet delta;
        delta.entries_[e] = d;
        delta.horizon_ = horizon_; // so that merging it elsewhere is not taken for a straggler
        return delta;
    }

    // Joins an entry; one for an element we do not hold whose stamps are all before `stragglers`
    // is a straggler (its remove was compacted here) and is ignored.
    bool join(const T& e, const Entry& theirs, Stamp stragglers) {
        auto it = entries_.find(e);
        if (it == entries_.end()) {
            if ((!theirs.add || *theirs.add < stragglers) &&
                (!theirs.remove || *theirs.remove < stragglers))
                return false;
            entries_.emplace(e, theirs);
            return true;
        }
        Entry& mine = it->second;
        bool changed = false;
        if (theirs.add && (!mine.add || *mine.add < *theirs.add)) {
            mine.add = theirs.add;
            changed = true;
        }
        if (theirs.remove && (!mine.remove || *mine.remove < *theirs.remove)) {
            mine.remove = theirs.remove;
            changed = true;
        }
        return changed;
    }

    std::map<T, Entry> entries_;
    Stamp horizon_{};
};

} // namespace f0::crdt

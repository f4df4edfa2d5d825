// RGA, the Replicated Growable Array (Roh et al. 2011), for lists and text.
//
// Every element has an id (Lamport counter, replica): unique, and totally ordered (counter, then
// replica). An element is inserted after its origin (another element, or the root at the start);
// concurrent inserts after the same origin are ordered by id, greater first: a replica
// integrating element x after origin o skips the elements that follow o while their id is greater
// than x's, then inserts. Since every element's id is greater than its origin's (Lamport), this
// gives every replica the same order whatever the delivery order. Deleted elements stay as
// tombstones (their ids, not their values), so later inserts can still find their origins.
//
// Layout: elements are kept as runs (spans) of consecutive ids of one replica, each after the
// previous, in blocks of at most kBlockMax spans with a live count per block. A local index is
// found by summing block counts, then span lengths inside one block; typing at the end of one's
// own span just extends it. Ids are found by scanning blocks whose counter range covers the id.
//
// Local edits return a Delta (the inserted run, the deleted id ranges); apply() integrates
// deltas from other replicas in any order, with duplicates: what depends on an element not yet
// seen waits in a pending list. state() is the whole document as one Delta, in document order.
#pragma once

#include "crdt/lww_set.hpp"
#include "util/result.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace f0::crdt {

struct ElemId {
    std::uint64_t counter = 0; // Lamport counter; 0 is the root (before the first element)
    ReplicaId replica = 0;
    auto operator<=>(const ElemId&) const = default;
    bool is_root() const { return counter == 0; }
    ElemId plus(std::uint64_t n) const { return {counter + n, replica}; }
};

template <class T> class Rga {
public:
    // Elements first .. first+len-1 (counters), one replica, each after the previous; the first
    // after `origin`. values are empty for a deleted run (a tombstone keeps only its ids).
    struct Run {
        ElemId first, origin;
        std::uint32_t len = 0;
        bool deleted = false;
        std::vector<T> values;
    };
    struct DeleteRange {
        ElemId first;
        std::uint32_t len = 0;
    };
    struct Delta {
        std::vector<Run> runs;
        std::vector<DeleteRange> deletes;
        bool empty() const { return runs.empty() && deletes.empty(); }
    };

    static constexpr std::size_t kBlockMax = 256;
    static constexpr std::size_t kMaxPending = 1'000'000;

    explicit Rga(ReplicaId self) : self_(self) { blocks_.emplace_back(); }

    ReplicaId replica() const { return self_; }
    std::size_t size() const { return live_; }
    std::size_t pending() const { return pending_runs_.size() + pending_deletes_.size(); }
    std::size_t span_count() const {
        std::size_t n = 0;
        for (const auto& b : blocks_)
            n += b.spans.size();
        return n;
    }

    // Inserts values before the element now at `index` (index == size() appends).
    Result<Delta> insert(std::size_t index, std::span<const T> values) {
        if (index > live_)
            return make_error("index " + std::to_string(index) + " is past the end (size " +
                              std::to_string(live_) + ")");
        Delta d;
        if (values.empty())
            return d;
        if (values.size() > std::numeric_limits<std::uint32_t>::max())
            return make_error("too many values in one insert");
        ElemId first{clock_ + 1, self_};
        auto n = static_cast<std::uint32_t>(values.size());
        clock_ += n;
        Run run{first, ElemId{}, n, false, {values.begin(), values.end()}};
        if (index == 0) {
            place(Pos{0, 0}, run);
        } else {
            Pos p = find_visible(index - 1);
            Span& s = blocks_[p.block].spans[p.span];
            run.origin = s.first.plus(p.offset);
            if (p.offset + 1 == s.len && !s.deleted && s.first.replica == self_ &&
                s.first.counter + s.len == first.counter) {
                // Typing on: the new run continues this span.
                s.values.insert(s.values.end(), values.begin(), values.end());
                s.len += n;
                Block& b = blocks_[p.block];
                b.live += n;
                b.max_counter = std::max(b.max_counter, first.counter + n - 1);
                live_ += n;
                add_held(first, n);
            } else {
                place(after(p), run);
            }
        }
        d.runs.push_back(std::move(run));
        return d;
    }

    // Deletes `count` visible elements from `index`.
    Result<Delta> erase(std::size_t index, std::size_t count) {
        if (index > live_ || count > live_ - index)
            return make_error("range [" + std::to_string(index) + ", " +
                              std::to_string(index + count) + ") is past the end (size " +
                              std::to_string(live_) + ")");
        Delta d;
        while (count > 0) {
            Pos p = find_visible(index);
            Span& s = blocks_[p.block].spans[p.span];
            auto k = static_cast<std::uint32_t>(std::min<std::size_t>(count, s.len - p.offset));
            d.deletes.push_back({s.first.plus(p.offset), k});
            mark_deleted(p, k);
            count -= k;
        }
        return d;
    }

    // Integrates a delta from any replica (or a whole state). Idempotent, any order.
    Status apply(const Delta& d) {
        for (const auto& r : d.runs) {
            if (r.len == 0 || (!r.deleted && r.values.size() != r.len))
                return make_error("a run's values do not match its length");
            if (r.first.is_root() || r.first.counter + r.len - 1 < r.first.counter)
                return make_error("a run has an invalid id");
            pending_runs_.push_back(r);
        }
        for (const auto& del : d.deletes) {
            if (del.len == 0 || del.first.is_root())
                return make_error("a delete range is empty or names the root");
            pending_deletes_.push_back(del);
        }
        drain();
        if (pending() > kMaxPending)
            return make_error("too many updates wait for elements never seen");
        return Ok{};
    }

    // Fills an empty document from a state (as state() gives it, e.g. decoded): checked (ids
    // unique, each origin the root or an element to its left), then laid out directly.
    Status load(const Delta& st) {
        if (live_ != 0 || span_count() != 0 || pending() != 0)
            return make_error("load() needs an empty document");
        if (!st.deletes.empty())
            return make_error("a state carries deletions as tombstones, not delete ranges");
        for (const auto& r : st.runs) {
            if (r.len == 0 || (!r.deleted && r.values.size() != r.len) || r.first.is_root() ||
                r.first.counter + r.len - 1 < r.first.counter)
                return make_error("a run of the state is malformed");
            if (first_held(r.first.replica, r.first.counter, r.first.counter + r.len - 1)) {
                clear();
                return make_error("the state repeats an element id");
            }
            if (!r.origin.is_root() && !is_held(r.origin)) {
                clear();
                return make_error("an element of the state comes before its origin");
            }
            if (blocks_.back().spans.size() >= kBlockMax / 2)
                blocks_.emplace_back();
            place(Pos{blocks_.size() - 1, blocks_.back().spans.size(), 0}, r);
        }
        return Ok{};
    }

    void clear() {
        blocks_.assign(1, Block{});
        live_ = 0;
        clock_ = 0;
        pending_runs_.clear();
        pending_deletes_.clear();
        held_.clear();
    }

    // The whole document, tombstones included, in document order. Runs are maximal (a span that
    // continues the previous one joins it), so two replicas with the same elements give the same
    // state, byte for byte once encoded.
    Delta state() const {
        Delta d;
        for (const auto& b : blocks_)
            for (const auto& s : b.spans) {
                if (!d.runs.empty()) {
                    Run& last = d.runs.back();
                    if (last.deleted == s.deleted && last.first.replica == s.first.replica &&
                        last.first.counter + last.len == s.first.counter &&
                        s.origin == last.first.plus(last.len - 1)) {
                        last.len += s.len;
                        last.values.insert(last.values.end(), s.values.begin(), s.values.end());
                        continue;
                    }
                }
                d.runs.push_back(s);
            }
        return d;
    }

    std::vector<T> values() const {
        std::vector<T> out;
        out.reserve(live_);
        for (const auto& b : blocks_)
            for (const auto& s : b.spans)
                if (!s.deleted)
                    out.insert(out.end(), s.values.begin(), s.values.end());
        return out;
    }

    // Element ids this replica holds, per replica as sorted [first, last] counter ranges: the
    // version summary exchanged by anti-entropy.
    const std::map<ReplicaId, std::map<std::uint64_t, std::uint64_t>>& summary() const {
        return held_;
    }
    // The part of this document that a replica holding `theirs` (its summary) lacks: the runs
    // with ids it does not hold, in document order. Deleted flags come with them; deletions of
    // elements it does hold are not known from a summary, so anti-entropy also sends the ranges
    // of tombstones (cheap: ids only).
    Delta
    missing_for(const std::map<ReplicaId, std::map<std::uint64_t, std::uint64_t>>& theirs) const {
        auto held_by_them = [&](ReplicaId rep, std::uint64_t c) {
            auto r = theirs.find(rep);
            if (r == theirs.end())
                return false;
            auto it = r->second.upper_bound(c);
            return it != r->second.begin() && std::prev(it)->second >= c;
        };
        Delta d;
        for (const auto& b : blocks_)
            for (const auto& s : b.spans) {
                std::uint32_t i = 0;
                while (i < s.len) {
                    bool have = held_by_them(s.first.replica, s.first.counter + i);
                    std::uint32_t j = i + 1;
                    while (j < s.len && held_by_them(s.first.replica, s.first.counter + j) == have)
                        ++j;
                    if (!have) {
                        Run r{s.first.plus(i),
                              i == 0 ? s.origin : s.first.plus(i - 1),
                              j - i,
                              s.deleted,
                              {}};
                        if (!s.deleted)
                            r.values.assign(s.values.begin() + i, s.values.begin() + j);
                        d.runs.push_back(std::move(r));
                    } else if (s.deleted) {
                        d.deletes.push_back({s.first.plus(i), j - i});
                    }
                    i = j;
                }
            }
        return d;
    }

private:
    using Span = Run; // a stored span is a run of the document
    struct Block {
        std::vector<Span> spans;
        std::size_t live = 0;
        std::uint64_t min_counter = std::numeric_limits<std::uint64_t>::max(), max_counter = 0;
    };
    struct Pos {
        std::size_t block = 0, span = 0;
        std::uint32_t offset = 0;
    };

    // The element at visible index i (i < size()).
    Pos find_visible(std::size_t i) const {
        std::size_t b = 0;
        while (i >= blocks_[b].live) {
            i -= blocks_[b].live;
            ++b;
        }
        const auto& spans = blocks_[b].spans;
        std::size_t s = 0;
        for (;; ++s) {
            if (spans[s].deleted)
                continue;
            if (i < spans[s].len)
                break;
            i -= spans[s].len;
        }
        return {b, s, static_cast<std::uint32_t>(i)};
    }

    void add_held(ElemId first, std::uint32_t len) {
        auto& ranges = held_[first.replica];
        std::uint64_t lo = first.counter, hi = first.counter + len - 1;
        if (!ranges.empty()) {
            auto last = std::prev(ranges.end());
            if (last->second + 1 == lo) { // the common case: ids continue the newest range
                last->second = hi;
                return;
            }
        }
        auto it = ranges.upper_bound(lo);
        if (it != ranges.begin() && std::prev(it)->second + 1 >= lo) {
            --it;
            it->second = std::max(it->second, hi);
        } else {
            it = ranges.emplace(lo, hi).first;
        }
        for (auto next = std::next(it); next != ranges.end() && next->first <= it->second + 1;) {
            it->second = std::max(it->second, next->second);
            next = ranges.erase(next);
        }
    }

    bool is_held(ElemId id) const {
        auto r = held_.find(id.replica);
        if (r == held_.end())
            return false;
        auto it = r->second.upper_bound(id.counter);
        return it != r->second.begin() && std::prev(it)->second >= id.counter;
    }

    // The first held counter in [from, to] of this replica, if any.
    std::optional<std::uint64_t> first_held(ReplicaId rep, std::uint64_t from,
                                            std::uint64_t to) const {
        auto r = held_.find(rep);
        if (r == held_.end())
            return std::nullopt;
        auto it = r->second.upper_bound(from);
        if (it != r->second.begin() && std::prev(it)->second >= from)
            return from;
        if (it != r->second.end() && it->first <= to)
            return it->first;
        return std::nullopt;
    }

    // The element with this id, if held.
    std::optional<Pos> locate(ElemId id) const {
        if (!is_held(id))
            return std::nullopt;
        for (std::size_t b = 0; b < blocks_.size(); ++b) {
            const Block& blk = blocks_[b];
            if (id.counter < blk.min_counter || id.counter > blk.max_counter)
                continue;
            for (std::size_t s = 0; s < blk.spans.size(); ++s) {
                const Span& sp = blk.spans[s];
                if (sp.first.replica == id.replica && sp.first.counter <= id.counter &&
                    id.counter < sp.first.counter + sp.len)
                    return Pos{b, s, static_cast<std::uint32_t>(id.counter - sp.first.counter)};
            }
        }
        return std::nullopt;
    }

    // The insertion point just after the element at p (splitting its span if needed).
    Pos after(Pos p) {
        Span& s = blocks_[p.block].spans[p.span];
        if (p.offset + 1 < s.len)
            split(p.block, p.span, p.offset + 1);
        return {p.block, p.span + 1, 0};
    }

    // Splits span s of block b so that its first `at` elements stay and the rest follow.
    void split(std::size_t b, std::size_t s, std::uint32_t at) {
        auto& spans = blocks_[b].spans;
        Span tail;
        tail.first = spans[s].first.plus(at);
        tail.origin = spans[s].first.plus(at - 1);
        tail.len = spans[s].len - at;
        tail.deleted = spans[s].deleted;
        if (!tail.deleted) {
            tail.values.assign(spans[s].values.begin() + at, spans[s].values.end());
            spans[s].values.resize(at);
        }
        spans[s].len = at;
        spans.insert(spans.begin() + static_cast<std::ptrdiff_t>(s) + 1, std::move(tail));
    }

    // Puts a new run at insertion point p (a span boundary); p.span may equal the span count.
    void place(Pos p, const Run& r) {
        Block& b = blocks_[p.block];
        auto& s = *b.spans.insert(b.spans.begin() + static_cast<std::ptrdiff_t>(p.span), r);
        if (s.deleted)
            s.values.clear();
        b.min_counter = std::min(b.min_counter, r.first.counter);
        b.max_counter = std::max(b.max_counter, r.first.counter + r.len - 1);
        if (!r.deleted) {
            b.live += r.len;
            live_ += r.len;
        }
        clock_ = std::max(clock_, r.first.counter + r.len - 1);
        add_held(r.first, r.len);
        if (b.spans.size() > kBlockMax)
            split_block(p.block);
    }

    void split_block(std::size_t b) {
        Block right;
        auto& spans = blocks_[b].spans;
        auto mid = spans.begin() + static_cast<std::ptrdiff_t>(spans.size() / 2);
        right.spans.assign(std::make_move_iterator(mid), std::make_move_iterator(spans.end()));
        spans.erase(mid, spans.end());
        recount(blocks_[b]);
        recount(right);
        blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(b) + 1, std::move(right));
    }

    static void recount(Block& b) {
        b.live = 0;
        b.min_counter = std::numeric_limits<std::uint64_t>::max();
        b.max_counter = 0;
        for (const auto& s : b.spans) {
            if (!s.deleted)
                b.live += s.len;
            b.min_counter = std::min(b.min_counter, s.first.counter);
            b.max_counter = std::max(b.max_counter, s.first.counter + s.len - 1);
        }
    }

    // Marks k elements from p (all inside one span) deleted; a tombstone stays one.
    void mark_deleted(Pos p, std::uint32_t k) {
        Block& b = blocks_[p.block];
        if (b.spans[p.span].deleted)
            return;
        if (p.offset > 0) {
            split(p.block, p.span, p.offset);
            ++p.span;
        }
        if (k < b.spans[p.span].len)
            split(p.block, p.span, k);
        Span& s = b.spans[p.span];
        s.deleted = true;
        s.values.clear();
        s.values.shrink_to_fit();
        b.live -= s.len;
        live_ -= s.len;
        // Adjacent tombstones that continue each other become one span.
        if (p.span + 1 < b.spans.size() && joins(b.spans[p.span], b.spans[p.span + 1])) {
            s.len += b.spans[p.span + 1].len;
            b.spans.erase(b.spans.begin() + static_cast<std::ptrdiff_t>(p.span) + 1);
        }
        if (p.span > 0 && joins(b.spans[p.span - 1], b.spans[p.span])) {
            b.spans[p.span - 1].len += b.spans[p.span].len;
            b.spans.erase(b.spans.begin() + static_cast<std::ptrdiff_t>(p.span));
        }
        if (b.spans.size() > kBlockMax)
            split_block(p.block);
    }

    static bool joins(const Span& a, const Span& b) {
        return a.deleted && b.deleted && a.first.replica == b.first.replica &&
               a.first.counter + a.len == b.first.counter && b.origin == a.first.plus(a.len - 1);
    }

    // Integrates what can be integrated until nothing more can (each pass is linear).
    void drain() {
        for (bool progress = true; progress;) {
            progress = false;
            std::vector<Run> runs_waiting;
            for (auto& r : pending_runs_) {
                if (integrate(r))
                    progress = true;
                else
                    runs_waiting.push_back(std::move(r));
            }
            pending_runs_ = std::move(runs_waiting);
            std::vector<DeleteRange> deletes_waiting;
            for (auto& d : pending_deletes_) {
                auto before = d.len;
                if (delete_range(d)) {
                    progress = true;
                } else {
                    progress = progress || d.len != before;
                    deletes_waiting.push_back(d);
                }
            }
            pending_deletes_ = std::move(deletes_waiting);
        }
    }

    // Integrates the elements of r not held yet (and deletes held ones if r is a tombstone).
    // False (nothing done) when its origin is missing: a piece that starts inside r has the
    // previous element of r, held, as origin.
    bool integrate(const Run& r) {
        std::uint32_t i = 0;
        while (i < r.len) {
            std::uint64_t last = r.first.counter + r.len - 1;
            auto held = first_held(r.first.replica, r.first.counter + i, last);
            if (held && *held == r.first.counter + i) {
                // Skip what is held: up to the end of the held range.
                const auto& ranges = held_.at(r.first.replica);
                auto it = std::prev(ranges.upper_bound(*held));
                auto k =
                    static_cast<std::uint32_t>(std::min(last, it->second) - r.first.counter + 1);
                if (r.deleted) { // a tombstone for elements held: delete them here too
                    DeleteRange del{r.first.plus(i), k - i};
                    delete_range(del);
                }
                i = k;
                continue;
            }
            std::uint32_t j = held ? static_cast<std::uint32_t>(*held - r.first.counter) : r.len;
            ElemId origin = i == 0 ? r.origin : r.first.plus(i - 1);
            Run piece{r.first.plus(i), origin, j - i, r.deleted, {}};
            if (!r.deleted)
                piece.values.assign(r.values.begin() + i, r.values.begin() + j);
            if (!insert_remote(piece))
                return false;
            i = j;
        }
        return true;
    }

    bool insert_remote(const Run& r) {
        Pos p{0, 0, 0};
        if (!r.origin.is_root()) {
            auto o = locate(r.origin);
            if (!o)
                return false;
            p = after(*o);
        }
        // Skip the elements (whole spans: counters grow inside a span) with a greater id.
        for (;;) {
            if (p.span == blocks_[p.block].spans.size()) {
                if (p.block + 1 == blocks_.size())
                    break;
                p = {p.block + 1, 0, 0};
                continue;
            }
            const Span& next = blocks_[p.block].spans[p.span];
            if (!(next.first > r.first))
                break;
            ++p.span;
        }
        // Insert at the end of the previous block rather than the start of the next one.
        if (p.span == 0 && p.block > 0)
            p = {p.block - 1, blocks_[p.block - 1].spans.size(), 0};
        place(p, r);
        return true;
    }

    bool delete_range(DeleteRange& d) {
        while (d.len > 0) {
            auto p = locate(d.first);
            if (!p)
                return false;
            const Span& s = blocks_[p->block].spans[p->span];
            auto k = std::min<std::uint32_t>(d.len, s.len - p->offset);
            mark_deleted(*p, k);
            d.first = d.first.plus(k);
            d.len -= k;
        }
        return true;
    }

    ReplicaId self_;
    std::vector<Block> blocks_;
    std::size_t live_ = 0;
    std::uint64_t clock_ = 0;
    std::vector<Run> pending_runs_;
    std::vector<DeleteRange> pending_deletes_;
    // Ids held, per replica: first counter -> last counter of disjoint, non-adjacent ranges.
    std::map<ReplicaId, std::map<std::uint64_t, std::uint64_t>> held_;
};

// Text: an RGA of bytes (UTF-8 is kept as the bytes it is).
class TextRga : public Rga<char> {
public:
    using Rga<char>::Rga;
    Result<Delta> insert(std::size_t index, std::string_view text) {
        return Rga<char>::insert(index, std::span<const char>(text.data(), text.size()));
    }
    using Rga<char>::erase;
    std::string text() const {
        auto v = values();
        return {v.begin(), v.end()};
    }
};

} // namespace f0::crdt

// RegistryState: digests that find exactly the buckets that differ, repair in budgeted pieces,
// the per-id cap, the size cap, and what each change asks the store to write.
#include "mesh/replication/registry_state.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace f0;
using mesh::RegistryState;

namespace {
// Elements in these tests are "ID|VERSION"; anything without '|' is not a record.
std::optional<std::string> id_of(const std::string& e) {
    auto bar = e.find('|');
    if (bar == std::string::npos || bar == 0)
        return std::nullopt;
    return e.substr(0, bar);
}

crdt::Stamp stamp(std::uint64_t ms, crdt::ReplicaId r) {
    return {crdt::HlcTimestamp::make(ms, 0), r};
}

std::string element(int id, int version) {
    return "peer-" + std::to_string(id) + "|" + std::to_string(version);
}

// One anti-entropy exchange, both ways, as Replication runs it; returns the rounds it took.
int repair(RegistryState& a, RegistryState& b, std::size_t budget) {
    for (int round = 1; round <= 1000; ++round) {
        bool more_ab = false, more_ba = false;
        for (const auto& piece : a.pieces(a.differing(b.digest()), 4096, budget, more_ab))
            b.merge(piece);
        for (const auto& piece : b.pieces(b.differing(a.digest()), 4096, budget, more_ba))
            a.merge(piece);
        if (!more_ab && !more_ba)
            return round;
    }
    return -1;
}
} // namespace

TEST(RegistryState, DigestsAgreeExactlyWhenTheStatesDo) {
    RegistryState a({4, 100'000}, id_of), b({4, 100'000}, id_of);
    RegistryState::Changes ch;
    for (int i = 0; i < 500; ++i) {
        a.put("peer-" + std::to_string(i), element(i, 1), stamp(1000 + i, 1), ch);
        b.put("peer-" + std::to_string(i), element(i, 1), stamp(1000 + i, 1), ch);
    }
    EXPECT_EQ(a.digest(), b.digest());
    EXPECT_TRUE(a.differing(b.digest()).empty());
    // One newer record at b: one bucket differs (the new element's and the replaced one's).
    b.put("peer-7", element(7, 2), stamp(5000, 2), ch);
    auto diff = a.differing(b.digest());
    EXPECT_GE(diff.size(), 1u);
    EXPECT_LE(diff.size(), 2u);
    EXPECT_EQ(repair(a, b, 1 << 20), 1);
    EXPECT_EQ(a.digest(), b.digest());
    EXPECT_EQ(a.current("peer-7"), element(7, 2));
    EXPECT_FALSE(a.contains(element(7, 1)));
    // Something that is not a digest: every bucket we hold anything in.
    EXPECT_EQ(a.differing("junk").size(),
              a.differing(std::string(RegistryState::kDigestBytes, '\x01')).size());
}

TEST(RegistryState, AJoinerLearnsEverythingInBudgetedRounds) {
    RegistryState full({4, 100'000}, id_of), joiner({4, 100'000}, id_of);
    RegistryState::Changes ch;
    for (int i = 0; i < 5'000; ++i)
        full.put("peer-" + std::to_string(i), element(i, 1), stamp(1000 + i, 1), ch);
    EXPECT_EQ(ch.changed.size(), 5'000u) << "every new element is to be stored";
    // ~5,000 x 52 bytes = 260 KB at 32 KiB a round: several rounds, each asked for by "more".
    int rounds = repair(full, joiner, 32 * 1024);
    EXPECT_GT(rounds, 4);
    EXPECT_EQ(joiner.size(), 5'000u);
    EXPECT_EQ(joiner.digest(), full.digest());
}

TEST(RegistryState, OldReplacedRecordsBeyondThePerIdCapAreForgotten) {
    RegistryState a({3, 100'000}, id_of);
    RegistryState::Changes ch;
    for (int v = 1; v <= 10; ++v)
        a.put("peer-1", element(1, v), stamp(1000 + v, 1), ch);
    EXPECT_EQ(a.size(), 3u);
    EXPECT_EQ(a.current("peer-1"), element(1, 10));
    EXPECT_EQ(a.evicted(), 7u);
    EXPECT_TRUE(ch.erased.count(element(1, 1))) << "the store is told to delete it";
    EXPECT_FALSE(ch.changed.count(element(1, 1)));
    // A straggler bringing an old version back is forgotten again at once; the current stays.
    RegistryState::Set old;
    old.put(element(1, 2), {stamp(1002, 1), std::nullopt});
    a.merge(old);
    EXPECT_EQ(a.size(), 3u);
    EXPECT_EQ(a.current("peer-1"), element(1, 10));
    // Two replicas that saw the versions in different orders hold the same three.
    RegistryState b({3, 100'000}, id_of);
    RegistryState::Changes ch2;
    for (int v = 10; v >= 1; --v) {
        RegistryState::Set d;
        d.put(element(1, v),
              {stamp(1000 + v, 1), v < 10 ? std::optional(stamp(1010, 1)) : std::nullopt});
        b.merge(d);
    }
    EXPECT_EQ(b.current("peer-1"), element(1, 10));
    EXPECT_EQ(b.size(), 3u);
}

TEST(RegistryState, AFullRegistryRefusesNewIdsButUpdatesKnownOnes) {
    RegistryState a({4, 10}, id_of);
    RegistryState::Changes ch;
    for (int i = 0; i < 10; ++i)
        a.put("peer-" + std::to_string(i), element(i, 1), stamp(1000 + i, 1), ch);
    RegistryState::Changes more;
    a.put("peer-99", element(99, 1), stamp(3000, 1), more);
    EXPECT_FALSE(a.contains(element(99, 1)));
    EXPECT_EQ(more.refused, 1u);
    EXPECT_EQ(a.refused(), 1u);
    // A known id may still move on (its old record stays as a tombstone within the per-id cap).
    RegistryState::Changes upd;
    a.put("peer-3", element(3, 2), stamp(4000, 1), upd);
    EXPECT_EQ(a.current("peer-3"), element(3, 2));
    // Bytes that are not a record are refused whatever the room.
    RegistryState::Set junk;
    junk.put("no bar here", {stamp(5000, 9), std::nullopt});
    EXPECT_EQ(a.merge(junk).refused, 1u);
}

TEST(RegistryState, MergeOrderDoesNotMatter) {
    std::mt19937 rng(7);
    std::vector<RegistryState::Set> deltas;
    RegistryState src({4, 100'000}, id_of);
    RegistryState::Changes ch;
    for (int i = 0; i < 300; ++i) {
        int id = static_cast<int>(rng() % 40);
        deltas.push_back(src.put("peer-" + std::to_string(id), element(id, i),
                                 stamp(1000 + static_cast<std::uint64_t>(i), 1), ch));
    }
    RegistryState x({4, 100'000}, id_of), y({4, 100'000}, id_of);
    for (const auto& d : deltas)
        x.merge(d);
    std::shuffle(deltas.begin(), deltas.end(), rng);
    for (const auto& d : deltas)
        y.merge(d);
    for (int id = 0; id < 40; ++id)
        EXPECT_EQ(x.current("peer-" + std::to_string(id)),
                  src.current("peer-" + std::to_string(id)));
    EXPECT_EQ(repair(x, y, 1 << 20), 1);
    EXPECT_EQ(x.digest(), y.digest());
}

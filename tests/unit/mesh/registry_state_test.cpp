// RegistryState: digests that find exactly the buckets that differ, repair in budgeted pieces,
// the per-id cap, the size cap, what each change asks the store to write, and the property the
// registry exists for: whatever the order and duplication of deliveries (forged, stale,
// future-stamped and tombstone entries among them), replicas converge on one state, and in it
// every id is bound to the key of its first registration.
#include "mesh/replication/registry_state.hpp"
#include "util/numbered.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace f0;
using mesh::RegistryState;

namespace {
// Elements here are "ID|KEY|AT|TS" (signature checks are peer_record's, tested with real keys in
// peer_record_test and through Replication in the simulation): `admit` stands for them, and
// refuses anything else, and any element ending in "|forged".
std::optional<RegistryState::Info> admit(const std::string& e) {
    if (e.ends_with("|forged"))
        return std::nullopt;
    std::vector<std::string> f;
    std::size_t start = 0;
    for (std::size_t bar; (bar = e.find('|', start)) != std::string::npos; start = bar + 1)
        f.push_back(e.substr(start, bar - start));
    f.push_back(e.substr(start));
    if (f.size() != 4 || f[0].empty() || f[1].empty())
        return std::nullopt;
    try {
        return RegistryState::Info{f[0], f[1], std::stoll(f[2]), std::stoll(f[3])};
    } catch (...) {
        return std::nullopt;
    }
}

crdt::Stamp stamp(std::uint64_t ms, crdt::ReplicaId r) {
    return {crdt::HlcTimestamp::make(ms, 0), r};
}

std::string element(const std::string& id, const std::string& key, std::int64_t at,
                    std::int64_t ts) {
    return id + "|" + key + "|" + std::to_string(at) + "|" + std::to_string(ts);
}
std::string element(int id, int version) {
    return element(f0::util::numbered("peer-", id), f0::util::numbered("k", id), 1000 + version,
                   1000 + version);
}

RegistryState::Set one(const std::string& e, std::optional<crdt::Stamp> add,
                       std::optional<crdt::Stamp> remove = std::nullopt) {
    RegistryState::Set s;
    s.put(e, {add, remove});
    return s;
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
    RegistryState a({4, 100'000}, admit), b({4, 100'000}, admit);
    RegistryState::Changes ch;
    for (int i = 0; i < 500; ++i) {
        a.put(element(i, 1), stamp(1000 + i, 1), ch);
        b.put(element(i, 1), stamp(1000 + i, 1), ch);
    }
    EXPECT_EQ(a.digest(), b.digest());
    EXPECT_TRUE(a.differing(b.digest()).empty());
    // One newer record at b: b has one bucket to send, a none.
    b.put(element(7, 2), stamp(5000, 2), ch);
    EXPECT_EQ(b.differing(a.digest()).size(), 1u);
    EXPECT_TRUE(a.differing(b.digest()).empty());
    EXPECT_EQ(repair(a, b, 1 << 20), 1);
    EXPECT_EQ(a.digest(), b.digest());
    EXPECT_EQ(a.current("peer-7"), element(7, 2));
    EXPECT_TRUE(a.contains(element(7, 1))) << "the first registration is kept";
    // Something that is not a digest: every bucket we hold anything in.
    EXPECT_EQ(a.differing("junk").size(),
              a.differing(std::string(RegistryState::kDigestBytes, '\x01')).size());
}

TEST(RegistryState, AJoinerLearnsEverythingInBudgetedRounds) {
    RegistryState full({4, 100'000}, admit), joiner({4, 100'000}, admit);
    RegistryState::Changes ch;
    for (int i = 0; i < 5'000; ++i)
        full.put(element(i, 1), stamp(1000 + i, 1), ch);
    EXPECT_EQ(ch.changed.size(), 5'000u) << "every new element is to be stored";
    // ~5,000 x 60 bytes = 300 KB at 32 KiB a round: several rounds, each asked for by "more".
    int rounds = repair(full, joiner, 32 * 1024);
    EXPECT_GT(rounds, 4);
    EXPECT_EQ(joiner.size(), 5'000u);
    EXPECT_EQ(joiner.digest(), full.digest());
}

TEST(RegistryState, OldRecordsBeyondThePerIdCapAreForgottenButNotTheFirstRegistration) {
    RegistryState a({3, 100'000}, admit);
    RegistryState::Changes ch;
    for (int v = 1; v <= 10; ++v)
        a.put(element(1, v), stamp(1000 + v, 1), ch);
    EXPECT_EQ(a.size(), 3u);
    EXPECT_EQ(a.current("peer-1"), element(1, 10));
    EXPECT_TRUE(a.contains(element(1, 1))) << "it binds the key";
    EXPECT_TRUE(a.contains(element(1, 9)));
    EXPECT_EQ(a.evicted(), 7u);
    EXPECT_TRUE(ch.erased.count(element(1, 2))) << "the store is told to delete it";
    EXPECT_FALSE(ch.changed.count(element(1, 2)));
    // A straggler bringing an old version back is forgotten again at once; the current stays.
    a.merge(one(element(1, 2), stamp(1002, 1)));
    EXPECT_EQ(a.size(), 3u);
    EXPECT_FALSE(a.contains(element(1, 2)));
    EXPECT_EQ(a.current("peer-1"), element(1, 10));
    // A replica that saw the versions in the other order holds the same three.
    RegistryState b({3, 100'000}, admit);
    for (int v = 10; v >= 1; --v)
        b.merge(one(element(1, v), stamp(1000 + v, 1)));
    EXPECT_EQ(b.current("peer-1"), element(1, 10));
    EXPECT_EQ(b.digest(), a.digest());
}

TEST(RegistryState, AFullRegistryRefusesNewIdsButUpdatesKnownOnes) {
    RegistryState a({4, 10}, admit);
    RegistryState::Changes ch;
    for (int i = 0; i < 10; ++i)
        a.put(element(i, 1), stamp(1000 + i, 1), ch);
    RegistryState::Changes more;
    a.put(element(99, 1), stamp(3000, 1), more);
    EXPECT_FALSE(a.contains(element(99, 1)));
    EXPECT_EQ(more.refused, 1u);
    EXPECT_EQ(a.refused(), 1u);
    // A known id may still move on.
    RegistryState::Changes upd;
    a.put(element(3, 2), stamp(4000, 1), upd);
    EXPECT_EQ(a.current("peer-3"), element(3, 2));
    // Bytes that are not an admitted record are refused whatever the room.
    EXPECT_EQ(a.merge(one("no bars here", stamp(5000, 9))).refused, 1u);
    EXPECT_EQ(a.merge(one(element(3, 5) + "|forged", stamp(5000, 9))).refused, 1u);
}

TEST(RegistryState, TheFirstKeyOfAnIdWinsAndOthersAreRefusedAndReported) {
    RegistryState a({4, 100}, admit);
    auto victim = element("v", "Kv", 1000, 1000);
    auto attacker = element("v", "Ka", 2000, 900); // registered later; signs an older ts
    a.merge(one(victim, stamp(1000, 1)));
    auto ch = a.merge(one(attacker, stamp(9000, 2))); // a newer add stamp changes nothing
    EXPECT_FALSE(a.contains(attacker));
    EXPECT_EQ(ch.conflicts.count({"v", "Ka"}), 1u);
    EXPECT_EQ(a.conflicts(), 1u);
    EXPECT_EQ(a.owner("v"), "Kv");
    EXPECT_EQ(a.current("v"), victim);
    // The victim's own update moves its record on.
    auto update = element("v", "Kv", 3000, 3000);
    a.merge(one(update, stamp(3000, 1)));
    EXPECT_EQ(a.current("v"), update);
    // A replica that heard the attacker first drops it when the earlier registration comes.
    RegistryState b({4, 100}, admit);
    b.merge(one(attacker, stamp(9000, 2)));
    EXPECT_EQ(b.owner("v"), "Ka");
    auto rebound = b.merge(one(victim, stamp(1000, 1)));
    EXPECT_EQ(rebound.conflicts.count({"v", "Ka"}), 1u);
    EXPECT_TRUE(rebound.erased.count(attacker)) << "the store is told to delete it";
    EXPECT_EQ(b.owner("v"), "Kv");
    EXPECT_FALSE(b.contains(attacker));
    // Tombstones are refused: a removal of the victim's record leaves it.
    auto t = a.merge(one(update, std::nullopt, stamp(99'000, 2)));
    EXPECT_EQ(t.tombstones, 1u);
    EXPECT_EQ(a.current("v"), update);
    EXPECT_EQ(a.tombstones_refused(), 1u);
}

TEST(RegistryState, MergeOrderDoesNotMatter) {
    std::mt19937 rng(7);
    std::vector<RegistryState::Set> deltas;
    RegistryState src({4, 100'000}, admit);
    RegistryState::Changes ch;
    for (int i = 0; i < 300; ++i) {
        int id = static_cast<int>(rng() % 40);
        deltas.push_back(
            src.put(element(id, i), stamp(1000 + static_cast<std::uint64_t>(i), 1), ch));
    }
    RegistryState x({4, 100'000}, admit), y({4, 100'000}, admit);
    for (const auto& d : deltas)
        x.merge(d);
    std::shuffle(deltas.begin(), deltas.end(), rng);
    for (const auto& d : deltas)
        y.merge(d);
    for (int id = 0; id < 40; ++id) {
        EXPECT_EQ(x.current("peer-" + std::to_string(id)),
                  src.current("peer-" + std::to_string(id)));
        EXPECT_EQ(y.current("peer-" + std::to_string(id)),
                  src.current("peer-" + std::to_string(id)));
    }
    EXPECT_EQ(x.digest(), y.digest());
}

// The property, over many seeds: per id a few keys register at random registrar times and update
// their records; deliveries to each of several replicas come in a random order, some twice, mixed
// with forged elements, tombstones, and old or far-future add stamps. After the deliveries every
// replica binds every id to its first key (the earliest registration); after anti-entropy (as the
// workers run it) every replica holds the same state, whose current record for each id is that
// key's latest.
TEST(RegistryState, AnyOrderAndDuplicationConvergesOnTheFirstKey) {
    for (unsigned seed = 1; seed <= 1000; ++seed) {
        std::mt19937 rng(seed);
        auto pick = [&rng](int lo, int hi) {
            return std::uniform_int_distribution<int>(lo, hi)(rng);
        };
        struct Delivery {
            std::string element;
            RegistryState::Set::Entry entry;
        };
        std::vector<Delivery> all;
        std::map<std::string, std::pair<std::int64_t, std::string>> first; // id -> (at, key)
        std::map<std::string, std::string> latest;                         // id -> element
        const int ids = pick(1, 6);
        for (int i = 0; i < ids; ++i) {
            const std::string id = f0::util::numbered("p", i);
            const int keys = pick(1, 3);
            for (int k = 0; k < keys; ++k) {
                const std::string key = id + "-key" + std::to_string(k);
                const std::int64_t at = pick(1, 50); // ties between keys are broken by the key
                for (int u = pick(1, 4); u > 0; --u) {
                    auto e = element(id, key, at + pick(0, 20), pick(1, 100));
                    all.push_back({e,
                                   {stamp(static_cast<std::uint64_t>(pick(1, 1'000'000)),
                                          static_cast<crdt::ReplicaId>(pick(1, 4))),
                                    std::nullopt}});
                    if (pick(0, 3) == 0) // a tombstone of it, alone or with its add
                        all.push_back({e,
                                       {pick(0, 1) ? std::optional(stamp(1, 9)) : std::nullopt,
                                        stamp(static_cast<std::uint64_t>(pick(1, 2'000'000)), 9)}});
                }
                all.push_back({element(id, key, 0, 0) + "|forged", {stamp(1, 7), std::nullopt}});
            }
        }
        // An id's first key: that of its earliest registration (at, then key).
        for (const auto& d : all)
            if (auto info = admit(d.element); info && d.entry.add) {
                auto f = first.find(info->id);
                if (f == first.end() || std::pair(info->at, info->key) < f->second)
                    first[info->id] = {info->at, info->key};
            }
        // The registrations that count for an id are those of its first key; note that key's
        // element with the latest ts as the one to end current (ties: the order RegistryState
        // uses, ts then at then text).
        std::map<std::string, std::tuple<std::int64_t, std::int64_t, std::string>> best;
        for (const auto& d : all)
            if (auto info = admit(d.element);
                info && d.entry.add && info->key == first[info->id].second) {
                auto cand = std::make_tuple(info->ts, info->at, d.element);
                auto it = best.find(info->id);
                if (it == best.end() || it->second < cand)
                    best[info->id] = cand;
            }
        const std::size_t per_id = static_cast<std::size_t>(pick(2, 5));
        std::vector<RegistryState> replicas;
        for (int r = 0; r < 4; ++r)
            replicas.emplace_back(RegistryState::Limits{per_id, 10'000}, admit);
        for (std::size_t r = 0; r < replicas.size(); ++r) {
            auto& rep = replicas[r];
            auto order = all;
            for (std::size_t dup = order.size() / 3; dup > 0; --dup)
                order.push_back(
                    all[static_cast<std::size_t>(pick(0, static_cast<int>(all.size()) - 1))]);
            std::shuffle(order.begin(), order.end(), rng);
            // Replica 0 is where the registrations were made: it has them in the order of their
            // registrar times. (Elsewhere, an update of an id's first key that comes while another
            // key still holds the id is refused; its origin has it, and anti-entropy brings it.)
            if (r == 0)
                std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
                    auto ix = admit(x.element), iy = admit(y.element);
                    return (ix ? ix->at : -1) < (iy ? iy->at : -1);
                });
            for (const auto& d : order) {
                RegistryState::Set s;
                s.put(d.element, d.entry);
                rep.merge(s);
            }
            for (const auto& [id, f] : first)
                ASSERT_EQ(rep.owner(id), f.second) << "seed " << seed << " id " << id;
        }
        for (std::size_t r = 1; r < replicas.size(); ++r)
            ASSERT_GT(repair(replicas[0], replicas[r], 1 << 20), 0);
        for (std::size_t r = 1; r < replicas.size(); ++r) // what 0 learned late reaches all
            ASSERT_GT(repair(replicas[0], replicas[r], 1 << 20), 0);
        for (std::size_t r = 0; r < replicas.size(); ++r) {
            ASSERT_EQ(replicas[r].digest(), replicas[0].digest()) << "seed " << seed;
            for (const auto& [id, f] : first) {
                ASSERT_EQ(replicas[r].owner(id), f.second) << "seed " << seed;
                ASSERT_EQ(replicas[r].current(id), std::get<2>(best[id])) << "seed " << seed;
            }
        }
    }
}

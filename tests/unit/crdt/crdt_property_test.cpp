// Property tests (seeded, reproducible): random operations on 2-8 replicas, deltas delivered in
// random order with duplicates; every replica converges; merge is commutative, associative and
// idempotent; the HLC never goes back and keeps its max offset. F0_PROPERTY_SCHEDULES sets the
// number of random schedules per type (CI: 300; make test-long: 10,000); F0_PROPERTY_SEED the
// first seed.
#include "crdt/codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

using namespace f0::crdt;

namespace {

int schedules() {
    const char* s = std::getenv("F0_PROPERTY_SCHEDULES");
    return s ? std::max(1, std::atoi(s)) : 300;
}
std::uint64_t first_seed() {
    const char* s = std::getenv("F0_PROPERTY_SEED");
    return s ? std::strtoull(s, nullptr, 10) : 1;
}

// Delivers every delta to every replica, in a random order, a third of them twice.
template <class Delta, class Apply>
void deliver_all(std::vector<Delta>& deltas, std::size_t replicas, std::mt19937_64& rng,
                 Apply apply) {
    for (std::size_t r = 0; r < replicas; ++r) {
        std::vector<std::size_t> order;
        for (std::size_t i = 0; i < deltas.size(); ++i) {
            order.push_back(i);
            if (rng() % 3 == 0)
                order.push_back(i);
        }
        std::shuffle(order.begin(), order.end(), rng);
        for (auto i : order)
            apply(r, deltas[i]);
    }
}

} // namespace

TEST(CrdtProperty, HlcIsMonotonicAndKeepsItsMaxOffset) {
    for (int k = 0; k < schedules(); ++k) {
        std::uint64_t seed = first_seed() + k;
        std::mt19937_64 rng(seed);
        std::int64_t max_offset = 1 + rng() % 1000;
        Hlc c(max_offset);
        std::int64_t wall = 1'000'000;
        HlcTimestamp last{};
        for (int step = 0; step < 200; ++step) {
            wall += static_cast<std::int64_t>(rng() % 100) - 40; // steps back now and then
            HlcTimestamp got;
            if (rng() % 2) {
                got = c.now(wall);
            } else {
                auto remote =
                    HlcTimestamp::make(static_cast<std::uint64_t>(
                                           wall + static_cast<std::int64_t>(rng() % 3000) - 1500),
                                       rng() % 70000);
                auto r = c.receive(remote, wall);
                bool too_far = static_cast<std::int64_t>(remote.physical_ms()) > wall + max_offset;
                ASSERT_EQ(!r, too_far) << "seed " << seed;
                if (!r) {
                    ASSERT_EQ(c.last(), last) << "seed " << seed;
                    continue;
                }
                got = r.value();
                ASSERT_GT(got, remote) << "seed " << seed;
            }
            ASSERT_GT(got, last) << "seed " << seed << " step " << step;
            ASSERT_GE(got.physical_ms(),
                      static_cast<std::uint64_t>(std::max<std::int64_t>(0, wall)))
                << "seed " << seed;
            last = got;
        }
    }
}

TEST(CrdtProperty, LwwElementSetConvergesAndMergeIsAJoin) {
    for (int k = 0; k < schedules(); ++k) {
        std::uint64_t seed = first_seed() + k;
        std::mt19937_64 rng(seed);
        std::size_t n = 2 + rng() % 7;
        std::vector<LwwElementSet<std::string>> sets(n);
        std::vector<Hlc> clocks(n);
        std::vector<LwwElementSet<std::string>> deltas;
        std::int64_t wall = 1000;
        for (int op = 0; op < 40; ++op) {
            std::size_t r = rng() % n;
            wall += rng() % 3;
            Stamp st{clocks[r].now(wall), r + 1};
            std::string e(1, static_cast<char>('a' + rng() % 6));
            deltas.push_back(rng() % 3 ? sets[r].add(e, st) : sets[r].remove(e, st));
            if (rng() % 4 == 0) { // some replicas hear some deltas early
                std::size_t to = rng() % n;
                sets[to].merge(deltas.back());
                (void)clocks[to].receive(st.ts, wall);
            }
        }
        deliver_all(deltas, n, rng,
                    [&](std::size_t r, const LwwElementSet<std::string>& d) { sets[r].merge(d); });
        for (std::size_t r = 1; r < n; ++r) {
            ASSERT_TRUE(sets[r] == sets[0]) << "seed " << seed;
            ASSERT_EQ(sets[r].elements(), sets[0].elements()) << "seed " << seed;
        }
        // Merge laws on three random states.
        auto pick = [&] {
            LwwElementSet<std::string> s;
            for (auto& d : deltas)
                if (rng() % 2)
                    s.merge(d);
            return s;
        };
        auto a = pick(), b = pick(), c = pick();
        auto ab = a, ba = b;
        ab.merge(b);
        ba.merge(a);
        ASSERT_TRUE(ab == ba) << "commutative, seed " << seed;
        auto ab_c = ab, bc = b;
        ab_c.merge(c);
        bc.merge(c);
        auto a_bc = a;
        a_bc.merge(bc);
        ASSERT_TRUE(ab_c == a_bc) << "associative, seed " << seed;
        auto aa = a;
        aa.merge(a);
        ASSERT_TRUE(aa == a) << "idempotent, seed " << seed;
        auto round = codec::decode_lww(codec::encode(ab_c));
        ASSERT_TRUE(round && round.value() == ab_c) << "codec, seed " << seed;
    }
}

TEST(CrdtProperty, RgaConvergesWhateverTheDeliveryOrder) {
    for (int k = 0; k < schedules(); ++k) {
        std::uint64_t seed = first_seed() + k;
        std::mt19937_64 rng(seed);
        std::size_t n = 2 + rng() % 7;
        std::vector<TextRga> docs;
        for (std::size_t r = 0; r < n; ++r)
            docs.emplace_back(100 + r);
        std::vector<TextRga::Delta> deltas;
        for (int op = 0; op < 30; ++op) {
            std::size_t r = rng() % n;
            auto& d = docs[r];
            if (d.size() > 0 && rng() % 3 == 0) {
                std::size_t at = rng() % d.size();
                std::size_t len = 1 + rng() % std::min<std::size_t>(4, d.size() - at);
                deltas.push_back(d.erase(at, len).value());
            } else {
                std::string s(1 + rng() % 4, static_cast<char>('a' + op % 26));
                deltas.push_back(d.insert(rng() % (d.size() + 1), s).value());
            }
            if (rng() % 3 == 0) { // partial delivery: replicas diverge, then edit concurrently
                std::size_t to = rng() % n;
                ASSERT_TRUE(docs[to].apply(deltas[rng() % deltas.size()]));
            }
        }
        deliver_all(deltas, n, rng,
                    [&](std::size_t r, const TextRga::Delta& d) { ASSERT_TRUE(docs[r].apply(d)); });
        auto want = codec::encode(docs[0].state(), false);
        for (std::size_t r = 0; r < n; ++r) {
            ASSERT_EQ(docs[r].pending(), 0u) << "seed " << seed;
            ASSERT_EQ(docs[r].text(), docs[0].text()) << "seed " << seed << " replica " << r;
            ASSERT_EQ(codec::encode(docs[r].state(), false), want) << "seed " << seed;
        }
        // State merge: commutative and idempotent (join of two replicas' partial states).
        TextRga x(900), y(901), p(902), q(903);
        ASSERT_TRUE(x.apply(deltas[0]));
        for (std::size_t i = 0; i < deltas.size(); ++i)
            ASSERT_TRUE((i % 2 ? x : y).apply(deltas[i]));
        ASSERT_TRUE(p.apply(x.state()));
        ASSERT_TRUE(p.apply(y.state()));
        ASSERT_TRUE(q.apply(y.state()));
        ASSERT_TRUE(q.apply(x.state()));
        ASSERT_TRUE(q.apply(x.state()));
        ASSERT_EQ(p.text(), q.text()) << "seed " << seed;
        ASSERT_EQ(codec::encode(p.state()), codec::encode(q.state())) << "seed " << seed;
        if (x.pending() == 0 && y.pending() == 0) { // between them they integrated every delta
            ASSERT_EQ(p.text(), docs[0].text()) << "seed " << seed;
        }
        // Anti-entropy from summaries brings a stale replica level.
        TextRga stale(904);
        ASSERT_TRUE(stale.apply(deltas[0]));
        ASSERT_TRUE(stale.apply(docs[0].missing_for(stale.summary())));
        ASSERT_EQ(stale.text(), docs[0].text()) << "seed " << seed;
        auto round = codec::decode_text(codec::encode(docs[0].state()));
        TextRga loaded(905);
        ASSERT_TRUE(round && loaded.load(round.value()));
        ASSERT_EQ(loaded.text(), docs[0].text()) << "seed " << seed;
    }
}

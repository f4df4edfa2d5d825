// TrustScore and the weighted fan-out sampler.
#include "mesh/gossip/trust.hpp"
#include "mesh/gossip/weighted_fanout.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace f0::mesh::gossip;

TEST(WeightedFanout, HighTrustIsChosenTwiceAsOftenOver100000Draws) {
    TrustParams p;
    // Five high-trust peers and five low-trust ones, as trust values through the configured
    // weights.
    std::vector<double> trust{0.95, 0.9, 0.8, 0.75, 0.7, 0.3, 0.25, 0.2, 0.15, 0.1};
    std::vector<double> w;
    for (double t : trust)
        w.push_back(p.weight(t));
    std::mt19937_64 rng(42);
    std::uint64_t high = 0, low = 0;
    for (int draw = 0; draw < 100000; ++draw) {
        auto chosen = weighted_sample(w, 3, rng);
        ASSERT_EQ(chosen.size(), 3u);
        ASSERT_EQ(std::set<std::size_t>(chosen.begin(), chosen.end()).size(), 3u) << "repeated";
        for (auto i : chosen)
            (trust[i] >= p.high ? high : low) += 1;
    }
    double ratio = static_cast<double>(high) / static_cast<double>(low); // five of each
    EXPECT_NEAR(ratio, 2.0, 0.05) << "high " << high << " low " << low;
}

TEST(WeightedFanout, WeightsFollowTheConfiguredThresholds) {
    TrustParams p;
    EXPECT_DOUBLE_EQ(p.weight(0.9), 2.0);
    EXPECT_DOUBLE_EQ(p.weight(0.7), 2.0);
    EXPECT_DOUBLE_EQ(p.weight(0.3), 1.0);
    EXPECT_DOUBLE_EQ(p.weight(0.5), 1.5);
    EXPECT_DOUBLE_EQ(p.weight(0.05), 0.0); // below exclude_below: never chosen
    p.low = 0.5;
    p.high = 0.5;
    EXPECT_DOUBLE_EQ(p.weight(0.6), 2.0);
    EXPECT_DOUBLE_EQ(p.weight(0.4), 1.0);
}

TEST(WeightedFanout, EdgeCasesAndDeterminism) {
    std::mt19937_64 rng(1);
    std::vector<double> w{1, 0, 2, 1};
    auto all = weighted_sample(w, 10, rng); // k larger than the positives: every positive once
    EXPECT_EQ(std::set<std::size_t>(all.begin(), all.end()), (std::set<std::size_t>{0, 2, 3}));
    EXPECT_TRUE(weighted_sample(std::vector<double>{}, 3, rng).empty());
    EXPECT_TRUE(weighted_sample(std::vector<double>{0, 0}, 1, rng).empty());
    for (int i = 0; i < 1000; ++i)
        for (auto idx : weighted_sample(w, 2, rng))
            EXPECT_NE(idx, 1u);
    std::mt19937_64 a(7), b(7);
    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(weighted_sample(w, 2, a), weighted_sample(w, 2, b));
    // A weight too large for its share is taken every time and the rest share what is left.
    auto pi = inclusion_probabilities(std::vector<double>{100, 1, 1, 1, 1}, 2);
    EXPECT_DOUBLE_EQ(pi[0], 1.0);
    EXPECT_NEAR(pi[1], 0.25, 1e-12);
}

TEST(Trust, NewPeerIsNeutralAndGoodQosAndUptimeRaiseIt) {
    TrustBook book;
    EXPECT_DOUBLE_EQ(book.trust("a", 0), 0.5);
    book.on_qos("a", 20, 0);
    EXPECT_NEAR(book.trust("a", 0), 0.7, 1e-9);
    book.on_link_up("a", 0);
    EXPECT_NEAR(book.trust("a", 1'800'000), 0.85, 1e-9); // half an hour: half the uptime score
    EXPECT_NEAR(book.trust("a", 7'200'000), 1.0, 1e-9);
    book.on_link_down("a");
    EXPECT_NEAR(book.trust("a", 7'200'000), 0.7, 1e-9);
    book.on_qos("b", 500, 10); // the worst QoS
    EXPECT_NEAR(book.trust("b", 0), 0.3, 1e-9);
    book.on_qos("c", 275, 5); // halfway on both
    EXPECT_NEAR(book.trust("c", 0), 0.5, 1e-9);
}

TEST(Trust, EachOffenceCostsItsConfiguredPenaltyAndRecoversSlowly) {
    TrustParams p;
    TrustBook book(p);
    struct Case {
        Offence o;
        double penalty;
    };
    for (auto [o, penalty] : {Case{Offence::BadSignature, p.penalty_bad_signature},
                              Case{Offence::Invalid, p.penalty_invalid},
                              Case{Offence::DuplicateFlood, p.penalty_duplicate_flood},
                              Case{Offence::RateLimited, p.penalty_rate_limited}}) {
        std::string peer = to_string(o);
        book.on_offence(peer, o, 1000);
        EXPECT_NEAR(book.behaviour(peer, 1000), 1 - penalty, 1e-9) << peer;
        EXPECT_NEAR(book.trust(peer, 1000), 0.5 * (1 - penalty), 1e-9) << peer;
        EXPECT_EQ(book.to_json(peer, 1000)["offences"][peer], 1) << peer;
        // recovery_per_min per minute, never above 1
        EXPECT_NEAR(book.behaviour(peer, 1000 + 60'000), 1 - penalty + p.recovery_per_min, 1e-9);
        EXPECT_DOUBLE_EQ(book.behaviour(peer, 1000 + 3'600'000), 1.0);
    }
    for (int i = 0; i < 10; ++i)
        book.on_offence("forger", Offence::BadSignature, 0);
    EXPECT_DOUBLE_EQ(book.trust("forger", 0), 0.0);
    EXPECT_DOUBLE_EQ(p.weight(book.trust("forger", 0)), 0.0);
}

// The placement rule of several workers per peer (issue 17): rendezvous hashing of links onto a
// peer's instances. Agreement between the two ends, the spread, minimal movement when instances
// come and go, and the weight against an independent computation (Python's hashlib).
#include "mesh/instances/placement.hpp"
#include "util/numbered.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

using namespace f0::mesh::instances;

namespace {
std::vector<std::string> peers(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i)
        out.push_back(f0::util::numbered("peer-", i));
    return out;
}
std::map<std::string, std::string> placed(const std::vector<std::string>& others,
                                          const std::vector<std::string>& live) {
    std::map<std::string, std::string> out;
    for (const auto& p : others)
        out[p] = place_link("fz-x", p, live).value();
    return out;
}
} // namespace

TEST(Placement, TheWeightIsTheDocumentedHash) {
    // python3: int.from_bytes(sha256(b"f0-place\0" + low + b"\0" + high + b"\0" + inst)[:8], "big")
    EXPECT_EQ(placement_weight("fz-kuwait", "fz-cairo", "kw-1"), 9826331562867003807ULL);
    EXPECT_EQ(placement_weight("fz-cairo", "fz-kuwait", "kw-2"), 245140565363712102ULL);
}

TEST(Placement, BothEndsAndEveryInstanceOrderAgree) {
    std::vector<std::string> live{"x-1", "x-2", "x-3"};
    auto shuffled = live;
    std::reverse(shuffled.begin(), shuffled.end());
    for (const auto& p : peers(200)) {
        auto a = place_link("fz-x", p, live);
        EXPECT_EQ(a, place_link(p, "fz-x", live));
        EXPECT_EQ(a, place_link("fz-x", p, shuffled));
    }
    EXPECT_EQ(place_link("fz-x", "fz-y", {}), std::nullopt);
}

TEST(Placement, LinksSpreadEvenly) {
    std::vector<std::string> live{"x-1", "x-2", "x-3"};
    std::map<std::string, int> count;
    for (const auto& [peer, inst] : placed(peers(3000), live))
        ++count[inst];
    for (const auto& inst : live)
        EXPECT_NEAR(count[inst], 1000, 100) << inst;
    // The acceptance's 30 peers: each instance within 10 +- 4.
    count.clear();
    for (const auto& [peer, inst] : placed(peers(30), live))
        ++count[inst];
    for (const auto& inst : live)
        EXPECT_NEAR(count[inst], 10, 4) << inst;
}

TEST(Placement, OnlyTheLeaversLinksMoveAndOnlyToTheJoiner) {
    const auto others = peers(600);
    std::vector<std::string> three{"x-1", "x-2", "x-3"};
    const auto before = placed(others, three);
    // x-2 dies: its links go elsewhere, nobody else's move.
    const auto after = placed(others, {"x-1", "x-3"});
    int moved = 0;
    for (const auto& p : others) {
        if (before.at(p) == "x-2") {
            EXPECT_NE(after.at(p), "x-2");
            ++moved;
        } else {
            EXPECT_EQ(after.at(p), before.at(p)) << p;
        }
    }
    EXPECT_GT(moved, 0);
    // It comes back: exactly the same placement as before (nothing else was disturbed).
    EXPECT_EQ(placed(others, three), before);
    // A fourth joins: the links that move all go to it, about a quarter of them.
    const auto four = placed(others, {"x-1", "x-2", "x-3", "x-4"});
    int to_new = 0;
    for (const auto& p : others) {
        if (four.at(p) != before.at(p)) {
            EXPECT_EQ(four.at(p), "x-4") << p;
            ++to_new;
        }
    }
    EXPECT_NEAR(to_new, 150, 45);
}

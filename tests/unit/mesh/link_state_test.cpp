// Link-state summaries (issue 18): the compact payload, what a receiver refuses, the book's bounds
// (newest per sender, expiry, senders and links held) and the mesh graph built from it.
#include "mesh/gossip/link_state.hpp"

#include "util/numbered.hpp"

#include <gtest/gtest.h>

using namespace f0::mesh::gossip;

namespace {

constexpr std::int64_t kNow = 1'760'000'000'000;

LinkSummary link(const std::string& peer, double rtt, const std::string& health = "good") {
    LinkSummary l{.peer = peer};
    l.rtt_ms = rtt;
    l.jitter_ms = 1.26;
    l.loss_pct = health == "bad" ? 40 : 0;
    l.tx_kbps = 2.04;
    l.rx_kbps = 3;
    l.health = health;
    l.path = "host";
    return l;
}

GossipMessage msg(const std::string& origin, std::vector<LinkSummary> links, std::int64_t ts,
                  const std::string& instance = "") {
    GossipMessage m;
    m.origin = origin;
    m.topic = std::string(LinkStateBook::kTopic);
    m.ts_ms = ts;
    // As a receiver sees it: parsed from text.
    m.payload = nlohmann::json::parse(LinkStateBook::payload(std::move(links), 15'000).dump());
    if (!instance.empty()) {
        m.delegation.emplace();
        m.delegation->instance = instance;
    }
    return m;
}

const nlohmann::json* find_link(const nlohmann::json& g, const std::string& a,
                                const std::string& b) {
    for (const auto& l : g["links"])
        if (l["a"] == a && l["b"] == b)
            return &l;
    return nullptr;
}

} // namespace

TEST(LinkState, APayloadRoundTripsRoundedToATenth) {
    auto p = LinkStateBook::payload({link("fz-b", 12.345), link("fz-c", 0.04)}, 15'000);
    EXPECT_EQ(p["n"], 2);
    EXPECT_EQ(p["i"], 15'000);
    auto back = LinkStateBook::parse(p); // as built here, not parsed from text
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back.value().size(), 2u);
    EXPECT_EQ(back.value()[0].peer, "fz-b");
    EXPECT_DOUBLE_EQ(*back.value()[0].rtt_ms, 12.3);
    EXPECT_DOUBLE_EQ(back.value()[0].jitter_ms, 1.3);
    EXPECT_DOUBLE_EQ(*back.value()[1].rtt_ms, 0.0);
    LinkSummary unmeasured{.peer = "fz-d"};
    auto q = LinkStateBook::parse(LinkStateBook::payload({unmeasured}, 15'000));
    ASSERT_TRUE(q);
    EXPECT_FALSE(q.value()[0].rtt_ms);
    EXPECT_EQ(q.value()[0].health, "unknown");
}

TEST(LinkState, OverTheBoundTheWorstLinksAreSentAndAllAreCounted) {
    std::vector<LinkSummary> links;
    for (int i = 0; i < 250; ++i)
        links.push_back(link(f0::util::numbered("p", i), 10, i % 50 == 7 ? "bad" : "good"));
    auto p = LinkStateBook::payload(links, 15'000);
    EXPECT_EQ(p["n"], 250);
    ASSERT_EQ(p["l"].size(), LinkStateBook::kMaxLinks);
    for (int k = 0; k < 5; ++k)
        EXPECT_EQ(p["l"][k][6], "bad") << "the 5 bad links come first";
    EXPECT_LT(p.dump().size(), 16u * 1024) << "fits the gossip payload bound";
    EXPECT_TRUE(LinkStateBook::parse(p));
    // Peer ids of 64 characters: fewer fit, still the worst first, still under the bound.
    for (auto& l : links)
        l.peer = std::string(60, 'x') + l.peer.substr(1).insert(0, 4 - (l.peer.size() - 1), '0');
    auto q = LinkStateBook::payload(links, 15'000);
    EXPECT_EQ(q["n"], 250);
    EXPECT_LT(q["l"].size(), LinkStateBook::kMaxLinks);
    EXPECT_GT(q["l"].size(), 100u);
    EXPECT_EQ(q["l"][0][6], "bad");
    EXPECT_LE(q.dump().size(), LinkStateBook::kMaxPayloadBytes);
    EXPECT_TRUE(LinkStateBook::parse(q));
}

TEST(LinkState, AMalformedSummaryIsRefusedWhole) {
    auto good = LinkStateBook::payload({link("fz-b", 5)}, 15'000);
    auto with = [&](auto change) {
        auto p = good;
        change(p);
        return LinkStateBook::parse(p);
    };
    EXPECT_FALSE(LinkStateBook::parse(nlohmann::json::array()));
    EXPECT_FALSE(with([](auto& p) { p["v"] = 2; }));
    EXPECT_FALSE(with([](auto& p) { p.erase("i"); }));
    EXPECT_FALSE(with([](auto& p) { p["n"] = 0; })) << "fewer open than sent";
    EXPECT_FALSE(with([](auto& p) { p["n"] = -1; }));
    EXPECT_FALSE(with([](auto& p) { p["l"][0].push_back(1); })) << "9 fields";
    EXPECT_FALSE(with([](auto& p) { p["l"][0][0] = "a b"; })) << "not a peer id";
    EXPECT_FALSE(with([](auto& p) { p["l"].push_back(p["l"][0]); })) << "a peer twice";
    EXPECT_FALSE(with([](auto& p) { p["l"][0][1] = -1; }));
    EXPECT_FALSE(with([](auto& p) { p["l"][0][1] = "5"; }));
    EXPECT_FALSE(with([](auto& p) { p["l"][0][3] = 100.5; })) << "loss over 100 %";
    EXPECT_FALSE(with([](auto& p) { p["l"][0][4] = 1e300; }));
    EXPECT_FALSE(with([](auto& p) { p["l"][0][6] = "fine"; }));
    EXPECT_FALSE(with([](auto& p) { p["l"][0][7] = "carrier-pigeon"; }));
    EXPECT_FALSE(with([](auto& p) {
        for (int i = 0; i < 201; ++i)
            p["l"].push_back({f0::util::numbered("q", i), 1, 0, 0, 0, 0, "good", "host"});
        p["n"] = 202;
    })) << "over kMaxLinks";
    EXPECT_TRUE(with([](auto&) {}));
}

TEST(LinkState, TheNewestSummaryPerSenderIsKeptAndOlderOnesAreStale) {
    LinkStateBook book("fz-a", {});
    EXPECT_EQ(book.on_message(msg("fz-b", {link("fz-a", 5)}, kNow), kNow),
              LinkStateBook::Take::Stored);
    EXPECT_EQ(book.on_message(msg("fz-b", {link("fz-a", 9)}, kNow - 1), kNow),
              LinkStateBook::Take::Stale);
    EXPECT_EQ(book.on_message(msg("fz-b", {link("fz-a", 9)}, kNow), kNow),
              LinkStateBook::Take::Stale)
        << "a replay of the same summary";
    EXPECT_EQ(book.on_message(msg("fz-b", {link("fz-a", 7)}, kNow + 1), kNow),
              LinkStateBook::Take::Stored);
    // Two instances of one peer: each its own summary.
    EXPECT_EQ(book.on_message(msg("fz-b", {link("fz-c", 3)}, kNow, "kw-1"), kNow),
              LinkStateBook::Take::Stored);
    EXPECT_EQ(book.size(), 2u);
    EXPECT_TRUE(book.holds("fz-b", kNow + 1));
    EXPECT_TRUE(book.holds("fz-b/kw-1", kNow));
    EXPECT_FALSE(book.holds("fz-b", kNow + 2));
    auto bad = msg("fz-b", {link("fz-a", 5)}, kNow + 5);
    bad.payload["l"][0][3] = 101;
    EXPECT_EQ(book.on_message(bad, kNow), LinkStateBook::Take::Invalid);
    EXPECT_TRUE(book.holds("fz-b", kNow + 1)) << "an invalid summary leaves the held one";
    EXPECT_EQ(book.counters().stored, 3u);
    EXPECT_EQ(book.counters().stale, 2u);
    EXPECT_EQ(book.counters().invalid, 1u);
}

TEST(LinkState, SummariesExpireAndTheBookStaysWithinItsBounds) {
    LinkStateBook book("fz-a", {.max_senders = 3, .expire_ms = 60'000, .max_entries = 10});
    for (int i = 0; i < 3; ++i)
        book.on_message(msg(f0::util::numbered("p", i), {link("fz-a", 5)}, kNow), kNow + i);
    book.on_message(msg("p3", {link("fz-a", 5)}, kNow), kNow + 10);
    EXPECT_EQ(book.size(), 3u);
    EXPECT_FALSE(book.holds("p0", kNow)) << "the one heard from longest ago made room";
    EXPECT_TRUE(book.holds("p3", kNow));
    EXPECT_EQ(book.counters().evicted, 1u);
    // Links over all summaries: 3 held with 1 each; one of 9 makes room for itself.
    std::vector<LinkSummary> nine;
    for (int i = 0; i < 9; ++i)
        nine.push_back(link(f0::util::numbered("q", i), 1));
    EXPECT_EQ(book.on_message(msg("p1", nine, kNow + 1), kNow + 20), LinkStateBook::Take::Stored);
    EXPECT_TRUE(book.holds("p1", kNow + 1));
    EXPECT_FALSE(book.holds("p2", kNow)) << "evicted for the links";
    EXPECT_TRUE(book.holds("p3", kNow));
    std::vector<LinkSummary> eleven = nine;
    eleven.push_back(link("q9", 1));
    eleven.push_back(link("q10", 1));
    EXPECT_EQ(book.on_message(msg("p9", eleven, kNow), kNow + 30), LinkStateBook::Take::Invalid)
        << "larger than the whole bound";
    // Expiry: p3 was heard at kNow + 10, p1 at kNow + 20.
    book.expire(kNow + 60'015);
    EXPECT_FALSE(book.holds("p3", kNow));
    EXPECT_TRUE(book.holds("p1", kNow + 1));
    EXPECT_EQ(book.counters().expired, 1u);
    auto g = book.graph_json(kNow + 60'025, nullptr);
    EXPECT_EQ(g["senders"], 0) << "p1 is past expire_ms too when the graph is read";
}

TEST(LinkState, TheGraphHasOneLinkPerPairWithBothEndsAndTheWorseHealth) {
    LinkStateBook book("fz-a", {});
    book.on_message(msg("fz-a", {link("fz-b", 20), link("fz-c", 30)}, kNow), kNow);
    book.on_message(msg("fz-b", {link("fz-a", 21, "bad")}, kNow), kNow);
    auto g = book.graph_json(kNow + 500, [](const std::string& id) {
        return id == "fz-c" ? nlohmann::json{{"region", "AF"}, {"lat", 30.0}, {"lon", 31.2}}
                            : nlohmann::json::object();
    });
    ASSERT_EQ(g["nodes"].size(), 3u);
    EXPECT_EQ(g["nodes"][0]["id"], "fz-a");
    EXPECT_TRUE(g["nodes"][0]["self"].get<bool>());
    EXPECT_TRUE(g["nodes"][0]["reported"].get<bool>());
    EXPECT_EQ(g["nodes"][0]["reports"][0]["ageMs"], 500);
    EXPECT_EQ(g["nodes"][2]["id"], "fz-c");
    EXPECT_FALSE(g["nodes"][2]["reported"].get<bool>()) << "named by a link, not heard from";
    EXPECT_EQ(g["nodes"][2]["region"], "AF");
    ASSERT_EQ(g["links"].size(), 2u);
    const auto* ab = find_link(g, "fz-a", "fz-b");
    ASSERT_TRUE(ab);
    EXPECT_EQ((*ab)["ends"].size(), 2u) << "seen from both ends";
    EXPECT_EQ((*ab)["health"], "bad") << "the worse of the two ends";
    const auto* ac = find_link(g, "fz-a", "fz-c");
    ASSERT_TRUE(ac);
    EXPECT_EQ((*ac)["ends"].size(), 1u);
    EXPECT_EQ((*ac)["ends"][0]["from"], "fz-a");
    EXPECT_DOUBLE_EQ((*ac)["ends"][0]["rttMs"].get<double>(), 30);
}

TEST(LinkState, AnEndWithoutASampleYetDoesNotHideTheOthersHealth) {
    LinkStateBook book("fz-a", {});
    book.on_message(msg("fz-a", {link("fz-b", 20), link("fz-c", 20, "unknown")}, kNow), kNow);
    book.on_message(msg("fz-b", {link("fz-a", 21, "unknown")}, kNow), kNow);
    book.on_message(msg("fz-c", {link("fz-a", 21, "unknown")}, kNow), kNow);
    auto g = book.graph_json(kNow, nullptr);
    const auto *ab = find_link(g, "fz-a", "fz-b"), *ac = find_link(g, "fz-a", "fz-c");
    ASSERT_TRUE(ab && ac);
    EXPECT_EQ((*ab)["health"], "good") << "one end knows: its word";
    EXPECT_EQ((*ac)["health"], "unknown") << "neither end knows";
}

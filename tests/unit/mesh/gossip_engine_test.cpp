// The gossip engine: signatures, ids, dedup, hop limit, replay, rate limits and repair by digest,
// on small in-memory networks whose frames are queued and delivered by the test.
#include "mesh/gossip/gossip_engine.hpp"
#include "util/numbered.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <set>

using namespace f0::mesh::gossip;
using f0::mesh::identity::Identity;

namespace {

struct Net {
    struct Peer {
        std::unique_ptr<Identity> key = std::make_unique<Identity>(Identity::generate().value());
        TrustBook trust;
        std::unique_ptr<GossipEngine> engine;
        std::vector<GossipMessage> delivered;
        std::vector<std::string> links;
    };
    struct Pending {
        std::string from, to, frame;
    };
    std::map<std::string, Peer> peers;
    std::deque<Pending> queue;
    std::int64_t now = 1'760'000'000'000;
    std::function<bool(const Pending&)> drop; // the network loses what this says

    Net(const std::vector<std::string>& ids, GossipParams params = {}) {
        std::uint64_t seed = 1;
        for (const auto& id : ids)
            peers[id];
        for (auto& [id, p] : peers) {
            for (const auto& other : ids)
                if (other != id)
                    p.links.push_back(other);
            GossipEngine::Hooks h;
            h.candidates = [this, id = id] {
                std::vector<GossipEngine::Candidate> c;
                for (const auto& l : peers.at(id).links)
                    c.push_back({l, true});
                return c;
            };
            h.send = [this, id = id](const std::string& to, const std::string& frame, Route) {
                queue.push_back({id, to, frame});
                return Via::Link;
            };
            h.key_of = [this](const std::string& origin) -> std::optional<PublicKeyT> {
                auto it = peers.find(origin);
                if (it == peers.end())
                    return std::nullopt;
                return it->second.key->public_key();
            };
            h.deliver = [pp = &p](const GossipMessage& m, const std::string&) {
                pp->delivered.push_back(m);
            };
            p.engine = std::make_unique<GossipEngine>(id, *p.key, params, p.trust, h, seed++);
        }
    }
    using PublicKeyT = f0::mesh::identity::PublicKey;
    GossipEngine& engine(const std::string& id) { return *peers.at(id).engine; }
    std::size_t delivered() const { // deliveries over all peers
        std::size_t n = 0;
        for (const auto& [id, p] : peers)
            n += p.delivered.size();
        return n;
    }
    void run(std::size_t limit = 100000) {
        for (std::size_t i = 0; i < limit && !queue.empty(); ++i) {
            auto p = queue.front();
            queue.pop_front();
            if (drop && drop(p))
                continue;
            peers.at(p.to).engine->on_frame(p.from, p.frame, now);
        }
        ASSERT_TRUE(queue.empty()) << "frames still queued after " << limit;
    }
};

// A valid message from `origin`, signed by its key, with hops 1 (as the origin sends it).
GossipMessage signed_by(Net& net, const std::string& origin, nlohmann::json payload,
                        std::uint64_t seq = 1) {
    auto m = GossipMessage::make(*net.peers.at(origin).key, origin, "t", std::move(payload),
                                 net.now, seq);
    m.hops = 1;
    return m;
}

} // namespace

TEST(GossipMessage, SignedContentNamesTheIdAndAnyChangeIsCaught) {
    auto key = Identity::generate().value();
    auto m = GossipMessage::make(key, "fz-cairo", "ops/alerts", {{"x", 1}}, 1760000000000, 7);
    EXPECT_EQ(m.id, m.compute_id());
    EXPECT_TRUE(m.verify(key.public_key()));
    auto other = Identity::generate().value();
    EXPECT_FALSE(m.verify(other.public_key()));
    auto tampered = m;
    tampered.payload = {{"x", 2}};
    EXPECT_NE(tampered.compute_id(), m.id);
    EXPECT_FALSE(tampered.verify(key.public_key()));
    auto hopped = m;
    hopped.hops = 5; // hops is not signed: forwarders change it
    EXPECT_TRUE(hopped.verify(key.public_key()));
    auto parsed = parse_frame(m.to_json().dump(), {});
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed.value().msg.id, m.id);
    EXPECT_TRUE(parsed.value().msg.verify(key.public_key()));
}

TEST(GossipMessage, BadFramesAreErrorsThatSayWhy) {
    auto key = Identity::generate().value();
    auto good = GossipMessage::make(key, "a", "t", "hello", 1, 1).to_json();
    auto with = [&](const char* field, nlohmann::json v) {
        auto j = good;
        if (v.is_discarded())
            j.erase(field);
        else
            j[field] = v;
        return j.dump();
    };
    MessageLimits limits;
    limits.max_payload_bytes = 100;
    std::vector<std::pair<std::string, std::string>> cases{
        {"", "JSON object"},
        {"[1]", "JSON object"},
        {good.dump().substr(0, 40), "JSON object"}, // truncated
        {R"({"t":"nope"})", "'t'"},
        {with("id", "xyz"), "'id'"},
        {with("origin", "bad id!"), "'origin'"},
        {with("topic", ""), "'topic'"},
        {with("ts", "soon"), "'ts'"},
        {with("seq", -1), "'seq'"},
        {with("hops", 17), "'hops'"},
        {with("sig", nlohmann::json(nlohmann::json::value_t::discarded)), "'sig'"},
        {with("payload", std::string(200, 'x')), "larger than 100"},
        {R"({"t":"ihave","ids":"x"})", "'ids'"},
        {R"({"t":"iwant","ids":["zz"]})", "'ids'"},
    };
    for (const auto& [text, why] : cases) {
        auto f = parse_frame(text, limits);
        ASSERT_FALSE(f) << text;
        EXPECT_NE(f.error().message.find(why), std::string::npos)
            << text << " -> " << f.error().message;
    }
    limits.max_ids = 2;
    EXPECT_FALSE(
        parse_frame(ids_frame(Frame::Type::IHave, {good["id"], good["id"], good["id"]}), limits));
}

TEST(GossipEngine, PublishReachesEveryPeerOnceAndDuplicatesAreDropped) {
    Net net({"a", "b", "c", "d", "e"});
    auto m = net.engine("a").publish("news", {{"n", 1}}, net.now);
    ASSERT_TRUE(m) << m.error().message;
    net.run();
    for (auto& [id, p] : net.peers) {
        ASSERT_EQ(p.delivered.size(), 1u) << id;
        EXPECT_EQ(p.delivered[0].id, m.value().id);
        EXPECT_EQ(p.delivered[0].payload["n"], 1);
    }
    // Feed b the same message again: a duplicate, not a second delivery.
    EXPECT_EQ(net.engine("b").on_frame("c", net.engine("c").find(m.value().id)->to_json().dump(),
                                       net.now),
              GossipEngine::Verdict::Duplicate);
    EXPECT_EQ(net.peers.at("b").delivered.size(), 1u);
    EXPECT_EQ(net.engine("a").publish("bad topic!", 1, net.now).ok(), false);
    EXPECT_EQ(net.engine("a").publish("t", std::string(20000, 'x'), net.now).ok(), false);
    EXPECT_EQ(net.engine("a").publish("t", std::string("\xff\xfe"), net.now).ok(), false);
}

TEST(GossipEngine, ForgedTamperedAndUnknownMessagesAreDroppedAndCostTheSenderTrust) {
    Net net({"a", "b", "c"});
    auto& b = net.engine("b");
    // Claims to come from c but signed by a.
    auto forged = GossipMessage::make(*net.peers.at("a").key, "c", "t", "x", net.now, 1);
    forged.hops = 1;
    double before = net.peers.at("b").trust.trust("a", net.now);
    EXPECT_EQ(b.on_frame("a", forged.to_json().dump(), net.now), GossipEngine::Verdict::Forged);
    EXPECT_LT(net.peers.at("b").trust.trust("a", net.now), before);
    EXPECT_EQ(b.counters().forged, 1u);
    // Payload changed after signing: the id no longer matches.
    auto tampered = signed_by(net, "c", "x");
    tampered.payload = "y";
    EXPECT_EQ(b.on_frame("a", tampered.to_json().dump(), net.now), GossipEngine::Verdict::Invalid);
    // Same content, id recomputed, old signature: forged.
    tampered.id = tampered.compute_id();
    EXPECT_EQ(b.on_frame("a", tampered.to_json().dump(), net.now), GossipEngine::Verdict::Forged);
    // An origin nobody knows: cannot be checked, dropped, not the forwarder's fault.
    auto stranger = Identity::generate().value();
    auto unknown = GossipMessage::make(stranger, "zz", "t", "x", net.now, 1);
    double t = net.peers.at("b").trust.trust("c", net.now);
    EXPECT_EQ(b.on_frame("c", unknown.to_json().dump(), net.now),
              GossipEngine::Verdict::UnknownOrigin);
    EXPECT_DOUBLE_EQ(net.peers.at("b").trust.trust("c", net.now), t);
    EXPECT_EQ(b.on_frame("c", "{\"t\":\"msg\"", net.now), GossipEngine::Verdict::Invalid);
    EXPECT_LT(net.peers.at("b").trust.trust("c", net.now), t);
    EXPECT_TRUE(net.peers.at("b").delivered.empty());
    net.run();
}

TEST(GossipEngine, ReplayedAndFutureMessagesAreRefused) {
    GossipParams params;
    Net net({"a", "b"}, params);
    auto old = GossipMessage::make(*net.peers.at("a").key, "a", "t", "x",
                                   net.now - params.max_age_ms - 1, 1);
    EXPECT_EQ(net.engine("b").on_frame("a", old.to_json().dump(), net.now),
              GossipEngine::Verdict::Replayed);
    auto future = GossipMessage::make(*net.peers.at("a").key, "a", "t", "x",
                                      net.now + params.max_skew_ms + 1000, 2);
    EXPECT_EQ(net.engine("b").on_frame("a", future.to_json().dump(), net.now),
              GossipEngine::Verdict::Invalid);
    auto fresh = signed_by(net, "a", "x", 3);
    EXPECT_EQ(net.engine("b").on_frame("a", fresh.to_json().dump(), net.now),
              GossipEngine::Verdict::Delivered);
    // Replayed later, while its id is remembered: a duplicate.
    EXPECT_EQ(net.engine("b").on_frame("a", fresh.to_json().dump(), net.now + 300'000),
              GossipEngine::Verdict::Duplicate);
    EXPECT_TRUE(net.peers.at("b").delivered.size() == 1);
}

TEST(GossipEngine, HopLimitStopsForwardingAndMoreHopsAreInvalid) {
    GossipParams params;
    params.max_hops = 4;
    Net net({"a", "b", "c", "d"}, params);
    auto at_limit = signed_by(net, "a", "x");
    at_limit.hops = 4;
    EXPECT_EQ(net.engine("b").on_frame("a", at_limit.to_json().dump(), net.now),
              GossipEngine::Verdict::Delivered);
    EXPECT_EQ(net.engine("b").counters().hop_limited, 1u);
    EXPECT_TRUE(net.queue.empty()) << "a message at the hop limit must not be forwarded";
    auto below = signed_by(net, "a", "y", 2);
    below.hops = 3;
    EXPECT_EQ(net.engine("b").on_frame("a", below.to_json().dump(), net.now),
              GossipEngine::Verdict::Delivered);
    ASSERT_FALSE(net.queue.empty());
    EXPECT_EQ(nlohmann::json::parse(net.queue.front().frame)["hops"], 4);
    auto over = signed_by(net, "a", "z", 3);
    over.hops = 5;
    EXPECT_EQ(net.engine("b").on_frame("a", over.to_json().dump(), net.now),
              GossipEngine::Verdict::Invalid);
}

TEST(GossipEngine, RateLimiterDropsExcessCountsItAndLowersTrust) {
    GossipParams params;
    params.rate_min = 10;
    params.rate_max = 100;
    params.burst_s = 1;
    Net net({"a", "b", "c"}, params);
    auto& b = net.engine("b");
    std::string junk = ids_frame(Frame::Type::IHave, {});
    // Trust 0.5: 55 frames/s, bucket of 55. 200 frames at one instant: 55 pass.
    int passed = 0;
    for (int i = 0; i < 200; ++i)
        passed += b.on_frame("a", junk, net.now) == GossipEngine::Verdict::Control;
    EXPECT_EQ(passed, 55);
    // The excess is dropped and counted; each drop costs trust until the peer is graylisted and
    // its frames are dropped unread.
    const auto& c = b.counters();
    EXPECT_GE(c.rate_limited, 30u);
    EXPECT_EQ(c.rate_limited + c.graylisted, 145u);
    EXPECT_EQ(net.peers.at("b").trust.to_json("a", net.now)["offences"]["rate_limited"],
              c.rate_limited);
    double t = net.peers.at("b").trust.trust("a", net.now);
    EXPECT_LT(t, 0.1);
    EXPECT_EQ(b.on_frame("a", junk, net.now), GossipEngine::Verdict::Graylisted);
    // Behaviour recovers 0.01 a minute: 25 minutes later it is out of the graylist and its bucket
    // holds what its trust allows (rate 10 + 90 * trust, one second of burst).
    std::int64_t later = net.now + 25 * 60'000;
    double t_later = net.peers.at("b").trust.trust("a", later);
    EXPECT_NEAR(t_later, t + 0.5 * 0.25, 1e-9);
    passed = 0;
    for (int i = 0; i < 100; ++i)
        passed += b.on_frame("a", junk, later) == GossipEngine::Verdict::Control;
    EXPECT_EQ(passed, static_cast<int>(10 + 90 * t_later));
    // c, untouched, still gets its full bucket.
    passed = 0;
    for (int i = 0; i < 100; ++i)
        passed += b.on_frame("c", junk, net.now + 1000) == GossipEngine::Verdict::Control;
    EXPECT_EQ(passed, 55);
}

TEST(GossipEngine, RepeatedCopiesFromOnePeerAreADuplicateFlood) {
    Net net({"a", "b"});
    auto m = signed_by(net, "a", "x");
    auto frame = m.to_json().dump();
    auto& b = net.engine("b");
    EXPECT_EQ(b.on_frame("a", frame, net.now), GossipEngine::Verdict::Delivered);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(b.on_frame("a", frame, net.now), GossipEngine::Verdict::Duplicate);
    EXPECT_EQ(b.counters().duplicate_floods, 10u - b.params().dup_flood_threshold);
    EXPECT_LT(net.peers.at("b").trust.behaviour("a", net.now), 1.0);
}

TEST(GossipEngine, HeartbeatDigestsReachWhomThePushDidNot) {
    GossipParams params;
    params.fanout = 1;
    params.flood_publish = false;
    params.max_hops = 2; // the push stops after two hops: three of six peers have it
    Net net({"a", "b", "c", "d", "e", "f"}, params);
    auto m = net.engine("a").publish("t", "far", net.now);
    ASSERT_TRUE(m);
    net.run();
    auto reached = [&] { return net.delivered(); };
    ASSERT_EQ(reached(), 3u);
    for (int round = 0; round < 20 && reached() < 6; ++round) {
        net.now += 100; // well inside the heartbeat window
        for (auto& [id, p] : net.peers)
            p.engine->heartbeat(net.now);
        net.run();
    }
    EXPECT_EQ(reached(), 6u);
    std::uint64_t iwants = 0, served = 0;
    for (auto& [id, p] : net.peers) {
        iwants += p.engine->counters().iwant_sent;
        served += p.engine->counters().served;
    }
    EXPECT_GE(iwants, 1u);
    EXPECT_GE(served, 3u);
}

TEST(GossipEngine, HeartbeatsOfferEveryNeighbourEachMessageWithinLinksOverFanoutBeats) {
    // a and nine peers; the push reaches three (hops stop there), then only a's heartbeat
    // digests can tell the other six. Three a beat, the longest undigested first, those with
    // nothing to be told skipped: after two heartbeats every peer has been offered it (a random
    // sample of three a beat left some unoffered for long: a peer of few links missed link-state
    // summaries at 1,000 peers).
    GossipParams params;
    params.fanout = 3;
    params.flood_publish = false;
    params.max_hops = 1;
    std::vector<std::string> ids{"a"};
    for (int i = 0; i < 9; ++i)
        ids.push_back(f0::util::numbered("p", i));
    Net net(ids, params);
    net.drop = [](const Net::Pending& p) { return p.from != "a" && p.to != "a"; };
    ASSERT_TRUE(net.engine("a").publish("t", "x", net.now));
    net.run();
    auto reached = [&] { return net.delivered(); };
    ASSERT_EQ(reached(), 4u) << "a and the three it pushed to";
    for (int beat = 0; beat < 2; ++beat) {
        net.now += 1'000;
        net.engine("a").heartbeat(net.now);
        net.run();
    }
    EXPECT_EQ(reached(), 10u) << "six to tell, three a beat: two beats";
    EXPECT_EQ(net.engine("a").counters().ihave_sent, 6u)
        << "one digest to each peer that lacked it, none to those it pushed to";
    net.now += 1'000;
    net.engine("a").heartbeat(net.now);
    EXPECT_EQ(net.engine("a").counters().ihave_sent, 6u) << "no one is left to tell";
}

TEST(GossipEngine, ALinkThatOpensGetsTheWholeWindow) {
    Net net({"a", "b", "c"});
    std::set<std::string> offline{"c"};
    // c is away: not a candidate, and frames to it fail.
    for (auto& [id, p] : net.peers)
        p.links.erase(std::remove_if(p.links.begin(), p.links.end(),
                                     [&](const std::string& l) { return offline.count(l) > 0; }),
                      p.links.end());
    net.drop = [&](const Net::Pending& p) { return offline.count(p.to) > 0; };
    auto m1 = net.engine("a").publish("t", 1, net.now);
    auto m2 = net.engine("b").publish("t", 2, net.now);
    net.run();
    EXPECT_TRUE(net.peers.at("c").delivered.empty());
    offline.clear();
    net.peers.at("a").links.push_back("c");
    net.now += 30'000; // long past the heartbeat window, inside the link-open window
    net.engine("a").on_link_open("c", net.now);
    net.run();
    ASSERT_EQ(net.peers.at("c").delivered.size(), 2u);
}

TEST(GossipEngine, TheOriginFloodsItsLinkedPeersOthersUseTheFanout) {
    GossipParams params;
    params.fanout = 1;
    Net net({"a", "b", "c", "d", "e"}, params);
    ASSERT_TRUE(net.engine("a").publish("t", "x", net.now));
    std::set<std::string> first_hop;
    for (const auto& p : net.queue)
        first_hop.insert(p.to);
    EXPECT_EQ(first_hop, (std::set<std::string>{"b", "c", "d", "e"}));
    net.run();
    // Each receiver forwarded to one peer (fan-out 1) at most.
    for (const auto& id : {"b", "c", "d", "e"})
        EXPECT_LE(net.engine(id).counters().sent_link, 1u) << id;
    params.flood_publish = false;
    Net quiet({"a", "b", "c", "d", "e"}, params);
    ASSERT_TRUE(quiet.engine("a").publish("t", "x", quiet.now));
    EXPECT_EQ(quiet.queue.size(), 1u);
}

TEST(GossipEngine, PeriodicPushLogsTheOriginalLines) {
    Net net({"a", "b", "c", "d"});
    std::vector<std::string> lines;
    GossipEngine::Hooks h;
    auto& p = net.peers.at("a");
    TrustBook trust;
    h.candidates = [] {
        return std::vector<GossipEngine::Candidate>{{"b", true}, {"c", true}, {"d", true}};
    };
    h.send = [](const std::string&, const std::string&, Route) { return Via::Link; };
    h.log = [&](const std::string& l) { lines.push_back(l); };
    GossipEngine e("a", *p.key, {}, trust, h, 1);
    auto r = e.push(net.now);
    EXPECT_EQ(r.selected, 3u);
    EXPECT_EQ(r.succeeded, 3u);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "[gossipPush] Weighted peers: b:0.333, c:0.333, d:0.333");
    EXPECT_EQ(lines[1], "[gossipPush] Selected 3/3 peers");
    EXPECT_EQ(lines[2], "[gossipPush] Complete: 3/3 succeeded");
}

TEST(GossipEngine, LinkStateTopicsNeverTakeTheHttpsFallback) {
    // "a" has one link (b) and three registered peers it could reach over HTTPS only.
    Net net({"a", "b"});
    auto& p = net.peers.at("a");
    std::vector<std::pair<std::string, std::string>> sent; // (peer, how)
    GossipEngine::Hooks h;
    const std::set<std::string> linked{"b"};
    h.candidates = [] {
        return std::vector<GossipEngine::Candidate>{
            {"b", true}, {"x", false}, {"y", false}, {"z", false}};
    };
    h.linked = [&](const std::string& peer) { return linked.count(peer) > 0; };
    // How each message was allowed to travel: the hook (the bridge) must not take HTTPS for a
    // LinkOnly one even when the link it was chosen for fails to take it.
    std::vector<Route> routes;
    h.send = [&](const std::string& peer, const std::string& frame, Route route) {
        if (frame.find(R"("t":"msg")") != std::string::npos) { // messages (digests go anywhere)
            sent.emplace_back(peer, linked.count(peer) ? "link" : "https");
            routes.push_back(route);
        }
        return linked.count(peer) ? Via::Link : Via::Https;
    };
    h.key_of = [&](const std::string&) { return p.key->public_key(); };
    TrustBook trust;
    GossipEngine e("a", *p.key, {}, trust, h, 1);

    auto m = e.publish("mesh/links", {{"v", 1}}, net.now);
    ASSERT_TRUE(m);
    EXPECT_EQ(sent, (std::vector<std::pair<std::string, std::string>>{{"b", "link"}}));
    EXPECT_EQ(routes, std::vector<Route>{Route::LinkOnly});
    EXPECT_EQ(e.counters().sent_https, 0u);
    // Asked for it over HTTPS (iwant), or due in a periodic push: still not sent there.
    sent.clear();
    routes.clear();
    e.on_frame("x", R"({"t":"iwant","ids":[")" + m.value().id + R"("]})", net.now);
    e.push(net.now);
    for (const auto& [peer, how] : sent)
        EXPECT_EQ(how, "link") << peer;
    for (auto r : routes)
        EXPECT_EQ(r, Route::LinkOnly);
    EXPECT_EQ(e.counters().sent_https, 0u);

    // Any other topic fills the fan-out over HTTPS when the links cannot.
    sent.clear();
    routes.clear();
    ASSERT_TRUE(e.publish("ops.alerts", "x", net.now));
    std::size_t https = 0;
    for (const auto& [peer, how] : sent)
        https += how == "https";
    EXPECT_EQ(https, 2u); // fan-out 3: b over its link, two of x, y, z over HTTPS
    EXPECT_EQ(routes, std::vector<Route>(3, Route::Any));
}

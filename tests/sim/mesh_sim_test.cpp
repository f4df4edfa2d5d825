// Whole meshes in one process on virtual time (sim_net.hpp): glare, dial timeout, backoff and
// redial, partitions, restart from the store, anti-entropy after a partition heals, gossip
// delivery, and 200 nodes. Every test prints its seed on failure; F0_SIM_SEED=N replays it, and
// F0_SIM_SEEDS=K runs K seeds.
#include "sim_net.hpp"
#include "util/numbered.hpp"

#include "crdt/codec.hpp"
#include "mesh/identity/jcs.hpp"
#include "mesh/peers/peer_record.hpp"
#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <random>

#include <chrono>
#include <iostream>

namespace f0::simtest {
namespace {

#define REPLAY(seed) SCOPED_TRACE(::testing::Message() << "replay with F0_SIM_SEED=" << (seed))

const mesh::Link* link_of(SimMesh& m, const std::string& a, const std::string& b) {
    return m.has(a) ? m.node(a).links().find(b) : nullptr;
}

bool open_both(SimMesh& m, const std::string& a, const std::string& b) {
    auto* x = link_of(m, a, b);
    auto* y = link_of(m, b, a);
    return x && y && x->state == mesh::LinkState::Open && y->state == mesh::LinkState::Open;
}

std::shared_ptr<std::optional<mesh::Outcome>> dial(SimMesh& m, const std::string& a,
                                                   const std::string& b) {
    auto out = std::make_shared<std::optional<mesh::Outcome>>();
    m.node(a).signaling().dial(b, [out](mesh::Outcome o) { *out = std::move(o); });
    return out;
}

std::string error_code(const std::optional<mesh::Outcome>& o) {
    if (!o || mesh::ok(*o))
        return "";
    return std::string(mesh::code_of(std::get<mesh::Error>(*o).code));
}

bool delivered(SimMesh& m, const std::string& id, const std::string& topic) {
    auto o = m.node(id).gossip().messages(topic, 0, 10);
    return mesh::ok(o) && !std::get<nlohmann::json>(o)["items"].empty();
}

TEST(MeshSim, DialOpensOneLinkWithThreeChannels) {
    for (auto seed : sim_seeds(1)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("a");
        m.add("b");
        m.introduce("a", "b");
        auto out = dial(m, "a", "b");
        ASSERT_TRUE(m.run_until([&] { return out->has_value(); }, 5'000));
        ASSERT_TRUE(mesh::ok(**out)) << error_code(*out);
        EXPECT_EQ(std::get<nlohmann::json>(**out)["state"], "open");
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 1'000));
        for (const auto* l : {link_of(m, "a", "b"), link_of(m, "b", "a")})
            EXPECT_EQ(l->open_channels, (std::set<std::string>{"control", "gossip", "qos"}));
        // The hello each side sends on open arrives on the control channel.
        ASSERT_TRUE(m.run_until([&] { return !link_of(m, "b", "a")->inbox.empty(); }, 1'000));
        EXPECT_EQ(link_of(m, "b", "a")->inbox.front().first["message"]["type"], "hello");
        // A dial to an open link answers at once with it.
        auto again = dial(m, "a", "b");
        ASSERT_TRUE(again->has_value());
        EXPECT_TRUE(mesh::ok(**again));
    }
}

TEST(MeshSim, GlareGivesOneLinkDialledByTheLowerId) {
    for (auto seed : sim_seeds(11)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("fz-a");
        m.add("fz-b");
        m.introduce("fz-a", "fz-b");
        auto ab = dial(m, "fz-a", "fz-b");
        auto ba = dial(m, "fz-b", "fz-a"); // the same virtual instant
        ASSERT_TRUE(m.run_until([&] { return ab->has_value() && ba->has_value(); }, 15'000));
        EXPECT_TRUE(mesh::ok(**ab)) << error_code(*ab);
        EXPECT_TRUE(mesh::ok(**ba)) << error_code(*ba);
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "fz-a", "fz-b"); }, 1'000));
        EXPECT_EQ(link_of(m, "fz-a", "fz-b")->role, "dialer");
        EXPECT_EQ(link_of(m, "fz-b", "fz-a")->role, "accepter");
        EXPECT_EQ(m.node("fz-a").signaling().counters().rejected.count("glare"), 1u);
        // And it stays one link: nothing fails or redials afterwards.
        m.run_for_ms(30'000);
        EXPECT_TRUE(open_both(m, "fz-a", "fz-b"));
        EXPECT_EQ(m.node("fz-a").links().counters().failed, 0u);
        EXPECT_EQ(m.node("fz-b").links().counters().failed, 0u);
    }
}

TEST(MeshSim, DialTimeoutThenBackoffRedialsUntilTheLinkOpens) {
    for (auto seed : sim_seeds(21)) {
        REPLAY(seed);
        NetParams p;
        p.connect_rtts = 100'000;      // links never connect (signaling still works)...
        p.consent_timeout_ms = 60'000; // ...and ICE does not give up before the dial timeout
        SimMesh m(seed, p);
        auto tweak = [](mesh::WorkerConfig& c) {
            c.dial_timeout = std::chrono::milliseconds(2'000);
            c.redial_min = std::chrono::milliseconds(1'000);
            c.redial_max = std::chrono::milliseconds(4'000);
        };
        m.add("a", tweak);
        m.add("b");
        m.introduce("a", "b");
        std::vector<std::pair<std::string, std::int64_t>> states; // a's link to b, over time
        std::vector<std::int64_t> promised; // each failure's nextRedialMs - closedMs
        m.node("a").on_event([&](const nlohmann::json& ev) {
            if (ev["type"] != "link" || ev["data"]["peer"] != "b")
                return;
            states.emplace_back(ev["data"]["state"].get<std::string>(), m.now_ms());
            if (ev["data"]["state"] == "failed" && ev["data"]["nextRedialMs"].is_number())
                promised.push_back(ev["data"]["nextRedialMs"].get<std::int64_t>() -
                                   ev["data"]["closedMs"].get<std::int64_t>());
        });
        auto t0 = m.now_ms();
        auto out = dial(m, "a", "b");
        ASSERT_TRUE(m.run_until([&] { return out->has_value(); }, 10'000));
        EXPECT_EQ(error_code(*out), "dial_failed");
        EXPECT_EQ(m.now_ms() - t0, 2'000) << "fails exactly at the dial timeout";
        // Four more attempts, each after a backoff in [base/2, base], base 1, 2, 4, 4 s.
        ASSERT_TRUE(m.run_until(
            [&] {
                return m.node("a").links().counters().redials >= 4 &&
                       link_of(m, "a", "b")->state == mesh::LinkState::Failed;
            },
            60'000));
        std::vector<std::int64_t> gaps; // from each failure to the next dial
        for (std::size_t i = 1; i < states.size(); ++i)
            if (states[i - 1].first == "failed" && states[i].first == "dialing")
                gaps.push_back(states[i].second - states[i - 1].second);
        ASSERT_GE(gaps.size(), 4u);
        std::int64_t bases[] = {1'000, 2'000, 4'000, 4'000};
        for (std::size_t i = 0; i < 4; ++i) {
            EXPECT_GE(gaps[i], bases[i] / 2) << "redial " << i;
            EXPECT_LE(gaps[i], bases[i]) << "redial " << i;
            ASSERT_GT(promised.size(), i);
            EXPECT_EQ(promised[i], gaps[i]) << "/links said when redial " << i << " would come";
        }
        // The network recovers: the next redial opens the link, and the attempts reset.
        m.net.params().connect_rtts = 3;
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 10'000));
        EXPECT_EQ(link_of(m, "a", "b")->attempts, 0);
    }
}

TEST(MeshSim, PartitionFailsTheLinkAndItReopensWhenHealed) {
    for (auto seed : sim_seeds(31)) {
        REPLAY(seed);
        SimMesh m(seed);
        auto tweak = [](mesh::WorkerConfig& c) {
            c.redial_min = std::chrono::milliseconds(500);
            c.redial_max = std::chrono::milliseconds(8'000);
            c.ice_restart_after = std::chrono::milliseconds(0); // consent decides here, not the
                                                                // silence watchdog
        };
        m.add("a", tweak);
        m.add("b", tweak);
        m.introduce("a", "b");
        dial(m, "a", "b");
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 5'000));
        auto cut_at = m.now_ms();
        m.net.cut("a", "b");
        ASSERT_TRUE(m.run_until(
            [&] { return link_of(m, "a", "b")->state != mesh::LinkState::Open; }, 10'000));
        EXPECT_GE(m.now_ms() - cut_at, m.net.params().consent_timeout_ms);
        m.run_for_ms(20'000); // redials fail while the cut lasts
        EXPECT_FALSE(open_both(m, "a", "b"));
        EXPECT_GE(m.node("a").links().counters().redials, 2u);
        m.net.heal_all();
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 20'000));
    }
}

// Issue 18, adaptive probing: an idle, healthy link is probed every 2 s instead of every 200 ms
// once a sample has shown it so; it stays open and calm (no silence called on it); cut, its
// overdue echo makes it probe fast again and the path watchdog still calls the silence before ICE
// consent (5 s here) would.
TEST(MeshSim, IdleHealthyLinksAreProbedSeldomAndASilentOneIsStillCaughtQuickly) {
    for (auto seed : sim_seeds(73)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("a");
        m.add("b");
        m.introduce("a", "b");
        dial(m, "a", "b");
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 5'000));
        const auto& c = m.node("a").config();
        ASSERT_EQ(c.qos_idle_probe_every(), std::chrono::milliseconds(2'000));
        // The first sample counts the link's setup (hello, registry and gossip anti-entropy):
        // not idle. The second finds it idle and healthy; the third counts calm probing.
        m.run_for_ms(3 * 15'000 + 1'000);
        for (auto [x, y] : {std::pair{"a", "b"}, std::pair{"b", "a"}}) {
            const auto* l = link_of(m, x, y);
            ASSERT_TRUE(l->qos_calm) << x;
            ASSERT_TRUE(l->last_qos);
            EXPECT_EQ(l->last_qos->health, "good");
            EXPECT_LE(l->last_qos->probes, 9) << x << ": inbound probes in 15 s (75 at full rate)";
            EXPECT_GE(l->last_qos->probes, 6) << x;
            EXPECT_TRUE(l->last_qos->rtt_ms) << x;
        }
        m.run_for_ms(120'000);
        EXPECT_TRUE(open_both(m, "a", "b"));
        EXPECT_TRUE(link_of(m, "a", "b")->qos_calm);
        EXPECT_EQ(m.node("a").signaling().counters().ice_restarts_sent, 0u);
        EXPECT_EQ(m.node("a").qos().counters().overdue, 0u);
        auto cut_at = m.now_ms();
        m.net.cut("a", "b");
        ASSERT_TRUE(m.run_until(
            [&] { return link_of(m, "a", "b")->state != mesh::LinkState::Open; }, 10'000));
        const auto* l = link_of(m, "a", "b");
        EXPECT_NE(l->last_error.find("went silent"), std::string::npos)
            << "the path watchdog, not consent, ended it: " << l->last_error;
        // Next calm probe (<= 2 s), its echo overdue (300 ms, a 200 ms tick), a second for the
        // fast probes, the watchdog's 250 ms tick.
        EXPECT_LE(m.now_ms() - cut_at, 4'000);
        EXPECT_EQ(m.node("a").qos().counters().overdue, 1u);
    }
}

TEST(MeshSim, RestartFromTheStoreKeepsIdentityPeersAndLinks) {
    for (auto seed : sim_seeds(41)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("a", {}, /*persistent=*/true);
        m.add("b");
        m.introduce("a", "b");
        dial(m, "a", "b");
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 5'000));
        auto pub = m.node("a").identity().public_key_base64();
        m.crash("a");
        ASSERT_TRUE(m.run_until(
            [&] { return link_of(m, "b", "a")->state != mesh::LinkState::Open; }, 10'000));
        auto& a = m.restart("a");
        EXPECT_EQ(a.identity().public_key_base64(), pub);
        EXPECT_NE(a.peers().find("b"), nullptr) << "peers come back from the store";
        // The link it held is desired: it is dialled again and opens on both sides.
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 10'000));
        EXPECT_EQ(link_of(m, "a", "b")->role, "dialer");
    }
}

TEST(MeshSim, AntiEntropyRepairsListsAfterAPartitionHeals) {
    for (auto seed : sim_seeds(51)) {
        REPLAY(seed);
        SimMesh m(seed);
        auto tweak = [](mesh::WorkerConfig& c) {
            c.redial_min = std::chrono::milliseconds(500);
            c.redial_max = std::chrono::milliseconds(4'000);
            c.gossip_https_fallback = false;
        };
        for (auto id : {"a", "b", "c"})
            m.add(id, tweak);
        m.introduce("a", "b");
        m.introduce("a", "c");
        m.introduce("b", "c");
        dial(m, "a", "b");
        dial(m, "a", "c");
        dial(m, "b", "c");
        ASSERT_TRUE(m.run_until(
            [&] {
                return open_both(m, "a", "b") && open_both(m, "a", "c") && open_both(m, "b", "c");
            },
            5'000));
        m.net.isolate("c");
        ASSERT_TRUE(m.run_until(
            [&] { return link_of(m, "a", "c")->state != mesh::LinkState::Open; }, 10'000));
        auto insert = [&](const std::string& at, const std::string& v) {
            mesh::ListEdit e;
            e.values = {nlohmann::json(v).dump()};
            ASSERT_TRUE(mesh::ok(m.node(at).replication().edit_list("todo", e)));
        };
        insert("a", "from a");
        insert("c", "from c");
        m.run_for_ms(3'000);
        auto size = [&](const std::string& id) -> std::size_t {
            auto o = m.node(id).replication().list("todo");
            return mesh::ok(o) ? std::get<nlohmann::json>(o)["size"].get<std::size_t>() : 0;
        };
        EXPECT_EQ(size("b"), 1u) << "gossip reached b over its link";
        EXPECT_EQ(size("c"), 1u) << "c is cut off";
        m.net.heal_all();
        ASSERT_TRUE(m.run_until([&] { return size("a") == 2 && size("b") == 2 && size("c") == 2; },
                                30'000));
        auto items = [&](const std::string& id) {
            return std::get<nlohmann::json>(m.node(id).replication().list("todo"))["items"];
        };
        EXPECT_EQ(items("a"), items("b"));
        EXPECT_EQ(items("a"), items("c"));
    }
}

// 3,000 registrations at one worker; a worker that links to it afterwards learns them all by
// anti-entropy in budgeted rounds (64 KiB each, so ~15 rounds), and the registry, stored per
// element, comes back whole after a restart.
TEST(MeshSim, AJoinerLearnsALargeRegistryInRoundsAndItSurvivesARestart) {
    for (auto seed : sim_seeds(71)) {
        REPLAY(seed);
        SimMesh m(seed);
        auto tweak = [](mesh::WorkerConfig& c) {
            c.crdt_sync_budget = 64 * 1024;
            c.crdt_sync_interval = std::chrono::milliseconds(600'000); // rounds only when asked
        };
        m.add("a", tweak, /*persistent=*/true);
        constexpr int kPeers = 3'000;
        auto key = m.node("a").identity().public_key_base64();
        // b admits what a countersigns (a is not its beacon here).
        auto tweak_b = [&](mesh::WorkerConfig& c) {
            tweak(c);
            c.registrars.push_back("a=" + key);
        };
        auto register_range = [&](int from, int to) {
            for (int i = from; i < to; ++i) {
                store::PeerRecord p;
                p.id = "reg-" + std::to_string(i);
                p.pub_key = key;
                p.region = "EU";
                p.endpoint = "http://reg-" + std::to_string(i) + ".sim";
                // Signed records are replicated (the peers here share a's key).
                auto r =
                    mesh::sign_record(p, m.node("a").clock().unix_ms(), m.node("a").identity());
                ASSERT_TRUE(mesh::ok(m.node("a").signaling().register_peer(r)));
            }
        };
        register_range(0, kPeers);
        m.run_for_ms(1'000); // saved
        auto learned = [&](const std::string& id) {
            std::size_t n = 0;
            for (const auto& [pid, rec] : m.node(id).peers().all())
                n += pid.starts_with("reg-");
            return n;
        };
        m.add("b", tweak_b);
        m.introduce("a", "b");
        dial(m, "b", "a");
        ASSERT_TRUE(m.run_until([&] { return learned("b") == kPeers; }, 60'000))
            << "b learned " << learned("b");
        // b holds all a holds, and its own record, countersigned by itself: a does not trust b as
        // a registrar, so it does not admit that one.
        EXPECT_EQ(m.node("b").replication().registry_size(),
                  m.node("a").replication().registry_size() + 1);
        EXPECT_GE(m.node("a").replication().registry_refused(), 1u);
        // A burst of 500 more reaches b by gossip alone (no anti-entropy round is due), in
        // pieces that fit a gossip payload.
        register_range(kPeers, kPeers + 500);
        ASSERT_TRUE(m.run_until([&] { return learned("b") == kPeers + 500; }, 10'000))
            << "b learned " << learned("b");
        m.run_for_ms(1'000); // saved
        m.crash("a");
        auto& a = m.restart("a");
        EXPECT_GE(a.replication().registry_size(), static_cast<std::size_t>(kPeers + 500));
        EXPECT_EQ(learned("a"), static_cast<std::size_t>(kPeers + 500));
    }
}

// The registry's property on virtual time, with real workers (Replication, signatures, gossip,
// anti-entropy): three registrars that trust each other take registrations of five ids, each by
// one of three keys, at random registrars and times, while the network is cut and healed at random
// and an attacker node (linked, registered) gossips forged registry records (its own key for the
// ids, countersigned by itself), tombstones of genuine records and far-future stamps. Once the
// network heals, every registrar and a worker that joins afterwards bind every id to the key of
// its earliest accepted registration, hold the same records for it, and use that key.
TEST(MeshSim, TheRegistryConvergesOnEachIdsFirstKeyWhateverTheCutsAndForgeries) {
    std::vector<std::uint64_t> seeds = sim_seeds(101);
    if (!std::getenv("F0_SIM_SEED") && !std::getenv("F0_SIM_SEEDS"))
        seeds = {101, 102, 103, 104, 105, 106, 107, 108};
    for (auto seed : seeds) {
        REPLAY(seed);
        SimMesh m(seed);
        std::mt19937_64 rng(seed);
        auto pick = [&rng](int lo, int hi) {
            return std::uniform_int_distribution<int>(lo, hi)(rng);
        };
        auto tweak = [](mesh::WorkerConfig& c) {
            c.redial_min = std::chrono::milliseconds(200);
            c.redial_max = std::chrono::milliseconds(1'000);
            c.gossip_https_fallback = false;
            c.crdt_sync_interval = std::chrono::milliseconds(500);
            c.open_registration = true;
        };
        const std::vector<std::string> regs{"r0", "r1", "r2"};
        for (const auto& id : regs)
            m.add(id, tweak);
        m.add("mallory", tweak);
        auto trust_all = [&](const std::string& who) {
            for (const auto& r : regs) {
                if (r == who)
                    continue;
                ASSERT_TRUE(m.node(who).replication().trust_registrar(
                    r, m.node(r).identity().public_key_base64()));
            }
        };
        for (const auto& r : regs)
            trust_all(r);
        for (std::size_t i = 0; i < regs.size(); ++i) {
            m.introduce(regs[i], "mallory");
            for (std::size_t j = i + 1; j < regs.size(); ++j) {
                m.introduce(regs[i], regs[j]);
                dial(m, regs[i], regs[j]);
            }
        }
        dial(m, "mallory", "r0");
        ASSERT_TRUE(m.run_until(
            [&] {
                return open_both(m, "r0", "r1") && open_both(m, "r0", "r2") &&
                       open_both(m, "r1", "r2") && open_both(m, "mallory", "r0");
            },
            10'000));

        // Keys from the seed: three per id, anyone's.
        std::vector<mesh::identity::Identity> keys;
        for (int k = 0; k < 15; ++k) {
            std::array<std::uint8_t, 32> s{};
            for (auto& b : s)
                b = static_cast<std::uint8_t>(rng());
            keys.push_back(mesh::identity::Identity::from_seed(s).value());
        }
        // Accepted registrations: id -> (at, key) of the earliest.
        std::map<std::string, std::pair<std::int64_t, std::string>> first;
        std::uint64_t forged_seq = 0;
        for (int step = 0; step < 60; ++step) {
            switch (pick(0, 9)) {
            case 0:
            case 1:
            case 2:
            case 3: { // a registration
                const std::string id = "v" + std::to_string(pick(0, 4));
                const auto& key = keys[static_cast<std::size_t>(pick(0, 2) * 5 + id.back() - '0')];
                const auto& at = regs[static_cast<std::size_t>(pick(0, 2))];
                store::PeerRecord p{id,
                                    key.public_key_base64(),
                                    "EU",
                                    "http://" + id + ".sim",
                                    std::nullopt,
                                    std::nullopt,
                                    0,
                                    0};
                auto now = m.node(at).clock().unix_ms();
                if (mesh::ok(
                        m.node(at).signaling().register_peer(mesh::sign_record(p, now, key)))) {
                    auto f = first.find(id);
                    auto cand = std::make_pair(now, p.pub_key);
                    if (f == first.end() || cand < f->second)
                        first[id] = cand;
                }
                break;
            }
            case 4: // a cut
                m.net.cut(regs[static_cast<std::size_t>(pick(0, 2))],
                          regs[static_cast<std::size_t>(pick(0, 2))]);
                break;
            case 5:
                m.net.isolate(regs[static_cast<std::size_t>(pick(0, 2))]);
                break;
            case 6:
                m.net.heal_all();
                for (const auto& r : regs)
                    m.net.rejoin(r);
                break;
            case 7: { // the attacker's gossip
                auto& a = m.node("mallory");
                const std::string id = "v" + std::to_string(pick(0, 4));
                store::PeerRecord p{id,
                                    a.identity().public_key_base64(),
                                    "EU",
                                    "http://evil.sim",
                                    std::nullopt,
                                    std::nullopt,
                                    0,
                                    0};
                auto now = a.clock().unix_ms();
                auto forged = mesh::sign_record(p, now - 3'600'000, a.identity());
                mesh::countersign(forged, "mallory", a.identity(), now - 3'600'000);
                crdt::LwwElementSet<std::string> d;
                auto stamp = [&](std::int64_t ms) {
                    return crdt::Stamp{crdt::HlcTimestamp::make(static_cast<std::uint64_t>(ms), 0),
                                       static_cast<crdt::ReplicaId>(77)};
                };
                d.put(mesh::signed_record_canonical(forged), {stamp(now), std::nullopt});
                auto genuine = m.node("r0").replication().registry_of(id);
                if (mesh::ok(genuine))
                    d.put(mesh::identity::canonical_json(
                              std::get<nlohmann::json>(genuine)["current"]),
                          {std::nullopt, stamp(now + 1'000)});
                if (pick(0, 2) == 0)
                    d.put(mesh::signed_record_canonical(forged) + " ",
                          {stamp(now + 3'600'000), std::nullopt});
                auto bytes = crdt::codec::encode(d);
                ++forged_seq;
                ASSERT_TRUE(
                    a.gossip()
                        .publish("crdt/registry",
                                 {{"delta", base64_encode({reinterpret_cast<const std::uint8_t*>(
                                                               bytes.data()),
                                                           bytes.size()})}})
                        .ok());
                break;
            }
            default:
                break;
            }
            m.run_for_ms(pick(10, 1'500));
        }
        m.net.heal_all();
        for (const auto& r : regs)
            m.net.rejoin(r);
        // A worker that joins now, trusting the three registrars, linked to one of them.
        m.add("joiner", tweak);
        trust_all("joiner");
        const std::string via = regs[static_cast<std::size_t>(pick(0, 2))];
        m.introduce("joiner", via);
        dial(m, "joiner", via);
        ASSERT_FALSE(first.empty());
        std::vector<std::string> all = regs;
        all.push_back("joiner");
        auto agreed = [&] {
            for (const auto& w : all)
                for (const auto& [id, f] : first) {
                    auto o = m.node(w).replication().registry_of(id);
                    const auto* p = m.node(w).peers().find(id);
                    if (!mesh::ok(o) || std::get<nlohmann::json>(o)["pubKey"] != f.second || !p ||
                        p->pub_key != f.second ||
                        std::get<nlohmann::json>(o) !=
                            std::get<nlohmann::json>(m.node("r0").replication().registry_of(id)))
                        return false;
                }
            return true;
        };
        ASSERT_TRUE(m.run_until(agreed, 60'000)) << forged_seq << " forged deltas";
        if (forged_seq > 0) { // the forgeries reached the registrars and were refused there
            std::uint64_t refused = 0;
            for (const auto& r : regs)
                refused += m.node(r).replication().registry_refused();
            EXPECT_GT(refused, 0u);
        }
    }
}

// Link caps: offers beyond --max-pending-links are refused as busy (the dialer backs off and gets
// in later), and beyond --max-links for good while the links stay; failed links let go of their
// PeerConnection at once.
TEST(MeshSim, LinkCapsRefuseOffersAsBusyAndPendingOnesGetInLater) {
    for (auto seed : sim_seeds(81)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("hub", [](mesh::WorkerConfig& c) {
            c.max_pending_links = 2;
            c.max_links = 4;
        });
        std::vector<std::string> spokes;
        std::vector<std::shared_ptr<std::optional<mesh::Outcome>>> results;
        for (int i = 0; i < 6; ++i) {
            auto id = f0::util::numbered("s", i);
            spokes.push_back(id);
            m.add(id, [](mesh::WorkerConfig& c) {
                c.redial_min = std::chrono::milliseconds(200);
                c.redial_max = std::chrono::milliseconds(1'000);
            });
            m.introduce("hub", id);
        }
        for (const auto& id : spokes)
            results.push_back(dial(m, id, "hub"));
        ASSERT_TRUE(m.run_until(
            [&] {
                for (const auto& r : results)
                    if (!*r)
                        return false;
                return true;
            },
            10'000));
        std::size_t busy = 0;
        for (const auto& r : results)
            busy += error_code(*r) == "dial_failed" || error_code(*r) == "busy";
        EXPECT_GE(busy, 4u) << "6 offers at once, 2 may be pending";
        EXPECT_GE(m.node("hub").links().counters().refused_pending, 4u);
        // The refused dialers redial; the hub takes four in all and refuses the rest for good.
        m.run_for_ms(20'000);
        std::size_t open = 0;
        for (const auto& id : spokes)
            open += open_both(m, "hub", id);
        EXPECT_EQ(open, 4u);
        EXPECT_GT(m.node("hub").links().counters().refused_total, 0u);
        m.run_for_ms(10); // the released PeerConnections go on the next turn
        for (const auto& [peer, link] : m.node("hub").links().all()) {
            if (link.state == mesh::LinkState::Failed) {
                EXPECT_EQ(link.pc, nullptr) << "a failed link to " << peer << " holds its PC";
            }
        }
    }
}

// A linked peer that floods the control channel: messages beyond its trust's rate are dropped
// and counted, crdt.sync requests (each of which could make us send megabytes) are answered at
// most four times a second, and the link stays up for what the peer sends at a decent rate.
TEST(MeshSim, ControlFloodsAreRateLimitedAndSyncAnswersCoalesced) {
    for (auto seed : sim_seeds(91)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("a");
        m.add("mallory");
        m.introduce("a", "mallory");
        dial(m, "mallory", "a");
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "mallory"); }, 5'000));
        auto sync = nlohmann::json{
            {"type", "crdt.sync"},
            {"digest", std::string(10'924, 'A')},
            {"lists", nlohmann::json::object()},
            {"reply",
             false}}.dump();
        for (int i = 0; i < 5'000; ++i)
            ASSERT_TRUE(m.node("mallory").links().send("a", "control", sync));
        m.run_for_ms(2'000);
        const auto& a = m.node("a");
        EXPECT_GT(a.links().counters().control_rate_limited, 3'000u)
            << "5,000 at once against a burst of at most 1,000";
        EXPECT_GT(a.replication().syncs_deferred(), 0u);
        // Answers: at most one per 250 ms, whatever got through the rate limit.
        EXPECT_LE(a.replication().syncs_answered(), 2'000 / 250 + 2);
        EXPECT_TRUE(open_both(m, "a", "mallory"));
        // A message at a decent rate afterwards still arrives.
        m.run_for_ms(3'000);
        ASSERT_TRUE(m.node("mallory").links().send("a", "control", R"({"type":"hello-again"})"));
        m.run_for_ms(100);
        auto inbox = m.node("a").links().find("mallory")->inbox;
        ASSERT_FALSE(inbox.empty());
        EXPECT_EQ(inbox.back().first["message"]["type"], "hello-again");
    }
}

TEST(MeshSim, BytesThatAreNotTextNeitherCrashNorLeakIntoJson) {
    for (auto seed : sim_seeds(81)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("a");
        m.add("b");
        m.introduce("a", "b");
        std::vector<std::string> dumped; // what an /events stream would send
        m.node("b").on_event([&](const nlohmann::json& ev) { dumped.push_back(ev.dump()); });
        dial(m, "a", "b");
        // A channel b does not carry, under a label that is not text.
        ASSERT_TRUE(m.node("a").links().find("b")->pc->open_channel("\xff\xfe-evil", {}));
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 5'000));
        EXPECT_EQ(m.node("b").links().channels_refused(), 1u);
        EXPECT_NO_THROW(m.node("b").links().to_json().dump());
        EXPECT_EQ(link_of(m, "b", "a")->pc->channels().size(), 3u);
        // Four bytes that are not UTF-8 on the control channel.
        ASSERT_TRUE(m.node("a").links().send("b", "control", std::string("\xff\xfe\x00\xff", 4)));
        ASSERT_TRUE(m.run_until([&] { return link_of(m, "b", "a")->inbox.size() >= 2; }, 1'000));
        const auto& got = link_of(m, "b", "a")->inbox.back().first["message"];
        EXPECT_EQ(got, (nlohmann::json{{"base64", "//4A/w=="}}));
        EXPECT_EQ(m.node("b").links().counters().control_not_utf8, 1u);
        EXPECT_NO_THROW(m.node("b").links().to_json().dump());
        EXPECT_TRUE(open_both(m, "a", "b")) << "the link stays up";
        EXPECT_FALSE(dumped.empty());
    }
}

// Messages with receipts (mesh/links/receipts.hpp): acknowledged only once the receiver has
// stored them, so a crash of the receiver right after loses none of those; a repeat of an id is
// stored once and acknowledged again; no receipt (a cut, the link down) is a clear failure, and
// the same id sent again once the link is back is stored. Only the peer a message went to can
// acknowledge it.
TEST(MeshSim, MessagesWithReceiptsAreAcknowledgedOnceStoredAndSurviveACrash) {
    for (auto seed : sim_seeds(83)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("a");
        m.add("b", {}, /*persistent=*/true);
        m.add("c");
        m.introduce("a", "b");
        m.introduce("a", "c");
        dial(m, "a", "b");
        dial(m, "c", "a");
        ASSERT_TRUE(
            m.run_until([&] { return open_both(m, "a", "b") && open_both(m, "c", "a"); }, 5'000));
        auto send = [&](const std::string& id, std::string body, bool binary,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
            auto out = std::make_shared<std::optional<mesh::Outcome>>();
            m.node("a").receipts().send("b", std::move(body), binary, id, timeout,
                                        [out](mesh::Outcome o) { *out = std::move(o); });
            return out;
        };
        auto stored = [&](mesh::Node& n) {
            auto o = n.receipts().stored("a", 0, 100);
            return mesh::ok(o) ? std::get<nlohmann::json>(o) : nlohmann::json::array();
        };
        std::vector<std::shared_ptr<std::optional<mesh::Outcome>>> sent;
        for (int i = 0; i < 20; ++i)
            sent.push_back(
                send(util::numbered("m", i),
                     i % 2 ? std::string("\x00\xff bytes", 8) : "text " + std::to_string(i),
                     i % 2 == 1));
        ASSERT_TRUE(m.run_until(
            [&] {
                return std::all_of(sent.begin(), sent.end(),
                                   [](auto& o) { return o->has_value(); });
            },
            5'000));
        for (const auto& o : sent) {
            ASSERT_TRUE(mesh::ok(**o)) << error_code(*o);
            EXPECT_EQ(std::get<nlohmann::json>(**o)["acked"], true);
        }
        auto got = stored(m.node("b"));
        ASSERT_EQ(got.size(), 20u);
        EXPECT_EQ(got[0]["id"], "m0");
        EXPECT_EQ(got[0]["text"], "text 0");
        EXPECT_EQ(got[1]["base64"], "AP8gYnl0ZXM=");
        EXPECT_EQ(got[1]["bytes"], 8);
        // The same id again: acknowledged, stored once.
        auto again = send("m3", "other", false);
        ASSERT_TRUE(m.run_until([&] { return again->has_value(); }, 5'000));
        EXPECT_TRUE(mesh::ok(**again));
        EXPECT_EQ(m.node("b").receipts().counters().repeats, 1u);
        EXPECT_EQ(stored(m.node("b")).size(), 20u);
        // Refused before sending: a bad id, a body over the bound.
        EXPECT_EQ(error_code(*send("bad id", "x", false)), "bad_request");
        EXPECT_EQ(error_code(*send("big", std::string(64 * 1024 + 1, 'x'), false)), "too_large");
        // c cannot acknowledge what a sent to b.
        auto pending = send("m20", "during the cut", false, std::chrono::milliseconds(1'000));
        m.net.cut("a", "b");
        ASSERT_TRUE(m.node("c").links().send("a", "control", R"({"type":"f0.ack","id":"m20"})"));
        ASSERT_TRUE(m.run_until([&] { return pending->has_value(); }, 5'000));
        EXPECT_EQ(error_code(*pending), "not_acknowledged");
        EXPECT_GE(m.now_ms(), 1'000);
        m.net.heal_all();
        // The receiver crashes: every message it acknowledged is still in its store after.
        m.crash("b");
        auto during = send("m21", "to a dead peer", false, std::chrono::milliseconds(60'000));
        ASSERT_TRUE(m.run_until([&] { return during->has_value(); }, 30'000))
            << "the link going down settles it before its timeout";
        EXPECT_EQ(error_code(*during), "not_acknowledged");
        auto& b = m.restart("b");
        EXPECT_EQ(stored(b).size(), 20u);
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 20'000));
        auto retry = send("m21", "to a dead peer", false);
        ASSERT_TRUE(m.run_until([&] { return retry->has_value(); }, 5'000));
        EXPECT_TRUE(mesh::ok(**retry)) << error_code(*retry);
        EXPECT_EQ(stored(m.node("b")).back()["id"], "m21");
        EXPECT_EQ(m.node("a").receipts().pending(), 0u);
    }
}

TEST(MeshSim, TheControlInboxIsBoundedInBytesAndKeepsOnlyTheSizeOfHugeMessages) {
    for (auto seed : sim_seeds(82)) {
        REPLAY(seed);
        SimMesh m(seed);
        m.add("a");
        m.add("b");
        m.introduce("a", "b");
        std::vector<std::string> dumped; // what an /events stream would send
        m.node("b").on_event([&](const nlohmann::json& ev) { dumped.push_back(ev.dump()); });
        dial(m, "a", "b");
        ASSERT_TRUE(m.run_until([&] { return open_both(m, "a", "b"); }, 5'000));
        // 20 messages of 100 KB: each kept as its size only, and shown so on /events.
        for (int i = 0; i < 20; ++i)
            ASSERT_TRUE(m.node("a").links().send("b", "control", std::string(100'000, 'x')));
        ASSERT_TRUE(m.run_until(
            [&] { return m.node("b").links().counters().control_too_large == 20; }, 5'000));
        const auto* link = link_of(m, "b", "a");
        EXPECT_EQ(link->inbox.back().first["message"],
                  (nlohmann::json{{"omitted", "too large"}, {"bytes", 100'000}}));
        for (const auto& ev : dumped)
            EXPECT_LT(ev.size(), 1'000u) << "no event carries a huge message";
        // 30 messages of 7 KB (under the 8 KiB kept whole): the inbox keeps the last ones that
        // fit in 64 KiB, not all 30.
        for (int i = 0; i < 30; ++i)
            ASSERT_TRUE(m.node("a").links().send(
                "b", "control", nlohmann::json{{"i", i}, {"pad", std::string(7'000, 'y')}}.dump()));
        ASSERT_TRUE(m.run_until(
            [&] {
                return link_of(m, "b", "a")->inbox.back().first["message"].value("i", -1) == 29;
            },
            5'000))
            << link_of(m, "b", "a")->inbox.size() << " kept, "
            << m.node("b").links().counters().control_rate_limited << " rate limited";
        link = link_of(m, "b", "a");
        EXPECT_LE(link->inbox_bytes, 64u * 1024);
        EXPECT_GE(link->inbox.size(), 5u);
        EXPECT_LT(link->inbox.size(), 30u);
        std::size_t sum = 0;
        for (const auto& [entry, bytes] : link->inbox)
            sum += bytes;
        EXPECT_EQ(sum, link->inbox_bytes) << "every kept byte is counted, and uncounted once";
        EXPECT_TRUE(open_both(m, "a", "b")) << "the link stays up";
    }
}

TEST(MeshSim, SignedEnvelopesAreRateLimitedByPeerIdAndTrust) {
    for (auto seed : sim_seeds(83)) {
        REPLAY(seed);
        SimMesh m(seed);
        for (const char* id : {"a", "low", "high"})
            m.add(id);
        m.introduce("a", "low");
        m.introduce("a", "high");
        m.node("a").links().trust_of = [](const std::string& peer) {
            return peer == "high" ? 1.0 : 0.0;
        };
        // n answers to no offer, each correctly signed with a fresh nonce: those let through
        // the rate limit are refused afterwards as no_pending_offer.
        auto send = [&](const std::string& from, int n) {
            std::map<std::string, int> got;
            for (int i = 0; i < n; ++i) {
                mesh::identity::Envelope e{from,
                                           "a",
                                           "answer",
                                           "v=0\r\n",
                                           m.node("a").self_record().registered_ms,
                                           mesh::identity::Envelope::random_nonce(),
                                           ""};
                e.sign(m.node(from).identity());
                auto out = m.node("a").signaling().accept_answer(e.to_json());
                auto* err = std::get_if<mesh::Error>(&out);
                ++got[err ? std::string(mesh::code_of(err->code)) : "ok"];
            }
            return got;
        };
        // Trust 0: 5 a second, a burst of 4 s of it.
        auto low = send("low", 100);
        EXPECT_EQ(low["no_pending_offer"], 20);
        EXPECT_EQ(low["rate_limited"], 80);
        // Trust 1: 50 a second (burst 200): all 100 pass; the other peer's bucket is its own.
        auto high = send("high", 100);
        EXPECT_EQ(high["no_pending_offer"], 100);
        EXPECT_EQ(high["rate_limited"], 0);
        // A second later the low-trust peer has 5 more (its gossip by the HTTPS fallback in the
        // meantime counts elsewhere).
        m.run_for_ms(1'000);
        auto later = send("low", 10);
        EXPECT_EQ(later["no_pending_offer"], 5);
        EXPECT_EQ(later["rate_limited"], 5);
    }
}

// n nodes that all know each other, linked in a ring of next and next-but-one neighbours (so at
// least 4 links each, more than the gossip fan-out of 3) plus `chords` random links per node.
void build(SimMesh& m, std::size_t n, std::size_t chords, std::mt19937_64& rng, bool via_beacon,
           bool https_fallback = true) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < n; ++i)
        ids.push_back(f0::util::numbered("n", i));
    auto tweak = [via_beacon, https_fallback](mesh::WorkerConfig& c) {
        c.gossip_https_fallback = https_fallback;
        if (via_beacon && c.id != "n0")
            c.beacon = "http://n0.sim";
        c.beacon_refresh = std::chrono::seconds(5);
    };
    for (const auto& id : ids)
        m.add(id, tweak);
    if (!via_beacon)
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = i + 1; j < n; ++j)
                m.introduce(ids[i], ids[j]);
    ASSERT_TRUE(m.run_until(
        [&] {
            for (const auto& id : ids)
                if (m.node(id).peers().all().size() < n)
                    return false;
            return true;
        },
        120'000, 100))
        << "every node learns every other (beacon and replicated registry)";
    std::set<std::pair<std::size_t, std::size_t>> edges;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t step : {1, 2})
            edges.insert({std::min(i, (i + step) % n), std::max(i, (i + step) % n)});
        for (std::size_t k = 0; k < chords; ++k) {
            auto j = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
            if (j != i)
                edges.insert({std::min(i, j), std::max(i, j)});
        }
    }
    for (auto [i, j] : edges)
        dial(m, ids[i], ids[j]);
    ASSERT_TRUE(m.run_until(
        [&] {
            for (auto [i, j] : edges)
                if (!open_both(m, ids[i], ids[j]))
                    return false;
            return true;
        },
        60'000, 100))
        << "every dialled link opens";
}

TEST(MeshSim, GossipReachesEveryNodeOverTheLinks) {
    for (auto seed : sim_seeds(61)) {
        REPLAY(seed);
        SimMesh m(seed);
        std::mt19937_64 rng(seed);
        // No HTTPS fallback: whatever arrives came over the gossip channels.
        build(m, 20, 1, rng, /*via_beacon=*/false, /*https_fallback=*/false);
        if (HasFatalFailure())
            return;
        ASSERT_TRUE(m.node("n7").gossip().publish("ops.alerts", {{"text", "hello"}}));
        ASSERT_TRUE(m.run_until(
            [&] {
                for (int i = 0; i < 20; ++i)
                    if (i != 7 && !delivered(m, f0::util::numbered("n", i), "ops.alerts"))
                        return false;
                return true;
            },
            5'000));
        std::uint64_t https = 0, links = 0;
        for (int i = 0; i < 20; ++i) {
            const auto& c = m.node(f0::util::numbered("n", i)).gossip().engine_counters();
            https += c.sent_https;
            links += c.sent_link;
        }
        EXPECT_EQ(https, 0u);
        EXPECT_GE(links, 19u);
    }
}

// Issue 18: every node publishes its links' QoS each interval (mesh/links); within two QoS
// intervals of the links opening every node's mesh graph has every node and every link, each
// seen from both ends, with a measured RTT. A link cut leaves the graph once its ends report.
TEST(MeshSim, LinkStateGossipGivesEveryNodeTheWholeMeshWithinTwoIntervals) {
    for (auto seed : sim_seeds(67)) {
        REPLAY(seed);
        SimMesh m(seed);
        std::mt19937_64 rng(seed);
        build(m, 12, 1, rng, /*via_beacon=*/false);
        if (HasFatalFailure())
            return;
        std::set<std::pair<std::string, std::string>> truth; // open at both ends, now
        auto look = [&] {
            truth.clear();
            for (int i = 0; i < 12; ++i) {
                auto a = f0::util::numbered("n", i);
                for (const auto& b : m.node(a).links().open_peers())
                    if (open_both(m, a, b))
                        truth.insert(std::minmax(a, b));
            }
        };
        look();
        ASSERT_GE(truth.size(), 24u);
        const auto interval = m.node("n0").config().qos_interval;
        auto complete = [&](const std::string& id) {
            auto g = m.node(id).view().graph();
            if (g["nodes"].size() != 12 || g["links"].size() != truth.size())
                return false;
            for (const auto& n : g["nodes"])
                if (!n["reported"].get<bool>())
                    return false;
            for (const auto& l : g["links"]) {
                if (!truth.count({l["a"].get<std::string>(), l["b"].get<std::string>()}) ||
                    l["ends"].size() != 2)
                    return false;
                for (const auto& e : l["ends"])
                    if (e["rttMs"].is_null() || e["health"] == "unknown")
                        return false;
            }
            return true;
        };
        auto all_complete = [&] {
            look();
            for (int i = 0; i < 12; ++i)
                if (!complete(f0::util::numbered("n", i)))
                    return false;
            return true;
        };
        // Links opened during build(); the first QoS round may come before a link's first sample.
        ASSERT_TRUE(m.run_until(all_complete, 2 * std::chrono::milliseconds(interval).count(), 100))
            << m.node("n3").view().graph().dump();
        EXPECT_EQ(m.node("n5").view().book().counters().invalid, 0u);
        EXPECT_EQ(m.node("n5").view().book().size(), 12u) << "one summary per node, its own too";
        // Closed by the operator (not redialled): both ends publish again soon after the change
        // (MeshView::links_changed), so it leaves every graph within a third of an interval, well
        // before the next QoS round would tell.
        const auto soon = std::chrono::milliseconds(interval).count() / 3;
        auto changes_before = m.node("n0").view().counters().on_change;
        for (int i = 0; i < 12; ++i)
            changes_before = std::min(
                changes_before, m.node(f0::util::numbered("n", i)).view().counters().on_change);
        auto [a, b] = *truth.begin();
        ASSERT_TRUE(mesh::ok(m.node(a).links().close(b)));
        ASSERT_TRUE(m.run_until(all_complete, soon, 100))
            << "the link " << a << "-" << b << " left every graph";
        EXPECT_FALSE(truth.count({a, b}));
        EXPECT_GT(m.node(a).view().counters().on_change, changes_before);
        // A new link is on every graph as soon (its figures come with the next round).
        std::string x, y;
        for (int i = 0; i < 12 && x.empty(); ++i)
            for (int j = i + 1; j < 12 && x.empty(); ++j) {
                auto p = f0::util::numbered("n", i), q = f0::util::numbered("n", j);
                if (!m.node(p).links().find(q) && !m.node(q).links().find(p))
                    x = p, y = q;
            }
        ASSERT_FALSE(x.empty()) << "two nodes without a link";
        auto out = dial(m, x, y);
        ASSERT_TRUE(m.run_until([&] { return open_both(m, x, y); }, 10'000, 50));
        auto named = [&] {
            for (int i = 0; i < 12; ++i) {
                auto g = m.node(f0::util::numbered("n", i)).view().graph(); // held: loop over it
                bool found = false;
                for (const auto& l : g["links"])
                    found = found || (l["a"] == std::min(x, y) && l["b"] == std::max(x, y) &&
                                      l["ends"].size() == 2);
                if (!found)
                    return false;
            }
            return true;
        };
        ASSERT_TRUE(m.run_until(named, soon, 100)) << "the new link " << x << "-" << y;
    }
}

// 200 nodes in the release tree; fewer under the sanitizers (F0_SIM_LARGE_MESH,
// tests/sim/CMakeLists.txt), where every allocation records its stack and 200 nodes took 155 s of
// one core: the same code runs, at a scale the sanitizer tree can afford inside make test.
TEST(MeshSim, ALargeMeshJoinsThroughTheBeaconLinksUpAndGossips) {
    constexpr int nodes = F0_SIM_LARGE_MESH;
    for (auto seed : sim_seeds(71)) {
        REPLAY(seed);
        auto wall = std::chrono::steady_clock::now();
        SimMesh m(seed);
        std::mt19937_64 rng(seed);
        build(m, nodes, 1, rng, /*via_beacon=*/true);
        if (HasFatalFailure())
            return;
        auto origin = "n" + std::to_string(std::uniform_int_distribution<int>(0, nodes - 1)(rng));
        ASSERT_TRUE(m.node(origin).gossip().publish("ops.alerts", {{"text", "to all"}}));
        ASSERT_TRUE(m.run_until(
            [&] {
                for (int i = 0; i < nodes; ++i) {
                    auto id = f0::util::numbered("n", i);
                    if (id != origin && !delivered(m, id, "ops.alerts"))
                        return false;
                }
                return true;
            },
            10'000, 50));
        auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
        std::cout << "[ sim ] " << nodes << " nodes, seed " << seed << ": " << m.now_ms() / 1000.0
                  << " s of virtual time in " << secs << " s of wall time\n";
    }
}

} // namespace
} // namespace f0::simtest

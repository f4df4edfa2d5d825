// The signed envelope: round trip, what the signature covers, and every field check.
#include "mesh/identity/replay_guard.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "util/numbered.hpp"

#include <gtest/gtest.h>

using namespace f0::mesh::identity;

namespace {
Envelope sample(const Identity& id) {
    Envelope e;
    e.peer_from = "fz-kuwait";
    e.peer_to = "fz-cairo";
    e.type = "offer";
    e.sdp = "v=0\r\n";
    e.ts_ms = 1760270000000;
    e.nonce = Envelope::random_nonce();
    e.sign(id);
    return e;
}
} // namespace

TEST(SignedEnvelope, SignsAndVerifies) {
    auto id = Identity::generate().value();
    auto e = sample(id);
    EXPECT_TRUE(e.verify(id.public_key()));
    auto parsed = Envelope::from_json(e.to_json());
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_TRUE(parsed.value().verify(id.public_key()));
    EXPECT_EQ(e.signing_input().find("\"sig\""), std::string::npos);
}

TEST(SignedEnvelope, AnyChangedFieldBreaksTheSignature) {
    auto id = Identity::generate().value();
    auto base = sample(id);
    std::vector<std::function<void(Envelope&)>> edits{
        [](Envelope& e) { e.peer_from = "fz-riyadh"; },
        [](Envelope& e) { e.peer_to = "fz-riyadh"; },
        [](Envelope& e) { e.type = "answer"; },
        [](Envelope& e) { e.sdp += "a=x\r\n"; },
        [](Envelope& e) { e.ts_ms += 1; },
        [](Envelope& e) { e.nonce = Envelope::random_nonce(); }};
    for (auto& edit : edits) {
        auto e = base;
        edit(e);
        EXPECT_FALSE(e.verify(id.public_key()));
    }
    auto other = Identity::generate().value();
    EXPECT_FALSE(base.verify(other.public_key())) << "signed by another key";
}

TEST(SignedEnvelope, RejectsMalformedFields) {
    auto id = Identity::generate().value();
    auto good = sample(id).to_json();
    struct Case {
        const char* what;
        std::function<void(nlohmann::json&)> edit;
        const char* expect;
    };
    std::vector<Case> cases{
        {"missing sdp", [](auto& j) { j.erase("sdp"); }, "missing field 'sdp'"},
        {"ts as string", [](auto& j) { j["ts"] = "1"; }, "'ts' must be an integer"},
        {"ts float", [](auto& j) { j["ts"] = 1.5; }, "'ts' must be an integer"},
        {"peer id chars", [](auto& j) { j["peerFrom"] = "a b"; }, "peer ids"},
        {"type", [](auto& j) { j["type"] = "hello"; }, "'type' must be"},
        {"nonce size", [](auto& j) { j["nonce"] = "AAAA"; }, "16 bytes"},
        {"sdp too long", [](auto& j) { j["sdp"] = std::string(70000, 'x'); }, "longer than"},
        {"array", [](auto& j) { j = nlohmann::json::array(); }, "JSON object"},
    };
    for (auto& c : cases) {
        auto j = good;
        c.edit(j);
        auto e = Envelope::from_json(j);
        ASSERT_FALSE(e) << c.what;
        EXPECT_NE(e.error().message.find(c.expect), std::string::npos)
            << c.what << ": " << e.error().message;
    }
}

TEST(ReplayGuard, RejectsStaleAndReplayed) {
    std::int64_t now = 1'000'000'000;
    ReplayGuard g({}, now - 120'000);
    EXPECT_EQ(g.check("a", now, "n1", now), ReplayVerdict::Fresh);
    EXPECT_EQ(g.check("a", now, "n1", now + 10), ReplayVerdict::Replayed);
    EXPECT_EQ(g.check("b", now, "n1", now + 10), ReplayVerdict::Fresh) << "nonces are per peer";
    EXPECT_EQ(g.check("a", now - 61'000, "n2", now), ReplayVerdict::Stale);
    EXPECT_EQ(g.check("a", now + 61'000, "n3", now), ReplayVerdict::Stale);
    EXPECT_EQ(g.check("a", now + 59'000, "n4", now), ReplayVerdict::Fresh);
    // Once a nonce's ts is outside the window it is forgotten; its ts alone now fails.
    EXPECT_EQ(g.check("a", now, "n1", now + 110'000), ReplayVerdict::Stale);
    EXPECT_EQ(g.size(), 1u) << "only n4 (expires at now + 119 s) is still remembered";
    EXPECT_EQ(g.check("a", now + 59'000, "n4", now + 110'000), ReplayVerdict::Replayed);
    EXPECT_EQ(g.check("a", now, "n5", now + 180'000), ReplayVerdict::Stale);
    EXPECT_EQ(g.size(), 0u);
    EXPECT_EQ(g.peers(), 0u) << "peers with nothing left are forgotten";
}

TEST(ReplayGuard, EnvelopesSignedBeforeItStartedAreRefused) {
    std::int64_t start = 1'000'000'000;
    ReplayGuard g({}, start);
    // A restart empties the cache: an envelope captured just before it could be replayed.
    EXPECT_EQ(g.check("a", start - 1, "n1", start + 1'000), ReplayVerdict::BeforeStart);
    EXPECT_EQ(g.check("a", start, "n1", start + 1'000), ReplayVerdict::Fresh);
}

TEST(ReplayGuard, AFloodFillsOnlyTheFloodersWindowAndNothingIsForgottenEarly) {
    std::int64_t now = 1'000'000'000;
    ReplayGuard g({std::chrono::seconds(60), 100, 1'000}, now);
    EXPECT_EQ(g.check("victim", now, "captured", now), ReplayVerdict::Fresh);
    // A million envelopes from one peer: its window holds 100, the rest are refused.
    std::size_t fresh = 0, refused = 0;
    for (int i = 0; i < 1'000'000; ++i) {
        auto v = g.check("flooder", now + i / 1000, f0::util::numbered("f", i), now + i / 1000);
        (v == ReplayVerdict::Fresh ? fresh : refused) += 1;
        ASSERT_TRUE(v == ReplayVerdict::Fresh || v == ReplayVerdict::PeerWindowFull);
    }
    EXPECT_EQ(fresh, 100u);
    EXPECT_EQ(refused, 999'900u);
    EXPECT_EQ(g.check("victim", now, "captured", now + 1'000), ReplayVerdict::Replayed)
        << "the victim's nonce is still remembered";
    // Many peers: the total bound refuses (fails closed) instead of forgetting.
    for (int p = 0; p < 20; ++p)
        for (int i = 0; i < 100; ++i)
            g.check(f0::util::numbered("p", p), now + 1'000, f0::util::numbered("x", i),
                    now + 1'000);
    EXPECT_EQ(g.size(), 1'000u);
    EXPECT_EQ(g.check("newcomer", now + 1'000, "y", now + 1'000), ReplayVerdict::Full);
    EXPECT_EQ(g.check("victim", now, "captured", now + 1'000), ReplayVerdict::Replayed);
    // Once the window has passed, room again.
    EXPECT_EQ(g.check("newcomer", now + 62'000, "y", now + 62'000), ReplayVerdict::Fresh);
}

TEST(Identity, PersistsAcrossLoads) {
    auto dir = std::filesystem::temp_directory_path() / ("f0-id-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto a = Identity::load_or_create(dir / "identity.pem");
    ASSERT_TRUE(a) << a.error().message;
    auto perms = std::filesystem::status(dir / "identity.pem").permissions();
    EXPECT_EQ(perms & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto b = Identity::load_or_create(dir / "identity.pem");
    ASSERT_TRUE(b);
    EXPECT_EQ(a.value().public_key(), b.value().public_key());
    std::filesystem::remove_all(dir);
}

// Delegations and revocations (issue 17): round trip, what the signature covers, every refusal
// of the receiver's check, the codec's field checks, and the revocation set's bounds.
#include "mesh/identity/delegation.hpp"
#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <functional>

using namespace f0::mesh::identity;

namespace {
constexpr std::int64_t kNow = 1'790'000'000'000;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;
constexpr std::int64_t kSkew = 60'000;

struct Keys {
    Identity peer = Identity::generate().value();
    Identity instance = Identity::generate().value();
    Identity other = Identity::generate().value();
};

Delegation sample(const Keys& k, std::int64_t from = kNow - kDay, std::int64_t to = kNow + kDay) {
    auto d = issue_delegation(k.peer, "fz-kuwait", "kw-1", k.instance.public_key(), from, to);
    EXPECT_TRUE(d) << d.error().message;
    return d.value();
}
} // namespace

TEST(Delegation, IssuedParsedAndAccepted) {
    Keys k;
    auto d = sample(k);
    auto text = d.to_json().dump();
    EXPECT_LE(text.size(), kMaxDelegationBytes);
    auto parsed = Delegation::parse(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed.value().instance_key, k.instance.public_key());
    RevocationSet none;
    EXPECT_EQ(
        verify_delegation(parsed.value(), "fz-kuwait", k.peer.public_key(), kNow, kSkew, none),
        std::nullopt);
}

TEST(Delegation, EveryFieldIsCoveredByTheSignature) {
    Keys k;
    const auto base = sample(k);
    RevocationSet none;
    std::vector<std::function<void(Delegation&)>> edits{
        [&](Delegation& d) { d.instance = "kw-2"; },
        [&](Delegation& d) { d.instance_key = k.other.public_key(); },
        [&](Delegation& d) { d.not_after_ms += 1; },
        [&](Delegation& d) { d.not_before_ms -= 1; },
        [&](Delegation& d) { d.sig[0] ^= 1; },
    };
    for (std::size_t i = 0; i < edits.size(); ++i) {
        auto d = base;
        edits[i](d);
        EXPECT_EQ(verify_delegation(d, "fz-kuwait", k.peer.public_key(), kNow, kSkew, none),
                  DelegationRefusal::BadSignature)
            << "edit " << i;
    }
}

TEST(Delegation, EachRefusalIsNamed) {
    Keys k;
    RevocationSet none;
    auto d = sample(k);
    // Claiming another peer.
    EXPECT_EQ(verify_delegation(d, "fz-cairo", k.peer.public_key(), kNow, kSkew, none),
              DelegationRefusal::WrongPeer);
    // Self-made: an instance that signs its own delegation for a peer whose key it lacks.
    auto forged = issue_delegation(k.other, "fz-kuwait", "kw-1", k.instance.public_key(),
                                   kNow - kDay, kNow + kDay)
                      .value();
    EXPECT_EQ(verify_delegation(forged, "fz-kuwait", k.peer.public_key(), kNow, kSkew, none),
              DelegationRefusal::WrongPeerKey);
    // Not yet valid, and expired, each beyond the skew; inside the skew both pass.
    auto later = sample(k, kNow + kSkew + 1, kNow + kDay);
    EXPECT_EQ(verify_delegation(later, "fz-kuwait", k.peer.public_key(), kNow, kSkew, none),
              DelegationRefusal::NotYetValid);
    auto soon = sample(k, kNow + kSkew, kNow + kDay);
    EXPECT_EQ(verify_delegation(soon, "fz-kuwait", k.peer.public_key(), kNow, kSkew, none),
              std::nullopt);
    auto old = sample(k, kNow - 2 * kDay, kNow - kSkew - 1);
    EXPECT_EQ(verify_delegation(old, "fz-kuwait", k.peer.public_key(), kNow, kSkew, none),
              DelegationRefusal::Expired);
    // Revoked by the peer key.
    RevocationSet revoked;
    auto r = issue_revocation(k.peer, "fz-kuwait", "kw-1", k.instance.public_key(), kNow).value();
    ASSERT_EQ(revoked.add(r, k.peer.public_key()), RevocationSet::Added::New);
    EXPECT_EQ(verify_delegation(d, "fz-kuwait", k.peer.public_key(), kNow, kSkew, revoked),
              DelegationRefusal::Revoked);
    // A new key for the same instance name is not revoked.
    auto renewed = issue_delegation(k.peer, "fz-kuwait", "kw-1", k.other.public_key(), kNow - kDay,
                                    kNow + kDay)
                       .value();
    EXPECT_EQ(verify_delegation(renewed, "fz-kuwait", k.peer.public_key(), kNow, kSkew, revoked),
              std::nullopt);
    for (auto why : {DelegationRefusal::BadSignature, DelegationRefusal::WrongPeer,
                     DelegationRefusal::WrongPeerKey, DelegationRefusal::NotYetValid,
                     DelegationRefusal::Expired, DelegationRefusal::Revoked})
        EXPECT_FALSE(to_string(why).empty());
}

TEST(Delegation, OnlyThePeerKeyRevokes) {
    Keys k;
    RevocationSet set;
    auto by_other =
        issue_revocation(k.other, "fz-kuwait", "kw-1", k.instance.public_key(), kNow).value();
    EXPECT_EQ(set.add(by_other, k.peer.public_key()), RevocationSet::Added::WrongPeerKey);
    auto r = issue_revocation(k.peer, "fz-kuwait", "kw-1", k.instance.public_key(), kNow).value();
    auto tampered = r;
    tampered.instance_key = k.other.public_key();
    EXPECT_EQ(set.add(tampered, k.peer.public_key()), RevocationSet::Added::BadSignature);
    EXPECT_EQ(set.add(r, k.peer.public_key()), RevocationSet::Added::New);
    EXPECT_EQ(set.add(r, k.peer.public_key()), RevocationSet::Added::Known);
    auto parsed = Revocation::parse(r.to_json().dump());
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_TRUE(parsed.value().verify());
    EXPECT_TRUE(set.revoked("fz-kuwait", k.instance.public_key()));
    EXPECT_FALSE(set.revoked("fz-kuwait", k.other.public_key()));
    EXPECT_FALSE(set.revoked("fz-cairo", k.instance.public_key()));
}

TEST(Delegation, RevocationSetIsBounded) {
    Keys k;
    RevocationSet set(2);
    std::vector<PublicKey> keys;
    for (std::size_t i = 0; i < RevocationSet::kMaxRevocationsPerPeer + 5; ++i) {
        keys.push_back(Identity::generate().value().public_key());
        auto r = issue_revocation(k.peer, "fz-kuwait", "kw-1", keys.back(),
                                  kNow + static_cast<std::int64_t>(i))
                     .value();
        ASSERT_EQ(set.add(r, k.peer.public_key()), RevocationSet::Added::New);
    }
    EXPECT_EQ(set.size(), RevocationSet::kMaxRevocationsPerPeer);
    EXPECT_FALSE(set.revoked("fz-kuwait", keys.front())) << "the oldest went first";
    EXPECT_TRUE(set.revoked("fz-kuwait", keys.back()));
    auto second = issue_revocation(k.other, "fz-cairo", "c-1", keys[0], kNow).value();
    EXPECT_EQ(set.add(second, k.other.public_key()), RevocationSet::Added::New);
    auto third = issue_revocation(k.instance, "fz-riyadh", "r-1", keys[0], kNow).value();
    EXPECT_EQ(set.add(third, k.instance.public_key()), RevocationSet::Added::Full);
}

TEST(Delegation, TheCodecRefusesMalformedDocuments) {
    Keys k;
    const auto good = sample(k).to_json();
    std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases{
        {[](nlohmann::json& j) { j["type"] = "f0-revocation"; }, "'type'"},
        {[](nlohmann::json& j) { j["v"] = 2; }, "'v'"},
        {[](nlohmann::json& j) { j.erase("peer"); }, "exactly the fields"},
        {[](nlohmann::json& j) { j["extra"] = 1; }, "exactly the fields"},
        {[](nlohmann::json& j) { j["peer"] = "has space"; }, "[A-Za-z0-9._-]"},
        {[](nlohmann::json& j) { j["instance"] = std::string(65, 'a'); }, "longer than 64"},
        {[](nlohmann::json& j) { j["peerKey"] = "AAAA"; }, "32 bytes"},
        {[](nlohmann::json& j) { j["sig"] = 5; }, "must be a string"},
        {[](nlohmann::json& j) { j["notBefore"] = "soon"; }, "integer"},
        {[](nlohmann::json& j) { j["notBefore"] = -1; }, "negative"},
        {[](nlohmann::json& j) { j["notAfter"] = j["notBefore"]; }, "after 'notBefore'"},
        {[](nlohmann::json& j) { j["notAfter"] = j["notBefore"].get<std::int64_t>() + 91 * kDay; },
         "90 days"},
        {[](nlohmann::json& j) { j["instanceKey"] = j["peerKey"]; }, "peer's own key"},
    };
    for (auto& [edit, why] : cases) {
        auto j = good;
        edit(j);
        auto d = Delegation::from_json(j);
        ASSERT_FALSE(d) << j.dump();
        EXPECT_NE(d.error().message.find(why), std::string::npos) << d.error().message;
    }
    EXPECT_FALSE(Delegation::parse("[1,2"));
    EXPECT_FALSE(Delegation::parse(std::string(kMaxDelegationBytes + 1, ' ')));
    EXPECT_FALSE(Delegation::from_json(nlohmann::json::array()));
    // Issuing refuses what a receiver would refuse.
    EXPECT_FALSE(issue_delegation(k.peer, "fz-kuwait", "kw-1", k.instance.public_key(), kNow,
                                  kNow + 91 * kDay));
    EXPECT_FALSE(
        issue_delegation(k.peer, "fz-kuwait", "kw 1", k.instance.public_key(), kNow, kNow + 1));
}

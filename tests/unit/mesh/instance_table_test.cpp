// The instances a worker knows of a peer served by several (issue 17): records signed by the
// instance key and carrying the delegation parse only when the chain holds; the table's liveness
// (refresh TTL, delegation validity, local down marks), bounds, staleness, revocation and
// placement over what is live.
#include "mesh/identity/signed_envelope.hpp"
#include "mesh/instances/instance_table.hpp"
#include "mesh/instances/placement.hpp"
#include "util/base64.hpp"

#include <gtest/gtest.h>

using namespace f0::mesh;
using namespace f0::mesh::identity;
using f0::mesh::instances::InstanceTable;

namespace {
constexpr std::int64_t kTableNow = 1'790'000'000'000;
constexpr std::int64_t kHour = 3600LL * 1000;

struct Peer {
    Identity key = Identity::generate().value();
    std::string id = "fz-x";

    SignedRecord instance(const Identity& inst, const std::string& name, std::int64_t ts,
                          std::int64_t not_after = kTableNow + kHour) const {
        auto d = issue_delegation(key, id, name, inst.public_key(), kTableNow - kHour, not_after);
        EXPECT_TRUE(d) << d.error().message;
        f0::store::PeerRecord p{id, key.public_key_base64(), "ME",
                                "http://127.0.0.1:7" + name.substr(2)};
        return sign_record(p, ts, inst, d.value());
    }
};
} // namespace

TEST(InstanceRecord, ParsesOnlyWhenTheChainHolds) {
    Peer peer;
    auto inst = Identity::generate().value();
    auto rec = peer.instance(inst, "x-1", kTableNow);
    auto j = signed_record_json(rec);
    auto back = signed_record_from_json(j);
    ASSERT_TRUE(std::holds_alternative<SignedRecord>(back)) << std::get<Error>(back).detail;
    EXPECT_EQ(*std::get<SignedRecord>(back).instance(), "x-1");

    auto refused = [](const nlohmann::json& doc) {
        auto r = signed_record_from_json(doc);
        return std::holds_alternative<Error>(r) ? std::get<Error>(r).code : Errc::Internal;
    };
    // The signature is the instance key's: changing a field breaks it.
    auto moved = j;
    moved["endpoints"]["webrtc"] = "http://127.0.0.1:9999";
    EXPECT_EQ(refused(moved), Errc::BadSignature);
    // The delegation must name the record's id and key.
    auto other_id = j;
    other_id["id"] = "fz-y";
    EXPECT_EQ(refused(other_id), Errc::BadDelegation);
    auto other_key = j;
    other_key["pubKey"] = Identity::generate().value().public_key_base64();
    EXPECT_EQ(refused(other_key), Errc::BadDelegation);
    // ...and be signed by that key.
    auto forged = j;
    forged["delegation"]["notAfter"] = kTableNow + 2 * kHour;
    EXPECT_EQ(refused(forged), Errc::BadDelegation);
    // Without the delegation the instance's signature is not the peer key's.
    auto bare = j;
    bare.erase("delegation");
    EXPECT_EQ(refused(bare), Errc::BadSignature);
}

TEST(InstanceEnvelope, CarriesTheDelegationUnderTheSignature) {
    Peer peer;
    auto inst = Identity::generate().value();
    auto d = issue_delegation(peer.key, "fz-x", "x-1", inst.public_key(), kTableNow - kHour,
                              kTableNow + kHour);
    ASSERT_TRUE(d);
    Envelope e{"fz-x", "fz-y", "offer", "v=0", kTableNow, Envelope::random_nonce(), {}, d.value()};
    e.sign(inst);
    auto back = Envelope::from_json(e.to_json());
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_TRUE(back.value().delegation);
    EXPECT_TRUE(back.value().verify(inst.public_key()));
    EXPECT_FALSE(back.value().verify(peer.key.public_key()));
    // The delegation is signed with the rest: another one in its place breaks the signature.
    auto other = issue_delegation(peer.key, "fz-x", "x-2", inst.public_key(), kTableNow - kHour,
                                  kTableNow + kHour);
    auto swapped = back.value();
    swapped.delegation = other.value();
    EXPECT_FALSE(swapped.verify(inst.public_key()));
    auto j = e.to_json();
    j["delegation"] = "not an object";
    EXPECT_FALSE(Envelope::from_json(j));
}

TEST(InstanceTable, LiveWhileRefreshedValidAndReachable) {
    Peer peer;
    InstanceTable::Limits lim;
    lim.ttl_ms = 3'000;
    lim.down_for_ms = 6'000;
    lim.skew_ms = 1'000;
    InstanceTable t(lim);
    auto k1 = Identity::generate().value(), k2 = Identity::generate().value();
    EXPECT_EQ(t.upsert(peer.instance(k1, "x-1", kTableNow), kTableNow), InstanceTable::Upsert::New);
    EXPECT_EQ(t.upsert(peer.instance(k2, "x-2", kTableNow, kTableNow + 10'000), kTableNow),
              InstanceTable::Upsert::New);
    EXPECT_EQ(t.live("fz-x", kTableNow).size(), 2u);
    // The same record again refreshes it; an older one is stale.
    EXPECT_EQ(t.upsert(peer.instance(k1, "x-1", kTableNow), kTableNow + 2'000),
              InstanceTable::Upsert::Same); // Ed25519 is deterministic: the very same record
    EXPECT_EQ(t.upsert(peer.instance(k1, "x-1", kTableNow - 1), kTableNow + 2'000),
              InstanceTable::Upsert::Stale);
    // x-2 not refreshed: gone from the live set after the TTL; x-1 still there.
    auto live = t.live("fz-x", kTableNow + 4'000);
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0]->name(), "x-1");
    // Marked down: skipped until down_for passes or a new record comes.
    t.mark_down("fz-x", "x-1", kTableNow + 4'000);
    EXPECT_TRUE(t.live("fz-x", kTableNow + 4'001).empty());
    EXPECT_EQ(t.placed("fz-y", "fz-x", kTableNow + 4'001), nullptr);
    EXPECT_EQ(t.upsert(peer.instance(k1, "x-1", kTableNow + 4'500), kTableNow + 4'500),
              InstanceTable::Upsert::Updated);
    EXPECT_EQ(t.live("fz-x", kTableNow + 4'600).size(), 1u);
    // A delegation past its end (and the skew) is not live, however fresh its record.
    EXPECT_EQ(t.upsert(peer.instance(k2, "x-2", kTableNow + 12'000, kTableNow + 10'000),
                       kTableNow + 12'000),
              InstanceTable::Upsert::Updated);
    for (const auto* i : t.live("fz-x", kTableNow + 12'000))
        EXPECT_NE(i->name(), "x-2");
    EXPECT_EQ(t.counters().marked_down, 1u);
}

TEST(InstanceTable, PlacementOverTheLiveSetAndRevocation) {
    Peer peer;
    InstanceTable t;
    std::vector<Identity> keys;
    std::vector<std::string> names{"x-1", "x-2", "x-3"};
    for (const auto& n : names) {
        keys.push_back(Identity::generate().value());
        t.upsert(peer.instance(keys.back(), n, kTableNow), kTableNow);
    }
    for (int i = 0; i < 20; ++i) {
        auto other = "fz-p" + std::to_string(i);
        const auto* placed = t.placed(other, "fz-x", kTableNow);
        ASSERT_NE(placed, nullptr);
        EXPECT_EQ(placed->name(), *instances::place_link(other, "fz-x", names));
    }
    t.revoke("fz-x", keys[1].public_key());
    EXPECT_EQ(t.find("fz-x", "x-2"), nullptr);
    EXPECT_EQ(t.counters().revoked, 1u);
    std::vector<std::string> rest{"x-1", "x-3"};
    for (int i = 0; i < 20; ++i) {
        auto other = "fz-p" + std::to_string(i);
        EXPECT_EQ(t.placed(other, "fz-x", kTableNow)->name(),
                  *instances::place_link(other, "fz-x", rest));
    }
}

TEST(InstanceTable, BoundedPerPeerAndInPeers) {
    Peer peer;
    InstanceTable::Limits lim;
    lim.per_peer = 2;
    lim.peers = 1;
    lim.ttl_ms = 1'000;
    InstanceTable t(lim);
    auto a = Identity::generate().value(), b = Identity::generate().value(),
         c = Identity::generate().value();
    EXPECT_EQ(t.upsert(peer.instance(a, "x-1", kTableNow), kTableNow), InstanceTable::Upsert::New);
    EXPECT_EQ(t.upsert(peer.instance(b, "x-2", kTableNow), kTableNow), InstanceTable::Upsert::New);
    EXPECT_EQ(t.upsert(peer.instance(c, "x-3", kTableNow), kTableNow), InstanceTable::Upsert::Full);
    // Room comes only from instances silent for three TTLs, never from live ones.
    EXPECT_EQ(t.upsert(peer.instance(c, "x-3", kTableNow + 2'000), kTableNow + 2'000),
              InstanceTable::Upsert::Full);
    EXPECT_EQ(t.upsert(peer.instance(c, "x-3", kTableNow + 3'500), kTableNow + 3'500),
              InstanceTable::Upsert::New);
    Peer other;
    other.id = "fz-y";
    EXPECT_EQ(t.upsert(other.instance(a, "y-1", kTableNow), kTableNow),
              InstanceTable::Upsert::Full);
    EXPECT_EQ(t.counters().refused_full, 3u);
}

// The one peer-record codec: what /beacon, the beacon's /peers and the replicated registry accept.
#include "mesh/identity/identity.hpp"
#include "mesh/peers/peer_record.hpp"

#include <gtest/gtest.h>

using namespace f0;

namespace {
nlohmann::json good() {
    static auto key = mesh::identity::Identity::generate().value().public_key_base64();
    return {{"id", "fz-cairo"},
            {"pubKey", key},
            {"region", "AF"},
            {"endpoints", {{"webrtc", "https://cairo.example:7002"}}},
            {"geo", {{"lat", 30.04}, {"lon", 31.24}}}};
}

std::string refusal(const nlohmann::json& j) {
    auto r = mesh::peer_record_from_json(j);
    auto* e = std::get_if<mesh::Error>(&r);
    return e ? e->detail : "";
}
} // namespace

TEST(PeerRecord, RoundTripsThroughJsonAndCanonicalText) {
    auto r = mesh::peer_record_from_json(good());
    ASSERT_TRUE(std::holds_alternative<store::PeerRecord>(r)) << refusal(good());
    const auto& p = std::get<store::PeerRecord>(r);
    EXPECT_EQ(p.id, "fz-cairo");
    EXPECT_EQ(p.endpoint, "https://cairo.example:7002");
    ASSERT_TRUE(p.lat && p.lon);
    EXPECT_EQ(mesh::peer_record_json(p), good());
    // The canonical text (the registry element) is RFC 8785: sorted keys, no spaces.
    auto text = mesh::peer_record_canonical(p);
    EXPECT_EQ(text.find(' '), std::string::npos);
    EXPECT_LT(text.find("\"endpoints\""), text.find("\"id\""));
    auto again = mesh::peer_record_from_json(nlohmann::json::parse(text));
    EXPECT_EQ(mesh::peer_record_canonical(std::get<store::PeerRecord>(again)), text);
}

TEST(PeerRecord, RefusesWhatDoesNotFit) {
    auto with = [](const char* k, nlohmann::json v) {
        auto j = good();
        j[k] = std::move(v);
        return j;
    };
    EXPECT_NE(refusal(nlohmann::json::array()), "");
    EXPECT_NE(refusal(with("id", "bad id!")), "");
    EXPECT_NE(refusal(with("id", 7)), "");
    EXPECT_NE(refusal(with("pubKey", "not-a-key")), "");
    EXPECT_NE(refusal(with("region", std::string(65, 'x'))), "");
    EXPECT_NE(refusal(with("region", 5)), "");
    EXPECT_NE(refusal(with("endpoints", {{"webrtc", "ftp://x"}})), "");
    EXPECT_NE(refusal(with("endpoints", {{"webrtc", std::string("http://").append(600, 'a')}})),
              "");
    EXPECT_NE(refusal(with("endpoints", nlohmann::json::object())), "");
    EXPECT_NE(refusal(with("geo", {{"lat", 91}, {"lon", 0}})), "");
    EXPECT_NE(refusal(with("geo", {{"lat", "x"}, {"lon", 0}})), "");
    // Endpoints are scheme, host and port: a path, query, user or junk host aims others elsewhere.
    for (const char* url :
         {"http://127.0.0.1:9/x", "https://a.example/offer", "http://a.example?x=1", "http://a#b",
          "http://user@a.example", "http://a.example:0", "http://a.example:65536", "http://a:x",
          "http://", "http://-a.example", "http://a..b", "http://a b", "http://[::1",
          "http://a:", "http://a.example//"})
        EXPECT_NE(refusal(with("endpoints", {{"webrtc", url}})), "") << url;
    for (const char* url : {"http://127.0.0.1:9", "https://a.example", "http://[::1]:7000",
                            "https://cairo.example:7002/", "http://n0.sim"})
        EXPECT_EQ(refusal(with("endpoints", {{"webrtc", url}})), "") << url;
    auto slash =
        mesh::peer_record_from_json(with("endpoints", {{"webrtc", "http://a.example:7/"}}));
    EXPECT_EQ(std::get<store::PeerRecord>(slash).endpoint, "http://a.example:7") << "one form";
    auto no_geo = good();
    no_geo.erase("geo");
    EXPECT_EQ(refusal(no_geo), "");
}

namespace {
mesh::Error signed_refusal(const nlohmann::json& j) {
    auto r = mesh::signed_record_from_json(j);
    auto* e = std::get_if<mesh::Error>(&r);
    return e ? *e : mesh::Error{mesh::Errc::Internal, "", {}};
}
} // namespace

TEST(SignedRecord, IsSignedByItsKeyAndCountersignedByItsRegistrar) {
    auto owner = mesh::identity::Identity::generate().value();
    auto registrar = mesh::identity::Identity::generate().value();
    auto j = good();
    j["pubKey"] = owner.public_key_base64();
    auto p = std::get<store::PeerRecord>(mesh::peer_record_from_json(j));
    auto r = mesh::sign_record(p, 1'700'000'000'000, owner);
    mesh::countersign(r, "fz-beacon", registrar, 1'700'000'000'500);
    auto text = mesh::signed_record_canonical(r);
    // What a receiver parses back is the same record, with both signatures verified.
    auto back = mesh::signed_record_from_json(nlohmann::json::parse(text));
    ASSERT_TRUE(std::holds_alternative<mesh::SignedRecord>(back))
        << signed_refusal(nlohmann::json::parse(text)).detail;
    const auto& b = std::get<mesh::SignedRecord>(back);
    EXPECT_EQ(b.ts, 1'700'000'000'000);
    ASSERT_TRUE(b.reg);
    EXPECT_EQ(b.reg->by, "fz-beacon");
    EXPECT_EQ(b.reg->key, registrar.public_key_base64());
    EXPECT_EQ(b.reg->at, 1'700'000'000'500);
    EXPECT_EQ(mesh::signed_record_canonical(b), text);

    // Any field changed breaks a signature: the owner's for the record's fields, the registrar's
    // for its own.
    auto signed_json = nlohmann::json::parse(text);
    for (auto [path, value] : std::vector<std::pair<std::string, nlohmann::json>>{
             {"/endpoints/webrtc", "https://evil.example:7002"},
             {"/region", "EU"},
             {"/ts", 1'800'000'000'000},
             {"/pubKey", registrar.public_key_base64()},
             {"/geo/lat", 1.5}}) {
        auto t = signed_json;
        t[nlohmann::json::json_pointer(path)] = value;
        EXPECT_EQ(signed_refusal(t).code, mesh::Errc::BadSignature) << path;
    }
    for (auto [path, value] : std::vector<std::pair<std::string, nlohmann::json>>{
             {"/reg/at", 1}, {"/reg/by", "fz-other"}, {"/reg/key", owner.public_key_base64()}}) {
        auto t = signed_json;
        t[nlohmann::json::json_pointer(path)] = value;
        EXPECT_EQ(signed_refusal(t).code, mesh::Errc::BadSignature) << path;
    }
    // A record another key signed for this id does not verify with the id's key it names.
    auto forged = mesh::sign_record(p, 1'700'000'000'000, registrar); // signed by the wrong key
    EXPECT_EQ(signed_refusal(mesh::signed_record_json(forged)).code, mesh::Errc::BadSignature);
    // Malformed signing fields are bad requests.
    auto t = signed_json;
    t.erase("sig");
    EXPECT_EQ(signed_refusal(t).code, mesh::Errc::BadRequest) << "ts without sig";
    t = signed_json;
    t["ts"] = -5;
    EXPECT_EQ(signed_refusal(t).code, mesh::Errc::BadRequest);
    t = signed_json;
    t["reg"] = {{"by", "x"}};
    EXPECT_EQ(signed_refusal(t).code, mesh::Errc::BadRequest);
    // Unsigned records still parse (registered locally only).
    auto plain = mesh::signed_record_from_json(good());
    ASSERT_TRUE(std::holds_alternative<mesh::SignedRecord>(plain));
    EXPECT_FALSE(std::get<mesh::SignedRecord>(plain).is_signed());
}

TEST(PeerRecord, APeerWithoutAnEndpointIsDialOnly) {
    auto j = good();
    j.erase("endpoints");
    auto r = mesh::peer_record_from_json(j);
    ASSERT_TRUE(std::holds_alternative<store::PeerRecord>(r)) << refusal(j);
    EXPECT_EQ(std::get<store::PeerRecord>(r).endpoint, "");
    // Its JSON has no endpoints either (one canonical form), and reads back the same.
    auto back = mesh::peer_record_json(std::get<store::PeerRecord>(r));
    EXPECT_FALSE(back.contains("endpoints"));
    EXPECT_EQ(refusal(back), "");
    auto extra = good();
    extra["endpoints"]["x"] = 1;
    EXPECT_NE(refusal(extra), "") << "endpoints has webrtc and nothing else";
}

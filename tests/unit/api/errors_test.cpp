// mesh error codes -> HTTP statuses and JSON codes, and /metrics label escaping.
#include "api/errors.hpp"
#include "api/metrics.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace f0;

TEST(ApiErrors, EveryCodeHasAStatusAndAStableName) {
    std::set<std::string> names;
    for (int i = 0; i <= static_cast<int>(mesh::Errc::Internal); ++i) {
        auto e = static_cast<mesh::Errc>(i);
        auto status = api::http_status(e);
        EXPECT_GE(status, 400) << i;
        EXPECT_LE(status, 599) << i;
        auto name = std::string(mesh::code_of(e));
        EXPECT_FALSE(name.empty()) << i;
        if (e != mesh::Errc::UnknownSender) { // reported to callers as unknown_peer, with 403
            EXPECT_TRUE(names.insert(name).second) << "duplicate code " << name;
        }
    }
    EXPECT_EQ(api::http_status(mesh::Errc::Glare), 409);
    EXPECT_EQ(api::http_status(mesh::Errc::BadSignature), 401);
    EXPECT_EQ(api::http_status(mesh::Errc::NotAllowlisted), 403);
    EXPECT_EQ(api::http_status(mesh::Errc::UnknownSender), 403);
    EXPECT_EQ(api::http_status(mesh::Errc::UnknownPeer), 404);
    EXPECT_EQ(api::http_status(mesh::Errc::DialFailed), 502);
}

TEST(ApiErrors, OutcomesBecomeJsonResponses) {
    auto r = api::outcome_response(mesh::Error{mesh::Errc::Glare, "the lower id wins", {}});
    EXPECT_EQ(r.status, 409);
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["error"], "glare");
    EXPECT_EQ(j["detail"], "the lower id wins");
    auto ok = api::outcome_response(nlohmann::json{{"a", 1}}, 201);
    EXPECT_EQ(ok.status, 201);
    EXPECT_EQ(nlohmann::json::parse(ok.body)["a"], 1);
}

TEST(Metrics, LabelValuesAreEscaped) {
    EXPECT_EQ(api::label_value("plain"), "plain");
    EXPECT_EQ(api::label_value("a\"b"), "a\\\"b");
    EXPECT_EQ(api::label_value("a\\b"), "a\\\\b");
    EXPECT_EQ(api::label_value("x\"} 1\nf0_fake 2"), "x\\\"} 1\\nf0_fake 2");
}

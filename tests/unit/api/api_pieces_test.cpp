// Small API pieces: router matching and errors, rate limiter, worker config validation.
#include "api/rate_limiter.hpp"
#include "api/router.hpp"
#include "mesh/worker_config.hpp"

#include <gtest/gtest.h>

using namespace f0;

TEST(Router, MatchesParamsAndGivesJsonErrors) {
    api::Router r;
    std::string seen;
    r.add("DELETE", "/links/{peer}", [&](api::Request& req, api::Respond respond) {
        seen = req.params["peer"];
        respond({200, "application/json", "{}"});
    });
    api::Response last;
    auto keep = [&](api::Response x) { last = x; };
    api::Request del{"DELETE", "/links/fz-cairo"};
    r.dispatch(del, keep);
    EXPECT_EQ(seen, "fz-cairo");
    EXPECT_EQ(last.status, 200);
    api::Request get{"GET", "/links/fz-cairo"};
    r.dispatch(get, keep);
    EXPECT_EQ(last.status, 405);
    EXPECT_NE(last.body.find("\"error\":\"method_not_allowed\""), std::string::npos);
    api::Request none{"GET", "/nope"};
    r.dispatch(none, keep);
    EXPECT_EQ(last.status, 404);
    EXPECT_NE(last.body.find("\"error\":\"not_found\""), std::string::npos);
}

TEST(RateLimiter, AllowsBurstThenRate) {
    api::RateLimiter lim(10, 5);
    auto t = api::RateLimiter::Clock::now();
    int ok = 0;
    for (int i = 0; i < 20; ++i)
        ok += lim.allow("1.2.3.4", t);
    EXPECT_EQ(ok, 5);
    EXPECT_EQ(lim.refused(), 15u) << "each refusal counted";
    EXPECT_TRUE(lim.allow("5.6.7.8", t)) << "buckets are per source";
    EXPECT_TRUE(lim.allow("1.2.3.4", t + std::chrono::milliseconds(150)));
    EXPECT_FALSE(lim.allow("1.2.3.4", t + std::chrono::milliseconds(150)));
}

TEST(WorkerConfig, DefaultsNeedOnlyAnIdAndProblemsAreNamed) {
    mesh::WorkerConfig c;
    auto p = c.validate();
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("--id"), std::string::npos);
    c.id = "fz-kuwait";
    EXPECT_TRUE(c.validate().empty());
    c.tls_cert = "x.pem";
    c.client_ca = "ca.pem";
    c.listen = "nope";
    c.lat = 100;
    EXPECT_EQ(c.validate().size(), 4u);
    EXPECT_EQ(mesh::WorkerConfig{.id = "a"}.advertised_url(), "http://127.0.0.1:7000");
}

// Small API pieces: router matching and errors, rate limiter, event hub, worker config validation.
#include "api/build_budget.hpp"
#include "api/event_hub.hpp"
#include "api/operator_auth.hpp"
#include "api/rate_limiter.hpp"
#include "api/router.hpp"
#include "mesh/worker_config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

using namespace f0;

TEST(Router, MatchesParamsAndGivesJsonErrors) {
    api::Router r;
    std::string seen;
    r.add(
        "DELETE", "/links/{peer}",
        [&](api::Request& req, api::Respond respond) {
            seen = req.params["peer"];
            respond({200, "application/json", "{}"});
        },
        api::Router::Access::Peer);
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

TEST(Router, OperatorRoutesNeedTheCredentialAndFailClosedWithoutACheck) {
    api::Router r;
    int ran = 0;
    auto ok = [&](api::Request&, api::Respond respond) {
        ++ran;
        respond({200, "application/json", "{}"});
    };
    r.add("POST", "/dial", ok); // operator, by default
    r.add("POST", "/offer", ok, api::Router::Access::Peer);
    api::Response last;
    auto keep = [&](api::Response x) { last = x; };
    auto send = [&](std::string path, std::string auth, std::string query = "") {
        api::Request req{"POST", std::move(path), std::move(query)};
        req.authorization = std::move(auth);
        r.dispatch(req, keep);
        return last.status;
    };
    // No check set: every operator request is refused.
    EXPECT_EQ(send("/dial", "Bearer anything"), 403);
    EXPECT_EQ(send("/dial", ""), 401);
    EXPECT_NE(last.body.find("operator_credential_required"), std::string::npos);
    EXPECT_EQ(send("/offer", ""), 200) << "a peer route needs nothing";
    EXPECT_EQ(ran, 1);
    api::OperatorAuth auth("s3cret-token-0123456789");
    r.set_operator_check([&](const api::Request& req) { return auth.allows(req); });
    EXPECT_EQ(send("/dial", "Bearer s3cret-token-0123456789"), 200);
    EXPECT_EQ(send("/dial", "Bearer s3cret-token-012345678"), 403) << "a prefix is not the token";
    EXPECT_NE(last.body.find("bad_operator_credential"), std::string::npos);
    EXPECT_EQ(send("/dial", "Basic s3cret-token-0123456789"), 403);
    EXPECT_EQ(send("/dial", "", "a=1&token=s3cret-token-0123456789"), 200);
    EXPECT_EQ(send("/dial", "", "token=wrong"), 403);
    EXPECT_EQ(ran, 3);
    EXPECT_FALSE(api::OperatorAuth("").allows(api::Request{"GET", "/", "token="}))
        << "an empty token opens nothing";
}

TEST(Router, PeerRoutesAnswerAllowedOriginsAndTheirPreflights) {
    api::Router r;
    auto ok = [&](api::Request&, api::Respond respond) {
        respond({200, "application/json", "{}", {}});
    };
    r.add("POST", "/offer", ok, api::Router::Access::Peer);
    r.add("GET", "/self", ok, api::Router::Access::Peer);
    r.add("POST", "/dial", ok); // operator
    r.set_operator_check([](const api::Request&) { return true; });
    api::Response last;
    auto keep = [&](api::Response x) { last = x; };
    auto send = [&](std::string method, std::string path, std::string origin) {
        api::Request req{std::move(method), std::move(path)};
        req.origin = std::move(origin);
        r.dispatch(req, keep);
        return last;
    };
    auto header = [](const api::Response& res, const std::string& name) -> std::string {
        for (const auto& [n, v] : res.headers)
            if (n == name)
                return v;
        return "";
    };
    // No origins configured: no CORS at all.
    EXPECT_EQ(send("OPTIONS", "/offer", "https://app.example").status, 403);
    EXPECT_NE(last.body.find("origin_not_allowed"), std::string::npos);
    EXPECT_EQ(header(send("POST", "/offer", "https://app.example"), "Access-Control-Allow-Origin"),
              "");
    r.set_cors_origins({"https://app.example"});
    auto pre = send("OPTIONS", "/offer", "https://app.example");
    EXPECT_EQ(pre.status, 204);
    EXPECT_EQ(header(pre, "Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_EQ(header(pre, "Access-Control-Allow-Methods"), "POST, OPTIONS");
    EXPECT_EQ(header(pre, "Access-Control-Allow-Headers"), "Content-Type");
    auto post = send("POST", "/offer", "https://app.example");
    EXPECT_EQ(post.status, 200);
    EXPECT_EQ(header(post, "Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_EQ(send("OPTIONS", "/offer", "https://evil.example").status, 403);
    EXPECT_EQ(header(send("GET", "/self", "https://evil.example"), "Access-Control-Allow-Origin"),
              "");
    // Operator routes never answer other origins: no preflight, no header.
    EXPECT_EQ(send("OPTIONS", "/dial", "https://app.example").status, 404);
    EXPECT_EQ(header(send("POST", "/dial", "https://app.example"), "Access-Control-Allow-Origin"),
              "");
    r.set_cors_origins({"*"});
    EXPECT_EQ(header(send("GET", "/self", "https://any.example"), "Access-Control-Allow-Origin"),
              "https://any.example");
}

TEST(Router, ALargerBodyLimitIsGrantedToTheOperatorOnItsRouteAlone) {
    api::Router r;
    auto ok = [&](api::Request&, api::Respond respond) {
        respond({200, "application/json", "{}", {}});
    };
    r.add("POST", "/links/{peer}/control", ok);
    r.add("POST", "/offer", ok, api::Router::Access::Peer);
    r.set_body_limit("POST", "/links/{peer}/control", 1 << 20);
    r.set_operator_check([](const api::Request& q) { return q.authorization == "Bearer good"; });
    auto limit = [&](std::string method, std::string path, std::string auth) {
        api::Request head{std::move(method), std::move(path)};
        head.authorization = std::move(auth);
        return r.body_limit_for(head, 65536);
    };
    EXPECT_EQ(limit("POST", "/links/fz-a/control", "Bearer good"), 1u << 20);
    EXPECT_EQ(limit("POST", "/links/fz-a/control", "Bearer bad"), 65536u);
    EXPECT_EQ(limit("POST", "/links/fz-a/control", ""), 65536u);
    EXPECT_EQ(limit("GET", "/links/fz-a/control", "Bearer good"), 65536u);
    EXPECT_EQ(limit("POST", "/offer", "Bearer good"), 65536u);
    EXPECT_EQ(limit("POST", "/links/fz-a/control/x", "Bearer good"), 65536u);
}

TEST(OperatorAuth, TheTokenFileIsCreatedOnceForTheOperatorAlone) {
    auto dir = std::filesystem::temp_directory_path() / ("f0-optok-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto a = api::OperatorAuth::load_or_create(dir / "operator.token");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_GE(a.value().size(), 40u);
    EXPECT_EQ(std::filesystem::status(dir / "operator.token").permissions() &
                  std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto b = api::OperatorAuth::load_or_create(dir / "operator.token");
    ASSERT_TRUE(b);
    EXPECT_EQ(a.value(), b.value()) << "the same token on the next start";
    std::filesystem::permissions(dir / "operator.token", std::filesystem::perms::others_read,
                                 std::filesystem::perm_options::add);
    EXPECT_FALSE(api::OperatorAuth::load_or_create(dir / "operator.token"))
        << "a token others may read is refused";
    std::filesystem::remove_all(dir);
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

namespace {
struct RecordingStream : api::EventStream {
    std::vector<std::string> got; // the frames, as written
    bool closed = false;
    bool open() const override { return !closed; }
    using api::EventStream::send;
    void send(api::SseFrame f) override { got.push_back(*f); }
    void close() override { closed = true; }
};
} // namespace

TEST(EventHub, KeepsTheLastEventsToBringAnOlderSnapshotUpToDate) {
    api::EventHub hub(2, 3);
    auto mark = hub.published();
    ASSERT_TRUE(hub.since(mark));
    EXPECT_TRUE(hub.since(mark)->empty());
    for (int i = 0; i < 2; ++i)
        hub.publish({{"type", "peer"}, {"data", i}});
    auto two = hub.since(mark);
    ASSERT_TRUE(two);
    ASSERT_EQ(two->size(), 2u);
    EXPECT_EQ(*(*two)[0], "event: peer\ndata: {\"data\":0,\"type\":\"peer\"}\n\n");
    EXPECT_EQ(*(*two)[1], "event: peer\ndata: {\"data\":1,\"type\":\"peer\"}\n\n");
    hub.publish({{"type", "link"}, {"data", 2}});
    ASSERT_EQ(hub.since(mark)->size(), 3u);
    hub.publish({{"type", "link"}, {"data", 3}});
    EXPECT_FALSE(hub.since(mark)) << "the first event is no longer kept: a new snapshot is due";
    auto last = hub.since(hub.published() - 1);
    ASSERT_TRUE(last);
    ASSERT_EQ(last->size(), 1u);
    EXPECT_EQ(*(*last)[0], "event: link\ndata: {\"data\":3,\"type\":\"link\"}\n\n");
    EXPECT_FALSE(hub.since(hub.published() + 1)) << "a mark from the future is not trusted";
}

TEST(EventHub, StreamsAreCappedAndTheOneRefusedIsToldWhy) {
    api::EventHub hub(2);
    auto a = std::make_shared<RecordingStream>(), b = std::make_shared<RecordingStream>(),
         c = std::make_shared<RecordingStream>();
    EXPECT_TRUE(hub.add(a));
    EXPECT_TRUE(hub.add(b));
    EXPECT_FALSE(hub.add(c));
    ASSERT_EQ(c->got.size(), 1u);
    EXPECT_NE(c->got[0].find("too_many_streams"), std::string::npos);
    EXPECT_TRUE(c->closed);
    EXPECT_EQ(hub.refused(), 1u);
    a->closed = true; // its reader went away: the slot is free again
    auto d = std::make_shared<RecordingStream>();
    EXPECT_TRUE(hub.add(d));
    hub.publish({{"type", "peer"}});
    EXPECT_EQ(b->got, std::vector<std::string>{"event: peer\ndata: {\"type\":\"peer\"}\n\n"});
    EXPECT_EQ(d->got, b->got);
    EXPECT_TRUE(a->got.empty());
    EXPECT_EQ(c->got.size(), 1u) << "the refused stream gets nothing more";
}

TEST(BuildBudget, BuildsWithinTheBudgetThenServesTheLastFirstPageThenRefuses) {
    using namespace std::chrono_literals;
    api::BuildBudget b(100, 200, 10s); // 100 ms a second, 200 ms at once, pages up to 10 s old
    auto t = api::BuildBudget::Clock::time_point{} + 1h;
    const std::string first = "5000/", later = "5000/fz-b";
    ASSERT_TRUE(b.may_build(t));
    b.built(150, t, &first, {"[1]", "fz-a", {}});
    ASSERT_TRUE(b.may_build(t)); // 50 ms left
    b.built(80, t);              // a later page, not kept: 30 ms owed
    EXPECT_FALSE(b.may_build(t));
    EXPECT_NEAR(b.wait_ms(), 300, 1); // 30 ms at 100 ms/s
    auto kept = b.instead(first, t + 100ms);
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->body, "[1]");
    EXPECT_EQ(kept->next_after, "fz-a");
    EXPECT_EQ(kept->built, t);
    EXPECT_FALSE(b.instead(later, t + 100ms)); // later pages are never kept: busy
    EXPECT_FALSE(b.may_build(t + 200ms));
    EXPECT_TRUE(b.may_build(t + 400ms)); // paid back
    b.built(500, t + 400ms);             // a slow build: the budget is owed for ~5 s
    EXPECT_FALSE(b.may_build(t + 5s));
    EXPECT_FALSE(b.instead(first, t + 11s)); // too old to serve instead
    EXPECT_TRUE(b.may_build(t + 6s));
    EXPECT_EQ(b.counters().built, 3u);
    EXPECT_EQ(b.counters().cached, 1u);
    EXPECT_EQ(b.counters().busy, 2u);
    // At most kMaxKeys first pages are kept; the one built longest ago makes room.
    for (std::size_t i = 0; i <= api::BuildBudget::kMaxKeys; ++i) {
        auto key = std::to_string(i + 1) + "/";
        b.built(0, t + 7s + std::chrono::milliseconds(i), &key, {key, "", {}});
    }
    EXPECT_FALSE(b.instead("1/", t + 8s));
    EXPECT_TRUE(b.instead("2/", t + 8s));
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

// The Clock seam on virtual time: timers fire in order, cancel, re-arm; posts run next.
#include "mesh/core/clock.hpp"

#include <gtest/gtest.h>

using namespace f0;

TEST(SimClock, TimersFireAtTheirTimeAndCancel) {
    sim::Scheduler s;
    mesh::SimClock c(s, 1, 1'000'000);
    std::vector<std::pair<int, std::int64_t>> fired;
    auto a = c.after(std::chrono::milliseconds(30), [&] { fired.push_back({1, c.unix_ms()}); });
    auto b = c.after(std::chrono::milliseconds(10), [&] { fired.push_back({2, c.unix_ms()}); });
    auto x = c.after(std::chrono::milliseconds(20), [&] { fired.push_back({3, c.unix_ms()}); });
    x.cancel();
    EXPECT_FALSE(x.armed());
    {
        auto gone = c.after(std::chrono::milliseconds(5), [&] { fired.push_back({4, 0}); });
    } // destroyed: cancelled
    c.post([&] { fired.push_back({5, c.unix_ms()}); });
    EXPECT_TRUE(a.armed());
    s.run_until(100'000);
    ASSERT_EQ(fired.size(), 3u);
    EXPECT_EQ(fired[0], (std::pair<int, std::int64_t>{5, 1'000'000}));
    EXPECT_EQ(fired[1], (std::pair<int, std::int64_t>{2, 1'000'010}));
    EXPECT_EQ(fired[2], (std::pair<int, std::int64_t>{1, 1'000'030}));
    EXPECT_FALSE(a.armed()) << "a fired timer is no longer armed";
}

TEST(SimClock, ReArmingReplacesThePendingTimer) {
    sim::Scheduler s;
    mesh::SimClock c(s, 1);
    int n = 0;
    mesh::Timer t = c.after(std::chrono::milliseconds(10), [&] { n += 1; });
    t = c.after(std::chrono::milliseconds(20), [&] { n += 10; });
    s.run_until(50'000);
    EXPECT_EQ(n, 10);
}

TEST(SimClock, SameSeedSameDraws) {
    sim::Scheduler s;
    mesh::SimClock a(s, 42), b(s, 42), c(s, 43);
    auto da = a.uniform(0, 1'000'000), db = b.uniform(0, 1'000'000), dc = c.uniform(0, 1'000'000);
    EXPECT_EQ(da, db);
    EXPECT_NE(da, dc);
}

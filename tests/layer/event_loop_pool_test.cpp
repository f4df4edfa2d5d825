// The rtc loop pool: connections spread over loops, a new loop when each holds 64, a loop's place
// given back when its connections go (rtc/event_loop.hpp, EventLoop::shared).
#include "rtc/event_loop.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

using f0::rtc::EventLoop;

TEST(EventLoopPool, ConnectionsSpreadSoThatNoLoopHoldsMoreThanSixtyFour) {
    if (std::getenv("F0_RTC_THREADS"))
        GTEST_SKIP() << "a fixed pool was asked for";
    std::vector<std::shared_ptr<EventLoop>> leases;
    for (int i = 0; i < 300; ++i)
        leases.push_back(EventLoop::shared());
    std::map<EventLoop*, int> per_loop;
    for (const auto& l : leases)
        ++per_loop[l.get()];
    EXPECT_GE(per_loop.size(), 5u) << "300 connections need at least 5 loops of 64";
    for (const auto& [loop, n] : per_loop)
        EXPECT_LE(n, 64);
    // Each loop runs: a task posted to every one comes back.
    for (const auto& [loop, n] : per_loop) {
        bool ran = false;
        loop->run_sync([&] { ran = true; });
        EXPECT_TRUE(ran);
    }
    // Released leases give their places back: 100 kept and 64 more fit in the loops there were.
    auto loops_before = per_loop.size();
    leases.resize(100);
    for (int i = 0; i < 64; ++i)
        leases.push_back(EventLoop::shared());
    std::map<EventLoop*, int> again;
    for (const auto& l : leases)
        ++again[l.get()];
    EXPECT_LE(again.size(), loops_before) << "no more loops than 300 connections needed";
    for (const auto& [loop, n] : again)
        EXPECT_LE(n, 64);
}

// A loop destroyed right after it was made must stop: its quit came before the thread had entered
// g_main_loop_run, which GLib then ignored, and the destructor's join waited for ever (seen as a
// 400 s timeout of the test above under make test beside a full build). Threads are slow to start
// on a loaded machine; here many loops are made and dropped at once, bounded by ctest's timeout.
TEST(EventLoopPool, ALoopDroppedAsSoonAsItIsMadeStops) {
    for (int i = 0; i < 300; ++i)
        EventLoop loop;
    SUCCEED();
}

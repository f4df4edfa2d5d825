// log::Sampled: a line another party can cause is written the first ten times, then every
// 1,000th time, with the running count.
#include "util/log.hpp"

#include <gtest/gtest.h>

#include <vector>

TEST(LogSampled, FirstTenThenEveryThousandth) {
    f0::log::Sampled s;
    std::vector<std::uint64_t> logged;
    for (int i = 0; i < 3500; ++i)
        if (auto n = s.next())
            logged.push_back(*n);
    EXPECT_EQ(logged,
              (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000, 2000, 3000}));
}

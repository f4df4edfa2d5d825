// parse_untrusted: JSON from outside is refused when nested deeper than the bound, before any
// tree is built; brackets inside strings do not count.
#include "util/json_in.hpp"

#include <gtest/gtest.h>

#include <string>

TEST(JsonIn, DepthIsCountedOutsideStringsOnly) {
    EXPECT_TRUE(f0::json_depth_within(R"({"a":[1,{"b":[]}]})", 4));
    EXPECT_FALSE(f0::json_depth_within(R"({"a":[1,{"b":[]}]})", 3));
    EXPECT_TRUE(f0::json_depth_within(R"({"s":"[[[[[[\"[[[["})", 1));
    EXPECT_TRUE(f0::json_depth_within(R"([[]],[[]],[[]])", 2)) << "siblings do not add up";
}

TEST(JsonIn, TooDeepIsDiscardedLikeBadJson) {
    std::string deep(200000, '[');
    EXPECT_TRUE(f0::parse_untrusted(deep).is_discarded());
    std::string ok = std::string(64, '[') + std::string(64, ']');
    auto j = f0::parse_untrusted(ok);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_TRUE(j.is_array());
    EXPECT_TRUE(f0::parse_untrusted(std::string(65, '[') + std::string(65, ']')).is_discarded());
    EXPECT_TRUE(f0::parse_untrusted("{nope").is_discarded());
    EXPECT_EQ(f0::parse_untrusted(R"({"a":1})")["a"], 1);
}

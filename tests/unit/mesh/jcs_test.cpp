// RFC 8785: key order by UTF-16 code units, minimal string escaping, ECMAScript numbers.
#include "mesh/identity/jcs.hpp"

#include <gtest/gtest.h>

using f0::mesh::identity::canonical_json;
using nlohmann::json;

TEST(Jcs, SortsKeysAndDropsWhitespace) {
    auto j = json::parse(R"({ "b": 1, "a": [ true, null, "x" ], "c": {"z": 0, "y": -5} })");
    EXPECT_EQ(canonical_json(j), R"({"a":[true,null,"x"],"b":1,"c":{"y":-5,"z":0}})");
}

TEST(Jcs, OrdersKeysByUtf16CodeUnits) {
    // UTF-8 byte order would put U+FB33 (EF AC B3) before U+1F600 (F0 9F 98 80); UTF-16 order
    // puts the emoji's surrogate 0xD83D before 0xFB33 (RFC 8785 section 3.2.3).
    json j;
    j["\xef\xac\xb3"] = 1;     // U+FB33
    j["\xf0\x9f\x98\x80"] = 2; // U+1F600 (UTF-16 D83D DE00)
    j["\r"] = 3;
    j["1"] = 4;
    EXPECT_EQ(canonical_json(j), "{\"\\r\":3,\"1\":4,\"\xf0\x9f\x98\x80\":2,\"\xef\xac\xb3\":1}");
}

TEST(Jcs, EscapesOnlyWhatItMust) {
    json j = std::string("a\"b\\c\n\x01/\xc3\xa9");
    EXPECT_EQ(canonical_json(j), "\"a\\\"b\\\\c\\n\\u0001/\xc3\xa9\"");
}

TEST(Jcs, WritesNumbersLikeEcmaScript) {
    const std::pair<double, const char*> cases[] = {{0.0, "0"},
                                                    {1.0, "1"},
                                                    {-1.5, "-1.5"},
                                                    {1e21, "1e+21"},
                                                    {1e20, "100000000000000000000"},
                                                    {0.000001, "0.000001"},
                                                    {1e-7, "1e-7"},
                                                    {123.456, "123.456"},
                                                    {4.5e-300, "4.5e-300"}};
    for (auto [v, want] : cases)
        EXPECT_EQ(canonical_json(json(v)), want) << v;
    EXPECT_EQ(canonical_json(json(1760270000000LL)), "1760270000000");
}

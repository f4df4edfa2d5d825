// Base64: RFC 4648 test vectors and strict rejection of bad input.
#include "util/base64.hpp"

#include <gtest/gtest.h>

using f0::base64_decode;
using f0::base64_encode;

TEST(Base64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> cases[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
    for (auto [raw, enc] : cases) {
        std::string r(raw);
        std::vector<std::uint8_t> bytes(r.begin(), r.end());
        EXPECT_EQ(base64_encode(bytes), enc);
        auto d = base64_decode(enc);
        ASSERT_TRUE(d);
        EXPECT_EQ(d.value(), bytes);
    }
}

TEST(Base64, RejectsBadInput) {
    for (const char* bad : {"Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "Zm=v", "====="}) {
        auto d = base64_decode(bad);
        EXPECT_FALSE(d) << bad;
    }
}

#include "util/utf8.hpp"

TEST(Utf8, AcceptsValidAndRefusesInvalid) {
    using f0::valid_utf8;
    EXPECT_TRUE(valid_utf8(""));
    EXPECT_TRUE(valid_utf8("hello"));
    EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(valid_utf8(std::string("\xff\xfe\x00\xff", 4)));
    EXPECT_FALSE(valid_utf8("\xc3"));             // truncated
    EXPECT_FALSE(valid_utf8("\xc0\xaf"));         // overlong '/'
    EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));     // a surrogate
    EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
    EXPECT_FALSE(valid_utf8("\xe2\x82"));         // truncated at the end
}

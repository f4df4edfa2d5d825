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

// Candidate lines: the variants browsers and aiortc emit, and the errors for broken ones.
#include "rtc/sdp/candidate.hpp"

#include <gtest/gtest.h>

using f0::rtc::sdp::Candidate;

TEST(Candidate, ParsesChromiumHostCandidate) {
    auto c = Candidate::parse(
        "candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 network-id 1");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c.value().foundation, "1467250027");
    EXPECT_EQ(c.value().priority, 2122260223u);
    EXPECT_EQ(c.value().address, "127.0.0.1");
    EXPECT_EQ(c.value().port, 46243);
    EXPECT_EQ(c.value().type, "host");
    ASSERT_EQ(c.value().extensions.size(), 2u);
    EXPECT_EQ(
        c.value().to_string(),
        "candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 network-id 1");
}

TEST(Candidate, ParsesRelayWithRelatedAddressAndPrefix) {
    auto c = Candidate::parse(
        "a=candidate:3 1 UDP 41885439 10.0.0.1 3478 typ relay raddr 1.2.3.4 rport 5\r");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c.value().transport, "udp");
    EXPECT_EQ(c.value().type, "relay");
    EXPECT_EQ(c.value().related_address, "1.2.3.4");
    EXPECT_EQ(c.value().related_port, 5);
}

TEST(Candidate, RecognisesMdnsNames) {
    auto c = Candidate::parse("candidate:1 1 udp 1 6f1c2a7e-1b2c-4d5e.local 5000 typ host");
    ASSERT_TRUE(c);
    EXPECT_TRUE(c.value().is_mdns());
}

TEST(Candidate, RejectsBrokenLines) {
    const char* bad[] = {
        "",
        "candidate:",
        "candidate:1 1 udp 1 1.2.3.4 5 host",         // too few fields
        "candidate:1 0 udp 1 1.2.3.4 5 typ host",     // component 0
        "candidate:1 1 sctp 1 1.2.3.4 5 typ host",    // transport
        "candidate:1 1 udp 1 1.2.3.4 70000 typ host", // port
        "candidate:1 1 udp 1 1.2.3.4 5 type host",    // 'typ'
        "candidate:1 1 udp 1 1.2.3.4 5 typ magic",    // type
        "candidate:1 1 udp 1 1.2.3.4 5 typ host rport x",
        "candidate:1 1 udp 1 1.2.3.4 5 typ host generation", // dangling
        "ice-candidate:1 1 udp 1 1.2.3.4 5 typ host",
    };
    for (const char* line : bad) {
        auto c = Candidate::parse(line);
        ASSERT_FALSE(c) << "accepted: " << line;
        EXPECT_FALSE(c.error().message.empty());
    }
}

// DCEP (RFC 8832): every channel type round-trips; broken messages give errors, never UB.
#include "rtc/datachannel/dcep.hpp"

#include <gtest/gtest.h>

using namespace f0::rtc::datachannel;

TEST(Dcep, OpenRoundTripsForEveryChannelType) {
    for (auto type : {ChannelType::Reliable, ChannelType::PartialReliableRexmit,
                      ChannelType::PartialReliableTimed, ChannelType::ReliableUnordered,
                      ChannelType::PartialReliableRexmitUnordered,
                      ChannelType::PartialReliableTimedUnordered}) {
        OpenMessage m{type, 512, 0x01020304, "label-ü", "proto"};
        auto bytes = encode(m);
        EXPECT_EQ(bytes.size(), 12 + m.label.size() + m.protocol.size());
        auto parsed = parse_dcep(bytes);
        ASSERT_TRUE(parsed) << parsed.error().message;
        ASSERT_TRUE(std::holds_alternative<OpenMessage>(parsed.value()));
        EXPECT_EQ(std::get<OpenMessage>(parsed.value()), m);
    }
}

TEST(Dcep, MatchesTheRfcLayout) {
    auto b = encode(OpenMessage{ChannelType::PartialReliableRexmitUnordered, 256, 3, "ab", "c"});
    std::vector<std::uint8_t> want{0x03, 0x81, 0x01, 0x00, 0, 0, 0, 3, 0, 2, 0, 1, 'a', 'b', 'c'};
    EXPECT_EQ(b, want);
    EXPECT_EQ(encode(AckMessage{}), std::vector<std::uint8_t>{0x02});
}

TEST(Dcep, AckWithTrailingBytesIsAnAck) {
    std::vector<std::uint8_t> b{0x02, 0xff};
    auto p = parse_dcep(b);
    ASSERT_TRUE(p);
    EXPECT_TRUE(std::holds_alternative<AckMessage>(p.value()));
}

TEST(Dcep, RejectsBrokenMessages) {
    struct Case {
        std::vector<std::uint8_t> bytes;
        const char* expect;
    };
    std::vector<Case> cases{
        {{}, "empty"},
        {{0x07}, "unknown DCEP message type 7"},
        {{0x03, 0x00, 0, 0}, "shorter than its 12-byte header"},
        {{0x03, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "unknown channel type"},
        {{0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 'a'}, "run past"},
        {{0x03, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, "run past"},
    };
    for (const auto& c : cases) {
        auto p = parse_dcep(c.bytes);
        ASSERT_FALSE(p);
        EXPECT_NE(p.error().message.find(c.expect), std::string::npos) << p.error().message;
    }
}

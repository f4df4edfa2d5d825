// Datagram records beside SCTP: a real SCTP packet is never taken for one, a datagram round-trips,
// and anything that starts like a datagram without being one is called malformed.
#include "rtc/datagram/datagram_codec.hpp"

#include <gtest/gtest.h>

using namespace f0::rtc::datagram;

TEST(DatagramCodec, FramesAndClassifiesItsOwnRecords) {
    std::vector<std::uint8_t> payload{1, 2, 3};
    auto record = frame(payload);
    ASSERT_EQ(record.size(), kHeaderSize + 3);
    EXPECT_EQ(classify(record), Kind::Datagram);
    auto back = f0::rtc::datagram::payload(record);
    EXPECT_EQ(std::vector<std::uint8_t>(back.begin(), back.end()), payload);
    std::vector<std::uint8_t> largest(kMaxPayload, 9);
    EXPECT_EQ(classify(frame(largest)), Kind::Datagram);
}

TEST(DatagramCodec, RefusesToFrameWhatDoesNotFit) {
    EXPECT_TRUE(frame({}).empty());
    std::vector<std::uint8_t> big(kMaxPayload + 1, 9);
    EXPECT_TRUE(frame(big).empty());
}

TEST(DatagramCodec, SctpPacketsPassThrough) {
    // An SCTP common header: ports 5000 -> 5000, a verification tag, a checksum, then a chunk.
    std::vector<std::uint8_t> sctp{0x13, 0x88, 0x13, 0x88, 0xde, 0xad, 0xbe, 0xef,
                                   0,    0,    0,    0,    1,    0,    0,    4};
    EXPECT_EQ(classify(sctp), Kind::Sctp);
    // Only the first four bytes decide: one non-zero port byte is enough to be SCTP's.
    for (std::size_t i = 0; i < 4; ++i) {
        auto r = frame(std::vector<std::uint8_t>{1});
        r[i] = 1;
        EXPECT_EQ(classify(r), Kind::Sctp) << "byte " << i;
    }
    EXPECT_EQ(classify({}), Kind::Sctp) << "too short to be ours: SCTP's to refuse";
}

TEST(DatagramCodec, ZeroPortsWithoutTheMagicAreMalformed) {
    auto good = frame(std::vector<std::uint8_t>{1});
    for (std::size_t i = 4; i < kHeaderSize; ++i) {
        auto r = good;
        r[i] ^= 0xff;
        EXPECT_EQ(classify(r), Kind::Malformed) << "byte " << i;
    }
    std::vector<std::uint8_t> header_only(good.begin(), good.begin() + kHeaderSize);
    EXPECT_EQ(classify(header_only), Kind::Malformed) << "empty payload";
    std::vector<std::uint8_t> oversize(kHeaderSize + kMaxPayload + 1, 0);
    std::copy(good.begin(), good.begin() + kHeaderSize, oversize.begin());
    EXPECT_EQ(classify(oversize), Kind::Malformed) << "over kMaxPayload";
    EXPECT_EQ(classify(std::vector<std::uint8_t>{0, 0, 0, 0}), Kind::Malformed);
}

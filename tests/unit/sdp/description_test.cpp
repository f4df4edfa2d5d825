// SDP: real Chromium and aiortc descriptions (captured by the interop tests) parse and round-trip;
// malformed input is rejected with an error naming the line.
#include "rtc/sdp/description.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace f0::rtc::sdp;

namespace {
std::string read_capture(const std::string& name) {
    std::ifstream in(std::string(F0_CAPTURE_DIR) + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Capture {
    const char* file;
    Type type;
    Setup setup;
    std::uint64_t max_message_size;
};
} // namespace

class CapturedSdp : public ::testing::TestWithParam<Capture> {};

TEST_P(CapturedSdp, ParsesAndRoundTrips) {
    const auto& c = GetParam();
    auto text = read_capture(c.file);
    ASSERT_FALSE(text.empty()) << "missing capture " << c.file;
    auto d = Description::parse(text, c.type);
    ASSERT_TRUE(d) << d.error().message;
    const auto& v = d.value();
    EXPECT_FALSE(v.ice_ufrag.empty());
    EXPECT_GE(v.ice_pwd.size(), 22u);
    ASSERT_FALSE(v.fingerprints.empty());
    EXPECT_EQ(v.fingerprints[0].algorithm, "sha-256");
    EXPECT_EQ(v.fingerprints[0].value.size(), 32u * 3 - 1);
    EXPECT_EQ(v.setup, c.setup);
    EXPECT_EQ(v.sctp_port, 5000);
    EXPECT_EQ(v.max_message_size, c.max_message_size);
    ASSERT_FALSE(v.candidates.empty());
    bool loopback = false;
    for (const auto& cand : v.candidates)
        loopback = loopback || cand.address == "127.0.0.1";
    EXPECT_TRUE(loopback);

    auto again = Description::parse(v.to_string(), c.type);
    ASSERT_TRUE(again) << again.error().message;
    const auto& w = again.value();
    EXPECT_EQ(w.ice_ufrag, v.ice_ufrag);
    EXPECT_EQ(w.ice_pwd, v.ice_pwd);
    EXPECT_EQ(w.fingerprints[0].value, v.fingerprints[0].value);
    EXPECT_EQ(w.setup, v.setup);
    EXPECT_EQ(w.mid, v.mid);
    EXPECT_EQ(w.max_message_size, v.max_message_size);
    ASSERT_EQ(w.candidates.size(), v.candidates.size());
    for (std::size_t i = 0; i < v.candidates.size(); ++i)
        EXPECT_EQ(w.candidates[i].to_string(), v.candidates[i].to_string());
    EXPECT_EQ(w.to_string(), v.to_string());
}

INSTANTIATE_TEST_SUITE_P(
    Stacks, CapturedSdp,
    ::testing::Values(Capture{"chromium-offer.sdp", Type::Offer, Setup::ActPass, 262144},
                      Capture{"chromium-answer.sdp", Type::Answer, Setup::Active, 262144},
                      Capture{"aiortc-offer.sdp", Type::Offer, Setup::ActPass, 262144},
                      Capture{"aiortc-answer.sdp", Type::Answer, Setup::Active, 262144}));

namespace {
const char* kMinimal = "v=0\r\n"
                       "o=- 1 2 IN IP4 127.0.0.1\r\n"
                       "s=-\r\n"
                       "t=0 0\r\n"
                       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                       "a=ice-ufrag:abcd\r\n"
                       "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                       "a=fingerprint:sha-256 AA:BB\r\n"
                       "a=setup:actpass\r\n";

std::string with(const std::string& extra) {
    return std::string(kMinimal) + extra;
}
} // namespace

TEST(Description, IgnoresOtherMediaSectionsAndUnknownAttributes) {
    std::string text =
        "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=extmap-allow-mixed\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:zzzz\r\na=mid:audio\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:data\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\na=x-google-flag:conference\r\n"
        "a=fingerprint:SHA-256 aa:bb\r\na=setup:passive\r\n";
    auto d = Description::parse(text, Type::Answer);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d.value().mid, "data");
    EXPECT_EQ(d.value().ice_ufrag, "abcd");
    EXPECT_EQ(d.value().fingerprints[0].algorithm, "sha-256");
    EXPECT_EQ(d.value().fingerprints[0].value, "AA:BB");
    EXPECT_EQ(d.value().max_message_size, 65536u) << "RFC 8841 default when absent";
}

TEST(Description, TheDatagramExtensionRoundTripsAndIsOffOtherwise) {
    std::string text = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"
                       "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                       "a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\n";
    auto plain = Description::parse(text, Type::Offer);
    ASSERT_TRUE(plain) << plain.error().message;
    EXPECT_FALSE(plain.value().datagrams) << "a browser's description: no datagrams";
    EXPECT_EQ(plain.value().to_string().find("x-f0-datagram"), std::string::npos);
    auto with = Description::parse(text + "a=x-f0-datagram\r\n", Type::Offer);
    ASSERT_TRUE(with) << with.error().message;
    EXPECT_TRUE(with.value().datagrams);
    auto again = Description::parse(with.value().to_string(), Type::Offer);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again.value().datagrams);
    EXPECT_NE(with.value().to_string().find("a=x-f0-datagram:offer\r\n"), std::string::npos);
    // An answer written by f0mesh says so; one that repeats the offer's word is a stack that
    // copies unknown attributes into its answer (libdatachannel does): no datagrams with it.
    auto answer = with.value();
    answer.type = Type::Answer;
    answer.setup = Setup::Active;
    EXPECT_NE(answer.to_string().find("a=x-f0-datagram:answer\r\n"), std::string::npos);
    auto ours = Description::parse(answer.to_string(), Type::Answer);
    ASSERT_TRUE(ours) << ours.error().message;
    EXPECT_TRUE(ours.value().datagrams);
    auto answer_text = text.substr(0, text.find("a=setup:actpass")) + "a=setup:active\r\n";
    auto echo = Description::parse(answer_text + "a=x-f0-datagram:offer\r\n", Type::Answer);
    ASSERT_TRUE(echo) << echo.error().message;
    EXPECT_FALSE(echo.value().datagrams) << "an echo of the offer's attribute";
    auto older = Description::parse(answer_text + "a=x-f0-datagram\r\n", Type::Answer);
    ASSERT_TRUE(older) << older.error().message;
    EXPECT_TRUE(older.value().datagrams) << "an older f0mesh's answer";
}

TEST(Description, SessionLevelCredentialsApply) {
    std::string text = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:sess\r\n"
                       "a=ice-pwd:abcdefghijklmnopqrstuv\r\na=fingerprint:sha-256 AA:BB\r\n"
                       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    auto d = Description::parse(text, Type::Offer);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d.value().ice_ufrag, "sess");
    EXPECT_EQ(d.value().setup, Setup::ActPass);
}

struct BadCase {
    std::string name;
    std::string text;
    Type type;
    std::string expect; // substring of the error
};

class MalformedSdp : public ::testing::TestWithParam<BadCase> {};

TEST_P(MalformedSdp, IsRejectedWithAClearError) {
    const auto& c = GetParam();
    auto d = Description::parse(c.text, c.type);
    ASSERT_FALSE(d) << c.name;
    EXPECT_NE(d.error().message.find(c.expect), std::string::npos)
        << c.name << ": got '" << d.error().message << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedSdp,
    ::testing::Values(
        BadCase{"empty", "", Type::Offer, "empty"},
        BadCase{"wrong version", "v=1\r\n", Type::Offer, "line 1"},
        BadCase{"not sdp", "hello world\r\n", Type::Offer, "line 1: expected"},
        BadCase{"no media", "v=0\r\ns=-\r\n", Type::Offer, "no 'm=application"},
        BadCase{"audio only", "v=0\r\nm=audio 9 RTP/AVP 0\r\n", Type::Offer, "no 'm=application"},
        BadCase{"bad setup", with("a=setup:sideways\r\n"), Type::Offer, "line 10: setup"},
        BadCase{"bad candidate", with("a=candidate:1 1 udp x 1.2.3.4 5 typ host\r\n"), Type::Offer,
                "line 10: candidate priority"},
        BadCase{"bad fingerprint", with("a=fingerprint:sha-256 ZZ:11\r\n"), Type::Offer,
                "line 10: fingerprint"},
        BadCase{"bad sctp port", with("a=sctp-port:99999\r\n"), Type::Offer, "line 10: sctp-port"},
        BadCase{"bad max size", with("a=max-message-size:-1\r\n"), Type::Offer,
                "line 10: max-message-size"},
        BadCase{"answer actpass", kMinimal, Type::Answer, "actpass"},
        BadCase{"no ufrag",
                "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-pwd:x\r\n"
                "a=fingerprint:sha-256 AA\r\n",
                Type::Offer, "ice-ufrag"},
        BadCase{"no fingerprint",
                "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:x\r\n"
                "a=ice-pwd:y\r\n",
                Type::Offer, "fingerprint"},
        BadCase{"huge", std::string("v=0\r\n") + std::string(300000, 'x'), Type::Offer, "limit"},
        BadCase{"bad m line", with("m=application\r\n"), Type::Offer, "line 10: malformed m="}),
    [](const auto& info) {
        std::string n = info.param.name;
        for (auto& ch : n)
            if (!std::isalnum(static_cast<unsigned char>(ch)))
                ch = '_';
        return n;
    });

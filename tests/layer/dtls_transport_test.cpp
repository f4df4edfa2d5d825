// DTLS over a virtual link: handshake, data both ways, fingerprint mismatch, loss during handshake.
#include "rtc/dtls/dtls_transport.hpp"
#include "sim/virtual_link.hpp"
#include "support/signal.hpp"

#include <gtest/gtest.h>

using namespace f0;
using namespace std::chrono_literals;

namespace {
struct DtlsPair {
    std::shared_ptr<rtc::EventLoop> loop = std::make_shared<rtc::EventLoop>();
    std::shared_ptr<rtc::dtls::Certificate> ca = rtc::dtls::Certificate::generate("a").value();
    std::shared_ptr<rtc::dtls::Certificate> cb = rtc::dtls::Certificate::generate("b").value();
    std::shared_ptr<sim::VirtualEndpoint> la, lb;
    std::shared_ptr<rtc::dtls::DtlsTransport> a, b;
    test::Signal a_up, b_up, a_failed, b_failed;
    std::vector<std::vector<std::uint8_t>> a_got, b_got;
    test::Signal a_msg, b_msg;

    DtlsPair(sim::Impairment imp, std::optional<rtc::sdp::Fingerprint> wrong = {}) {
        std::tie(la, lb) = sim::VirtualLink::make(loop, imp, imp, 42);
        a = rtc::dtls::DtlsTransport::create(
            la, loop,
            {.is_client = true,
             .certificate = ca,
             .remote_fingerprints = {wrong ? *wrong : cb->fingerprint()}});
        b = rtc::dtls::DtlsTransport::create(
            lb, loop,
            {.is_client = false, .certificate = cb, .remote_fingerprints = {ca->fingerprint()}});
        hook(a, a_up, a_failed, a_got, a_msg);
        hook(b, b_up, b_failed, b_got, b_msg);
        loop->run_sync([&] {
            a->start();
            b->start();
            la->start();
            lb->start();
        });
    }
    static void hook(const std::shared_ptr<rtc::dtls::DtlsTransport>& t, test::Signal& up,
                     test::Signal& failed, std::vector<std::vector<std::uint8_t>>& got,
                     test::Signal& msg) {
        t->on_state_change([&](rtc::TransportState s) {
            if (s == rtc::TransportState::Connected)
                up.notify();
            if (s == rtc::TransportState::Failed)
                failed.notify();
        });
        t->on_receive([&](std::span<const std::uint8_t> d) {
            got.emplace_back(d.begin(), d.end());
            msg.notify();
        });
    }
    ~DtlsPair() {
        loop->run_sync([&] {
            a->stop();
            b->stop();
        });
    }
};
} // namespace

TEST(DtlsTransport, HandshakesAndCarriesDataBothWays) {
    DtlsPair p({});
    ASSERT_TRUE(p.a_up.wait(1, 5s));
    ASSERT_TRUE(p.b_up.wait(1, 5s));
    std::vector<std::uint8_t> hello{1, 2, 3, 4, 5};
    ASSERT_TRUE(p.a->send(hello));
    ASSERT_TRUE(p.b_msg.wait(1, 5s));
    EXPECT_EQ(p.b_got[0], hello);
    std::vector<std::uint8_t> big(1100, 9);
    ASSERT_TRUE(p.b->send(big));
    ASSERT_TRUE(p.a_msg.wait(1, 5s));
    EXPECT_EQ(p.a_got[0], big);
    // use_srtp was offered and answered (stacks like werift refuse a handshake without it).
    EXPECT_EQ(p.a->srtp_profile(), "SRTP_AEAD_AES_128_GCM");
    EXPECT_EQ(p.b->srtp_profile(), "SRTP_AEAD_AES_128_GCM");
}

TEST(DtlsTransport, RejectsAPeerWhoseCertificateDoesNotMatchItsFingerprint) {
    rtc::sdp::Fingerprint wrong{"sha-256", std::string(95, 'A')};
    for (std::size_t i = 2; i < wrong.value.size(); i += 3)
        wrong.value[i] = ':';
    DtlsPair p({}, wrong);
    EXPECT_TRUE(p.a_failed.wait(1, 5s));
    EXPECT_NE(p.a->failure_reason().find("fingerprint"), std::string::npos)
        << p.a->failure_reason();
    EXPECT_FALSE(p.a->send(std::vector<std::uint8_t>{1}));
}

TEST(DtlsTransport, CompletesDespiteLossThroughRetransmission) {
    DtlsPair p(sim::Impairment::lossy(0.3, 0.1));
    EXPECT_TRUE(p.a_up.wait(1, 20s));
    EXPECT_TRUE(p.b_up.wait(1, 20s));
}

TEST(DtlsTransport, IgnoresNonDtlsBytes) {
    DtlsPair p({});
    ASSERT_TRUE(p.b_up.wait(1, 5s));
    // A STUN-looking datagram (first byte 0) and garbage in the DTLS range.
    std::vector<std::uint8_t> stun(20, 0), junk{23, 0xfe, 0xfd, 0, 0};
    p.loop->run_sync([&] {
        p.la->send(stun);
        p.la->send(junk);
    });
    ASSERT_TRUE(p.a->send(std::vector<std::uint8_t>{7}));
    ASSERT_TRUE(p.b_msg.wait(1, 5s));
    EXPECT_EQ(p.b_got.size(), 1u);
    EXPECT_EQ(p.b_got[0], std::vector<std::uint8_t>{7});
}

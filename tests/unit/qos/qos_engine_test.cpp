// QoS math: RFC 3550 jitter, loss from sequence gaps (wrap, duplicates, late packets), the probe
// codec, and the engine's RTT / bitrate over an interval, with time passed in.
#include "qos/qos_probe.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace f0::qos;

TEST(JitterEstimator, FollowsRfc3550) {
    JitterEstimator j;
    j.on_packet(0, 100);     // transit 100
    j.on_packet(1000, 1116); // transit 116, |D| = 16 -> J = 1
    EXPECT_DOUBLE_EQ(j.jitter_us(), 1.0);
    j.on_packet(2000, 2100); // |D| = 16 -> J = 1 + 15/16
    EXPECT_DOUBLE_EQ(j.jitter_us(), 1.0 + 15.0 / 16.0);
}

TEST(JitterEstimator, APeersAbsurdSendTimesNeitherOverflowNorMoveIt) {
    // Found by fuzz_probe: send times chosen so that arrival - send and the difference of two
    // transits overflow int64 (undefined behaviour, an abort under UBSan).
    JitterEstimator j;
    j.on_packet(0, 100);
    j.on_packet(1000, 1116); // J = 1
    j.on_packet(-5188146804090562105, 7957419013188434031);
    j.on_packet(INT64_MAX, INT64_MIN);
    j.on_packet(INT64_MIN, INT64_MAX);
    EXPECT_DOUBLE_EQ(j.jitter_us(), 1.0) << "a jump over a minute re-bases, it does not count";
    j.on_packet(INT64_MIN + 1000, INT64_MAX); // transit as large as before, within rounding
    EXPECT_LT(j.jitter_us(), 1e6);
}

TEST(QosProbe, AnEchoWithAnAbsurdSendTimeIsMalformedNotAnOverflow) {
    // Found by fuzz_probe: now - send_us overflowed int64 for an echo claiming INT64_MIN.
    QosProbe q;
    auto echo = encode_probe({ProbeKind::Echo, 0, INT64_MIN});
    EXPECT_FALSE(q.on_message(echo, 1'000'000'000));
    EXPECT_EQ(q.malformed(), 1u);
}

TEST(JitterEstimator, ConvergesToMeanAbsoluteDifference) {
    // Uniform delay in [0, 20 ms]: E|X1 - X2| = 20/3 ms.
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<int> d(0, 20000);
    JitterEstimator j;
    double sum = 0;
    int n = 0;
    for (int i = 0; i < 20000; ++i) {
        j.on_packet(i * 10000, i * 10000 + 50000 + d(rng));
        if (i > 1000) {
            sum += j.jitter_us();
            ++n;
        }
    }
    EXPECT_NEAR(sum / n, 20000.0 / 3, 20000.0 / 3 * 0.05);
}

TEST(LossCounter, CountsGapsDuplicatesAndWrap) {
    LossCounter c;
    for (std::uint32_t s : {0u, 1u, 2u, 4u, 4u, 5u, 9u}) // 3, 6, 7, 8 missing; 4 twice
        c.on_sequence(s);
    auto r = c.take();
    EXPECT_EQ(r.expected, 10u);
    EXPECT_EQ(r.received, 6u);
    EXPECT_DOUBLE_EQ(r.loss_pct(), 40.0);
    c.on_sequence(3); // late: its interval is closed
    c.on_sequence(10);
    c.on_sequence(11);
    r = c.take();
    EXPECT_EQ(r.expected, 2u);
    EXPECT_EQ(r.received, 2u);
    LossCounter w;
    for (std::uint32_t s : {0xFFFFFFFEu, 0xFFFFFFFFu, 1u})
        w.on_sequence(s);
    r = w.take();
    EXPECT_EQ(r.expected, 4u);
    EXPECT_EQ(r.received, 3u);
    EXPECT_EQ(LossCounter{}.take().loss_pct(), 0.0);
}

TEST(LossCounter, TracksAtMostItsCapOfDistinctSequencesPerInterval) {
    LossCounter c;
    for (std::uint32_t s = 0; s < LossCounter::kMaxTracked; ++s)
        ASSERT_TRUE(c.on_sequence(s * 2));
    EXPECT_FALSE(c.on_sequence(1)) << "a new number beyond the cap is ignored";
    EXPECT_TRUE(c.on_sequence(0)) << "a duplicate of a tracked one is not new";
    auto r = c.take();
    EXPECT_EQ(r.received, LossCounter::kMaxTracked);
    EXPECT_TRUE(c.on_sequence(LossCounter::kMaxTracked * 2)) << "the next interval starts empty";
}

TEST(QosProbe, AFloodOfDistinctProbesIsNotAnsweredBeyondTheCap) {
    QosProbe e;
    auto before = QosProbe::over_cap_total();
    std::size_t echoes = 0;
    for (std::uint32_t s = 0; s < LossCounter::kMaxTracked + 10; ++s)
        echoes += e.on_message(encode_probe({ProbeKind::Probe, s, 1000}, 64), 2000).has_value();
    EXPECT_EQ(echoes, LossCounter::kMaxTracked);
    EXPECT_EQ(QosProbe::over_cap_total() - before, 10u);
}

TEST(ProbeCodec, RoundTripsAndRejectsBadBytes) {
    auto b = encode_probe({ProbeKind::Probe, 0xA1B2C3D4, 1234567890123}, 64);
    EXPECT_EQ(b.size(), 64u);
    auto m = parse_probe(b);
    ASSERT_TRUE(m);
    EXPECT_EQ(m.value().seq, 0xA1B2C3D4u);
    EXPECT_EQ(m.value().send_us, 1234567890123);
    std::vector<std::uint8_t> short_b(b.begin(), b.begin() + 13), bad_magic = b, bad_kind = b;
    bad_magic[0] = 0;
    bad_kind[1] = 9;
    EXPECT_FALSE(parse_probe(short_b));
    EXPECT_FALSE(parse_probe(bad_magic));
    EXPECT_FALSE(parse_probe(bad_kind));
}

TEST(QosProbe, MeasuresRttJitterLossAndBitrateBetweenTwoEngines) {
    QosProbe a, b;
    std::int64_t now = 1'000'000;
    a.take_report(now, 0, 0);
    b.take_report(now, 0, 0);
    // a probes b 100 times, one every 10 ms; b answers after 30 ms one way; 30 ms back. Probe 7
    // is lost on the way.
    for (int i = 0; i < 100; ++i) {
        auto p = a.make_probe(now + i * 10'000);
        if (i == 7)
            continue;
        auto echo = b.on_message(p, now + i * 10'000 + 30'000);
        ASSERT_TRUE(echo);
        EXPECT_FALSE(a.on_message(*echo, now + i * 10'000 + 60'000));
    }
    auto ra = a.take_report(now + 2'000'000, 250'000, 125'000);
    ASSERT_TRUE(ra.rtt_ms);
    EXPECT_DOUBLE_EQ(*ra.rtt_ms, 60.0);
    EXPECT_EQ(ra.echoes, 99u);
    EXPECT_DOUBLE_EQ(ra.tx_kbps, 1000.0); // 250 kB in 2 s
    EXPECT_DOUBLE_EQ(ra.rx_kbps, 500.0);
    auto rb = b.take_report(now + 2'000'000, 0, 0);
    EXPECT_EQ(rb.probes_expected, 100u);
    EXPECT_EQ(rb.probes_received, 99u);
    EXPECT_DOUBLE_EQ(rb.loss_pct, 1.0);
    EXPECT_DOUBLE_EQ(rb.jitter_ms, 0.0) << "constant transit: no jitter";
    EXPECT_FALSE(a.on_message(std::vector<std::uint8_t>{1, 2, 3}, now));
    EXPECT_EQ(a.malformed(), 1u);
}

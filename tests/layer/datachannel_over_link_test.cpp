// SCTP + DCEP + DataChannels over DTLS over a virtual link, clean and impaired.
#include "stack_over_link.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <numeric>

using namespace f0;
using namespace std::chrono_literals;
using rtc::datachannel::DataChannel;

namespace {
using test::Harness;

std::vector<std::uint8_t> pattern(std::size_t n, std::size_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::uint8_t>(i * 131 + seed * 7);
    return v;
}
} // namespace

TEST(DataChannelOverLink, ReliableMessagesArriveIntactAndInOrderDespiteLossAndReordering) {
    // 10 % loss and 10 % reordering in both directions.
    Harness h(sim::Impairment::lossy(0.10, 0.10));
    auto ch = h.open("reliable");
    test::Signal opened;
    ch->on_open([&] { opened.notify(); });
    h.start();
    ASSERT_TRUE(h.a->connected.wait(1, 30s));
    ASSERT_TRUE(opened.wait(1, 10s));
    ASSERT_TRUE(h.got_channel.wait(1, 10s));
    auto remote = h.incoming[0];
    const std::size_t sizes[] = {1, 100, 1200, 5000, 20000, 65536};
    constexpr int kMessages = 120;
    std::vector<std::vector<std::uint8_t>> received;
    test::Signal all;
    remote->on_message([&](std::span<const std::uint8_t> d, bool text) {
        EXPECT_FALSE(text);
        received.emplace_back(d.begin(), d.end());
        if (received.size() == kMessages)
            all.notify();
    });
    for (int i = 0; i < kMessages; ++i)
        ASSERT_TRUE(ch->send(pattern(sizes[i % 6], i)));
    ASSERT_TRUE(all.wait(1, 60s)) << "got " << received.size() << " of " << kMessages;
    for (int i = 0; i < kMessages; ++i)
        ASSERT_EQ(received[i], pattern(sizes[i % 6], i)) << "message " << i;
    auto c = h.la->counters();
    EXPECT_GT(c.dropped, 0u) << "the link must actually have lost packets";
}

TEST(DataChannelOverLink, ChannelParametersTravelInDcepOpen) {
    Harness h({});
    auto ch = h.open("unrel", {.ordered = false, .max_retransmits = 0, .protocol = "chat"});
    h.start();
    ASSERT_TRUE(h.got_channel.wait(1, 10s));
    auto remote = h.incoming[0];
    EXPECT_EQ(remote->label(), "unrel");
    EXPECT_EQ(remote->init().protocol, "chat");
    EXPECT_FALSE(remote->init().ordered);
    ASSERT_TRUE(remote->init().max_retransmits);
    EXPECT_EQ(*remote->init().max_retransmits, 0);
    EXPECT_EQ(*ch->id() % 2, 0) << "the DTLS client uses even stream ids";
}

TEST(DataChannelOverLink, EmptyAndTextMessagesKeepTheirType) {
    Harness h({});
    auto ch = h.open("t");
    h.start();
    ASSERT_TRUE(h.got_channel.wait(1, 10s));
    auto remote = h.incoming[0];
    std::vector<std::pair<std::string, bool>> got;
    test::Signal three;
    remote->on_message([&](std::span<const std::uint8_t> d, bool text) {
        got.emplace_back(std::string(d.begin(), d.end()), text);
        three.notify();
    });
    test::Signal open;
    ch->on_open([&] { open.notify(); });
    ASSERT_TRUE(open.wait(1, 5s));
    ASSERT_TRUE(ch->send(std::string_view("")));
    ASSERT_TRUE(ch->send(std::span<const std::uint8_t>{}));
    ASSERT_TRUE(ch->send(std::string_view("héllo")));
    ASSERT_TRUE(three.wait(3, 5s));
    EXPECT_EQ(got[0], std::make_pair(std::string(), true));
    EXPECT_EQ(got[1], std::make_pair(std::string(), false));
    EXPECT_EQ(got[2], std::make_pair(std::string("héllo"), true));
}

TEST(DataChannelOverLink, RefusesMessagesOverThePeersMaxMessageSize) {
    Harness h({}, {.remote_max_message_size = 1000});
    auto ch = h.open("m");
    test::Signal open;
    ch->on_open([&] { open.notify(); });
    h.start();
    ASSERT_TRUE(open.wait(1, 10s));
    auto st = ch->send(std::vector<std::uint8_t>(1001));
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("max-message-size of 1000"), std::string::npos);
    EXPECT_TRUE(ch->send(std::vector<std::uint8_t>(1000)));
}

TEST(DataChannelOverLink, PreNegotiatedChannelsNeedNoDcep) {
    Harness h({});
    std::shared_ptr<DataChannel> a, b;
    h.loop->run_sync([&] {
        a = h.a->channels->create("neg", {.negotiated = true, .id = 5}).value();
        b = h.b->channels->create("neg", {.negotiated = true, .id = 5}).value();
    });
    test::Signal got;
    std::vector<std::uint8_t> data;
    b->on_message([&](std::span<const std::uint8_t> d, bool) {
        data.assign(d.begin(), d.end());
        got.notify();
    });
    test::Signal open;
    a->on_open([&] { open.notify(); });
    h.start();
    ASSERT_TRUE(open.wait(1, 10s));
    ASSERT_TRUE(a->send(std::vector<std::uint8_t>{4, 2}));
    ASSERT_TRUE(got.wait(1, 5s));
    EXPECT_EQ(data, (std::vector<std::uint8_t>{4, 2}));
    EXPECT_EQ(h.got_channel.count(), 0) << "no on_data_channel for a negotiated channel";
}

TEST(DataChannelOverLink, CloseFromEitherSideClosesBoth) {
    Harness h({});
    auto c1 = h.open("one");
    auto c2 = h.open("two");
    h.start();
    ASSERT_TRUE(h.got_channel.wait(2, 10s));
    std::shared_ptr<DataChannel> r1, r2;
    {
        std::lock_guard l(h.mu);
        for (auto& c : h.incoming)
            (c->label() == "one" ? r1 : r2) = c;
    }
    test::Signal c1_closed, r1_closed, c2_closed, r2_closed;
    c1->on_close([&] { c1_closed.notify(); });
    r1->on_close([&] { r1_closed.notify(); });
    c2->on_close([&] { c2_closed.notify(); });
    r2->on_close([&] { r2_closed.notify(); });
    c1->close(); // from the opener
    EXPECT_TRUE(r1_closed.wait(1, 5s));
    EXPECT_TRUE(c1_closed.wait(1, 5s));
    r2->close(); // from the accepter
    EXPECT_TRUE(c2_closed.wait(1, 5s));
    EXPECT_TRUE(r2_closed.wait(1, 5s));
    EXPECT_FALSE(c1->send(std::string_view("late")));
}

TEST(DataChannelOverLink, BufferedAmountLowFiresWhenTheQueueDrains) {
    // A small send buffer and a 4 Mbit/s link force messages into our queue.
    sim::Impairment slow{.rate_bps = 4'000'000, .queue_limit_bytes = 1 << 20};
    Harness h(slow, {.send_buffer = 64 * 1024, .receive_buffer = 256 * 1024});
    auto ch = h.open("bulk");
    test::Signal open, low;
    ch->on_open([&] { open.notify(); });
    ch->set_buffered_amount_low_threshold(16 * 1024);
    ch->on_buffered_amount_low([&] { low.notify(); });
    h.start();
    ASSERT_TRUE(open.wait(1, 10s));
    for (int i = 0; i < 16; ++i)
        ASSERT_TRUE(ch->send(std::vector<std::uint8_t>(16 * 1024, 1)));
    EXPECT_GT(ch->buffered_amount(), 16u * 1024);
    EXPECT_TRUE(low.wait(1, 20s));
    EXPECT_LE(ch->buffered_amount(), 16u * 1024);
}

// SCTP + DCEP + DataChannels over DTLS over a virtual link, clean and impaired.
#include "stack_over_link.hpp"
#include "util/numbered.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <mutex>
#include <numeric>
#include <random>

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

// Messages over the receiver's max-message-size (random sizes, seeded: 1,000 of them) on ordered
// and unordered channels over a link with loss and reordering: none reaches the application, not
// even in part (usrsctp hands large messages over in pieces; a piece that does not fit must not
// leave the rest to be delivered as a message), the sender's channel is closed, and every message
// within the limit sent before it arrives intact.
TEST(DataChannelOverLink, OversizeMessagesAreDiscardedWholeAndTheSenderSeesItsChannelClosed) {
    constexpr std::size_t kLimit = 16 * 1024;
    const int rounds =
        std::getenv("F0_OVERSIZE_ROUNDS") ? std::atoi(std::getenv("F0_OVERSIZE_ROUNDS")) : 1000;
    // The sender believes the peer takes 16 MiB; the receiver takes 16 KiB. A 64 KiB receive
    // buffer makes usrsctp deliver messages over 32 KiB in pieces.
    // A fresh stream id per channel (4,096 streams): no id is reused here.
    Harness h(sim::Impairment::lossy(0.02, 0.05), {.streams = 4096,
                                                   .max_message_size = kLimit,
                                                   .remote_max_message_size = 16u << 20,
                                                   .receive_buffer = 64 * 1024});
    h.start();
    ASSERT_TRUE(h.a->connected.wait(1, 30s));
    std::mt19937_64 rng(2026);
    auto pick = [&rng](std::size_t lo, std::size_t hi) {
        return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
    };
    // A message says which round and index it is, and its length; the rest is a pattern of those.
    auto message = [](std::uint32_t round, std::uint32_t index, std::size_t size) {
        std::vector<std::uint8_t> m(std::max<std::size_t>(size, 12));
        std::uint32_t head[3] = {round, index, static_cast<std::uint32_t>(m.size())};
        std::memcpy(m.data(), head, sizeof head);
        for (std::size_t i = 12; i < m.size(); ++i)
            m[i] = static_cast<std::uint8_t>(i * 31 + round * 7 + index);
        return m;
    };
    // What the receiver got in one round (held by its channel's handler as long as it lives).
    struct Got {
        std::mutex mu;
        std::vector<std::vector<std::uint8_t>> messages;
        test::Signal arrived;
    };
    std::size_t oversize_bytes = 0, intact = 0;
    // Ten channels at a time (half ordered, half not), each: open, a few messages within the
    // limit (all must arrive), then one over it (the channel must close, nothing of it arrive).
    constexpr int kBatch = 1;
    int opened = 0;
    for (int first = 0; first < rounds; first += kBatch) {
        struct Round {
            std::shared_ptr<DataChannel> ch, remote;
            std::shared_ptr<test::Signal> open = std::make_shared<test::Signal>(),
                                          closed = std::make_shared<test::Signal>(),
                                          remote_closed = std::make_shared<test::Signal>();
            std::shared_ptr<Got> got = std::make_shared<Got>();
            std::vector<std::vector<std::uint8_t>> sent;
        };
        std::vector<Round> batch(static_cast<std::size_t>(std::min(kBatch, rounds - first)));
        for (std::size_t r = 0; r < batch.size(); ++r) {
            auto& x = batch[r];
            x.ch = h.open(f0::util::numbered("r", first + static_cast<int>(r)),
                          {.ordered = r % 2 == 0});
            x.ch->on_open([o = x.open] { o->notify(); });
            x.ch->on_close([c = x.closed] { c->notify(); });
        }
        opened += static_cast<int>(batch.size());
        ASSERT_TRUE(h.got_channel.wait(opened, 20s)) << "the peer's channel, batch at " << first;
        for (auto& x : batch) {
            ASSERT_TRUE(x.open->wait(1, 20s)) << "batch at " << first;
            std::lock_guard l(h.mu);
            for (const auto& c : h.incoming)
                if (c->label() == x.ch->label())
                    x.remote = c;
            ASSERT_TRUE(x.remote);
            x.remote->on_close([c = x.remote_closed] { c->notify(); });
            x.remote->on_message([got = x.got](std::span<const std::uint8_t> d, bool) {
                {
                    std::lock_guard l(got->mu);
                    got->messages.emplace_back(d.begin(), d.end());
                }
                got->arrived.notify();
            });
        }
        for (std::size_t r = 0; r < batch.size(); ++r) {
            const auto round = static_cast<std::uint32_t>(first) + static_cast<std::uint32_t>(r);
            for (std::size_t i = pick(0, 3); i > 0; --i) {
                batch[r].sent.push_back(message(
                    round, static_cast<std::uint32_t>(batch[r].sent.size()), pick(12, kLimit)));
                ASSERT_TRUE(batch[r].ch->send(batch[r].sent.back()));
            }
        }
        for (auto& x : batch)
            ASSERT_TRUE(x.got->arrived.wait(static_cast<int>(x.sent.size()), 20s))
                << "batch at " << first;
        std::vector<std::size_t> bigs;
        for (std::size_t r = 0; r < batch.size(); ++r) {
            bigs.push_back(pick(kLimit + 1, 128 * 1024));
            oversize_bytes += bigs.back();
            ASSERT_TRUE(batch[r].ch->send(
                message(static_cast<std::uint32_t>(first) + static_cast<std::uint32_t>(r), 99,
                        bigs.back())));
        }
        for (std::size_t r = 0; r < batch.size(); ++r) {
            auto& x = batch[r];
            ASSERT_TRUE(x.closed->wait(1, 20s))
                << x.ch->label() << ": the sender's channel closes (states: sender "
                << static_cast<int>(x.ch->state()) << ", receiver "
                << static_cast<int>(x.remote->state()) << ", stream " << x.ch->id().value_or(-1)
                << ")";
            ASSERT_TRUE(x.remote_closed->wait(1, 20s)) << x.ch->label();
            std::lock_guard l(x.got->mu);
            ASSERT_EQ(x.got->messages.size(), x.sent.size())
                << x.ch->label() << ": nothing of the " << bigs[r] << " byte message arrived";
            for (const auto& m : x.got->messages) {
                // Unordered channels may reorder: match by the index in the message.
                ASSERT_GE(m.size(), 12u);
                std::uint32_t idx = 0;
                std::memcpy(&idx, m.data() + 4, 4);
                ASSERT_LT(idx, x.sent.size()) << x.ch->label();
                ASSERT_EQ(m, x.sent[idx]) << x.ch->label() << " message " << idx;
                ++intact;
            }
        }
    }
    EXPECT_GE(rtc::sctp::SctpAssociation::messages_refused_oversize(),
              static_cast<std::uint64_t>(rounds));
    EXPECT_GT(h.la->counters().dropped, 0u) << "the link must actually have lost packets";
    std::cout << "[ oversize ] " << rounds << " messages over the limit (" << oversize_bytes
              << " bytes) discarded whole; " << intact << " within it intact\n";
}

// An SCTP ABORT from the peer (what a browser's close() sends) closes the association: Closed, not
// Failed (PeerConnection then closes the channels and reports the peer's close).
TEST(DataChannelOverLink, APeersAbortClosesTheAssociation) {
    Harness h({});
    auto ch = h.open("x");
    test::Signal open, b_closed, b_failed;
    ch->on_open([&] { open.notify(); });
    h.b->sctp->on_state_change([&](rtc::TransportState s) {
        if (s == rtc::TransportState::Closed)
            b_closed.notify();
        if (s == rtc::TransportState::Failed)
            b_failed.notify();
    });
    h.start();
    ASSERT_TRUE(open.wait(1, 10s));
    ASSERT_TRUE(h.got_channel.wait(1, 10s));
    h.loop->run_sync([&] { h.a->sctp->abort(); });
    ASSERT_TRUE(b_closed.wait(1, 10s));
    EXPECT_FALSE(b_failed.wait(1, 0s));
}

// Past the 256 KiB default: with 16 MiB on both sides, a 16 MiB message (binary) and a 1 MiB one
// (text) arrive byte for byte.
TEST(DataChannelOverLink, SixteenMebibyteMessagesArriveWhole) {
    Harness h({}, {.max_message_size = 16u << 20,
                   .remote_max_message_size = 16u << 20,
                   .send_buffer = 32u << 20,
                   .receive_buffer = 32u << 20});
    auto ch = h.open("big");
    test::Signal open, got;
    ch->on_open([&] { open.notify(); });
    h.start();
    ASSERT_TRUE(open.wait(1, 10s));
    ASSERT_TRUE(h.got_channel.wait(1, 10s));
    std::vector<std::pair<std::vector<std::uint8_t>, bool>> received;
    h.incoming[0]->on_message([&](std::span<const std::uint8_t> d, bool text) {
        received.emplace_back(std::vector<std::uint8_t>(d.begin(), d.end()), text);
        got.notify();
    });
    auto big = pattern(16u << 20, 3);
    std::string text(1u << 20, 'x');
    for (std::size_t i = 0; i < text.size(); ++i)
        text[i] = static_cast<char>('a' + i % 26);
    ASSERT_TRUE(ch->send(big));
    ASSERT_TRUE(ch->send(std::string_view(text)));
    ASSERT_TRUE(got.wait(2, 60s));
    EXPECT_EQ(received[0].first, big);
    EXPECT_FALSE(received[0].second);
    EXPECT_EQ(std::string(received[1].first.begin(), received[1].first.end()), text);
    EXPECT_TRUE(received[1].second);
}

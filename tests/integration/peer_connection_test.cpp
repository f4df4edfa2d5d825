// Two real PeerConnections over loopback: libnice ICE, DTLS, SCTP, DCEP.
#include "rtc/ice/ice_transport.hpp"
#include "support/pc_pair.hpp"

#include <numeric>

using namespace f0;
using namespace std::chrono_literals;

TEST(PeerConnectionLoopback, OpensChannelAndEchoes) {
    test::PcPair pair;
    test::Signal opened, got_channel, echoed;
    std::shared_ptr<rtc::DataChannel> remote;
    pair.b->on_data_channel([&](std::shared_ptr<rtc::DataChannel> ch) {
        remote = ch;
        ch->on_message([ch](std::span<const std::uint8_t> d, bool text) {
            if (text)
                (void)ch->send(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
            else
                (void)ch->send(d);
        });
        got_channel.notify();
    });
    auto ch = pair.a->create_data_channel("chat");
    ASSERT_TRUE(ch);
    auto dc = ch.value();
    std::vector<std::uint8_t> received;
    dc->on_open([&] { opened.notify(); });
    dc->on_message([&](std::span<const std::uint8_t> d, bool) {
        received.assign(d.begin(), d.end());
        echoed.notify();
    });
    pair.negotiate();
    ASSERT_TRUE(pair.a_connected.wait(1, 10s));
    ASSERT_TRUE(pair.b_connected.wait(1, 10s));
    ASSERT_TRUE(opened.wait(1, 5s));
    ASSERT_TRUE(got_channel.wait(1, 5s));
    EXPECT_EQ(remote->label(), "chat");

    std::vector<std::uint8_t> msg(100000);
    std::iota(msg.begin(), msg.end(), 0);
    ASSERT_TRUE(dc->send(msg));
    ASSERT_TRUE(echoed.wait(1, 5s));
    EXPECT_EQ(received, msg);

    auto stats = pair.a->stats();
    ASSERT_TRUE(stats.selected_pair);
    EXPECT_EQ(stats.selected_pair->local_address, "127.0.0.1");
    EXPECT_EQ(stats.bytes_sent, msg.size());
    EXPECT_EQ(stats.messages_received, 1u);
}

TEST(PeerConnectionLoopback, CloseIsSeenByThePeer) {
    test::PcPair pair;
    test::Signal got_channel, remote_closed, local_closed;
    std::shared_ptr<rtc::DataChannel> remote;
    pair.b->on_data_channel([&](std::shared_ptr<rtc::DataChannel> ch) {
        remote = ch;
        ch->on_close([&] { remote_closed.notify(); });
        got_channel.notify();
    });
    auto dc = pair.a->create_data_channel("x").value();
    dc->on_close([&] { local_closed.notify(); });
    pair.negotiate();
    ASSERT_TRUE(got_channel.wait(1, 10s));
    dc->close();
    EXPECT_TRUE(remote_closed.wait(1, 5s));
    EXPECT_TRUE(local_closed.wait(1, 5s));
    EXPECT_EQ(remote->state(), rtc::datachannel::ChannelState::Closed);
}

// One peer names a hundred addresses as its candidates: 16 are used, the rest ignored (and
// counted), so our checks cannot be aimed at addresses of its choosing; the real pair still forms.
TEST(PeerConnectionLoopback, RemoteCandidatesBeyondTheCapAreIgnored) {
    test::PcPair pair;
    auto ch = pair.a->create_data_channel("chat");
    ASSERT_TRUE(ch);
    auto before = rtc::ice::IceTransport::remote_candidates_refused();
    pair.negotiate();
    for (int i = 0; i < 100; ++i) {
        auto line = "candidate:9" + std::to_string(i) + " 1 udp 100 127.0.1." +
                    std::to_string(i + 1) + " 9 typ host";
        (void)pair.b->add_remote_candidate(line);
    }
    ASSERT_TRUE(pair.a_connected.wait(1, 10s));
    ASSERT_TRUE(pair.b_connected.wait(1, 10s));
    auto ignored = rtc::ice::IceTransport::remote_candidates_refused() - before;
    EXPECT_GE(ignored, 84u) << "at most 16 remote candidates per connection";
    EXPECT_LE(ignored, 100u);
}

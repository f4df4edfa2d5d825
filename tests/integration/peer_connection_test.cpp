// Two real PeerConnections over loopback: libnice ICE, DTLS, SCTP, DCEP.
#include "rtc/ice/ice_transport.hpp"
#include "rtc/sctp/sctp_association.hpp"
#include "support/pc_pair.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <numeric>
#include <set>

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

// The peer closes every channel as soon as it arrives, and we open the next one the moment ours
// is closed: the freed id is the same each time. It may carry a new channel only once our own
// reset of it is done (RFC 6525 section 5.1); taken earlier, the peer never saw the new OPEN and
// the churn stopped after a few rounds.
TEST(PeerConnectionLoopback, ChannelsClosedByThePeerFreeTheirIdOnlyOnceTheResetIsDone) {
    constexpr int kRounds = 200;
    struct Churn { // outlives the pair: its handlers may still run while the pair is torn down
        test::Signal arrived, done;
        std::mutex mu;
        std::vector<std::shared_ptr<rtc::DataChannel>> held;
        std::atomic<bool> stopped{false};
        std::function<void(int)> open_next;
    } c;
    test::PcPair pair;
    pair.b->on_data_channel([&c](std::shared_ptr<rtc::DataChannel> ch) {
        if (ch->label() == "first")
            return;
        c.arrived.notify();
        ch->close();
    });
    c.open_next = [&c, a = std::weak_ptr(pair.a)](int round) {
        auto pc = a.lock();
        if (c.stopped || !pc)
            return;
        if (round == kRounds)
            return c.done.notify();
        auto ch = pc->create_data_channel("churn");
        if (!ch)
            return;
        ch.value()->on_close([&c, round] { c.open_next(round + 1); });
        std::lock_guard l(c.mu);
        c.held.push_back(ch.value());
    };
    auto first = pair.a->create_data_channel("first").value();
    first->on_open([&c] { c.open_next(0); });
    pair.negotiate();
    ASSERT_TRUE(pair.a_connected.wait(1, 10s));
    EXPECT_TRUE(c.done.wait(1, 60s));
    EXPECT_TRUE(c.arrived.wait(kRounds, 10s));
    c.stopped = true;
    std::lock_guard l(c.mu);
    std::set<std::uint16_t> ids;
    for (const auto& ch : c.held)
        if (ch->id())
            ids.insert(*ch->id());
    EXPECT_LE(ids.size(), 4u) << "closed channels give their ids back";
}

// Sends made faster than the association drains them (here: all from the loop thread, so no
// acknowledgement can be read in between) queue up to 16 MiB behind usrsctp's buffer; the next
// one is refused with an error and counted, not queued without end.
TEST(PeerConnectionLoopback, SendsBeyondTheQueueCapAreRefused) {
    test::PcPair pair;
    test::Signal done;
    auto dc = pair.a->create_data_channel("bulk").value();
    const auto refused_before = rtc::sctp::SctpAssociation::sends_refused_queue_full();
    int refused_at = -1;
    std::size_t buffered_max = 0;
    std::string error;
    dc->on_open([&] {
        std::vector<std::uint8_t> chunk(64 * 1024, 0x5a);
        for (int i = 0; i < 1000 && refused_at < 0; ++i) {
            if (auto st = dc->send(chunk); !st) {
                refused_at = i;
                error = st.error().message;
            }
            buffered_max = std::max(buffered_max, dc->buffered_amount());
        }
        done.notify();
    });
    pair.negotiate();
    ASSERT_TRUE(done.wait(1, 20s));
    EXPECT_GT(refused_at, 256) << "at least 16 MiB were taken first";
    EXPECT_NE(error.find("send queue is full"), std::string::npos) << error;
    EXPECT_LE(buffered_max, std::size_t{16} << 20);
    EXPECT_GT(rtc::sctp::SctpAssociation::sends_refused_queue_full(), refused_before);
}

// A peer's close() (SCTP SHUTDOWN, DTLS close_notify) is Closed, by the peer, not Failed.
TEST(PeerConnectionLoopback, APeersCloseIsClosedByThePeerNotFailed) {
    test::PcPair pair;
    auto dc = pair.a->create_data_channel("x").value();
    test::Signal b_closed, b_failed;
    pair.b->on_state_change([&](rtc::PeerState s) { // replaces PcPair's: notify it too
        if (s == rtc::PeerState::Connected)
            pair.b_connected.notify();
        if (s == rtc::PeerState::Closed)
            b_closed.notify();
        if (s == rtc::PeerState::Failed)
            b_failed.notify();
    });
    pair.negotiate();
    ASSERT_TRUE(pair.b_connected.wait(1, 10s));
    pair.a->close();
    ASSERT_TRUE(b_closed.wait(1, 10s)) << "b is " << to_string(pair.b->state());
    EXPECT_FALSE(b_failed.wait(1, 0s));
    EXPECT_TRUE(pair.b->closed_by_peer());
    EXPECT_FALSE(pair.a->closed_by_peer());
}

// The answerer takes the DTLS server role (a=setup:passive): the offerer starts the handshake
// once it has applied the answer, and the link still opens.
TEST(PeerConnectionLoopback, TheAnswererIsTheDtlsServer) {
    test::PcPair pair;
    auto dc = pair.a->create_data_channel("x").value();
    test::Signal open;
    dc->on_open([&] { open.notify(); });
    auto offer = pair.a->create_offer();
    ASSERT_TRUE(offer);
    EXPECT_NE(offer.value().find("a=setup:actpass"), std::string::npos);
    ASSERT_TRUE(pair.b->set_remote_description(offer.value(), rtc::sdp::Type::Offer));
    auto answer = pair.b->create_answer();
    ASSERT_TRUE(answer);
    EXPECT_NE(answer.value().find("a=setup:passive"), std::string::npos);
    ASSERT_TRUE(pair.a->set_remote_description(answer.value(), rtc::sdp::Type::Answer));
    EXPECT_TRUE(open.wait(1, 10s));
    EXPECT_EQ(*dc->id() % 2, 0) << "the offerer, now the DTLS client, uses even stream ids";
}

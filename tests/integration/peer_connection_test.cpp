// Two real PeerConnections over loopback: libnice ICE, DTLS, SCTP, DCEP.
#include "rtc/ice/ice_transport.hpp"
#include "rtc/sctp/sctp_association.hpp"
#include "support/pc_pair.hpp"
#include "util/numbered.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

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

// Datagrams beside SCTP (a=x-f0-datagram): both ways, each on its own, never seen by a channel.
TEST(PeerConnectionLoopback, DatagramsFlowBesideTheChannelsWhenBothOfferThem) {
    test::PcPair pair;
    std::mutex mu;
    std::vector<std::vector<std::uint8_t>> at_a, at_b;
    test::Signal got_a, got_b, channel_message;
    pair.a->on_datagram([&](std::span<const std::uint8_t> d) {
        std::lock_guard l(mu);
        at_a.emplace_back(d.begin(), d.end());
        got_a.notify();
    });
    pair.b->on_datagram([&](std::span<const std::uint8_t> d) {
        std::lock_guard l(mu);
        at_b.emplace_back(d.begin(), d.end());
        got_b.notify();
    });
    pair.b->on_data_channel([&](std::shared_ptr<rtc::DataChannel> ch) {
        ch->on_message([&](std::span<const std::uint8_t>, bool) { channel_message.notify(); });
    });
    auto dc = pair.a->create_data_channel("x").value();
    test::Signal open;
    dc->on_open([&] { open.notify(); });
    EXPECT_FALSE(pair.a->send_datagram(std::vector<std::uint8_t>{1})) << "not connected yet";
    pair.negotiate();
    ASSERT_TRUE(pair.a_connected.wait(1, 10s));
    ASSERT_TRUE(pair.b_connected.wait(1, 10s));
    ASSERT_TRUE(open.wait(1, 5s));
    EXPECT_TRUE(pair.a->datagrams());
    EXPECT_TRUE(pair.b->datagrams());
    auto before = rtc::datagram::DatagramMux::counters();
    std::vector<std::uint8_t> largest(rtc::datagram::kMaxPayload, 0xab);
    // Unreliable, but loopback does not drop: a few sends each way, at least one must arrive.
    for (int i = 0; i < 5 && !got_b.wait(1, 200ms); ++i)
        ASSERT_TRUE(pair.a->send_datagram(largest));
    for (int i = 0; i < 5 && !got_a.wait(1, 200ms); ++i)
        ASSERT_TRUE(pair.b->send_datagram(std::vector<std::uint8_t>{7, 8}));
    ASSERT_TRUE(got_b.wait(1, 1s));
    ASSERT_TRUE(got_a.wait(1, 1s));
    {
        std::lock_guard l(mu);
        EXPECT_EQ(at_b.front(), largest);
        EXPECT_EQ(at_a.front(), (std::vector<std::uint8_t>{7, 8}));
    }
    EXPECT_FALSE(pair.a->send_datagram(std::vector<std::uint8_t>(rtc::datagram::kMaxPayload + 1)))
        << "over the largest payload";
    auto after = rtc::datagram::DatagramMux::counters();
    EXPECT_GE(after.received - before.received, 2u);
    EXPECT_EQ(after.refused_oversize - before.refused_oversize, 1u);
    EXPECT_FALSE(channel_message.wait(1, 100ms)) << "no datagram reached a channel";
    ASSERT_TRUE(dc->send(std::string_view("after")));
    EXPECT_TRUE(channel_message.wait(1, 5s)) << "and the channel still works";
}

// A peer that does not offer datagrams (a browser) never gets one: send_datagram says so.
TEST(PeerConnectionLoopback, NoDatagramsWithAPeerThatDoesNotOfferThem) {
    for (bool offerer_has_them : {true, false}) {
        auto with = test::PcPair::loopback_config(), without = with;
        without.datagrams = false;
        test::PcPair pair(offerer_has_them ? with : without, offerer_has_them ? without : with);
        auto dc = pair.a->create_data_channel("x").value();
        test::Signal open;
        dc->on_open([&] { open.notify(); });
        pair.negotiate();
        ASSERT_TRUE(open.wait(1, 10s));
        EXPECT_EQ(pair.a->local_description().find("x-f0-datagram") != std::string::npos,
                  offerer_has_them);
        EXPECT_EQ(pair.b->local_description().find("x-f0-datagram"), std::string::npos)
            << "an answer offers them only back";
        EXPECT_FALSE(pair.a->datagrams());
        EXPECT_FALSE(pair.b->datagrams());
        EXPECT_FALSE(pair.a->send_datagram(std::vector<std::uint8_t>{1}));
        EXPECT_FALSE(pair.b->send_datagram(std::vector<std::uint8_t>{1}));
    }
}

// Gathering on an address the host does not have finds nothing: the connection fails at once
// saying so, instead of offering no candidate and timing out. (198.51.100.254, TEST-NET-2, is on no
// interface: the bind fails and nothing is sent.)
TEST(PeerConnectionLoopback, NoLocalCandidateFailsAtOnceSayingWhy) {
    rtc::RtcConfig c;
    c.bind_addresses = {"198.51.100.254"};
    auto pc = rtc::PeerConnection::create(c);
    test::Signal failed, gathered;
    pc->on_state_change([&](rtc::PeerState s) {
        if (s == rtc::PeerState::Failed)
            failed.notify();
    });
    pc->on_gathering_complete([&] { gathered.notify(); });
    auto dc = pc->create_data_channel("x");
    ASSERT_TRUE(dc);
    auto offer = pc->create_offer();
    ASSERT_TRUE(offer);
    EXPECT_EQ(offer.value().find("a=candidate"), std::string::npos);
    ASSERT_TRUE(failed.wait(1, 10s));
    EXPECT_TRUE(gathered.wait(1, 1s)) << "gathering still reports that it is done";
    EXPECT_NE(pc->failure_reason().find("ICE gathered no local candidate"), std::string::npos)
        << pc->failure_reason();
    pc->close();
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

// The answerer's own checks wait for the offerer's first check (ice::IceConfig::hold_checks).
// Even an hour's hold does not delay the connection: libnice answers the offerer's check with a
// check of its own at once.
TEST(PeerConnectionLoopback, AnAnswerersHoldDoesNotDelayTheConnection) {
    auto config = test::PcPair::loopback_config();
    config.answerer_check_hold = 1h;
    test::PcPair pair(config);
    auto dc = pair.a->create_data_channel("x").value();
    test::Signal open;
    dc->on_open([&] { open.notify(); });
    pair.negotiate();
    EXPECT_TRUE(pair.b_connected.wait(1, 10s));
    EXPECT_TRUE(open.wait(1, 10s));
}

namespace {
// A UDP socket on loopback standing for a peer that never checks: it only counts what comes.
struct SilentPeer {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    std::uint16_t port = 0;
    SilentPeer() {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port = ntohs(a.sin_port);
    }
    ~SilentPeer() { ::close(fd); }
    // True when a STUN Binding request (type 0x0001) arrives within the timeout.
    bool binding_request(std::chrono::milliseconds timeout) {
        auto end = std::chrono::steady_clock::now() + timeout;
        for (int i = 0; i < 1000; ++i) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return false;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                return false;
            std::uint8_t buf[1500];
            auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n >= 20 && buf[0] == 0x00 && buf[1] == 0x01)
                return true;
        }
        return false;
    }
};

rtc::sdp::Candidate host_candidate(std::uint16_t port) {
    return rtc::sdp::Candidate::parse("candidate:1 1 udp 2130706431 127.0.0.1 " +
                                      std::to_string(port) + " typ host")
        .value();
}

// An ICE agent on loopback; its gathering (one host candidate) is signalled.
std::shared_ptr<rtc::ice::IceTransport> agent(bool controlling, std::chrono::milliseconds hold,
                                              const std::shared_ptr<rtc::EventLoop>& loop,
                                              test::Signal* gathered = nullptr) {
    rtc::ice::IceConfig ic;
    ic.controlling = controlling;
    ic.bind_addresses = {"127.0.0.1"};
    ic.hold_checks = hold;
    std::shared_ptr<rtc::ice::IceTransport> t;
    loop->run_sync([&] {
        t = rtc::ice::IceTransport::create(loop, ic);
        if (!t)
            return;
        if (gathered)
            t->on_gathering_done([gathered] { gathered->notify(); });
        t->start();
    });
    return t;
}

// An ICE agent told of these remote credentials and candidates.
void tell(const std::shared_ptr<rtc::EventLoop>& loop,
          const std::shared_ptr<rtc::ice::IceTransport>& t, const std::string& ufrag,
          const std::string& pwd, const std::vector<rtc::sdp::Candidate>& candidates) {
    loop->run_sync([&] {
        t->set_remote_credentials(ufrag, pwd);
        for (const auto& c : candidates)
            t->add_remote_candidate(c);
    });
}

// `to` told of `from`'s credentials and candidates, as a description would carry them.
void tell(const std::shared_ptr<rtc::EventLoop>& loop,
          const std::shared_ptr<rtc::ice::IceTransport>& to,
          const std::shared_ptr<rtc::ice::IceTransport>& from) {
    std::vector<rtc::sdp::Candidate> candidates;
    std::string ufrag, pwd;
    loop->run_sync([&] {
        candidates = from->local_candidates();
        ufrag = from->local_ufrag();
        pwd = from->local_pwd();
    });
    tell(loop, to, ufrag, pwd, candidates);
}

std::shared_ptr<rtc::ice::IceTransport>
answerer_towards(const SilentPeer& peer, std::chrono::milliseconds hold,
                 const std::shared_ptr<rtc::EventLoop>& loop) {
    auto t = agent(false, hold, loop);
    if (t)
        tell(loop, t, "silentufrag", "silentpasswordsilentpassword", {host_candidate(peer.port)});
    return t;
}

void stop_on_loop(const std::shared_ptr<rtc::EventLoop>& loop,
                  std::shared_ptr<rtc::ice::IceTransport>& t) {
    loop->run_sync([&] {
        if (t)
            t->stop();
        t.reset();
    });
}
} // namespace

// While it holds, the answerer sends no check of its own; when the hold runs out, it checks. An
// agent without a hold checks at once (the control: this test can see a check).
TEST(IceHold, NoCheckLeavesBeforeThePeersCheckOrTheHoldsEnd) {
    auto loop = rtc::EventLoop::shared();
    SilentPeer held_peer, timed_peer, open_peer;
    ASSERT_NE(held_peer.port, 0);
    auto held = answerer_towards(held_peer, 1h, loop);
    auto timed = answerer_towards(timed_peer, 300ms, loop);
    auto open = answerer_towards(open_peer, 0ms, loop);
    ASSERT_TRUE(held && timed && open);
    EXPECT_TRUE(open_peer.binding_request(10s)) << "an agent without a hold checks";
    EXPECT_TRUE(timed_peer.binding_request(10s)) << "a hold that runs out ends in checks";
    // Seconds after the others checked, the held agent still has not (a slow machine could only
    // make it later).
    EXPECT_FALSE(held_peer.binding_request(1500ms)) << "an agent that holds sends no check";
    stop_on_loop(loop, held);
    stop_on_loop(loop, timed);
    stop_on_loop(loop, open);
}

// The offerer's first check ends the hold (it has our credentials then, so it has our answer);
// nothing else does before the hour is up.
TEST(IceHold, ThePeersFirstCheckEndsTheHold) {
    auto loop = rtc::EventLoop::shared();
    test::Signal offerer_gathered, answerer_gathered, offerer_connected;
    auto offerer = agent(true, 0ms, loop, &offerer_gathered);
    auto answerer = agent(false, 1h, loop, &answerer_gathered);
    ASSERT_TRUE(offerer && answerer);
    loop->run_sync([&] {
        offerer->on_state_change([&](rtc::TransportState s) {
            if (s == rtc::TransportState::Connected)
                offerer_connected.notify();
        });
    });
    ASSERT_TRUE(offerer_gathered.wait(1, 10s));
    tell(loop, answerer, offerer);
    ASSERT_TRUE(answerer_gathered.wait(1, 10s));
    bool holding = false;
    loop->run_sync([&] { holding = answerer->holding_checks(); });
    EXPECT_TRUE(holding) << "the answer is out, the offerer has not checked: still holding";
    // The offerer applies the answer and checks.
    tell(loop, offerer, answerer);
    EXPECT_TRUE(offerer_connected.wait(1, 10s));
    loop->run_sync([&] { holding = answerer->holding_checks(); });
    EXPECT_FALSE(holding) << "the offerer's check ended the hold";
    stop_on_loop(loop, offerer);
    stop_on_loop(loop, answerer);
}

// Ten channels closed at once, from each side in turn, ten times on one connection: every close
// completes on both sides (usrsctp has one reset request in flight at a time; the rest wait).
// bulk: 64 KiB sent on each just before the close. A reset requested with that data still in
// flight reached the peer ahead of the data's last TSN; usrsctp then defers it and looks again
// only when later DATA arrives, so about 3 runs in 10 left closes unfinished before resets
// waited for the association to go dry. busy: another channel keeps sending all along, so it
// never goes dry and the resets go after the hold's bound, with data behind them.
void close_ten_at_once(bool bulk, bool busy = false) {
    constexpr int kChannels = 10;
    // A busy round waits out the reset hold (1 s) twice.
    const int kRounds = busy ? 4 : 10;
    struct Seen { // outlives the pair
        test::Signal arrived, remote_closed;
        std::mutex mu;
        std::vector<std::shared_ptr<rtc::DataChannel>> remote;
    };
    auto seen = std::make_shared<Seen>();
    test::PcPair pair;
    pair.b->on_data_channel([seen](std::shared_ptr<rtc::DataChannel> ch) {
        ch->on_close([seen] { seen->remote_closed.notify(); });
        {
            std::lock_guard l(seen->mu);
            seen->remote.push_back(ch);
        }
        seen->arrived.notify();
    });
    auto first = pair.a->create_data_channel("first").value();
    pair.negotiate();
    ASSERT_TRUE(pair.a_connected.wait(1, 10s));
    ASSERT_TRUE(seen->arrived.wait(1, 10s));
    std::atomic<bool> stop{false};
    std::jthread chatter;
    if (busy)
        chatter = std::jthread([&] {
            std::vector<std::uint8_t> some(64 << 10, 1);
            for (int i = 0; i < 200000 && !stop; ++i) { // bounded: ~ 4 min at most
                while (first->buffered_amount() < (512u << 10) && first->send(some))
                    ;
                std::this_thread::sleep_for(1ms);
            }
        });
    struct StopOnExit { // before chatter is joined, however this function returns
        std::atomic<bool>& flag;
        ~StopOnExit() { flag = true; }
    } stop_on_exit{stop};
    for (int round = 0; round < kRounds; ++round) {
        auto local_closed = std::make_shared<test::Signal>();
        std::vector<std::shared_ptr<rtc::DataChannel>> mine;
        auto opened = std::make_shared<test::Signal>();
        for (int i = 0; i < kChannels; ++i) {
            auto ch = pair.a->create_data_channel(f0::util::numbered("c", i));
            ASSERT_TRUE(ch) << ch.error().message;
            ch.value()->on_open([opened] { opened->notify(); });
            ch.value()->on_close([local_closed] { local_closed->notify(); });
            mine.push_back(ch.value());
        }
        ASSERT_TRUE(opened->wait(kChannels, 10s)) << "round " << round;
        ASSERT_TRUE(seen->arrived.wait(1 + (round + 1) * kChannels, 10s)) << "round " << round;
        std::vector<std::uint8_t> data(64 * 1024, 7); // still in flight when the closes go
        if (bulk)
            for (auto& ch : mine)
                (void)ch->send(data);
        if (round % 2 == 0) {
            for (auto& ch : mine)
                ch->close();
        } else {
            std::vector<std::shared_ptr<rtc::DataChannel>> theirs;
            {
                std::lock_guard l(seen->mu);
                theirs.assign(seen->remote.end() - kChannels, seen->remote.end());
            }
            for (auto& ch : theirs)
                ch->close();
        }
        EXPECT_TRUE(local_closed->wait(kChannels, 10s))
            << "round " << round << ": " << local_closed->count() << " of ours closed";
        EXPECT_TRUE(seen->remote_closed.wait((round + 1) * kChannels, 10s))
            << "round " << round << ": " << seen->remote_closed.count() << " of theirs closed";
        if (::testing::Test::HasFailure())
            break;
    }
}

TEST(PeerConnectionLoopback, TenChannelsClosedAtOnceAllClose) {
    close_ten_at_once(false);
}

TEST(PeerConnectionLoopback, TenChannelsClosedAtOnceWithDataInFlightAllClose) {
    close_ten_at_once(true);
}

TEST(PeerConnectionLoopback, TenChannelsClosedAtOnceBesideABusyChannelAllClose) {
    close_ten_at_once(true, true);
}

// ICE restart (RFC 8445 section 9): new credentials both ways through a re-offer and its answer,
// the new checks succeed, and the same channel carries messages both ways before and after;
// nothing above ICE is rebuilt (no state change, the same channel id).
TEST(PeerConnectionLoopback, AnIceRestartKeepsTheChannelAndItsMessages) {
    struct Seen {
        std::mutex mu;
        std::vector<std::string> at_a, at_b;
        std::shared_ptr<rtc::DataChannel> remote;
        test::Signal got_a, got_b, arrived;
        std::vector<rtc::PeerState> states;
    };
    auto seen = std::make_shared<Seen>();
    test::PcPair pair;
    pair.b->on_data_channel([seen](std::shared_ptr<rtc::DataChannel> ch) {
        ch->on_message([seen](std::span<const std::uint8_t> d, bool) {
            std::lock_guard l(seen->mu);
            seen->at_b.emplace_back(d.begin(), d.end());
            seen->got_b.notify();
        });
        {
            std::lock_guard l(seen->mu);
            seen->remote = ch;
        }
        seen->arrived.notify();
    });
    auto ch = pair.a->create_data_channel("ctl").value();
    ch->on_message([seen](std::span<const std::uint8_t> d, bool) {
        std::lock_guard l(seen->mu);
        seen->at_a.emplace_back(d.begin(), d.end());
        seen->got_a.notify();
    });
    test::Signal open;
    ch->on_open([&] { open.notify(); });
    pair.negotiate();
    ASSERT_TRUE(open.wait(1, 10s));
    ASSERT_TRUE(seen->arrived.wait(1, 10s));
    // (the channel may open a moment before the connection reports itself connected)
    ASSERT_TRUE(pair.a_connected.wait(1, 10s));
    pair.a->on_state_change([seen](rtc::PeerState s) {
        std::lock_guard l(seen->mu);
        seen->states.push_back(s);
    });
    ASSERT_TRUE(ch->send(std::string_view("before")));
    ASSERT_TRUE(seen->got_b.wait(1, 10s));
    auto ufrag = [](const std::string& sdp) {
        auto at = sdp.find("a=ice-ufrag:");
        return at == std::string::npos ? std::string()
                                       : sdp.substr(at + 12, sdp.find('\r', at) - at - 12);
    };
    auto old_a = ufrag(pair.a->local_description()), old_b = ufrag(pair.b->local_description());
    auto offer = pair.a->restart_ice();
    ASSERT_TRUE(offer) << offer.error().message;
    EXPECT_NE(ufrag(offer.value()), old_a) << "new credentials in the re-offer";
    auto st = pair.b->set_remote_description(offer.value(), rtc::sdp::Type::Offer);
    ASSERT_TRUE(st) << st.error().message;
    auto answer = pair.b->create_answer();
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_NE(ufrag(answer.value()), old_b) << "the answerer restarts too";
    st = pair.a->set_remote_description(answer.value(), rtc::sdp::Type::Answer);
    ASSERT_TRUE(st) << st.error().message;
    // The new checks succeed on both sides (bounded wait).
    bool restarted = false;
    for (int i = 0; i < 200 && !restarted; ++i) {
        restarted = pair.a->stats().ice_restarts == 1 && pair.b->stats().ice_restarts == 1;
        if (!restarted)
            std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(restarted) << "both agents connected again on the new credentials";
    ASSERT_TRUE(ch->send(std::string_view("after")));
    ASSERT_TRUE(seen->got_b.wait(2, 10s));
    std::shared_ptr<rtc::DataChannel> remote;
    {
        std::lock_guard l(seen->mu);
        remote = seen->remote;
    }
    ASSERT_TRUE(remote->send(std::string_view("back")));
    ASSERT_TRUE(seen->got_a.wait(1, 10s));
    std::lock_guard l(seen->mu);
    EXPECT_EQ(seen->at_b, (std::vector<std::string>{"before", "after"}));
    EXPECT_EQ(seen->at_a, (std::vector<std::string>{"back"}));
    EXPECT_TRUE(seen->states.empty()) << "no state change above ICE";
    EXPECT_EQ(ch->id(), remote->id()) << "the same channel";
    // Anything else than a restart stays refused.
    EXPECT_FALSE(pair.b->set_remote_description(offer.value(), rtc::sdp::Type::Offer))
        << "the same credentials again are no restart";
}

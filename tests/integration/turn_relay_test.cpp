// ICE through a real TURN server: coturn on 127.0.0.1 (started and stopped here, by PID), both
// peers relay-only, a channel opens and carries a message over the relayed pair.
#include "support/pc_pair.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <memory>

#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace f0;
using namespace std::chrono_literals;

namespace {
bool udp_port_free(std::uint16_t port) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool ok = bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(s);
    return ok;
}

// A port coturn can listen on: free, and the next one too (coturn also opens listening port + 1,
// the RFC 5780 alternative port). Still only likely free by the time coturn binds: another test
// may take it first, which is why the caller retries with a new one.
std::uint16_t free_udp_port() {
    for (int i = 0; i < 50; ++i) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
        close(s);
        auto port = ntohs(a.sin_port);
        if (port < 65535 && udp_port_free(port) &&
            udp_port_free(static_cast<std::uint16_t>(port + 1)))
            return port;
    }
    return 0;
}

struct Coturn {
    pid_t pid = -1;
    std::uint16_t port = free_udp_port();
    std::string log =
        "/tmp/f0-coturn-" + std::to_string(getpid()) + "-" + std::to_string(port) + ".log";
    Coturn() {
        pid = fork();
        if (pid == 0) {
            auto p = std::to_string(port);
            // Relay ports below the kernel's ephemeral range (32768-60999), where the sockets of
            // tests running beside this one are not: 200 of 20000-31999.
            auto relay_min = std::to_string(20000 + (port % 59) * 200),
                 relay_max = std::to_string(20000 + (port % 59) * 200 + 199);
            execlp("turnserver", "turnserver", "-n", "--listening-ip=127.0.0.1",
                   "--relay-ip=127.0.0.1", ("--listening-port=" + p).c_str(), "--user=u:p",
                   "--realm=test", "--lt-cred-mech", "--no-tls", "--no-dtls", "--no-cli",
                   "--no-tcp", "--no-tcp-relay", "--allow-loopback-peers",
                   ("--min-port=" + relay_min).c_str(), ("--max-port=" + relay_max).c_str(),
                   ("--log-file=" + log).c_str(), "--simple-log", "--verbose", "--no-stdout-log",
                   static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    // coturn is an outside process: ask its UDP listener (the one the test relays through) for a
    // STUN binding until it answers, bounded (250 tries of 100 ms). A TCP accept is not enough:
    // under load the UDP side can come up later, and an allocation then fails.
    bool wait_ready() const {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        timeval tv{0, 100'000};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        // RFC 5389 Binding Request: type 0x0001, length 0, magic cookie, 12-byte transaction id.
        unsigned char req[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1,  2,
                                 3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
        bool ok = false;
        for (int i = 0; i < 250 && !ok; ++i) {
            sendto(s, req, sizeof req, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
            unsigned char resp[512];
            auto n = recv(s, resp, sizeof resp, 0);
            ok = n >= 20 && resp[0] == 0x01 && resp[1] == 0x01 && // Binding Success Response
                 std::memcmp(resp + 8, req + 8, 12) == 0;
        }
        close(s);
        return ok;
    }
    // How many allocations coturn has deleted so far (its log says "delete: realm=...").
    int deleted() const {
        std::ifstream in(log);
        std::string line;
        int n = 0;
        while (std::getline(in, line))
            n += line.find(": delete: realm=") != std::string::npos;
        return n;
    }
    ~Coturn() {
        if (pid > 0) {
            kill(pid, SIGTERM);
            int st;
            waitpid(pid, &st, 0);
        }
        if (!getenv("F0_KEEP_COTURN_LOG"))
            unlink(log.c_str());
    }
};
void relay_through(const Coturn& turn);
} // namespace

TEST(TurnRelay, RelayOnlyPeersConnectThroughCoturn) {
    if (access("/usr/bin/turnserver", X_OK) != 0)
        GTEST_SKIP() << "coturn is not installed";
    // coturn on a port another test took between our check and its bind never answers: start it
    // again on another port (at most three times).
    std::unique_ptr<Coturn> started;
    for (int attempt = 0; attempt < 3 && !started; ++attempt) {
        started = std::make_unique<Coturn>();
        if (!started->wait_ready())
            started.reset();
    }
    ASSERT_TRUE(started) << "coturn did not start";
    auto& turn = *started;
    relay_through(turn);
    // Both peers closed: each gives its allocation back at once (a Refresh with lifetime 0)
    // rather than leaving it on the server for its 10-minute lifetime. Bounded wait: 10 s.
    for (int i = 0; i < 200 && turn.deleted() < 2; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(turn.deleted(), 2) << "both TURN allocations released when the connections closed";
}

namespace {
void relay_through(const Coturn& turn) {
    rtc::RtcConfig cfg;
    cfg.bind_addresses = {"127.0.0.1"};
    cfg.turn = rtc::ice::TurnServer{{"127.0.0.1", turn.port}, "u", "p"};
    cfg.relay_only = true;
    test::PcPair pair(cfg);
    test::Signal got;
    std::string text;
    pair.b->on_data_channel([&](std::shared_ptr<rtc::DataChannel> ch) {
        ch->on_message([&](std::span<const std::uint8_t> d, bool) {
            text.assign(d.begin(), d.end());
            got.notify();
        });
    });
    auto ch = pair.a->create_data_channel("relayed").value();
    test::Signal open;
    ch->on_open([&] { open.notify(); });
    // Non-trickle: wait for each side's gathering (the TURN allocation) to complete.
    test::Signal gathered_a, gathered_b;
    pair.a->on_gathering_complete([&] { gathered_a.notify(); });
    pair.b->on_gathering_complete([&] { gathered_b.notify(); });
    pair.a->on_local_candidate(nullptr);
    pair.b->on_local_candidate(nullptr);
    ASSERT_TRUE(pair.a->create_offer());
    ASSERT_TRUE(gathered_a.wait(1, 10s));
    auto offer = pair.a->local_description();
    ASSERT_NE(offer.find("typ relay"), std::string::npos) << "no relay candidate from coturn:\n"
                                                          << offer;
    ASSERT_TRUE(pair.b->set_remote_description(offer, rtc::sdp::Type::Offer));
    ASSERT_TRUE(pair.b->create_answer());
    ASSERT_TRUE(gathered_b.wait(1, 10s));
    auto answer = pair.b->local_description();
    ASSERT_NE(answer.find("typ relay"), std::string::npos) << answer;
    ASSERT_TRUE(pair.a->set_remote_description(answer, rtc::sdp::Type::Answer));
    ASSERT_TRUE(open.wait(1, 20s));
    ASSERT_TRUE(ch->send(std::string_view("via TURN")));
    ASSERT_TRUE(got.wait(1, 10s));
    EXPECT_EQ(text, "via TURN");
    auto st = pair.a->stats();
    ASSERT_TRUE(st.selected_pair);
    EXPECT_EQ(st.selected_pair->local_type, "relay");
}
} // namespace

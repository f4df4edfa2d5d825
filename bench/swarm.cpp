// f0-bench-swarm: N peers in one process, each with its own Ed25519 identity, dial one worker
// through its real signaling API (/beacon, then a signed offer to /offer) and hold the links
// open. Used to measure a worker holding many links. Prints one JSON line when all are open.
#include "api/http_client.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "qos/qos_probe.hpp"
#include "rtc/peer_connection.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

using namespace f0;
using Clock = std::chrono::steady_clock;

namespace {
std::optional<std::pair<int, std::string>> call(const std::string& method, const std::string& url,
                                                const std::string& body) {
    boost::asio::io_context io;
    auto c = std::make_shared<api::HttpClient>(
        io, api::ClientConfig{.timeout = std::chrono::seconds(30)});
    std::optional<std::pair<int, std::string>> out;
    c->request(method, url, body, [&](int s, std::string b, std::string e) {
        if (e.empty())
            out = std::make_pair(s, std::move(b));
    });
    io.run();
    return out;
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t steady_us() { // the QoS engine's clock
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
        .count();
}

volatile std::sig_atomic_t g_stop = 0;
} // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr,
                     "usage: f0-bench-swarm WORKER_URL WORKER_ID N [--hold] [--probe-ms MS]\n");
        return 2;
    }
    std::string url = argv[1], target = argv[2];
    int n = std::atoi(argv[3]);
    bool hold = false;
    int probe_ms = 2000;
    for (int i = 4; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--hold")
            hold = true;
        else if (a == "--probe-ms" && i + 1 < argc)
            probe_ms = std::atoi(argv[++i]);
        else {
            std::fprintf(stderr, "f0-bench-swarm: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    std::signal(SIGTERM, [](int) { g_stop = 1; });
    std::signal(SIGINT, [](int) { g_stop = 1; });
    struct Peer {
        std::string id;
        mesh::identity::Identity key;
        std::shared_ptr<rtc::PeerConnection> pc;
        std::vector<std::shared_ptr<rtc::DataChannel>> channels;
        std::shared_ptr<qos::QosProbe> qos;
    };
    std::vector<Peer> peers;
    std::atomic<int> open_channels{0};
    rtc::RtcConfig cfg;
    cfg.bind_addresses = {"127.0.0.1"};
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        Peer p{"swarm-" + std::to_string(i),
               mesh::identity::Identity::generate().value(),
               nullptr,
               {},
               std::make_shared<qos::QosProbe>()};
        nlohmann::json reg{{"id", p.id},
                           {"pubKey", p.key.public_key_base64()},
                           {"region", "SW"},
                           {"endpoints", {{"webrtc", "http://127.0.0.1:9"}}}};
        auto r = call("POST", url + "/beacon", reg.dump());
        if (!r || r->first != 200) {
            std::fprintf(stderr, "registration of %s failed: %s\n", p.id.c_str(),
                         r ? r->second.c_str() : "no answer");
            return 1;
        }
        p.pc = rtc::PeerConnection::create(cfg);
        for (auto [label, init] : {std::pair<const char*, rtc::DataChannelInit>{"control", {}},
                                   {"gossip", {}},
                                   {"qos", {.ordered = false, .max_retransmits = 0}}}) {
            auto ch = p.pc->create_data_channel(label, init).value();
            ch->on_open([&open_channels] { ++open_channels; });
            if (std::string_view(label) == "qos")
                ch->on_message([qos = p.qos, weak = std::weak_ptr(ch)](
                                   std::span<const std::uint8_t> data, bool) {
                    if (auto echo = qos->on_message(data, steady_us()))
                        if (auto c = weak.lock())
                            (void)c->send(*echo);
                });
            p.channels.push_back(ch);
        }
        // Between f0mesh stacks the probes travel as datagrams (a=x-f0-datagram), as between
        // two workers; answered the same way.
        p.pc->on_datagram(
            [qos = p.qos, weak = std::weak_ptr(p.pc)](std::span<const std::uint8_t> data) {
                if (auto echo = qos->on_message(data, steady_us()))
                    if (auto pc = weak.lock())
                        (void)pc->send_datagram(*echo);
            });
        auto offer = p.pc->create_offer().value();
        mesh::identity::Envelope e{
            p.id, target, "offer", offer, unix_ms(), mesh::identity::Envelope::random_nonce(), ""};
        e.sign(p.key);
        auto ans = call("POST", url + "/offer", e.to_json().dump());
        if (!ans || ans->first != 200) {
            std::fprintf(stderr, "offer from %s refused: %s\n", p.id.c_str(),
                         ans ? ans->second.c_str() : "no answer");
            return 1;
        }
        auto env = mesh::identity::Envelope::from_json(nlohmann::json::parse(ans->second));
        if (!env || !p.pc->set_remote_description(env.value().sdp, rtc::sdp::Type::Answer)) {
            std::fprintf(stderr, "bad answer for %s\n", p.id.c_str());
            return 1;
        }
        peers.push_back(std::move(p));
    }
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (open_channels < 3 * n && Clock::now() < deadline && !g_stop)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("{\"swarm_peers\":%d,\"open_channels\":%d,\"secs\":%.2f}\n", n,
                open_channels.load(), secs);
    std::fflush(stdout);
    if (open_channels < 3 * n)
        return 1;
    // Probes of our own, spread evenly over the interval.
    auto next = Clock::now();
    std::size_t k = 0;
    while (hold && !g_stop) {
        if (probe_ms > 0 && !peers.empty()) {
            auto step = std::chrono::microseconds(probe_ms * 1000LL / static_cast<long long>(n));
            for (auto now = Clock::now(); next <= now; next += step, k = (k + 1) % peers.size()) {
                auto probe = peers[k].qos->make_probe(steady_us());
                if (!peers[k].pc->send_datagram(probe))
                    (void)peers[k].channels[2]->send(probe);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(probe_ms > 0 ? 20 : 100));
    }
    for (auto& p : peers)
        p.pc->close();
    std::_Exit(0);
}

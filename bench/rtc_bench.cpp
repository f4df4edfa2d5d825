// DataChannel benchmarks with the protocol of ../shared/BENCH.md: connect, throughput, ping-pong,
// scale. Two PeerConnections in one process on loopback, host candidates only. One JSON line each.
#include "rtc/peer_connection.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

using namespace f0;
using Clock = std::chrono::steady_clock;

namespace {

class Event {
public:
    void set() {
        std::lock_guard l(mu_);
        done_ = true;
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds t) {
        std::unique_lock l(mu_);
        return cv_.wait_for(l, t, [&] { return done_; });
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
};

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double pct(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

struct Pair {
    std::shared_ptr<rtc::PeerConnection> a, b;
    std::shared_ptr<rtc::DataChannel> dca, dcb;
    double connect_ms = 0;
    void close() {
        if (a)
            a->close();
        if (b)
            b->close();
    }
};

rtc::RtcConfig config() {
    rtc::RtcConfig c;
    c.bind_addresses = {"127.0.0.1"};
    return c;
}

// From creating the offer to the channel being open on both sides.
bool connect_pair(Pair& p, const rtc::RtcConfig& cfg) {
    p.a = rtc::PeerConnection::create(cfg);
    p.b = rtc::PeerConnection::create(cfg);
    std::weak_ptr<rtc::PeerConnection> wa = p.a, wb = p.b;
    p.a->on_local_candidate([wb](const std::string& c, const std::string&) {
        if (auto b = wb.lock())
            (void)b->add_remote_candidate(c);
    });
    p.b->on_local_candidate([wa](const std::string& c, const std::string&) {
        if (auto a = wa.lock())
            (void)a->add_remote_candidate(c);
    });
    auto opened = std::make_shared<std::atomic<int>>(0);
    auto done = std::make_shared<Event>();
    auto bump = [opened, done] {
        if (++*opened == 2)
            done->set();
    };
    auto dcb = std::make_shared<std::shared_ptr<rtc::DataChannel>>();
    p.b->on_data_channel([dcb, bump](std::shared_ptr<rtc::DataChannel> ch) {
        *dcb = ch;
        ch->on_open(bump);
    });
    auto t0 = Clock::now();
    auto ch = p.a->create_data_channel("x");
    if (!ch)
        return false;
    p.dca = ch.value();
    p.dca->on_open(bump);
    auto offer = p.a->create_offer();
    if (!offer || !p.b->set_remote_description(offer.value(), rtc::sdp::Type::Offer))
        return false;
    auto answer = p.b->create_answer();
    if (!answer || !p.a->set_remote_description(answer.value(), rtc::sdp::Type::Answer))
        return false;
    if (!done->wait(std::chrono::seconds(20)))
        return false;
    p.connect_ms = ms_since(t0);
    p.dcb = *dcb;
    return true;
}

int bench_connect() {
    std::vector<double> ts;
    auto cfg = config();
    for (int i = 0; i < 30; ++i) {
        Pair p;
        if (!connect_pair(p, cfg)) {
            std::fprintf(stderr, "connect %d failed\n", i);
            return 1;
        }
        ts.push_back(p.connect_ms);
        p.close();
    }
    std::printf(
        "{\"impl\":\"f0mesh\",\"bench\":\"connect_ms\",\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
        "\"p99\":%.3f,\"max\":%.3f}\n",
        *std::min_element(ts.begin(), ts.end()), pct(ts, .5), pct(ts, .9), pct(ts, .99),
        *std::max_element(ts.begin(), ts.end()));
    std::fflush(stdout);
    return 0;
}

int bench_throughput() {
    constexpr std::size_t kTotal = 64u << 20;
    for (std::size_t size : {16384u, 65536u}) {
        std::vector<double> runs;
        for (int rep = 0; rep < 3; ++rep) {
            Pair p;
            if (!connect_pair(p, config()))
                return 1;
            std::vector<std::uint8_t> msg(size, 7);
            std::atomic<std::size_t> got{0};
            Event fin;
            Clock::time_point t_end;
            p.dcb->on_message([&](std::span<const std::uint8_t> d, bool) {
                if ((got += d.size()) >= kTotal) {
                    t_end = Clock::now();
                    fin.set();
                }
            });
            std::mutex pump_mu;
            std::size_t sent = 0;
            auto pump = [&] {
                std::lock_guard l(pump_mu);
                while (sent < kTotal && p.dca->buffered_amount() < (4u << 20)) {
                    if (!p.dca->send(msg))
                        return;
                    sent += size;
                }
            };
            p.dca->set_buffered_amount_low_threshold(1u << 20);
            p.dca->on_buffered_amount_low(pump);
            auto t0 = Clock::now();
            p.a->loop()->post(pump);
            if (!fin.wait(std::chrono::seconds(60))) {
                std::fprintf(stderr, "throughput run timed out at %zu of %zu bytes\n", got.load(),
                             kTotal);
                return 1;
            }
            runs.push_back(kTotal / 1048576.0 / std::chrono::duration<double>(t_end - t0).count());
            p.dcb->on_message(nullptr);
            p.close();
        }
        auto sorted = runs;
        std::sort(sorted.begin(), sorted.end());
        std::printf("{\"impl\":\"f0mesh\",\"bench\":\"throughput_MBps\",\"msg\":%zu,\"runs\":[%.1f,"
                    "%.1f,%.1f],"
                    "\"median\":%.2f}\n",
                    size, runs[0], runs[1], runs[2], sorted[1]);
        std::fflush(stdout);
    }
    return 0;
}

int bench_pingpong() {
    Pair p;
    if (!connect_pair(p, config()))
        return 1;
    auto dcb = p.dcb;
    dcb->on_message([dcb](std::span<const std::uint8_t> d, bool) { (void)dcb->send(d); });
    std::vector<std::uint8_t> msg(64, 1);
    std::vector<double> rtts;
    rtts.reserve(1000);
    Event done;
    Clock::time_point sent_at;
    p.dca->on_message([&](std::span<const std::uint8_t>, bool) {
        rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent_at).count());
        if (rtts.size() == 1000) {
            done.set();
            return;
        }
        sent_at = Clock::now();
        (void)p.dca->send(msg);
    });
    auto t0 = Clock::now();
    p.a->loop()->post([&] {
        sent_at = Clock::now();
        (void)p.dca->send(msg);
    });
    if (!done.wait(std::chrono::seconds(30)))
        return 1;
    double secs = ms_since(t0) / 1000;
    std::printf("{\"impl\":\"f0mesh\",\"bench\":\"pingpong_us\",\"p50\":%.1f,\"p99\":%.1f,"
                "\"msgs_per_s\":%.0f}\n",
                pct(rtts, .5), pct(rtts, .99), 1000 / secs);
    std::fflush(stdout);
    p.dca->on_message(nullptr);
    dcb->on_message(nullptr);
    p.close();
    return 0;
}

long status_field(const char* name) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(name, 0) == 0)
            return std::stol(line.substr(std::strlen(name)));
    return -1;
}

int bench_scale(int n) {
    std::vector<Pair> pairs(n);
    auto cfg = config();
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i)
        if (!connect_pair(pairs[i], cfg)) {
            std::fprintf(stderr, "pair %d failed\n", i);
            return 1;
        }
    double secs = ms_since(t0) / 1000;
    double rss_mb = status_field("VmRSS:") / 1024.0;
    long threads = status_field("Threads:");
    std::printf("{\"impl\":\"f0mesh\",\"bench\":\"scale\",\"pairs\":%d,\"connections\":%d,"
                "\"rss_MB\":%.1f,\"threads\":%ld,\"secs\":%.2f}\n",
                n, 2 * n, rss_mb, threads, secs);
    std::fflush(stdout);
    for (auto& p : pairs)
        p.close();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "all";
    if (mode == "--help" || mode == "-h") {
        std::puts("usage: f0-bench-rtc [all|connect|throughput|pingpong|scale N]\n"
                  "Prints one JSON line per benchmark (protocol: shared/BENCH.md).");
        return 0;
    }
    int rc = 0;
    if (mode == "connect" || mode == "all")
        rc |= bench_connect();
    if (mode == "throughput" || mode == "all")
        rc |= bench_throughput();
    if (mode == "pingpong" || mode == "all")
        rc |= bench_pingpong();
    if (mode == "scale")
        rc |= bench_scale(argc > 2 ? std::atoi(argv[2]) : 100);
    if (mode != "all" && mode != "connect" && mode != "throughput" && mode != "pingpong" &&
        mode != "scale") {
        std::fprintf(stderr, "unknown mode '%s' (try --help)\n", mode.c_str());
        return 2;
    }
    std::fflush(stdout);
    std::_Exit(rc); // skip global teardown of usrsctp/GLib state: nothing to flush
}

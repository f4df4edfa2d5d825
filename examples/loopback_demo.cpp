// f0-loopback-demo: two peers in one process open a real WebRTC DataChannel over loopback
// (ICE + DTLS + SCTP), exchange messages and print what they measured. `make demo` runs it until
// the worker daemon exists.
#include "rtc/peer_connection.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

using namespace f0;
using Clock = std::chrono::steady_clock;

namespace {
struct Latch {
    std::mutex mu;
    std::condition_variable cv;
    int count = 0;
    void hit() {
        std::lock_guard l(mu);
        ++count;
        cv.notify_all();
    }
    bool wait(int n, std::chrono::milliseconds t) {
        std::unique_lock l(mu);
        return cv.wait_for(l, t, [&] { return count >= n; });
    }
};
} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
        std::puts("usage: f0-loopback-demo\nOpens a DataChannel between two local peers and "
                  "prints connection time, round trips and the selected candidate pair.");
        return 0;
    }
    rtc::RtcConfig cfg;
    cfg.bind_addresses = {"127.0.0.1"};
    auto alice = rtc::PeerConnection::create(cfg);
    auto bob = rtc::PeerConnection::create(cfg);
    std::weak_ptr<rtc::PeerConnection> wa = alice, wb = bob;
    alice->on_local_candidate([wb](const std::string& c, const std::string&) {
        if (auto b = wb.lock())
            (void)b->add_remote_candidate(c);
    });
    bob->on_local_candidate([wa](const std::string& c, const std::string&) {
        if (auto a = wa.lock())
            (void)a->add_remote_candidate(c);
    });
    Latch open, echoed;
    bob->on_data_channel([](std::shared_ptr<rtc::DataChannel> ch) {
        std::printf("bob:   channel '%s' (id %d) opened by alice\n", ch->label().c_str(),
                    *ch->id());
        std::weak_ptr<rtc::DataChannel> weak = ch;
        ch->on_message([weak](std::span<const std::uint8_t> d, bool text) {
            if (auto c = weak.lock())
                (void)(text ? c->send(std::string_view(reinterpret_cast<const char*>(d.data()),
                                                       d.size()))
                            : c->send(d));
        });
    });
    auto t0 = Clock::now();
    auto ch = alice->create_data_channel("demo").value();
    ch->on_open([&] { open.hit(); });
    Clock::time_point sent;
    std::vector<double> rtts;
    ch->on_message([&](std::span<const std::uint8_t> d, bool) {
        rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
        if (rtts.size() == 1)
            std::printf("alice: echo of '%.*s'\n", static_cast<int>(d.size()),
                        reinterpret_cast<const char*>(d.data()));
        echoed.hit();
    });
    auto offer = alice->create_offer();
    if (!offer || !bob->set_remote_description(offer.value(), rtc::sdp::Type::Offer)) {
        std::fprintf(stderr, "offer failed\n");
        return 1;
    }
    auto answer = bob->create_answer();
    if (!answer || !alice->set_remote_description(answer.value(), rtc::sdp::Type::Answer)) {
        std::fprintf(stderr, "answer failed\n");
        return 1;
    }
    if (!open.wait(1, std::chrono::seconds(10))) {
        std::fprintf(stderr, "the channel did not open within 10 s\n");
        return 1;
    }
    std::printf("alice: channel open after %.2f ms (ICE + DTLS 1.2 + SCTP + DCEP)\n",
                std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    for (int i = 0; i < 10; ++i) {
        sent = Clock::now();
        (void)ch->send(std::string_view("hello from alice"));
        if (!echoed.wait(i + 1, std::chrono::seconds(5))) {
            std::fprintf(stderr, "no echo\n");
            return 1;
        }
    }
    auto st = alice->stats();
    double best = *std::min_element(rtts.begin(), rtts.end());
    std::printf("alice: 10 round trips, best %.0f us\n", best);
    if (st.selected_pair)
        std::printf("alice: selected pair %s:%u (%s) <-> %s:%u (%s)\n",
                    st.selected_pair->local_address.c_str(), st.selected_pair->local_port,
                    st.selected_pair->local_type.c_str(), st.selected_pair->remote_address.c_str(),
                    st.selected_pair->remote_port, st.selected_pair->remote_type.c_str());
    std::printf("alice: sent %llu messages, %llu bytes; received %llu messages\n",
                static_cast<unsigned long long>(st.messages_sent),
                static_cast<unsigned long long>(st.bytes_sent),
                static_cast<unsigned long long>(st.messages_received));
    alice->close();
    bob->close();
    return 0;
}

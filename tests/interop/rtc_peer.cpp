// Interop peer: our PeerConnection driven by JSON lines on stdin, reporting events on stdout.
// It echoes every message on every channel (same channel, same text/binary type). Used by the
// Chromium and aiortc interop tests, which relay SDP between it and the other stack.
//
// In:  {"type":"offer","sdp":...}  -> {"type":"answer","sdp":...}
//      {"type":"make-offer"}       -> {"type":"offer","sdp":...} (opens "reliable" and "unordered")
//      {"type":"answer","sdp":...}
//      {"type":"close","label":L}  closes our side of channel L
//      {"type":"quit"}
// Out: {"type":"channel","label":L,"id":N,"ordered":B,"maxRetransmits":N|null,"protocol":P}
//      {"type":"closed","label":L}, {"type":"state","state":S}, {"type":"error","message":M}
// Every session also has a pre-negotiated channel "neg" with id 5.
#include "rtc/peer_connection.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>

using namespace f0;
using nlohmann::json;

namespace {
std::mutex out_mu;
void emit(const json& j) {
    std::lock_guard l(out_mu);
    std::cout << j.dump() << std::endl;
}

std::mutex ch_mu;
std::map<std::string, std::shared_ptr<rtc::DataChannel>> channels;

void adopt(const std::shared_ptr<rtc::DataChannel>& ch) {
    {
        std::lock_guard l(ch_mu);
        channels[ch->label()] = ch;
    }
    std::weak_ptr<rtc::DataChannel> weak = ch;
    ch->on_message([weak](std::span<const std::uint8_t> d, bool text) {
        auto c = weak.lock();
        if (!c)
            return;
        auto st = text
                      ? c->send(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()))
                      : c->send(d);
        if (!st)
            emit({{"type", "error"}, {"message", "echo failed: " + st.error().message}});
    });
    ch->on_open([weak] {
        auto c = weak.lock();
        if (!c)
            return;
        json mr = c->init().max_retransmits ? json(*c->init().max_retransmits) : json(nullptr);
        emit({{"type", "channel"},
              {"label", c->label()},
              {"id", c->id() ? json(*c->id()) : json(nullptr)},
              {"ordered", c->init().ordered},
              {"maxRetransmits", mr},
              {"protocol", c->init().protocol}});
    });
    ch->on_close([label = ch->label()] { emit({{"type", "closed"}, {"label", label}}); });
}

std::string complete_description(rtc::PeerConnection& pc) {
    // Non-trickle: wait (bounded) for gathering to finish, then send the full description.
    for (int i = 0; i < 500 && !pc.gathering_complete(); ++i) {
        std::mutex m;
        std::condition_variable cv;
        std::unique_lock l(m);
        cv.wait_for(l, std::chrono::milliseconds(10));
    }
    return pc.local_description();
}
} // namespace

int main() {
    rtc::RtcConfig cfg;
    cfg.bind_addresses = {"127.0.0.1"};
    auto pc = rtc::PeerConnection::create(cfg);
    pc->on_state_change([](rtc::PeerState s) {
        emit({{"type", "state"}, {"state", std::string(rtc::to_string(s))}});
    });
    pc->on_data_channel([](std::shared_ptr<rtc::DataChannel> ch) { adopt(ch); });
    auto neg = pc->create_data_channel("neg", {.negotiated = true, .id = 5});
    if (!neg) {
        emit({{"type", "error"}, {"message", neg.error().message}});
        return 1;
    }
    adopt(neg.value());

    std::string line;
    while (std::getline(std::cin, line)) {
        json in = json::parse(line, nullptr, false);
        if (in.is_discarded() || !in.contains("type")) {
            emit({{"type", "error"}, {"message", "bad command line"}});
            continue;
        }
        auto type = in["type"].get<std::string>();
        if (type == "offer") {
            auto st = pc->set_remote_description(in.value("sdp", ""), rtc::sdp::Type::Offer);
            if (!st) {
                emit({{"type", "error"}, {"message", st.error().message}});
                continue;
            }
            auto answer = pc->create_answer();
            if (!answer) {
                emit({{"type", "error"}, {"message", answer.error().message}});
                continue;
            }
            emit({{"type", "answer"}, {"sdp", complete_description(*pc)}});
        } else if (type == "make-offer") {
            for (auto [label, init] : {std::pair<std::string, rtc::DataChannelInit>{"reliable", {}},
                                       {"unordered", {.ordered = false, .max_retransmits = 0}}}) {
                auto ch = pc->create_data_channel(label, init);
                if (ch)
                    adopt(ch.value());
            }
            auto offer = pc->create_offer();
            if (!offer) {
                emit({{"type", "error"}, {"message", offer.error().message}});
                continue;
            }
            emit({{"type", "offer"}, {"sdp", complete_description(*pc)}});
        } else if (type == "answer") {
            auto st = pc->set_remote_description(in.value("sdp", ""), rtc::sdp::Type::Answer);
            if (!st)
                emit({{"type", "error"}, {"message", st.error().message}});
        } else if (type == "close") {
            std::shared_ptr<rtc::DataChannel> ch;
            {
                std::lock_guard l(ch_mu);
                if (auto it = channels.find(in.value("label", "")); it != channels.end())
                    ch = it->second;
            }
            if (ch)
                ch->close();
            else
                emit({{"type", "error"}, {"message", "no channel " + in.value("label", "")}});
        } else if (type == "quit") {
            break;
        }
    }
    pc->close();
    {
        std::lock_guard l(ch_mu);
        channels.clear();
    }
    pc.reset();
    return 0;
}

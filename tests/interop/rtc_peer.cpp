// Interop peer: our PeerConnection driven by JSON lines on stdin, reporting events on stdout.
// It echoes every message on every channel (same channel, same text/binary type). Used by the
// Chromium and aiortc interop tests, which relay SDP between it and the other stack.
//
// In:  {"type":"offer","sdp":...}  -> {"type":"answer","sdp":...}
//      {"type":"make-offer"}       -> {"type":"offer","sdp":...} (opens "reliable" and "unordered")
//      {"type":"answer","sdp":...}
//      {"type":"make-offer","channels":[{"label":L,"ordered":B,"maxRetransmits":N}...]}
//                                  -> the same with these channels instead
//      {"type":"answer","sdp":...}
//      {"type":"close","label":L}  closes our side of channel L
//      {"type":"send","label":L,"b64":B,"binary":B,"count":N}
//                                  -> {"type":"sent","label":L,"sent":N,"failed":N}
//      {"type":"open","b64":B,"count":N,"batch":K}  opens N channels labelled with bytes B, K
//                                  (default 8) at a time, each batch after the last one closed
//                                  or 5 s passed
//                                  -> {"type":"opened","count":N,"closed":N}
//      {"type":"echo","on":B}      echo on (the default) or off
//      {"type":"close-pc"}         closes the PeerConnection (the peer sees SCTP ABORT)
//      {"type":"quit"}
// Out: {"type":"channel","label":L,"id":N,"ordered":B,"maxRetransmits":N|null,"protocol":P}
//      {"type":"closed","label":L}, {"type":"state","state":S}, {"type":"error","message":M}
// Labels in events are printed as base64 when they are not plain ASCII. send/open are what the
// attack suite's hostile peer uses (tests/worker/test_attack.py).
// Every session also has a pre-negotiated channel "neg" with id 5.
// Usage: f0-rtc-peer [--max-message-size BYTES]   (what it accepts and advertises; 256 KiB)
#include "rtc/peer_connection.hpp"
#include "util/base64.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

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
std::atomic<bool> echo{true};
std::atomic<int> closed_count{0};

std::string printable(const std::string& label) {
    for (unsigned char c : label)
        if (c < 0x20 || c > 0x7e || label.size() > 200)
            return "b64:" + base64_encode({reinterpret_cast<const std::uint8_t*>(label.data()),
                                           std::min<std::size_t>(label.size(), 64)});
    return label;
}

std::vector<std::uint8_t> bytes_of(const json& in) {
    auto d = base64_decode(in.value("b64", ""));
    return d ? d.value() : std::vector<std::uint8_t>{};
}

void adopt(const std::shared_ptr<rtc::DataChannel>& ch) {
    {
        std::lock_guard l(ch_mu);
        channels[ch->label()] = ch;
    }
    std::weak_ptr<rtc::DataChannel> weak = ch;
    ch->on_message([weak](std::span<const std::uint8_t> d, bool text) {
        auto c = weak.lock();
        if (!c || !echo)
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
              {"label", printable(c->label())},
              {"id", c->id() ? json(*c->id()) : json(nullptr)},
              {"ordered", c->init().ordered},
              {"maxRetransmits", mr},
              {"protocol", c->init().protocol}});
    });
    ch->on_close([label = printable(ch->label())] {
        ++closed_count;
        emit({{"type", "closed"}, {"label", label}});
    });
}

void pause_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// Sends the same bytes `count` times, waiting (bounded) while more than 1 MiB is buffered.
void send_many(const json& in) {
    auto label = in.value("label", "");
    std::shared_ptr<rtc::DataChannel> ch;
    {
        std::lock_guard l(ch_mu);
        if (auto it = channels.find(label); it != channels.end())
            ch = it->second;
    }
    auto data = bytes_of(in);
    int count = in.value("count", 1), sent = 0, failed = 0;
    for (int i = 0; i < count && ch; ++i) {
        for (int w = 0; w < 2000 && ch->buffered_amount() > (1u << 20); ++w)
            pause_ms(5);
        auto st = in.value("binary", false)
                      ? ch->send(std::span<const std::uint8_t>(data))
                      : ch->send(std::string_view(reinterpret_cast<const char*>(data.data()),
                                                  data.size()));
        st ? ++sent : ++failed;
    }
    emit({{"type", "sent"}, {"label", label}, {"sent", sent}, {"failed", failed}});
}

// Opens `count` channels with the given label bytes, `batch` at a time; each batch waits (up to
// 5 s) for the other side to close the last one, so that stream ids come free again.
void open_many(rtc::PeerConnection& pc, const json& in) {
    auto data = bytes_of(in);
    std::string label(data.begin(), data.end());
    int count = in.value("count", 1), opened = 0;
    int closed_before = closed_count;
    while (opened < count) {
        int batch = std::min(in.value("batch", 8), count - opened);
        std::vector<std::shared_ptr<rtc::DataChannel>> held;
        for (int i = 0; i < batch; ++i) {
            auto ch = pc.create_data_channel(label, {});
            if (!ch)
                break;
            ch.value()->on_close([] { ++closed_count; });
            held.push_back(ch.value());
        }
        if (held.empty())
            break;
        opened += static_cast<int>(held.size());
        for (int w = 0; w < 500 && closed_count - closed_before < opened; ++w)
            pause_ms(10);
    }
    emit({{"type", "opened"}, {"count", opened}, {"closed", closed_count - closed_before}});
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

int main(int argc, char** argv) {
    rtc::RtcConfig cfg;
    cfg.bind_addresses = {"127.0.0.1"};
    for (int i = 1; i + 1 < argc; i += 2)
        if (std::string(argv[i]) == "--max-message-size")
            cfg.max_message_size = std::stoull(argv[i + 1]);
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
            std::vector<std::pair<std::string, rtc::DataChannelInit>> specs{
                {"reliable", {}}, {"unordered", {.ordered = false, .max_retransmits = 0}}};
            if (in.contains("channels") && in["channels"].is_array()) {
                specs.clear();
                for (const auto& c : in["channels"]) {
                    rtc::DataChannelInit init;
                    init.ordered = c.value("ordered", true);
                    if (c.contains("maxRetransmits") && c["maxRetransmits"].is_number_unsigned())
                        init.max_retransmits = c["maxRetransmits"].get<std::uint16_t>();
                    specs.emplace_back(c.value("label", ""), init);
                }
            }
            for (auto& [label, init] : specs) {
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
        } else if (type == "send") {
            send_many(in);
        } else if (type == "open") {
            open_many(*pc, in);
        } else if (type == "echo") {
            echo = in.value("on", true);
        } else if (type == "close-pc") {
            pc->close();
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

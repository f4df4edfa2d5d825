#include "mesh/links/rtc_peer_link.hpp"

#include "mesh/links/turn_rest.hpp"

#include <atomic>
#include <map>
#include <mutex>

namespace f0::mesh {

namespace {

// What the rtc-thread callbacks share with the link; outlives it while callbacks are in flight.
struct Shared : std::enable_shared_from_this<Shared> {
    Shared(Clock& c, PeerLink::Handlers hs) : clock(c), h(std::move(hs)) {}
    Clock& clock;
    PeerLink::Handlers h;
    std::atomic<bool> alive{true};
    mutable std::mutex mu;
    std::map<std::string, std::shared_ptr<rtc::DataChannel>> channels;

    // Runs fn on the control thread if the link is still alive there.
    template <class F> void post(F fn) {
        if (!alive.load())
            return;
        clock.post([self = weak_from_this(), fn = std::move(fn)]() mutable {
            if (auto s = self.lock(); s && s->alive.load())
                fn(*s);
        });
    }
};

void wire(const std::shared_ptr<Shared>& s, const std::shared_ptr<rtc::DataChannel>& ch) {
    auto label = ch->label();
    {
        std::lock_guard lock(s->mu);
        s->channels[label] = ch;
    }
    std::weak_ptr<Shared> weak = s;
    std::weak_ptr<rtc::DataChannel> weak_ch = ch;
    ch->on_message([weak, weak_ch, label](std::span<const std::uint8_t> d, bool) {
        auto sh = weak.lock();
        if (!sh || !sh->alive.load())
            return;
        if (sh->h.inline_message) {
            auto reply = [weak_ch](std::span<const std::uint8_t> bytes) {
                if (auto c = weak_ch.lock())
                    (void)c->send(bytes);
            };
            if (sh->h.inline_message(label, d, reply))
                return;
        }
        sh->post([label, bytes = std::string(d.begin(), d.end())](Shared& x) mutable {
            if (x.h.message)
                x.h.message(label, std::move(bytes));
        });
    });
    auto event = [weak, label](bool open) {
        return [weak, label, open] {
            if (auto sh = weak.lock())
                sh->post([label, open](Shared& x) {
                    if (x.h.channel)
                        x.h.channel(label, open);
                });
        };
    };
    ch->on_open(event(true));
    ch->on_close(event(false));
}

class RtcPeerLink final : public PeerLink {
public:
    RtcPeerLink(Clock& clock, const rtc::RtcConfig& config, Handlers h)
        : pc_(rtc::PeerConnection::create(config)),
          s_(std::make_shared<Shared>(clock, std::move(h))),
          relay_protocol_(config.turn ? rtc::ice::to_string(config.turn->transport) : "") {
        std::weak_ptr<Shared> weak = s_;
        pc_->on_state_change([weak](rtc::PeerState st) {
            if (auto sh = weak.lock())
                sh->post([st](Shared& x) {
                    if (x.h.state)
                        x.h.state(st);
                });
        });
        pc_->on_gathering_complete([weak] {
            if (auto sh = weak.lock())
                sh->post([](Shared& x) {
                    if (x.h.gathered)
                        x.h.gathered();
                });
        });
        pc_->on_data_channel([weak](std::shared_ptr<rtc::DataChannel> ch) {
            auto sh = weak.lock();
            if (!sh)
                return;
            bool have;
            {
                std::lock_guard lock(sh->mu);
                have = sh->channels.count(ch->label()) > 0;
            }
            if (have || (sh->h.accept_channel && !sh->h.accept_channel(ch->label()))) {
                ch->close(); // never stored, never shown: its label is the peer's bytes
                return;
            }
            wire(sh, ch); // on the rtc loop: handlers must be set right away
        });
        // Datagrams carry only the QoS probes and their echoes (PeerLink::send_datagram); an
        // echo goes back the way its probe came.
        std::weak_ptr<rtc::PeerConnection> weak_pc = pc_;
        pc_->on_datagram([weak, weak_pc](std::span<const std::uint8_t> d) {
            auto sh = weak.lock();
            if (!sh || !sh->alive.load() || !sh->h.inline_message)
                return;
            auto reply = [weak_pc](std::span<const std::uint8_t> bytes) {
                if (auto pc = weak_pc.lock())
                    (void)pc->send_datagram(bytes);
            };
            (void)sh->h.inline_message(kQosLabel, d, reply);
        });
    }
    ~RtcPeerLink() override {
        close();
        rtc::PeerConnection::release_async(std::move(pc_)); // torn down on its loop, not here
    }

    Result<std::string> create_offer() override { return pc_->create_offer(); }
    Result<std::string> create_answer() override { return pc_->create_answer(); }
    Status set_remote_description(std::string_view sdp, rtc::sdp::Type type) override {
        return pc_->set_remote_description(sdp, type);
    }
    std::string local_description() const override { return pc_->local_description(); }
    bool gathering_complete() const override { return pc_->gathering_complete(); }
    Status open_channel(const std::string& label, const rtc::DataChannelInit& init) override {
        auto ch = pc_->create_data_channel(label, init);
        if (!ch)
            return ch.error();
        wire(s_, ch.value());
        return Ok{};
    }
    Status send(const std::string& label, std::string_view bytes, bool binary) override {
        std::shared_ptr<rtc::DataChannel> ch;
        {
            std::lock_guard lock(s_->mu);
            auto it = s_->channels.find(label);
            if (it != s_->channels.end())
                ch = it->second;
        }
        if (!ch)
            return make_error("no channel '" + label + "'");
        if (binary)
            return ch->send(std::span<const std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
        return ch->send(bytes);
    }
    bool datagrams() const override { return pc_->datagrams(); }
    bool send_datagram(std::span<const std::uint8_t> bytes) override {
        return pc_->send_datagram(bytes);
    }
    std::string failure_reason() const override { return pc_->failure_reason(); }
    std::string ice_hint() const override { return pc_->ice_hint(); }
    Result<std::string> restart_ice() override { return pc_->restart_ice(); }
    std::optional<LinkPath> path() const override {
        auto sp = pc_->stats().selected_pair;
        if (!sp)
            return std::nullopt;
        LinkPath p{sp->local_type,
                   sp->remote_type,
                   sp->local_address + ":" + std::to_string(sp->local_port),
                   sp->remote_address + ":" + std::to_string(sp->remote_port),
                   sp->protocol,
                   {}};
        if (sp->local_type == "relay")
            p.relay_protocol = relay_protocol_;
        return p;
    }
    void close() override {
        if (!s_->alive.exchange(false))
            return;
        pc_->on_state_change(nullptr);
        pc_->close_async(); // the control thread never waits on a busy rtc loop for a close
    }
    std::pair<std::uint64_t, std::uint64_t> wire_bytes() const override {
        return pc_->wire_bytes();
    }
    std::optional<double> sctp_rtt_ms() const override {
        if (auto r = pc_->stats().sctp_rtt)
            return static_cast<double>(r->count());
        return std::nullopt;
    }
    std::vector<ChannelInfo> channels() const override {
        std::vector<ChannelInfo> out;
        std::lock_guard lock(s_->mu);
        for (const auto& [label, ch] : s_->channels)
            out.push_back({label, ch->is_open(), ch->id(), ch->bytes_sent(), ch->bytes_received()});
        return out;
    }

private:
    std::shared_ptr<rtc::PeerConnection> pc_;
    std::shared_ptr<Shared> s_;
    std::string relay_protocol_; // of our TURN server, if any
};

} // namespace

std::unique_ptr<PeerLink> RtcPeerLinkFactory::create(PeerLink::Handlers handlers) {
    if (!rest_ || !config_.turn)
        return std::make_unique<RtcPeerLink>(clock_, config_, std::move(handlers));
    auto config = config_;
    auto creds = turn_rest_credentials(rest_->secret, rest_->user,
                                       clock_.unix_ms() / 1000 + rest_->ttl.count());
    config.turn->username = std::move(creds.username);
    config.turn->password = std::move(creds.password);
    return std::make_unique<RtcPeerLink>(clock_, config, std::move(handlers));
}

} // namespace f0::mesh

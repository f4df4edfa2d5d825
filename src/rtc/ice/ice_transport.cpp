// libnice adapter. Aggressive nomination (no NICE_AGENT_OPTION_REGULAR_NOMINATION) saves a
// round trip; browsers accept it as the controlled side.
#include "rtc/ice/ice_transport.hpp"

#include "util/log.hpp"

#include <nice/agent.h>

#include <netdb.h>

#include <atomic>
#include <utility>

namespace f0::rtc::ice {

namespace {
std::atomic<std::uint64_t> g_remote_refused{0};

const auto& logger() {
    static const auto& l = log::forever("rtc.ice");
    return l;
}

constexpr guint kComponent = 1;

std::optional<std::string> resolve(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res)
        return std::nullopt;
    char buf[NI_MAXHOST];
    std::optional<std::string> out;
    if (getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) ==
        0)
        out = buf;
    freeaddrinfo(res);
    return out;
}

void on_new_candidate(NiceAgent*, NiceCandidate* c, gpointer self) {
    static_cast<IceTransport*>(self)->handle_candidate(c);
}
void on_nice_gathering_done(NiceAgent*, guint stream, gpointer self) {
    static_cast<IceTransport*>(self)->handle_gathering_done(stream);
}
void on_state(NiceAgent*, guint stream, guint, guint state, gpointer self) {
    static_cast<IceTransport*>(self)->handle_component_state(stream, state);
}
void on_remote_candidate(NiceAgent*, NiceCandidate*, gpointer self) {
    static_cast<IceTransport*>(self)->handle_remote_candidate();
}
// After stop(): the agent keeps reading its sockets (a TURN server's answers to the Refresh that
// gives the allocation back arrive there) but nothing reaches us.
void discard_recv(NiceAgent*, guint, guint, guint, gchar*, gpointer) {}

void on_recv(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer self) {
    static_cast<IceTransport*>(self)->handle_receive(buf, len);
}

bool has_property(NiceAgent* agent, const char* name) {
    return g_object_class_find_property(G_OBJECT_GET_CLASS(agent), name) != nullptr;
}
} // namespace

std::shared_ptr<IceTransport> IceTransport::create(std::shared_ptr<EventLoop> loop,
                                                   IceConfig config) {
    std::shared_ptr<IceTransport> t(new IceTransport(std::move(loop), std::move(config)));
    if (!t->init())
        return nullptr;
    return t;
}

IceTransport::IceTransport(std::shared_ptr<EventLoop> loop, IceConfig config)
    : loop_(std::move(loop)), config_(std::move(config)) {}

bool IceTransport::init() {
    auto* ctx = static_cast<GMainContext*>(loop_->native_context());
    // Consent freshness (RFC 7675): a peer that stops answering is declared failed (by libnice
    // after about 10 s, within the RFC's 30 s) instead of a dead link looking open until SCTP
    // gives up.
    auto options = static_cast<NiceAgentOption>(NICE_AGENT_OPTION_ICE_TRICKLE |
                                                NICE_AGENT_OPTION_CONSENT_FRESHNESS);
    agent_ = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245, options);
    if (!agent_)
        return false;
    g_object_set(agent_, "controlling-mode", config_.controlling ? TRUE : FALSE, "ice-tcp", FALSE,
                 "ice-udp", TRUE, "stun-pacing-timer", static_cast<guint>(config_.pacing.count()),
                 "force-relay", config_.relay_only ? TRUE : FALSE, nullptr);
    if (has_property(agent_, "upnp"))
        g_object_set(agent_, "upnp", FALSE, nullptr);
    // A TURN server on UDP also tells us our server-reflexive address (XOR-MAPPED-ADDRESS in its
    // Allocate response), so asking the same server for a STUN binding as well adds nothing, and
    // libnice then drops one of the two answers as "incorrectly multiplexed" and waits for it:
    // 2 s more gathering on each side (measured in the NAT lab: 4.1 s to open instead of 0.3).
    const bool stun_is_turn = config_.stun && config_.turn &&
                              config_.turn->transport == TurnTransport::Udp &&
                              config_.stun->host == config_.turn->address.host &&
                              config_.stun->port == config_.turn->address.port;
    if (config_.stun && !stun_is_turn) {
        if (auto ip = resolve(config_.stun->host))
            g_object_set(agent_, "stun-server", ip->c_str(), "stun-server-port",
                         static_cast<guint>(config_.stun->port), nullptr);
        else
            F0_LOG_WARN(logger(), "cannot resolve STUN server '{}'", config_.stun->host);
    }
    for (const auto& a : config_.bind_addresses) {
        NiceAddress addr;
        nice_address_init(&addr);
        if (!nice_address_set_from_string(&addr, a.c_str())) {
            F0_LOG_WARN(logger(), "ignoring bind address '{}': not an IP literal", a);
            continue;
        }
        nice_agent_add_local_address(agent_, &addr);
    }
    g_signal_connect(agent_, "new-candidate-full", G_CALLBACK(on_new_candidate), this);
    g_signal_connect(agent_, "candidate-gathering-done", G_CALLBACK(on_nice_gathering_done), this);
    g_signal_connect(agent_, "component-state-changed", G_CALLBACK(on_state), this);
    g_signal_connect(agent_, "new-remote-candidate-full", G_CALLBACK(on_remote_candidate), this);
    if (!add_stream())
        return false;
    holding_ = config_.hold_checks.count() > 0;
    return true;
}

// A stream of one component, with its port range, TURN server and receive callback; it becomes
// stream_, with its own local credentials.
bool IceTransport::add_stream() {
    auto* ctx = static_cast<GMainContext*>(loop_->native_context());
    auto stream = nice_agent_add_stream(agent_, 1);
    if (!stream)
        return false;
    nice_agent_set_stream_name(agent_, stream, "application");
    if (config_.port_min || config_.port_max)
        nice_agent_set_port_range(agent_, stream, kComponent, config_.port_min, config_.port_max);
    if (config_.turn) {
        if (auto ip = resolve(config_.turn->address.host))
            nice_agent_set_relay_info(
                agent_, stream, kComponent, ip->c_str(), config_.turn->address.port,
                config_.turn->username.c_str(), config_.turn->password.c_str(),
                config_.turn->transport == TurnTransport::Tls   ? NICE_RELAY_TYPE_TURN_TLS
                : config_.turn->transport == TurnTransport::Tcp ? NICE_RELAY_TYPE_TURN_TCP
                                                                : NICE_RELAY_TYPE_TURN_UDP);
        else
            F0_LOG_WARN(logger(), "cannot resolve TURN server '{}'", config_.turn->address.host);
    }
    gchar *ufrag = nullptr, *pwd = nullptr;
    nice_agent_get_local_credentials(agent_, stream, &ufrag, &pwd);
    ufrag_ = ufrag ? ufrag : "";
    pwd_ = pwd ? pwd : "";
    g_free(ufrag);
    g_free(pwd);
    nice_agent_attach_recv(agent_, stream, kComponent, ctx, on_recv, this);
    stream_ = stream;
    return true;
}

IceTransport::~IceTransport() {
    if (!agent_)
        return;
    // Signals reference `this`: disconnect on the loop thread, where they are emitted.
    auto* agent = agent_;
    auto stream = stream_;
    auto retiring = retiring_;
    if (hold_timer_)
        loop_->cancel(hold_timer_);
    if (settle_timer_)
        loop_->cancel(settle_timer_);
    const bool relayed = config_.turn.has_value();
    auto* ctx = static_cast<GMainContext*>(loop_->native_context());
    auto teardown = [agent, stream, retiring, relayed, ctx, loop = loop_, self = this] {
        g_signal_handlers_disconnect_by_data(agent, self);
        if (retiring)
            nice_agent_remove_stream(agent, retiring);
        nice_agent_attach_recv(agent, stream, kComponent, ctx, discard_recv, nullptr);
        if (!relayed) {
            nice_agent_remove_stream(agent, stream);
            g_object_unref(agent);
            return;
        }
        // Give the TURN allocation back (a Refresh with lifetime 0) instead of leaving it on the
        // server until it expires (10 minutes): close_async first (removing the stream first
        // starts the same pruning, which the agent's end then cut short), then the stream and
        // the agent go, on this loop, which is kept until then (it may be the last link's).
        struct Closing {
            guint stream;
            std::shared_ptr<EventLoop> loop;
        };
        nice_agent_close_async(
            agent,
            [](GObject* source, GAsyncResult*, gpointer data) {
                std::unique_ptr<Closing> c(static_cast<Closing*>(data));
                auto* a = NICE_AGENT(source);
                nice_agent_remove_stream(a, c->stream);
                g_object_unref(a);
            },
            new Closing{stream, loop});
    };
    loop_->run_sync(teardown);
}

void IceTransport::start() {
    change_state(TransportState::Connecting);
    if (!nice_agent_gather_candidates(agent_, stream_)) {
        // libnice could bind none of the addresses it may use: there will be no candidate.
        // Gathering is over, with nothing (the layer above says what that means).
        F0_LOG_WARN(logger(), "candidate gathering found no usable local address");
        failure_ = kNoLocalCandidate;
        change_state(TransportState::Failed);
        loop_->post([weak = weak_from_this(), stream = stream_] {
            if (auto self = weak.lock())
                self->handle_gathering_done(stream);
        });
    }
}

void IceTransport::stop() {
    if (hold_timer_)
        loop_->cancel(std::exchange(hold_timer_, 0));
    holding_ = false;
    held_.clear();
    remote_done_held_ = false;
    for (auto s : {stream_, retiring_})
        if (agent_ && s)
            nice_agent_attach_recv(agent_, s, kComponent,
                                   static_cast<GMainContext*>(loop_->native_context()),
                                   discard_recv, nullptr);
    change_state(TransportState::Closed);
}

bool IceTransport::send(std::span<const std::uint8_t> packet) {
    auto st = state();
    if (st != TransportState::Connected && st != TransportState::Connecting)
        return false;
    return nice_agent_send(agent_, retiring_ ? retiring_ : stream_, kComponent,
                           static_cast<guint>(packet.size()),
                           reinterpret_cast<const gchar*>(packet.data())) >= 0;
}

bool IceTransport::restart() {
    if (!agent_ || !stream_)
        return false;
    // A new stream: new credentials, and candidates gathered again (after an address change the
    // old server-reflexive ones lead nowhere). The old stream keeps carrying data until the new
    // one connects, then goes.
    if (retiring_)
        nice_agent_remove_stream(agent_, std::exchange(retiring_, 0)); // a restart of a restart
    auto old = stream_;
    if (!add_stream()) {
        stream_ = old;
        return false;
    }
    retiring_ = old;
    if (hold_timer_)
        loop_->cancel(std::exchange(hold_timer_, 0));
    if (settle_timer_)
        loop_->cancel(std::exchange(settle_timer_, 0));
    holding_ = false;
    held_.clear();
    remote_done_held_ = false;
    early_candidates_.clear();
    remote_credentials_set_ = false;
    remote_candidates_ = 0;
    remote_relay_ = false;
    local_candidates_.clear();
    gathering_done_ = false;
    failure_.clear();
    restarting_ = true;
    F0_LOG_DEBUG(logger(), "ICE restart: stream {} replaces {}, gathering again", stream_, old);
    if (!nice_agent_gather_candidates(agent_, stream_)) {
        F0_LOG_WARN(logger(), "ICE restart: gathering did not start");
        return false;
    }
    return true;
}

void IceTransport::set_remote_credentials(const std::string& ufrag, const std::string& pwd) {
    nice_agent_set_remote_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str());
    remote_credentials_set_ = true;
    if (holding_ && !hold_timer_) {
        std::weak_ptr<IceTransport> weak = weak_from_this();
        hold_timer_ = loop_->call_later(config_.hold_checks, [weak] {
            if (auto self = weak.lock()) {
                self->hold_timer_ = 0;
                self->release_hold("no check from the peer yet");
            }
        });
    }
    auto early = std::move(early_candidates_);
    for (const auto& c : early)
        add_remote_candidate(c);
}

std::uint64_t IceTransport::remote_candidates_refused() {
    return g_remote_refused.load(std::memory_order_relaxed);
}

bool IceTransport::add_remote_candidate(const sdp::Candidate& candidate) {
    if (candidate.transport != "udp") {
        F0_LOG_DEBUG(logger(), "ignoring {} candidate {}", candidate.transport, candidate.address);
        return false;
    }
    if (candidate.is_mdns()) {
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_INFO(logger(), "ignoring mDNS candidate {} (not resolvable here; {} so far)",
                        candidate.address, *n);
        return false;
    }
    if (!remote_credentials_set_) {
        if (early_candidates_.size() >= config_.max_remote_candidates) {
            g_remote_refused.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        early_candidates_.push_back(candidate);
        return true;
    }
    if (holding_) {
        if (held_.size() >= config_.max_remote_candidates) {
            g_remote_refused.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        held_.push_back(candidate);
        return true;
    }
    if (remote_candidates_ >= config_.max_remote_candidates) {
        if (g_remote_refused.fetch_add(1, std::memory_order_relaxed) % 1000 == 0)
            F0_LOG_INFO(logger(), "remote candidate {} ignored: {} per connection at most",
                        candidate.address, config_.max_remote_candidates);
        return false;
    }
    ++remote_candidates_;
    remote_relay_ = remote_relay_ || candidate.type == "relay";
    std::string line = "a=" + candidate.to_string();
    NiceCandidate* c = nice_agent_parse_remote_candidate_sdp(agent_, stream_, line.c_str());
    if (!c) {
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_WARN(logger(), "libnice rejected candidate '{}' ({} so far)", line, *n);
        return false;
    }
    GSList* list = g_slist_append(nullptr, c);
    int added = nice_agent_set_remote_candidates(agent_, stream_, kComponent, list);
    g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
    return added > 0;
}

void IceTransport::release_hold(const char* why) {
    if (!holding_)
        return;
    holding_ = false;
    if (hold_timer_)
        loop_->cancel(std::exchange(hold_timer_, 0));
    F0_LOG_DEBUG(logger(), "our connectivity checks start: {}", why);
    auto held = std::move(held_);
    for (const auto& c : held)
        add_remote_candidate(c);
    if (std::exchange(remote_done_held_, false))
        remote_gathering_done();
}

void IceTransport::handle_remote_candidate() {
    if (!holding_)
        return;
    // Inside libnice's signal: add the held candidates from the loop, not re-entering the agent.
    std::weak_ptr<IceTransport> weak = weak_from_this();
    loop_->post([weak] {
        if (auto self = weak.lock())
            self->release_hold("the peer's first check arrived");
    });
}

void IceTransport::remote_gathering_done() {
    if (holding_) { // told once the held candidates are in, lest libnice judge an empty list
        remote_done_held_ = true;
        return;
    }
    nice_agent_peer_candidate_gathering_done(agent_, stream_);
}

void IceTransport::handle_candidate(void* nice_candidate) {
    auto* c = static_cast<NiceCandidate*>(nice_candidate);
    if (c->stream_id != stream_)
        return; // the retiring stream's
    gchar* line = nice_agent_generate_local_candidate_sdp(agent_, c);
    if (!line)
        return;
    auto parsed = sdp::Candidate::parse(line);
    g_free(line);
    if (!parsed) {
        F0_LOG_WARN(logger(), "cannot read libnice's own candidate: {}", parsed.error().message);
        return;
    }
    local_candidates_.push_back(parsed.value());
    if (on_candidate_)
        on_candidate_(parsed.value());
    if (parsed.value().type == "relay" && !gathering_done_ && !settle_timer_) {
        std::weak_ptr<IceTransport> weak = weak_from_this();
        settle_timer_ = loop_->call_later(config_.relay_settles_gathering, [weak] {
            auto self = weak.lock();
            if (!self)
                return;
            self->settle_timer_ = 0;
            if (self->gathering_done_)
                return;
            F0_LOG_DEBUG(logger(),
                         "gathering ends {} ms after the relay candidate; the rest is "
                         "left out (a STUN answer that has not come)",
                         self->config_.relay_settles_gathering.count());
            self->handle_gathering_done(self->stream_);
        });
    }
}

void IceTransport::handle_gathering_done(unsigned stream) {
    if (stream != stream_)
        return;
    if (settle_timer_)
        loop_->cancel(std::exchange(settle_timer_, 0));
    if (gathering_done_)
        return; // libnice's own end, after we stopped waiting for it
    gathering_done_ = true;
    if (local_candidates_.empty() && failure_.empty())
        failure_ = kNoLocalCandidate;
    if (on_gathering_done_)
        on_gathering_done_();
}

void IceTransport::handle_component_state(unsigned stream, unsigned state) {
    F0_LOG_DEBUG(logger(), "stream {} component state {}", stream,
                 nice_component_state_to_string(static_cast<NiceComponentState>(state)));
    if (stream != stream_)
        return; // the retiring stream: it carries data until the new one connects, no more
    switch (state) {
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
        was_connected_ = true;
        if (std::exchange(restarting_, false)) {
            ++restarts_completed_;
            F0_LOG_DEBUG(logger(), "ICE restart: connected again on stream {}", stream_);
            if (retiring_) { // not from inside libnice's signal
                std::weak_ptr<IceTransport> weak = weak_from_this();
                loop_->post([weak, old = std::exchange(retiring_, 0)] {
                    if (auto self = weak.lock())
                        nice_agent_remove_stream(self->agent_, old);
                });
            }
        }
        change_state(TransportState::Connected);
        break;
    case NICE_COMPONENT_STATE_FAILED:
        if (failure_.empty())
            failure_ = was_connected_ ? "ICE consent expired: the peer stopped answering "
                                        "connectivity checks (RFC 7675 consent freshness)"
                                      : no_pair_reason();
        change_state(TransportState::Failed);
        break;
    default:
        break;
    }
}

void IceTransport::handle_receive(const char* buf, unsigned len) {
    deliver({reinterpret_cast<const std::uint8_t*>(buf), len});
}

// Why no pair works, as far as the candidates tell: the operator's next step is in it.
std::string IceTransport::no_pair_hint() const {
    bool local_relay = false;
    for (const auto& c : local_candidates_)
        local_relay = local_relay || c.type == "relay";
    if (remote_candidates_ == 0)
        return "the peer gave no candidate we could use";
    if (!local_relay && !remote_relay_)
        return "no direct path between the peers' networks (behind an address-dependent "
               "(symmetric) NAT, or one that blocks UDP) and neither side has a TURN relay: "
               "configure --turn";
    return local_relay ? "not even through our TURN relay"
                       : "not even through the peer's TURN relay";
}

std::string IceTransport::no_pair_reason() const {
    return "ICE: no candidate pair succeeded; " + no_pair_hint();
}

const char* to_string(TurnTransport t) {
    switch (t) {
    case TurnTransport::Tcp:
        return "tcp";
    case TurnTransport::Tls:
        return "tls";
    default:
        return "udp";
    }
}

std::optional<SelectedPair> IceTransport::selected_pair() const {
    NiceCandidate *local = nullptr, *remote = nullptr;
    if (!agent_ || !nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote))
        return std::nullopt;
    static const char* types[] = {"host", "srflx", "prflx", "relay"};
    SelectedPair p;
    char buf[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&local->addr, buf);
    p.local_address = buf;
    p.local_port = static_cast<std::uint16_t>(nice_address_get_port(&local->addr));
    nice_address_to_string(&remote->addr, buf);
    p.remote_address = buf;
    p.remote_port = static_cast<std::uint16_t>(nice_address_get_port(&remote->addr));
    p.local_type = types[local->type % 4];
    p.remote_type = types[remote->type % 4];
    p.protocol = local->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp";
    return p;
}

} // namespace f0::rtc::ice

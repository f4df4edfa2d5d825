// Composition of the stack and the offer/answer state machine. All work happens on the loop thread
// (run_sync), so the layers see one thread and libnice emits its signals there.
#include "rtc/peer_connection.hpp"

#include "util/log.hpp"

#include <random>

namespace f0::rtc {

namespace {
const auto& logger() {
    static const auto& l = log::forever("rtc.pc");
    return l;
}

std::string random_session_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::to_string(rng() >> 2);
}
} // namespace

std::string_view to_string(PeerState s) {
    switch (s) {
    case PeerState::New:
        return "new";
    case PeerState::Connecting:
        return "connecting";
    case PeerState::Connected:
        return "connected";
    case PeerState::Failed:
        return "failed";
    case PeerState::Closed:
        return "closed";
    }
    return "?";
}

std::shared_ptr<PeerConnection> PeerConnection::create(RtcConfig config) {
    return std::shared_ptr<PeerConnection>(new PeerConnection(std::move(config)));
}

PeerConnection::PeerConnection(RtcConfig config) : config_(std::move(config)) {
    loop_ = config_.loop ? config_.loop : EventLoop::shared();
    if (!config_.certificate)
        config_.certificate = dtls::Certificate::shared_default();
    channels_ = std::make_shared<datachannel::DataChannelRegistry>(loop_, config_.max_streams);
    session_id_ = random_session_id();
}

PeerConnection::~PeerConnection() {
    auto ice = std::move(ice_);
    auto dtls = std::move(dtls_);
    auto mux = std::move(mux_);
    auto sctp = std::move(sctp_);
    auto channels = std::move(channels_);
    loop_->run_sync([&] {
        if (channels)
            channels->association_closed();
        if (sctp)
            sctp->abort(); // as close() does
        if (dtls)
            dtls->stop();
        if (ice)
            ice->stop();
        sctp.reset();
        mux.reset();
        dtls.reset();
        ice.reset();
    });
}

void PeerConnection::set_state(PeerState s) {
    auto old = state_.exchange(s);
    if (old == s)
        return;
    if (old == PeerState::Closed) {
        state_ = old;
        return;
    }
    if (on_state_)
        on_state_(s);
}

Status PeerConnection::make_ice(bool controlling, bool answering) {
    ice::IceConfig ic;
    ic.controlling = controlling;
    // An ICE-lite offerer never checks: nothing to wait for.
    if (answering && !controlling)
        ic.hold_checks = config_.answerer_check_hold;
    ic.bind_addresses = config_.bind_addresses;
    ic.stun = config_.stun;
    ic.turn = config_.turn;
    ic.relay_only = config_.relay_only;
    ic.port_min = config_.port_min;
    ic.port_max = config_.port_max;
    ice_ = ice::IceTransport::create(loop_, ic);
    if (!ice_)
        return make_error("cannot create the ICE agent");
    std::weak_ptr<PeerConnection> weak = weak_from_this();
    ice_->on_local_candidate([weak](const sdp::Candidate& c) {
        if (auto self = weak.lock())
            if (self->on_candidate_)
                self->on_candidate_(c.to_string(), self->remote_ ? self->remote_->mid : "0");
    });
    ice_->on_receive([weak](std::span<const std::uint8_t> packet) {
        auto self = weak.lock();
        if (self && self->early_packets_.size() < 8)
            self->early_packets_.emplace_back(packet.begin(), packet.end());
    });
    ice_->on_gathering_done([weak] {
        auto self = weak.lock();
        if (!self)
            return;
        // Nothing to offer: no peer could ever reach us. Say so now, not after a dial timeout.
        if (self->ice_->local_candidates().empty() && self->state_ != PeerState::Closed &&
            self->state_ != PeerState::Failed)
            self->fail(self->ice_->failure_reason());
        if (self->on_gathering_complete_)
            self->on_gathering_complete_();
    });
    return Ok{};
}

void PeerConnection::build_chain(const sdp::Description& remote, bool dtls_client) {
    dtls::DtlsConfig dc;
    dc.is_client = dtls_client;
    dc.certificate = config_.certificate;
    dc.remote_fingerprints = remote.fingerprints;
    std::atomic_store(&dtls_, dtls::DtlsTransport::create(ice_, loop_, dc));
    datagrams_ = config_.datagrams && remote.datagrams;
    datagram::DatagramMux::DatagramHandler on_datagram;
    if (datagrams_ && on_datagram_)
        on_datagram = on_datagram_;
    std::atomic_store(&mux_, datagram::DatagramMux::create(dtls_, std::move(on_datagram)));

    sctp::SctpConfig sc;
    sc.remote_port = remote.sctp_port;
    sc.streams = config_.max_streams;
    sc.max_message_size = config_.max_message_size;
    sc.remote_max_message_size = remote.max_message_size ? remote.max_message_size : SIZE_MAX;
    sc.send_buffer = sc.receive_buffer =
        std::max(config_.sctp_buffer, config_.max_message_size * 2);
    sctp_ = sctp::SctpAssociation::create(mux_, loop_, sc);

    std::weak_ptr<PeerConnection> weak = weak_from_this();
    auto channels = channels_;
    sctp_->on_message([channels](std::uint16_t s, sctp::Ppid p, std::span<const std::uint8_t> d) {
        channels->handle_message(s, p, d);
    });
    sctp_->on_stream_reset([channels](std::uint16_t s) { channels->handle_stream_reset(s); });
    sctp_->on_oversize(
        [channels](std::uint16_t s, std::size_t bytes) { channels->handle_oversize(s, bytes); });
    sctp_->on_outgoing_reset_done(
        [channels](std::uint16_t s) { channels->handle_outgoing_reset_done(s); });
    sctp_->on_buffered_amount([channels](std::uint16_t s, std::size_t before, std::size_t after) {
        channels->handle_buffered(s, before, after);
    });
    sctp_->on_state_change([weak](TransportState s) {
        if (auto self = weak.lock())
            self->on_sctp_state(s);
    });
    channels_->set_dtls_role(dtls_client);
    channels_->attach(sctp_);
    channels_->on_data_channel([weak](std::shared_ptr<DataChannel> ch) {
        if (auto self = weak.lock())
            if (self->on_channel_)
                self->on_channel_(std::move(ch));
    });
    sctp_->start();
    dtls_->start();
    auto early = std::move(early_packets_);
    for (const auto& p : early)
        ice_->handle_receive(reinterpret_cast<const char*>(p.data()),
                             static_cast<unsigned>(p.size()));
}

void PeerConnection::fail(std::string why) {
    F0_LOG_INFO(logger(), "connection failed: {}", why);
    {
        std::lock_guard lock(failure_mu_);
        failure_ = std::move(why);
    }
    set_state(PeerState::Failed);
}

void PeerConnection::on_sctp_state(TransportState s) {
    switch (s) {
    case TransportState::Connected:
        channels_->association_open();
        F0_LOG_DEBUG(logger(), "connected");
        set_state(PeerState::Connected);
        break;
    case TransportState::Failed: {
        std::string why = ice_ && !ice_->failure_reason().empty() ? ice_->failure_reason()
                          : dtls_ && !dtls_->failure_reason().empty()
                              ? "DTLS " + dtls_->failure_reason()
                              : "SCTP gave up";
        channels_->association_closed();
        fail(std::move(why));
        break;
    }
    case TransportState::Closed:
        if (!closing_)
            closed_by_peer_ = true;
        F0_LOG_DEBUG(logger(), "closed{}", closing_ ? "" : " by the peer");
        channels_->association_closed();
        set_state(PeerState::Closed);
        break;
    default:
        break;
    }
}

sdp::Description PeerConnection::describe_local() const {
    sdp::Description d;
    d.type = *local_type_;
    d.session_id = session_id_;
    d.mid = remote_ ? remote_->mid : "0";
    d.ice_ufrag = ice_->local_ufrag();
    d.ice_pwd = ice_->local_pwd();
    d.ice_trickle = true;
    d.fingerprints = {config_.certificate->fingerprint()};
    d.setup = local_setup_;
    d.sctp_port = 5000;
    d.max_message_size = config_.max_message_size;
    d.candidates = ice_->local_candidates();
    d.end_of_candidates = ice_->gathering_done();
    // An answer offers datagrams only back to an offer that did.
    d.datagrams =
        config_.datagrams && (d.type == sdp::Type::Offer || (remote_ && remote_->datagrams));
    return d;
}

Result<std::string> PeerConnection::create_offer() {
    F0_LOG_DEBUG(logger(), "create_offer");
    Result<std::string> out = make_error("not run");
    loop_->run_sync([&] {
        if (state_ == PeerState::Closed) {
            out = make_error("the connection is closed");
            return;
        }
        if (remote_) {
            out = make_error(
                "create_offer after a remote description: renegotiation is not supported");
            return;
        }
        if (!ice_) {
            if (auto st = make_ice(true, false); !st) {
                out = st.error();
                return;
            }
            local_type_ = sdp::Type::Offer;
            local_setup_ = sdp::Setup::ActPass;
            set_state(PeerState::Connecting);
            ice_->start();
        }
        out = describe_local().to_string();
    });
    return out;
}

Result<std::string> PeerConnection::restart_ice() {
    F0_LOG_DEBUG(logger(), "restart_ice");
    Result<std::string> out = make_error("not run");
    loop_->run_sync([&] {
        if (state_ == PeerState::Closed || state_ == PeerState::Failed) {
            out = make_error("the connection is " + std::string(to_string(state_.load())));
            return;
        }
        if (!ice_ || !remote_) {
            out = make_error("an ICE restart needs a completed offer/answer");
            return;
        }
        if (!ice_->restart()) {
            out = make_error("libnice refused the ICE restart");
            return;
        }
        // Our DTLS role stays what it is (RFC 8842: a subsequent offer names the current one).
        if (local_setup_ == sdp::Setup::ActPass)
            local_setup_ =
                remote_->setup == sdp::Setup::Passive ? sdp::Setup::Active : sdp::Setup::Passive;
        local_type_ = sdp::Type::Offer;
        restart_offered_ = true;
        out = describe_local().to_string();
    });
    return out;
}

// A description after the first offer/answer is accepted only as an ICE restart: new ICE
// credentials, the same DTLS fingerprint. Everything above ICE stays.
Status PeerConnection::apply_restart(const sdp::Description& remote, sdp::Type type) {
    if (remote.fingerprints != remote_->fingerprints)
        return make_error("a new description with another DTLS fingerprint: renegotiation is not "
                          "supported (only an ICE restart)");
    if (remote.ice_ufrag == remote_->ice_ufrag && remote.ice_pwd == remote_->ice_pwd)
        return make_error("a new description with the same ICE credentials: renegotiation is not "
                          "supported (only an ICE restart)");
    if (type == sdp::Type::Offer) {
        if (restart_offered_)
            return make_error("got a restart offer while our own is pending (glare)");
        if (!ice_->restart())
            return make_error("libnice refused the ICE restart");
        local_type_ = sdp::Type::Answer;
    } else {
        if (!restart_offered_)
            return make_error("got an answer without having made an offer");
        restart_offered_ = false;
    }
    remote_ = remote;
    ice_->set_remote_credentials(remote.ice_ufrag, remote.ice_pwd);
    for (const auto& c : remote.candidates)
        ice_->add_remote_candidate(c);
    if (remote.end_of_candidates)
        ice_->remote_gathering_done();
    F0_LOG_DEBUG(logger(), "ICE restart: {} applied", sdp::to_string(type));
    return Ok{};
}

Status PeerConnection::set_remote_description(std::string_view text, sdp::Type type) {
    F0_LOG_DEBUG(logger(), "set_remote_description({})", sdp::to_string(type));
    auto parsed = sdp::Description::parse(text, type);
    if (!parsed)
        return parsed.error();
    Status out = Ok{};
    loop_->run_sync([&] {
        if (remote_) {
            out = ice_ && state_ != PeerState::Closed ? apply_restart(parsed.value(), type)
                                                      : make_error("the connection is closed");
            return;
        }
        const auto& remote = parsed.value();
        bool dtls_client;
        if (type == sdp::Type::Offer) {
            if (local_type_) {
                out = make_error("got an offer while our own offer is pending (glare)");
                return;
            }
            // The answerer is controlled, unless the offerer is ICE-lite (RFC 8445 section 6.1.1).
            if (auto st = make_ice(remote.ice_lite, true); !st) {
                out = st.error();
                return;
            }
            // Answerer: be the DTLS server (a=setup:passive) unless the offerer insists on being
            // it. The offerer then starts the handshake, after it has applied our answer: as the
            // client we could send our first flight before it had (it arrives over HTTP, the
            // candidates over UDP), and some stacks (libdatachannel) refuse the certificate of a
            // handshake that comes before the answer (RFC 8842 lets the answerer choose). Our
            // ICE checks wait for the offerer's too (RtcConfig::answerer_check_hold): sooner,
            // they could make its ICE connected, and start its handshake, before the answer.
            dtls_client = remote.setup == sdp::Setup::Passive;
            local_setup_ = dtls_client ? sdp::Setup::Active : sdp::Setup::Passive;
        } else {
            if (local_type_ != sdp::Type::Offer) {
                out = make_error("got an answer without having made an offer");
                return;
            }
            dtls_client = remote.setup == sdp::Setup::Passive;
        }
        remote_ = remote;
        has_remote_ = true;
        build_chain(remote, dtls_client);
        ice_->set_remote_credentials(remote.ice_ufrag, remote.ice_pwd);
        for (const auto& c : remote.candidates)
            ice_->add_remote_candidate(c);
        if (remote.end_of_candidates)
            ice_->remote_gathering_done();
        if (type == sdp::Type::Offer) {
            set_state(PeerState::Connecting);
            ice_->start();
        }
    });
    return out;
}

Result<std::string> PeerConnection::create_answer() {
    F0_LOG_DEBUG(logger(), "create_answer");
    Result<std::string> out = make_error("not run");
    loop_->run_sync([&] {
        if (!remote_ || remote_->type != sdp::Type::Offer) {
            out = make_error("create_answer needs a remote offer first");
            return;
        }
        local_type_ = sdp::Type::Answer;
        out = describe_local().to_string();
    });
    return out;
}

Status PeerConnection::add_remote_candidate(std::string_view line) {
    std::optional<sdp::Candidate> cand;
    if (!line.empty() && line != "a=end-of-candidates") {
        auto c = sdp::Candidate::parse(line);
        if (!c)
            return c.error();
        cand = std::move(c).value();
    }
    if (!has_remote_)
        return make_error("add_remote_candidate needs a remote description first");
    Status out = Ok{};
    loop_->run_sync([&] {
        if (!ice_ || !remote_) {
            out = make_error("add_remote_candidate needs a remote description first");
            return;
        }
        if (cand)
            ice_->add_remote_candidate(*cand);
        else
            ice_->remote_gathering_done();
    });
    return out;
}

std::string PeerConnection::local_description() const {
    std::string out;
    loop_->run_sync([&] {
        if (ice_ && local_type_)
            out = describe_local().to_string();
    });
    return out;
}

bool PeerConnection::gathering_complete() const {
    bool done = false;
    loop_->run_sync([&] { done = ice_ && ice_->gathering_done(); });
    return done;
}

Result<std::shared_ptr<DataChannel>> PeerConnection::create_data_channel(std::string label,
                                                                         DataChannelInit init) {
    Result<std::shared_ptr<DataChannel>> out = make_error("not run");
    loop_->run_sync([&] {
        if (state_ == PeerState::Closed || state_ == PeerState::Failed) {
            out = make_error("the connection is " + std::string(to_string(state_.load())));
            return;
        }
        out = channels_->create(std::move(label), std::move(init));
    });
    return out;
}

std::string PeerConnection::failure_reason() const {
    std::lock_guard lock(failure_mu_);
    return failure_;
}

std::string PeerConnection::ice_hint() const {
    std::string out;
    loop_->run_sync([&] {
        if (ice_ && ice_->state() != TransportState::Connected)
            out = ice_->no_pair_hint();
    });
    return out;
}

void PeerConnection::close_async() {
    loop_->post([self = shared_from_this()] { self->close(); });
}

void PeerConnection::release_async(std::shared_ptr<PeerConnection> pc) {
    if (!pc)
        return;
    auto loop = pc->loop_;
    loop->post([pc = std::move(pc)]() mutable { pc.reset(); });
}

void PeerConnection::close() {
    loop_->run_sync([&] {
        if (state_ == PeerState::Closed)
            return;
        closing_ = true;
        channels_->association_closed();
        // An ABORT, as browsers send on close(): DTLS stops right after, so a SHUTDOWN could
        // never complete, and a peer that waits for its SHUTDOWN-COMPLETE (aiortc) would keep
        // its channels open until its timers give up.
        if (sctp_)
            sctp_->abort();
        if (dtls_)
            dtls_->stop();
        if (ice_)
            ice_->stop();
        set_state(PeerState::Closed);
    });
}

bool PeerConnection::send_datagram(std::span<const std::uint8_t> payload) {
    if (!datagrams_ || state_ != PeerState::Connected)
        return false;
    auto mux = std::atomic_load(&mux_);
    return mux && mux->send_datagram(payload);
}

std::pair<std::uint64_t, std::uint64_t> PeerConnection::wire_bytes() const {
    auto dtls = std::atomic_load(&dtls_);
    return dtls ? std::make_pair(dtls->bytes_sent(), dtls->bytes_received())
                : std::pair<std::uint64_t, std::uint64_t>{0, 0};
}

PeerStats PeerConnection::stats() const {
    PeerStats s;
    loop_->run_sync([&] {
        for (const auto& ch : channels_->channels()) {
            s.bytes_sent += ch->bytes_sent();
            s.bytes_received += ch->bytes_received();
            s.messages_sent += ch->messages_sent();
            s.messages_received += ch->messages_received();
        }
        if (dtls_) {
            s.wire_bytes_sent = dtls_->bytes_sent();
            s.wire_bytes_received = dtls_->bytes_received();
        }
        if (ice_) {
            s.selected_pair = ice_->selected_pair();
            s.ice_restarts = ice_->restarts_completed();
        }
        if (sctp_)
            s.sctp_rtt = sctp_->smoothed_rtt();
    });
    return s;
}

} // namespace f0::rtc

// PeerConnection: the one public face of the rtc stack. Composes ICE -> DTLS -> SCTP ->
// DataChannels and speaks SDP offer/answer (JSEP subset for data-only sessions). Methods are safe
// from any thread; handlers run on the EventLoop thread and must be set before
// create_offer()/set_remote_description().
#pragma once

#include "rtc/datachannel/data_channel.hpp"
#include "rtc/datachannel/data_channel_registry.hpp"
#include "rtc/datagram/datagram_mux.hpp"
#include "rtc/dtls/certificate.hpp"
#include "rtc/dtls/dtls_transport.hpp"
#include "rtc/event_loop.hpp"
#include "rtc/ice/ice_transport.hpp"
#include "rtc/sctp/sctp_association.hpp"
#include "rtc/sdp/description.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace f0::rtc {

using datachannel::DataChannel;
using datachannel::DataChannelInit;

struct RtcConfig {
    std::shared_ptr<EventLoop> loop;                // default: EventLoop::shared()
    std::shared_ptr<dtls::Certificate> certificate; // default: one per process
    std::vector<std::string> bind_addresses;        // host candidates; empty: all interfaces
    std::optional<ice::ServerAddress> stun;
    std::optional<ice::TurnServer> turn;
    bool relay_only = false;
    std::uint16_t port_min = 0, port_max = 0;
    std::size_t max_message_size = 262144; // what we accept; advertised as a=max-message-size
    // SCTP streams each way, so channel ids 0..127. usrsctp allocates state for every stream up
    // front (~100 bytes each way), so 1024 streams would cost ~100 MB per 1000 connections.
    std::uint16_t max_streams = 128;
    std::size_t sctp_buffer = 1 << 20; // usrsctp send and receive buffers (bytes)
    // How long an answerer waits for the offerer's first connectivity check before checking
    // itself (ice::IceConfig::hold_checks). Checks that cannot reach us (our NAT drops them until
    // we send) cost this much of the 3 s connection budget; on an open path the offerer's check
    // ends the wait within a round trip of our answer.
    std::chrono::milliseconds answerer_check_hold{250};
    // Offer/accept datagrams beside SCTP (a=x-f0-datagram, rtc/datagram/datagram_codec.hpp);
    // used only when the peer offers them too.
    bool datagrams = true;
};

enum class PeerState { New, Connecting, Connected, Failed, Closed };
std::string_view to_string(PeerState s);

struct PeerStats {
    std::uint64_t bytes_sent = 0, bytes_received = 0, messages_sent = 0, messages_received = 0;
    std::uint64_t wire_bytes_sent = 0, wire_bytes_received = 0; // DTLS datagrams, all channels
    std::optional<ice::SelectedPair> selected_pair;
    std::optional<std::chrono::milliseconds> sctp_rtt; // SCTP's smoothed RTT
    unsigned ice_restarts = 0;                         // completed (new checks succeeded)
};

class PeerConnection : public std::enable_shared_from_this<PeerConnection> {
public:
    using CandidateHandler =
        std::function<void(const std::string& candidate, const std::string& mid)>;
    using StateHandler = std::function<void(PeerState)>;
    using ChannelHandler = std::function<void(std::shared_ptr<DataChannel>)>;

    static std::shared_ptr<PeerConnection> create(RtcConfig config = {});
    ~PeerConnection();

    void on_local_candidate(CandidateHandler h) { on_candidate_ = std::move(h); }
    void on_gathering_complete(std::function<void()> h) { on_gathering_complete_ = std::move(h); }
    void on_state_change(StateHandler h) { on_state_ = std::move(h); }
    void on_data_channel(ChannelHandler h) { on_channel_ = std::move(h); }
    // Datagrams from the peer (when both sides offered them), on the loop thread.
    void on_datagram(datagram::DatagramMux::DatagramHandler h) { on_datagram_ = std::move(h); }

    // The returned SDP holds the candidates gathered so far (all host candidates); later ones
    // arrive through on_local_candidate, and local_description() includes them.
    Result<std::string> create_offer();
    Result<std::string> create_answer();
    // ICE restart, offering side: new ICE credentials, and an offer carrying them (same DTLS
    // fingerprint and role, same SCTP association and channels). The peer applies it with
    // set_remote_description(offer) and answers with create_answer(); we apply that answer.
    // Only on a connection that has completed an offer/answer.
    Result<std::string> restart_ice();
    Status set_remote_description(std::string_view sdp, sdp::Type type);
    // A "candidate:..." line (with or without "a="); an empty line means end of candidates.
    Status add_remote_candidate(std::string_view candidate);
    std::string local_description() const;
    bool gathering_complete() const;

    Result<std::shared_ptr<DataChannel>> create_data_channel(std::string label,
                                                             DataChannelInit init = {});
    // One unreliable, unordered datagram of 1..datagram::kMaxPayload bytes beside the channels,
    // inside DTLS but outside SCTP: it never waits behind SCTP's congestion window. False when
    // the peer did not offer datagrams, the connection is not up, or it does not fit. Any thread.
    bool send_datagram(std::span<const std::uint8_t> payload);
    // Both sides offered datagrams (known once the remote description is set).
    bool datagrams() const { return datagrams_.load(); }
    void close();
    // close() on the loop thread, without waiting for it: for callers that must not block on a
    // busy loop (the control thread failing many connections at once).
    void close_async();
    // Lets go of `pc` on its own loop thread, so that its destruction (ICE, DTLS and SCTP
    // teardown) does not block the caller.
    static void release_async(std::shared_ptr<PeerConnection> pc);

    PeerState state() const { return state_.load(); }
    // Closed by the other side (SCTP SHUTDOWN or ABORT, DTLS close_notify), not by close().
    bool closed_by_peer() const { return closed_by_peer_.load(); }
    // Why the connection failed, by the lowest layer that knows (ICE, then DTLS); empty until it
    // has failed or when no layer said. Any thread.
    std::string failure_reason() const;
    // While ICE has no working pair yet: what its candidates say about why (empty otherwise).
    std::string ice_hint() const;
    PeerStats stats() const;
    std::shared_ptr<EventLoop> loop() const { return loop_; }
    // Wire byte counters without a loop hop (for frequent sampling).
    std::pair<std::uint64_t, std::uint64_t> wire_bytes() const;

private:
    explicit PeerConnection(RtcConfig config);
    Status make_ice(bool controlling, bool answering);
    void build_chain(const sdp::Description& remote, bool dtls_client);
    sdp::Description describe_local() const;
    void set_state(PeerState s);
    void on_sctp_state(TransportState s);
    void fail(std::string why); // records why (failure_reason()), then Failed

    RtcConfig config_;
    std::shared_ptr<EventLoop> loop_;
    std::shared_ptr<ice::IceTransport> ice_;
    std::shared_ptr<dtls::DtlsTransport> dtls_;
    std::shared_ptr<datagram::DatagramMux> mux_; // between DTLS and SCTP
    std::shared_ptr<sctp::SctpAssociation> sctp_;
    std::shared_ptr<datachannel::DataChannelRegistry> channels_;
    std::optional<sdp::Type> local_type_;
    std::optional<sdp::Description> remote_;
    sdp::Setup local_setup_ = sdp::Setup::ActPass;
    bool restart_offered_ = false; // our restart offer waits for its answer
    Status apply_restart(const sdp::Description& remote, sdp::Type type); // loop thread
    std::string session_id_;
    // Datagrams that reached the offerer before its answer (RFC 8842 section 5.3: a ClientHello may
    // arrive first); replayed into DTLS once it exists. Bounded: a DTLS flight is a few datagrams.
    std::vector<std::vector<std::uint8_t>> early_packets_;
    std::atomic<PeerState> state_{PeerState::New};
    std::atomic<bool> closed_by_peer_{false}, closing_{false};
    mutable std::mutex failure_mu_;
    std::string failure_;                 // under failure_mu_
    std::atomic<bool> has_remote_{false}; // lets add_remote_candidate fail without a loop hop
    std::atomic<bool> datagrams_{false};

    CandidateHandler on_candidate_;
    std::function<void()> on_gathering_complete_;
    StateHandler on_state_;
    ChannelHandler on_channel_;
    datagram::DatagramMux::DatagramHandler on_datagram_;
};

} // namespace f0::rtc

// ICE (RFC 8445) on libnice: one agent, one stream, one component, UDP only. Host, server-reflexive
// (STUN) and relayed (TURN) candidates; trickle or not. Every libnice call runs on the EventLoop
// thread (libnice emits its signals on the calling thread); send() may be called from any thread.
#pragma once

#include "rtc/event_loop.hpp"
#include "rtc/sdp/candidate.hpp"
#include "rtc/transport.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct _NiceAgent;

namespace f0::rtc::ice {

struct ServerAddress {
    std::string host; // name or IP literal; names are resolved when the agent is made
    std::uint16_t port = 3478;
};

enum class TurnTransport { Udp, Tcp, Tls }; // how we reach the TURN server

struct TurnServer {
    ServerAddress address;
    std::string username;
    std::string password;
    TurnTransport transport = TurnTransport::Udp;
};

const char* to_string(TurnTransport t);

struct IceConfig {
    bool controlling = true;
    std::vector<std::string>
        bind_addresses; // host candidates only on these; empty: every interface
    std::optional<ServerAddress> stun;
    std::optional<TurnServer> turn;
    bool relay_only = false; // gather only relayed candidates (tests, privacy)
    // Once our TURN relay candidate is in, gathering counts as done this long after, whatever is
    // still outstanding: a STUN request that a UDP-blocking network never answers kept an offer
    // back ~2 s on each side (two such peers took 4.1 s to open through TURN over TCP). The
    // relay always works, so only a direct candidate arriving later than this is given up.
    std::chrono::milliseconds relay_settles_gathering{300};
    std::uint16_t port_min = 0; // 0/0: ephemeral ports
    std::uint16_t port_max = 0;
    // Ta, the pacing between connectivity checks: 5 ms, the least RFC 8445 (section 14.2)
    // allows. libnice's default of 20 ms slows setup; less would let one offer make us send
    // checks faster than the RFC permits (with 16 remote candidates at most: ~200 a second).
    std::chrono::milliseconds pacing{5};
    // Remote candidates used per connection (SDP and trickled alike); the rest are ignored, so
    // that one offer cannot aim our connectivity checks at a hundred addresses of its choosing.
    std::size_t max_remote_candidates = 16;
    // The answerer's own connectivity checks wait until the offerer's first check arrives (so the
    // offerer has applied our answer: it needs our credentials to check) or this long has passed
    // (its checks may not reach us, behind a NAT). Until then we only answer checks. Sooner, our
    // checks can make the offerer's ICE connected before it has read our answer, and a stack that
    // then starts DTLS without our fingerprint (libdatachannel) refuses the handshake. 0: no hold.
    std::chrono::milliseconds hold_checks{0};
};

struct SelectedPair {
    std::string local_address, remote_address;
    std::uint16_t local_port = 0, remote_port = 0;
    std::string local_type, remote_type; // host, srflx, prflx, relay
    std::string protocol;                // of the pair itself: udp or tcp
};

// Why a connection that gathered nothing can never work.
inline constexpr const char* kNoLocalCandidate =
    "ICE gathered no local candidate: none of the addresses it may use (RtcConfig::bind_addresses, "
    "a worker's --ice-address) is up on this host, and no STUN or TURN server answered";

class IceTransport : public Transport, public std::enable_shared_from_this<IceTransport> {
public:
    using CandidateHandler = std::function<void(const sdp::Candidate&)>;
    using DoneHandler = std::function<void()>;

    // Must be called on the loop thread.
    static std::shared_ptr<IceTransport> create(std::shared_ptr<EventLoop> loop, IceConfig config);
    ~IceTransport() override;

    void on_local_candidate(CandidateHandler h) { on_candidate_ = std::move(h); }
    void on_gathering_done(DoneHandler h) { on_gathering_done_ = std::move(h); }

    // The rest must be called on the loop thread, except send().
    void start() override; // starts gathering
    void stop() override;
    bool send(std::span<const std::uint8_t> packet) override;

    // ICE restart (RFC 8445 section 9): a new libnice stream with new local credentials and
    // candidates gathered again (on_candidate/on_gathering_done report them); the peer's come
    // with set_remote_credentials/add_remote_candidate. The old stream's pair keeps carrying data
    // until the new stream connects, and DTLS above never sees a state change unless the restart
    // itself fails. Loop thread.
    bool restart();
    // Restarts whose new checks succeeded (the component ready again on the new credentials).
    unsigned restarts_completed() const { return restarts_completed_; }
    const std::string& local_ufrag() const { return ufrag_; }
    const std::string& local_pwd() const { return pwd_; }
    std::vector<sdp::Candidate> local_candidates() const { return local_candidates_; }
    bool gathering_done() const { return gathering_done_; }

    void set_remote_credentials(const std::string& ufrag, const std::string& pwd);
    // False when the candidate cannot be used (mDNS name, TCP); the reason is logged.
    bool add_remote_candidate(const sdp::Candidate& candidate);
    // Remote candidates ignored over max_remote_candidates, by every transport of the process.
    static std::uint64_t remote_candidates_refused();
    void remote_gathering_done();
    std::optional<SelectedPair> selected_pair() const;
    // True while our own checks wait (IceConfig::hold_checks). Loop thread.
    bool holding_checks() const { return holding_; }
    // While no pair works yet: what the candidates say about why (as when it fails), e.g.
    // "... neither side has a TURN relay: configure --turn". Loop thread.
    std::string no_pair_hint() const;
    // Why ICE failed (empty until it has): no pair ever worked, or consent expired on a working
    // one (RFC 7675: the peer stopped answering; libnice gives up after about 10 s, within the
    // RFC's 30 s). Loop thread.
    const std::string& failure_reason() const { return failure_; }

    // libnice signal entry points.
    void handle_candidate(void* nice_candidate);
    void handle_gathering_done(unsigned stream);
    void handle_component_state(unsigned stream, unsigned state);
    void handle_receive(const char* buf, unsigned len);
    void handle_remote_candidate(); // a peer-reflexive remote candidate: the peer's check arrived

private:
    IceTransport(std::shared_ptr<EventLoop> loop, IceConfig config);
    bool init();
    void release_hold(const char* why);

    std::string failure_;
    bool was_connected_ = false;
    std::shared_ptr<EventLoop> loop_;
    IceConfig config_;
    _NiceAgent* agent_ = nullptr;
    unsigned stream_ = 0;
    std::string ufrag_, pwd_;
    std::vector<sdp::Candidate> local_candidates_;
    bool gathering_done_ = false;
    bool remote_credentials_set_ = false;
    std::vector<sdp::Candidate> early_candidates_; // added before the remote credentials
    std::size_t remote_candidates_ = 0;            // accepted so far (max_remote_candidates)
    bool remote_relay_ = false;                    // the peer offered a TURN relay candidate
    std::string no_pair_reason() const;
    EventLoop::TimerId settle_timer_ = 0;
    bool restarting_ = false;
    unsigned retiring_ = 0; // the stream a restart replaces; carries data until the new connects
    bool add_stream();
    unsigned restarts_completed_ = 0;
    bool holding_ = false;             // config_.hold_checks in progress
    std::vector<sdp::Candidate> held_; // remote candidates not yet checked
    EventLoop::TimerId hold_timer_ = 0;
    bool remote_done_held_ = false; // the peer's end-of-candidates came while holding
    CandidateHandler on_candidate_;
    DoneHandler on_gathering_done_;
};

} // namespace f0::rtc::ice

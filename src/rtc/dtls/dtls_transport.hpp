// DTLS 1.2 over any lower Transport (ICE, or a sim::VirtualLink in tests). Verifies the peer's
// certificate against the fingerprints from its SDP. Handshake retransmissions run on the
// EventLoop.
#pragma once

#include "rtc/dtls/certificate.hpp"
#include "rtc/event_loop.hpp"
#include "rtc/transport.hpp"

#include <memory>
#include <mutex>
#include <vector>

struct ssl_st;
struct bio_st;

namespace f0::rtc::dtls {

struct DtlsConfig {
    bool is_client = true; // from a=setup: "active" is the DTLS client
    std::shared_ptr<Certificate> certificate;
    std::vector<sdp::Fingerprint> remote_fingerprints;
    std::size_t mtu = 1200;                            // largest handshake datagram (bytes)
    std::chrono::milliseconds initial_retransmit{300}; // doubles up to 8 s on each loss
};

class DtlsTransport : public Transport, public std::enable_shared_from_this<DtlsTransport> {
public:
    static std::shared_ptr<DtlsTransport>
    create(std::shared_ptr<Transport> lower, std::shared_ptr<EventLoop> loop, DtlsConfig config);
    ~DtlsTransport() override;

    void start() override;
    void stop() override;
    bool send(std::span<const std::uint8_t> data) override;

    bool is_client() const { return config_.is_client; }
    // Datagram bytes through this transport (what the wire carries above UDP), both directions.
    std::uint64_t bytes_sent() const { return bytes_sent_.load(std::memory_order_relaxed); }
    std::uint64_t bytes_received() const { return bytes_received_.load(std::memory_order_relaxed); }
    const std::string& failure_reason() const { return failure_; }
    // The SRTP protection profile the handshake agreed on (use_srtp, RFC 5764; no keys are used),
    // or empty before the handshake or when the peer did not offer the extension.
    std::string srtp_profile() const;

    // Called by the write BIO: one datagram to the lower transport.
    bool send_datagram(std::span<const std::uint8_t> datagram);

private:
    DtlsTransport(std::shared_ptr<Transport> lower, std::shared_ptr<EventLoop> loop,
                  DtlsConfig config);
    void on_lower_receive(std::span<const std::uint8_t> data);
    void on_lower_state(TransportState state);
    // Both run with mu_ held; they return the state to report once mu_ is released.
    TransportState continue_handshake_locked();
    void arm_timer_locked();
    void on_timer();
    void fail(const std::string& why);

    std::shared_ptr<Transport> lower_;
    std::shared_ptr<EventLoop> loop_;
    DtlsConfig config_;
    mutable std::mutex mu_;
    ssl_st* ssl_ = nullptr;
    bio_st* rbio_ = nullptr;
    bool handshake_started_ = false;
    bool connected_ = false;
    bool stopped_ = false;
    EventLoop::TimerId timer_ = 0;
    std::string failure_;
    std::atomic<std::uint64_t> bytes_sent_{0}, bytes_received_{0};
    // Datagrams received while the lower transport cannot send yet (ICE has no selected pair):
    // answering them now would lose the answer, so they wait for Connected. Loop thread only.
    std::vector<std::vector<std::uint8_t>> held_;
};

} // namespace f0::rtc::dtls

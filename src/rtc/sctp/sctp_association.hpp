// An SCTP association (RFC 8831) over any lower Transport (DTLS), on usrsctp's AF_CONN interface.
// It moves whole messages tagged with a stream id and a PPID; DataChannels live above it.
#pragma once

#include "rtc/event_loop.hpp"
#include "rtc/sctp/usrsctp_runtime.hpp"
#include "rtc/transport.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

struct socket;

namespace f0::rtc::sctp {

// RFC 8831 section 8 payload protocol identifiers.
enum class Ppid : std::uint32_t {
    Dcep = 50,
    String = 51,
    Binary = 53,
    StringEmpty = 56,
    BinaryEmpty = 57,
};

struct Reliability {
    bool ordered = true;
    std::optional<std::uint16_t> max_retransmits; // partial reliability by count
    std::optional<std::uint32_t> max_lifetime_ms; // partial reliability by time
};

struct SctpConfig {
    std::uint16_t local_port = 5000;
    std::uint16_t remote_port = 5000;
    std::uint16_t streams = 1024;                // inbound and outbound streams offered
    std::size_t max_message_size = 262144;       // largest message we accept (a=max-message-size)
    std::size_t remote_max_message_size = 65536; // largest the peer accepts (its SDP)
    std::size_t send_buffer = 1 << 20;           // usrsctp socket buffer (bytes)
    std::size_t receive_buffer = 1 << 20;
    // Bytes waiting behind usrsctp's send buffer (a peer that stops reading makes it grow as fast
    // as we send): past this, send() refuses, as a browser's send() does with a full buffer.
    std::size_t max_queued_bytes = 16u << 20;
    std::size_t mtu = 1200; // SCTP packet size; DTLS adds ~37 bytes (WebRTC keeps UDP under 1280)
};

enum class SendResult { Sent, Queued, Failed };

class SctpAssociation : public std::enable_shared_from_this<SctpAssociation> {
public:
    using MessageHandler =
        std::function<void(std::uint16_t stream, Ppid ppid, std::span<const std::uint8_t> data)>;
    using StreamHandler = std::function<void(std::uint16_t stream)>;
    using BufferedHandler =
        std::function<void(std::uint16_t stream, std::size_t before, std::size_t after)>;
    using StateHandler = std::function<void(TransportState)>;

    // Sends refused, process-wide, because an association's queue was full (for /metrics).
    static std::uint64_t sends_refused_queue_full();
    // Incoming messages over max_message_size, discarded whole (every piece through the last),
    // process-wide (for /metrics).
    static std::uint64_t messages_refused_oversize();

    static std::shared_ptr<SctpAssociation>
    create(std::shared_ptr<Transport> lower, std::shared_ptr<EventLoop> loop, SctpConfig config);
    ~SctpAssociation();

    // Handlers are set before start() and not changed afterwards. They run on the loop thread.
    void on_message(MessageHandler h) { on_message_ = std::move(h); }
    void on_stream_reset(StreamHandler h) { on_reset_ = std::move(h); } // peer closed a stream
    // Our reset of an outgoing stream is done (or was refused): only now may its id carry a new
    // channel (RFC 6525 section 5.1; data sent on it earlier is held or lost by the peer).
    void on_outgoing_reset_done(StreamHandler h) { on_out_reset_ = std::move(h); }
    void on_buffered_amount(BufferedHandler h) { on_buffered_ = std::move(h); } // it went down
    void on_state_change(StateHandler h) { on_state_ = std::move(h); }
    // A message over max_message_size came on `stream` and was discarded whole; `bytes` is how
    // much of it had arrived when it went over (the channel is closed by the registry).
    void on_oversize(std::function<void(std::uint16_t stream, std::size_t bytes)> h) {
        on_oversize_ = std::move(h);
    }

    void start();
    void stop();
    TransportState state() const { return state_.load(); }

    // Safe from any thread. Empty messages go out with the "empty" PPIDs (RFC 8831 6.6).
    Result<SendResult> send(std::uint16_t stream, Ppid ppid, std::span<const std::uint8_t> data,
                            const Reliability& reliability);
    std::size_t buffered_amount(std::uint16_t stream) const;
    // Resets our outgoing stream (closing a DataChannel); the peer answers by resetting its own.
    void reset_stream(std::uint16_t stream);
    // Ends the association with an ABORT (RFC 4960 9.1) rather than a SHUTDOWN. Loop thread.
    void abort();

    std::optional<std::chrono::milliseconds> smoothed_rtt() const;
    const SctpConfig& config() const { return config_; }

    // usrsctp entry points (called through the process-wide registry).
    void handle_outgoing(const void* packet, std::size_t len);
    void handle_receive(void* data, std::size_t len, std::uint16_t stream, std::uint32_t ppid,
                        int flags);
    void handle_writable();

private:
    SctpAssociation(std::shared_ptr<Transport> lower, std::shared_ptr<EventLoop> loop,
                    SctpConfig config);
    void connect();
    void handle_notification(const void* data, std::size_t len);
    void flush_queue();
    void set_state(TransportState s);
    bool send_now(std::uint16_t stream, Ppid ppid, std::span<const std::uint8_t> data,
                  const Reliability& reliability, int& err);
    // Passes the wanted resets to usrsctp once everything we sent is acknowledged (or after
    // kResetHoldMax). A reset request carries the last TSN we assigned, and a usrsctp receiver
    // that has not got that far defers the reset and looks at it again only when a later DATA
    // chunk arrives: requested with the last data still in flight, the reset waited forever
    // (seen as channels that never finished closing after a burst).
    void request_resets();
    bool dry() const; // our queue is empty and usrsctp has nothing unsent or unacknowledged
    // Asks usrsctp again to send the resets it accepted and has not done. usrsctp holds a reset
    // back while the stream still has data in flight and is meant to send it once that data is
    // acknowledged, but with several streams draining at once it sometimes never does (seen with
    // 10 channels closed just after 64 KiB was sent on each: 8 resets never left). Asking again
    // for streams it already holds marks nothing new; it only makes usrsctp send what it can.
    void nudge_resets();
    void schedule_reset_nudge();
    bool established() const; // usrsctp's own view: the association is open (SCTP_STATUS)

    struct Pending {
        std::uint16_t stream;
        Ppid ppid;
        std::vector<std::uint8_t> data;
        Reliability reliability;
    };

    std::shared_ptr<Transport> lower_;
    std::shared_ptr<EventLoop> loop_;
    SctpConfig config_;
    std::shared_ptr<UsrsctpRuntime> runtime_;
    std::uintptr_t id_ = 0;
    struct socket* sock_ = nullptr;
    std::atomic<TransportState> state_{TransportState::New};
    std::atomic<bool> flush_posted_{false};

    mutable std::mutex send_mu_; // guards queue_, buffered_ and resets
    std::deque<Pending> queue_;
    std::size_t queued_bytes_ = 0; // the data in queue_
    std::unordered_map<std::uint16_t, std::size_t> buffered_;
    std::set<std::uint16_t> resets_wanted_;    // not yet accepted by usrsctp
    std::set<std::uint16_t> resets_requested_; // accepted, not yet reported done or refused
    bool nudge_scheduled_ = false;
    int nudges_ = 0; // timer rounds since a reset was last requested or finished (bounded)
    std::chrono::steady_clock::time_point resets_wanted_since_{};

    // A message being reassembled from partial deliveries (usrsctp hands one message's pieces
    // at a time per stream): at most max_message_size bytes kept; once over, the rest of the
    // message is counted, not kept, and the whole message is discarded at its last piece.
    struct Partial {
        std::vector<std::uint8_t> bytes;
        std::size_t total = 0;
        bool oversize = false;
    };
    std::unordered_map<std::uint16_t, Partial> partial_; // loop thread only
    std::function<void(std::uint16_t, std::size_t)> on_oversize_;
    MessageHandler on_message_;
    StreamHandler on_reset_;
    StreamHandler on_out_reset_;
    BufferedHandler on_buffered_;
    StateHandler on_state_;
};

} // namespace f0::rtc::sctp

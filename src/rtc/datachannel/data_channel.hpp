// One WebRTC DataChannel (RFC 8831): a bidirectional message stream on one SCTP stream id.
// Handlers run on the rtc EventLoop thread. Set on_message/on_buffered_amount_low before the
// channel opens (or inside on_data_channel for incoming channels); on_open/on_close may be set any
// time. send() and close() are safe from any thread.
#pragma once

#include "rtc/sctp/sctp_association.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace f0::rtc::datachannel {

struct DataChannelInit {
    bool ordered = true;
    std::optional<std::uint16_t> max_retransmits;         // partial reliability by count
    std::optional<std::uint32_t> max_packet_life_time_ms; // partial reliability by time
    std::string protocol;
    bool negotiated = false; // both sides create it with the same id; no DCEP
    std::optional<std::uint16_t> id;
    std::uint16_t priority = 256;
};

enum class ChannelState { Connecting, Open, Closing, Closed };

class DataChannel : public std::enable_shared_from_this<DataChannel> {
public:
    using MessageHandler = std::function<void(std::span<const std::uint8_t> data, bool is_text)>;
    using EventHandler = std::function<void()>;

    DataChannel(std::weak_ptr<sctp::SctpAssociation> association, std::shared_ptr<EventLoop> loop,
                std::string label, DataChannelInit init);

    void on_open(EventHandler h);  // runs at once if already open
    void on_close(EventHandler h); // runs at once if already closed
    void on_message(MessageHandler h) { on_message_ = std::move(h); }
    void on_buffered_amount_low(EventHandler h) { on_low_ = std::move(h); }
    void set_buffered_amount_low_threshold(std::size_t bytes) { low_threshold_ = bytes; }

    // Errors: not open, message larger than the peer's max-message-size, association failure.
    Status send(std::span<const std::uint8_t> binary);
    Status send(std::string_view text);
    void close();

    ChannelState state() const { return state_.load(); }
    bool is_open() const { return state() == ChannelState::Open; }
    std::optional<std::uint16_t> id() const;
    const std::string& label() const { return label_; }
    const DataChannelInit& init() const { return init_; }
    std::size_t buffered_amount() const;

    std::uint64_t bytes_sent() const { return bytes_sent_; }
    std::uint64_t bytes_received() const { return bytes_received_; }
    std::uint64_t messages_sent() const { return messages_sent_; }
    std::uint64_t messages_received() const { return messages_received_; }

    // Used by DataChannelRegistry on the loop thread.
    void assign_id(std::uint16_t id) { id_ = id; }
    void attach(std::weak_ptr<sctp::SctpAssociation> a) { association_ = std::move(a); }
    void mark_acked() { acked_ = true; }
    void mark_open();
    void mark_closed();
    void deliver(std::span<const std::uint8_t> data, bool is_text);
    void buffered_amount_changed(std::size_t before, std::size_t after);
    sctp::Reliability reliability() const;

private:
    Status send_bytes(std::span<const std::uint8_t> data, sctp::Ppid ppid);

    std::weak_ptr<sctp::SctpAssociation> association_;
    std::shared_ptr<EventLoop> loop_;
    std::string label_;
    DataChannelInit init_;
    std::atomic<int> id_{-1};
    std::atomic<ChannelState> state_{ChannelState::Connecting};
    std::atomic<bool> acked_{false};
    std::atomic<std::size_t> low_threshold_{0};

    std::mutex handlers_mu_; // guards on_open_/on_close_ against the open/close transitions
    EventHandler on_open_, on_close_;
    MessageHandler on_message_;
    EventHandler on_low_;

    std::atomic<std::uint64_t> bytes_sent_{0}, bytes_received_{0}, messages_sent_{0},
        messages_received_{0};
};

} // namespace f0::rtc::datachannel

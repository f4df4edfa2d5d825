// DataChannel: maps the channel's reliability to SCTP send parameters and counts traffic.
#include "rtc/datachannel/data_channel.hpp"

namespace f0::rtc::datachannel {

DataChannel::DataChannel(std::weak_ptr<sctp::SctpAssociation> association,
                         std::shared_ptr<EventLoop> loop, std::string label, DataChannelInit init)
    : association_(std::move(association)), loop_(std::move(loop)), label_(std::move(label)),
      init_(std::move(init)) {
    if (init_.negotiated)
        acked_ = true; // no DCEP handshake to wait for
    if (init_.id)
        id_ = *init_.id;
}

std::optional<std::uint16_t> DataChannel::id() const {
    int v = id_.load();
    if (v < 0)
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

void DataChannel::on_open(EventHandler h) {
    std::unique_lock lock(handlers_mu_);
    if (state_ == ChannelState::Open) {
        lock.unlock();
        if (h)
            h();
        return;
    }
    on_open_ = std::move(h);
}

void DataChannel::on_close(EventHandler h) {
    std::unique_lock lock(handlers_mu_);
    if (state_ == ChannelState::Closed) {
        lock.unlock();
        if (h)
            h();
        return;
    }
    on_close_ = std::move(h);
}

void DataChannel::mark_open() {
    EventHandler h;
    {
        std::lock_guard lock(handlers_mu_);
        if (state_ != ChannelState::Connecting)
            return;
        state_ = ChannelState::Open;
        h = on_open_;
    }
    if (h)
        h();
}

void DataChannel::mark_closed() {
    EventHandler h;
    {
        std::lock_guard lock(handlers_mu_);
        if (state_ == ChannelState::Closed)
            return;
        state_ = ChannelState::Closed;
        h = std::move(on_close_);
        on_open_ = nullptr;
    }
    if (h)
        h();
    // Break reference cycles through user handlers that capture this channel.
    loop_->post([self = shared_from_this()] {
        self->on_message_ = nullptr;
        self->on_low_ = nullptr;
    });
}

sctp::Reliability DataChannel::reliability() const {
    sctp::Reliability r;
    // RFC 8832 section 6: until the ACK arrives, messages go ordered so none overtakes the OPEN.
    r.ordered = init_.ordered || !acked_;
    r.max_retransmits = init_.max_retransmits;
    if (!r.max_retransmits)
        r.max_lifetime_ms = init_.max_packet_life_time_ms;
    return r;
}

Status DataChannel::send_bytes(std::span<const std::uint8_t> data, sctp::Ppid ppid) {
    if (state_ != ChannelState::Open)
        return make_error("data channel '" + label_ + "' is not open");
    auto assoc = association_.lock();
    if (!assoc)
        return make_error("data channel '" + label_ + "' has no association");
    auto r = assoc->send(static_cast<std::uint16_t>(id_.load()), ppid, data, reliability());
    if (!r)
        return r.error();
    bytes_sent_ += data.size();
    ++messages_sent_;
    return Ok{};
}

Status DataChannel::send(std::span<const std::uint8_t> binary) {
    return send_bytes(binary, sctp::Ppid::Binary);
}

Status DataChannel::send(std::string_view text) {
    return send_bytes({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                      sctp::Ppid::String);
}

void DataChannel::close() {
    auto expected = ChannelState::Open;
    if (!state_.compare_exchange_strong(expected, ChannelState::Closing)) {
        expected = ChannelState::Connecting;
        if (!state_.compare_exchange_strong(expected, ChannelState::Closing))
            return;
    }
    auto assoc = association_.lock();
    int id = id_.load();
    if (!assoc || id < 0 || assoc->state() != TransportState::Connected) {
        loop_->post([self = shared_from_this()] { self->mark_closed(); });
        return;
    }
    assoc->reset_stream(static_cast<std::uint16_t>(id)); // closed when the peer resets back
}

std::size_t DataChannel::buffered_amount() const {
    auto assoc = association_.lock();
    int id = id_.load();
    return assoc && id >= 0 ? assoc->buffered_amount(static_cast<std::uint16_t>(id)) : 0;
}

void DataChannel::deliver(std::span<const std::uint8_t> data, bool is_text) {
    bytes_received_ += data.size();
    ++messages_received_;
    if (on_message_)
        on_message_(data, is_text);
}

void DataChannel::buffered_amount_changed(std::size_t before, std::size_t after) {
    // Like the browser's bufferedamountlow: only when the amount crosses the threshold.
    if (before > low_threshold_ && after <= low_threshold_ && on_low_)
        on_low_();
}

} // namespace f0::rtc::datachannel

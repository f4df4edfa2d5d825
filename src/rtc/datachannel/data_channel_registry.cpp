// Channel lifecycle: open (DCEP OPEN out, or incoming OPEN answered with ACK), data routing, and
// close by stream reset in both directions (RFC 8831 section 6.7).
#include "rtc/datachannel/data_channel_registry.hpp"

#include "rtc/datachannel/dcep.hpp"
#include "util/log.hpp"

namespace f0::rtc::datachannel {

namespace {
const auto& logger() {
    static const auto& l = log::forever("rtc.datachannel");
    return l;
}

ChannelType type_of(const DataChannelInit& init) {
    std::uint8_t t = init.max_retransmits ? 0x01 : init.max_packet_life_time_ms ? 0x02 : 0x00;
    if (!init.ordered)
        t |= 0x80;
    return static_cast<ChannelType>(t);
}

DataChannelInit init_of(const OpenMessage& m, std::uint16_t stream) {
    DataChannelInit init;
    auto t = static_cast<std::uint8_t>(m.type);
    init.ordered = (t & 0x80) == 0;
    if ((t & 0x7f) == 0x01)
        init.max_retransmits =
            static_cast<std::uint16_t>(std::min<std::uint32_t>(m.reliability_parameter, 0xffff));
    else if ((t & 0x7f) == 0x02)
        init.max_packet_life_time_ms = m.reliability_parameter;
    init.protocol = m.protocol;
    init.priority = m.priority;
    init.id = stream;
    return init;
}
} // namespace

DataChannelRegistry::DataChannelRegistry(std::shared_ptr<EventLoop> loop, std::uint16_t max_streams)
    : loop_(std::move(loop)), max_streams_(max_streams) {}

void DataChannelRegistry::attach(std::shared_ptr<sctp::SctpAssociation> association) {
    association_ = association;
    for (auto& ch : channels())
        ch->attach(association);
}

Result<std::shared_ptr<DataChannel>> DataChannelRegistry::create(std::string label,
                                                                 DataChannelInit init) {
    if (init.max_retransmits && init.max_packet_life_time_ms)
        return make_error("maxRetransmits and maxPacketLifeTime cannot both be set");
    if (label.size() > 0xffff || init.protocol.size() > 0xffff)
        return make_error("label and protocol must be shorter than 65536 bytes");
    if (init.negotiated && !init.id)
        return make_error("a negotiated channel needs an id");
    if (init.id) {
        if (*init.id >= max_streams_)
            return make_error("channel id " + std::to_string(*init.id) + " is beyond the " +
                              std::to_string(max_streams_) + " negotiated streams");
        if (by_stream_.count(*init.id))
            return make_error("channel id " + std::to_string(*init.id) + " is in use");
    }
    auto ch = std::make_shared<DataChannel>(association_, loop_, std::move(label), std::move(init));
    if (ch->id())
        by_stream_[*ch->id()] = ch;
    else
        pending_.push_back(ch);
    if (association_open_) {
        // Open after the caller has had the chance to attach handlers.
        loop_->post([weak = weak_from_this(), ch] {
            if (auto self = weak.lock())
                self->open_channel(ch);
        });
    }
    return ch;
}

std::optional<std::uint16_t> DataChannelRegistry::next_free_id() {
    if (!is_client_)
        return std::nullopt;
    for (std::uint32_t id = *is_client_ ? 0 : 1; id < max_streams_; id += 2)
        if (!by_stream_.count(static_cast<std::uint16_t>(id)) &&
            !resetting_.count(static_cast<std::uint16_t>(id)))
            return static_cast<std::uint16_t>(id);
    return std::nullopt;
}

void DataChannelRegistry::open_channel(const std::shared_ptr<DataChannel>& ch) {
    if (ch->state() != ChannelState::Connecting)
        return;
    if (!ch->id()) {
        auto id = next_free_id();
        if (!id) {
            F0_LOG_WARN(logger(), "no free stream id for channel '{}'", ch->label());
            ch->mark_closed();
            return;
        }
        ch->assign_id(*id);
        by_stream_[*id] = ch;
        std::erase(pending_, ch);
    }
    if (!ch->init().negotiated) {
        auto assoc = association_.lock();
        if (!assoc)
            return;
        OpenMessage open{type_of(ch->init()), ch->init().priority, 0, ch->label(),
                         ch->init().protocol};
        if (ch->init().max_retransmits)
            open.reliability_parameter = *ch->init().max_retransmits;
        else if (ch->init().max_packet_life_time_ms)
            open.reliability_parameter = *ch->init().max_packet_life_time_ms;
        auto bytes = encode(open);
        auto r = assoc->send(*ch->id(), sctp::Ppid::Dcep, bytes, {});
        if (!r) {
            F0_LOG_WARN(logger(), "cannot send DATA_CHANNEL_OPEN: {}", r.error().message);
            ch->mark_closed();
            return;
        }
    }
    // The opener may send at once (RFC 8832 section 6); messages stay ordered until the ACK.
    ch->mark_open();
}

void DataChannelRegistry::association_open() {
    association_open_ = true;
    std::vector<std::shared_ptr<DataChannel>> all(pending_);
    for (auto& [id, ch] : by_stream_)
        all.push_back(ch);
    for (auto& ch : all)
        open_channel(ch);
}

void DataChannelRegistry::association_closed() {
    association_open_ = false;
    auto all = channels();
    by_stream_.clear();
    resetting_.clear();
    pending_.clear();
    for (auto& ch : all)
        ch->mark_closed();
}

void DataChannelRegistry::handle_message(std::uint16_t stream, sctp::Ppid ppid,
                                         std::span<const std::uint8_t> data) {
    if (ppid == sctp::Ppid::Dcep) {
        handle_dcep(stream, data);
        return;
    }
    auto it = by_stream_.find(stream);
    if (it == by_stream_.end()) {
        F0_LOG_DEBUG(logger(), "message on stream {} with no channel, dropped", stream);
        return;
    }
    auto& ch = it->second;
    // Any data from the peer implies it received our OPEN (RFC 8832 section 6).
    ch->mark_acked();
    switch (ppid) {
    case sctp::Ppid::String:
    case sctp::Ppid::StringEmpty:
        ch->deliver(data, true);
        break;
    case sctp::Ppid::Binary:
    case sctp::Ppid::BinaryEmpty:
        ch->deliver(data, false);
        break;
    default:
        F0_LOG_DEBUG(logger(), "unknown PPID {} on stream {}, dropped", static_cast<unsigned>(ppid),
                     stream);
    }
}

void DataChannelRegistry::handle_dcep(std::uint16_t stream, std::span<const std::uint8_t> data) {
    auto msg = parse_dcep(data);
    if (!msg) {
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_WARN(logger(), "bad DCEP message on stream {}: {} ({} so far)", stream,
                        msg.error().message, *n);
        return;
    }
    if (std::holds_alternative<AckMessage>(msg.value())) {
        if (auto it = by_stream_.find(stream); it != by_stream_.end())
            it->second->mark_acked();
        return;
    }
    const auto& open = std::get<OpenMessage>(msg.value());
    if (by_stream_.count(stream)) {
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_WARN(logger(),
                        "DATA_CHANNEL_OPEN for stream {} already in use, ignored ({} so far)",
                        stream, *n);
        return;
    }
    if (is_client_ && (stream % 2 == 0) == *is_client_)
        F0_LOG_DEBUG(logger(), "peer opened stream {} of our parity", stream);
    F0_LOG_DEBUG(logger(), "DATA_CHANNEL_OPEN on stream {} (label of {} bytes)", stream,
                 open.label.size());
    auto ch = std::make_shared<DataChannel>(association_, loop_, open.label, init_of(open, stream));
    ch->mark_acked();
    by_stream_[stream] = ch;
    if (auto assoc = association_.lock()) {
        auto ack = encode(AckMessage{});
        if (auto r = assoc->send(stream, sctp::Ppid::Dcep, ack, {}); !r)
            F0_LOG_WARN(logger(), "cannot send DATA_CHANNEL_ACK: {}", r.error().message);
    }
    if (on_channel_)
        on_channel_(ch);
    ch->mark_open();
}

void DataChannelRegistry::handle_stream_reset(std::uint16_t stream) {
    auto it = by_stream_.find(stream);
    if (it == by_stream_.end())
        return;
    auto ch = it->second;
    by_stream_.erase(it);
    F0_LOG_DEBUG(logger(), "stream {} reset by the peer; {} streams in use", stream,
                 by_stream_.size());
    // The peer closed its side; close ours too unless we started the close.
    if (ch->state() != ChannelState::Closing)
        if (auto assoc = association_.lock()) {
            resetting_.insert(stream);
            assoc->reset_stream(stream);
        }
    ch->mark_closed();
}

void DataChannelRegistry::handle_oversize(std::uint16_t stream, std::size_t bytes) {
    auto it = by_stream_.find(stream);
    if (it == by_stream_.end())
        return;
    static log::Sampled sampled;
    if (auto n = sampled.next())
        F0_LOG_INFO(logger(),
                    "closing channel '{}' (stream {}): the peer sent a message of {} bytes, over "
                    "our max-message-size ({} so far)",
                    it->second->label(), stream, bytes, *n);
    it->second->close();
}

void DataChannelRegistry::handle_outgoing_reset_done(std::uint16_t stream) {
    resetting_.erase(stream);
}

void DataChannelRegistry::handle_buffered(std::uint16_t stream, std::size_t before,
                                          std::size_t after) {
    if (auto it = by_stream_.find(stream); it != by_stream_.end())
        it->second->buffered_amount_changed(before, after);
}

std::vector<std::shared_ptr<DataChannel>> DataChannelRegistry::channels() const {
    std::vector<std::shared_ptr<DataChannel>> out(pending_);
    for (const auto& [id, ch] : by_stream_)
        out.push_back(ch);
    return out;
}

} // namespace f0::rtc::datachannel

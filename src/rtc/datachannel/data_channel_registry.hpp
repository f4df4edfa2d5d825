// The DataChannels of one association: stream id allocation by DTLS role, DCEP open/ack, routing
// of messages and stream resets to channels. Lives on the EventLoop thread.
#pragma once

#include "rtc/datachannel/data_channel.hpp"

#include <map>
#include <memory>
#include <set>
#include <vector>

namespace f0::rtc::datachannel {

class DataChannelRegistry : public std::enable_shared_from_this<DataChannelRegistry> {
public:
    using ChannelHandler = std::function<void(std::shared_ptr<DataChannel>)>;

    DataChannelRegistry(std::shared_ptr<EventLoop> loop, std::uint16_t max_streams);

    void on_data_channel(ChannelHandler h) { on_channel_ = std::move(h); }
    // DTLS client uses even stream ids, server odd (RFC 8832 section 6).
    void set_dtls_role(bool is_client) { is_client_ = is_client; }
    void attach(std::shared_ptr<sctp::SctpAssociation> association);

    Result<std::shared_ptr<DataChannel>> create(std::string label, DataChannelInit init);
    void association_open();   // opens every pending channel
    void association_closed(); // closes every channel

    void handle_message(std::uint16_t stream, sctp::Ppid ppid, std::span<const std::uint8_t> data);
    void handle_stream_reset(std::uint16_t stream);
    // The peer sent a message over our max-message-size on `stream` (discarded whole by the
    // association): its channel is closed, so the sender learns of it (RFC 8831 leaves the
    // choice; docs/PROTOCOL.md, "Message sizes").
    void handle_oversize(std::uint16_t stream, std::size_t bytes);
    void handle_outgoing_reset_done(std::uint16_t stream);
    void handle_buffered(std::uint16_t stream, std::size_t before, std::size_t after);

    std::vector<std::shared_ptr<DataChannel>> channels() const;

private:
    void open_channel(const std::shared_ptr<DataChannel>& channel);
    std::optional<std::uint16_t> next_free_id();
    void handle_dcep(std::uint16_t stream, std::span<const std::uint8_t> data);

    std::shared_ptr<EventLoop> loop_;
    std::uint16_t max_streams_;
    std::weak_ptr<sctp::SctpAssociation> association_;
    std::optional<bool> is_client_;
    bool association_open_ = false;
    std::map<std::uint16_t, std::shared_ptr<DataChannel>> by_stream_;
    std::vector<std::shared_ptr<DataChannel>> pending_; // created before the DTLS role was known
    // Ids whose channel the peer closed first: our own reset of the outgoing stream is still under
    // way, and the id is not given to a new channel until it is done (at most max_streams).
    std::set<std::uint16_t> resetting_;
    ChannelHandler on_channel_;
};

} // namespace f0::rtc::datachannel

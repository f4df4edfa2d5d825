// The PeerLink seam: what LinkTable needs of a WebRTC PeerConnection, so that the mesh runs over
// real PeerConnections in the worker (RtcPeerLink) and over in-memory links in one process in the
// simulation tests (tests/sim). Every handler except `inline_message` runs on the control thread;
// none runs after close().
#pragma once

#include "rtc/datachannel/data_channel.hpp"
#include "rtc/peer_connection.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace f0::mesh {

struct ChannelInfo {
    std::string label;
    bool open = false;
    std::optional<std::uint16_t> id;
    std::uint64_t bytes_sent = 0, bytes_received = 0;
};

// The path ICE chose for a link: the selected candidate pair.
struct LinkPath {
    std::string local_type, remote_type;       // host, srflx, prflx, relay
    std::string local_address, remote_address; // ADDRESS:PORT
    std::string protocol;                      // udp or tcp, between us and the next hop
    std::string relay_protocol; // when we relay: how we reach the TURN server (udp, tcp, tls)
    bool relay() const { return local_type == "relay" || remote_type == "relay"; }
};

// The channel of the QoS probes; between f0mesh workers they travel as datagrams instead
// (PeerLink::send_datagram), handed to Handlers::inline_message under this label.
inline constexpr const char* kQosLabel = "qos";

class PeerLink {
public:
    using Reply = std::function<void(std::span<const std::uint8_t>)>;
    struct Handlers {
        std::function<void(rtc::PeerState)> state;
        std::function<void(const std::string& label, bool open)> channel; // opened or closed
        std::function<void(const std::string& label, std::string bytes)> message;
        std::function<void()> gathered; // local candidates complete
        // On the transport's own thread, before anything is posted: returns true when it consumed
        // the message (the QoS echo, timed without a hop to the control thread). Thread-safe.
        std::function<bool(const std::string& label, std::span<const std::uint8_t> data,
                           const Reply& reply)>
            inline_message;
        // On the transport's thread, for a channel the peer opens: false closes it unopened (a
        // label we do not carry, or one we already have). Thread-safe.
        std::function<bool(const std::string& label)> accept_channel;
    };
    virtual ~PeerLink() = default;

    virtual Result<std::string> create_offer() = 0;
    virtual Result<std::string> create_answer() = 0;
    virtual Status set_remote_description(std::string_view sdp, rtc::sdp::Type type) = 0;
    virtual std::string local_description() const = 0;
    virtual bool gathering_complete() const = 0;
    virtual Status open_channel(const std::string& label, const rtc::DataChannelInit& init) = 0;
    // As a text message (WebRTC String, which a peer may decode as UTF-8), or as binary: bytes
    // that are not UTF-8 text go binary (aiortc fails on a String message that does not decode).
    virtual Status send(const std::string& label, std::string_view bytes, bool binary) = 0;
    // One datagram beside the channels, outside SCTP (rtc::PeerConnection::send_datagram): the
    // QoS probes go this way so that their timings are the path's, not SCTP's send queue. The
    // peer's datagrams arrive at Handlers::inline_message as kQosLabel. False when the link has
    // no datagrams (the peer did not offer them): the caller uses the qos channel instead.
    virtual bool send_datagram(std::span<const std::uint8_t>) { return false; }
    // Both sides offered datagrams (a=x-f0-datagram): the peer is an f0mesh stack.
    virtual bool datagrams() const { return false; }
    virtual void close() = 0; // idempotent; no handler runs after it
    virtual std::pair<std::uint64_t, std::uint64_t> wire_bytes() const = 0; // tx, rx
    virtual std::optional<double> sctp_rtt_ms() const = 0;
    virtual std::vector<ChannelInfo> channels() const = 0;
    // Why the connection failed, when it has and a layer said (ICE consent, DTLS, ...).
    virtual std::string failure_reason() const { return {}; }
    // ICE restart: a re-offer with new ICE credentials on the same connection (its answer goes
    // to set_remote_description as usual).
    virtual Result<std::string> restart_ice() { return make_error("ICE restart not supported"); }
    // While no candidate pair works yet: why, as far as ICE can tell (empty otherwise).
    virtual std::string ice_hint() const { return {}; }
    // The selected candidate pair, once there is one.
    virtual std::optional<LinkPath> path() const { return std::nullopt; }
};

class PeerLinkFactory {
public:
    virtual ~PeerLinkFactory() = default;
    virtual std::unique_ptr<PeerLink> create(PeerLink::Handlers handlers) = 0;
};

} // namespace f0::mesh

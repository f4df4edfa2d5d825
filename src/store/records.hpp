// What the store keeps: registered peers and the links to them (the original's mesh_links).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace f0::store {

struct PeerRecord {
    std::string id;
    std::string pub_key; // raw Ed25519, base64
    std::string region;
    std::string endpoint; // the peer's signaling URL (endpoints.webrtc)
    std::optional<double> lat, lon;
    std::int64_t registered_ms = 0, updated_ms = 0;
    // The `ts` of the newest signed record of this peer applied here (0: none); kept in memory
    // only (the replicated registry keeps the signed records themselves).
    std::int64_t signed_ts = 0;
};

// One element of the replicated registry with its LWW stamps (HLC raw value and replica id, as
// stored: both are 64-bit patterns).
struct RegistryRow {
    std::string element;
    std::optional<std::uint64_t> add_ts, add_replica, remove_ts, remove_replica;
};

// A control message a peer sent with a receipt requested (stored before the receipt went back).
struct StoredMessage {
    std::int64_t seq = 0; // the store's order (a cursor for reading)
    std::string peer, id;
    std::int64_t ts_ms = 0;
    bool binary = false;
    std::int64_t bytes = 0; // of the message as sent
    std::string body;       // the text, or the bytes in base64
};

struct LinkRecord {
    std::string peer;
    std::string state;   // dialing, connecting, open, failed, closed
    std::string role;    // dialer or accepter
    bool desired = true; // redial it when it fails or after a restart
    std::int64_t created_ms = 0;
    std::optional<std::int64_t> opened_ms, closed_ms;
    std::string last_error;
    std::int64_t attempts = 0;
    std::optional<double> rtt_ms, jitter_ms, loss_pct, bitrate_kbps;
    std::optional<std::int64_t> qos_ms;
};

struct QosSample {
    std::string peer;
    std::int64_t ts_ms = 0;
    std::optional<double> rtt_ms;
    double jitter_ms = 0, loss_pct = 0, tx_kbps = 0, rx_kbps = 0;
    std::optional<double> sctp_rtt_ms;
    std::int64_t probes = 0; // inbound probes expected in the interval
    std::string health;
};

// A gossip message delivered here (payload as JSON text), and who handed it to us.
struct GossipRecord {
    std::string id, origin, topic;
    std::int64_t ts_ms = 0;
    std::int64_t seq = 0;
    std::int64_t hops = 0;
    std::string payload_json, sig, from_peer;
    std::int64_t received_ms = 0;
};

} // namespace f0::store

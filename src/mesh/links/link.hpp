// One link of the mesh: a PeerLink (a PeerConnection in the worker) to one peer with its three
// channels, control (reliable), gossip (reliable) and qos (unordered, no retransmissions), and
// what we know of its life. Owned by LinkTable.
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/links/peer_link.hpp"
#include "qos/qos_probe.hpp"
#include "store/records.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace f0::mesh {

// dialing -> connecting -> open -> failed | closed; failed -> (backoff) -> dialing again.
enum class LinkState { Dialing, Connecting, Open, Failed, Closed };
std::string_view to_string(LinkState s);

// The channels every link carries; the dialer opens them in-band (DCEP), in this order.
struct ChannelSpec {
    const char* label;
    rtc::DataChannelInit init;
};
const std::vector<ChannelSpec>& link_channels();

nlohmann::json qos_json(const store::QosSample& q);

struct Link {
    std::string peer;
    std::string role; // "dialer" or "accepter"
    // A peer served by several workers: the instance at its end (from its signed envelope).
    std::string instance;
    LinkState state = LinkState::Dialing;
    std::unique_ptr<PeerLink> pc;
    std::set<std::string> open_channels;
    std::int64_t created_ms = 0;
    std::optional<std::int64_t> opened_ms, closed_ms;
    std::string last_error;
    std::string closed_by;                      // when closed: "peer" or "operator"
    std::optional<std::int64_t> next_redial_ms; // when failed and desired: the next attempt
    std::int64_t attempts = 0;
    bool desired = true;          // redial when it fails, and after a restart
    std::uint64_t generation = 0; // events from a replaced PeerLink are ignored
    // Recent control messages received, each with the bytes it counts for; bounded in count
    // and in bytes (LinkTable::Options::inbox_limit, inbox_bytes).
    std::deque<std::pair<nlohmann::json, std::size_t>> inbox;
    std::size_t inbox_bytes = 0;
    double control_tokens = -1; // control-channel token bucket (-1: not started)
    std::int64_t control_refill_ms = 0;
    std::shared_ptr<qos::QosProbe> qos; // fed by the qos channel on the transport thread
    std::optional<store::QosSample> last_qos;
    // QosSampler: probed every idle interval instead of every probe interval (idle, healthy),
    // and when the next probe is due then.
    bool qos_calm = false;
    std::int64_t qos_next_probe_us = 0;
    // Left calm for an overdue echo: the path watchdog waits until then (unix ms) for the fast
    // probes to bring data back before it calls the silence.
    std::int64_t qos_grace_until_ms = 0;
    std::optional<LinkPath> path; // read when the link opens and at each QoS sample
    // The path watchdog (Signaling): bytes received when last seen growing, and since when; an
    // ICE restart in flight; restarts since data last flowed.
    std::uint64_t rx_seen = 0;
    std::int64_t rx_moved_ms = 0;
    bool restarting = false;
    int restarts_without_data = 0;
    std::int64_t ice_restarts = 0;                  // that completed, over the link's life
    std::vector<std::function<void()>> on_gathered; // waiting for local candidates
    Timer gather_timer, dial_timer;

    bool all_channels_open() const;
    nlohmann::json to_json() const;
};

} // namespace f0::mesh

// Every tunable of a worker in one place, with its default and unit. Set by flag, environment
// (F0_...) or config file (cli/config_loader); validate() lists what is wrong.
#pragma once

#include "mesh/gossip/gossip_engine.hpp"
#include "mesh/gossip/trust.hpp"
#include "mesh/identity/delegation.hpp"
#include "mesh/instances/instance_table.hpp"
#include "qos/health.hpp"
#include "rtc/peer_connection.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace f0::mesh {

struct WorkerConfig {
    std::string id;                        // peer id, e.g. fz-kuwait (F0_INSTANCE_ID); required
    std::string region;                    // e.g. ME (F0_REGION)
    std::string listen = "127.0.0.1:7000"; // HOST:PORT of the signaling API (F0_LISTEN)
    std::filesystem::path data_dir = "f0-data"; // identity key and SQLite store (F0_DATA_DIR)
    // The operator's bearer token (0600); empty: DATA_DIR/operator.token, created if absent.
    std::filesystem::path operator_token_file;
    std::string advertise;           // URL peers use to reach us; default http(s)://listen
    std::string beacon;              // URL of a beacon worker to register with; empty: none
    std::filesystem::path allowlist; // file of peer ids allowed to register and dial us
    // One instance of peer `id` (issue 17): the peer key's delegation of this worker's own key
    // (f0mesh delegate). Loaded and checked by the worker command into `delegation`.
    std::filesystem::path delegation_file;
    std::optional<identity::Delegation> delegation;
    bool open_registration = false; // accept any peer id at /beacon (first key wins)
    std::optional<double> lat, lon; // geo for the dashboard globe

    std::filesystem::path tls_cert, tls_key; // HTTPS when both are set
    std::filesystem::path client_ca;         // mTLS: clients must present a cert from this CA

    std::string web_dir; // the built dashboard for /ops/mesh (F0_WEB_DIR); empty: cli/web_dir.hpp
    std::vector<std::string> ice_addresses; // host candidate addresses; empty: all interfaces
    std::uint16_t ice_port_min = 0, ice_port_max = 0; // local ICE ports; 0, 0: any
    std::string stun;                                 // host:port of a STUN server; empty: none
    std::string turn;             // user:pass@host:port of a TURN server; empty: none
    std::string turn_secret_file; // TURN REST shared secret (then --turn needs no user:pass)

    std::chrono::milliseconds signaling_window{60'000}; // |now - ts| allowed for envelopes
    std::size_t replay_per_peer = 1'000; // envelopes one peer may send within the window
    std::size_t replay_max = 100'000;    // nonces remembered in all (full: refuse, not forget)
    double peer_signaling_rate_min = 5, peer_signaling_rate_max = 50; // per peer id, by trust
    std::chrono::milliseconds dial_timeout{10'000};                   // /dial gives up after this
    // An open link we dialled that receives nothing this long gets an ICE restart (0: never); at
    // least 3 QoS probe intervals + 1 s are waited, so slow probing does not look like silence.
    std::chrono::milliseconds ice_restart_after{2'000};
    // What is waited: never shorter than three probe intervals and a second (0 stays 0).
    std::chrono::milliseconds ice_restart_silence() const {
        if (ice_restart_after.count() == 0)
            return ice_restart_after;
        return std::max(ice_restart_after, 3 * qos_probe_interval + std::chrono::seconds(1));
    }
    // ...and on a link in calm probing (QosSampler: idle and healthy), at least two of its probe
    // intervals and a second: a calm link whose echo is overdue probes fast again at once, and
    // the short bound applies from then on.
    std::chrono::milliseconds ice_restart_silence_calm() const {
        auto fast = ice_restart_silence();
        auto idle = qos_idle_probe_every();
        if (fast.count() == 0 || idle.count() == 0)
            return fast;
        return std::max(fast, 2 * idle + std::chrono::seconds(1));
    }
    std::chrono::milliseconds redial_min{1'000};   // first redial backoff, doubling...
    std::chrono::milliseconds redial_max{60'000};  // ...up to this
    std::chrono::milliseconds gather_limit{3'000}; // offer/answer sent with what we have then
    std::chrono::milliseconds glare_guard{5'000}; // an offer this soon after our dial opened: glare
    std::size_t link_inbox = 100;                 // control messages kept per link
    std::chrono::seconds qos_interval{15};        // the original's QoS refresh
    std::chrono::milliseconds qos_probe_interval{200}; // one probe each way per link (5/s)
    // An idle, healthy link (last sample good, no loss, no echo missing, under
    // qos_idle_kbps of traffic) is probed this seldom instead (0: always every probe interval);
    // at most a fifth of the QoS interval, so that a sample still has five probes each way.
    std::chrono::milliseconds qos_idle_probe_interval{2'000};
    // tx + rx, everything included: probes and the mesh's own upkeep (gossip digests, anti-entropy,
    // link state), a few tens of kbit/s on an idle link (~50 in the simulator)
    double qos_idle_kbps = 128;
    std::chrono::milliseconds qos_idle_probe_every() const {
        auto every = std::min(qos_idle_probe_interval, std::chrono::milliseconds(qos_interval) / 5);
        return every > qos_probe_interval ? every : std::chrono::milliseconds(0);
    }
    std::size_t qos_probe_size = 64;                  // probe message bytes (padding included)
    qos::HealthThresholds health;                     // good / degraded / bad (qos/health.hpp)
    std::chrono::hours qos_retention{24};             // QoS history kept this long...
    std::int64_t qos_max_samples = 5760;              // ...and at most this many per link
    std::chrono::seconds gossip_interval{120};        // the original's gossipPush schedule
    std::chrono::milliseconds gossip_heartbeat{1000}; // digest exchange (GossipSub: 1 s)
    gossip::GossipParams gossip;                      // fan-out, hops, rate limits, cache
    gossip::TrustParams trust;                        // trust formula, penalties, weights
    std::int64_t gossip_keep = 10'000;                // delivered messages kept in the store
    bool gossip_https_fallback = true; // gossip to peers without a link over HTTPS POST /gossip
    std::chrono::milliseconds crdt_sync_interval{10'000}; // anti-entropy with one linked peer
    std::chrono::milliseconds crdt_max_offset{60'000}; // HLC: remote stamps this far ahead refused
    std::chrono::milliseconds crdt_save_delay{250};    // replicated state written this often
    std::chrono::milliseconds crdt_publish_delay{200}; // registry changes after one, batched
    std::size_t crdt_sync_budget = 4u << 20;           // registry bytes per anti-entropy round
    std::size_t registry_max_elements = 250'000;       // new ids refused beyond (f0_registry_*)
    std::size_t registry_per_id = 4;                   // elements kept per peer id
    // Registrars whose countersigned records this worker admits, as "ID=BASE64KEY" (besides
    // itself and its beacon, pinned when first seen).
    std::vector<std::string> registrars;
    // Origins of browser pages allowed to call the peer routes (CORS); "*": any. None: no CORS.
    std::vector<std::string> cors_origins;
    // The largest DataChannel message accepted (a=max-message-size), 64 KiB..16 MiB; a link holds
    // at most one message being reassembled, and usrsctp buffers twice this.
    std::size_t max_message_size = 262144;
    std::size_t max_links = 1'000;            // links holding a PeerConnection (Errc::Busy)
    std::size_t max_pending_links = 64;       // of which being set up
    std::chrono::seconds beacon_refresh{10};  // pull the beacon's peer list this often
    std::size_t max_body_bytes = 64 * 1024;   // larger request bodies are refused
    std::size_t http_max_connections = 1024;  // open API connections at once...
    std::size_t http_max_per_source = 128;    // ...and from one address
    std::size_t events_max_streams = 256;     // /events streams at once
    std::size_t events_queue_bytes = 1 << 20; // a reader further behind is dropped
    double peers_list_budget_ms = 250; // GET /peers building per second of the control thread
    double signaling_rate = 20;        // requests/s per source address on signaling routes
    double signaling_burst = 40;       // bucket size for the above

    // Instances of other peers: live while their beacon refreshes come (three refreshes), and
    // one we could not reach is skipped until its record would have lapsed twice over.
    instances::InstanceTable::Limits instance_limits() const {
        instances::InstanceTable::Limits l;
        l.ttl_ms =
            3 * std::chrono::duration_cast<std::chrono::milliseconds>(beacon_refresh).count();
        l.down_for_ms = 2 * l.ttl_ms;
        l.skew_ms = signaling_window.count();
        return l;
    }
    bool tls_enabled() const { return !tls_cert.empty() && !tls_key.empty(); }
    std::string advertised_url() const;
    std::vector<std::string> validate() const;
    // registrars as id -> key; only for a config whose validate() is empty.
    std::map<std::string, std::string> registrar_keys() const;
    // ICE settings for every link's PeerConnection, parsed from ice_addresses/stun/turn.
    // Only for a config whose validate() is empty.
    rtc::RtcConfig rtc_config() const;
};

} // namespace f0::mesh

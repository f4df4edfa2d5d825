#include "cli/worker_options.hpp"

#include <fstream>

namespace f0::cli {

namespace {

// Registers options and records them; the environment name is F0_ + the flag in upper case.
class Table {
public:
    explicit Table(CLI::App& cmd) : cmd_(cmd) {}

    template <class T>
    CLI::Option* value(const std::string& name, T& ref, const std::string& help,
                       const char* env = nullptr) {
        return record(cmd_.add_option("--" + name, ref, help)->capture_default_str(), name, help,
                      env);
    }
    CLI::Option* flag(const std::string& name, bool& ref, const std::string& help) {
        return record(cmd_.add_flag("--" + name, ref, help), name, help, nullptr);
    }
    // A duration given as an integer count of Unit (ms, s, h).
    template <class Unit, class D>
    CLI::Option* duration(const std::string& name, D& ref, const std::string& help) {
        auto* o = cmd_.add_option_function<std::int64_t>(
            "--" + name, [&ref](std::int64_t v) { ref = std::chrono::duration_cast<D>(Unit(v)); },
            help);
        o->default_str(std::to_string(std::chrono::duration_cast<Unit>(ref).count()));
        return record(o, name, help, nullptr);
    }
    std::vector<OptionInfo> done() { return std::move(rows_); }

private:
    CLI::Option* record(CLI::Option* o, const std::string& name, const std::string& help,
                        const char* env) {
        std::string e = env ? env : "F0_";
        if (!env)
            for (char c : name)
                e +=
                    c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        o->envname(e);
        rows_.push_back({"--" + name, e, help});
        return o;
    }
    CLI::App& cmd_;
    std::vector<OptionInfo> rows_;
};

} // namespace

std::vector<OptionInfo> add_worker_options(CLI::App& w, WorkerOptions& o) {
    using ms = std::chrono::milliseconds;
    using sec = std::chrono::seconds;
    auto& c = o.cfg;
    Table t(w);
    t.value("config", o.config_file,
            "Options from a file: 'key = value' lines, keys named like the long options")
        ->check(CLI::ExistingFile);
    // Identity and reachability.
    t.value("id", c.id, "This peer's id, e.g. fz-kuwait (required)", "F0_INSTANCE_ID");
    t.value("region", c.region, "Region label, e.g. ME");
    t.value("listen", c.listen, "HOST:PORT of the API");
    t.value("data-dir", c.data_dir, "Identity key and SQLite store");
    t.value("operator-token-file", c.operator_token_file,
            "Bearer token for the operator routes, mode 0600 (default DATA_DIR/operator.token, "
            "created on first start)");
    t.value("advertise", c.advertise, "URL peers use to reach this API (default: from --listen)");
    t.value("beacon", c.beacon, "URL of a beacon worker to register with and learn peers from");
    t.value("max-message-size", c.max_message_size,
            "Largest DataChannel message accepted (bytes; advertised as a=max-message-size); a "
            "larger one is discarded whole and its channel closed")
        ->check(CLI::Range(65536, 16 << 20));
    t.value("cors-origin", c.cors_origins,
            "Origin of browser pages that may call the peer routes (/beacon, /offer, ...): CORS "
            "headers and OPTIONS preflights (repeatable; '*' for any)");
    t.value("registrar", c.registrars,
            "ID=KEY of a registrar whose countersigned registry records this worker admits "
            "(repeatable; itself and its --beacon are trusted anyway)");
    t.value("delegation", c.delegation_file,
            "Serve peer --id as one of several instances: the peer key's delegation of this "
            "worker's key (f0mesh delegate); the peer key itself stays with the operator");
    auto* allow =
        t.value("allowlist", c.allowlist, "File of peer ids allowed to register and dial");
    t.flag("open-registration", c.open_registration, "Accept any peer at /beacon (first key wins)")
        ->excludes(allow);
    t.value(
        "web-dir", c.web_dir,
        "The built dashboard to serve at /ops/mesh (default: PREFIX/share/f0mesh/web beside the "
        "installed binary)");
    t.value("geo", o.geo, "LAT,LON for the dashboard globe");
    t.value("tls-cert", c.tls_cert, "Serve HTTPS with this certificate (PEM)");
    t.value("tls-key", c.tls_key, "Private key of --tls-cert (PEM)");
    t.value("client-ca", c.client_ca, "mTLS: require client certificates from this CA (PEM)");
    t.value(
         "ice-address", c.ice_addresses,
         "Host-candidate address, one of this host's (repeatable or comma-separated; default all "
         "interfaces)",
         "F0_ICE_ADDRESSES")
        ->delimiter(',');
    t.value("ice-port-min", c.ice_port_min,
            "Lowest local UDP/TCP port for ICE (with --ice-port-max; default any), e.g. to open "
            "a firewall or publish a container's range")
        ->check(CLI::Range(1, 65535));
    t.value("ice-port-max", c.ice_port_max, "Highest local port for ICE (see --ice-port-min)")
        ->check(CLI::Range(1, 65535));
    t.value("stun", c.stun, "STUN server HOST:PORT");
    t.value(
        "turn", c.turn,
        "TURN server [turn:|turns:]USER:PASS@HOST:PORT[?transport=udp|tcp] (turns: is over TLS)");
    t.value("turn-secret-file", c.turn_secret_file,
            "TURN REST: a file holding the TURN server's shared secret (coturn "
            "--static-auth-secret); each link's credentials are made from it, valid 24 h, and "
            "--turn then takes no USER:PASS");
    // Signaling and links.
    t.duration<ms>("signaling-window-ms", c.signaling_window,
                   "Envelopes whose ts is further than this from our clock are refused")
        ->check(CLI::Range(1'000, 3'600'000));
    t.value("peer-signaling-rate-min", c.peer_signaling_rate_min,
            "Signed envelopes per second one peer id may send at trust 0 (burst: 4 s of it)")
        ->check(CLI::Range(0.1, 1e7));
    t.value("peer-signaling-rate-max", c.peer_signaling_rate_max,
            "...and at trust 1 (the rate grows with the peer's trust)")
        ->check(CLI::Range(0.1, 1e7));
    t.value("replay-per-peer", c.replay_per_peer,
            "Signed envelopes one peer may send within the window (more are refused, 429)")
        ->check(CLI::Range(1, 1'000'000));
    t.value("replay-max-nonces", c.replay_max,
            "Nonces remembered in all; when full, new envelopes are refused (503), none forgotten")
        ->check(CLI::Range(1, 10'000'000));
    t.duration<ms>("dial-timeout-ms", c.dial_timeout, "A dial gives up after this")
        ->check(CLI::Range(100, 600'000));
    t.duration<ms>("ice-restart-after-ms", c.ice_restart_after,
                   "An open link we dialled that receives nothing this long gets an ICE restart "
                   "(at least 3 QoS probe intervals + 1 s; 0: never)")
        ->check(CLI::Range(0, 3'600'000));
    t.duration<ms>("redial-min-ms", c.redial_min, "First redial backoff after a link fails")
        ->check(CLI::Range(10, 3'600'000));
    t.duration<ms>("redial-max-ms", c.redial_max, "Backoff doubles up to this")
        ->check(CLI::Range(10, 86'400'000));
    t.duration<ms>("gather-limit-ms", c.gather_limit,
                   "An offer or answer waits at most this for ICE candidates")
        ->check(CLI::Range(0, 60'000));
    t.duration<ms>("glare-guard-ms", c.glare_guard,
                   "An offer this soon after our own dial opened counts as glare")
        ->check(CLI::Range(0, 60'000));
    t.value("link-inbox", c.link_inbox, "Control messages kept per link")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
    t.duration<sec>("beacon-refresh-s", c.beacon_refresh, "Pull the beacon's peer list this often")
        ->check(CLI::Range(1, 86'400));
    t.value("max-body-bytes", c.max_body_bytes, "Larger request bodies are refused")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{16 << 20}));
    t.value("http-max-connections", c.http_max_connections,
            "Open API connections at once; more are closed on accept")
        ->check(CLI::Range(std::size_t{8}, std::size_t{1'000'000}));
    t.value("http-max-per-source", c.http_max_per_source, "Open API connections from one address")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    t.value("events-max-streams", c.events_max_streams, "/events streams served at once")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
    t.value("peers-list-budget-ms", c.peers_list_budget_ms,
            "Milliseconds of each second the control thread may spend building GET /peers pages "
            "(burst: 4x); beyond, the last first page built is served or 503 busy")
        ->check(CLI::Range(1.0, 1000.0));
    t.value("events-queue-bytes", c.events_queue_bytes,
            "An /events reader this many bytes behind is disconnected")
        ->check(CLI::Range(std::size_t{4096}, std::size_t{1} << 30));
    t.value("signaling-rate", c.signaling_rate, "Peer-facing signaling requests/s per source")
        ->check(CLI::PositiveNumber);
    t.value("signaling-burst", c.signaling_burst, "Burst allowed above --signaling-rate")
        ->check(CLI::Range(1.0, 1e6));
    // QoS.
    t.duration<sec>("qos-interval", c.qos_interval, "QoS refresh, seconds")
        ->check(CLI::Range(1, 3600));
    t.duration<ms>("qos-probe-interval", c.qos_probe_interval,
                   "Milliseconds between QoS probes on each link")
        ->check(CLI::Range(10, 60000));
    t.duration<ms>("qos-idle-probe-interval", c.qos_idle_probe_interval,
                   "Milliseconds between probes on an idle, healthy link (0: never slower; at "
                   "most a fifth of --qos-interval is used)")
        ->check(CLI::Range(0, 60000));
    t.value("qos-idle-kbps", c.qos_idle_kbps,
            "A link moving less than this (tx + rx, kbit/s) counts as idle")
        ->check(CLI::Range(0.0, 1e9));
    t.value("qos-probe-size", c.qos_probe_size, "Bytes per QoS probe")->check(CLI::Range(14, 1100));
    t.duration<std::chrono::hours>("qos-retention-hours", c.qos_retention,
                                   "QoS history kept this long...")
        ->check(CLI::Range(1, 24 * 366));
    t.value("qos-max-samples", c.qos_max_samples, "...and at most this many samples per link")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000'000}));
    t.value("health-good-rtt", c.health.good_rtt_ms, "Health 'good' below this RTT (ms)");
    t.value("health-good-loss", c.health.good_loss_pct, "Health 'good' below this loss (%)");
    t.value("health-degraded-rtt", c.health.degraded_rtt_ms,
            "Health 'degraded' below this RTT (ms); else 'bad'");
    t.value("health-degraded-loss", c.health.degraded_loss_pct,
            "Health 'degraded' below this loss (%); else 'bad'");
    // Gossip and trust.
    t.duration<sec>("gossip-interval", c.gossip_interval, "Periodic gossip push, seconds")
        ->check(CLI::Range(1, 86400));
    t.duration<ms>("gossip-heartbeat-ms", c.gossip_heartbeat,
                   "Digest exchange (ihave/iwant) every this many ms");
    auto& g = c.gossip;
    t.value("gossip-fanout", g.fanout, "Peers each gossip message is pushed to");
    t.value("gossip-max-hops", g.max_hops, "Gossip messages are forwarded this far (<=16)");
    t.value("gossip-rate-min", g.rate_min, "Gossip frames/s accepted from a trust-0 peer");
    t.value("gossip-rate-max", g.rate_max, "Gossip frames/s accepted from a trust-1 peer");
    t.value("gossip-max-payload-bytes", g.max_payload_bytes, "Largest gossip payload accepted")
        ->check(CLI::Range(std::size_t{64}, std::size_t{200'000}));
    t.value("gossip-cache-max", g.cache_max, "Gossip messages kept to answer pulls")
        ->check(CLI::Range(std::size_t{100}, std::size_t{10'000'000}));
    t.value("gossip-https-fallback", c.gossip_https_fallback,
            "Gossip to a peer without an open link over HTTPS POST /gossip (true/false)");
    t.value("gossip-keep", c.gossip_keep, "Delivered gossip messages kept in the store")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000'000}));
    auto& tr = c.trust;
    t.value("trust-high", tr.high, "Trust at or above which fan-out weight is 2");
    t.value("trust-low", tr.low, "Trust at or below which fan-out weight is 1");
    t.value("trust-exclude-below", tr.exclude_below,
            "Below this trust a peer is not chosen and its frames are dropped (graylist)");
    t.value("trust-recovery-per-min", tr.recovery_per_min,
            "Behaviour score regained per minute after an offence");
    t.value("trust-penalty-bad-signature", tr.penalty_bad_signature,
            "Behaviour lost per forged message");
    t.value("trust-penalty-invalid", tr.penalty_invalid, "Behaviour lost per invalid frame");
    t.value("trust-penalty-duplicate-flood", tr.penalty_duplicate_flood,
            "Behaviour lost per copy beyond the duplicate threshold");
    t.value("trust-penalty-rate-limited", tr.penalty_rate_limited,
            "Behaviour lost per frame over the rate limit");
    t.value("trust-rtt-good-ms", tr.rtt_good_ms, "RTT counted fully good for trust");
    t.value("trust-rtt-bad-ms", tr.rtt_bad_ms, "RTT counted fully bad for trust");
    t.value("trust-loss-bad-pct", tr.loss_bad_pct, "Loss counted fully bad for trust");
    t.value("trust-uptime-full-s", tr.uptime_full_s, "Continuous uptime that counts fully");
    // Replication.
    t.duration<ms>("crdt-sync-interval-ms", c.crdt_sync_interval,
                   "Anti-entropy of the registry and lists with one linked peer, this often")
        ->check(CLI::Range(100, 3'600'000));
    t.duration<ms>("crdt-max-offset-ms", c.crdt_max_offset,
                   "Replicated updates stamped further ahead of our clock are refused")
        ->check(CLI::Range(1'000, 3'600'000));
    t.duration<ms>("crdt-save-delay-ms", c.crdt_save_delay,
                   "Replicated state is written to the store at most this long after a change")
        ->check(CLI::Range(0, 60'000));
    t.duration<ms>("crdt-publish-delay-ms", c.crdt_publish_delay,
                   "Registry changes that follow another within this are gossiped together")
        ->check(CLI::Range(0, 60'000));
    t.value("crdt-sync-budget-bytes", c.crdt_sync_budget,
            "Registry bytes sent to a peer per anti-entropy round (it asks for the next)")
        ->check(CLI::Range(64 * 1024, 256 << 20));
    t.value("registry-max-elements", c.registry_max_elements,
            "Replicated registry size; records of new ids are refused beyond it")
        ->check(CLI::Range(16, 10'000'000));
    t.value("registry-per-id", c.registry_per_id,
            "Registry elements kept per peer id (older replaced records are forgotten)")
        ->check(CLI::Range(2, 64));
    t.value("max-links", c.max_links,
            "Links holding a PeerConnection; dials and offers beyond get 503 busy")
        ->check(CLI::Range(1, 100'000));
    t.value("max-pending-links", c.max_pending_links,
            "Links being set up (dialling or connecting) at once; more get 503 busy")
        ->check(CLI::Range(1, 100'000));
    t.value("log-level", o.log_level, "trace, debug, info, warn, error");
    return t.done();
}

namespace {
std::string trim(const std::string& x) {
    auto b = x.find_first_not_of(" \t\r"), e = x.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : x.substr(b, e - b + 1);
}

// One line of the file: nullopt for a blank, comment or [section] line; {"", ""} when it is not
// 'key = value'; else the key and the value, without quotes.
std::optional<std::pair<std::string, std::string>> config_line(std::string line) {
    if (auto hash = line.find('#'); hash != std::string::npos)
        line.erase(hash);
    line = trim(line);
    if (line.empty() || line.front() == '[')
        return std::nullopt;
    auto eq = line.find('=');
    if (eq == std::string::npos)
        return std::pair<std::string, std::string>{};
    auto key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
        value = value.substr(1, value.size() - 2);
    return std::pair{key, value};
}
} // namespace

std::optional<std::string> config_file_value(const std::string& path, const std::string& key) {
    std::ifstream in(path);
    std::string line;
    std::optional<std::string> out;
    while (std::getline(in, line))
        if (auto kv = config_line(line); kv && kv->first == key)
            out = kv->second;
    return out;
}

Status apply_config_file(CLI::App& cmd, const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return make_error("cannot read the config file " + path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        auto where = path + ":" + std::to_string(n) + ": ";
        auto kv = config_line(line);
        if (!kv)
            continue;
        if (kv->first.empty())
            return make_error(where + "expected 'key = value'");
        const auto& [key, value] = *kv;
        CLI::Option* opt = nullptr;
        try {
            opt = cmd.get_option("--" + key);
        } catch (const CLI::OptionNotFound&) {
            return make_error(where + "unknown option '" + key + "'");
        }
        if (opt->count() > 0)
            continue; // set by a flag or the environment
        try {
            if (opt->get_type_size() == 0) { // a flag
                if (value == "true" || value == "1")
                    opt->add_result("true");
            } else {
                opt->add_result(value);
            }
            opt->run_callback();
        } catch (const CLI::Error& e) {
            return make_error(where + key + ": " + e.what());
        }
    }
    return Ok{};
}

Status finish_worker_options(WorkerOptions& o) {
    if (o.geo.empty())
        return Ok{};
    auto comma = o.geo.find(',');
    try {
        if (comma == std::string::npos)
            throw std::invalid_argument("no comma");
        o.cfg.lat = std::stod(o.geo.substr(0, comma));
        o.cfg.lon = std::stod(o.geo.substr(comma + 1));
    } catch (...) {
        return make_error("--geo must be LAT,LON (e.g. 29.37,47.98)");
    }
    return Ok{};
}

} // namespace f0::cli

// f0mesh worker: the daemon. Options from flags, F0_* environment variables or --config FILE
// (INI/TOML keys named like the long options). Defaults are those of mesh::WorkerConfig.
#include "api/http_client.hpp"
#include "api/http_server.hpp"
#include "api/http_signaling_client.hpp"
#include "api/routes.hpp"
#include "cli/commands.hpp"
#include "mesh/links/rtc_peer_link.hpp"
#include "util/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fstream>
#include <iostream>

namespace f0::cli {

namespace {
struct WorkerOptions {
    mesh::WorkerConfig cfg;
    std::string data_dir = "f0-data", allowlist, tls_cert, tls_key, client_ca, geo;
    std::vector<std::string> ice;
    int qos_s = 15, gossip_s = 120, probe_ms = 200, heartbeat_ms = 1000, crdt_sync_ms = 10000;
    std::string log_level = "info";
};

// Flags > environment > config file > defaults: a key applies only to an option still unset.
Status apply_config_file(CLI::App& cmd, const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return make_error("cannot read the config file " + path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        auto hash = line.find('#');
        if (hash != std::string::npos)
            line.erase(hash);
        auto trim = [](std::string x) {
            auto b = x.find_first_not_of(" \t\r"), e = x.find_last_not_of(" \t\r");
            return b == std::string::npos ? std::string() : x.substr(b, e - b + 1);
        };
        line = trim(line);
        if (line.empty() || line.front() == '[')
            continue;
        auto eq = line.find('=');
        if (eq == std::string::npos)
            return make_error(path + ":" + std::to_string(n) + ": expected 'key = value'");
        auto key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        CLI::Option* opt = nullptr;
        try {
            opt = cmd.get_option("--" + key);
        } catch (const CLI::OptionNotFound&) {
            return make_error(path + ":" + std::to_string(n) + ": unknown option '" + key + "'");
        }
        if (opt->count() > 0)
            continue; // set by a flag or the environment
        try {
            if (opt->get_type_size() == 0) { // a flag
                if (value == "true" || value == "1")
                    opt->add_result("true");
            } else
                opt->add_result(value);
            opt->run_callback();
        } catch (const CLI::Error& e) {
            return make_error(path + ":" + std::to_string(n) + ": " + key + ": " + e.what());
        }
    }
    return Ok{};
}

int run_worker(WorkerOptions& o) {
    if (!std::getenv("F0_LOG_LEVEL"))
        setenv("F0_LOG_LEVEL", o.log_level.c_str(), 1);
    auto logger = log::get("worker");
    auto& cfg = o.cfg;
    cfg.data_dir = o.data_dir;
    cfg.allowlist = o.allowlist;
    cfg.tls_cert = o.tls_cert;
    cfg.tls_key = o.tls_key;
    cfg.client_ca = o.client_ca;
    cfg.ice_addresses = o.ice;
    cfg.qos_interval = std::chrono::seconds(o.qos_s);
    cfg.qos_probe_interval = std::chrono::milliseconds(o.probe_ms);
    cfg.gossip_interval = std::chrono::seconds(o.gossip_s);
    cfg.gossip_heartbeat = std::chrono::milliseconds(o.heartbeat_ms);
    cfg.crdt_sync_interval = std::chrono::milliseconds(o.crdt_sync_ms);
    if (!o.geo.empty()) {
        auto comma = o.geo.find(',');
        try {
            cfg.lat = std::stod(o.geo.substr(0, comma));
            cfg.lon = std::stod(o.geo.substr(comma + 1));
        } catch (...) {
            std::cerr << "f0mesh worker: --geo must be LAT,LON (e.g. 29.37,47.98)\n";
            return 2;
        }
    }
    auto problems = cfg.validate();
    if (!problems.empty()) {
        for (const auto& p : problems)
            std::cerr << "f0mesh worker: " << p << "\n";
        std::cerr << "Run 'f0mesh worker --help' for the options.\n";
        return 2;
    }
    auto identity = mesh::identity::Identity::load_or_create(cfg.data_dir / "identity.pem");
    if (!identity) {
        std::cerr << "f0mesh worker: " << identity.error().message << "\n";
        return 1;
    }
    auto db = store::Database::open(cfg.data_dir / "f0.db");
    if (!db) {
        std::cerr << "f0mesh worker: " << db.error().message << "\n";
        return 1;
    }
    boost::asio::io_context io;
    auto client = std::make_shared<api::HttpClient>(
        io, api::ClientConfig{cfg.tls_cert, cfg.tls_key, cfg.client_ca});
    mesh::RealClock clock(io);
    mesh::RtcPeerLinkFactory link_factory(clock, cfg.rtc_config());
    api::HttpSignalingClient signaling_client(client);
    auto pub = identity.value().public_key_base64();
    auto node = std::make_shared<mesh::Node>(
        mesh::Node::Seams{clock, link_factory, signaling_client}, cfg, std::move(identity).value(),
        std::make_unique<store::MeshStore>(std::move(db).value()));
    auto hub = std::make_shared<api::EventHub>();
    node->on_event([hub](const nlohmann::json& ev) { hub->publish(ev); });
    auto router = std::make_shared<api::Router>();
    api::add_all_routes(
        *router,
        {node, hub, std::make_shared<api::RateLimiter>(cfg.signaling_rate, cfg.signaling_burst),
         cfg.web_dir,
         std::make_shared<api::RateLimiter>(cfg.gossip.rate_max, 2 * cfg.gossip.rate_max)});
    auto colon = cfg.listen.rfind(':');
    api::ServerConfig sc;
    sc.host = cfg.listen.substr(0, colon);
    if (sc.host.size() > 2 && sc.host.front() == '[')
        sc.host = sc.host.substr(1, sc.host.size() - 2);
    try {
        sc.port = static_cast<std::uint16_t>(std::stoi(cfg.listen.substr(colon + 1)));
    } catch (...) {
        std::cerr << "f0mesh worker: --listen port is not a number\n";
        return 2;
    }
    sc.tls_cert = cfg.tls_cert;
    sc.tls_key = cfg.tls_key;
    sc.client_ca = cfg.client_ca;
    sc.max_body_bytes = cfg.max_body_bytes;
    api::HttpServer server(io, sc, router);
    if (auto st = server.start(); !st) {
        std::cerr << "f0mesh worker: " << st.error().message << "\n";
        return 1;
    }
    if (auto st = node->start(); !st) {
        std::cerr << "f0mesh worker: " << st.error().message << "\n";
        return 1;
    }
    F0_LOG_INFO(logger, "{} ({}) listening on {}, pubKey {}, data in {}", cfg.id, cfg.region,
                cfg.advertised_url(), pub, cfg.data_dir.string());
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int sig) {
        F0_LOG_INFO(logger, "signal {}: closing links and stopping", sig);
        server.stop();
        node->stop();
        io.stop();
    });
    io.run();
    return 0;
}
} // namespace

Runner add_worker_command(CLI::App& app) {
    auto o = std::make_shared<WorkerOptions>();
    auto* w = app.add_subcommand("worker", "Run the peer daemon: signaling API, links, store");
    auto config_file = std::make_shared<std::string>();
    w->add_option("--config", *config_file,
                  "Options from a file: 'key = value' lines, keys named like the long options")
        ->envname("F0_CONFIG")
        ->check(CLI::ExistingFile);
    w->add_option("--id", o->cfg.id, "This peer's id, e.g. fz-kuwait")->envname("F0_INSTANCE_ID");
    w->add_option("--region", o->cfg.region, "Region label, e.g. ME")->envname("F0_REGION");
    w->add_option("--listen", o->cfg.listen, "HOST:PORT of the API")
        ->envname("F0_LISTEN")
        ->capture_default_str();
    w->add_option("--data-dir", o->data_dir, "Identity key and SQLite store")
        ->envname("F0_DATA_DIR")
        ->capture_default_str();
    w->add_option("--advertise", o->cfg.advertise,
                  "URL peers use to reach this API (default: from --listen)")
        ->envname("F0_ADVERTISE");
    w->add_option("--beacon", o->cfg.beacon,
                  "URL of a beacon worker to register with and learn peers from")
        ->envname("F0_BEACON");
    auto* allow =
        w->add_option("--allowlist", o->allowlist, "File of peer ids allowed to register and dial")
            ->envname("F0_ALLOWLIST");
    w->add_flag("--open-registration", o->cfg.open_registration,
                "Accept any peer at /beacon (first key wins)")
        ->envname("F0_OPEN_REGISTRATION")
        ->excludes(allow);
    w->add_option("--web-dir", o->cfg.web_dir, "The built dashboard to serve at /ops/mesh")
        ->envname("F0_WEB_DIR")
        ->capture_default_str();
    w->add_option("--geo", o->geo, "LAT,LON for the dashboard globe")->envname("F0_GEO");
    w->add_option("--tls-cert", o->tls_cert, "Serve HTTPS with this certificate (PEM)")
        ->envname("F0_TLS_CERT");
    w->add_option("--tls-key", o->tls_key, "Private key of --tls-cert (PEM)")
        ->envname("F0_TLS_KEY");
    w->add_option("--client-ca", o->client_ca,
                  "mTLS: require client certificates from this CA (PEM)")
        ->envname("F0_CLIENT_CA");
    w->add_option("--ice-address", o->ice,
                  "Host-candidate address (repeatable; default all interfaces)")
        ->envname("F0_ICE_ADDRESSES")
        ->delimiter(',');
    w->add_option("--stun", o->cfg.stun, "STUN server HOST:PORT")->envname("F0_STUN");
    w->add_option("--turn", o->cfg.turn, "TURN server USER:PASS@HOST:PORT")->envname("F0_TURN");
    w->add_option("--qos-interval", o->qos_s, "QoS refresh, seconds")
        ->envname("F0_QOS_INTERVAL")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
    w->add_option("--qos-probe-interval", o->probe_ms,
                  "Milliseconds between QoS probes on each link")
        ->envname("F0_QOS_PROBE_INTERVAL")
        ->capture_default_str()
        ->check(CLI::Range(10, 60000));
    w->add_option("--qos-probe-size", o->cfg.qos_probe_size, "Bytes per QoS probe")
        ->envname("F0_QOS_PROBE_SIZE")
        ->capture_default_str()
        ->check(CLI::Range(14, 1100));
    w->add_option("--health-good-rtt", o->cfg.health.good_rtt_ms,
                  "Health 'good' below this RTT (ms)")
        ->capture_default_str();
    w->add_option("--health-good-loss", o->cfg.health.good_loss_pct,
                  "Health 'good' below this loss (%)")
        ->capture_default_str();
    w->add_option("--health-degraded-rtt", o->cfg.health.degraded_rtt_ms,
                  "Health 'degraded' below this RTT (ms); else 'bad'")
        ->capture_default_str();
    w->add_option("--health-degraded-loss", o->cfg.health.degraded_loss_pct,
                  "Health 'degraded' below this loss (%); else 'bad'")
        ->capture_default_str();
    w->add_option("--gossip-interval", o->gossip_s, "Periodic gossip push, seconds")
        ->envname("F0_GOSSIP_INTERVAL")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
    w->add_option("--gossip-heartbeat-ms", o->heartbeat_ms,
                  "Digest exchange (ihave/iwant) every this many ms")
        ->envname("F0_GOSSIP_HEARTBEAT_MS")
        ->capture_default_str();
    auto& g = o->cfg.gossip;
    w->add_option("--gossip-fanout", g.fanout, "Peers each gossip message is pushed to")
        ->envname("F0_GOSSIP_FANOUT")
        ->capture_default_str();
    w->add_option("--gossip-max-hops", g.max_hops, "Gossip messages are forwarded this far (<=16)")
        ->capture_default_str();
    w->add_option("--gossip-rate-min", g.rate_min, "Gossip frames/s accepted from a trust-0 peer")
        ->capture_default_str();
    w->add_option("--gossip-rate-max", g.rate_max, "Gossip frames/s accepted from a trust-1 peer")
        ->capture_default_str();
    w->add_option("--gossip-https-fallback", o->cfg.gossip_https_fallback,
                  "Gossip to a peer without an open link over HTTPS POST /gossip (true/false)")
        ->capture_default_str();
    w->add_option("--crdt-sync-interval-ms", o->crdt_sync_ms,
                  "Anti-entropy of the registry and lists with one linked peer, this often")
        ->envname("F0_CRDT_SYNC_INTERVAL_MS")
        ->capture_default_str()
        ->check(CLI::Range(100, 3'600'000));
    w->add_option("--gossip-keep", o->cfg.gossip_keep, "Delivered gossip messages kept in store")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000'000}));
    auto& t = o->cfg.trust;
    struct TrustOption {
        const char* name;
        double* value;
        const char* help;
    };
    for (auto [name, value, help] :
         {TrustOption{"--trust-high", &t.high, "Trust at or above which fan-out weight is 2"},
          {"--trust-low", &t.low, "Trust at or below which fan-out weight is 1"},
          {"--trust-exclude-below", &t.exclude_below,
           "Below this trust a peer is not chosen and its frames are dropped (graylist)"},
          {"--trust-recovery-per-min", &t.recovery_per_min,
           "Behaviour score regained per minute after an offence"},
          {"--trust-penalty-bad-signature", &t.penalty_bad_signature,
           "Behaviour lost per forged message"},
          {"--trust-penalty-invalid", &t.penalty_invalid, "Behaviour lost per invalid frame"},
          {"--trust-penalty-duplicate-flood", &t.penalty_duplicate_flood,
           "Behaviour lost per copy beyond the duplicate threshold"},
          {"--trust-penalty-rate-limited", &t.penalty_rate_limited,
           "Behaviour lost per frame over the rate limit"},
          {"--trust-rtt-good-ms", &t.rtt_good_ms, "RTT counted fully good for trust"},
          {"--trust-rtt-bad-ms", &t.rtt_bad_ms, "RTT counted fully bad for trust"},
          {"--trust-loss-bad-pct", &t.loss_bad_pct, "Loss counted fully bad for trust"},
          {"--trust-uptime-full-s", &t.uptime_full_s, "Continuous uptime that counts fully"}})
        w->add_option(name, *value, help)->capture_default_str();
    w->add_option("--signaling-rate", o->cfg.signaling_rate,
                  "Peer-facing signaling requests/s per source")
        ->envname("F0_SIGNALING_RATE")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    w->add_option("--signaling-burst", o->cfg.signaling_burst,
                  "Burst allowed above --signaling-rate")
        ->envname("F0_SIGNALING_BURST")
        ->capture_default_str()
        ->check(CLI::Range(1.0, 1e6));
    w->add_option("--log-level", o->log_level, "trace, debug, info, warn, error")
        ->envname("F0_LOG_LEVEL")
        ->capture_default_str();
    return [o, w, config_file] {
        if (!config_file->empty())
            if (auto st = apply_config_file(*w, *config_file); !st) {
                std::cerr << "f0mesh worker: " << st.error().message << "\n";
                return 2;
            }
        return run_worker(*o);
    };
}

} // namespace f0::cli

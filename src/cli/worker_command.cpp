// f0mesh worker: the daemon. Its options are the table of cli/worker_options.cpp.
#include "api/http_client.hpp"
#include "api/http_server.hpp"
#include "api/http_signaling_client.hpp"
#include "api/operator_auth.hpp"
#include "api/routes.hpp"
#include "cli/commands.hpp"
#include "cli/web_dir.hpp"
#include "cli/worker_options.hpp"
#include "mesh/links/rtc_peer_link.hpp"
#include "util/log.hpp"
#include "util/net.hpp"
#include "util/sd_notify.hpp"

#include <boost/asio/io_context.hpp>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>

#include <fstream>
#include <iostream>

namespace f0::cli {

namespace {
// --delegation: the file must hold a delegation for this --id, of this worker's own key, signed
// by the peer key it names, and valid now; what is wrong is said before anything starts.
Result<mesh::identity::Delegation> load_delegation(const mesh::WorkerConfig& cfg,
                                                   const mesh::identity::Identity& self) {
    std::ifstream in(cfg.delegation_file, std::ios::binary);
    if (!in)
        return make_error("cannot read the file");
    std::string text(mesh::identity::kMaxDelegationBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    auto d = mesh::identity::Delegation::parse(text);
    if (!d)
        return d.error();
    const auto& dl = d.value();
    if (dl.peer != cfg.id)
        return make_error("it is for peer '" + dl.peer + "', and this worker is --id '" + cfg.id +
                          "'");
    if (dl.instance_key != self.public_key())
        return make_error("it certifies another key than this worker's (" +
                          (cfg.data_dir / "identity.pem").string() +
                          "); issue one for this key with f0mesh delegate");
    if (!dl.verify())
        return make_error("it is not signed by the peer key it names");
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    if (now < dl.not_before_ms)
        return make_error("it is not valid before " + std::to_string(dl.not_before_ms) +
                          " ms (Unix)");
    if (now > dl.not_after_ms)
        return make_error("it expired at " + std::to_string(dl.not_after_ms) + " ms (Unix)");
    return d;
}

int run_worker(WorkerOptions& o) {
    if (!std::getenv("F0_LOG_LEVEL"))
        setenv("F0_LOG_LEVEL", o.log_level.c_str(), 1);
    auto logger = log::get("worker");
    auto& cfg = o.cfg;
    if (auto st = finish_worker_options(o); !st) {
        std::cerr << "f0mesh worker: " << st.error().message << "\n";
        return 2;
    }
    auto problems = cfg.validate();
    if (!problems.empty()) {
        for (const auto& p : problems)
            std::cerr << "f0mesh worker: " << p << "\n";
        std::cerr << "Run 'f0mesh worker --help' for the options.\n";
        return 2;
    }
    // An address that is not the host's gathers nothing: every link would fail. Say so now.
    for (const auto& a : cfg.ice_addresses)
        if (!util::can_bind_udp(a)) {
            std::string have;
            for (const auto& h : util::interface_addresses())
                have += (have.empty() ? "" : ", ") + h;
            std::cerr << "f0mesh worker: --ice-address " << a
                      << " is not an address of this host (its interfaces that are up have: "
                      << (have.empty() ? "none" : have) << ")\n";
            return 2;
        }
    auto identity = mesh::identity::Identity::load_or_create(cfg.data_dir / "identity.pem");
    if (!identity) {
        std::cerr << "f0mesh worker: " << identity.error().message << "\n";
        return 1;
    }
    if (!cfg.delegation_file.empty()) {
        auto d = load_delegation(cfg, identity.value());
        if (!d) {
            std::cerr << "f0mesh worker: --delegation " << cfg.delegation_file << ": "
                      << d.error().message << "\n";
            return 2;
        }
        cfg.delegation = std::move(d.value());
        F0_LOG_INFO(logger, "instance {} of peer {} (delegation valid until {} ms)",
                    cfg.delegation->instance, cfg.id, cfg.delegation->not_after_ms);
    }
    auto db = store::Database::open(cfg.data_dir / "f0.db");
    if (!db) {
        std::cerr << "f0mesh worker: " << db.error().message << "\n";
        return 1;
    }
    auto web = find_web_dir(cfg.web_dir);
    if (web.path.empty())
        F0_LOG_WARN(logger, "dashboard: {}; /ops/mesh answers 404", web.how);
    else
        F0_LOG_INFO(logger, "dashboard from {} ({})", web.path, web.how);
    boost::asio::io_context io;
    auto client = std::make_shared<api::HttpClient>(
        io, api::ClientConfig{cfg.tls_cert, cfg.tls_key, cfg.client_ca});
    mesh::RealClock clock(io);
    std::optional<mesh::TurnRest> turn_rest;
    if (!cfg.turn_secret_file.empty()) {
        std::ifstream in(cfg.turn_secret_file);
        std::string secret;
        std::getline(in, secret);
        if (!in || secret.empty()) {
            std::cerr << "f0mesh worker: cannot read a TURN secret from --turn-secret-file "
                      << cfg.turn_secret_file << "\n";
            return 1;
        }
        turn_rest = mesh::TurnRest{secret, cfg.id};
    }
    mesh::RtcPeerLinkFactory link_factory(clock, cfg.rtc_config(), turn_rest);
    api::HttpSignalingClient signaling_client(client);
    auto pub = identity.value().public_key_base64();
    auto node = std::make_shared<mesh::Node>(
        mesh::Node::Seams{clock, link_factory, signaling_client}, cfg, std::move(identity).value(),
        std::make_unique<store::MeshStore>(std::move(db).value()));
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
    sc.max_connections = cfg.http_max_connections;
    sc.max_per_source = cfg.http_max_per_source;
    sc.event_queue_bytes = cfg.events_queue_bytes;
    auto token_file =
        cfg.operator_token_file.empty() ? cfg.data_dir / "operator.token" : cfg.operator_token_file;
    auto token = api::OperatorAuth::load_or_create(token_file);
    if (!token) {
        std::cerr << "f0mesh worker: " << token.error().message << "\n";
        return 1;
    }
    auto router = std::make_shared<api::Router>();
    router->set_operator_check([auth = api::OperatorAuth(token.value())](const api::Request& r) {
        return auth.allows(r);
    });
    router->set_cors_origins({cfg.cors_origins.begin(), cfg.cors_origins.end()});
    api::HttpServer server(io, sc, router);
    auto hub = std::make_shared<api::EventHub>(cfg.events_max_streams);
    node->on_event([hub](const nlohmann::json& ev) { hub->publish(ev); });
    api::add_all_routes(
        *router,
        {node, hub, std::make_shared<api::RateLimiter>(cfg.signaling_rate, cfg.signaling_burst),
         web.path, std::make_shared<api::RateLimiter>(cfg.gossip.rate_max, 2 * cfg.gossip.rate_max),
         server.stats(),
         std::make_shared<api::BuildBudget>(cfg.peers_list_budget_ms,
                                            4 * cfg.peers_list_budget_ms)});
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
    F0_LOG_INFO(logger,
                "operator routes need 'Authorization: Bearer' with the token in {}; dashboard: "
                "{}/ops/mesh#token=<that token>",
                token_file.string(), cfg.advertised_url());
    // SIGHUP: the allowlist, the TLS files and the config file's log-level again; links stay.
    boost::asio::signal_set hup(io, SIGHUP);
    std::function<void()> wait_hup = [&] {
        hup.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec)
                return;
            util::sd_notify("RELOADING=1");
            F0_LOG_INFO(logger, "SIGHUP: reloading the allowlist, TLS files and log level");
            if (auto st = node->reload_allowlist(); !st)
                F0_LOG_ERROR(logger, "allowlist kept as it was: {}", st.error().message);
            if (auto st = server.reload_tls(); !st)
                F0_LOG_ERROR(logger, "TLS files kept as they were: {}", st.error().message);
            auto level = o.config_file.empty() ? std::nullopt
                                               : config_file_value(o.config_file, "log-level");
            if (level && !log::set_level(*level))
                F0_LOG_ERROR(logger, "log-level '{}' in {} is not a level; kept", *level,
                             o.config_file);
            else if (level)
                F0_LOG_DEBUG(logger, "log level {}: debug lines are on", *level);
            util::sd_notify("READY=1");
            wait_hup();
        });
    };
    wait_hup();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int sig) {
        util::sd_notify("STOPPING=1");
        F0_LOG_INFO(logger, "signal {}: closing links and stopping", sig);
        server.stop();
        node->stop();
        hup.cancel();
        io.stop();
    });
    // systemd's watchdog: pinged from the control thread, so a stuck control loop is restarted.
    boost::asio::steady_timer watchdog(io);
    std::function<void()> ping;
    if (auto every = util::sd_watchdog_interval()) {
        ping = [&, every = *every] {
            util::sd_notify("WATCHDOG=1");
            watchdog.expires_after(every);
            watchdog.async_wait([&](const boost::system::error_code& ec) {
                if (!ec)
                    ping();
            });
        };
        ping();
    }
    util::sd_notify("READY=1");
    io.run();
    // Teardown in order, while the clock, the link factory and the HTTP client the node uses
    // still exist: the event streams (each holds the router, whose routes hold the hub and the
    // node: a cycle, so an open dashboard kept the node from ever being destroyed), the routes,
    // then the node, whose destructor closes its store.
    hub->close_all();
    router->clear();
    if (node.use_count() != 1)
        F0_LOG_WARN(logger, "the node is still held elsewhere at exit ({} owners)",
                    node.use_count());
    node.reset();
    return 0;
}
} // namespace

Runner add_worker_command(CLI::App& app) {
    auto o = std::make_shared<WorkerOptions>();
    auto* w = app.add_subcommand("worker", "Run the peer daemon: signaling API, links, store");
    add_worker_options(*w, *o);
    return [o, w] {
        if (!o->config_file.empty())
            if (auto st = apply_config_file(*w, o->config_file); !st) {
                std::cerr << "f0mesh worker: " << st.error().message << "\n";
                return 2;
            }
        return run_worker(*o);
    };
}

} // namespace f0::cli

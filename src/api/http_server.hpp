// HTTP/1.1 server on Boost.Beast, plain or TLS (optionally mTLS: clients need a certificate from
// the given CA). Bodies over the limit get 413; every handler exception becomes a 500 JSON error,
// never a crash. Runs on the control-plane io_context.
#pragma once

#include "api/router.hpp"
#include "util/result.hpp"

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>

namespace f0::api {

struct ServerConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 7000;
    std::filesystem::path tls_cert, tls_key, client_ca;
    std::size_t max_body_bytes = 64 * 1024;
    std::chrono::seconds idle_timeout{30};
    std::size_t max_connections = 1024;      // open at once; more are closed on accept
    std::size_t max_per_source = 128;        // ...from one address
    std::size_t event_queue_bytes = 1 << 20; // an /events reader further behind is disconnected
};

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, ServerConfig config, std::shared_ptr<Router> router);
    ~HttpServer();
    Status start(); // binds and listens
    // Loads the TLS certificate, key and client CA again (SIGHUP): new connections get them,
    // open ones keep theirs. On error the old ones stay. Call on the io thread.
    Status reload_tls();
    void stop();
    std::uint16_t port() const; // the bound port (useful with port 0)
    std::shared_ptr<const ServerStats> stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace f0::api

// One Session per connection, templated on the stream (TCP or TLS). Keep-alive, limits, SSE.
#include "api/http_server.hpp"

#include "util/log.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <unordered_map>

namespace f0::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
const auto& logger() {
    static const auto& l = log::forever("api.http");
    return l;
}

// Open connections, in all and per source address. A Session holds its slot until it is gone.
struct Tracker {
    ServerStats stats;
    std::unordered_map<std::string, std::size_t> per_source;
};

struct Slot {
    std::shared_ptr<Tracker> t;
    std::string source;
    Slot(std::shared_ptr<Tracker> tr, std::string s) : t(std::move(tr)), source(std::move(s)) {
        ++t->stats.connections;
        ++t->per_source[source];
    }
    ~Slot() {
        --t->stats.connections;
        if (auto it = t->per_source.find(source); it != t->per_source.end() && --it->second == 0)
            t->per_source.erase(it);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
};

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>>, public EventStream {
public:
    Session(Stream stream, std::shared_ptr<Router> router, const ServerConfig& cfg,
            std::string source, std::shared_ptr<Tracker> tracker)
        : stream_(std::move(stream)), router_(std::move(router)), cfg_(cfg),
          source_(std::move(source)), slot_(std::move(tracker), source_) {}

    void run() { read(); }

    // EventStream
    bool open() const override { return streaming_ && !closed_; }
    void close() override {
        closing_ = true;
        if (queue_.empty())
            close_now();
    }
    using EventStream::send;
    void send(SseFrame chunk) override {
        if (!open() || !chunk)
            return;
        if (queued_bytes_ + chunk->size() > cfg_.event_queue_bytes) {
            // A reader this far behind is not reading: drop it rather than hold its backlog.
            ++slot_.t->stats.slow_readers_dropped;
            F0_LOG_INFO(logger(), "events reader {} is {} bytes behind; disconnected", source_,
                        queued_bytes_);
            close_now();
            return;
        }
        queued_bytes_ += chunk->size();
        queue_.push_back(std::move(chunk));
        if (queue_.size() == 1)
            write_queue();
    }

private:
    auto& lowest() { return beast::get_lowest_layer(stream_); }

    void read() {
        parser_.emplace();
        // The header is read with the largest limit any route has (Beast checks Content-Length
        // against it while parsing the header); on_header then applies this request's own.
        body_limit_ = std::max(cfg_.max_body_bytes, router_->largest_body_limit());
        parser_->body_limit(body_limit_);
        parser_->header_limit(16 * 1024);
        lowest().expires_after(cfg_.idle_timeout);
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                if (ec)
                    return self->on_read(ec);
                self->on_header();
            });
    }

    // RFC 9112 section 6.1: a Transfer-Encoding other than chunked, or one with a Content-Length,
    // is refused with 400 and the connection closed (no request smuggled behind it).
    void on_header() {
        const auto& h = parser_->get();
        auto te = h.find(http::field::transfer_encoding);
        if (te != h.end() && (h.find(http::field::content_length) != h.end() ||
                              !beast::iequals(te->value(), "chunked"))) {
            ++slot_.t->stats.bad_framing;
            keep_alive_ = false;
            reply(error_response(400, "bad_framing",
                                 "Transfer-Encoding other than 'chunked', or together with "
                                 "Content-Length, is refused"));
            return;
        }
        // A route may take a larger body from the operator (Router::set_body_limit); anyone else
        // is held to the default before a byte of the body is read.
        body_limit_ = router_->body_limit_for(head(), cfg_.max_body_bytes);
        if (auto length = parser_->content_length(); length && *length > body_limit_) {
            keep_alive_ = false;
            reply(error_response(413, "body_too_large",
                                 "request bodies are limited to " + std::to_string(body_limit_) +
                                     " bytes"));
            return;
        }
        parser_->body_limit(body_limit_); // a chunked body is counted as it comes
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == asio::error::eof) {
            shutdown();
            return;
        }
        if (ec == http::error::body_limit) {
            keep_alive_ = false;
            reply(error_response(413, "body_too_large",
                                 "request bodies are limited to " + std::to_string(body_limit_) +
                                     " bytes"));
            return;
        }
        if (ec) {
            if (ec != beast::error::timeout && ec != asio::error::operation_aborted &&
                ec != asio::ssl::error::stream_truncated)
                F0_LOG_DEBUG(logger(), "read from {}: {}", source_, ec.message());
            if (ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length ||
                ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension) {
                ++slot_.t->stats.bad_framing;
                keep_alive_ = false;
                reply(error_response(400, "bad_framing", ec.message()));
                return;
            }
            if (ec == http::error::header_limit || ec == http::error::bad_target ||
                ec == http::error::bad_method || ec == http::error::bad_version ||
                ec == http::error::bad_field || ec == http::error::bad_value) {
                keep_alive_ = false;
                reply(error_response(400, "bad_http", ec.message()));
            }
            return;
        }
        auto& msg = parser_->get();
        keep_alive_ = msg.keep_alive();
        Request req = head();
        req.body = std::move(msg.body());
        if (auto stream = router_->stream_for(req)) {
            start_stream(req, *stream);
            return;
        }
        auto self = this->shared_from_this();
        try {
            router_->dispatch(req, [self](Response r) { self->reply(std::move(r)); });
        } catch (const std::exception& e) {
            F0_LOG_ERROR(logger(), "handler for {} threw: {}", req.path, e.what());
            reply(error_response(500, "internal", "the handler failed; see the worker log"));
        }
    }

    // The request as far as its header tells: method, path, query, source and the headers used.
    Request head() const {
        const auto& msg = parser_->get();
        Request req;
        req.method = std::string(msg.method_string());
        std::string target(msg.target());
        auto q = target.find('?');
        req.path = target.substr(0, q);
        req.query = q == std::string::npos ? "" : target.substr(q + 1);
        req.source = source_;
        if (auto a = msg.find(http::field::authorization); a != msg.end())
            req.authorization = std::string(a->value());
        if (auto o = msg.find(http::field::origin); o != msg.end())
            req.origin = std::string(o->value());
        if (auto c = msg.find(http::field::content_type); c != msg.end())
            req.content_type = std::string(c->value());
        return req;
    }

    void reply(Response r) {
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(r.status), 11);
        res->set(http::field::server, "f0mesh");
        res->set(http::field::content_type, r.content_type);
        res->set(http::field::cache_control, "no-store");
        for (const auto& [name, value] : r.headers)
            res->set(name, value);
        res->keep_alive(keep_alive_);
        res->body() = std::move(r.body);
        res->prepare_payload();
        lowest().expires_after(cfg_.idle_timeout);
        http::async_write(
            stream_, *res,
            [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                if (ec)
                    return;
                if (!self->keep_alive_) {
                    self->shutdown();
                    return;
                }
                self->read();
            });
    }

    void start_stream(Request& req, const Router::StreamHandler& handler) {
        streaming_ = true;
        lowest().expires_never();
        // The header goes through the same queue as the events: one write in flight at a time.
        static const SseFrame header = std::make_shared<const std::string>(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
            "Connection: keep-alive\r\nAccess-Control-Allow-Origin: *\r\n\r\n: f0mesh events\n\n");
        queue_.push_back(header);
        queued_bytes_ += header->size(); // every queued byte is counted, and uncounted once
        write_queue();
        auto self = this->shared_from_this();
        handler(req, self);
        // Detect the client going away: a read completes (or fails) when it does. Its socket is
        // closed at once (not at the next event), so a reader that comes and goes holds no fd.
        buffer_.consume(buffer_.size());
        stream_.async_read_some(probe_.prepare(512),
                                [self](beast::error_code, std::size_t) { self->close_now(); });
    }

    void write_queue() {
        if (queue_.empty() || closed_)
            return;
        auto self = this->shared_from_this();
        // The handler holds the frame: close_now() may clear the queue while the write is in
        // flight, and the buffer must outlive the write either way.
        auto frame = queue_.front();
        asio::async_write(stream_, asio::buffer(*frame),
                          [self, frame](beast::error_code ec, std::size_t) {
                              if (self->closed_)
                                  return; // close_now() emptied the queue: nothing to pop
                              if (ec) {
                                  self->close_now();
                                  return;
                              }
                              self->queued_bytes_ -= self->queue_.front()->size();
                              self->queue_.pop_front();
                              if (self->closing_ && self->queue_.empty())
                                  return self->close_now();
                              self->write_queue();
                          });
    }

    void close_now() {
        closed_ = true;
        queue_.clear();
        queued_bytes_ = 0;
        beast::error_code ec;
        lowest().socket().close(ec);
    }

    void shutdown() {
        closed_ = true;
        beast::error_code ec;
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>)
            stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        else
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    }

    Stream stream_;
    std::shared_ptr<Router> router_;
    const ServerConfig& cfg_;
    std::string source_;
    beast::flat_buffer buffer_;
    beast::flat_buffer probe_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::size_t body_limit_ = 0; // of the request being read
    bool keep_alive_ = false;
    bool streaming_ = false;
    bool closed_ = false;
    std::deque<SseFrame> queue_; // shared with the other streams: counted here, copied nowhere
    std::size_t queued_bytes_ = 0;
    bool closing_ = false;
    Slot slot_;
};
} // namespace

struct HttpServer::Impl {
    // Accepts kept outstanding at once: the reactor completes as many as there are connections
    // waiting in one turn, so a well-behaved client is not queued behind an attacker's backlog
    // one loop turn per connection (those over the caps are closed at once).
    static constexpr int kAccepts = 16;
    asio::io_context& io;
    ServerConfig cfg;
    std::shared_ptr<Router> router;
    tcp::acceptor acceptor;
    std::unique_ptr<asio::ssl::context> ssl;
    std::shared_ptr<Tracker> tracker = std::make_shared<Tracker>();
    std::chrono::milliseconds backoff_delay{0};

    Impl(asio::io_context& io_, ServerConfig c, std::shared_ptr<Router> r)
        : io(io_), cfg(std::move(c)), router(std::move(r)), acceptor(io_) {}

    // Decides on one accepted connection: closed over the caps, else a session (after the TLS
    // handshake when there is TLS).
    void admit(tcp::socket socket) {
        beast::error_code ep_ec;
        auto ep = socket.remote_endpoint(ep_ec);
        std::string source = ep_ec ? "?" : ep.address().to_string();
        auto& st = tracker->stats;
        auto from = tracker->per_source.count(source) ? tracker->per_source[source] : 0;
        if (st.connections >= cfg.max_connections || from >= cfg.max_per_source) {
            ++(st.connections >= cfg.max_connections ? st.refused_total : st.refused_per_source);
            beast::error_code cec;
            socket.close(cec);
            return;
        }
        if (ssl) {
            using S = beast::ssl_stream<beast::tcp_stream>;
            auto stream = std::make_shared<S>(beast::tcp_stream(std::move(socket)), *ssl);
            beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(10));
            stream->async_handshake(
                asio::ssl::stream_base::server, [this, stream, source](beast::error_code hec) {
                    if (hec) {
                        F0_LOG_INFO(logger(), "TLS handshake with {} refused: {}", source,
                                    hec.message());
                        return;
                    }
                    std::make_shared<Session<S>>(std::move(*stream), router, cfg, source, tracker)
                        ->run();
                });
        } else {
            std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                         router, cfg, source, tracker)
                ->run();
        }
    }

    void accept() {
        if (!acceptor.is_open())
            return; // stopped
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted)
                return;
            if (ec) {
                // EMFILE and the like: accepting again at once would spin. Each outstanding
                // accept backs off (10 ms doubling to 1 s) until connections close; the first
                // success resets it.
                ++tracker->stats.accept_errors;
                backoff_delay = std::min<std::chrono::milliseconds>(
                    std::chrono::seconds(1), std::max<std::chrono::milliseconds>(
                                                 std::chrono::milliseconds(10), backoff_delay * 2));
                static log::Sampled sampled;
                if (auto n = sampled.next())
                    F0_LOG_WARN(logger(), "accept failed: {}; retrying in {} ms ({} so far)",
                                ec.message(), backoff_delay.count(), *n);
                auto timer = std::make_shared<asio::steady_timer>(io, backoff_delay);
                timer->async_wait([this, timer](beast::error_code wec) {
                    if (!wec)
                        accept();
                });
                return;
            }
            backoff_delay = std::chrono::milliseconds(0);
            admit(std::move(socket));
            accept();
        });
    }
};

HttpServer::HttpServer(asio::io_context& io, ServerConfig config, std::shared_ptr<Router> router)
    : impl_(std::make_unique<Impl>(io, std::move(config), std::move(router))) {}

HttpServer::~HttpServer() = default;

Status HttpServer::reload_tls() {
    const auto& c = impl_->cfg;
    if (c.tls_cert.empty())
        return Ok{};
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    ctx->use_certificate_chain_file(c.tls_cert.string(), ec);
    if (!ec)
        ctx->use_private_key_file(c.tls_key.string(), asio::ssl::context::pem, ec);
    if (ec)
        return make_error("cannot load the TLS certificate or key: " + ec.message());
    if (!c.client_ca.empty()) {
        ctx->load_verify_file(c.client_ca.string(), ec);
        if (ec)
            return make_error("cannot load the client CA " + c.client_ca.string() + ": " +
                              ec.message());
        ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
    // Connections made with the old context keep its SSL_CTX alive (OpenSSL counts references;
    // we set no callbacks that the asio wrapper would free with it).
    impl_->ssl = std::move(ctx);
    return Ok{};
}

Status HttpServer::start() {
    auto& c = impl_->cfg;
    if (auto st = reload_tls(); !st) // nothing to load without --tls-cert
        return st;
    beast::error_code ec;
    auto addr = asio::ip::make_address(c.host, ec);
    if (ec)
        return make_error("listen address '" + c.host + "' is not an IP address");
    tcp::endpoint ep(addr, c.port);
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec)
        a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        a.bind(ep, ec);
    if (!ec)
        a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error("cannot listen on " + c.host + ":" + std::to_string(c.port) + ": " +
                          ec.message());
    for (int i = 0; i < Impl::kAccepts; ++i)
        impl_->accept();
    return Ok{};
}

void HttpServer::stop() {
    beast::error_code ec;
    impl_->acceptor.close(ec);
}

std::shared_ptr<const ServerStats> HttpServer::stats() const {
    return {impl_->tracker, &impl_->tracker->stats};
}

std::uint16_t HttpServer::port() const {
    beast::error_code ec;
    return impl_->acceptor.local_endpoint(ec).port();
}

} // namespace f0::api

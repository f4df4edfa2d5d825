// One connection per request (signaling is rare); Connection: close.
#include "api/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/x509v3.h>

#include <optional>

namespace f0::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
struct Url {
    bool tls = false;
    std::string host, port, target;
};

std::optional<Url> parse_url(const std::string& s) {
    Url u;
    std::string rest;
    if (s.rfind("http://", 0) == 0)
        rest = s.substr(7);
    else if (s.rfind("https://", 0) == 0) {
        u.tls = true;
        rest = s.substr(8);
    } else
        return std::nullopt;
    auto slash = rest.find('/');
    auto hostport = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (!hostport.empty() && hostport[0] == '[') { // [v6]:port
        auto close = hostport.find(']');
        if (close == std::string::npos)
            return std::nullopt;
        u.host = hostport.substr(1, close - 1);
        u.port = close + 2 <= hostport.size() ? hostport.substr(close + 2) : "";
    } else {
        auto colon = hostport.rfind(':');
        u.host = hostport.substr(0, colon);
        u.port = colon == std::string::npos ? "" : hostport.substr(colon + 1);
    }
    if (u.port.empty())
        u.port = u.tls ? "443" : "80";
    if (u.host.empty())
        return std::nullopt;
    return u;
}

template <class Stream> struct Exchange : std::enable_shared_from_this<Exchange<Stream>> {
    Stream stream;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    HttpClient::Done done;
    bool finished = false;

    template <class... A> explicit Exchange(A&&... a) : stream(std::forward<A>(a)...) {}

    void finish(int status, std::string body, std::string error) {
        if (finished)
            return;
        finished = true;
        done(status, std::move(body), std::move(error));
    }

    void send() {
        auto self = this->shared_from_this();
        http::async_write(stream, req, [self](beast::error_code ec, std::size_t) {
            if (ec)
                return self->finish(0, "", "write: " + ec.message());
            http::async_read(
                self->stream, self->buffer, self->res, [self](beast::error_code ec2, std::size_t) {
                    if (ec2)
                        return self->finish(0, "", "read: " + ec2.message());
                    self->finish(self->res.result_int(), std::move(self->res.body()), "");
                });
        });
    }
};
} // namespace

struct HttpClient::Impl {
    asio::io_context& io;
    ClientConfig cfg;
    asio::ssl::context ssl{asio::ssl::context::tls_client};
    tcp::resolver resolver;
    Impl(asio::io_context& i, ClientConfig c) : io(i), cfg(std::move(c)), resolver(i) {
        beast::error_code ec;
        if (!cfg.cert.empty()) {
            ssl.use_certificate_chain_file(cfg.cert.string(), ec);
            ssl.use_private_key_file(cfg.key.string(), asio::ssl::context::pem, ec);
        }
        if (!cfg.ca.empty()) {
            ssl.load_verify_file(cfg.ca.string(), ec);
            ssl.set_verify_mode(asio::ssl::verify_peer);
        } else
            ssl.set_verify_mode(asio::ssl::verify_none); // peers are authenticated by signed SDP
    }
};

HttpClient::HttpClient(asio::io_context& io, ClientConfig config)
    : impl_(std::make_unique<Impl>(io, std::move(config))) {}

HttpClient::~HttpClient() = default;

void HttpClient::request(const std::string& method, const std::string& url, const std::string& body,
                         const Headers& headers, Done done) {
    auto u = parse_url(url);
    if (!u)
        return done(0, "", "not an http(s) URL: " + url);
    auto self = shared_from_this();
    impl_->resolver.async_resolve(
        u->host, u->port,
        [self, u = *u, method, body, headers, done](beast::error_code ec,
                                                    tcp::resolver::results_type results) {
            if (ec)
                return done(0, "", "resolve " + u.host + ": " + ec.message());
            auto fill = [&](auto& x) {
                x->done = done;
                x->req.method_string(method);
                x->req.target(u.target);
                x->req.version(11);
                x->req.set(http::field::host, u.host + ":" + u.port);
                x->req.set(http::field::user_agent, "f0mesh");
                x->req.set(http::field::connection, "close");
                for (const auto& [name, value] : headers)
                    x->req.set(name, value);
                if (!body.empty() || method == "POST") {
                    x->req.set(http::field::content_type, "application/json");
                    x->req.body() = body;
                }
                x->req.prepare_payload();
            };
            auto timeout = self->impl_->cfg.timeout;
            if (!u.tls) {
                auto x = std::make_shared<Exchange<beast::tcp_stream>>(self->impl_->io);
                fill(x);
                x->stream.expires_after(timeout);
                x->stream.async_connect(results, [x](beast::error_code cec, const tcp::endpoint&) {
                    if (cec)
                        return x->finish(0, "", "connect: " + cec.message());
                    x->send();
                });
            } else {
                using S = beast::ssl_stream<beast::tcp_stream>;
                auto x = std::make_shared<Exchange<S>>(self->impl_->io, self->impl_->ssl);
                fill(x);
                beast::error_code ip_ec;
                asio::ip::make_address(u.host, ip_ec);
                bool ip_literal = !ip_ec;
                auto* ssl = x->stream.native_handle();
                if (!ip_literal) // SNI carries names only (RFC 6066 §3)
                    SSL_set_tlsext_host_name(ssl, u.host.c_str());
                // With a CA to verify against, the certificate must also name the host we meant
                // (an IP SAN for an address, a DNS SAN for a name): any other holder of a
                // certificate from the same CA is refused.
                if (!self->impl_->cfg.ca.empty()) {
                    int ok = ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
                                                                        u.host.c_str())
                                        : SSL_set1_host(ssl, u.host.c_str());
                    if (ok != 1)
                        return done(0, "", "TLS: cannot check the server's name " + u.host);
                }
                beast::get_lowest_layer(x->stream).expires_after(timeout);
                beast::get_lowest_layer(x->stream).async_connect(
                    results, [x](beast::error_code cec, const tcp::endpoint&) {
                        if (cec)
                            return x->finish(0, "", "connect: " + cec.message());
                        x->stream.async_handshake(
                            asio::ssl::stream_base::client, [x](beast::error_code hec) {
                                if (hec)
                                    return x->finish(0, "", "TLS: " + hec.message());
                                x->send();
                            });
                    });
            }
        });
}

} // namespace f0::api

// Outgoing HTTP(S) requests from a worker to other workers (signaling, beacon). Async on the
// control-plane io_context, with a timeout. For https, the worker's own certificate is presented
// (for peers that require mTLS) and the server is verified against the CA, when one is given.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace f0::api {

struct ClientConfig {
    std::filesystem::path cert, key, ca;
    std::chrono::milliseconds timeout{5000};
};

class HttpClient : public std::enable_shared_from_this<HttpClient> {
public:
    using Done = std::function<void(int status, std::string body, std::string error)>;
    HttpClient(boost::asio::io_context& io, ClientConfig config);
    ~HttpClient();
    using Headers = std::vector<std::pair<std::string, std::string>>;
    void request(const std::string& method, const std::string& url, const std::string& body,
                 Done done) {
        request(method, url, body, {}, std::move(done));
    }
    void request(const std::string& method, const std::string& url, const std::string& body,
                 const Headers& headers, Done done);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace f0::api

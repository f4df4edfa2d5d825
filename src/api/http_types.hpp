// Plain request/response values between the HTTP server and the route handlers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace f0::api {

// What the HTTP server (http_server.cpp) refused or dropped, for /metrics. Touched on the io thread
// only.
struct ServerStats {
    std::uint64_t connections = 0; // open now
    std::uint64_t refused_total = 0, refused_per_source = 0, accept_errors = 0;
    std::uint64_t slow_readers_dropped = 0, bad_framing = 0;
};

struct Request {
    std::string method;
    std::string path;  // without the query
    std::string query; // after '?', undecoded
    std::string body;
    std::string source;                        // client IP address
    std::string authorization;                 // the Authorization header, if any
    std::string origin;                        // the Origin header (a browser page's), if any
    std::string content_type;                  // the Content-Type header, if any
    std::map<std::string, std::string> params; // from the route pattern: /links/{peer}
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // extra ones (names are ours)
};

using Respond = std::function<void(Response)>;

// One server-sent event, framed ("event: ...\ndata: ...\n\n") once and shared by every stream
// that sends it: an event or a snapshot is not copied per reader.
using SseFrame = std::shared_ptr<const std::string>;
SseFrame sse_frame(const std::string& event, const std::string& data);

// A live server-sent-events stream; send() is safe from the io thread only.
class EventStream {
public:
    virtual ~EventStream() = default;
    virtual bool open() const = 0;
    virtual void send(SseFrame frame) = 0;
    void send(const std::string& event, const std::string& data) { send(sse_frame(event, data)); }
    virtual void close() = 0; // after what was sent so far is written, if it can be
};

Response json_response(int status, const std::string& body);
Response error_response(int status, const std::string& code, const std::string& detail);

} // namespace f0::api

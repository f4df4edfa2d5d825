// Segment-wise path matching; "{name}" captures one segment.
#include "api/router.hpp"

namespace f0::api {

namespace {
std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/')
            ++i;
        auto j = path.find('/', i);
        if (j == std::string::npos)
            j = path.size();
        if (j > i)
            out.push_back(path.substr(i, j - i));
        i = j;
    }
    return out;
}
} // namespace

SseFrame sse_frame(const std::string& event, const std::string& data) {
    return std::make_shared<const std::string>("event: " + event + "\ndata: " + data + "\n\n");
}

Response json_response(int status, const std::string& body) {
    return {status, "application/json", body};
}

Response error_response(int status, const std::string& code, const std::string& detail) {
    std::string esc;
    for (char c : detail) {
        if (c == '"' || c == '\\')
            esc += '\\';
        if (static_cast<unsigned char>(c) < 0x20)
            continue;
        esc += c;
    }
    return {status, "application/json", "{\"error\":\"" + code + "\",\"detail\":\"" + esc + "\"}"};
}

void Router::add(const std::string& method, const std::string& pattern, Handler h) {
    routes_.push_back({method, split(pattern), std::move(h), nullptr});
}

void Router::add_stream(const std::string& pattern, StreamHandler h) {
    routes_.push_back({"GET", split(pattern), nullptr, std::move(h)});
}

void Router::add_prefix(const std::string& method, const std::string& prefix, Handler h) {
    prefixes_.emplace_back(method, prefix, std::move(h));
}

bool Router::match(const Route& r, const std::string& path,
                   std::map<std::string, std::string>& params) {
    auto parts = split(path);
    if (parts.size() != r.parts.size())
        return false;
    std::map<std::string, std::string> got;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto& p = r.parts[i];
        if (p.size() > 2 && p.front() == '{' && p.back() == '}')
            got[p.substr(1, p.size() - 2)] = parts[i];
        else if (p != parts[i])
            return false;
    }
    params = std::move(got);
    return true;
}

std::optional<Router::StreamHandler> Router::stream_for(Request& req) const {
    for (const auto& r : routes_)
        if (r.stream && req.method == "GET" && match(r, req.path, req.params))
            return r.stream;
    return std::nullopt;
}

void Router::dispatch(Request& req, Respond respond) const {
    bool path_known = false;
    for (const auto& r : routes_) {
        std::map<std::string, std::string> params;
        if (!match(r, req.path, params))
            continue;
        path_known = true;
        if (r.method != req.method || !r.handler)
            continue;
        req.params = std::move(params);
        r.handler(req, std::move(respond));
        return;
    }
    for (const auto& [method, prefix, handler] : prefixes_) {
        if (req.path.rfind(prefix, 0) != 0)
            continue;
        if (method != req.method) {
            path_known = true;
            continue;
        }
        req.params["*"] = req.path.substr(prefix.size());
        handler(req, std::move(respond));
        return;
    }
    if (path_known)
        respond(error_response(405, "method_not_allowed",
                               req.method + " is not allowed on " + req.path));
    else
        respond(error_response(404, "not_found", "no route for " + req.path));
}

} // namespace f0::api

// Segment-wise path matching; "{name}" captures one segment.
#include "api/router.hpp"

#include "api/routes.hpp"

#include <algorithm>

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

void Router::add(const std::string& method, const std::string& pattern, Handler h, Access access) {
    routes_.push_back({method, split(pattern), std::move(h), nullptr, access});
}

void Router::add_stream(const std::string& pattern, StreamHandler h, Access access) {
    routes_.push_back({"GET", split(pattern), nullptr, std::move(h), access});
}

void Router::add_prefix(const std::string& method, const std::string& prefix, Handler h,
                        Access access) {
    prefixes_.push_back({method, prefix, std::move(h), access});
}

void Router::set_body_limit(const std::string& method, const std::string& pattern,
                            std::size_t bytes) {
    auto parts = split(pattern);
    for (auto& r : routes_)
        if (r.method == method && r.parts == parts && !r.stream) {
            r.body_limit = bytes;
            largest_body_limit_ = std::max(largest_body_limit_, bytes);
        }
}

std::size_t Router::body_limit_for(const Request& head, std::size_t fallback) const {
    std::map<std::string, std::string> params;
    for (const auto& r : routes_)
        if (r.body_limit && r.method == head.method && match(r, head.path, params))
            return allowed(r.access, head) ? std::max(r.body_limit, fallback) : fallback;
    return fallback;
}

bool Router::allowed(Access access, const Request& req) const {
    return access == Access::Peer || (operator_check_ && operator_check_(req));
}

void Router::refuse(const Request& req, const Respond& respond) const {
    std::string error;
    bool sent = !req.authorization.empty() || query_param(req.query, "token", error).has_value();
    if (sent)
        respond(error_response(403, "bad_operator_credential",
                               "the operator credential does not match this worker's"));
    else
        respond(error_response(401, "operator_credential_required",
                               req.method + " " + req.path +
                                   " is an operator route: send 'Authorization: Bearer TOKEN' "
                                   "with the token in the worker's operator token file "
                                   "(DATA_DIR/operator.token by default)"));
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
            return allowed(r.access, req) ? std::optional(r.stream) : std::nullopt;
    return std::nullopt;
}

bool Router::cors_allows(const std::string& origin) const {
    return !origin.empty() && (cors_.count("*") || cors_.count(origin));
}

void Router::preflight(const Request& req, const Respond& respond) const {
    std::set<std::string> methods;
    for (const auto& r : routes_) {
        std::map<std::string, std::string> params;
        if (r.access == Access::Peer && match(r, req.path, params))
            methods.insert(r.stream ? "GET" : r.method);
    }
    for (const auto& p : prefixes_)
        if (p.access == Access::Peer && req.path.rfind(p.prefix, 0) == 0)
            methods.insert(p.method);
    if (methods.empty())
        return respond(error_response(404, "not_found",
                                      "no peer route for " + req.path +
                                          " (OPTIONS is answered "
                                          "for peer routes only)"));
    if (!cors_allows(req.origin))
        return respond(error_response(403, "origin_not_allowed",
                                      req.origin.empty()
                                          ? "a preflight needs an Origin header"
                                          : "origin '" + req.origin + "' is not in --cors-origin"));
    std::string allow;
    for (const auto& m : methods)
        allow += (allow.empty() ? "" : ", ") + m;
    Response r{204, "application/json", "", {}};
    r.headers = {{"Access-Control-Allow-Origin", req.origin},
                 {"Access-Control-Allow-Methods", allow + ", OPTIONS"},
                 {"Access-Control-Allow-Headers", "Content-Type"},
                 {"Access-Control-Max-Age", "600"},
                 {"Vary", "Origin"}};
    respond(std::move(r));
}

void Router::dispatch(Request& req, Respond respond) const {
    if (req.method == "OPTIONS")
        return preflight(req, respond);
    bool path_known = false;
    for (const auto& r : routes_) {
        std::map<std::string, std::string> params;
        if (!match(r, req.path, params))
            continue;
        path_known = true;
        if (r.method != req.method)
            continue;
        if (!allowed(r.access, req))
            return refuse(req, respond);
        if (!r.handler)
            continue; // a stream the server did not take as one
        req.params = std::move(params);
        if (r.access == Access::Peer && cors_allows(req.origin))
            respond = [respond, origin = req.origin](Response res) {
                res.headers.emplace_back("Access-Control-Allow-Origin", origin);
                res.headers.emplace_back("Vary", "Origin");
                respond(std::move(res));
            };
        r.handler(req, std::move(respond));
        return;
    }
    for (const auto& p : prefixes_) {
        if (req.path.rfind(p.prefix, 0) != 0)
            continue;
        if (p.method != req.method) {
            path_known = true;
            continue;
        }
        if (!allowed(p.access, req))
            return refuse(req, respond);
        req.params["*"] = req.path.substr(p.prefix.size());
        p.handler(req, std::move(respond));
        return;
    }
    if (path_known)
        respond(error_response(405, "method_not_allowed",
                               req.method + " is not allowed on " + req.path));
    else
        respond(error_response(404, "not_found", "no route for " + req.path));
}

} // namespace f0::api

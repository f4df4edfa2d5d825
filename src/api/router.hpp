// Routes: method + path pattern ("/links/{peer}") -> handler. Unknown paths get 404, known paths
// with another method 405, both as JSON errors.
// Every route is an operator route unless it is added as a peer route: an operator route needs
// the operator credential (set_operator_check; none set: every operator request is refused),
// else 401 operator_credential_required (none sent) or 403 bad_operator_credential (a wrong one).
// CORS (browser pages on other origins dialling a worker): peer routes answer requests whose
// Origin is in set_cors_origins with Access-Control-Allow-Origin, and OPTIONS preflights with
// 204 (the methods the path takes); another origin's preflight gets 403 origin_not_allowed.
// Operator routes never answer other origins.
#pragma once

#include "api/http_types.hpp"

#include <optional>
#include <set>

namespace f0::api {

class Router {
public:
    using Handler = std::function<void(Request&, Respond)>;
    using StreamHandler = std::function<void(Request&, std::shared_ptr<EventStream>)>;
    enum class Access { Operator, Peer };
    // The credential check: true when the request carries the operator's credential.
    using OperatorCheck = std::function<bool(const Request&)>;

    void add(const std::string& method, const std::string& pattern, Handler h,
             Access access = Access::Operator);
    void add_stream(const std::string& pattern, StreamHandler h, // GET, text/event-stream
                    Access access = Access::Operator);
    // Everything under prefix (the rest of the path in params["*"]), when no exact route matches.
    void add_prefix(const std::string& method, const std::string& prefix, Handler h,
                    Access access = Access::Operator);
    void set_operator_check(OperatorCheck check) { operator_check_ = std::move(check); }
    // Origins ("https://app.example:8443") whose pages may call the peer routes; "*": any.
    void set_cors_origins(std::set<std::string> origins) { cors_ = std::move(origins); }
    // A larger request body for one operator route (POST /links/{peer}/control carries a message
    // up to the channel's max-message-size). Granted only to a request that carries the operator
    // credential: nobody else can make the server buffer more than its default.
    void set_body_limit(const std::string& method, const std::string& pattern, std::size_t bytes);
    // The body limit for a request whose head (method, path, query, credentials) has been read.
    std::size_t body_limit_for(const Request& head, std::size_t fallback) const;
    std::size_t largest_body_limit() const { return largest_body_limit_; } // 0: none set

    // A stream handler when the request is for one and allowed; otherwise nullopt (dispatch
    // then answers why).
    std::optional<StreamHandler> stream_for(Request& req) const;
    void dispatch(Request& req, Respond respond) const;
    // At shutdown: every route is let go, and with it what the handlers hold (the node, the event
    // hub); a request still in flight is answered 404.
    void clear() {
        routes_.clear();
        prefixes_.clear();
    }

private:
    struct Route {
        std::string method;
        std::vector<std::string> parts;
        Handler handler;
        StreamHandler stream;
        Access access = Access::Operator;
        std::size_t body_limit = 0; // 0: the server's default
    };
    struct Prefix {
        std::string method, prefix;
        Handler handler;
        Access access = Access::Operator;
    };
    bool allowed(Access access, const Request& req) const;
    bool cors_allows(const std::string& origin) const;
    void preflight(const Request& req, const Respond& respond) const;
    void refuse(const Request& req, const Respond& respond) const;
    static bool match(const Route& r, const std::string& path,
                      std::map<std::string, std::string>& params);
    std::vector<Route> routes_;
    std::vector<Prefix> prefixes_;
    OperatorCheck operator_check_;
    std::set<std::string> cors_;
    std::size_t largest_body_limit_ = 0; // of any route, read before every request's header
};

} // namespace f0::api

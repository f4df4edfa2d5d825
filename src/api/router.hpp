// Routes: method + path pattern ("/links/{peer}") -> handler. Unknown paths get 404, known paths
// with another method 405, both as JSON errors.
#pragma once

#include "api/http_types.hpp"

#include <optional>
#include <tuple>

namespace f0::api {

class Router {
public:
    using Handler = std::function<void(Request&, Respond)>;
    using StreamHandler = std::function<void(Request&, std::shared_ptr<EventStream>)>;

    void add(const std::string& method, const std::string& pattern, Handler h);
    void add_stream(const std::string& pattern, StreamHandler h); // GET, text/event-stream
    // Everything under prefix (the rest of the path in params["*"]), when no exact route matches.
    void add_prefix(const std::string& method, const std::string& prefix, Handler h);

    // A stream handler when the request is for one; otherwise nullopt.
    std::optional<StreamHandler> stream_for(Request& req) const;
    void dispatch(Request& req, Respond respond) const;

private:
    struct Route {
        std::string method;
        std::vector<std::string> parts;
        Handler handler;
        StreamHandler stream;
    };
    static bool match(const Route& r, const std::string& path,
                      std::map<std::string, std::string>& params);
    std::vector<Route> routes_;
    std::vector<std::tuple<std::string, std::string, Handler>> prefixes_;
};

} // namespace f0::api

// Gossip: POST /gossip/publish, GET /gossip/messages, POST /gossip (the HTTPS fallback of the
// gossip channel), and the query-parameter helpers shared by the route files.
#include "api/routes.hpp"

namespace f0::api {

std::optional<std::string> query_param(const std::string& query, const std::string& name,
                                       std::string& error) {
    std::size_t pos = 0;
    while (pos <= query.size()) {
        auto amp = query.find('&', pos);
        auto part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        auto eq = part.find('=');
        if (part.substr(0, eq) == name) {
            auto raw = eq == std::string::npos ? std::string() : part.substr(eq + 1);
            std::string out;
            for (std::size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] == '+') {
                    out += ' ';
                } else if (raw[i] == '%') {
                    auto hex = [](char c) {
                        return c >= '0' && c <= '9'   ? c - '0'
                               : c >= 'a' && c <= 'f' ? c - 'a' + 10
                               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                      : -1;
                    };
                    if (i + 2 >= raw.size() || hex(raw[i + 1]) < 0 || hex(raw[i + 2]) < 0) {
                        error = "query parameter '" + name + "' has a bad %-escape";
                        return std::nullopt;
                    }
                    out += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
                    i += 2;
                } else {
                    out += raw[i];
                }
            }
            return out;
        }
        if (amp == std::string::npos)
            break;
        pos = amp + 1;
    }
    return std::nullopt;
}

std::optional<std::int64_t> int_param(const std::string& query, const std::string& name,
                                      std::int64_t def, std::string& error) {
    auto v = query_param(query, name, error);
    if (!error.empty())
        return std::nullopt;
    if (!v)
        return def;
    try {
        std::size_t used = 0;
        auto n = std::stoll(*v, &used);
        if (used == v->size() && !v->empty())
            return n;
    } catch (...) {
    }
    error = "query parameter '" + name + "' must be an integer";
    return std::nullopt;
}

void add_gossip_routes(Router& r, const ApiContext& ctx) {
    r.add("POST", "/gossip/publish", [ctx](Request& req, Respond respond) {
        auto body = json_body(req, respond);
        if (!body)
            return;
        respond(outcome_response(ctx.node->gossip_publish(*body)));
    });
    r.add("GET", "/gossip/messages", [ctx](Request& req, Respond respond) {
        std::string error;
        auto topic = query_param(req.query, "topic", error);
        auto since = int_param(req.query, "since", 0, error);
        auto limit = int_param(req.query, "limit", 1000, error);
        if (!error.empty())
            return respond(error_response(400, "bad_request", error));
        if (*limit < 1 || *limit > 10000)
            return respond(error_response(400, "bad_request", "'limit' must be 1..10000"));
        respond(outcome_response(ctx.node->gossip_messages(topic.value_or(""), *since, *limit)));
    });
    // Peer-facing: rate-limited per source (then per sending peer by trust, in the engine).
    r.add("POST", "/gossip", [ctx](Request& req, Respond respond) {
        if (ctx.gossip_limit && !ctx.gossip_limit->allow(req.source, RateLimiter::Clock::now()))
            return respond(
                error_response(429, "rate_limited", "too many gossip requests from " + req.source));
        auto body = json_body(req, respond);
        if (!body)
            return;
        respond(outcome_response(ctx.node->accept_gossip(*body)));
    });
}

} // namespace f0::api

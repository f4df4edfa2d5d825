// Signaling: POST /dial {"peerTo"}, POST /offer <envelope> -> <answer envelope>, POST /answer.
// The original's /api/mesh-rtc/* paths are aliases. Also the helpers the route files share.
#include "api/routes.hpp"
#include "util/json_in.hpp"

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

std::optional<nlohmann::json> json_body(const Request& req, const Respond& respond) {
    auto j = parse_untrusted(req.body);
    if (j.is_discarded()) {
        respond(error_response(400, "bad_json", "the body is not valid JSON"));
        return std::nullopt;
    }
    if (!j.is_object()) {
        respond(error_response(400, "bad_json", "the body must be a JSON object"));
        return std::nullopt;
    }
    return j;
}

bool rate_limited(const ApiContext& ctx, const Request& req, const Respond& respond) {
    if (ctx.signaling_limit->allow(req.source, RateLimiter::Clock::now()))
        return false;
    respond(error_response(429, "rate_limited", "too many signaling requests from " + req.source));
    return true;
}

void add_signaling_routes(Router& r, const ApiContext& ctx) {
    // /dial is the operator's own request; the peer-facing routes (/offer, /answer, /beacon) are
    // the ones rate-limited per source.
    auto dial = [ctx](Request& req, Respond respond) {
        auto body = json_body(req, respond);
        if (!body)
            return;
        auto it = body->find("peerTo");
        if (it == body->end() || !it->is_string() || it->get<std::string>().empty())
            return respond(
                error_response(400, "bad_request", "'peerTo' must be a non-empty string"));
        ctx.node->signaling().dial(it->get<std::string>(),
                                   [respond](mesh::Outcome o) { respond(outcome_response(o)); });
    };
    auto offer = [ctx](Request& req, Respond respond) {
        if (rate_limited(ctx, req, respond))
            return;
        auto body = json_body(req, respond);
        if (!body)
            return;
        ctx.node->signaling().accept_offer(
            *body, [respond](mesh::Outcome o) { respond(outcome_response(o)); });
    };
    auto answer = [ctx](Request& req, Respond respond) {
        if (rate_limited(ctx, req, respond))
            return;
        auto body = json_body(req, respond);
        if (!body)
            return;
        respond(outcome_response(ctx.node->signaling().accept_answer(*body)));
    };
    for (std::string prefix : {"", "/api/mesh-rtc"}) {
        r.add("POST", prefix + "/dial", dial);
        r.add("POST", prefix + "/offer", offer, Router::Access::Peer);
        r.add("POST", prefix + "/answer", answer, Router::Access::Peer);
    }
}

} // namespace f0::api

// Links: GET /links, DELETE /links/{peer}, POST /links/{peer}/control, GET /links/{peer}/messages.
#include "api/routes.hpp"

namespace f0::api {

namespace {
// An integer query parameter: absent gives the default, present but malformed is an error.
std::optional<std::int64_t> int_param(const std::string& query, const std::string& name,
                                      std::int64_t def, std::string& error) {
    std::size_t pos = 0;
    while (pos <= query.size()) {
        auto amp = query.find('&', pos);
        auto part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        auto eq = part.find('=');
        if (part.substr(0, eq) == name) {
            auto v = eq == std::string::npos ? "" : part.substr(eq + 1);
            try {
                std::size_t used = 0;
                auto n = std::stoll(v, &used);
                if (used == v.size() && !v.empty())
                    return n;
            } catch (...) {
            }
            error = "query parameter '" + name + "' must be an integer";
            return std::nullopt;
        }
        if (amp == std::string::npos)
            break;
        pos = amp + 1;
    }
    return def;
}
} // namespace

void add_link_routes(Router& r, const ApiContext& ctx) {
    auto list = [ctx](Request&, Respond respond) {
        respond(json_response(200, ctx.node->links_json().dump()));
    };
    r.add("GET", "/links", list);
    r.add("GET", "/api/mesh-rtc/links", list);
    r.add("DELETE", "/links/{peer}", [ctx](Request& req, Respond respond) {
        respond(outcome_response(ctx.node->close_link(req.params["peer"])));
    });
    r.add("POST", "/links/{peer}/control", [ctx](Request& req, Respond respond) {
        auto body = json_body(req, respond);
        if (!body)
            return;
        respond(outcome_response(ctx.node->send_control(req.params["peer"], *body)));
    });
    r.add("GET", "/links/{peer}/qos", [ctx](Request& req, Respond respond) {
        std::string error;
        auto since = int_param(req.query, "since", 0, error);
        auto limit = int_param(req.query, "limit", 1000, error);
        if (!since || !limit)
            return respond(error_response(400, "bad_request", error));
        respond(outcome_response(ctx.node->qos_history(req.params["peer"], *since, *limit)));
    });
    r.add("GET", "/links/{peer}/messages", [ctx](Request& req, Respond respond) {
        respond(outcome_response(ctx.node->link_messages(req.params["peer"])));
    });
}

} // namespace f0::api

// Links: GET /links, DELETE /links/{peer}, POST /links/{peer}/control, GET /links/{peer}/messages.
#include "api/routes.hpp"

namespace f0::api {

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

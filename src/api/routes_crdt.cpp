// Replicated lists: GET /crdt/lists, GET /crdt/lists/{name}, POST /crdt/lists/{name}.
#include "api/routes.hpp"

namespace f0::api {

void add_crdt_routes(Router& r, const ApiContext& ctx) {
    r.add("GET", "/crdt/lists", [ctx](Request&, Respond respond) {
        respond(json_response(200, ctx.node->crdt_lists().dump()));
    });
    r.add("GET", "/crdt/lists/{name}", [ctx](Request& req, Respond respond) {
        respond(outcome_response(ctx.node->crdt_list(req.params["name"])));
    });
    r.add("POST", "/crdt/lists/{name}", [ctx](Request& req, Respond respond) {
        auto body = json_body(req, respond);
        if (!body)
            return;
        respond(outcome_response(ctx.node->crdt_list_edit(req.params["name"], *body)));
    });
}

} // namespace f0::api

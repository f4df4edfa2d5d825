// Peers: GET /peers (what a beacon serves), POST /beacon (register), GET /self.
#include "api/routes.hpp"
#include "mesh/peers/peer_record.hpp"

namespace f0::api {

void add_peer_routes(Router& r, const ApiContext& ctx) {
    r.add("GET", "/peers", [ctx](Request&, Respond respond) {
        respond(json_response(200, ctx.node->peers_json().dump()));
    });
    r.add("GET", "/self", [ctx](Request&, Respond respond) {
        respond(json_response(200, ctx.node->self_json().dump()));
    });
    r.add("POST", "/beacon", [ctx](Request& req, Respond respond) {
        if (rate_limited(ctx, req, respond))
            return;
        auto body = json_body(req, respond);
        if (!body)
            return;
        auto rec = mesh::peer_record_from_json(*body);
        if (auto* err = std::get_if<mesh::Error>(&rec))
            return respond(error_response(*err));
        respond(outcome_response(
            ctx.node->signaling().register_peer(std::get<store::PeerRecord>(std::move(rec)))));
    });
}

} // namespace f0::api

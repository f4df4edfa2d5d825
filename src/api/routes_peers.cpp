// Peers: GET /peers (what a beacon serves), POST /beacon (register), GET /self.
#include "api/routes.hpp"
#include "mesh/peers/peer_record.hpp"

namespace f0::api {

void add_peer_routes(Router& r, const ApiContext& ctx) {
    // In pages, in id order: limit (1..5000, default 5000) and after (the last id of the previous
    // page); X-F0-Next-After names the next page's start. A peer's record is at most ~1 KB, so a
    // page is a few MB at most, whatever the size of the registry. Beacons read the first page;
    // workers learn the rest by anti-entropy.
    r.add(
        "GET", "/peers",
        [ctx](Request& req, Respond respond) {
            std::string error;
            auto limit = int_param(req.query, "limit", 5000, error);
            auto after = query_param(req.query, "after", error);
            if (!error.empty())
                return respond(error_response(400, "bad_request", error));
            if (*limit < 1 || *limit > 5000)
                return respond(error_response(400, "bad_request", "'limit' must be 1..5000"));
            auto page = ctx.node->peers_json(after.value_or(""), static_cast<std::size_t>(*limit));
            auto res = json_response(200, page.dump());
            if (page.size() == static_cast<std::size_t>(*limit))
                res.headers.emplace_back("X-F0-Next-After", page.back()["id"].get<std::string>());
            respond(std::move(res));
        },
        Router::Access::Peer);
    r.add(
        "GET", "/self",
        [ctx](Request&, Respond respond) {
            respond(json_response(200, ctx.node->self_json().dump()));
        },
        Router::Access::Peer);
    r.add(
        "POST", "/beacon",
        [ctx](Request& req, Respond respond) {
            if (rate_limited(ctx, req, respond))
                return;
            auto body = json_body(req, respond);
            if (!body)
                return;
            // Signed ("ts", "sig"): verified, countersigned by this worker and replicated;
            // unsigned: known to this worker only.
            auto rec = mesh::signed_record_from_json(*body);
            if (auto* err = std::get_if<mesh::Error>(&rec))
                return respond(error_response(*err));
            respond(outcome_response(
                ctx.node->signaling().register_peer(std::get<mesh::SignedRecord>(std::move(rec)))));
        },
        Router::Access::Peer);
    // A revocation of one instance of a peer (issue 17), signed by the peer's key: from now on
    // its delegation is refused here and the link it serves ends. Anyone may deliver one: only
    // the holder of the peer key can sign it.
    r.add(
        "POST", "/revocations",
        [ctx](Request& req, Respond respond) {
            if (rate_limited(ctx, req, respond))
                return;
            auto body = json_body(req, respond);
            if (!body)
                return;
            auto rev = mesh::identity::Revocation::from_json(*body);
            if (!rev)
                return respond(error_response(400, "bad_request", rev.error().message));
            auto out = ctx.node->signaling().revoke(rev.value());
            // New here: gossiped on, so that every worker of the mesh refuses the instance too.
            if (auto* j = std::get_if<nlohmann::json>(&out); j && j->value("new", false)) {
                auto m = ctx.node->gossip().publish(std::string(mesh::Signaling::kRevocationTopic),
                                                    rev.value().to_json());
                (*j)["gossiped"] = static_cast<bool>(m);
            }
            respond(outcome_response(out));
        },
        Router::Access::Peer);
}

} // namespace f0::api

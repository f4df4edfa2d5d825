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
            // Building costs the control thread ~17 us a peer: within the budget a page is built;
            // over it, the last first page built for this limit is served (X-F0-Age-Ms says how
            // old), or 503 busy (api/build_budget.hpp).
            auto& budget = *ctx.peers_budget;
            auto now = BuildBudget::Clock::now();
            const bool first = !after || after->empty();
            const auto key = std::to_string(*limit) + "/" + after.value_or(""); // kept: first pages
            if (!budget.may_build(now)) {
                auto kept = budget.instead(key, now);
                if (!kept) {
                    auto res = error_response(503, "busy",
                                              "this worker is serving too many peer lists; ask "
                                              "again in a moment");
                    res.headers.emplace_back(
                        "Retry-After",
                        std::to_string(1 + static_cast<int>(budget.wait_ms() / 1000)));
                    return respond(std::move(res));
                }
                auto res = json_response(200, std::move(kept->body));
                res.headers.emplace_back(
                    "X-F0-Age-Ms",
                    std::to_string(
                        std::chrono::duration_cast<std::chrono::milliseconds>(now - kept->built)
                            .count()));
                if (!kept->next_after.empty())
                    res.headers.emplace_back("X-F0-Next-After", kept->next_after);
                return respond(std::move(res));
            }
            auto page = ctx.node->peers_json(after.value_or(""), static_cast<std::size_t>(*limit));
            BuildBudget::Cached built{page.dump(), "", {}};
            if (page.size() == static_cast<std::size_t>(*limit))
                built.next_after = page.back()["id"].get<std::string>();
            auto done = BuildBudget::Clock::now();
            double ms = std::chrono::duration<double, std::milli>(done - now).count();
            auto res = json_response(200, built.body);
            if (!built.next_after.empty())
                res.headers.emplace_back("X-F0-Next-After", built.next_after);
            if (first)
                budget.built(ms, done, &key, std::move(built));
            else
                budget.built(ms, done);
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

// Registers the worker's HTTP API on a Router. One function per resource (routes_*.cpp).
#pragma once

#include "api/build_budget.hpp"
#include "api/errors.hpp"
#include "api/event_hub.hpp"
#include "api/rate_limiter.hpp"
#include "api/router.hpp"
#include "mesh/node.hpp"

namespace f0::api {

struct ApiContext {
    std::shared_ptr<mesh::Node> node;
    std::shared_ptr<EventHub> events;
    std::shared_ptr<RateLimiter> signaling_limit;
    std::string web_dir; // the built dashboard (web/dist); empty: not served
    // POST /gossip per source address (its own bucket: gossip must not starve /offer); null: none.
    std::shared_ptr<RateLimiter> gossip_limit = nullptr;
    std::shared_ptr<const ServerStats> server = nullptr; // connection bounds, for /metrics
    // GET /peers' share of the control thread (api/build_budget.hpp; --peers-list-budget-ms).
    std::shared_ptr<BuildBudget> peers_budget = std::make_shared<BuildBudget>(250, 1000);
};

void add_signaling_routes(Router& r, const ApiContext& ctx); // /dial /offer /answer (+ aliases)
void add_link_routes(Router& r, const ApiContext& ctx);      // /links ...
void add_peer_routes(Router& r, const ApiContext& ctx);      // /peers /beacon
void add_ops_routes(Router& r, const ApiContext& ctx);       // /healthz /metrics /events
void add_web_routes(Router& r, const ApiContext& ctx);       // /ops/mesh (the dashboard)
void add_gossip_routes(Router& r, const ApiContext& ctx);    // /gossip ...
void add_crdt_routes(Router& r, const ApiContext& ctx);      // /crdt/lists ...

inline void add_all_routes(Router& r, const ApiContext& ctx) {
    add_signaling_routes(r, ctx);
    add_link_routes(r, ctx);
    add_peer_routes(r, ctx);
    add_ops_routes(r, ctx);
    add_web_routes(r, ctx);
    add_gossip_routes(r, ctx);
    add_crdt_routes(r, ctx);
}

// Helpers shared by the route files.
// Parses the body as a JSON object; on failure responds 400 and returns nullopt.
std::optional<nlohmann::json> json_body(const Request& req, const Respond& respond);
bool rate_limited(const ApiContext& ctx, const Request& req, const Respond& respond);
// A query parameter, percent-decoded; nullopt when absent. Malformed escapes set `error`.
std::optional<std::string> query_param(const std::string& query, const std::string& name,
                                       std::string& error);
// An integer query parameter: absent gives the default, present but malformed sets `error`.
std::optional<std::int64_t> int_param(const std::string& query, const std::string& name,
                                      std::int64_t def, std::string& error);

} // namespace f0::api

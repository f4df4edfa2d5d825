// Gossip: POST /gossip/publish, GET /gossip/messages, POST /gossip (the HTTPS fallback of the
// gossip channel).
#include "api/routes.hpp"

namespace f0::api {

void add_gossip_routes(Router& r, const ApiContext& ctx) {
    r.add("POST", "/gossip/publish", [ctx](Request& req, Respond respond) {
        auto body = json_body(req, respond);
        if (!body)
            return;
        if (!body->contains("topic") || !(*body)["topic"].is_string() || !body->contains("payload"))
            return respond(error_response(
                400, "bad_request", "the body must be {\"topic\": string, \"payload\": any JSON}"));
        auto topic = (*body)["topic"].get<std::string>();
        // The worker's replicated state travels on crdt/*, its link state on mesh/*, signed as
        // the worker itself: no API client may put words there in its name.
        if (topic.starts_with("crdt/") || topic.starts_with("mesh/"))
            return respond(error_response(403, "reserved_topic",
                                          "topics under crdt/ and mesh/ carry the worker's "
                                          "replicated state and link state and cannot be "
                                          "published through the API"));
        auto m = ctx.node->gossip().publish(topic, (*body)["payload"]);
        if (!m)
            return respond(error_response(400, "bad_request", m.error().message));
        respond(json_response(200, nlohmann::json{{"id", m.value().id},
                                                  {"origin", m.value().origin},
                                                  {"topic", m.value().topic},
                                                  {"ts", m.value().ts_ms},
                                                  {"seq", m.value().seq}}
                                       .dump()));
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
        // The body stays an array; a page cut short by the byte cap says so in headers.
        auto page = ctx.node->gossip().messages(topic.value_or(""), *since, *limit);
        if (!mesh::ok(page))
            return respond(outcome_response(std::move(page)));
        auto& j = std::get<nlohmann::json>(page);
        auto res = json_response(200, j["items"].dump());
        if (j["truncated"].get<bool>()) {
            res.headers.emplace_back("X-F0-Truncated", "true");
            res.headers.emplace_back("X-F0-Next-Since",
                                     std::to_string(j["nextSince"].get<std::int64_t>()));
        }
        respond(std::move(res));
    });
    // Peer-facing: rate-limited per source (then per sending peer by trust, in the engine).
    r.add(
        "POST", "/gossip",
        [ctx](Request& req, Respond respond) {
            if (ctx.gossip_limit && !ctx.gossip_limit->allow(req.source, RateLimiter::Clock::now()))
                return respond(error_response(429, "rate_limited",
                                              "too many gossip requests from " + req.source));
            auto body = json_body(req, respond);
            if (!body)
                return;
            respond(outcome_response(ctx.node->gossip().accept_https(*body)));
        },
        Router::Access::Peer);
}

} // namespace f0::api

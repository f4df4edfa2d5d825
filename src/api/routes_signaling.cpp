// Signaling: POST /dial {"peerTo"}, POST /offer <envelope> -> <answer envelope>, POST /answer.
// The original's /api/mesh-rtc/* paths are aliases.
#include "api/routes.hpp"

namespace f0::api {

Response outcome_response(const mesh::Outcome& o, int ok_status) {
    if (auto* e = std::get_if<mesh::ApiError>(&o))
        return error_response(e->status, e->code, e->detail);
    return json_response(ok_status, std::get<nlohmann::json>(o).dump());
}

std::optional<nlohmann::json> json_body(const Request& req, const Respond& respond) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
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
        ctx.node->dial(it->get<std::string>(),
                       [respond](mesh::Outcome o) { respond(outcome_response(o)); });
    };
    auto offer = [ctx](Request& req, Respond respond) {
        if (rate_limited(ctx, req, respond))
            return;
        auto body = json_body(req, respond);
        if (!body)
            return;
        ctx.node->accept_offer(*body, [respond](mesh::Outcome o) { respond(outcome_response(o)); });
    };
    auto answer = [ctx](Request& req, Respond respond) {
        if (rate_limited(ctx, req, respond))
            return;
        auto body = json_body(req, respond);
        if (!body)
            return;
        respond(outcome_response(ctx.node->accept_answer(*body)));
    };
    for (std::string prefix : {"", "/api/mesh-rtc"}) {
        r.add("POST", prefix + "/dial", dial);
        r.add("POST", prefix + "/offer", offer);
        r.add("POST", prefix + "/answer", answer);
    }
}

} // namespace f0::api

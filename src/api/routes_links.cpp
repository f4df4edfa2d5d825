// Links: GET /links, DELETE /links/{peer}, POST /links/{peer}/control, GET /links/{peer}/messages.
// A control message body (text/plain, or JSON) may be up to 32 MiB, for the operator only.
#include "api/routes.hpp"
#include "util/utf8.hpp"

namespace f0::api {

namespace {
// A 16 MiB message as text/plain, or as JSON text with room for escapes.
constexpr std::size_t kControlBodyLimit = 2 * (16u << 20) + 64 * 1024;
} // namespace

void add_link_routes(Router& r, const ApiContext& ctx) {
    auto list = [ctx](Request&, Respond respond) {
        respond(json_response(200, ctx.node->links().to_json().dump()));
    };
    r.add("GET", "/links", list);
    r.add("GET", "/api/mesh-rtc/links", list);
    r.add("DELETE", "/links/{peer}", [ctx](Request& req, Respond respond) {
        respond(outcome_response(ctx.node->links().close(req.params["peer"])));
    });
    r.add("POST", "/links/{peer}/control", [ctx](Request& req, Respond respond) {
        // A text/plain body is the message itself, sent as text; an application/octet-stream body
        // is sent as a binary message; in JSON, {"text": "..."} sends the text and any other
        // object is sent as its JSON.
        std::string text;
        bool binary = req.content_type.rfind("application/octet-stream", 0) == 0;
        if (binary) {
            text = std::move(req.body);
        } else if (req.content_type.rfind("text/plain", 0) == 0) {
            if (!valid_utf8(req.body))
                return respond(error_response(400, "bad_request",
                                              "a text/plain control message must be UTF-8"));
            text = std::move(req.body);
        } else {
            auto body = json_body(req, respond);
            if (!body)
                return;
            text = body->contains("text") && (*body)["text"].is_string()
                       ? (*body)["text"].get<std::string>()
                       : body->dump();
        }
        const auto& peer = req.params["peer"];
        const auto* link = ctx.node->links().find(peer);
        if (!link || link->state != mesh::LinkState::Open)
            return respond(
                error_response(409, "link_not_open", "there is no open link to '" + peer + "'"));
        if (auto st = ctx.node->links().send(peer, "control", text, binary); !st)
            return respond(error_response(502, "send_failed", st.error().message));
        respond(json_response(
            200,
            nlohmann::json{{"sent", true}, {"bytes", text.size()}, {"binary", binary}}.dump()));
    });
    // Messages go up to the peer's max-message-size (at most 16 MiB), more than the default body
    // limit; the operator alone may send such a body.
    r.set_body_limit("POST", "/links/{peer}/control", kControlBodyLimit);
    r.add("GET", "/links/{peer}/qos", [ctx](Request& req, Respond respond) {
        std::string error;
        auto since = int_param(req.query, "since", 0, error);
        auto limit = int_param(req.query, "limit", 1000, error);
        if (!since || !limit)
            return respond(error_response(400, "bad_request", error));
        respond(outcome_response(ctx.node->qos().history(req.params["peer"], *since, *limit)));
    });
    r.add("GET", "/links/{peer}/messages", [ctx](Request& req, Respond respond) {
        const auto* link = ctx.node->links().find(req.params["peer"]);
        if (!link)
            return respond(
                error_response(404, "no_link", "there is no link to '" + req.params["peer"] + "'"));
        auto out = nlohmann::json::array();
        for (const auto& [entry, bytes] : link->inbox)
            out.push_back(entry);
        respond(json_response(200, out.dump()));
    });
}

} // namespace f0::api

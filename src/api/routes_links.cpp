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
        // ?ack=1: answered once the peer has stored the message (mesh/links/receipts.hpp);
        // ?id= names it (a retry sends the same id), ?timeout_ms= bounds the wait.
        std::string error;
        auto ack = int_param(req.query, "ack", 0, error);
        auto id = query_param(req.query, "id", error);
        auto timeout = int_param(req.query, "timeout_ms", 0, error);
        if (!ack || !timeout || !error.empty() || *ack < 0 || *ack > 1 || *timeout < 0 ||
            (id && *ack == 0))
            return respond(error_response(
                400, "bad_request",
                error.empty() ? "'ack' is 0 or 1, 'timeout_ms' at least 0, 'id' only with ack=1"
                              : error));
        if (*ack == 1)
            return ctx.node->receipts().send(
                peer, std::move(text), binary, id.value_or(""), std::chrono::milliseconds(*timeout),
                [respond](mesh::Outcome o) { respond(outcome_response(o)); });
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
    // Messages peers sent with a receipt, as stored here (they survive a restart): oldest first
    // after the cursor `after` (each message's "seq"), of one peer or of all.
    r.add("GET", "/messages", [ctx](Request& req, Respond respond) {
        std::string error;
        auto peer = query_param(req.query, "peer", error);
        auto after = int_param(req.query, "after", 0, error);
        auto limit = int_param(req.query, "limit", 1000, error);
        if (!after || !limit || !error.empty() || *limit < 1 || *limit > 5000)
            return respond(error_response(400, "bad_request",
                                          error.empty() ? "'limit' must be 1..5000" : error));
        respond(outcome_response(ctx.node->receipts().stored(peer.value_or(""), *after, *limit)));
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

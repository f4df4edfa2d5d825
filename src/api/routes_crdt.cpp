// Replicated lists: GET /crdt/lists, GET /crdt/lists/{name}, POST /crdt/lists/{name}
// ({"op": "insert", "index": n, "values": [...]} | {"op": "delete", "index": n, "count": n}).
#include "api/routes.hpp"

namespace f0::api {

namespace {
// The edit a body asks for, or the error response.
std::variant<mesh::ListEdit, Response> parse_edit(const nlohmann::json& body) {
    auto bad = [](const std::string& why) { return error_response(400, "bad_request", why); };
    if (!body.contains("op") || !body["op"].is_string())
        return bad("the body must be {\"op\": \"insert\", \"index\": n, \"values\": [...]} "
                   "or {\"op\": \"delete\", \"index\": n, \"count\": n}");
    auto op = body["op"].get<std::string>();
    auto index = body.value("index", nlohmann::json());
    if (!index.is_number_unsigned())
        return bad("'index' must be a non-negative integer");
    mesh::ListEdit e;
    e.index = index.get<std::size_t>();
    if (op == "insert") {
        auto values = body.value("values", nlohmann::json());
        if (!values.is_array() || values.empty() || values.size() > mesh::kMaxListValues)
            return bad("'values' must be an array of 1-1000 JSON values");
        std::size_t bytes = 0;
        for (const auto& v : values) {
            e.values.push_back(v.dump());
            bytes += e.values.back().size();
        }
        if (bytes > mesh::kMaxListValueBytes)
            return error_response(413, "too_large", "at most 8 KiB of values per insert");
        e.op = mesh::ListEdit::Op::Insert;
    } else if (op == "delete") {
        auto c = body.value("count", nlohmann::json(1));
        if (!c.is_number_unsigned() || c.get<std::size_t>() > mesh::kMaxListValues)
            return bad("'count' must be an integer 0-1000");
        e.count = c.get<std::size_t>();
        e.op = mesh::ListEdit::Op::Delete;
    } else {
        return bad("'op' must be \"insert\" or \"delete\"");
    }
    return e;
}
} // namespace

void add_crdt_routes(Router& r, const ApiContext& ctx) {
    // The replicated registry's decision for one id (operators: why is it bound to that key).
    r.add("GET", "/registry/{id}", [ctx](Request& req, Respond respond) {
        respond(outcome_response(ctx.node->replication().registry_of(req.params["id"])));
    });
    r.add("GET", "/crdt/lists", [ctx](Request&, Respond respond) {
        respond(json_response(200, ctx.node->replication().lists().dump()));
    });
    r.add("GET", "/crdt/lists/{name}", [ctx](Request& req, Respond respond) {
        respond(outcome_response(ctx.node->replication().list(req.params["name"])));
    });
    r.add("POST", "/crdt/lists/{name}", [ctx](Request& req, Respond respond) {
        if (!mesh::valid_list_name(req.params["name"]))
            return respond(error_response(400, "bad_request",
                                          "list names are 1-48 characters of [A-Za-z0-9._-]"));
        auto body = json_body(req, respond);
        if (!body)
            return;
        auto edit = parse_edit(*body);
        if (auto* err = std::get_if<Response>(&edit))
            return respond(*err);
        respond(outcome_response(
            ctx.node->replication().edit_list(req.params["name"], std::get<mesh::ListEdit>(edit))));
    });
}

} // namespace f0::api

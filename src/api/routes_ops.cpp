// Operations: GET /healthz -> ok, GET /metrics (Prometheus text), GET /events (server-sent events).
#include "api/metrics.hpp"
#include "api/routes.hpp"

namespace f0::api {

void add_ops_routes(Router& r, const ApiContext& ctx) {
    r.add("GET", "/healthz", [](Request&, Respond respond) { respond({200, "text/plain", "ok"}); });
    r.add("GET", "/metrics", [ctx](Request&, Respond respond) {
        auto text = metrics_text(*ctx.node);
        text += "# HELP f0_event_streams Open /events streams.\n# TYPE f0_event_streams gauge\n";
        text += "f0_event_streams " + std::to_string(ctx.events->size()) + "\n";
        respond({200, "text/plain; version=0.0.4", text});
    });
    r.add_stream("/events", [ctx](Request&, std::shared_ptr<EventStream> s) {
        // A new subscriber first gets the current picture, then every change.
        s->send("snapshot", nlohmann::json{{"self", ctx.node->self_json()},
                                           {"peers", ctx.node->peers_json()},
                                           {"links", ctx.node->links().to_json()}}
                                .dump());
        ctx.events->add(std::move(s));
    });
}

} // namespace f0::api

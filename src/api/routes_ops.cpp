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
        text += "# HELP f0_event_streams_refused_total /events streams refused over the cap.\n"
                "# TYPE f0_event_streams_refused_total counter\n";
        text += "f0_event_streams_refused_total " + std::to_string(ctx.events->refused()) + "\n";
        text += "# HELP f0_rate_limited_total Requests refused by a per-source rate limit.\n"
                "# TYPE f0_rate_limited_total counter\n";
        text += "f0_rate_limited_total{route=\"signaling\"} " +
                std::to_string(ctx.signaling_limit->refused()) + "\n";
        if (ctx.gossip_limit)
            text += "f0_rate_limited_total{route=\"gossip\"} " +
                    std::to_string(ctx.gossip_limit->refused()) + "\n";
        if (ctx.server) {
            const auto& s = *ctx.server;
            text += "# HELP f0_http_connections Open HTTP connections.\n"
                    "# TYPE f0_http_connections gauge\n";
            text += "f0_http_connections " + std::to_string(s.connections) + "\n";
            text += "# HELP f0_http_refused_total Connections and requests refused by a bound.\n"
                    "# TYPE f0_http_refused_total counter\n";
            for (auto [why, n] : {std::pair{"max_connections", s.refused_total},
                                  {"max_per_source", s.refused_per_source},
                                  {"accept_error", s.accept_errors},
                                  {"slow_events_reader", s.slow_readers_dropped},
                                  {"bad_framing", s.bad_framing}})
                text += std::string("f0_http_refused_total{reason=\"") + why + "\"} " +
                        std::to_string(n) + "\n";
        }
        respond({200, "text/plain; version=0.0.4", text});
    });
    // The snapshot costs O(peers) to build (hundreds of KB with 1,000 peers): streams that open
    // together share one, rebuilt when an event was published since or after a second (trust
    // drifts without events). A thousand /events opened and closed cost one build, not 1,000.
    struct Snapshot {
        std::string json;
        std::uint64_t published = 0;
        std::chrono::steady_clock::time_point built{};
    };
    auto cache = std::make_shared<Snapshot>();
    r.add_stream("/events", [ctx, cache](Request&, std::shared_ptr<EventStream> s) {
        if (!ctx.events->add(s))
            return;
        auto now = std::chrono::steady_clock::now();
        if (cache->json.empty() || cache->published != ctx.events->published() ||
            now - cache->built > std::chrono::seconds(1)) {
            cache->json = nlohmann::json{{"self", ctx.node->self_json()},
                                         {"peers", ctx.node->peers_json()},
                                         {"links", ctx.node->links().to_json()}}
                              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            cache->published = ctx.events->published();
            cache->built = now;
        }
        // A new subscriber first gets the current picture, then every change.
        s->send("snapshot", cache->json);
    });
}

} // namespace f0::api

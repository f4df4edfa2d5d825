// Operations: GET /healthz -> ok, GET /metrics (Prometheus text), GET /mesh (the mesh graph),
// GET /events (server-sent events).
#include "api/metrics.hpp"
#include "api/routes.hpp"

namespace f0::api {

// The /events snapshot carries at most this many peers (about 600 KB), so that it fits well inside
// a stream's queue bound (--events-queue-bytes, 1 MiB by default).
constexpr std::size_t kSnapshotPeers = 1000;

void add_ops_routes(Router& r, const ApiContext& ctx) {
    r.add(
        "GET", "/healthz",
        [](Request&, Respond respond) {
            respond({200, "text/plain", "ok"});
        },
        Router::Access::Peer);
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
        if (ctx.peers_budget) {
            const auto& c = ctx.peers_budget->counters();
            text += "# HELP f0_peers_pages_total GET /peers pages: built, served from the last "
                    "build (over the build budget), refused busy.\n"
                    "# TYPE f0_peers_pages_total counter\n";
            for (auto [event, n] :
                 {std::pair{"built", c.built}, {"cached", c.cached}, {"busy", c.busy}})
                text += std::string("f0_peers_pages_total{event=\"") + event + "\"} " +
                        std::to_string(n) + "\n";
        }
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
    // The whole mesh from link-state gossip (mesh/mesh_view.hpp): at most 10,000 senders and
    // 50,000 link ends, a few MB at most.
    r.add("GET", "/mesh", [ctx](Request&, Respond respond) {
        respond(json_response(200, ctx.node->view().graph().dump(
                                       -1, ' ', false, nlohmann::json::error_handler_t::replace)));
    });
    // The snapshot costs O(peers) to build: streams that open close together share one. It is
    // rebuilt after a second (trust drifts without events) or when more events were published
    // since than the hub keeps; otherwise a new stream gets the shared snapshot followed by the
    // events published since it was built, which brings it to the same picture. So a thousand
    // /events opened while peers register cost a few builds, not a thousand. At most
    // kSnapshotPeers peers are in it ("peersTotal" tells how many there are; GET /peers pages).
    struct Snapshot {
        SseFrame frame;
        std::uint64_t published = 0;
        std::chrono::steady_clock::time_point built{};
    };
    auto cache = std::make_shared<Snapshot>();
    r.add_stream("/events", [ctx, cache](Request&, std::shared_ptr<EventStream> s) {
        if (!ctx.events->add(s))
            return;
        auto now = std::chrono::steady_clock::now();
        auto missed = ctx.events->since(cache->published);
        if (!cache->frame || !missed || now - cache->built > std::chrono::seconds(1)) {
            auto peers = ctx.node->peers_json("", kSnapshotPeers);
            cache->frame = sse_frame(
                "snapshot", nlohmann::json{{"self", ctx.node->self_json()},
                                           {"peersTotal", ctx.node->peers().size()},
                                           {"peers", std::move(peers)},
                                           {"links", ctx.node->links().to_json()}}
                                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            cache->published = ctx.events->published();
            cache->built = now;
            missed.emplace();
        }
        // A new subscriber first gets the current picture, then every change.
        s->send(cache->frame);
        for (const auto& frame : *missed)
            s->send(frame);
    });
}

} // namespace f0::api

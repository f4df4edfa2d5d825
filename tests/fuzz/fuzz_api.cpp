// libFuzzer target: arbitrary requests through the worker's real router and Node (in-memory
// SQLite, no network). Input: "METHOD PATH\n" then the body. Every request must be answered with
// a status and a JSON error or value; nothing may crash or throw out of a handler.
// "BEACON-LIST" instead of a request line: the body is a beacon's GET /peers answer (outside
// bytes too), handed to what learns peers from it. "CONTROL <peer>": the body is a message that
// peer sent on its link's control channel (replication, receipts, the inbox).
#include "api/routes.hpp"
#include "mesh/links/rtc_peer_link.hpp"
#include "util/json_in.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdlib>

namespace {
// No network in the fuzzer: every outgoing request fails at once.
struct NoNetwork final : f0::mesh::SignalingClient {
    void offer(const std::string&, const nlohmann::json&,
               std::function<void(f0::mesh::OfferReply)> done) override {
        done({f0::mesh::OfferReply::Kind::Unreachable, {}, {}, "no network in the fuzzer"});
    }
    void gossip(const std::string&, const nlohmann::json&, Done done) override {
        done("no network in the fuzzer");
    }
    void register_at(const std::string&, const nlohmann::json&, Done done) override {
        done("no network in the fuzzer");
    }
    void peers_of(const std::string&,
                  std::function<void(std::optional<nlohmann::json>)> done) override {
        done(std::nullopt);
    }
};

struct World {
    boost::asio::io_context io;
    f0::mesh::RealClock clock{io};
    NoNetwork client;
    std::unique_ptr<f0::mesh::RtcPeerLinkFactory> links;
    std::shared_ptr<f0::mesh::Node> node;
    f0::api::Router router;
    World() {
        f0::mesh::WorkerConfig cfg;
        cfg.id = "fz-fuzz";
        cfg.open_registration = true;
        cfg.ice_addresses = {"127.0.0.1"};
        auto db = f0::store::Database::open(":memory:").value();
        links = std::make_unique<f0::mesh::RtcPeerLinkFactory>(clock, cfg.rtc_config());
        node =
            std::make_shared<f0::mesh::Node>(f0::mesh::Node::Seams{clock, *links, client}, cfg,
                                             f0::mesh::identity::Identity::generate().value(),
                                             std::make_unique<f0::store::MeshStore>(std::move(db)));
        (void)node->start();
        f0::api::add_all_routes(router, {node, std::make_shared<f0::api::EventHub>(),
                                         std::make_shared<f0::api::RateLimiter>(1e9, 1e9)});
        // As the operator: the fuzzer reaches every handler, not only the peer routes.
        router.set_operator_check([](const f0::api::Request&) { return true; });
    }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World w;
    std::string in(reinterpret_cast<const char*>(data), size);
    auto nl = in.find('\n');
    std::string line = in.substr(0, nl), body = nl == std::string::npos ? "" : in.substr(nl + 1);
    if (line.rfind("CONTROL ", 0) == 0) {
        w.node->links().message(line.substr(8), "control", body);
        w.io.poll();
        return 0;
    }
    if (line == "BEACON-LIST") {
        auto list = f0::parse_untrusted(body);
        if (!list.is_discarded())
            w.node->signaling().learn_from_beacon(list);
        w.io.poll();
        return 0;
    }
    auto sp = line.find(' ');
    f0::api::Request req;
    req.method = line.substr(0, sp);
    req.path = sp == std::string::npos ? "/" : line.substr(sp + 1);
    req.body = body;
    req.source = "127.0.0.1";
    bool answered = false;
    w.router.dispatch(req, [&](f0::api::Response r) {
        answered = true;
        if (r.status < 200 || r.status > 599)
            std::abort();
    });
    w.io.poll();
    (void)answered; // dial/offer answer later, when the (absent) network replies
    return 0;
}

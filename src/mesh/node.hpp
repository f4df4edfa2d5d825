// The peer: wires identity, peer registry, link registry (the "PC registry"), store and signaling
// on the control-plane io_context. All its state is touched on that one thread; rtc callbacks
// cross into it by posting. HTTP stays outside: the API calls in, and outgoing requests go
// through an injected HttpCall.
#pragma once

#include "crdt/hlc.hpp"
#include "crdt/lww_set.hpp"
#include "crdt/rga.hpp"
#include "mesh/gossip/gossip_engine.hpp"
#include "mesh/identity/identity.hpp"
#include "mesh/identity/replay_guard.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "mesh/links/link.hpp"
#include "mesh/peers/peer_registry.hpp"
#include "mesh/worker_config.hpp"
#include "store/mesh_store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <variant>

namespace f0::mesh {

// An error an API caller should see: HTTP status, a stable code, and a sentence.
struct ApiError {
    int status = 500;
    std::string code;
    std::string detail;
};
using Outcome = std::variant<nlohmann::json, ApiError>;
using OutcomeCallback = std::function<void(Outcome)>;

class Node : public std::enable_shared_from_this<Node> {
public:
    using HttpDone = std::function<void(int status, std::string body, std::string error)>;
    using HttpCall = std::function<void(const std::string& method, const std::string& url,
                                        const std::string& body, HttpDone done)>;
    using EventSink = std::function<void(const nlohmann::json& event)>;

    Node(boost::asio::io_context& io, WorkerConfig config, identity::Identity identity,
         std::unique_ptr<store::MeshStore> store, HttpCall http);
    ~Node();

    Status start(); // loads the store, registers itself, redials desired links
    void stop();    // closes every link (keeps them desired in the store)
    void on_event(EventSink sink) { events_.push_back(std::move(sink)); }

    // The API; call on the io_context thread.
    void dial(const std::string& peer, OutcomeCallback done);
    void accept_offer(const nlohmann::json& body, OutcomeCallback done);
    Outcome accept_answer(const nlohmann::json& body);
    Outcome register_peer(const nlohmann::json& body);
    Outcome close_link(const std::string& peer);
    Outcome send_control(const std::string& peer, const nlohmann::json& body);
    Outcome link_messages(const std::string& peer) const;
    // QoS history of a link, oldest first: samples after since_ms, at most limit.
    Outcome qos_history(const std::string& peer, std::int64_t since_ms, std::int64_t limit);
    // Gossip (node_gossip.cpp): publish {topic, payload}; delivered messages; the HTTPS fallback
    // (a signed envelope of type "gossip" carrying one frame).
    Outcome gossip_publish(const nlohmann::json& body);
    Outcome gossip_messages(const std::string& topic, std::int64_t since_ms, std::int64_t limit);
    Outcome accept_gossip(const nlohmann::json& body);
    // Replicated lists (node_crdt.cpp): {op: insert, index, values} | {op: delete, index, count}.
    Outcome crdt_list_edit(const std::string& name, const nlohmann::json& body);
    Outcome crdt_list(const std::string& name) const;
    nlohmann::json crdt_lists() const;
    nlohmann::json links_json() const;
    nlohmann::json peers_json() const;
    nlohmann::json self_json() const;
    std::string metrics_text() const;

    const WorkerConfig& config() const { return config_; }
    const identity::Identity& identity() const { return identity_; }
    std::size_t open_links() const;

private:
    struct Counters {
        std::uint64_t dials = 0, dials_failed = 0, offers_accepted = 0, answers_accepted = 0;
        std::map<std::string, std::uint64_t> rejected; // by error code
    };

    std::optional<ApiError> check_envelope(const identity::Envelope& e, const char* type);
    Link& new_link(const std::string& peer, const std::string& role);
    std::shared_ptr<rtc::PeerConnection> make_pc(Link& link);
    void watch_channel(const std::string& peer, std::uint64_t gen,
                       const std::shared_ptr<rtc::DataChannel>& ch,
                       const std::shared_ptr<qos::QosProbe>& engine);
    void probe_tick();
    void qos_tick();
    void init_gossip();
    void gossip_heartbeat_tick();
    void gossip_push_tick();
    gossip::Via gossip_send(const std::string& peer, const std::string& frame);
    void on_gossip_frame(const std::string& peer, std::uint64_t gen, const std::string& frame);
    void on_gossip_delivered(const gossip::GossipMessage& m, const std::string& from);
    void gossip_metrics(std::ostream& o) const;
    // CRDT replication (node_crdt.cpp).
    Status load_crdt();
    void registry_put(const store::PeerRecord& p);
    void on_registry(const crdt::LwwElementSet<std::string>& delta, const std::string& from);
    void on_crdt_gossip(const gossip::GossipMessage& m, const std::string& from);
    void on_crdt_control(const std::string& peer, const nlohmann::json& msg);
    void send_crdt_sync(const std::string& peer);
    void crdt_sync_tick();
    bool adopt_stamps(const crdt::LwwElementSet<std::string>& s, const std::string& from);
    void save_crdt(const std::string& doc);
    crdt::Rga<std::string>& list(const std::string& name);
    // The link to peer if it is still this generation (callbacks of replaced links find nothing).
    Link* current_link(const std::string& peer, std::uint64_t gen);
    void rearm(boost::asio::steady_timer& timer, std::chrono::milliseconds delay,
               void (Node::*tick)());
    void on_pc_state(const std::string& peer, std::uint64_t gen, rtc::PeerState s);
    void on_channel_event(const std::string& peer, std::uint64_t gen);
    void send_offer(const std::string& peer, std::uint64_t gen);
    void arm_dial_timeout(const std::string& peer, std::uint64_t gen);
    void fail_link(const std::string& peer, const std::string& why);
    void settle_waiters(const std::string& peer, const std::optional<ApiError>& err);
    void schedule_redial(const std::string& peer);
    void persist(const Link& link);
    void emit(const std::string& type, nlohmann::json data);
    void beacon_tick();
    void when_gathered(const std::shared_ptr<rtc::PeerConnection>& pc, std::function<void()> then);
    identity::Envelope make_envelope(const std::string& peer, const std::string& type,
                                     const std::string& sdp) const;

    boost::asio::io_context& io_;
    WorkerConfig config_;
    identity::Identity identity_;
    std::unique_ptr<store::MeshStore> store_;
    HttpCall http_;
    PeerRegistry peers_;
    identity::ReplayGuard replay_;
    rtc::RtcConfig rtc_config_; // parsed once from config_: every link's PeerConnection uses it
    std::map<std::string, Link> links_;
    std::map<std::string, std::vector<OutcomeCallback>> waiters_;
    std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> timers_;
    std::unique_ptr<boost::asio::steady_timer> beacon_timer_, probe_timer_, qos_timer_;
    std::unique_ptr<boost::asio::steady_timer> heartbeat_timer_, push_timer_;
    gossip::TrustBook trust_;
    std::unique_ptr<gossip::GossipEngine> gossip_;
    std::uint64_t gossip_https_in_ = 0, gossip_https_refused_ = 0, gossip_store_errors_ = 0;
    crdt::ReplicaId replica_id_ = 0; // 64 bits of SHA-256 of our peer id
    crdt::Hlc hlc_;
    crdt::LwwElementSet<std::string> registry_; // canonical JSON peer records
    std::map<std::string, std::unique_ptr<crdt::Rga<std::string>>> lists_;
    std::unique_ptr<boost::asio::steady_timer> crdt_sync_timer_;
    std::uint64_t crdt_rejected_ = 0;
    std::uint64_t qos_ticks_ = 0;
    std::uint64_t next_generation_ = 1;
    std::vector<EventSink> events_;
    Counters counters_;
    bool stopped_ = false;
};

std::int64_t unix_ms();   // wall clock, for timestamps others read
std::int64_t steady_us(); // monotonic, for measuring

} // namespace f0::mesh

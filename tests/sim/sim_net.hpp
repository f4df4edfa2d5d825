// A whole mesh in one process on virtual time: every node is a real mesh::Node (real signaling,
// envelopes, gossip, CRDTs, SQLite) whose PeerLinks are in-memory links and whose SignalingClient
// calls the other node directly, both with network delay and jitter, through one sim::Scheduler.
// Partitions cut signaling and links alike; a link across a cut fails after consent_timeout, as
// ICE consent freshness would. Everything random comes from the seed, so a run replays exactly.
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/links/peer_link.hpp"
#include "mesh/node.hpp"
#include "mesh/signaling/signaling_client.hpp"
#include "sim/scheduler.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

namespace f0::simtest {

struct NetParams {
    std::int64_t delay_us = 10'000;          // one way
    std::int64_t jitter_us = 2'000;          // + uniform [0, jitter)
    std::int64_t connect_rtts = 3;           // ICE + DTLS + SCTP handshakes, in round trips
    std::int64_t consent_timeout_ms = 5'000; // a link across a cut fails after this
    std::int64_t http_timeout_ms = 5'000;    // an unreachable signaling request fails after this
};

class SimPeerLink;

class SimNet {
public:
    SimNet(std::uint64_t seed, NetParams p) : rng_(seed), p_(p) {}
    sim::Scheduler& sched() { return sched_; }
    const NetParams& params() const { return p_; }
    NetParams& params() { return p_; }
    std::int64_t delay_us();
    void after_us(std::int64_t us, std::function<void()> fn) { sched_.after(us, std::move(fn)); }

    void cut(const std::string& a, const std::string& b);
    void isolate(const std::string& a); // from everyone
    void heal_all();
    void rejoin(const std::string& a) { isolated_.erase(a); }
    bool reachable(const std::string& a, const std::string& b) const;

    void attach(const std::string& id, mesh::Node* node) { nodes_[id] = node; }
    void detach(const std::string& id) { nodes_.erase(id); }
    mesh::Node* node(const std::string& id) const;

    std::uint64_t add_link(SimPeerLink* l) {
        links_[next_token_] = l;
        return next_token_++;
    }
    void remove_link(std::uint64_t t) { links_.erase(t); }
    SimPeerLink* link(std::uint64_t t) const {
        auto it = links_.find(t);
        return it == links_.end() ? nullptr : it->second;
    }

private:
    void check_consent();
    sim::Scheduler sched_;
    std::mt19937_64 rng_;
    NetParams p_;
    std::set<std::pair<std::string, std::string>> cuts_;
    std::set<std::string> isolated_;
    std::map<std::string, mesh::Node*> nodes_;
    std::map<std::uint64_t, SimPeerLink*> links_;
    std::uint64_t next_token_ = 1;
};

class SimPeerLink final : public mesh::PeerLink {
public:
    SimPeerLink(SimNet& net, std::string owner, Handlers h);
    ~SimPeerLink() override;

    Result<std::string> create_offer() override;
    Result<std::string> create_answer() override;
    Status set_remote_description(std::string_view sdp, rtc::sdp::Type type) override;
    std::string local_description() const override { return "sim:" + std::to_string(token_); }
    bool gathering_complete() const override { return gathered_; }
    bool datagrams() const override { return true; } // simulated peers are f0mesh workers
    Status open_channel(const std::string& label, const rtc::DataChannelInit& init) override;
    Status send(const std::string& label, std::string_view bytes, bool binary) override;
    void close() override;
    std::pair<std::uint64_t, std::uint64_t> wire_bytes() const override { return {tx_, rx_}; }
    std::optional<double> sctp_rtt_ms() const override { return std::nullopt; }
    std::vector<mesh::ChannelInfo> channels() const override;

    const std::string& owner() const { return owner_; }
    SimPeerLink* peer() const; // the other end, while both exist
    bool connected() const { return connected_; }
    void fail(rtc::PeerState s); // the transport gave up: Failed or Closed, reported once

private:
    struct Chan {
        bool open = false, ordered = true;
        std::uint64_t sent = 0, received = 0;
        std::int64_t last_delivery_us = 0;
    };
    void start_gathering();
    void connect();
    void deliver(const std::string& label, std::string bytes);
    void arm_ice_timeout();

    SimNet& net_;
    std::string owner_;
    Handlers h_;
    std::uint64_t token_ = 0, remote_ = 0;
    bool gathered_ = false, connected_ = false, closed_ = false, dialer_ = false;
    std::map<std::string, Chan> chans_;
    std::uint64_t tx_ = 0, rx_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class SimPeerLinkFactory final : public mesh::PeerLinkFactory {
public:
    SimPeerLinkFactory(SimNet& net, std::string owner) : net_(net), owner_(std::move(owner)) {}
    std::unique_ptr<mesh::PeerLink> create(mesh::PeerLink::Handlers h) override {
        return std::make_unique<SimPeerLink>(net_, owner_, std::move(h));
    }

private:
    SimNet& net_;
    std::string owner_;
};

class SimSignalingClient final : public mesh::SignalingClient {
public:
    SimSignalingClient(SimNet& net, std::string owner) : net_(net), owner_(std::move(owner)) {}
    void offer(const std::string& endpoint, const nlohmann::json& envelope,
               std::function<void(mesh::OfferReply)> done) override;
    void gossip(const std::string& endpoint, const nlohmann::json& envelope, Done done) override;
    void register_at(const std::string& beacon, const nlohmann::json& self, Done done) override;
    void peers_of(const std::string& beacon,
                  std::function<void(std::optional<nlohmann::json>)> done) override;

private:
    // Runs at(target) one delay later if reachable, then its reply one delay after that;
    // otherwise fail() after the request timeout.
    void call(const std::string& endpoint, std::function<void(mesh::Node&)> at,
              std::function<void()> fail);
    SimNet& net_;
    std::string owner_;
};

// Nodes on one SimNet. A node's endpoint is http://ID.sim; only SimSignalingClient reaches it.
class SimMesh {
public:
    explicit SimMesh(std::uint64_t seed, NetParams p = {});
    ~SimMesh();
    using Tweak = std::function<void(mesh::WorkerConfig&)>;

    // Created and started. persistent: its store is a file, so that restart() finds it again;
    // otherwise in memory.
    mesh::Node& add(const std::string& id, const Tweak& tweak = {}, bool persistent = false);
    mesh::Node& node(const std::string& id) { return *nodes_.at(id).node; }
    bool has(const std::string& id) const { return nodes_.count(id) && nodes_.at(id).node; }
    // Registers each with the other, as POST /beacon would.
    void introduce(const std::string& a, const std::string& b);
    // The process dies: its links vanish without a word (peers see consent fail).
    void crash(const std::string& id);
    mesh::Node& restart(const std::string& id); // same identity, same store

    void run_for_ms(std::int64_t ms) { net.sched().run_until(net.sched().now_us() + ms * 1000); }
    // Runs until pred() holds or max_ms of virtual time passed; true if it held.
    bool run_until(const std::function<bool()>& pred, std::int64_t max_ms,
                   std::int64_t step_ms = 10);
    std::int64_t now_ms() { return net.sched().now_ms(); }
    std::uint64_t seed() const { return seed_; }

    SimNet net;

private:
    struct Slot {
        std::unique_ptr<mesh::SimClock> clock;
        std::unique_ptr<SimPeerLinkFactory> links;
        std::unique_ptr<SimSignalingClient> client;
        std::unique_ptr<mesh::Node> node;
        Tweak tweak;
        std::filesystem::path db;
        std::uint64_t starts = 0;
    };
    mesh::Node& boot(const std::string& id);
    std::uint64_t seed_;
    std::filesystem::path dir_;
    std::map<std::string, Slot> nodes_;
};

// The seeds a test runs: F0_SIM_SEED=N replays one; F0_SIM_SEEDS=K runs K seeds from `first`.
std::vector<std::uint64_t> sim_seeds(std::uint64_t first);

} // namespace f0::simtest

// gossip_sim: the real gossip code (mesh/gossip: trust, weighted fan-out, signed messages, digest
// repair, rate limits) on a virtual network of N peers in one process, on virtual time.
//
// Each peer links to --degree random others (one-way delay per link uniform in 5-80 ms, plus
// 0-10 ms jitter per frame; links are reliable like the gossip DataChannel). Honest peers publish
// --messages messages during the first --publish-s seconds; the run continues --drain-s more.
// Scenarios: baseline; churn (a fraction of honest peers goes offline for 5-20 s and comes back);
// adversaries that drop everything, or that flood (junk, forged signatures, duplicate replays,
// fake digests) at --flood-rate frames/s per link.
//
// Scenario linkstate (issue 18): no --messages; every honest peer publishes its link-state
// summary (mesh/links, gossip/link_state.hpp: one entry per neighbour) once per --interval-s, at
// its own phase, for 2 rounds, into a LinkStateBook per peer. Checked: two intervals after each
// round began, the share of (peer, sender) pairs whose book holds that round's summary or a
// newer one (the mesh graph converged: 1.0), and the gossip bytes each peer sends and receives
// per interval (every frame: messages, digests, requests).
//
// Printed per run, as a JSON line: delivery ratio (deliveries to honest peers / messages x honest
// peers other than the origin), p50/p99 hops and latency, and amplification = message frames
// sent by honest peers per message delivered (control frames, ihave/iwant, given apart).
#include "mesh/gossip/gossip_engine.hpp"
#include "mesh/gossip/link_state.hpp"
#include "sim/scheduler.hpp"
#include "sim/virtual_link.hpp"
#include "util/numbered.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

using namespace f0;
using namespace f0::mesh::gossip;
using f0::mesh::identity::Identity;

namespace {

struct Options {
    int nodes = 1000, degree = 8, messages = 100;
    std::size_t fanout = 3;
    int max_hops = 12;
    double churn = 0, adversaries = 0;
    std::string mode = "drop"; // drop | flood
    std::string name = "baseline";
    std::uint64_t seed = 1;
    double publish_s = 30, drain_s = 40, heartbeat_s = 1, push_s = 120, flood_rate = 50;
    double interval_s = 15; // linkstate: the QoS interval
};

enum class Role { Honest, Dropper, Flooder };

struct Node {
    std::string id;
    const Identity* key = nullptr; // from a pool shared by the runs of this process
    TrustBook trust;
    std::unique_ptr<GossipEngine> engine;
    std::unique_ptr<LinkStateBook> book; // linkstate
    std::uint64_t bytes_sent = 0, bytes_received = 0;
    std::vector<int> nbrs;
    std::vector<sim::Impairment> nbr_link; // per neighbour: one-way delay and jitter
    Role role = Role::Honest;
    bool online = true;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(v.size()))) - 1;
    return v[std::min(i, v.size() - 1)];
}

class Sim {
public:
    explicit Sim(Options o) : o_(std::move(o)), rng_(o_.seed) {}

    void build() {
        nodes_.resize(o_.nodes);
        // Keys: generated once per process and shared by its runs (generation dominates setup).
        static std::vector<std::unique_ptr<Identity>> keys;
        while (keys.size() < nodes_.size())
            keys.push_back(std::make_unique<Identity>(Identity::generate().value()));
        for (int i = 0; i < o_.nodes; ++i) {
            nodes_[i].id = f0::util::numbered("n", i);
            nodes_[i].key = keys[i].get();
            index_[nodes_[i].id] = i;
        }
        std::uniform_int_distribution<int> pick(0, o_.nodes - 1);
        std::uniform_int_distribution<int> delay_ms(5, 80);
        for (int i = 0; i < o_.nodes; ++i)
            for (int guard = 0;
                 static_cast<int>(nodes_[i].nbrs.size()) < o_.degree && guard < 100 * o_.degree;
                 ++guard) {
                int j = pick(rng_);
                if (j == i || std::count(nodes_[i].nbrs.begin(), nodes_[i].nbrs.end(), j))
                    continue;
                sim::Impairment imp;
                imp.delay = std::chrono::milliseconds(delay_ms(rng_));
                imp.jitter = std::chrono::milliseconds(10);
                link(i, j, imp);
            }
        // Adversaries: a random subset (publishers are drawn from the honest ones).
        std::vector<int> order(o_.nodes);
        for (int i = 0; i < o_.nodes; ++i)
            order[i] = i;
        std::shuffle(order.begin(), order.end(), rng_);
        int bad = static_cast<int>(std::lround(o_.adversaries * o_.nodes));
        for (int k = 0; k < bad; ++k)
            nodes_[order[k]].role = o_.mode == "flood" ? Role::Flooder : Role::Dropper;
        for (int i = 0; i < o_.nodes; ++i)
            if (nodes_[i].role == Role::Honest)
                honest_.push_back(i);
        for (int i = 0; i < o_.nodes; ++i)
            make_engine(i);
    }

    void run() {
        if (o_.name == "linkstate")
            return run_linkstate();
        const auto publish_us = static_cast<std::int64_t>(o_.publish_s * 1e6);
        const auto end_us = publish_us + static_cast<std::int64_t>(o_.drain_s * 1e6);
        std::uniform_int_distribution<std::int64_t> phase(
            0, static_cast<std::int64_t>(o_.heartbeat_s * 1e6));
        for (int i = 0; i < o_.nodes; ++i)
            if (nodes_[i].role == Role::Honest) {
                schedule_heartbeat(i, phase(rng_));
                schedule_push(i, phase(rng_) + static_cast<std::int64_t>(o_.push_s * 1e6));
            }
        std::uniform_int_distribution<std::int64_t> when(1'000'000, publish_us);
        std::uniform_int_distribution<std::size_t> who(0, honest_.size() - 1);
        for (int m = 0; m < o_.messages; ++m)
            sched_.at(when(rng_), [this, who, m]() mutable {
                for (int tries = 0; tries < 100; ++tries) { // an online honest publisher
                    int i = honest_[who(rng_)];
                    if (!nodes_[i].online)
                        continue;
                    auto msg = nodes_[i].engine->publish("sim", {{"m", m}}, now_ms());
                    if (msg) {
                        published_[msg.value().id] = sched_.now_us();
                        sample_frames_.push_back(msg.value().to_json().dump());
                    }
                    return;
                }
            });
        schedule_churn(publish_us);
        if (o_.mode == "flood")
            for (int i = 0; i < o_.nodes; ++i)
                if (nodes_[i].role == Role::Flooder)
                    schedule_flood(i, phase(rng_), publish_us);
        auto t0 = std::chrono::steady_clock::now();
        events_ = sched_.run_until(end_us);
        wall_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }

    // Two rounds of summaries; round r's graph is checked at r * interval + 2 * interval.
    void run_linkstate() {
        const auto interval_us = static_cast<std::int64_t>(o_.interval_s * 1e6);
        std::uniform_int_distribution<std::int64_t> phase(
            0, static_cast<std::int64_t>(o_.heartbeat_s * 1e6));
        std::uniform_int_distribution<std::int64_t> at(0, interval_us - 1);
        for (int i : honest_) {
            nodes_[i].book = std::make_unique<LinkStateBook>(nodes_[i].id, LinkStateLimits{});
            schedule_heartbeat(i, phase(rng_));
            schedule_push(i, phase(rng_) + static_cast<std::int64_t>(o_.push_s * 1e6));
            auto offset = at(rng_);
            for (int r = 0; r < kRounds; ++r)
                sched_.at(r * interval_us + offset, [this, i, r] { publish_links(i, r); });
        }
        for (int r = 0; r < kRounds; ++r)
            sched_.at((r + 2) * interval_us, [this, r] { check_round(r); });
        auto t0 = std::chrono::steady_clock::now();
        events_ = sched_.run_until((kRounds + 1) * interval_us + 1);
        wall_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }

    void publish_links(int i, int round) {
        Node& n = nodes_[i];
        std::vector<LinkSummary> links;
        for (std::size_t k = 0; k < n.nbrs.size(); ++k) {
            // Two peers that picked each other are linked twice here; a worker has one link.
            if (std::find(n.nbrs.begin(), n.nbrs.begin() + static_cast<long>(k), n.nbrs[k]) !=
                n.nbrs.begin() + static_cast<long>(k))
                continue;
            LinkSummary l{.peer = nodes_[n.nbrs[k]].id};
            l.rtt_ms = 2.0 * static_cast<double>(n.nbr_link[k].delay.count()) / 1000.0 + 1.3;
            l.jitter_ms = 2.4;
            l.tx_kbps = l.rx_kbps = 1.7;
            l.health = "good";
            l.path = "host";
            links.push_back(std::move(l));
        }
        auto p = LinkStateBook::payload(std::move(links),
                                        static_cast<std::int64_t>(o_.interval_s * 1000));
        payload_bytes_.push_back(static_cast<double>(p.dump().size()));
        auto m = n.engine->publish(std::string(LinkStateBook::kTopic), std::move(p), now_ms());
        if (m) {
            round_ts_[round][n.id] = m.value().ts_ms;
            round_id_[round][n.id] = m.value().id;
        }
    }

    void check_round(int round) {
        std::uint64_t pairs = 0, held = 0;
        int told = 0;
        for (int i : honest_)
            for (const auto& [sender, ts] : round_ts_[round]) {
                ++pairs;
                bool ok = nodes_[i].book->holds(sender, ts);
                held += ok;
                if (ok || told++ >= 20)
                    continue;
                // Why a peer lacks a summary: not delivered at all (the engine does not hold
                // the message) or delivered but not taken by the book; and how many of its
                // neighbours hold it.
                const auto& id = round_id_[round][sender];
                int nbrs_with = 0;
                for (int k : nodes_[i].nbrs)
                    nbrs_with += nodes_[k].engine->find(id) != nullptr;
                const auto& c = nodes_[i].engine->counters();
                std::fprintf(stderr,
                             "linkstate miss: round %d, %s lacks %s's summary (engine %s it; "
                             "%d of %zu neighbours hold it; its frames %llu, delivered %llu, "
                             "duplicates %llu, dup floods %llu, graylisted %llu, invalid %llu, "
                             "replayed %llu, rate limited %llu, hop limited %llu)\n",
                             round, nodes_[i].id.c_str(), sender.c_str(),
                             nodes_[i].engine->find(id) ? "holds" : "lacks", nbrs_with,
                             nodes_[i].nbrs.size(), (unsigned long long)c.frames_received,
                             (unsigned long long)c.delivered, (unsigned long long)c.duplicates,
                             (unsigned long long)c.duplicate_floods,
                             (unsigned long long)c.graylisted, (unsigned long long)c.invalid,
                             (unsigned long long)c.replayed, (unsigned long long)c.rate_limited,
                             (unsigned long long)c.hop_limited);
            }
        converged_.push_back(pairs ? static_cast<double>(held) / static_cast<double>(pairs) : 0);
    }

    void report_linkstate() const {
        std::uint64_t sent = 0, received = 0, stored = 0, invalid = 0, rate_limited = 0;
        for (int i : honest_) {
            sent += nodes_[i].bytes_sent;
            received += nodes_[i].bytes_received;
            stored += nodes_[i].book->counters().stored;
            invalid += nodes_[i].book->counters().invalid;
            rate_limited += nodes_[i].engine->counters().rate_limited;
        }
        // Bytes over the whole run (kRounds + 1 intervals), per peer per interval.
        double per = static_cast<double>(honest_.size()) * (kRounds + 1);
        double worst = *std::min_element(converged_.begin(), converged_.end());
        std::printf("{\"impl\":\"f0mesh\",\"bench\":\"gossip_sim\",\"scenario\":\"linkstate\","
                    "\"nodes\":%d,\"degree\":%d,\"fanout\":%zu,\"interval_s\":%.0f,"
                    "\"rounds\":%d,\"converged_at_2_intervals\":%.5f,"
                    "\"summary_bytes_mean\":%.0f,\"sent_bytes_per_peer_interval\":%.0f,"
                    "\"received_bytes_per_peer_interval\":%.0f,\"stored\":%llu,\"invalid\":%llu,"
                    "\"rate_limited\":%llu,\"events\":%llu,\"wall_s\":%.1f}\n",
                    o_.nodes, o_.degree, o_.fanout, o_.interval_s, kRounds, worst,
                    percentile(payload_bytes_, 50), static_cast<double>(sent) / per,
                    static_cast<double>(received) / per, static_cast<unsigned long long>(stored),
                    static_cast<unsigned long long>(invalid),
                    static_cast<unsigned long long>(rate_limited),
                    static_cast<unsigned long long>(events_), wall_s_);
        std::fflush(stdout);
    }

    void report() const {
        if (o_.name == "linkstate")
            return report_linkstate();
        std::uint64_t sent_msgs = 0, control = 0, delivered = 0, forged = 0, rate_limited = 0,
                      graylisted = 0, invalid = 0;
        for (int i : honest_) {
            const auto& c = nodes_[i].engine->counters();
            sent_msgs += c.sent_link;
            control += c.ihave_sent + c.iwant_sent;
            delivered += c.delivered;
            forged += c.forged;
            rate_limited += c.rate_limited;
            graylisted += c.graylisted;
            invalid += c.invalid;
        }
        double expected =
            static_cast<double>(published_.size()) * static_cast<double>(honest_.size() - 1);
        double delivery = expected > 0 ? static_cast<double>(deliveries_) / expected : 0;
        int target_hops = static_cast<int>(std::ceil(std::log2(o_.nodes))) + 2;
        std::printf(
            "{\"impl\":\"f0mesh\",\"bench\":\"gossip_sim\",\"scenario\":\"%s\",\"nodes\":%d,"
            "\"degree\":%d,\"fanout\":%zu,\"max_hops\":%d,\"messages\":%zu,\"honest\":%zu,"
            "\"delivery\":%.5f,"
            "\"hops_p50\":%.0f,\"hops_p99\":%.0f,\"hops_target\":%d,\"latency_ms_p50\":%.0f,"
            "\"latency_ms_p99\":%.0f,\"amplification\":%.2f,\"control_per_delivery\":%.2f,"
            "\"forged\":%llu,\"invalid\":%llu,\"rate_limited\":%llu,\"graylisted\":%llu,"
            "\"events\":%llu,\"wall_s\":%.1f}\n",
            o_.name.c_str(), o_.nodes, o_.degree, o_.fanout, o_.max_hops, published_.size(),
            honest_.size(), delivery, percentile(hops_, 50), percentile(hops_, 99), target_hops,
            percentile(latency_ms_, 50), percentile(latency_ms_, 99),
            delivered ? static_cast<double>(sent_msgs) / static_cast<double>(delivered) : 0,
            delivered ? static_cast<double>(control) / static_cast<double>(delivered) : 0,
            static_cast<unsigned long long>(forged), static_cast<unsigned long long>(invalid),
            static_cast<unsigned long long>(rate_limited),
            static_cast<unsigned long long>(graylisted), static_cast<unsigned long long>(events_),
            wall_s_);
        std::fflush(stdout);
    }

private:
    std::int64_t now_ms() const { return kEpochMs + sched_.now_ms(); }

    GossipParams params() const {
        GossipParams p;
        p.fanout = o_.fanout;
        p.max_hops = o_.max_hops;
        return p;
    }

    void link(int a, int b, const sim::Impairment& imp) {
        nodes_[a].nbrs.push_back(b);
        nodes_[a].nbr_link.push_back(imp);
        nodes_[b].nbrs.push_back(a);
        nodes_[b].nbr_link.push_back(imp);
        for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
            nodes_[x].trust.on_qos(nodes_[y].id, 2.0 * imp.delay.count() / 1000.0, 0);
            nodes_[x].trust.on_link_up(nodes_[y].id, kEpochMs);
        }
    }

    void make_engine(int i) {
        GossipEngine::Hooks h;
        h.candidates = [this, i] {
            std::vector<GossipEngine::Candidate> c;
            for (int j : nodes_[i].nbrs)
                if (nodes_[j].online)
                    c.push_back({nodes_[j].id, true});
            return c;
        };
        h.send = [this, i](const std::string& peer, const std::string& frame, Route) {
            return send(i, index_.at(peer), frame);
        };
        h.key_of = [this](const std::string& origin) -> std::optional<mesh::identity::PublicKey> {
            auto it = index_.find(origin);
            if (it == index_.end())
                return std::nullopt;
            return nodes_[it->second].key->public_key();
        };
        // linkstate: one Ed25519 check per distinct (content, signature, key), not one per
        // simulated peer: the answer is the same at each, and checking a summary N times
        // dominated the run at N = 1,000. (Other scenarios check at every peer, as before.)
        if (o_.name == "linkstate")
            h.verify = [this](const GossipMessage& m, const mesh::identity::PublicKey& key) {
                auto k = m.id + m.sig + std::string(key.begin(), key.end());
                auto it = verified_.find(k);
                if (it == verified_.end())
                    it = verified_.emplace(std::move(k), m.verify(key)).first;
                return it->second;
            };
        if (nodes_[i].role == Role::Honest)
            h.deliver = [this, i](const GossipMessage& m, const std::string& from) {
                if (m.topic == LinkStateBook::kTopic) {
                    if (nodes_[i].book)
                        nodes_[i].book->on_message(m, now_ms());
                    return;
                }
                if (from == m.origin && m.hops == 0)
                    return; // the origin's own delivery
                auto it = published_.find(m.id);
                if (it == published_.end())
                    return;
                ++deliveries_;
                hops_.push_back(m.hops);
                latency_ms_.push_back((sched_.now_us() - it->second) / 1000.0);
            };
        GossipParams p = params();
        nodes_[i].engine = std::make_unique<GossipEngine>(nodes_[i].id, *nodes_[i].key, p,
                                                          nodes_[i].trust, h, o_.seed * 7919 + i);
    }

    Via send(int from, int to, const std::string& frame) {
        if (!nodes_[from].online || !nodes_[to].online)
            return Via::Failed;
        auto& nb = nodes_[from].nbrs;
        auto k = std::find(nb.begin(), nb.end(), to) - nb.begin();
        if (k == static_cast<long>(nb.size()))
            return Via::Failed; // not linked
        const auto& imp = nodes_[from].nbr_link[k];
        std::uniform_int_distribution<std::int64_t> jitter(0, imp.jitter.count());
        std::int64_t delay = imp.delay.count() + jitter(rng_);
        nodes_[from].bytes_sent += frame.size();
        sched_.after(delay, [this, from, to, frame] {
            Node& n = nodes_[to];
            if (!n.online || !nodes_[from].online || n.role != Role::Honest)
                return; // link down meanwhile, or an adversary that ignores everything
            n.bytes_received += frame.size();
            n.engine->on_frame(nodes_[from].id, frame, now_ms());
        });
        return Via::Link;
    }

    void schedule_heartbeat(int i, std::int64_t at) {
        sched_.at(at, [this, i] {
            if (nodes_[i].online)
                nodes_[i].engine->heartbeat(now_ms());
            schedule_heartbeat(i,
                               sched_.now_us() + static_cast<std::int64_t>(o_.heartbeat_s * 1e6));
        });
    }

    void schedule_push(int i, std::int64_t at) {
        sched_.at(at, [this, i] {
            if (nodes_[i].online)
                nodes_[i].engine->push(now_ms());
            schedule_push(i, sched_.now_us() + static_cast<std::int64_t>(o_.push_s * 1e6));
        });
    }

    void schedule_churn(std::int64_t publish_us) {
        if (o_.churn <= 0)
            return;
        std::vector<int> pool = honest_;
        std::shuffle(pool.begin(), pool.end(), rng_);
        auto count =
            static_cast<std::size_t>(std::lround(o_.churn * static_cast<double>(o_.nodes)));
        std::uniform_int_distribution<std::int64_t> down_at(0, publish_us);
        std::uniform_int_distribution<std::int64_t> down_for(5'000'000, 20'000'000);
        for (std::size_t k = 0; k < count && k < pool.size(); ++k) {
            int i = pool[k];
            auto t = down_at(rng_);
            sched_.at(t, [this, i] { set_online(i, false); });
            sched_.at(t + down_for(rng_), [this, i] { set_online(i, true); });
        }
    }

    void set_online(int i, bool up) {
        nodes_[i].online = up;
        for (int j : nodes_[i].nbrs) {
            if (!nodes_[j].online)
                continue;
            if (!up) {
                nodes_[j].trust.on_link_down(nodes_[i].id);
                nodes_[i].trust.on_link_down(nodes_[j].id);
                continue;
            }
            // The link opens again: both ends exchange digests (anti-entropy).
            nodes_[j].trust.on_link_up(nodes_[i].id, now_ms());
            nodes_[i].trust.on_link_up(nodes_[j].id, now_ms());
            if (nodes_[j].role == Role::Honest)
                nodes_[j].engine->on_link_open(nodes_[i].id, now_ms());
            nodes_[i].engine->on_link_open(nodes_[j].id, now_ms());
        }
    }

    // A flooder sends, on every link, one bad frame per tick: junk, a forged message, a replay
    // of a real message, or a digest of ids that do not exist.
    void schedule_flood(int i, std::int64_t at, std::int64_t until) {
        if (at > until)
            return;
        sched_.at(at, [this, i, until] {
            Node& n = nodes_[i];
            std::uniform_int_distribution<int> kind(0, 3);
            std::uniform_int_distribution<std::size_t> victim(0, honest_.size() - 1);
            for (int j : n.nbrs) {
                std::string frame;
                switch (kind(rng_)) {
                case 0:
                    frame = "{\"t\":\"msg\",\"junk\":" + std::to_string(flood_seq_++) + "}";
                    break;
                case 1: {
                    auto m = GossipMessage::make(*n.key, nodes_[honest_[victim(rng_)]].id, "sim",
                                                 {{"forged", flood_seq_}}, now_ms(), flood_seq_);
                    ++flood_seq_;
                    m.hops = 1;
                    frame = m.to_json().dump();
                    break;
                }
                case 2:
                    if (!sample_frames_.empty()) {
                        frame = sample_frames_[flood_seq_++ % sample_frames_.size()];
                        break;
                    }
                    [[fallthrough]];
                default: {
                    char id[33];
                    std::snprintf(id, sizeof id, "%016llx%016llx",
                                  static_cast<unsigned long long>(rng_()),
                                  static_cast<unsigned long long>(rng_()));
                    frame = ids_frame(Frame::Type::IHave, {id});
                }
                }
                if (n.online && nodes_[j].online) {
                    std::int64_t d = 20'000;
                    sched_.after(d, [this, i, j, frame] {
                        if (nodes_[j].online && nodes_[j].role == Role::Honest)
                            nodes_[j].engine->on_frame(nodes_[i].id, frame, now_ms());
                    });
                }
            }
            schedule_flood(i, sched_.now_us() + static_cast<std::int64_t>(1e6 / o_.flood_rate),
                           until);
        });
    }

    static constexpr std::int64_t kEpochMs = 1'760'000'000'000;
    static constexpr int kRounds = 2; // linkstate
    Options o_;
    std::mt19937_64 rng_;
    sim::Scheduler sched_;
    std::vector<Node> nodes_;
    std::unordered_map<std::string, int> index_;
    std::vector<int> honest_;
    std::unordered_map<std::string, std::int64_t> published_; // id -> publish time (µs)
    std::vector<std::string> sample_frames_;
    std::uint64_t deliveries_ = 0, events_ = 0, flood_seq_ = 1;
    std::vector<double> hops_, latency_ms_;
    std::map<std::string, std::int64_t> round_ts_[kRounds]; // linkstate: per round, sender -> ts
    std::map<std::string, std::string> round_id_[kRounds];  // ...and the message's id
    std::unordered_map<std::string, bool> verified_;        // signature checks, memoised
    std::vector<double> converged_, payload_bytes_;
    double wall_s_ = 0;
};

void usage() {
    std::puts(
        "usage: f0-gossip-sim [--nodes N] [--degree D] [--fanout K] [--messages M]\n"
        "                     [--scenario baseline|churn|drop|flood|linkstate|all] [--churn F]\n"
        "                     [--adversaries F] [--seed S] [--publish-s T] [--drain-s T]\n"
        "                     [--heartbeat-s T] [--flood-rate R] [--max-hops H (<= 16)]\n"
        "                     [--interval-s T (linkstate: the QoS interval, 15)]\n"
        "Runs the gossip protocol on a virtual network and prints one JSON line per scenario.\n"
        "all = baseline, churn (10 %), drop (20 % adversaries), flood (20 % adversaries).\n"
        "linkstate (not in all): every peer publishes its link-state summary each interval.");
}

} // namespace

int main(int argc, char** argv) {
    Options base;
    std::string scenario = "all";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "f0-gossip-sim: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        try {
            if (a == "--help" || a == "-h") {
                usage();
                return 0;
            } else if (a == "--nodes")
                base.nodes = std::stoi(next());
            else if (a == "--degree")
                base.degree = std::stoi(next());
            else if (a == "--fanout")
                base.fanout = std::stoul(next());
            else if (a == "--max-hops")
                base.max_hops = std::stoi(next());
            else if (a == "--messages")
                base.messages = std::stoi(next());
            else if (a == "--scenario")
                scenario = next();
            else if (a == "--churn")
                base.churn = std::stod(next());
            else if (a == "--adversaries")
                base.adversaries = std::stod(next());
            else if (a == "--seed")
                base.seed = std::stoull(next());
            else if (a == "--publish-s")
                base.publish_s = std::stod(next());
            else if (a == "--drain-s")
                base.drain_s = std::stod(next());
            else if (a == "--heartbeat-s")
                base.heartbeat_s = std::stod(next());
            else if (a == "--flood-rate")
                base.flood_rate = std::stod(next());
            else if (a == "--interval-s")
                base.interval_s = std::stod(next());
            else {
                std::fprintf(stderr, "f0-gossip-sim: unknown option %s (see --help)\n", a.c_str());
                return 2;
            }
        } catch (const std::exception&) {
            std::fprintf(stderr, "f0-gossip-sim: bad value for %s\n", a.c_str());
            return 2;
        }
    }
    if (base.nodes < 2 || base.degree < 1 || base.degree >= base.nodes || base.fanout < 1 ||
        base.messages < 1 || base.flood_rate <= 0 || base.heartbeat_s <= 0 || base.max_hops < 1 ||
        base.max_hops > 16 || base.interval_s < 1) {
        std::fprintf(stderr, "f0-gossip-sim: need nodes >= 2, 1 <= degree < nodes, fanout >= 1, "
                             "messages >= 1, positive rates\n");
        return 2;
    }
    std::vector<Options> runs;
    auto add = [&](const char* name, double churn, double adv, const char* mode) {
        Options o = base;
        o.name = name;
        if (scenario == "all" || scenario == name) {
            o.churn = scenario == "all" || churn == 0 ? churn : (base.churn ? base.churn : churn);
            o.adversaries =
                scenario == "all" || adv == 0 ? adv : (base.adversaries ? base.adversaries : adv);
            o.mode = mode;
            runs.push_back(o);
        }
    };
    add("baseline", 0, 0, "drop");
    add("churn", 0.1, 0, "drop");
    add("drop", 0, 0.2, "drop");
    add("flood", 0, 0.2, "flood");
    if (scenario == "linkstate") {
        Options o = base;
        o.name = "linkstate";
        runs.push_back(o);
    }
    if (runs.empty()) {
        std::fprintf(stderr, "f0-gossip-sim: unknown scenario %s\n", scenario.c_str());
        return 2;
    }
    for (auto& o : runs) {
        Sim sim(o);
        sim.build();
        sim.run();
        sim.report();
    }
    return 0;
}

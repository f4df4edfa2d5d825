// The gossip protocol of one peer, without I/O: what to do with a frame received from a peer,
// with a message published here, and on the two timers (digest heartbeat, periodic push). Sending,
// key lookup and delivery are hooks, so the same code runs in the worker (DataChannels, HTTPS
// fallback, SQLite) and in the simulator (a virtual network of thousands of peers in one process).
//
// - Push: a new valid message is forwarded to a trust-weighted fan-out of peers not known to hold
//   it, with hops + 1, while hops < max_hops. Its origin sends it to every linked peer (flood
//   publishing), or to the fan-out if that is larger.
// - Pull: every heartbeat a weighted sample of linked peers gets a digest ("ihave") of the ids of
//   the last few seconds that it neither sent us nor got from us; it answers "iwant" for what it
//   misses (GossipSub's IHAVE/IWANT). A link that opens gets a digest of the whole window at once
//   (anti-entropy after an outage or a partition).
// - Every frame first passes the sender's token bucket (rate grows with its trust); then shape,
//   id (= hash of the signed content), age, duplicate and signature checks, in that order. Each
//   rejection is counted; the ones that can only be the sender's fault lower its trust. A peer
//   whose trust fell below exclude_below is graylisted: its frames are dropped unread (as
//   GossipSub's graylist) until its behaviour has recovered.
#pragma once

#include "mesh/gossip/gossip_message.hpp"
#include "mesh/gossip/trust.hpp"

#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <unordered_map>

namespace f0::mesh::gossip {

struct GossipParams {
    std::size_t fanout = 3; // peers per push (the original's "Selected 3/3")
    // The origin sends to every linked peer (GossipSub v1.1's flood publishing): one hop less
    // for a few frames more.
    bool flood_publish = true;
    int max_hops = 12; // forwarded while hops < this; more is invalid
    std::size_t max_payload_bytes = 16 * 1024;
    std::int64_t cache_ttl_ms = 600'000;     // messages kept to answer iwant and pushes
    std::size_t cache_max = 10'000;          // ...and at most this many
    std::int64_t max_age_ms = 1'800'000;     // a message older than this is refused (replay)
    std::int64_t max_skew_ms = 60'000;       // ...and one this far in the future
    std::int64_t digest_window_ms = 120'000; // ids offered when a link opens, and by pushes
    // Heartbeat digests: every heartbeat the `fanout` linked peers digested longest ago each get
    // the ids received since their last digest (at least heartbeat_window_ms, at most
    // heartbeat_window_max_ms back) that they are not known to hold: over ceil(links / fanout)
    // heartbeats every neighbour is offered every message once by every neighbour that has it
    // and did not send it (a random sample left a low-degree peer unoffered now and then).
    std::int64_t heartbeat_window_ms = 3'000;
    std::int64_t heartbeat_window_max_ms = 30'000;
    std::size_t digest_max_ids = 500;
    double rate_min = 50, rate_max = 500; // frames/s accepted from a peer of trust 0 .. 1
    double burst_s = 2;                   // bucket size in seconds of rate
    int dup_flood_threshold = 3;          // the same id from one peer more often: a flood
    std::size_t push_max_messages = 100;  // per peer per periodic push
    // Topics under this prefix go over links only, never the HTTPS fallback: link state
    // (`mesh/links`) is about links, is sent again every interval, and a worker with few links
    // would otherwise post it to random registered endpoints every time a link changes.
    std::string links_only_prefix = "mesh/";
};

struct GossipCounters {
    std::uint64_t published = 0, frames_received = 0, delivered = 0, duplicates = 0, forged = 0,
                  invalid = 0, replayed = 0, unknown_origin = 0, rate_limited = 0,
                  duplicate_floods = 0, graylisted = 0, hop_limited = 0, sent_link = 0,
                  sent_https = 0, send_failed = 0, ihave_sent = 0, iwant_sent = 0, served = 0,
                  pushes = 0;
};

enum class Via { Link, Https, Failed };
// How a frame may travel: Any (a link, else the HTTPS fallback) or LinkOnly (a message of a
// links-only topic: if its link cannot take it, it is not sent at all).
enum class Route { Any, LinkOnly };

class GossipEngine {
public:
    struct Candidate {
        std::string id;
        bool linked = false; // an open gossip channel; others are reached over HTTPS
    };
    struct Hooks {
        std::function<std::vector<Candidate>()> candidates;
        std::function<Via(const std::string& peer, const std::string& frame, Route route)> send;
        std::function<std::optional<identity::PublicKey>(const std::string& origin)> key_of;
        // A message from an instance of its origin: the instance key its delegation certifies
        // for that origin, or nothing when the delegation is refused (then it counts as forged).
        std::function<std::optional<identity::PublicKey>(const GossipMessage& m,
                                                         const identity::PublicKey& origin_key)>
            instance_key;
        std::function<void(const GossipMessage& m, const std::string& from)> deliver;
        // Checks m's signature with key; unset: m.verify(key). The simulator memoises it (the
        // answer is the same for the same content, signature and key at every simulated peer).
        std::function<bool(const GossipMessage& m, const identity::PublicKey& key)> verify;
        std::function<void(const std::string& line)> log; // optional
        // Whether `peer` has an open link (for links-only topics); unset: every peer has one.
        std::function<bool(const std::string& peer)> linked;
    };
    enum class Verdict {
        Delivered,
        Duplicate,
        Control, // ihave / iwant handled
        Forged,
        Invalid,
        Replayed,
        UnknownOrigin,
        RateLimited,
        Graylisted
    };
    struct PushReport {
        std::size_t candidates = 0, selected = 0, succeeded = 0;
    };

    GossipEngine(std::string self, const identity::Identity& signer, GossipParams params,
                 TrustBook& trust, Hooks hooks, std::uint64_t seed);

    Result<GossipMessage> publish(const std::string& topic, nlohmann::json payload,
                                  std::int64_t now_ms);
    // This worker is one instance of its peer: what it publishes carries the delegation.
    void set_delegation(std::optional<identity::Delegation> d) { delegation_ = std::move(d); }
    Verdict on_frame(const std::string& from, std::string_view frame, std::int64_t now_ms);
    void heartbeat(std::int64_t now_ms);  // digests to a weighted sample; pruning
    PushReport push(std::int64_t now_ms); // the periodic gossipPush
    void on_link_open(const std::string& peer, std::int64_t now_ms); // digest at once

    const GossipCounters& counters() const { return counters_; }
    const GossipParams& params() const { return params_; }
    const GossipMessage* find(const std::string& id) const;

private:
    struct Entry {
        GossipMessage msg;
        std::int64_t received_ms = 0;
        std::vector<std::string> holders; // peers known to have it (sent it or announced it)
        std::vector<std::string> sent;    // peers we sent it to (not told again, still in digests)
        std::vector<std::pair<std::string, int>> dup; // copies received per peer
    };
    struct Bucket {
        double tokens = 0;
        std::int64_t last_ms = 0;
    };
    bool admit(const std::string& from, std::int64_t now_ms);
    Verdict on_msg(const std::string& from, GossipMessage m, std::int64_t now_ms);
    void on_duplicate(Entry* e, const std::string& from, std::int64_t now_ms);
    Entry& remember(GossipMessage m, std::int64_t now_ms);
    // A weighted fan-out of up to k candidates, skipping `skip`; linked ones first.
    std::vector<std::string> choose(std::size_t k, const std::vector<std::string>& skip,
                                    bool linked_only, std::int64_t now_ms,
                                    std::vector<std::pair<std::string, double>>* weights = nullptr);
    void forward(Entry& e, std::size_t k, std::int64_t now_ms);
    Via send(const std::string& peer, const std::string& frame, bool is_msg,
             Route route = Route::Any);
    Route route_of(const std::string& topic) const;  // LinkOnly for links-only topics
    bool links_only(const std::string& topic) const; // params_.links_only_prefix
    bool may_send(const std::string& peer, const std::string& topic) const;
    // Recent ids (received within window_ms) the peer is not known to hold; with include_sent
    // also those we sent it (after an outage it may have lost them).
    std::vector<std::string> digest_for(const std::string& peer, std::int64_t now_ms,
                                        std::int64_t window_ms, bool include_sent) const;
    void prune(std::int64_t now_ms);
    void offence(const std::string& from, Offence o, std::int64_t now_ms);

    std::string self_;
    const identity::Identity& signer_;
    std::optional<identity::Delegation> delegation_;
    GossipParams params_;
    MessageLimits limits_;
    TrustBook& trust_;
    Hooks hooks_;
    std::mt19937_64 rng_;
    std::unordered_map<std::string, std::int64_t> digested_ms_; // linked peer -> its last digest
    std::uint64_t seq_ = 0;
    std::unordered_map<std::string, Entry> cache_;
    std::deque<std::string> cache_order_;                // oldest first
    std::unordered_map<std::string, std::int64_t> seen_; // id -> forget after (ms)
    std::deque<std::pair<std::int64_t, std::string>> seen_order_;
    std::unordered_map<std::string, Bucket> buckets_;
    GossipCounters counters_;
};

const char* to_string(GossipEngine::Verdict v);

} // namespace f0::mesh::gossip

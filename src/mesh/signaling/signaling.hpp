// Signaling: A's dial creates an offer, signs it and sends it to B; B checks it and answers with a
// signed answer; A checks that and applies it. Glare (both dialling at once) resolves to one link:
// the offer from the lower peer id wins. Also peer registration (/beacon) and the beacon client.
// Envelope checks run in order of cost and record a nonce only for a correctly signed envelope.
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/core/errors.hpp"
#include "mesh/core/events.hpp"
#include "mesh/gossip/gossip_message.hpp"
#include "mesh/identity/identity.hpp"
#include "mesh/identity/replay_guard.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "mesh/instances/instance_table.hpp"
#include "mesh/links/link_table.hpp"
#include "mesh/peers/peer_record.hpp"
#include "mesh/peers/peer_registry.hpp"
#include "mesh/signaling/signaling_client.hpp"
#include "mesh/worker_config.hpp"
#include "store/mesh_store.hpp"

#include <map>

namespace f0::mesh {

class Signaling {
public:
    struct Options {
        std::string self;
        std::chrono::milliseconds window{60'000};     // |now - ts| allowed for envelopes
        std::chrono::milliseconds glare_guard{5'000}; // a colliding offer this soon is glare
        bool open_registration = false;
        std::string beacon; // URL; empty: none
        std::chrono::milliseconds beacon_refresh{10'000};
        std::size_t replay_per_peer = 1'000, replay_max = 100'000; // see ReplayGuard
        // Signed envelopes accepted per second from one peer id (after its signature verifies):
        // peer_rate_min at trust 0 up to peer_rate_max at trust 1, with a burst of
        // peer_burst_s seconds of that rate. Keyed by the id, not the address: many addresses
        // do not buy one peer more.
        double peer_rate_min = 5, peer_rate_max = 50, peer_burst_s = 4;
        // An open link we dialled that receives nothing this long gets an ICE restart (a signed
        // re-offer with new ICE credentials on the same connection); 0: never. Two restarts
        // without data, and the link fails (and is redialled).
        std::chrono::milliseconds restart_after_silence{0};
        std::chrono::milliseconds restart_after_silence_calm{0}; // a link probed seldom (idle)
        // This worker is one instance of `self` (issue 17): its key is the delegation's instance
        // key; every envelope it signs carries the delegation.
        std::optional<identity::Delegation> delegation;
        instances::InstanceTable::Limits instance_limits;
    };
    struct Counters {
        std::uint64_t dials = 0, offers_accepted = 0, answers_accepted = 0;
        std::uint64_t ice_restarts_sent = 0, ice_restarts_done = 0, ice_restarts_accepted = 0;
        std::uint64_t instance_failovers = 0; // an instance unreachable: dialled the next one
        std::uint64_t instance_moves = 0;     // a link moved to the instance placement names
        std::map<std::string, std::uint64_t> rejected; // by error code
    };
    using Notify = std::function<void(const std::string& type, nlohmann::json data)>;

    // The worker's settings that are signaling's.
    static Options options_of(const WorkerConfig& c);

    Signaling(Clock& clock, const identity::Identity& id, PeerRegistry& peers, LinkTable& links,
              SignalingClient& client, store::MeshStore& store, Options options, Notify notify);

    // A peer registered here (POST /beacon) with a new or changed record; not raised for records
    // learned from a beacon's list (the beacon announced those already).
    // Signed records are replicated (countersigned by this worker); unsigned ones stay here.
    Event<const SignedRecord&> registered;
    // The beacon's own id and key, from its peer list (this worker's registrar: pinned once).
    Event<const std::string&, const std::string&> beacon_seen;

    void dial(const std::string& peer, OutcomeCallback done);
    void accept_offer(const nlohmann::json& envelope, OutcomeCallback done);
    Outcome accept_answer(const nlohmann::json& envelope);
    // Validated by signed_record_from_json. learned: from a beacon's list, not from the peer.
    // An unsigned record may add an id, never change a known one (signature_required); a signed
    // one older than the record held for its id (newest_record_ts) is refused (stale_timestamp).
    Outcome register_peer(SignedRecord r, bool learned = false);
    // A beacon's GET /peers answer (outside bytes): the peers and instances it lists, learned.
    void learn_from_beacon(const nlohmann::json& list);
    // The `ts` of the newest signed record of an id this worker holds (the replicated registry's).
    std::function<std::optional<std::int64_t>(const std::string& id)> newest_record_ts;
    Outcome register_peer(store::PeerRecord p, bool learned = false) {
        return register_peer(SignedRecord{std::move(p), 0, {}, std::nullopt}, learned);
    }
    std::optional<Error> check_envelope(const identity::Envelope& e, const char* type);
    identity::Envelope make_envelope(const std::string& peer, const std::string& type,
                                     const std::string& payload);
    void start_beacon(std::function<nlohmann::json()> self_record);
    void start_watchdog(); // the silence check behind restart_after_silence
    void stop();
    const Counters& counters() const { return counters_; }
    // Peers served by several instances: who they are, where, and which is live (issue 17).
    const instances::InstanceTable& instances() const { return instances_; }
    // The instance key `d` certifies for `peer` (whose bound key is `peer_key`), now and not
    // revoked; nothing when the delegation is refused (the same checks as for an envelope).
    std::optional<identity::PublicKey> instance_key(const std::string& peer,
                                                    const identity::Delegation& d,
                                                    const identity::PublicKey& peer_key) const;
    const std::optional<identity::Delegation>& delegation() const { return opt_.delegation; }
    // A revocation signed by the peer key: that instance key is refused from now on.
    Outcome revoke(const identity::Revocation& r);
    // Revocations travel as gossip on this topic (reserved, as all of crdt/): whoever takes one
    // at POST /revocations publishes it, and every worker that delivers it checks it as if
    // posted there. True when `m` was on that topic (handled here).
    static constexpr std::string_view kRevocationTopic = "crdt/revocations";
    bool on_gossip(const gossip::GossipMessage& m);
    // Links we dialled to an instance other than the one placement now names are moved there
    // (an instance came back or joined). Called after the instance sets change.
    void rebalance();

private:
    void send_offer(const std::string& peer, std::uint64_t gen);
    void on_reply(const std::string& peer, std::uint64_t gen, const OfferReply& r);
    void beacon_tick();
    void watchdog_tick();
    void restart(const std::string& peer);
    void on_restart_reply(const std::string& peer, std::uint64_t gen, const OfferReply& r);
    void accept_restart(const identity::Envelope& e, OutcomeCallback done);
    // Where to send signaling for `peer`: the placed instance's endpoint (its name in `instance`)
    // for a peer served by instances, else its record's endpoint.
    std::string endpoint_of(const std::string& peer, std::string& instance) const;
    // The instance serving a link did not answer: skip it for a while; true (counted as a
    // failover) when placement names another live instance of the peer.
    bool skip_instance(const std::string& peer, const std::string& instance,
                       const std::string& why);
    std::optional<Error> register_instance(const SignedRecord& r);
    std::optional<Error> may_change(const SignedRecord& r) const;
    bool delegation_usable();
    SignedRecord learned_record(const nlohmann::json& entry, store::PeerRecord p) const;
    // The table holds `p` as it is (key, endpoint, region, geo) and may use it.
    bool holds_same(const store::PeerRecord& p) const;

    // This worker being one instance of its peer: the sibling placement names for the link to
    // `peer` (over the live siblings and itself), when it is not this one.
    std::optional<std::string> sibling_serving(const std::string& peer) const;

    Clock& clock_;
    const identity::Identity& identity_;
    PeerRegistry& peers_;
    LinkTable& links_;
    SignalingClient& client_;
    store::MeshStore& store_;
    Options opt_;
    Notify notify_;
    identity::ReplayGuard replay_;
    instances::InstanceTable instances_;
    identity::RevocationSet revoked_;
    struct Bucket {
        double tokens = -1; // -1: not started
        std::int64_t refill_ms = 0;
    };
    std::map<std::string, Bucket> peer_buckets_; // by sender id; idle ones forgotten
    bool peer_allowed(const std::string& peer);
    std::function<nlohmann::json()> self_record_;
    Timer beacon_timer_, watchdog_timer_;
    Counters counters_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true); // replies after stop() do nothing
    std::int64_t delegation_warned_ms_ = INT64_MIN / 2; // when its coming end was last told
    bool delegation_ended_told_ = false;
};

} // namespace f0::mesh

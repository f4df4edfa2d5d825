// Replication: the peer registry as an LWW-Element-Set (RegistryState) and named lists as RGAs,
// stamped by one HLC, spread by gossip (topics crdt/registry and crdt/list/NAME, payload
// {"delta": base64 of the codec}) and repaired by anti-entropy over the control channel: when a
// link opens, and every sync_interval with one linked peer, a side sends
//   {"type": "crdt.sync", "digest": base64 of the registry's bucket digest, "lists": summaries,
//    "reply": false}
// and the other answers with the registry entries of the buckets that differ, as
//   {"type": "crdt.registry", "delta": ..., "more": bool}   (pieces of ~64 KiB, at most
//    sync_budget bytes per round; "more" on the last piece asks the receiver for another round),
// with {"type": "crdt.delta", list, delta} for what the lists lack, and (unless it was a reply)
// with a crdt.sync of its own (reply: true) so that repair goes both ways. Registry changes are
// saved per element (a registration writes its own rows, not the whole registry), coalesced over
// save_delay, and on stop.
//
// Registry elements are self-signed records countersigned by a registrar (peer_record.hpp); an
// element is admitted only when both signatures verify and its registrar is one this worker
// trusts: itself, the --registrar list, and its beacon (pinned the first time it answers).
// RegistryState decides each id from the admitted elements alone (first registration's key wins),
// so every worker that trusts the same registrars converges on the same key for every id; the
// peer registry used to check signatures follows that decision.
#pragma once

#include "crdt/hlc.hpp"
#include "crdt/lww_set.hpp"
#include "crdt/rga.hpp"
#include "mesh/core/clock.hpp"
#include "mesh/core/errors.hpp"
#include "mesh/gossip/gossip_message.hpp"
#include "mesh/links/link_table.hpp"
#include "mesh/peers/peer_record.hpp"
#include "mesh/peers/peer_registry.hpp"
#include "mesh/replication/registry_state.hpp"
#include "store/mesh_store.hpp"

#include <map>
#include <set>

namespace f0::mesh {

// An edit of a replicated list, as the API gives it.
struct ListEdit {
    enum class Op { Insert, Delete } op = Op::Insert;
    std::size_t index = 0;
    std::vector<std::string> values; // insert: JSON texts
    std::size_t count = 0;           // delete
};
constexpr std::size_t kMaxListValues = 1000, kMaxListValueBytes = 8 * 1024;
bool valid_list_name(const std::string& n);

class Replication {
public:
    struct Options {
        std::string self;
        std::chrono::milliseconds max_offset{60'000};    // HLC: stamps this far ahead refused
        std::chrono::milliseconds sync_interval{10'000}; // anti-entropy with one linked peer
        std::chrono::milliseconds save_delay{250};       // coalesced writes of the state
        std::chrono::milliseconds publish_delay{200}; // changes after the first, gossiped together
        std::size_t sync_budget = 4u << 20;           // registry bytes sent per anti-entropy round
        RegistryState::Limits registry;
        std::string self_key;                          // our public key (we are a registrar)
        std::map<std::string, std::string> registrars; // trusted registrars: id -> public key
    };
    using Notify = std::function<void(const std::string& type, nlohmann::json data)>;
    // Publishes a gossip message (set by the composition root to the gossip bridge).
    using Publish = std::function<Status(const std::string& topic, nlohmann::json payload)>;

    Replication(Clock& clock, store::MeshStore& store, PeerRegistry& peers, LinkTable& links,
                Options options, Notify notify);
    ~Replication();

    void set_publish(Publish p) { publish_ = std::move(p); }
    Status load(); // stored registry and lists
    void start();  // the anti-entropy timer
    void stop();   // saves what is pending

    // A countersigned record (ours, or a peer's registered here); gossiped (with others put
    // within publish_delay) unless publish is false: then only anti-entropy carries it.
    void put(const SignedRecord& r, bool publish = true);
    // A signed registration taken here (POST /beacon): countersigned by this worker (its
    // registrar), stored before the registration is acknowledged, and gossiped. Nothing when the
    // registry holds it already (a beacon refresh) or it is unsigned (kept locally only).
    void take(const SignedRecord& r, const identity::Identity& registrar);
    // Whether the current record of r's id is r itself (same key, ts and signature).
    bool holds(const SignedRecord& r) const;
    // Trusts `id` as a registrar with `key` (our beacon's, first seen). False when `id` is
    // already trusted with another key. Kept in the store.
    bool trust_registrar(const std::string& id, const std::string& key);
    const std::map<std::string, std::string>& registrars() const { return trusted_; }
    void on_gossip(const gossip::GossipMessage& m, const std::string& from);
    // A message on the control channel: true when it was ours (crdt.*).
    bool on_control(const std::string& peer, const std::string& text);
    void on_link_open(const std::string& peer) { send_sync(peer); }

    // What the registry holds for `id` (GET /registry/{id}): the key bound to it, its current
    // record and every element kept, as signed records.
    Outcome registry_of(const std::string& id) const;

    Outcome edit_list(const std::string& name, const ListEdit& edit);
    Outcome list(const std::string& name) const;
    nlohmann::json lists() const;
    std::size_t list_count() const { return lists_.size(); }
    std::uint64_t rejected() const { return rejected_; }
    std::size_t registry_size() const { return registry_.size(); }
    bool has_record_of(const std::string& id) const { return registry_.current(id).has_value(); }
    // The record of `id` this worker uses from the registry, as signed (with its registrar's
    // countersignature), or null; and its `ts`.
    nlohmann::json current_record(const std::string& id) const;
    std::optional<std::int64_t> current_ts(const std::string& id) const {
        return registry_.current_ts(id);
    }
    std::uint64_t registry_evicted() const { return registry_.evicted(); }
    std::uint64_t registry_refused() const { return registry_.refused(); }
    std::uint64_t registry_conflicts() const { return registry_.conflicts(); }
    std::uint64_t registry_tombstones() const { return registry_.tombstones_refused(); }
    std::uint64_t registry_rebinds() const { return rebinds_; }
    std::uint64_t syncs_deferred() const { return syncs_deferred_; }
    std::uint64_t syncs_answered() const { return syncs_answered_; }

private:
    crdt::Rga<std::string>& list_ref(const std::string& name);
    void on_registry(const crdt::LwwElementSet<std::string>& delta, const std::string& from);
    void record(const RegistryState::Changes& ch);
    void report(const RegistryState::Changes& ch, const std::string& from); // conflicts
    bool adopt_stamps(const crdt::LwwElementSet<std::string>& s, const std::string& from);
    void send_sync(const std::string& peer, bool reply = false);
    void send_registry(const std::string& peer, const std::string& their_digest);
    void on_sync(const std::string& peer, const nlohmann::json& msg);
    void answer_sync(const std::string& peer, const nlohmann::json& msg);
    void dirty(const std::string& doc);
    void flush();
    void publish_registry();

    Clock& clock_;
    store::MeshStore& store_;
    PeerRegistry& peers_;
    LinkTable& links_;
    Options opt_;
    Notify notify_;
    Publish publish_;
    std::optional<RegistryState::Info> admit(const std::string& element) const;

    std::map<std::string, std::string> trusted_; // registrars: id -> key (ourselves included)
    crdt::ReplicaId replica_id_ = 0;             // 64 bits of SHA-256 of our peer id
    crdt::Hlc hlc_;
    RegistryState registry_;                 // canonical JSON peer records
    std::set<std::string> registry_changed_; // elements to write at the next save
    std::set<std::string> registry_erased_;  // elements to delete at the next save
    bool drop_legacy_doc_ = false;           // the whole-registry document of older versions
    std::map<std::string, std::unique_ptr<crdt::Rga<std::string>>> lists_;
    std::set<std::string> dirty_;
    crdt::LwwElementSet<std::string> unpublished_; // registry changes not yet gossiped
    Timer save_timer_, sync_timer_, publish_timer_;
    // crdt.sync answers (which send up to sync_budget bytes) at most one per kSyncAnswerGap per
    // peer; syncs that come sooner are coalesced into one answer when the gap has passed.
    struct PendingSync {
        nlohmann::json msg;
        bool reply = true; // false once any coalesced sync asked for our sync back
        Timer timer;
    };
    std::map<std::string, std::int64_t> last_answer_ms_;
    std::map<std::string, PendingSync> pending_sync_;
    std::uint64_t syncs_deferred_ = 0, syncs_answered_ = 0;
    std::uint64_t rejected_ = 0, rebinds_ = 0;
};

} // namespace f0::mesh

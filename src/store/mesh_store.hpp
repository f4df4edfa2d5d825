// Repository for peers and mesh_links on top of Database.
#pragma once

#include "store/database.hpp"
#include "store/records.hpp"

#include <vector>

namespace f0::store {

class MeshStore {
public:
    explicit MeshStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

    Status upsert_peer(const PeerRecord& p);
    Status upsert_peers(const std::vector<PeerRecord>& peers); // one transaction
    Result<std::vector<PeerRecord>> peers();
    Status upsert_link(const LinkRecord& l);
    Status remove_link(const std::string& peer);
    Result<std::vector<LinkRecord>> links();
    Status add_qos(const QosSample& q);
    Result<std::vector<QosSample>> qos_history(const std::string& peer, std::int64_t since_ms,
                                               std::int64_t limit);
    // Bounded retention: drops samples older than before_ms, and beyond max_per_peer per peer.
    Status prune_qos(std::int64_t before_ms, std::int64_t max_per_peer);
    // Delivered gossip: kept so that /gossip/messages survives a restart; the newest `keep`.
    Status add_gossip(const GossipRecord& g);
    // Oldest first; reading stops at `limit` rows or at the first row that takes the payloads
    // and signatures past max_bytes (that row is included, so the caller sees where it cut).
    Result<std::vector<GossipRecord>> gossip_messages(const std::string& topic,
                                                      std::int64_t since_ms, std::int64_t limit,
                                                      std::size_t max_bytes = SIZE_MAX);
    Status prune_gossip(std::int64_t keep);
    // Messages with receipts: false when (peer, id) is stored already (nothing written).
    Result<bool> add_message(const StoredMessage& m);
    // After `after_seq` (oldest first), of one peer or of all ("").
    Result<std::vector<StoredMessage>> messages(const std::string& peer, std::int64_t after_seq,
                                                std::int64_t limit);
    // Keeps the newest max_per_peer of `peer` and the newest max_total in all; how many went.
    Result<std::int64_t> prune_messages(const std::string& peer, std::int64_t max_per_peer,
                                        std::int64_t max_total);
    // Replicated CRDT documents (the peer registry, named lists): name -> encoded state, base64.
    Status put_crdt(const std::string& name, const std::string& state, std::int64_t now_ms);
    Result<std::vector<std::pair<std::string, std::string>>> crdt_docs();
    Status delete_crdt(const std::string& name);
    // The registry's changed and erased elements, in one transaction.
    Status put_registry(const std::vector<RegistryRow>& rows,
                        const std::vector<std::string>& erased);
    Result<std::vector<RegistryRow>> registry_rows();

private:
    std::unique_ptr<Database> db_;
};

} // namespace f0::store

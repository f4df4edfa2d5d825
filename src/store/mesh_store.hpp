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
    Result<std::vector<PeerRecord>> peers();
    Status upsert_link(const LinkRecord& l);
    Status remove_link(const std::string& peer);
    Result<std::vector<LinkRecord>> links();

private:
    std::unique_ptr<Database> db_;
};

} // namespace f0::store

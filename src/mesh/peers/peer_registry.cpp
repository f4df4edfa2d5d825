// Registration rules: allowlisted (or open registration), valid key, first key wins.
#include "mesh/peers/peer_registry.hpp"

#include <fstream>

namespace f0::mesh {

Status PeerRegistry::load_allowlist(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        return make_error("cannot read the allowlist " + file.string());
    std::set<std::string> fresh;
    std::string line;
    while (std::getline(in, line)) {
        auto hash = line.find('#');
        if (hash != std::string::npos)
            line.erase(hash);
        auto b = line.find_first_not_of(" \t\r");
        auto e = line.find_last_not_of(" \t\r");
        if (b != std::string::npos)
            fresh.insert(line.substr(b, e - b + 1));
    }
    if (in.bad())
        return make_error("cannot read the allowlist " + file.string());
    allow_ = std::move(fresh); // the whole file replaces what was there (SIGHUP)
    return Ok{};
}

std::optional<Error> PeerRegistry::add(const store::PeerRecord& peer, bool trusted_source) {
    if (!trusted_source && !is_allowed(peer.id))
        return Error{
            Errc::NotAllowlisted, "peer '" + peer.id + "' is not on this worker's allowlist", {}};
    auto key = identity::parse_public_key(peer.pub_key);
    if (!key)
        return Error{Errc::BadRequest, key.error().message, {}};
    if (auto it = peers_.find(peer.id); it != peers_.end() && it->second.pub_key != peer.pub_key)
        return Error{
            Errc::KeyMismatch, "peer '" + peer.id + "' is registered with another public key", {}};
    auto [it, fresh] = peers_.try_emplace(peer.id);
    if (fresh)
        order_.push_back(&it->first);
    auto& slot = it->second;
    auto registered = slot.registered_ms ? slot.registered_ms : peer.registered_ms;
    slot = peer;
    slot.registered_ms = registered;
    return std::nullopt;
}

std::optional<Error> PeerRegistry::rebind(const store::PeerRecord& peer) {
    if (auto it = peers_.find(peer.id); it != peers_.end() && it->second.pub_key != peer.pub_key) {
        if (!is_allowed(peer.id))
            return Error{Errc::NotAllowlisted,
                         "peer '" + peer.id + "' is not on this worker's allowlist",
                         {}};
        it->second.pub_key = peer.pub_key;
    }
    return add(peer, false);
}

std::vector<std::string> PeerRegistry::sample(std::size_t k, std::mt19937_64& rng) const {
    std::vector<std::string> out;
    if (order_.empty())
        return out;
    if (order_.size() <= k) {
        for (const auto* id : order_)
            out.push_back(*id);
        return out;
    }
    std::set<std::size_t> picked;
    std::uniform_int_distribution<std::size_t> pick(0, order_.size() - 1);
    for (std::size_t tries = 0; picked.size() < k && tries < 4 * k; ++tries)
        picked.insert(pick(rng));
    for (auto i : picked)
        out.push_back(*order_[i]);
    return out;
}

const store::PeerRecord* PeerRegistry::find(const std::string& id) const {
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : &it->second;
}

std::optional<identity::PublicKey> PeerRegistry::key_of(const std::string& id) const {
    auto* p = find(id);
    if (!p)
        return std::nullopt;
    auto k = identity::parse_public_key(p->pub_key);
    if (!k)
        return std::nullopt;
    return k.value();
}

} // namespace f0::mesh

// A nonce seen at ts is remembered until ts + window: after that its ts alone fails the check.
#include "mesh/identity/replay_guard.hpp"

#include <cstdlib>

namespace f0::mesh::identity {

void ReplayGuard::expire(std::int64_t now_ms) {
    // Peers in order of their earliest expiry: only those with something expired are visited.
    while (!expiries_.empty() && expiries_.begin()->first < now_ms) {
        auto peer = expiries_.begin()->second;
        expiries_.erase(expiries_.begin());
        auto it = by_peer_.find(peer);
        if (it == by_peer_.end())
            continue;
        auto& w = it->second;
        while (!w.by_expiry.empty() && w.by_expiry.begin()->first < now_ms) {
            w.nonces.erase(w.by_expiry.begin()->second);
            w.by_expiry.erase(w.by_expiry.begin());
            --total_;
        }
        if (w.by_expiry.empty())
            by_peer_.erase(it);
        else
            expiries_.insert({w.by_expiry.begin()->first, peer});
    }
}

ReplayVerdict ReplayGuard::check(const std::string& peer, std::int64_t ts_ms,
                                 const std::string& nonce, std::int64_t now_ms) {
    expire(now_ms);
    if (std::llabs(now_ms - ts_ms) > limits_.window.count())
        return ReplayVerdict::Stale;
    if (ts_ms < start_ms_)
        return ReplayVerdict::BeforeStart;
    auto it = by_peer_.find(peer);
    if (it != by_peer_.end() && it->second.nonces.count(nonce))
        return ReplayVerdict::Replayed;
    if (it != by_peer_.end() && it->second.nonces.size() >= limits_.per_peer)
        return ReplayVerdict::PeerWindowFull;
    if (total_ >= limits_.max_nonces)
        return ReplayVerdict::Full;
    auto& w = by_peer_[peer];
    auto expires = ts_ms + limits_.window.count();
    if (!w.by_expiry.empty() && expires < w.by_expiry.begin()->first)
        expiries_.erase({w.by_expiry.begin()->first, peer});
    if (w.by_expiry.empty() || expires < w.by_expiry.begin()->first)
        expiries_.insert({expires, peer});
    w.nonces.insert(nonce);
    w.by_expiry.emplace(expires, nonce);
    ++total_;
    return ReplayVerdict::Fresh;
}

} // namespace f0::mesh::identity

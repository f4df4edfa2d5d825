// A nonce seen at ts is remembered until ts + window: after that its ts alone fails the check.
#include "mesh/identity/replay_guard.hpp"

#include <cstdlib>

namespace f0::mesh::identity {

ReplayVerdict ReplayGuard::check(std::int64_t ts_ms, const std::string& nonce,
                                 std::int64_t now_ms) {
    while (!by_expiry_.empty() && by_expiry_.front().first < now_ms) {
        seen_.erase(by_expiry_.front().second);
        by_expiry_.pop_front();
    }
    if (std::llabs(now_ms - ts_ms) > window_.count())
        return ReplayVerdict::Stale;
    if (seen_.count(nonce))
        return ReplayVerdict::Replayed;
    if (seen_.size() >= max_nonces_) { // under a flood, forget the oldest first
        seen_.erase(by_expiry_.front().second);
        by_expiry_.pop_front();
    }
    seen_.insert(nonce);
    // Expiry order is ts order only roughly; the deque is pruned from the front, so keep it sorted
    // by inserting from the back.
    auto expires = ts_ms + window_.count();
    auto it = by_expiry_.end();
    while (it != by_expiry_.begin() && std::prev(it)->first > expires)
        --it;
    by_expiry_.insert(it, {expires, nonce});
    return ReplayVerdict::Fresh;
}

} // namespace f0::mesh::identity

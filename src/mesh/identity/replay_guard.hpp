// Refuses signed envelopes that were seen before, or whose ts is outside a window around now, and
// fails closed: a full cache refuses new envelopes instead of forgetting old nonces (forgetting
// would let a flood of fresh envelopes wash a captured one's nonce out and replay it).
// - Per peer (the sender, after its signature was checked): at most `per_peer` nonces within the
//   window; beyond, that peer's envelopes are refused until its old ones expire. One peer cannot
//   touch another's window.
// - In all: at most `max_nonces`; beyond, every new envelope is refused until some expire.
// - Nonces are remembered until ts + window (then their ts alone fails), so memory is bounded by
//   max_nonces; peers whose window is empty are forgotten.
// - Envelopes signed before the guard started (a restart empties it) are refused: it cannot
//   vouch that their nonces were not used before.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace f0::mesh::identity {

enum class ReplayVerdict {
    Fresh,
    Stale,          // outside the window around now
    BeforeStart,    // signed before this guard started remembering
    Replayed,       // this peer used this nonce already
    PeerWindowFull, // this peer has per_peer envelopes in the window already
    Full,           // max_nonces in the window already, from all peers
};

class ReplayGuard {
public:
    struct Limits {
        std::chrono::milliseconds window{60'000};
        std::size_t per_peer = 1'000;
        std::size_t max_nonces = 100'000;
    };
    // now_ms (Unix ms, passed in) is when the guard starts remembering.
    ReplayGuard(Limits limits, std::int64_t now_ms) : limits_(limits), start_ms_(now_ms) {}

    // Records the nonce when fresh.
    ReplayVerdict check(const std::string& peer, std::int64_t ts_ms, const std::string& nonce,
                        std::int64_t now_ms);
    std::chrono::milliseconds window() const { return limits_.window; }
    const Limits& limits() const { return limits_; }
    std::size_t size() const { return total_; }
    std::size_t peers() const { return by_peer_.size(); }

private:
    struct Window {
        std::unordered_set<std::string> nonces;
        std::multimap<std::int64_t, std::string> by_expiry; // expires at ms -> nonce
    };
    void expire(std::int64_t now_ms);

    Limits limits_;
    std::int64_t start_ms_;
    std::size_t total_ = 0;
    std::unordered_map<std::string, Window> by_peer_;
    std::set<std::pair<std::int64_t, std::string>> expiries_; // (earliest expiry, peer)
};

} // namespace f0::mesh::identity

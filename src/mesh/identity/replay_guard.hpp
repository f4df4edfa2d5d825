// Rejects envelopes whose ts is outside a window around now, and nonces seen before. Nonces are
// remembered only as long as their ts could still pass the window, so memory stays bounded.
#pragma once

#include "util/result.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>

namespace f0::mesh::identity {

enum class ReplayVerdict { Fresh, Stale, Replayed };

class ReplayGuard {
public:
    explicit ReplayGuard(std::chrono::milliseconds window = std::chrono::seconds(60),
                         std::size_t max_nonces = 100000)
        : window_(window), max_nonces_(max_nonces) {}

    // Records the nonce when fresh. now_ms is Unix time in ms (time passed in, not read).
    ReplayVerdict check(std::int64_t ts_ms, const std::string& nonce, std::int64_t now_ms);
    std::chrono::milliseconds window() const { return window_; }

private:
    std::chrono::milliseconds window_;
    std::size_t max_nonces_;
    std::unordered_set<std::string> seen_;
    std::deque<std::pair<std::int64_t, std::string>> by_expiry_; // (expires at ms, nonce)
};

} // namespace f0::mesh::identity

// JSON that came from outside (a peer, an HTTP client, another worker's answer). A deeply nested
// document is cheap to send and dear to hold: every level is a node to allocate, print and free
// (200,000 bytes of '[' made 200,000 nested arrays and held the control thread for a second).
// parse_untrusted refuses one nested deeper than max_depth before building anything; what it
// returns is a discarded value then, the same as for text that is not JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace f0 {

inline constexpr int kMaxJsonDepth = 64;

// True when no array or object in `text` is nested deeper than max_depth (strings skipped).
bool json_depth_within(std::string_view text, int max_depth = kMaxJsonDepth);

nlohmann::json parse_untrusted(std::string_view text, int max_depth = kMaxJsonDepth);

} // namespace f0

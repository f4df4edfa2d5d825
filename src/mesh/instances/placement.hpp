// Several workers per peer (issue 17), the placement rule: which of a peer's instances serves
// its link to another peer. Rendezvous (highest-random-weight) hashing: every instance gets the
// weight SHA-256("f0-place\0" || low || "\0" || high || "\0" || instance), read as a big-endian
// 64-bit number, where low/high are the two peer ids in byte order; the highest weight wins (ties,
// which need a SHA-256 collision in 64 bits, go to the smaller instance id). Both sides, and every
// instance of a side, compute the same answer from the same instance set with no coordination;
// when an instance leaves, only its links move, and when one joins, only the links it now wins.
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace f0::mesh::instances {

std::uint64_t placement_weight(std::string_view peer_a, std::string_view peer_b,
                               std::string_view instance);

// The instance of `live` that serves the link between `self_peer` and `other_peer` (the pair is
// unordered); nullopt when `live` is empty.
std::optional<std::string> place_link(std::string_view self_peer, std::string_view other_peer,
                                      const std::vector<std::string>& live);

} // namespace f0::mesh::instances

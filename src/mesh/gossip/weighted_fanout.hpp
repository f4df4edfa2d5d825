// WeightedFanout: choose k of n peers without replacement so that each peer's chance of being
// chosen is proportional to its weight (a peer of weight 2 is chosen twice as often as one of
// weight 1), as long as no peer's share would exceed certainty.
//
// Plain sequential weighted draws without replacement do not have that property (with k close to
// n everyone ends up chosen and the ratio tends to 1), so this uses systematic sampling with
// inclusion probabilities pi_i = k * w_i / sum(w) (Madow 1949): peers in random order are laid
// end to end on [0, k), each taking a segment of length pi_i, and the points u, u+1, ..., u+k-1
// (u uniform in [0,1)) pick the segments they fall in. Every segment is at most 1 long, so no peer
// is picked twice, and peer i is picked with probability exactly pi_i. A peer whose pi_i would
// exceed 1 is taken for certain and the rest share what is left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace f0::mesh::gossip {

// Indices of the chosen entries (weight <= 0 is never chosen); min(k, positives) of them.
std::vector<std::size_t> weighted_sample(std::span<const double> weights, std::size_t k,
                                         std::mt19937_64& rng);

// The inclusion probability of each entry under weighted_sample (for logs and tests).
std::vector<double> inclusion_probabilities(std::span<const double> weights, std::size_t k);

} // namespace f0::mesh::gossip

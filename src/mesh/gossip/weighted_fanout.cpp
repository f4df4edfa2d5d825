// Systematic probability-proportional-to-size sampling; see weighted_fanout.hpp.
#include "mesh/gossip/weighted_fanout.hpp"

#include <algorithm>
#include <numeric>

namespace f0::mesh::gossip {

std::vector<double> inclusion_probabilities(std::span<const double> weights, std::size_t k) {
    std::vector<double> pi(weights.size(), 0);
    std::vector<bool> certain(weights.size(), false);
    std::size_t positives = 0;
    for (double w : weights)
        positives += w > 0;
    if (positives == 0 || k == 0)
        return pi;
    if (k >= positives) {
        for (std::size_t i = 0; i < weights.size(); ++i)
            pi[i] = weights[i] > 0 ? 1 : 0;
        return pi;
    }
    // Cap at 1 and redistribute until nobody exceeds it (at most n rounds).
    for (std::size_t round = 0; round <= weights.size(); ++round) {
        double rest_weight = 0;
        std::size_t fixed = 0;
        for (std::size_t i = 0; i < weights.size(); ++i) {
            if (certain[i])
                ++fixed;
            else if (weights[i] > 0)
                rest_weight += weights[i];
        }
        double share = static_cast<double>(k - fixed);
        bool capped = false;
        for (std::size_t i = 0; i < weights.size(); ++i) {
            if (certain[i] || weights[i] <= 0)
                continue;
            pi[i] = share * weights[i] / rest_weight;
            if (pi[i] >= 1) {
                pi[i] = 1;
                certain[i] = true;
                capped = true;
            }
        }
        if (!capped)
            break;
    }
    return pi;
}

std::vector<std::size_t> weighted_sample(std::span<const double> weights, std::size_t k,
                                         std::mt19937_64& rng) {
    auto pi = inclusion_probabilities(weights, k);
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < pi.size(); ++i)
        if (pi[i] > 0)
            order.push_back(i);
    std::shuffle(order.begin(), order.end(), rng);
    std::size_t want = std::min(k, order.size());
    std::vector<std::size_t> chosen;
    chosen.reserve(want);
    std::vector<bool> taken(pi.size(), false);
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    double start = 0;
    std::size_t j = 0;
    for (std::size_t i : order) {
        double end = start + pi[i];
        if (j < want && u + static_cast<double>(j) < end) {
            chosen.push_back(i);
            taken[i] = true;
            ++j;
        }
        start = end;
    }
    // Rounding can leave the last point just past the end: take the likeliest one not yet taken.
    while (chosen.size() < want) {
        std::size_t best = pi.size();
        for (std::size_t i : order)
            if (!taken[i] && (best == pi.size() || pi[i] > pi[best]))
                best = i;
        chosen.push_back(best);
        taken[best] = true;
    }
    return chosen;
}

} // namespace f0::mesh::gossip

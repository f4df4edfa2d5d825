// Rendezvous hashing of links onto a peer's instances.
#include "mesh/instances/placement.hpp"

#include <openssl/sha.h>

namespace f0::mesh::instances {

std::uint64_t placement_weight(std::string_view peer_a, std::string_view peer_b,
                               std::string_view instance) {
    if (peer_b < peer_a)
        std::swap(peer_a, peer_b);
    std::string input("f0-place", 9); // the tag with its terminating zero
    input.append(peer_a).push_back('\0');
    input.append(peer_b).push_back('\0');
    input.append(instance);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    std::uint64_t w = 0;
    for (int i = 0; i < 8; ++i)
        w = (w << 8) | digest[i];
    return w;
}

std::optional<std::string> place_link(std::string_view self_peer, std::string_view other_peer,
                                      const std::vector<std::string>& live) {
    std::optional<std::string> best;
    std::uint64_t best_weight = 0;
    for (const auto& inst : live) {
        auto w = placement_weight(self_peer, other_peer, inst);
        if (!best || w > best_weight || (w == best_weight && inst < *best)) {
            best = inst;
            best_weight = w;
        }
    }
    return best;
}

} // namespace f0::mesh::instances

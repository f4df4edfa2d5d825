// The outgoing SignalingClient seam: what the mesh asks of other workers (offer, gossip fallback,
// beacon). The worker's is HTTP(S) (api/http_signaling_client); the simulation's calls the other
// node in the same process. Replies come back on the control thread.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace f0::mesh {

struct OfferReply {
    enum class Kind {
        Answer,      // the peer answered: `answer` holds its envelope (still to be checked)
        Glare,       // the peer refused because its own offer wins
        Refused,     // the peer refused: `code` and `detail` say why
        Unreachable, // no answer at all: `detail` says why
    };
    Kind kind = Kind::Unreachable;
    nlohmann::json answer;
    std::string code, detail;
};

class SignalingClient {
public:
    using Done = std::function<void(std::optional<std::string> error)>;
    virtual ~SignalingClient() = default;
    virtual void offer(const std::string& endpoint, const nlohmann::json& envelope,
                       std::function<void(OfferReply)> done) = 0;
    virtual void gossip(const std::string& endpoint, const nlohmann::json& envelope, Done done) = 0;
    // Registers `self` (a peer record) at a beacon, and fetches the beacon's peer list.
    virtual void register_at(const std::string& beacon, const nlohmann::json& self, Done done) = 0;
    virtual void peers_of(const std::string& beacon,
                          std::function<void(std::optional<nlohmann::json> list)> done) = 0;
};

} // namespace f0::mesh

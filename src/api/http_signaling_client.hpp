// The SignalingClient seam over HTTP(S): POST {endpoint}/offer, POST {endpoint}/gossip,
// POST {beacon}/beacon, GET {beacon}/peers. Statuses and JSON error bodies become typed replies
// here, so that mesh/ never sees HTTP.
#pragma once

#include "api/http_client.hpp"
#include "mesh/core/errors.hpp"
#include "mesh/signaling/signaling_client.hpp"

namespace f0::api {

class HttpSignalingClient final : public mesh::SignalingClient {
public:
    explicit HttpSignalingClient(std::shared_ptr<HttpClient> http) : http_(std::move(http)) {}
    void offer(const std::string& endpoint, const nlohmann::json& envelope,
               std::function<void(mesh::OfferReply)> done) override;
    void gossip(const std::string& endpoint, const nlohmann::json& envelope, Done done) override;
    void register_at(const std::string& beacon, const nlohmann::json& self, Done done) override;
    void peers_of(const std::string& beacon,
                  std::function<void(std::optional<nlohmann::json>)> done) override;

private:
    std::shared_ptr<HttpClient> http_;
};

// A non-2xx answer of a peer as {code, sentence}: its JSON error code if it sent one.
std::pair<std::string, std::string> remote_error(int status, const std::string& body);

} // namespace f0::api

#include "api/http_signaling_client.hpp"
#include "util/json_in.hpp"

namespace f0::api {

std::pair<std::string, std::string> remote_error(int status, const std::string& body) {
    auto j = parse_untrusted(body);
    std::string code = "remote_error", detail = body.substr(0, 200);
    if (j.is_object()) {
        if (j.contains("error") && j["error"].is_string())
            code = j["error"].get<std::string>().substr(0, 64);
        if (j.contains("detail") && j["detail"].is_string())
            detail = j["detail"].get<std::string>().substr(0, 500);
    }
    return {code, "the peer answered " + std::to_string(status) + ": " + detail};
}

void HttpSignalingClient::offer(const std::string& endpoint, const nlohmann::json& envelope,
                                std::function<void(mesh::OfferReply)> done) {
    http_->request("POST", endpoint + "/offer", envelope.dump(),
                   [done](int status, std::string body, std::string error) {
                       mesh::OfferReply r;
                       if (!error.empty()) {
                           r.kind = mesh::OfferReply::Kind::Unreachable;
                           r.detail = error;
                       } else if (status == 200) {
                           r.kind = mesh::OfferReply::Kind::Answer;
                           r.answer = parse_untrusted(body);
                       } else {
                           auto [code, detail] = remote_error(status, body);
                           r.kind = code == mesh::code_of(mesh::Errc::Glare)
                                        ? mesh::OfferReply::Kind::Glare
                                        : mesh::OfferReply::Kind::Refused;
                           r.code = code;
                           r.detail = detail;
                       }
                       done(std::move(r));
                   });
}

namespace {
// A POST whose only answer is "done" or why not.
HttpClient::Done as_done(mesh::SignalingClient::Done done) {
    return [done = std::move(done)](int status, std::string body, std::string error) {
        if (!error.empty())
            return done(error);
        if (status != 200)
            return done(remote_error(status, body).second);
        done(std::nullopt);
    };
}
} // namespace

void HttpSignalingClient::gossip(const std::string& endpoint, const nlohmann::json& envelope,
                                 Done done) {
    http_->request("POST", endpoint + "/gossip", envelope.dump(), as_done(std::move(done)));
}

void HttpSignalingClient::register_at(const std::string& beacon, const nlohmann::json& self,
                                      Done done) {
    http_->request("POST", beacon + "/beacon", self.dump(), as_done(std::move(done)));
}

void HttpSignalingClient::peers_of(const std::string& beacon,
                                   std::function<void(std::optional<nlohmann::json>)> done) {
    http_->request("GET", beacon + "/peers", "",
                   [done](int status, std::string body, std::string error) {
                       if (!error.empty() || status != 200)
                           return done(std::nullopt);
                       auto j = parse_untrusted(body);
                       if (j.is_discarded())
                           return done(std::nullopt);
                       done(std::move(j));
                   });
}

} // namespace f0::api

// PeerLink over a real rtc::PeerConnection: rtc-thread callbacks are posted to the control thread
// through the Clock; the inline handler runs on the rtc thread.
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/links/peer_link.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace f0::mesh {

// With a TURN REST secret, each new link's TURN credentials are made from it then (valid for
// `ttl`), so a worker that runs for months never holds an expired one.
struct TurnRest {
    std::string secret;
    std::string user; // this peer's id
    std::chrono::seconds ttl{24 * 3600};
};

class RtcPeerLinkFactory final : public PeerLinkFactory {
public:
    RtcPeerLinkFactory(Clock& clock, rtc::RtcConfig config, std::optional<TurnRest> rest = {})
        : clock_(clock), config_(std::move(config)), rest_(std::move(rest)) {}
    std::unique_ptr<PeerLink> create(PeerLink::Handlers handlers) override;

private:
    Clock& clock_;
    rtc::RtcConfig config_;
    std::optional<TurnRest> rest_;
};

} // namespace f0::mesh

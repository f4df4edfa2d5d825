// PeerLink over a real rtc::PeerConnection: rtc-thread callbacks are posted to the control thread
// through the Clock; the inline handler runs on the rtc thread.
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/links/peer_link.hpp"

namespace f0::mesh {

class RtcPeerLinkFactory final : public PeerLinkFactory {
public:
    RtcPeerLinkFactory(Clock& clock, rtc::RtcConfig config)
        : clock_(clock), config_(std::move(config)) {}
    std::unique_ptr<PeerLink> create(PeerLink::Handlers handlers) override;

private:
    Clock& clock_;
    rtc::RtcConfig config_;
};

} // namespace f0::mesh

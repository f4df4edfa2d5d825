// Test support: two PeerConnections in one process wired to each other (trickle), on loopback.
#pragma once

#include "rtc/peer_connection.hpp"
#include "support/signal.hpp"

#include <gtest/gtest.h>

namespace f0::test {

struct PcPair {
    std::shared_ptr<rtc::PeerConnection> a, b;
    Signal a_connected, b_connected;

    explicit PcPair(rtc::RtcConfig config = loopback_config()) : PcPair(config, config) {}
    PcPair(rtc::RtcConfig a_config, rtc::RtcConfig b_config) {
        a = rtc::PeerConnection::create(std::move(a_config));
        b = rtc::PeerConnection::create(std::move(b_config));
        wire(a, b);
        wire(b, a);
        a->on_state_change([this](rtc::PeerState s) {
            if (s == rtc::PeerState::Connected)
                a_connected.notify();
        });
        b->on_state_change([this](rtc::PeerState s) {
            if (s == rtc::PeerState::Connected)
                b_connected.notify();
        });
    }

    static rtc::RtcConfig loopback_config() {
        rtc::RtcConfig c;
        c.bind_addresses = {"127.0.0.1"};
        return c;
    }

    // Offer from a, answer from b. Candidates trickle through the handlers.
    void negotiate() {
        auto offer = a->create_offer();
        ASSERT_TRUE(offer) << offer.error().message;
        auto st = b->set_remote_description(offer.value(), rtc::sdp::Type::Offer);
        ASSERT_TRUE(st) << st.error().message;
        auto answer = b->create_answer();
        ASSERT_TRUE(answer) << answer.error().message;
        st = a->set_remote_description(answer.value(), rtc::sdp::Type::Answer);
        ASSERT_TRUE(st) << st.error().message;
    }

private:
    static void wire(const std::shared_ptr<rtc::PeerConnection>& from,
                     const std::shared_ptr<rtc::PeerConnection>& to) {
        std::weak_ptr<rtc::PeerConnection> weak = to;
        from->on_local_candidate([weak](const std::string& c, const std::string&) {
            if (auto pc = weak.lock()) // candidates gathered before the remote side is ready are in
                                       // the SDP
                (void)pc->add_remote_candidate(c);
        });
    }
};

} // namespace f0::test

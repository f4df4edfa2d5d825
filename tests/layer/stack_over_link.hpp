// Test support: one side of DTLS -> datagram mux -> SCTP -> DataChannels stacked on a
// sim::VirtualEndpoint, without ICE, so every layer above ICE is tested over an impaired
// in-process link.
#pragma once

#include "rtc/datachannel/data_channel_registry.hpp"
#include "rtc/datagram/datagram_mux.hpp"
#include "rtc/dtls/dtls_transport.hpp"
#include "rtc/sctp/sctp_association.hpp"
#include "sim/virtual_link.hpp"
#include "support/signal.hpp"

#include <mutex>

namespace f0::test {

struct StackSide {
    std::shared_ptr<sim::VirtualEndpoint> link;
    std::shared_ptr<rtc::dtls::DtlsTransport> dtls;
    std::shared_ptr<rtc::datagram::DatagramMux> mux;
    std::shared_ptr<rtc::sctp::SctpAssociation> sctp;
    // Datagrams from the other side, on the loop thread; set before start().
    std::function<void(std::span<const std::uint8_t>)> on_datagram;
    std::shared_ptr<rtc::datachannel::DataChannelRegistry> channels;
    Signal connected, failed;

    StackSide(std::shared_ptr<rtc::EventLoop> loop, std::shared_ptr<sim::VirtualEndpoint> endpoint,
              bool client, std::shared_ptr<rtc::dtls::Certificate> mine,
              std::shared_ptr<rtc::dtls::Certificate> theirs, rtc::sctp::SctpConfig sc = {})
        : link(std::move(endpoint)) {
        rtc::dtls::DtlsConfig dc{.is_client = client,
                                 .certificate = mine,
                                 .remote_fingerprints = {theirs->fingerprint()}};
        dtls = rtc::dtls::DtlsTransport::create(link, loop, dc);
        mux = rtc::datagram::DatagramMux::create(dtls, [this](std::span<const std::uint8_t> d) {
            if (on_datagram)
                on_datagram(d);
        });
        sctp = rtc::sctp::SctpAssociation::create(mux, loop, sc);
        channels = std::make_shared<rtc::datachannel::DataChannelRegistry>(loop, sc.streams);
        channels->set_dtls_role(client);
        channels->attach(sctp);
        auto ch = channels;
        sctp->on_message([ch](std::uint16_t s, rtc::sctp::Ppid p, std::span<const std::uint8_t> d) {
            ch->handle_message(s, p, d);
        });
        sctp->on_stream_reset([ch](std::uint16_t s) { ch->handle_stream_reset(s); });
        sctp->on_oversize(
            [ch](std::uint16_t s, std::size_t bytes) { ch->handle_oversize(s, bytes); });
        sctp->on_buffered_amount(
            [ch](std::uint16_t s, std::size_t b, std::size_t a) { ch->handle_buffered(s, b, a); });
        sctp->on_state_change([this, ch](rtc::TransportState s) {
            if (s == rtc::TransportState::Connected) {
                ch->association_open();
                connected.notify();
            } else if (s == rtc::TransportState::Failed)
                failed.notify();
        });
    }

    void start(const std::shared_ptr<rtc::EventLoop>& loop) {
        loop->run_sync([&] {
            sctp->start();
            dtls->start();
            link->start();
        });
    }

    void stop(const std::shared_ptr<rtc::EventLoop>& loop) {
        loop->run_sync([&] {
            channels->association_closed();
            sctp->stop();
            dtls->stop();
            link->stop();
        });
    }
};

inline std::shared_ptr<rtc::dtls::Certificate> fresh_certificate() {
    return rtc::dtls::Certificate::generate("test").value();
}

// Two stacks joined by a virtual link with the same impairment both ways.
struct Harness {
    std::shared_ptr<rtc::EventLoop> loop = std::make_shared<rtc::EventLoop>();
    std::shared_ptr<sim::VirtualEndpoint> la, lb;
    std::unique_ptr<test::StackSide> a, b;
    std::mutex mu;
    std::vector<std::shared_ptr<rtc::datachannel::DataChannel>> incoming;
    test::Signal got_channel;

    explicit Harness(sim::Impairment imp, rtc::sctp::SctpConfig sc = {}, std::uint64_t seed = 7) {
        std::tie(la, lb) = sim::VirtualLink::make(loop, imp, imp, seed);
        auto ca = test::fresh_certificate(), cb = test::fresh_certificate();
        a = std::make_unique<test::StackSide>(loop, la, true, ca, cb, sc);
        b = std::make_unique<test::StackSide>(loop, lb, false, cb, ca, sc);
        b->channels->on_data_channel([this](std::shared_ptr<rtc::datachannel::DataChannel> ch) {
            std::lock_guard l(mu);
            incoming.push_back(ch);
            got_channel.notify();
        });
    }
    void start() {
        b->start(loop); // the DTLS server first, so the client's first flight finds it listening
        a->start(loop);
    }
    std::shared_ptr<rtc::datachannel::DataChannel>
    open(const std::string& label, rtc::datachannel::DataChannelInit init = {}) {
        std::shared_ptr<rtc::datachannel::DataChannel> ch;
        loop->run_sync([&] { ch = a->channels->create(label, init).value(); });
        return ch;
    }
    ~Harness() {
        a->stop(loop);
        b->stop(loop);
    }
};

} // namespace f0::test

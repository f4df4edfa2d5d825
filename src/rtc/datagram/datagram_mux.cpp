#include "rtc/datagram/datagram_mux.hpp"

namespace f0::rtc::datagram {

namespace {
struct AtomicCounters {
    std::atomic<std::uint64_t> sent{0}, received{0}, malformed{0}, unhandled{0}, oversize{0};
};
AtomicCounters g_counters;
} // namespace

std::shared_ptr<DatagramMux> DatagramMux::create(std::shared_ptr<Transport> lower,
                                                 DatagramHandler on_datagram) {
    std::shared_ptr<DatagramMux> mux(new DatagramMux(std::move(lower), std::move(on_datagram)));
    std::weak_ptr<DatagramMux> weak = mux;
    mux->lower_->on_receive([weak](std::span<const std::uint8_t> record) {
        if (auto self = weak.lock())
            self->on_lower_receive(record);
    });
    mux->lower_->on_state_change([weak](TransportState s) {
        if (auto self = weak.lock())
            self->change_state(s);
    });
    return mux;
}

void DatagramMux::on_lower_receive(std::span<const std::uint8_t> record) {
    switch (classify(record)) {
    case Kind::Sctp:
        deliver(record);
        return;
    case Kind::Malformed:
        g_counters.malformed.fetch_add(1, std::memory_order_relaxed);
        return;
    case Kind::Datagram:
        if (!on_datagram_) {
            g_counters.unhandled.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        g_counters.received.fetch_add(1, std::memory_order_relaxed);
        on_datagram_(payload(record));
        return;
    }
}

bool DatagramMux::send_datagram(std::span<const std::uint8_t> payload) {
    auto record = frame(payload);
    if (record.empty()) {
        g_counters.oversize.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    if (!lower_->send(record))
        return false;
    g_counters.sent.fetch_add(1, std::memory_order_relaxed);
    return true;
}

DatagramMux::Counters DatagramMux::counters() {
    return {g_counters.sent.load(std::memory_order_relaxed),
            g_counters.received.load(std::memory_order_relaxed),
            g_counters.malformed.load(std::memory_order_relaxed),
            g_counters.unhandled.load(std::memory_order_relaxed),
            g_counters.oversize.load(std::memory_order_relaxed)};
}

} // namespace f0::rtc::datagram

// libFuzzer target: arbitrary bytes on a link's QoS path, either on the qos channel or as a DTLS
// record that the datagram mux looks at first (rtc/datagram/datagram_codec.hpp). The mux must sort
// every record into SCTP's, a datagram, or malformed; the engine must count malformed messages and
// keep going; a probe must get a well-formed echo.
#include "qos/qos_probe.hpp"
#include "rtc/datagram/datagram_codec.hpp"

#include <cstdlib>

namespace {
void feed(f0::qos::QosProbe& engine, std::span<const std::uint8_t> bytes) {
    auto echo = engine.on_message(bytes, 1'000'000'000);
    if (echo) {
        auto m = f0::qos::parse_probe(*echo);
        if (!m || m.value().kind != f0::qos::ProbeKind::Echo)
            std::abort();
    }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace dg = f0::rtc::datagram;
    static f0::qos::QosProbe engine;
    std::span<const std::uint8_t> record{data, size};
    feed(engine, record); // as a qos channel message
    if (dg::classify(record) == dg::Kind::Datagram) {
        auto payload = dg::payload(record);
        if (payload.empty() || payload.size() > dg::kMaxPayload)
            std::abort();
        feed(engine, payload);
        auto again = dg::frame(payload);
        if (again.size() != size || !std::equal(again.begin(), again.end(), data))
            std::abort(); // a datagram is exactly its framing
    }
    (void)engine.take_report(1'000'000'001, 0, 0);
    return 0;
}

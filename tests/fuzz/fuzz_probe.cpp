// libFuzzer target: arbitrary bytes on a link's qos channel. The engine must count malformed
// messages and keep going; a probe must get a well-formed echo.
#include "qos/qos_probe.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static f0::qos::QosProbe engine;
    auto echo = engine.on_message({data, size}, 1'000'000'000);
    if (echo) {
        auto m = f0::qos::parse_probe(*echo);
        if (!m || m.value().kind != f0::qos::ProbeKind::Echo)
            std::abort();
    }
    (void)engine.take_report(1'000'000'001, 0, 0);
    return 0;
}

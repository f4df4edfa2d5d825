// libFuzzer target: DCEP parsing of arbitrary bytes; an OPEN that parses must re-encode to a
// message that parses to the same value.
#include "rtc/datachannel/dcep.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace f0::rtc::datachannel;
    auto m = parse_dcep({data, size});
    if (m && std::holds_alternative<OpenMessage>(m.value())) {
        const auto& open = std::get<OpenMessage>(m.value());
        auto again = parse_dcep(encode(open));
        if (!again || std::get<OpenMessage>(again.value()) != open)
            std::abort();
    }
    return 0;
}

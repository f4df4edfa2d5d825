// libFuzzer target: SDP and candidate parsing of arbitrary bytes must give a value or an error,
// and a parsed description must survive a write/parse round trip.
#include "rtc/sdp/description.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace f0::rtc::sdp;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (auto type : {Type::Offer, Type::Answer}) {
        auto d = Description::parse(text, type);
        if (!d)
            continue;
        auto again = Description::parse(d.value().to_string(), type);
        if (!again)
            std::abort(); // what we write, we must read
    }
    (void)Candidate::parse(text);
    return 0;
}

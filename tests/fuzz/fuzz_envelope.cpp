// libFuzzer target: arbitrary bytes as a JSON envelope. Parsing, canonicalisation and signature
// checks must return values or errors, never crash; JCS output must itself be valid JSON that
// canonicalises to the same bytes.
#include "mesh/identity/jcs.hpp"
#include "mesh/identity/signed_envelope.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace f0::mesh::identity;
    static const Identity id = Identity::generate().value();
    auto j = nlohmann::json::parse(data, data + size, nullptr, false);
    if (j.is_discarded())
        return 0;
    try {
        auto c = canonical_json(j);
        auto again = nlohmann::json::parse(c, nullptr, false);
        if (again.is_discarded() || canonical_json(again) != c)
            std::abort();
    } catch (const std::invalid_argument&) {
        // NaN/Infinity cannot be represented: a clean error.
    }
    auto e = Envelope::from_json(j);
    if (e) {
        (void)e.value().verify(id.public_key());
        auto copy = e.value();
        copy.sign(id);
        if (!copy.verify(id.public_key()))
            std::abort();
    }
    return 0;
}

// libFuzzer target: arbitrary bytes as a JSON envelope, and as a delegation and a revocation
// (issue 17). Parsing, canonicalisation and signature checks must return values or errors, never
// crash; JCS output must itself be valid JSON that canonicalises to the same bytes; what parses
// must survive its own round trip.
#include "mesh/identity/delegation.hpp"
#include "mesh/identity/jcs.hpp"
#include "mesh/identity/signed_envelope.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace f0::mesh::identity;
    static const Identity id = Identity::generate().value();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto d = Delegation::parse(text)) {
        static const RevocationSet none;
        (void)verify_delegation(d.value(), d.value().peer, d.value().peer_key, 0, 0, none);
        auto again = Delegation::from_json(d.value().to_json());
        if (!again || again.value().signing_input() != d.value().signing_input())
            std::abort();
    }
    if (auto r = Revocation::parse(text)) {
        (void)r.value().verify();
        RevocationSet set(1);
        (void)set.add(r.value(), r.value().peer_key);
    }
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

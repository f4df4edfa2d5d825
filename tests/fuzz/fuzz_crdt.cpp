// libFuzzer target: arbitrary bytes into every CRDT decoder. Each must return a value or an
// error, never crash; what decodes must apply (or load) without breaking the document's
// invariants, and re-encode to something that decodes to the same thing.
#include "crdt/codec.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace f0::crdt;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto t = codec::decode_text(in)) {
        TextRga doc(1), loaded(2);
        (void)doc.insert(0, "seed");
        if (doc.apply(t.value())) {
            auto again = codec::decode_text(codec::encode(doc.state()));
            if (!again)
                std::abort();
            TextRga copy(3);
            if (!copy.load(again.value()) || copy.text() != doc.text())
                std::abort();
        }
        (void)loaded.load(t.value());
        (void)loaded.erase(0, loaded.size());
    }
    if (auto l = codec::decode_list(in)) {
        Rga<std::string> doc(1);
        (void)doc.apply(l.value());
        (void)doc.values();
    }
    if (auto s = codec::decode_lww(in)) {
        auto again = codec::decode_lww(codec::encode(s.value()));
        if (!again || !(again.value() == s.value()))
            std::abort();
    }
    (void)codec::decode_hlc(in);
    return 0;
}

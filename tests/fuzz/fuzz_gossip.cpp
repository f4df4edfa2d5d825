// libFuzzer target: arbitrary bytes as a gossip frame from a peer, into a real GossipEngine (with
// a known origin key). Parsing, id and signature checks, dedup, rate limiting and digests must
// return verdicts, never crash; a frame that parses must round-trip through to_json.
// Bytes that are JSON are also a link-state payload (mesh/links, gossip/link_state.hpp) into a
// LinkStateBook: refused or stored, and what is stored must publish again as it came.
#include "mesh/gossip/gossip_engine.hpp"
#include "mesh/gossip/link_state.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace f0::mesh::gossip;
    using f0::mesh::identity::Identity;
    static const Identity self = Identity::generate().value();
    static const Identity origin = Identity::generate().value();
    static TrustBook trust;
    static GossipEngine engine = [] {
        GossipEngine::Hooks h;
        h.candidates = [] {
            return std::vector<GossipEngine::Candidate>{{"a", true}, {"b", true}, {"c", false}};
        };
        h.send = [](const std::string&, const std::string& frame, Route) {
            if (!parse_frame(frame, {}))
                std::abort(); // we only ever send frames we can parse
            return Via::Link;
        };
        h.key_of = [](const std::string& id) -> std::optional<f0::mesh::identity::PublicKey> {
            if (id == "a")
                return origin.public_key();
            return std::nullopt;
        };
        return GossipEngine("self", self, {}, trust, h, 1);
    }();
    static std::int64_t now = 1'760'000'000'000;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto f = parse_frame(text, {});
    if (f && f.value().type == Frame::Type::Msg) {
        auto again = parse_frame(f.value().msg.to_json().dump(), {});
        if (!again || again.value().msg.id != f.value().msg.id)
            std::abort();
    }
    (void)engine.on_frame(size % 2 ? "a" : "b", text, now);
    static LinkStateBook book("self", {.max_senders = 8, .expire_ms = 1000, .max_entries = 300});
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) {
        GossipMessage m;
        m.origin = size % 3 ? "a" : "b";
        m.topic = std::string(LinkStateBook::kTopic);
        m.ts_ms = now;
        m.payload = j;
        auto parsed = LinkStateBook::parse(j);
        auto take = book.on_message(m, now);
        if (parsed && take == LinkStateBook::Take::Invalid && parsed.value().size() <= 300)
            std::abort(); // a valid summary that fits is never refused
        if (parsed && !LinkStateBook::parse(LinkStateBook::payload(parsed.value(), 15000)))
            std::abort();
        book.expire(now);
        (void)book.graph_json(now, nullptr);
    }
    now += 10;
    if (size % 7 == 0)
        engine.heartbeat(now);
    // A genuine message now and then, so duplicates and iwant find something.
    if (size % 13 == 0) {
        std::string hex;
        for (std::size_t i = 0; i < std::min<std::size_t>(size, 32); ++i)
            hex += "0123456789abcdef"[data[i] & 15];
        auto m = GossipMessage::make(origin, "a", "t", hex, now, size);
        m.hops = 1;
        (void)engine.on_frame("b", m.to_json().dump(), now);
        // Raw bytes as a payload: an error if they are not UTF-8, never an exception.
        (void)engine.publish("t", std::string(text.substr(0, 64)), now);
    }
    return 0;
}

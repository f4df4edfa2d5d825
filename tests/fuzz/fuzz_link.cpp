// libFuzzer target: bytes a linked peer sends, through the real handlers of a real mesh::Node
// (LinkTable, Replication's control messages, the gossip bridge, the QoS echo), over the
// in-process links of tests/sim. Input: one byte choosing the channel (control, gossip, qos),
// then the message. The receiving node must neither crash nor throw, and must keep its link.
#include "sim_net.hpp"

#include <cstdlib>

namespace {
struct World {
    f0::simtest::SimMesh m{1};
    World() {
        setenv("F0_LOG_LEVEL", "error", 0);
        m.add("a");
        m.add("b");
        m.introduce("a", "b");
        m.node("a").signaling().dial("b", [](f0::mesh::Outcome) {});
        m.run_for_ms(2'000);
        auto* l = m.node("b").links().find("a");
        if (!l || l->state != f0::mesh::LinkState::Open)
            std::abort();
        m.node("b").on_event([](const nlohmann::json& ev) { (void)ev.dump(); });
    }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World w;
    if (size == 0)
        return 0;
    static const char* labels[] = {"control", "gossip", "qos"};
    std::string label = labels[data[0] % 3];
    std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    (void)w.m.node("a").links().send("b", label, bytes);
    w.m.run_for_ms(50);
    (void)w.m.node("b").links().to_json().dump();
    auto* l = w.m.node("b").links().find("a");
    if (!l || l->state != f0::mesh::LinkState::Open)
        std::abort(); // one bad message must not cost the link
    return 0;
}

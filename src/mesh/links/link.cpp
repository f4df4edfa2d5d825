// Link helpers: channel set, readiness, JSON view.
#include "mesh/links/link.hpp"

namespace f0::mesh {

std::string_view to_string(LinkState s) {
    switch (s) {
    case LinkState::Dialing:
        return "dialing";
    case LinkState::Connecting:
        return "connecting";
    case LinkState::Open:
        return "open";
    case LinkState::Failed:
        return "failed";
    case LinkState::Closed:
        return "closed";
    }
    return "?";
}

const std::vector<ChannelSpec>& link_channels() {
    static const std::vector<ChannelSpec> specs{
        {"control", {}},
        {"gossip", {}},
        {kQosLabel, {.ordered = false, .max_retransmits = 0}},
    };
    return specs;
}

nlohmann::json qos_json(const store::QosSample& q) {
    auto opt = [](const std::optional<double>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    return {{"ts", q.ts_ms},
            {"rttMs", opt(q.rtt_ms)},
            {"jitterMs", q.jitter_ms},
            {"lossPct", q.loss_pct},
            {"txKbps", q.tx_kbps},
            {"rxKbps", q.rx_kbps},
            {"bitrateKbps", q.tx_kbps + q.rx_kbps},
            {"sctpRttMs", opt(q.sctp_rtt_ms)},
            {"probes", q.probes},
            {"health", q.health}};
}

bool Link::all_channels_open() const {
    for (const auto& spec : link_channels())
        if (!open_channels.count(spec.label))
            return false;
    return true;
}

nlohmann::json Link::to_json() const {
    nlohmann::json j{{"peer", peer},
                     {"state", std::string(to_string(state))},
                     {"role", role},
                     {"desired", desired},
                     {"createdMs", created_ms},
                     {"attempts", attempts}};
    j["openedMs"] = opened_ms ? nlohmann::json(*opened_ms) : nlohmann::json(nullptr);
    j["closedMs"] = closed_ms ? nlohmann::json(*closed_ms) : nlohmann::json(nullptr);
    if (!last_error.empty())
        j["lastError"] = last_error;
    if (!closed_by.empty())
        j["closedBy"] = closed_by;
    if (!instance.empty())
        j["instance"] = instance;
    // The capped backoff (--redial-min-ms doubling up to --redial-max-ms), made visible.
    j["nextRedialMs"] = next_redial_ms ? nlohmann::json(*next_redial_ms) : nlohmann::json(nullptr);
    nlohmann::json chans = nlohmann::json::object();
    if (pc)
        for (const auto& ch : pc->channels())
            chans[ch.label] = {{"open", ch.open},
                               {"id", ch.id ? nlohmann::json(*ch.id) : nlohmann::json(nullptr)},
                               {"bytesSent", ch.bytes_sent},
                               {"bytesReceived", ch.bytes_received}};
    j["channels"] = chans;
    j["iceRestarts"] = ice_restarts;
    if (pc) // both sides offered datagrams: the peer is an f0mesh stack (probes, watchdog)
        j["datagrams"] = pc->datagrams();
    if (path)
        j["path"] = {{"localType", path->local_type},
                     {"remoteType", path->remote_type},
                     {"local", path->local_address},
                     {"remote", path->remote_address},
                     {"protocol", path->protocol},
                     {"relay", path->relay()},
                     {"relayProtocol", path->relay_protocol.empty()
                                           ? nlohmann::json(nullptr)
                                           : nlohmann::json(path->relay_protocol)}};
    else
        j["path"] = nullptr;
    j["qos"] = last_qos ? qos_json(*last_qos) : nlohmann::json(nullptr);
    j["health"] = last_qos ? last_qos->health : "unknown";
    j["probing"] = qos_calm ? "calm" : "fast"; // QosSampler's adaptive probing
    return j;
}

} // namespace f0::mesh

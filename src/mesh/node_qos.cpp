// Node, QoS part: probes on every open link's qos channel, one sample per interval (stored,
// shown in /links and /metrics, pushed on /events), and the history API.
#include "mesh/node.hpp"

#include "util/log.hpp"

namespace f0::mesh {

namespace {
auto logger() {
    static auto l = log::get("mesh.qos");
    return l;
}
} // namespace

void Node::rearm(boost::asio::steady_timer& timer, std::chrono::milliseconds delay,
                 void (Node::*tick)()) {
    timer.expires_after(delay);
    timer.async_wait([weak = weak_from_this(), tick](const boost::system::error_code& ec) {
        if (auto n = weak.lock(); n && !ec)
            ((*n).*tick)();
    });
}

void Node::probe_tick() {
    if (stopped_)
        return;
    auto now = steady_us();
    for (auto& [peer, link] : links_) {
        if (link.state != LinkState::Open)
            continue;
        auto it = link.channels.find("qos");
        if (it != link.channels.end())
            (void)it->second->send(link.qos->make_probe(now));
    }
    rearm(*probe_timer_, config_.qos_probe_interval, &Node::probe_tick);
}

void Node::qos_tick() {
    if (stopped_)
        return;
    auto now = steady_us();
    for (auto& [peer, link] : links_) {
        if (link.state != LinkState::Open)
            continue;
        auto [tx, rx] = link.pc->wire_bytes();
        auto r = link.qos->take_report(now, tx, rx);
        store::QosSample q;
        q.peer = peer;
        q.ts_ms = unix_ms();
        q.rtt_ms = r.rtt_ms;
        q.jitter_ms = r.jitter_ms;
        q.loss_pct = r.loss_pct;
        q.tx_kbps = r.tx_kbps;
        q.rx_kbps = r.rx_kbps;
        q.probes = static_cast<std::int64_t>(r.probes_expected);
        if (auto srtt = link.pc->stats().sctp_rtt)
            q.sctp_rtt_ms = static_cast<double>(srtt->count());
        // No echo in a whole interval is 100 % loss both ways, whatever the inbound count says.
        double loss = r.echoes == 0 && r.probes_sent > 0 ? 100.0 : r.loss_pct;
        q.health = std::string(qos::to_string(qos::grade(r.rtt_ms, loss, config_.health)));
        link.last_qos = q;
        if (q.rtt_ms)
            trust_.on_qos(peer, *q.rtt_ms, loss);
        else if (loss >= 100)
            trust_.on_qos(peer, config_.trust.rtt_bad_ms, loss);
        if (auto st = store_->add_qos(q); !st)
            F0_LOG_WARN(logger(), "cannot store QoS of {}: {}", peer, st.error().message);
        auto ev = qos_json(q);
        ev["peer"] = peer;
        emit("qos", std::move(ev));
    }
    if (++qos_ticks_ % 64 == 1) {
        auto cutoff =
            unix_ms() -
            std::chrono::duration_cast<std::chrono::milliseconds>(config_.qos_retention).count();
        (void)store_->prune_qos(cutoff, config_.qos_max_samples);
    }
    rearm(*qos_timer_, config_.qos_interval, &Node::qos_tick);
}

Outcome Node::qos_history(const std::string& peer, std::int64_t since_ms, std::int64_t limit) {
    if (!peers_.find(peer) && !links_.count(peer))
        return ApiError{404, "unknown_peer", "no peer or link '" + peer + "'"};
    auto rows = store_->qos_history(peer, since_ms, std::clamp<std::int64_t>(limit, 1, 10000));
    if (!rows)
        return ApiError{500, "store", rows.error().message};
    auto out = nlohmann::json::array();
    for (const auto& q : rows.value())
        out.push_back(qos_json(q));
    return out;
}

} // namespace f0::mesh

#include "mesh/qos_sampler.hpp"

#include "util/log.hpp"

namespace f0::mesh {

namespace {
const auto& qos_log() {
    static const auto& l = log::forever("mesh.qos");
    return l;
}
} // namespace

QosSampler::QosSampler(Clock& clock, LinkTable& links, store::MeshStore& store, Options options,
                       Notify notify)
    : clock_(clock), links_(links), store_(store), opt_(std::move(options)),
      notify_(std::move(notify)) {}

QosSampler::Options QosSampler::options_of(const WorkerConfig& c) {
    using std::chrono::duration_cast, std::chrono::milliseconds;
    return {c.qos_probe_interval,
            duration_cast<milliseconds>(c.qos_interval),
            c.health,
            duration_cast<milliseconds>(c.qos_retention),
            c.qos_max_samples,
            c.qos_idle_probe_every(),
            c.qos_idle_kbps};
}

void QosSampler::start() {
    next_probe_us_ = clock_.steady_us();
    probe_tick();
    sample_timer_ = clock_.after(opt_.interval, [this] { sample_tick(); });
}

void QosSampler::stop() {
    probe_timer_.cancel();
    sample_timer_.cancel();
}

void QosSampler::probe_tick() {
    auto now = clock_.steady_us();
    auto idle_us = static_cast<std::int64_t>(opt_.idle_probe_interval.count()) * 1000;
    links_.each_open([&](const std::string& peer, Link& link) {
        if (link.qos_calm) {
            auto rtt = link.last_qos && link.last_qos->rtt_ms ? *link.last_qos->rtt_ms : 0.0;
            auto timeout_us =
                std::max<std::int64_t>(300'000, static_cast<std::int64_t>(rtt * 3000));
            if (link.qos->echo_overdue(now, timeout_us)) {
                link.qos_calm = false; // measure it, and let the watchdog see a silence
                link.qos_grace_until_ms = clock_.unix_ms() + 1000;
                ++counters_.overdue;
                ++counters_.to_fast;
                F0_LOG_DEBUG(qos_log(), "{}: an echo is overdue, probing fast", peer);
            } else if (now < link.qos_next_probe_us) {
                return;
            } else {
                link.qos_next_probe_us = now + idle_us;
            }
        }
        auto probe = link.qos->make_probe(now);
        if (!link.pc->send_datagram(probe))
            (void)link.pc->send(kQosLabel,
                                {reinterpret_cast<const char*>(probe.data()), probe.size()}, true);
    });
    // A fixed rate, not "interval after the last tick ran": a busy control thread delays a
    // probe, not every probe after it. Fallen behind by more than an interval, skip ahead.
    auto interval_us = static_cast<std::int64_t>(opt_.probe_interval.count()) * 1000;
    next_probe_us_ = std::max(next_probe_us_ + interval_us, now);
    auto delay = std::chrono::milliseconds((next_probe_us_ - clock_.steady_us() + 999) / 1000);
    probe_timer_ =
        clock_.after(std::max(delay, std::chrono::milliseconds(0)), [this] { probe_tick(); });
}

void QosSampler::sample_tick() {
    auto now = clock_.steady_us();
    std::vector<std::string> open = links_.open_peers();
    for (const auto& peer : open) {
        Link* link = links_.find(peer);
        auto [tx, rx] = link->pc->wire_bytes();
        auto r = link->qos->take_report(now, tx, rx);
        store::QosSample q;
        q.peer = peer;
        q.ts_ms = clock_.unix_ms();
        q.rtt_ms = r.rtt_ms;
        q.jitter_ms = r.jitter_ms;
        q.loss_pct = r.loss_pct;
        q.tx_kbps = r.tx_kbps;
        q.rx_kbps = r.rx_kbps;
        q.probes = static_cast<std::int64_t>(r.probes_expected);
        q.sctp_rtt_ms = link->pc->sctp_rtt_ms();
        if (auto path = link->pc->path())
            link->path = std::move(path); // it can change (a pair nominated later, a restart)
        // No echo in a whole interval is 100 % loss both ways, whatever the inbound count says.
        double loss = r.echoes == 0 && r.probes_sent > 0 ? 100.0 : r.loss_pct;
        q.health = std::string(qos::to_string(qos::grade(r.rtt_ms, loss, opt_.health)));
        link->last_qos = q;
        // Calm (probed seldom) while idle and healthy with every probe answered.
        bool calm = opt_.idle_probe_interval.count() > 0 && q.health == "good" && loss == 0 &&
                    r.echoes > 0 && r.echoes + 1 >= r.probes_sent &&
                    q.tx_kbps + q.rx_kbps < opt_.idle_kbps;
        if (calm != link->qos_calm) {
            ++(calm ? counters_.to_calm : counters_.to_fast);
            link->qos_calm = calm;
            link->qos_next_probe_us = now + opt_.idle_probe_interval.count() * 1000;
        }
        if (auto st = store_.add_qos(q); !st)
            F0_LOG_WARN(qos_log(), "cannot store QoS of {}: {}", peer, st.error().message);
        if (notify_) {
            auto ev = qos_json(q);
            ev["peer"] = peer;
            notify_("qos", std::move(ev));
        }
        sampled(peer, q, loss);
    }
    if (++ticks_ % 64 == 1)
        (void)store_.prune_qos(clock_.unix_ms() - opt_.retention.count(), opt_.max_samples);
    round_done();
    sample_timer_ = clock_.after(opt_.interval, [this] { sample_tick(); });
}

Outcome QosSampler::history(const std::string& peer, std::int64_t since_ms, std::int64_t limit) {
    if (is_known && !is_known(peer))
        return Error{Errc::UnknownPeer, "no peer or link '" + peer + "'", {}};
    auto rows = store_.qos_history(peer, since_ms, std::clamp<std::int64_t>(limit, 1, 10000));
    if (!rows)
        return Error{Errc::Store, rows.error().message, {}};
    auto out = nlohmann::json::array();
    for (const auto& q : rows.value())
        out.push_back(qos_json(q));
    return out;
}

} // namespace f0::mesh

// QosSampler: probes on every open link's qos channel (echoed on the transport thread, see
// LinkTable), one sample per interval per link: stored (bounded retention), kept as the link's
// last_qos, raised as `sampled`, and the history API.
//
// Adaptive probing (issue 18): one timer for all links, every probe interval (200 ms). A link whose
// last sample was good, lossless, with every probe answered and under idle_kbps of traffic is
// "calm": probed every idle_probe_interval (2 s) instead. It is fast again at the next sample
// that is not so, and at once when an echo is overdue (no echo for max(300 ms, 3 RTT) after a
// probe): loss and a dying peer are then measured and noticed at the full rate.
#pragma once

#include "mesh/core/clock.hpp"
#include "mesh/core/errors.hpp"
#include "mesh/core/events.hpp"
#include "mesh/links/link_table.hpp"
#include "mesh/worker_config.hpp"
#include "qos/health.hpp"
#include "store/mesh_store.hpp"

namespace f0::mesh {

class QosSampler {
public:
    struct Options {
        std::chrono::milliseconds probe_interval{200};
        std::chrono::milliseconds interval{15'000};
        qos::HealthThresholds health;
        std::chrono::milliseconds retention{24 * 3600 * 1000};
        std::int64_t max_samples = 5760;                  // per link
        std::chrono::milliseconds idle_probe_interval{0}; // 0: every link probed at full rate
        double idle_kbps = 128;
    };
    struct Counters {
        std::uint64_t to_calm = 0, to_fast = 0, overdue = 0; // mode changes; overdue echoes
    };
    using Notify = std::function<void(const std::string& type, nlohmann::json data)>;

    QosSampler(Clock& clock, LinkTable& links, store::MeshStore& store, Options options,
               Notify notify);

    static Options options_of(const WorkerConfig& c);

    // peer, sample, loss as graded (100 when no echo came back in a whole interval).
    Event<const std::string&, const store::QosSample&, double> sampled;
    Event<> round_done; // after every open link's sample of this interval

    void start();
    void stop();
    std::function<bool(const std::string& peer)> is_known; // history of others: UnknownPeer
    Outcome history(const std::string& peer, std::int64_t since_ms, std::int64_t limit);
    const Counters& counters() const { return counters_; }

private:
    void probe_tick();
    void sample_tick();

    Clock& clock_;
    LinkTable& links_;
    store::MeshStore& store_;
    Options opt_;
    Notify notify_;
    Timer probe_timer_, sample_timer_;
    std::uint64_t ticks_ = 0;
    std::int64_t next_probe_us_ = 0; // when the current probe tick was due
    Counters counters_;
};

} // namespace f0::mesh

// QosSampler: probes on every open link's qos channel (echoed on the transport thread, see
// LinkTable), one sample per interval per link: stored (bounded retention), kept as the link's
// last_qos, raised as `sampled`, and the history API.
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
        std::int64_t max_samples = 5760; // per link
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
};

} // namespace f0::mesh

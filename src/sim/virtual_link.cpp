// Each sent packet is impaired under the sender's lock, then scheduled on the loop for delivery.
#include "sim/virtual_link.hpp"

namespace f0::sim {

VirtualEndpoint::VirtualEndpoint(std::shared_ptr<rtc::EventLoop> loop, Impairment outgoing,
                                 std::uint64_t seed)
    : loop_(std::move(loop)), out_(outgoing), rng_(seed) {}

void VirtualEndpoint::set_impairment(const Impairment& i) {
    std::lock_guard lock(mu_);
    out_ = i;
}

LinkCounters VirtualEndpoint::counters() const {
    std::lock_guard lock(mu_);
    return counters_;
}

std::vector<std::int64_t> VirtualEndpoint::delivered_delays_us() const {
    std::lock_guard lock(mu_);
    return delays_us_;
}

bool VirtualEndpoint::send(std::span<const std::uint8_t> packet) {
    using namespace std::chrono;
    if (state() != rtc::TransportState::Connected)
        return false;
    std::vector<microseconds> deliveries;
    {
        std::lock_guard lock(mu_);
        ++counters_.sent;
        counters_.bytes += packet.size();
        std::uniform_real_distribution<double> u(0, 1);
        if (u(rng_) < out_.loss) {
            ++counters_.dropped;
            return true; // lost on the wire, not refused
        }
        auto now = steady_clock::now();
        microseconds queueing{0};
        if (out_.rate_bps) {
            auto start = std::max(now, link_free_);
            auto backlog = duration_cast<microseconds>(start - now);
            auto backlog_bytes = static_cast<std::size_t>(backlog.count() * out_.rate_bps / 8e6);
            if (backlog_bytes + packet.size() > out_.queue_limit_bytes) {
                ++counters_.dropped;
                return true;
            }
            auto tx = microseconds(static_cast<std::int64_t>(packet.size() * 8e6 / out_.rate_bps));
            link_free_ = start + tx;
            queueing = duration_cast<microseconds>(link_free_ - now);
        }
        auto d = out_.delay + queueing;
        if (out_.jitter.count() > 0)
            d += microseconds(
                std::uniform_int_distribution<std::int64_t>(0, out_.jitter.count())(rng_));
        if (u(rng_) < out_.reorder)
            d += out_.reorder_delay;
        deliveries.push_back(d);
        if (u(rng_) < out_.duplicate)
            deliveries.push_back(d + microseconds(100));
        counters_.delivered += deliveries.size();
        delays_us_.push_back(d.count());
    }
    for (auto d : deliveries) {
        auto task = [peer = peer_,
                     data = std::vector<std::uint8_t>(packet.begin(), packet.end())]() mutable {
            if (auto p = peer.lock())
                p->receive(std::move(data));
        };
        auto ms = duration_cast<milliseconds>(d + microseconds(500)); // round to nearest ms
        if (ms.count() == 0)
            loop_->post(std::move(task));
        else
            loop_->call_later(ms, std::move(task));
    }
    return true;
}

void VirtualEndpoint::receive(std::vector<std::uint8_t> packet) {
    if (state() == rtc::TransportState::Connected)
        deliver(packet);
}

std::pair<std::shared_ptr<VirtualEndpoint>, std::shared_ptr<VirtualEndpoint>>
VirtualLink::make(std::shared_ptr<rtc::EventLoop> loop, Impairment a_to_b, Impairment b_to_a,
                  std::uint64_t seed) {
    auto a = std::make_shared<VirtualEndpoint>(loop, a_to_b, seed);
    auto b = std::make_shared<VirtualEndpoint>(loop, b_to_a, seed ^ 0x9e3779b97f4a7c15ULL);
    a->peer_ = b;
    b->peer_ = a;
    return {a, b};
}

} // namespace f0::sim

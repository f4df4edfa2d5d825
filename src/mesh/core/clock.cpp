#include "mesh/core/clock.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace f0::mesh {

RealClock::RealClock(boost::asio::io_context& io) : Clock(std::random_device{}()), io_(io) {}

std::int64_t RealClock::unix_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t RealClock::steady_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void RealClock::post(Fn fn) {
    boost::asio::post(io_, std::move(fn));
}

Clock::Fn RealClock::schedule(std::chrono::milliseconds delay, Fn fn) {
    auto t = std::make_shared<boost::asio::steady_timer>(io_, delay);
    t->async_wait([t, fn = std::move(fn)](const boost::system::error_code& ec) {
        if (!ec)
            fn();
    });
    std::weak_ptr<boost::asio::steady_timer> weak = t;
    return [weak] {
        if (auto timer = weak.lock())
            timer->cancel();
    };
}

} // namespace f0::mesh

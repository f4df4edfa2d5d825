// Logging: spdlog behind one door. One named logger per module ("rtc.dtls", "mesh.gossip").
// The level comes from F0_LOG_LEVEL (trace, debug, info, warn, error, off; default warn).
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace f0::log {

std::shared_ptr<spdlog::logger> get(std::string_view name);
// The same logger, held for the life of the process and never destroyed: for a module's
// `const auto& logger() { static const auto& l = log::forever("..."); return l; }` (a reference:
// a copy would be a shared_ptr temporary in every log statement). Event-loop threads may still log
// while the process exits, after function-local statics have been destroyed. In a target built
// in unity batches (src/mesh) the function is named after its file (`signaling_log()`): files
// batched into one translation unit share their anonymous namespace.
const std::shared_ptr<spdlog::logger>& forever(std::string_view name);
// Changes the level of every logger, those made later included (SIGHUP). False for a name that
// is not trace, debug, info, warn, error or off.
bool set_level(std::string_view level);

// For a line another party can cause at will (a peer's junk, a refused update): one counter per
// log site; next() gives the running count for the 1st to 10th and then every 1,000th time, and
// nothing otherwise, so a flood costs a few lines, not one per message.
class Sampled {
public:
    std::optional<std::uint64_t> next() {
        auto n = ++n_;
        if (n <= 10 || n % 1000 == 0)
            return n;
        return std::nullopt;
    }

private:
    std::atomic<std::uint64_t> n_{0};
};

} // namespace f0::log

#define F0_LOG_TRACE(logger, ...) SPDLOG_LOGGER_TRACE(logger, __VA_ARGS__)
#define F0_LOG_DEBUG(logger, ...) (logger)->debug(__VA_ARGS__)
#define F0_LOG_INFO(logger, ...) (logger)->info(__VA_ARGS__)
#define F0_LOG_WARN(logger, ...) (logger)->warn(__VA_ARGS__)
#define F0_LOG_ERROR(logger, ...) (logger)->error(__VA_ARGS__)

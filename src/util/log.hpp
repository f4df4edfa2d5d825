// Logging: spdlog behind one door. One named logger per module ("rtc.dtls", "mesh.gossip").
// The level comes from F0_LOG_LEVEL (trace, debug, info, warn, error, off; default warn).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace f0::log {

std::shared_ptr<spdlog::logger> get(std::string_view name);
// The same logger, held for the life of the process and never destroyed: for a module's
// `static const auto& l = log::forever("...")`. Event-loop threads may still log while the
// process exits, after function-local statics have been destroyed.
const std::shared_ptr<spdlog::logger>& forever(std::string_view name);

} // namespace f0::log

#define F0_LOG_TRACE(logger, ...) SPDLOG_LOGGER_TRACE(logger, __VA_ARGS__)
#define F0_LOG_DEBUG(logger, ...) (logger)->debug(__VA_ARGS__)
#define F0_LOG_INFO(logger, ...) (logger)->info(__VA_ARGS__)
#define F0_LOG_WARN(logger, ...) (logger)->warn(__VA_ARGS__)
#define F0_LOG_ERROR(logger, ...) (logger)->error(__VA_ARGS__)

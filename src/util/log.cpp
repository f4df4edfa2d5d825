// Named loggers writing to stderr, created on first use.
#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace f0::log {

namespace {
spdlog::level::level_enum level_from_env() {
    const char* v = std::getenv("F0_LOG_LEVEL");
    if (!v)
        return spdlog::level::warn;
    return spdlog::level::from_str(v);
}
} // namespace

std::shared_ptr<spdlog::logger> get(std::string_view name) {
    static std::mutex mu;
    static const auto level = level_from_env();
    std::lock_guard lock(mu);
    std::string n(name);
    if (auto existing = spdlog::get(n))
        return existing;
    auto logger = spdlog::stderr_color_mt(n);
    logger->set_level(level);
    logger->set_pattern("[%H:%M:%S.%f] [%n] [%l] %v");
    return logger;
}

const std::shared_ptr<spdlog::logger>& forever(std::string_view name) {
    return *new std::shared_ptr<spdlog::logger>(get(name)); // deliberately never freed
}

} // namespace f0::log

// Named loggers writing to stderr, created on first use.
#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <mutex>

namespace f0::log {

namespace {
spdlog::level::level_enum level_from_env() {
    const char* v = std::getenv("F0_LOG_LEVEL");
    if (!v)
        return spdlog::level::warn;
    return spdlog::level::from_str(v);
}
std::mutex g_mu;
std::atomic<int> g_level{-1}; // -1: not read from the environment yet
} // namespace

bool set_level(std::string_view name) {
    static constexpr std::string_view names[] = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(std::begin(names), std::end(names), name) == std::end(names))
        return false;
    auto level = spdlog::level::from_str(std::string(name));
    std::lock_guard lock(g_mu);
    g_level = level;
    spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
    return true;
}

std::shared_ptr<spdlog::logger> get(std::string_view name) {
    std::lock_guard lock(g_mu);
    if (g_level < 0)
        g_level = level_from_env();
    auto level = static_cast<spdlog::level::level_enum>(g_level.load());
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

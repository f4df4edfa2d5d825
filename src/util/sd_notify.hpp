// systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram to $NOTIFY_SOCKET.
// Outside systemd (no NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace f0::util {

// Sends e.g. "READY=1", "STOPPING=1", "WATCHDOG=1", "RELOADING=1", "STATUS=..."; false when
// there is no socket or the send failed.
bool sd_notify(std::string_view state);
// How often to send WATCHDOG=1: half of $WATCHDOG_USEC when the watchdog is on for this process.
std::optional<std::chrono::microseconds> sd_watchdog_interval();

} // namespace f0::util

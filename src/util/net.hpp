// What the host's network interfaces hold, for checks at startup.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace f0::util {

// The canonical text of an IPv4 or IPv6 address literal (no port, brackets or zone), as
// interface_addresses() writes it; nullopt when `s` is not one.
std::optional<std::string> canonical_ip(const std::string& s);
// Whether a UDP socket can be bound to this address literal (port 0, closed at once; nothing is
// sent): the kernel's own answer to "is it an address of this host" (127.0.0.3 is, on lo's /8).
bool can_bind_udp(const std::string& address);
// The IPv4 and IPv6 addresses of the host's interfaces that are up, as text
// ("127.0.0.1", "::1", ...); empty when they cannot be listed.
std::vector<std::string> interface_addresses();

} // namespace f0::util

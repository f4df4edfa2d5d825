// "prefix" + std::to_string(n), without std::string's operator+: once inlined at -O2/-O3, GCC 12
// reports a false -Wrestrict on `"literal" + std::to_string(n)` (a known GCC 12 false positive),
// which -Werror makes a failed Release build.
#pragma once

#include <string>
#include <string_view>

namespace f0::util {

inline std::string numbered(std::string_view prefix, long long n) {
    std::string out(prefix);
    out += std::to_string(n);
    return out;
}

} // namespace f0::util

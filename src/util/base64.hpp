// Standard base64 (RFC 4648 section 4, with padding). Decoding is strict: bad input is an error.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace f0 {

std::string base64_encode(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> base64_decode(std::string_view text);

} // namespace f0

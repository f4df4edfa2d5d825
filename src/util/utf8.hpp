// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF), for bytes from
// outside that are about to become JSON text.
#pragma once

#include <string_view>

namespace f0 {

bool valid_utf8(std::string_view s);

} // namespace f0

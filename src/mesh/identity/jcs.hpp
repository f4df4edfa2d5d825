// RFC 8785 JSON Canonicalization Scheme: the exact bytes a signature covers. Object members sorted
// by their UTF-16 code units, no whitespace, strings with minimal escaping, numbers in ECMAScript
// form. Any JSON implementation can reproduce it, so a browser can sign what a worker verifies.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace f0::mesh::identity {

std::string canonical_json(const nlohmann::json& value);

} // namespace f0::mesh::identity

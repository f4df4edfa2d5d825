// GET /metrics: the worker's counters and gauges in Prometheus text format 0.0.4.
#pragma once

#include "mesh/node.hpp"

#include <string>

namespace f0::api {

std::string metrics_text(const mesh::Node& node);
// A label value with \, " and newline escaped, as the text format requires.
std::string label_value(std::string_view v);

} // namespace f0::api

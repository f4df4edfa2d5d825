// Every option of `f0mesh worker` in one table: flag, F0_ environment name (derived from the flag),
// default (the WorkerConfig field's initial value), unit and help. The CLI, the environment, the
// --config file and `--help` all come from it. Precedence: flag > environment > file > default.
#pragma once

#include "mesh/worker_config.hpp"
#include "util/result.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace f0::cli {

struct WorkerOptions {
    mesh::WorkerConfig cfg;
    std::string config_file, geo, log_level = "info";
};

struct OptionInfo {
    std::string flag, env, help;
};

// Registers every worker option on cmd, bound to o; returns the table.
std::vector<OptionInfo> add_worker_options(CLI::App& cmd, WorkerOptions& o);
// 'key = value' lines (keys named like the long options) for options not set otherwise.
Status apply_config_file(CLI::App& cmd, const std::string& path);
// The value of one key in the config file (its last 'key = value' line), or nullopt.
std::optional<std::string> config_file_value(const std::string& path, const std::string& key);
// What needs more than one option to know: --geo into lat/lon.
Status finish_worker_options(WorkerOptions& o);

} // namespace f0::cli

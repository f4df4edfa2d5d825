// Subcommands of the f0mesh CLI. Each registers its options on CLI11 and returns a runner.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

namespace f0::cli {

using Runner = std::function<int()>;

Runner add_worker_command(CLI::App& app);
Runner add_keygen_command(CLI::App& app);
Runner add_delegate_command(CLI::App& app); // issue 17: delegations and revocations
Runner add_client_commands(CLI::App& app);  // dial, links, peers, health
Runner add_demo_command(CLI::App& app);

// Runs one HTTP request against a worker and prints the JSON answer; returns an exit code.
// `token`: the operator's bearer token (empty: none sent).
int call_worker(const std::string& method, const std::string& url, const std::string& body,
                const std::string& token = "");
// The body of a 2xx answer, or nullopt (unreachable or an error status).
std::optional<std::string> fetch_worker(const std::string& method, const std::string& url,
                                        const std::string& body, const std::string& token = "");

} // namespace f0::cli

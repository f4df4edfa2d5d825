// f0mesh dial|links|peers|health: talk to a running worker's API.
#include "api/http_client.hpp"
#include "cli/commands.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace f0::cli {

namespace {
api::HttpClient::Headers auth(const std::string& token) {
    if (token.empty())
        return {};
    return {{"Authorization", "Bearer " + token}};
}
} // namespace

int call_worker(const std::string& method, const std::string& url, const std::string& body,
                const std::string& token) {
    boost::asio::io_context io;
    auto client = std::make_shared<api::HttpClient>(
        io, api::ClientConfig{.timeout = std::chrono::seconds(20)});
    int rc = 1;
    client->request(
        method, url, body, auth(token), [&](int status, std::string text, std::string error) {
            if (!error.empty()) {
                std::cerr << "f0mesh: cannot reach " << url << ": " << error << "\n";
                return;
            }
            auto j = nlohmann::json::parse(text, nullptr, false);
            std::cout << (j.is_discarded() ? text : j.dump(2)) << "\n";
            rc = status >= 200 && status < 300 ? 0 : 1;
            if (rc)
                std::cerr
                    << "f0mesh: the worker answered " << status
                    << (status == 401 || status == 403
                            ? " (operator routes need --token-file, e.g. DATA_DIR/operator.token)"
                            : "")
                    << "\n";
        });
    io.run();
    return rc;
}

std::optional<std::string> fetch_worker(const std::string& method, const std::string& url,
                                        const std::string& body, const std::string& token) {
    boost::asio::io_context io;
    auto client = std::make_shared<api::HttpClient>(
        io, api::ClientConfig{.timeout = std::chrono::seconds(20)});
    std::optional<std::string> out;
    client->request(method, url, body, auth(token),
                    [&](int status, std::string text, std::string error) {
                        if (error.empty() && status >= 200 && status < 300)
                            out = std::move(text);
                    });
    io.run();
    return out;
}

namespace {
// One GET with a short bound (a health probe must not hang): 0 on a 2xx answer, else 1 with why.
int check_health(const std::string& url) {
    boost::asio::io_context io;
    auto client = std::make_shared<api::HttpClient>(
        io, api::ClientConfig{.timeout = std::chrono::seconds(5)});
    int rc = 1;
    client->request("GET", url, "", [&](int status, std::string text, std::string error) {
        if (!error.empty())
            std::cerr << "f0mesh health: cannot reach " << url << ": " << error << "\n";
        else if (status < 200 || status >= 300)
            std::cerr << "f0mesh health: " << url << " answered " << status << "\n";
        else {
            std::cout << text << "\n";
            rc = 0;
        }
    });
    io.run();
    return rc;
}
} // namespace

Runner add_client_commands(CLI::App& app) {
    auto worker = std::make_shared<std::string>("http://127.0.0.1:7000");
    auto token_file = std::make_shared<std::string>();
    auto peer = std::make_shared<std::string>();
    auto* dial = app.add_subcommand("dial", "Ask a worker to open a link to a peer");
    dial->add_option("peer", *peer, "Peer id to dial")->required();
    auto* links = app.add_subcommand("links", "List a worker's links and their state");
    auto* peers = app.add_subcommand("peers", "List the peers a worker knows");
    auto* health = app.add_subcommand(
        "health", "Exit 0 when a worker's /healthz answers within 5 s (container HEALTHCHECK)");
    for (auto* c : {dial, links, peers, health})
        c->add_option("--worker", *worker, "The worker's API URL")
            ->envname("F0_WORKER_URL")
            ->capture_default_str();
    for (auto* c : {dial, links})
        c->add_option("--token-file", *token_file,
                      "The worker's operator token file (DATA_DIR/operator.token)")
            ->envname("F0_OPERATOR_TOKEN_FILE");
    return [=] {
        std::string token;
        if (!token_file->empty()) {
            std::ifstream in(*token_file);
            if (!std::getline(in, token) || token.empty()) {
                std::cerr << "f0mesh: cannot read the operator token from " << *token_file << "\n";
                return 2;
            }
        }
        if (dial->parsed())
            return call_worker("POST", *worker + "/dial", nlohmann::json{{"peerTo", *peer}}.dump(),
                               token);
        if (links->parsed())
            return call_worker("GET", *worker + "/links", "", token);
        if (peers->parsed())
            return call_worker("GET", *worker + "/peers", "");
        if (health->parsed())
            return check_health(*worker + "/healthz");
        return 2;
    };
}

} // namespace f0::cli

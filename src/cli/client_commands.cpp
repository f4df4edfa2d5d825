// f0mesh dial|send|links|peers|health: talk to a running worker's API.
#include "api/http_client.hpp"
#include "cli/commands.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "mesh/links/receipts.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <random>
#include <thread>

namespace f0::cli {

namespace {
struct Answer {
    int status = 0;
    std::string text, error; // error: the request did not complete (no status)
    bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

// One request to a worker, run to its end on a loop of its own, bounded by `timeout`.
Answer exchange(const std::string& method, const std::string& url, const std::string& body,
                const std::string& token, std::chrono::seconds timeout) {
    boost::asio::io_context io;
    auto client = std::make_shared<api::HttpClient>(io, api::ClientConfig{.timeout = timeout});
    api::HttpClient::Headers headers;
    if (!token.empty())
        headers.emplace_back("Authorization", "Bearer " + token);
    Answer a;
    client->request(method, url, body, headers,
                    [&](int status, std::string text, std::string error) {
                        a = {status, std::move(text), std::move(error)};
                    });
    io.run();
    return a;
}

// A health probe must not hang: 5 s. 0 on a 2xx answer, else 1 with why.
int check_health(const std::string& url) {
    auto a = exchange("GET", url, "", "", std::chrono::seconds(5));
    if (!a.error.empty())
        std::cerr << "f0mesh health: cannot reach " << url << ": " << a.error << "\n";
    else if (!a.ok())
        std::cerr << "f0mesh health: " << url << " answered " << a.status << "\n";
    else
        std::cout << a.text << "\n";
    return a.ok() ? 0 : 1;
}
// f0mesh send --ack: the message goes with a receipt requested, under one id, and is sent again
// (same id: the peer stores it once) after an answer that leaves it unknown whether it arrived
// (no receipt, link not open, send failed, worker unreachable), up to `attempts` times, 1 s apart.
int send_with_receipt(const std::string& worker, const std::string& peer, const std::string& text,
                      std::string id, int attempts, const std::string& token) {
    if (id.empty()) {
        std::random_device rd;
        char buf[17];
        std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
        id = buf;
    }
    auto url = worker + "/links/" + peer + "/control?ack=1&id=" + id;
    auto body = nlohmann::json{{"text", text}}.dump();
    Answer a;
    for (int i = 1; i <= attempts; ++i) {
        a = exchange("POST", url, body, token, std::chrono::seconds(20));
        if (a.ok()) {
            std::cout << a.text << "\n";
            return 0;
        }
        bool unknown = !a.error.empty() || a.status == 409 || a.status == 502 || a.status == 504;
        std::cerr << "f0mesh send: attempt " << i << " of " << attempts << ": "
                  << (a.error.empty() ? std::to_string(a.status) + " " + a.text : a.error) << "\n";
        if (!unknown)
            return 1; // refused outright: sending it again would not help
        if (i < attempts)
            std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    std::cerr << "f0mesh send: no receipt for message " << id << " after " << attempts
              << " attempts; it may or may not have arrived (send it again with --id " << id
              << ")\n";
    return 1;
}
} // namespace

int call_worker(const std::string& method, const std::string& url, const std::string& body,
                const std::string& token) {
    auto a = exchange(method, url, body, token, std::chrono::seconds(20));
    if (!a.error.empty()) {
        std::cerr << "f0mesh: cannot reach " << url << ": " << a.error << "\n";
        return 1;
    }
    auto j = nlohmann::json::parse(a.text, nullptr, false);
    std::cout << (j.is_discarded() ? a.text : j.dump(2)) << "\n";
    if (a.ok())
        return 0;
    std::cerr << "f0mesh: the worker answered " << a.status
              << (a.status == 401 || a.status == 403
                      ? " (operator routes need --token-file, e.g. DATA_DIR/operator.token)"
                      : "")
              << "\n";
    return 1;
}

std::optional<std::string> fetch_worker(const std::string& method, const std::string& url,
                                        const std::string& body, const std::string& token) {
    auto a = exchange(method, url, body, token, std::chrono::seconds(20));
    if (!a.ok())
        return std::nullopt;
    return std::move(a.text);
}

Runner add_client_commands(CLI::App& app) {
    auto worker = std::make_shared<std::string>("http://127.0.0.1:7000");
    auto token_file = std::make_shared<std::string>();
    auto peer = std::make_shared<std::string>();
    auto* dial = app.add_subcommand("dial", "Ask a worker to open a link to a peer");
    dial->add_option("peer", *peer, "Peer id to dial")->required();
    auto* send = app.add_subcommand(
        "send", "Send a message to a peer on its link's control channel (--ack: with a receipt)");
    auto text = std::make_shared<std::string>();
    auto id = std::make_shared<std::string>();
    auto ack = std::make_shared<bool>(false);
    auto attempts = std::make_shared<int>(10);
    send->add_option("peer", *peer, "Peer id")->required();
    send->add_option("text", *text, "The message (text)")->required();
    send->add_flag("--ack", *ack,
                   "Wait until the peer has stored it; send it again (same id) until it has");
    send->add_option("--id", *id, "With --ack: the message's id (1-64 of [A-Za-z0-9_-]; random)");
    send->add_option("--attempts", *attempts, "With --ack: how many times to send it at most")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    auto* links = app.add_subcommand("links", "List a worker's links and their state");
    auto* peers = app.add_subcommand("peers", "List the peers a worker knows");
    auto* health = app.add_subcommand(
        "health", "Exit 0 when a worker's /healthz answers within 5 s (container HEALTHCHECK)");
    for (auto* c : {dial, send, links, peers, health})
        c->add_option("--worker", *worker, "The worker's API URL")
            ->envname("F0_WORKER_URL")
            ->capture_default_str();
    for (auto* c : {dial, send, links})
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
        if (send->parsed()) {
            if (!mesh::identity::valid_peer_id(*peer) ||
                (!id->empty() && !mesh::Receipts::valid_id(*id))) {
                std::cerr << "f0mesh send: not a peer id, or --id is not 1-64 of [A-Za-z0-9_-]\n";
                return 2;
            }
            if (*ack)
                return send_with_receipt(*worker, *peer, *text, *id, *attempts, token);
            if (!id->empty()) {
                std::cerr << "f0mesh send: --id goes with --ack\n";
                return 2;
            }
            return call_worker("POST", *worker + "/links/" + *peer + "/control",
                               nlohmann::json{{"text", *text}}.dump(), token);
        }
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

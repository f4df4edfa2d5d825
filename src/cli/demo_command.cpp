// f0mesh demo: three workers (fz-kuwait ME, fz-cairo AF, fz-riyadh ME) on loopback, the first also
// the beacon; they register, dial a full mesh, and the URLs are printed. Ctrl-C stops them all
// (only the processes this command started, by PID).
#include "cli/commands.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include <csignal>
#include <iostream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace f0::cli {

namespace {
struct DemoPeer {
    const char* id;
    const char* region;
    const char* geo;
};
constexpr DemoPeer kPeers[] = {{"fz-kuwait", "ME", "29.37,47.98"},
                               {"fz-cairo", "AF", "30.04,31.24"},
                               {"fz-riyadh", "ME", "24.71,46.68"}};

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

pid_t spawn(const std::vector<std::string>& args) {
    pid_t pid = fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv("/proc/self/exe", argv.data());
        _exit(127);
    }
    return pid;
}

} // namespace

Runner add_demo_command(CLI::App& app) {
    auto* d = app.add_subcommand(
        "demo", "Run three workers on loopback in a full mesh (Ctrl-C stops them)");
    auto base = std::make_shared<int>(7001);
    auto dir = std::make_shared<std::string>("f0-demo");
    auto no_links = std::make_shared<bool>(false);
    auto once = std::make_shared<bool>(false);
    auto qos = std::make_shared<int>(15);
    d->add_option("--base-port", *base, "Ports base..base+2")
        ->capture_default_str()
        ->check(CLI::Range(1024, 65000));
    d->add_option("--data-dir", *dir, "Where the three workers keep their data")
        ->capture_default_str();
    d->add_flag("--no-links", *no_links,
                "Register the peers but dial nothing (press Connect in the dashboard)");
    d->add_flag("--once", *once, "Exit after the mesh is up (for tests)");
    d->add_option("--qos-interval", *qos, "QoS refresh of the three workers, seconds")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
    return [=] {
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        std::vector<pid_t> pids;
        auto url = [&](int i) { return "http://127.0.0.1:" + std::to_string(*base + i); };
        // Each worker's operator token, which it writes to its data dir on start.
        auto token = [&](int i) {
            std::ifstream in(*dir + "/" + kPeers[i].id + "/operator.token");
            std::string t;
            std::getline(in, t);
            return t;
        };
        for (int i = 0; i < 3; ++i) {
            std::vector<std::string> args{"f0mesh",
                                          "worker",
                                          "--id",
                                          kPeers[i].id,
                                          "--region",
                                          kPeers[i].region,
                                          "--geo",
                                          kPeers[i].geo,
                                          "--listen",
                                          "127.0.0.1:" + std::to_string(*base + i),
                                          "--data-dir",
                                          *dir + "/" + kPeers[i].id,
                                          "--ice-address",
                                          "127.0.0.1",
                                          "--open-registration",
                                          "--qos-interval",
                                          std::to_string(*qos)};
            if (i > 0) {
                args.push_back("--beacon");
                args.push_back(url(0));
            }
            pids.push_back(spawn(args));
        }
        auto stop_all = [&] {
            for (pid_t p : pids)
                kill(p, SIGTERM);
            for (pid_t p : pids) {
                int status;
                for (int i = 0; i < 50 && waitpid(p, &status, WNOHANG) == 0; ++i)
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                if (waitpid(p, &status, WNOHANG) == 0) {
                    kill(p, SIGKILL);
                    waitpid(p, &status, 0);
                }
            }
        };
        // Wait (bounded: 60 s, a loaded machine is slow) for every worker to answer, then
        // register each with the others.
        bool ready = false;
        for (int t = 0; t < 600 && !g_stop && !ready; ++t) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            ready = true;
            for (int i = 0; i < 3; ++i)
                ready = ready && fetch_worker("GET", url(i) + "/healthz", "").has_value();
        }
        for (int i = 0; i < 3 && ready; ++i) {
            auto self = fetch_worker("GET", url(i) + "/self", "");
            for (int k = 0; k < 3 && self; ++k)
                if (k != i)
                    ready = ready && fetch_worker("POST", url(k) + "/beacon", *self).has_value();
            ready = ready && self.has_value();
        }
        if (!ready) {
            std::cerr << "f0mesh demo: the workers did not come up; see their log above\n";
            stop_all();
            return 1;
        }
        std::cout << "\nf0mesh demo: 3 workers up\n";
        for (int i = 0; i < 3; ++i)
            std::cout << "  " << kPeers[i].id << " (" << kPeers[i].region << ")  " << url(i)
                      << "\n";
        if (!*no_links) {
            std::pair<int, int> pairs[] = {{0, 1}, {0, 2}, {1, 2}};
            for (auto [a, b] : pairs) {
                bool ok = false;
                for (int attempt = 0; attempt < 30 && !ok && !g_stop; ++attempt) {
                    ok = fetch_worker("POST", url(a) + "/dial",
                                      nlohmann::json{{"peerTo", kPeers[b].id}}.dump(), token(a))
                             .has_value();
                    if (!ok)
                        std::this_thread::sleep_for(std::chrono::milliseconds(500));
                }
                std::cout << "  link " << kPeers[a].id << " <-> " << kPeers[b].id
                          << (ok ? ": open" : ": FAILED") << "\n";
            }
        }
        std::cout << "\n  dashboard: " << url(0) << "/ops/mesh#token=" << token(0) << "\n"
                  << "  links:     curl -H 'Authorization: Bearer " << token(0) << "' " << url(0)
                  << "/links\n"
                  << "  (operator token of " << kPeers[0].id << ": " << *dir << "/" << kPeers[0].id
                  << "/operator.token)\n"
                  << "\nCtrl-C stops the demo.\n"
                  << std::flush;
        while (!g_stop && !*once)
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        stop_all();
        std::cout << "f0mesh demo: stopped\n";
        return 0;
    };
}

} // namespace f0::cli

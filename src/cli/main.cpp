// f0mesh: the mesh's peer daemon and its tools.
#include "cli/commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"f0mesh: a peer-to-peer mesh over WebRTC DataChannels"};
    app.require_subcommand(1);
    std::vector<std::pair<std::string, f0::cli::Runner>> runners{
        {"worker", f0::cli::add_worker_command(app)},
        {"keygen", f0::cli::add_keygen_command(app)},
        {"delegate", f0::cli::add_delegate_command(app)},
        {"demo", f0::cli::add_demo_command(app)},
    };
    auto client = f0::cli::add_client_commands(app); // dial, links, peers, health
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    for (auto& [name, run] : runners)
        if (app.get_subcommand(name)->parsed())
            return run();
    return client();
}

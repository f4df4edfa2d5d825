// f0mesh keygen: create (or show) a worker identity in a data dir.
#include "cli/commands.hpp"
#include "mesh/identity/identity.hpp"

#include <iostream>

namespace f0::cli {

Runner add_keygen_command(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "keygen", "Create the Ed25519 identity in a data dir (or show the existing one)");
    auto dir = std::make_shared<std::string>("f0-data");
    cmd->add_option("--data-dir", *dir, "Directory of the identity key")
        ->envname("F0_DATA_DIR")
        ->capture_default_str();
    return [dir] {
        auto id =
            mesh::identity::Identity::load_or_create(std::filesystem::path(*dir) / "identity.pem");
        if (!id) {
            std::cerr << "f0mesh keygen: " << id.error().message << "\n";
            return 1;
        }
        std::cout << "{\"pubKey\":\"" << id.value().public_key_base64() << "\",\"key\":\""
                  << (std::filesystem::path(*dir) / "identity.pem").string() << "\"}\n";
        return 0;
    };
}

} // namespace f0::cli

// f0mesh delegate: the holder of a peer's key certifies (or revokes) one worker instance's key.
#include "cli/commands.hpp"
#include "mesh/identity/delegation.hpp"
#include "util/base64.hpp"

#include <chrono>
#include <fstream>
#include <iostream>

namespace f0::cli {

namespace {
std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
} // namespace

Runner add_delegate_command(CLI::App& app) {
    struct Options {
        std::string data_dir = "f0-data", peer, instance, instance_key, instance_dir, out;
        int days = 30;
        bool revoke = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "delegate", "Certify a worker instance's key with the peer's key (or revoke it): the "
                    "instance then serves the peer without holding the peer's key");
    cmd->add_option("--data-dir", o->data_dir, "Directory of the PEER's identity key")
        ->envname("F0_DATA_DIR")
        ->capture_default_str();
    cmd->add_option("--peer", o->peer, "The peer id the instance serves, e.g. fz-kuwait")
        ->required();
    cmd->add_option("--instance", o->instance, "The instance's id, e.g. kw-1")->required();
    auto* key = cmd->add_option("--instance-key", o->instance_key,
                                "The instance's public key (base64, from f0mesh keygen)");
    cmd->add_option("--instance-data-dir", o->instance_dir,
                    "...or the instance's data dir (its key is read, or created there)")
        ->excludes(key);
    cmd->add_option("--days", o->days, "Validity from now, in days (at most 90)")
        ->check(CLI::Range(1, 90))
        ->capture_default_str();
    cmd->add_flag("--revoke", o->revoke, "Issue a revocation of that instance key instead");
    cmd->add_option("--out", o->out, "Write the document to this file (default: stdout)");
    return [o]() -> int {
        using namespace mesh::identity;
        auto fail = [](const std::string& why) {
            std::cerr << "f0mesh delegate: " << why << "\n";
            return 2;
        };
        auto peer_key =
            Identity::load_or_create(std::filesystem::path(o->data_dir) / "identity.pem");
        if (!peer_key)
            return fail(peer_key.error().message);
        PublicKey instance_key{};
        if (!o->instance_dir.empty()) {
            auto id =
                Identity::load_or_create(std::filesystem::path(o->instance_dir) / "identity.pem");
            if (!id)
                return fail(id.error().message);
            instance_key = id.value().public_key();
        } else if (!o->instance_key.empty()) {
            auto k = parse_public_key(o->instance_key);
            if (!k)
                return fail("--instance-key: " + k.error().message);
            instance_key = k.value();
        } else {
            return fail("give --instance-key B64 or --instance-data-dir DIR");
        }
        nlohmann::json doc;
        const auto now = now_ms();
        if (o->revoke) {
            auto r = issue_revocation(peer_key.value(), o->peer, o->instance, instance_key, now);
            if (!r)
                return fail(r.error().message);
            doc = r.value().to_json();
        } else {
            auto d = issue_delegation(peer_key.value(), o->peer, o->instance, instance_key, now,
                                      now + o->days * 24LL * 3600 * 1000);
            if (!d)
                return fail(d.error().message);
            doc = d.value().to_json();
        }
        if (o->out.empty()) {
            std::cout << doc.dump(2) << "\n";
            return 0;
        }
        std::ofstream f(o->out, std::ios::trunc);
        f << doc.dump(2) << "\n";
        if (!f.flush())
            return fail("cannot write " + o->out);
        std::cerr << "f0mesh delegate: wrote " << (o->revoke ? "a revocation" : "a delegation")
                  << " of " << o->peer << "/" << o->instance << " to " << o->out << "\n";
        return 0;
    };
}

} // namespace f0::cli

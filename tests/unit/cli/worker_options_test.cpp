// The worker's option table: every option has a flag, an F0_ environment name and help, and the
// flag > environment > default order holds.
#include "cli/web_dir.hpp"
#include "cli/worker_options.hpp"
#include "mesh/links/turn_rest.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <cstdlib>
#include <set>

using namespace f0;

namespace {
struct Parsed {
    cli::WorkerOptions o;
    std::vector<cli::OptionInfo> table;
    CLI::App app{"test"};
    explicit Parsed(std::vector<std::string> args) {
        table = cli::add_worker_options(app, o);
        std::vector<const char*> argv{"worker"};
        for (auto& a : args)
            argv.push_back(a.c_str());
        app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
    }
};
} // namespace

TEST(WorkerOptions, EveryOptionHasAnEnvironmentNameAndHelp) {
    Parsed p({});
    std::set<std::string> envs, flags;
    for (const auto& row : p.table) {
        EXPECT_TRUE(row.env.starts_with("F0_")) << row.flag;
        EXPECT_FALSE(row.help.empty()) << row.flag;
        EXPECT_TRUE(envs.insert(row.env).second) << "duplicate " << row.env;
        EXPECT_TRUE(flags.insert(row.flag).second) << "duplicate " << row.flag;
    }
    // The tunables that had no flag before the table.
    for (auto f : {"--signaling-window-ms", "--dial-timeout-ms", "--redial-min-ms",
                   "--redial-max-ms", "--qos-retention-hours", "--qos-max-samples",
                   "--crdt-max-offset-ms", "--beacon-refresh-s", "--max-body-bytes"})
        EXPECT_TRUE(flags.count(f)) << f;
    EXPECT_TRUE(envs.count("F0_INSTANCE_ID"));
    EXPECT_TRUE(envs.count("F0_TRUST_HIGH"));
}

TEST(WorkerOptions, FlagsBeatTheEnvironmentWhichBeatsDefaults) {
    setenv("F0_DIAL_TIMEOUT_MS", "1234", 1);
    setenv("F0_REGION", "EU", 1);
    setenv("F0_GOSSIP_FANOUT", "5", 1);
    Parsed p({"--id", "fz-x", "--region", "AF", "--qos-interval", "3"});
    unsetenv("F0_DIAL_TIMEOUT_MS");
    unsetenv("F0_REGION");
    unsetenv("F0_GOSSIP_FANOUT");
    EXPECT_EQ(p.o.cfg.dial_timeout, std::chrono::milliseconds(1234)) << "from the environment";
    EXPECT_EQ(p.o.cfg.region, "AF") << "the flag wins";
    EXPECT_EQ(p.o.cfg.gossip.fanout, 5u);
    EXPECT_EQ(p.o.cfg.qos_interval, std::chrono::seconds(3));
    EXPECT_EQ(p.o.cfg.redial_max, mesh::WorkerConfig{}.redial_max) << "the default stays";
    EXPECT_NE(p.app.help().find("F0_DIAL_TIMEOUT_MS"), std::string::npos) << "--help names it";
}

TEST(WorkerOptions, OutOfRangeValuesAreRefused) {
    EXPECT_THROW(Parsed({"--dial-timeout-ms", "5"}), CLI::ValidationError);
    EXPECT_THROW(Parsed({"--qos-probe-size", "5000"}), CLI::ValidationError);
}

TEST(WorkerOptions, TurnTakesUdpTcpAndTlsForms) {
    auto turn_of = [](const std::string& s) {
        mesh::WorkerConfig c;
        c.turn = s;
        return c.rtc_config().turn;
    };
    auto udp = turn_of("u:p@turn.example:3478");
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->transport, rtc::ice::TurnTransport::Udp);
    EXPECT_EQ(udp->username, "u");
    EXPECT_EQ(udp->password, "p");
    EXPECT_EQ(udp->address.port, 3478);
    auto tcp = turn_of("turn:u:p@turn.example:3478?transport=tcp");
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->transport, rtc::ice::TurnTransport::Tcp);
    EXPECT_EQ(tcp->address.host, "turn.example");
    auto tls = turn_of("turns:u:p@turn.example:5349");
    ASSERT_TRUE(tls);
    EXPECT_EQ(tls->transport, rtc::ice::TurnTransport::Tls);
    EXPECT_EQ(tls->address.port, 5349);
    EXPECT_EQ(turn_of("turn:u:p@turn.example:3478?transport=udp")->transport,
              rtc::ice::TurnTransport::Udp);
    for (auto bad : {"turn.example", "u:p@turn.example", "turns:u:p@h:5349?transport=udp",
                     "turn:u:p@h:3478?transport=sctp", ":p@h:3478"}) {
        EXPECT_FALSE(turn_of(bad)) << bad;
        mesh::WorkerConfig c;
        c.turn = bad;
        bool named = false;
        for (const auto& problem : c.validate())
            named = named || problem.starts_with("--turn must be");
        EXPECT_TRUE(named) << bad;
    }
}

TEST(WorkerOptions, IceAddressesAreIpLiterals) {
    auto problems_of = [](std::vector<std::string> addresses) {
        mesh::WorkerConfig c;
        c.id = "fz-test";
        c.ice_addresses = std::move(addresses);
        std::string all;
        for (const auto& p : c.validate())
            all += p + "\n";
        return all;
    };
    EXPECT_EQ(problems_of({"127.0.0.1", "::1", "10.1.2.3"}).find("--ice-address"),
              std::string::npos);
    for (auto bad : {"localhost", "127.0.0.1:5000", "[::1]", "10.1.2", ""})
        EXPECT_NE(problems_of({bad}).find("--ice-address takes IP addresses"), std::string::npos)
            << bad;
}

TEST(WorkerOptions, TheIcePortRangeGoesToEveryConnection) {
    Parsed p({"--ice-port-min", "50000", "--ice-port-max", "50999"});
    EXPECT_EQ(p.o.cfg.rtc_config().port_min, 50000);
    EXPECT_EQ(p.o.cfg.rtc_config().port_max, 50999);
    auto named = [](std::uint16_t lo, std::uint16_t hi) {
        mesh::WorkerConfig c;
        c.id = "fz-test";
        c.ice_port_min = lo;
        c.ice_port_max = hi;
        for (const auto& problem : c.validate())
            if (problem.find("--ice-port-min") != std::string::npos)
                return true;
        return false;
    };
    EXPECT_FALSE(named(0, 0));
    EXPECT_FALSE(named(50000, 50000));
    EXPECT_TRUE(named(50000, 0));
    EXPECT_TRUE(named(50001, 50000));
}

TEST(WorkerOptions, AWildcardListenAddressNeedsAnAdvertisedUrl) {
    auto problems_of = [](std::string listen, std::string advertise) {
        mesh::WorkerConfig c;
        c.id = "fz-test";
        c.listen = std::move(listen);
        c.advertise = std::move(advertise);
        std::string all;
        for (const auto& p : c.validate())
            all += p + "\n";
        return all;
    };
    for (auto wildcard : {"0.0.0.0:7000", "[::]:7000", ":7000"})
        EXPECT_NE(problems_of(wildcard, "").find("--advertise is required"), std::string::npos)
            << wildcard;
    EXPECT_EQ(problems_of("0.0.0.0:7000", "http://192.0.2.10:7000"), "");
    EXPECT_EQ(problems_of("127.0.0.1:7000", ""), "");
}

TEST(WebDir, FoundBesideTheInstalledBinaryAndNeverInAnotherBuildTree) {
    namespace fs = std::filesystem;
    auto root = fs::temp_directory_path() / ("f0-webdir-" + std::to_string(::getpid()));
    fs::create_directories(root / "usr/bin");
    EXPECT_EQ(cli::find_web_dir("", root / "usr/bin/f0mesh").path, "")
        << "nothing installed: none (not the source checkout's web/dist)";
    fs::create_directories(root / "usr/share/f0mesh/web");
    std::ofstream(root / "usr/share/f0mesh/web/index.html") << "<html></html>";
    auto found = cli::find_web_dir("", root / "usr/bin/f0mesh");
    EXPECT_EQ(found.path, (root / "usr/share/f0mesh/web").string());
    EXPECT_EQ(found.how, "install prefix");
    EXPECT_EQ(cli::find_web_dir("/srv/dash", root / "usr/bin/f0mesh").path, "/srv/dash")
        << "--web-dir wins";
    fs::remove_all(root);
}

// The TURN REST password, against Python's hmac (base64(HMAC-SHA1(secret, "1700000000:fz-kuwait")))
TEST(TurnRest, CredentialsAreExpiryColonUserAndTheHmacOfIt) {
    auto c = mesh::turn_rest_credentials("s3cret-of-the-mesh", "fz-kuwait", 1700000000);
    EXPECT_EQ(c.username, "1700000000:fz-kuwait");
    EXPECT_EQ(c.password, "OflPc4NHNJxAeFPp09QvTphCt04=");
    EXPECT_NE(mesh::turn_rest_credentials("another secret", "fz-kuwait", 1700000000).password,
              c.password);
}

TEST(TurnRest, TurnWithoutCredentialsNeedsTheSecretFile) {
    mesh::WorkerConfig c;
    c.turn = "turn:turn.example:3478";
    auto named = [](const mesh::WorkerConfig& w, std::string_view what) {
        for (const auto& p : w.validate())
            if (p.find(what) != std::string::npos)
                return true;
        return false;
    };
    EXPECT_TRUE(named(c, "needs --turn-secret-file"));
    c.turn_secret_file = "/etc/f0mesh/turn.secret";
    EXPECT_FALSE(named(c, "turn"));
    ASSERT_TRUE(c.rtc_config().turn);
    EXPECT_TRUE(c.rtc_config().turn->username.empty()) << "made per link from the secret";
    mesh::WorkerConfig lone;
    lone.turn_secret_file = "/etc/f0mesh/turn.secret";
    EXPECT_TRUE(named(lone, "--turn-secret-file needs --turn"));
}

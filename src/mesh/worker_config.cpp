// Config validation: every problem, in words a user can act on.
#include "mesh/worker_config.hpp"

#include "mesh/identity/signed_envelope.hpp"
#include "mesh/peers/peer_record.hpp"
#include "util/net.hpp"

#include <charconv>

namespace f0::mesh {

namespace {
// "host:port" -> server address, or nullopt when the port is missing or not 1..65535.
std::optional<rtc::ice::ServerAddress> parse_server(const std::string& s) {
    auto c = s.rfind(':');
    if (c == std::string::npos || c == 0)
        return std::nullopt;
    unsigned port = 0;
    auto [p, ec] = std::from_chars(s.data() + c + 1, s.data() + s.size(), port);
    if (ec != std::errc{} || p != s.data() + s.size() || port == 0 || port > 65535)
        return std::nullopt;
    return rtc::ice::ServerAddress{s.substr(0, c), static_cast<std::uint16_t>(port)};
}

// "[turn:|turns:]user:pass@host:port[?transport=udp|tcp]" -> TURN server, or nullopt. turns: is
// TURN over TLS (RFC 7065's URI scheme); transport=tcp is TURN over plain TCP.
std::optional<rtc::ice::TurnServer> parse_turn(std::string s) {
    auto transport = rtc::ice::TurnTransport::Udp;
    if (s.starts_with("turns:")) {
        transport = rtc::ice::TurnTransport::Tls;
        s.erase(0, 6);
    } else if (s.starts_with("turn:")) {
        s.erase(0, 5);
    }
    if (auto q = s.find('?'); q != std::string::npos) {
        auto query = s.substr(q + 1);
        s.erase(q);
        if (query == "transport=tcp")
            transport = transport == rtc::ice::TurnTransport::Tls ? transport
                                                                  : rtc::ice::TurnTransport::Tcp;
        else if (query != "transport=udp" || transport == rtc::ice::TurnTransport::Tls)
            return std::nullopt; // TLS runs over TCP only
    }
    auto at = s.rfind('@');
    if (at == std::string::npos) { // no user:pass: made from --turn-secret-file for each link
        auto server = parse_server(s);
        if (!server)
            return std::nullopt;
        return rtc::ice::TurnServer{*server, "", "", transport};
    }
    auto creds = s.substr(0, at);
    auto colon = creds.find(':');
    auto server = parse_server(s.substr(at + 1));
    if (colon == std::string::npos || colon == 0 || !server)
        return std::nullopt;
    return rtc::ice::TurnServer{*server, creds.substr(0, colon), creds.substr(colon + 1),
                                transport};
}
} // namespace

rtc::RtcConfig WorkerConfig::rtc_config() const {
    rtc::RtcConfig rc;
    rc.bind_addresses = ice_addresses;
    rc.port_min = ice_port_min;
    rc.port_max = ice_port_max;
    if (!stun.empty())
        rc.stun = parse_server(stun);
    if (!turn.empty())
        rc.turn = parse_turn(turn);
    rc.max_message_size = max_message_size;
    return rc;
}

std::string WorkerConfig::advertised_url() const {
    if (!advertise.empty())
        return advertise;
    return (tls_enabled() ? "https://" : "http://") + listen;
}

std::map<std::string, std::string> WorkerConfig::registrar_keys() const {
    std::map<std::string, std::string> out;
    for (const auto& r : registrars)
        if (auto eq = r.find('='); eq != std::string::npos)
            out[r.substr(0, eq)] = r.substr(eq + 1);
    return out;
}

std::vector<std::string> WorkerConfig::validate() const {
    std::vector<std::string> problems;
    if (id.empty())
        problems.push_back("--id (F0_INSTANCE_ID) is required");
    for (unsigned char c : id)
        if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') {
            problems.push_back("--id may contain only letters, digits, '-', '_' and '.'");
            break;
        }
    if (id.size() > 64)
        problems.push_back("--id is longer than 64 characters");
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon + 1 == listen.size())
        problems.push_back("--listen must be HOST:PORT, got '" + listen + "'");
    if (tls_cert.empty() != tls_key.empty())
        problems.push_back("--tls-cert and --tls-key go together");
    if (advertise.empty() && colon != std::string::npos) {
        auto host = listen.substr(0, colon);
        if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]")
            problems.push_back("--advertise is required when --listen is a wildcard address ('" +
                               listen +
                               "'): peers cannot reach this API at that address; give the URL "
                               "they should use, e.g. --advertise http://192.0.2.10:" +
                               listen.substr(colon + 1));
    }
    if (auto why = endpoint_refusal(advertised_url()))
        problems.push_back("--advertise (the URL peers use to reach this API): " + *why);
    for (const auto& r : registrars) {
        auto eq = r.find('=');
        if (eq == std::string::npos || !identity::valid_peer_id(r.substr(0, eq)) ||
            !identity::parse_public_key(r.substr(eq + 1)))
            problems.push_back("--registrar is ID=KEY (a peer id and its base64 Ed25519 public "
                               "key), got '" +
                               r + "'");
    }
    for (const auto& o : cors_origins)
        if (o != "*" && !(o.starts_with("http://") || o.starts_with("https://")))
            problems.push_back("--cors-origin is '*' or an origin like https://app.example:8443, "
                               "got '" +
                               o + "'");
    if (!client_ca.empty() && !tls_enabled())
        problems.push_back("--client-ca (mTLS) needs --tls-cert and --tls-key");
    if (lat && (*lat < -90 || *lat > 90))
        problems.push_back("latitude must be in [-90, 90]");
    if (lon && (*lon < -180 || *lon > 180))
        problems.push_back("longitude must be in [-180, 180]");
    if (redial_min > redial_max)
        problems.push_back("redial_min must not exceed redial_max");
    if (signaling_rate <= 0 || signaling_burst < 1)
        problems.push_back("signaling rate and burst must be positive");
    if (qos_interval.count() < 1)
        problems.push_back("qos interval must be at least 1 s");
    if (qos_probe_interval.count() < 10 ||
        qos_probe_interval > std::chrono::milliseconds(qos_interval))
        problems.push_back("qos probe interval must be between 10 ms and the qos interval");
    // Not longer than the probe interval (--qos-probe-interval 60000 with the default 2 s): then
    // idle links are simply not probed more slowly (qos_idle_probe_every() is 0).
    if (qos_idle_probe_interval.count() < 0 ||
        qos_idle_probe_interval > std::chrono::milliseconds(60'000))
        problems.push_back("qos idle probe interval must be 0 (off) to 60 s");
    if (qos_idle_kbps < 0)
        problems.push_back("qos idle kbps must not be negative");
    if (qos_probe_size < 14 || qos_probe_size > 1100)
        problems.push_back("qos probe size must be 14..1100 bytes");
    if (health.good_rtt_ms > health.degraded_rtt_ms ||
        health.good_loss_pct > health.degraded_loss_pct)
        problems.push_back("health thresholds: 'good' must be stricter than 'degraded'");
    if ((ice_port_min == 0) != (ice_port_max == 0) || ice_port_min > ice_port_max)
        problems.push_back("--ice-port-min and --ice-port-max go together, min <= max");
    for (const auto& a : ice_addresses)
        if (!util::canonical_ip(a))
            problems.push_back("--ice-address takes IP addresses of this host's interfaces, got '" +
                               a + "'");
    if (!stun.empty() && !parse_server(stun))
        problems.push_back("--stun must be HOST:PORT, got '" + stun + "'");
    if (gossip.fanout < 1 || gossip.fanout > 64)
        problems.push_back("--gossip-fanout must be 1..64");
    if (gossip.max_hops < 1 || gossip.max_hops > 16)
        problems.push_back("--gossip-max-hops must be 1..16");
    if (!(gossip.rate_min > 0) || gossip.rate_max < gossip.rate_min)
        problems.push_back("gossip rates: need 0 < --gossip-rate-min <= --gossip-rate-max");
    if (gossip_heartbeat < std::chrono::milliseconds(100) || gossip_interval.count() < 1)
        problems.push_back("--gossip-heartbeat-ms must be at least 100, --gossip-interval 1 s");
    if (!(trust.exclude_below >= 0 && trust.exclude_below <= trust.low && trust.low <= trust.high &&
          trust.high <= 1))
        problems.push_back("trust thresholds: need 0 <= --trust-exclude-below <= --trust-low <= "
                           "--trust-high <= 1");
    if (trust.recovery_per_min < 0)
        problems.push_back("--trust-recovery-per-min must not be negative");
    if (!turn.empty() && !parse_turn(turn))
        problems.push_back("--turn must be [turn:|turns:]USER:PASS@HOST:PORT[?transport=udp|tcp]");
    else if (!turn.empty() && parse_turn(turn)->username.empty() && turn_secret_file.empty())
        problems.push_back("--turn without USER:PASS needs --turn-secret-file (TURN REST)");
    if (!turn_secret_file.empty() && turn.empty())
        problems.push_back("--turn-secret-file needs --turn (the server it is the secret of)");
    return problems;
}

} // namespace f0::mesh

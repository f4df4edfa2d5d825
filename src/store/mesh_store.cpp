// Peers and links, each written in one statement (atomic under WAL).
#include "store/mesh_store.hpp"

namespace f0::store {

namespace {
Value opt(const std::optional<double>& v) {
    return v ? Value(*v) : Value(nullptr);
}
Value opt(const std::optional<std::int64_t>& v) {
    return v ? Value(*v) : Value(nullptr);
}
std::optional<std::int64_t> opt_int(const Row& r, std::size_t i) {
    if (std::holds_alternative<std::nullptr_t>(r[i]))
        return std::nullopt;
    return int_at(r, i);
}
} // namespace

Status MeshStore::upsert_peer(const PeerRecord& p) {
    return db_->exec(
        "INSERT INTO peers (id, pub_key, region, endpoint, lat, lon, registered_ms, updated_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET pub_key=excluded.pub_key, "
        "region=excluded.region, endpoint=excluded.endpoint, lat=excluded.lat, lon=excluded.lon, "
        "updated_ms=excluded.updated_ms",
        {p.id, p.pub_key, p.region, p.endpoint, opt(p.lat), opt(p.lon), p.registered_ms,
         p.updated_ms});
}

Status MeshStore::upsert_peers(const std::vector<PeerRecord>& peers) {
    if (peers.empty())
        return Ok{};
    return db_->transaction([&]() -> Status {
        for (const auto& p : peers)
            if (auto st = upsert_peer(p); !st)
                return st;
        return Ok{};
    });
}

Result<std::vector<PeerRecord>> MeshStore::peers() {
    auto rows =
        db_->query("SELECT id, pub_key, region, endpoint, lat, lon, registered_ms, updated_ms "
                   "FROM peers ORDER BY id");
    if (!rows)
        return rows.error();
    std::vector<PeerRecord> out;
    for (const auto& r : rows.value())
        out.push_back({text_at(r, 0), text_at(r, 1), text_at(r, 2), text_at(r, 3), real_at(r, 4),
                       real_at(r, 5), int_at(r, 6), int_at(r, 7)});
    return out;
}

Status MeshStore::upsert_link(const LinkRecord& l) {
    return db_->exec(
        "INSERT INTO mesh_links (peer, state, role, desired, created_ms, opened_ms, closed_ms, "
        "last_error, attempts, rtt_ms, jitter_ms, loss_pct, bitrate_kbps, qos_ms) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(peer) DO UPDATE SET "
        "state=excluded.state, role=excluded.role, desired=excluded.desired, "
        "created_ms=excluded.created_ms, opened_ms=excluded.opened_ms, "
        "closed_ms=excluded.closed_ms, "
        "last_error=excluded.last_error, attempts=excluded.attempts, rtt_ms=excluded.rtt_ms, "
        "jitter_ms=excluded.jitter_ms, loss_pct=excluded.loss_pct, "
        "bitrate_kbps=excluded.bitrate_kbps, qos_ms=excluded.qos_ms",
        {l.peer, l.state, l.role, static_cast<std::int64_t>(l.desired), l.created_ms,
         opt(l.opened_ms), opt(l.closed_ms), l.last_error, l.attempts, opt(l.rtt_ms),
         opt(l.jitter_ms), opt(l.loss_pct), opt(l.bitrate_kbps), opt(l.qos_ms)});
}

Status MeshStore::remove_link(const std::string& peer) {
    return db_->exec("DELETE FROM mesh_links WHERE peer = ?", {peer});
}

Result<std::vector<LinkRecord>> MeshStore::links() {
    auto rows =
        db_->query("SELECT peer, state, role, desired, created_ms, opened_ms, closed_ms, "
                   "last_error, attempts, rtt_ms, jitter_ms, loss_pct, bitrate_kbps, qos_ms "
                   "FROM mesh_links ORDER BY peer");
    if (!rows)
        return rows.error();
    std::vector<LinkRecord> out;
    for (const auto& r : rows.value()) {
        LinkRecord l;
        l.peer = text_at(r, 0);
        l.state = text_at(r, 1);
        l.role = text_at(r, 2);
        l.desired = int_at(r, 3) != 0;
        l.created_ms = int_at(r, 4);
        l.opened_ms = opt_int(r, 5);
        l.closed_ms = opt_int(r, 6);
        l.last_error = text_at(r, 7);
        l.attempts = int_at(r, 8);
        l.rtt_ms = real_at(r, 9);
        l.jitter_ms = real_at(r, 10);
        l.loss_pct = real_at(r, 11);
        l.bitrate_kbps = real_at(r, 12);
        l.qos_ms = opt_int(r, 13);
        out.push_back(std::move(l));
    }
    return out;
}

Status MeshStore::add_qos(const QosSample& q) {
    auto st = db_->exec(
        "INSERT INTO qos_samples (peer, ts_ms, rtt_ms, jitter_ms, loss_pct, tx_kbps, rx_kbps, "
        "sctp_rtt_ms, probes, health) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {q.peer, q.ts_ms, opt(q.rtt_ms), q.jitter_ms, q.loss_pct, q.tx_kbps, q.rx_kbps,
         opt(q.sctp_rtt_ms), q.probes, q.health});
    if (!st)
        return st;
    return db_->exec(
        "UPDATE mesh_links SET rtt_ms = ?, jitter_ms = ?, loss_pct = ?, bitrate_kbps = ?, qos_ms = "
        "? "
        "WHERE peer = ?",
        {opt(q.rtt_ms), q.jitter_ms, q.loss_pct, q.tx_kbps + q.rx_kbps, q.ts_ms, q.peer});
}

Result<std::vector<QosSample>> MeshStore::qos_history(const std::string& peer,
                                                      std::int64_t since_ms, std::int64_t limit) {
    auto rows = db_->query(
        "SELECT peer, ts_ms, rtt_ms, jitter_ms, loss_pct, tx_kbps, rx_kbps, sctp_rtt_ms, probes, "
        "health FROM (SELECT * FROM qos_samples WHERE peer = ? AND ts_ms > ? ORDER BY ts_ms DESC "
        "LIMIT ?) ORDER BY ts_ms",
        {peer, since_ms, limit});
    if (!rows)
        return rows.error();
    std::vector<QosSample> out;
    for (const auto& r : rows.value())
        out.push_back({text_at(r, 0), int_at(r, 1), real_at(r, 2), real_at(r, 3).value_or(0),
                       real_at(r, 4).value_or(0), real_at(r, 5).value_or(0),
                       real_at(r, 6).value_or(0), real_at(r, 7), int_at(r, 8), text_at(r, 9)});
    return out;
}

Status MeshStore::prune_qos(std::int64_t before_ms, std::int64_t max_per_peer) {
    auto st = db_->exec("DELETE FROM qos_samples WHERE ts_ms < ?", {before_ms});
    if (!st)
        return st;
    return db_->exec("DELETE FROM qos_samples WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                     "ROW_NUMBER() OVER "
                     "(PARTITION BY peer ORDER BY ts_ms DESC) AS n FROM qos_samples) WHERE n > ?)",
                     {max_per_peer});
}

Status MeshStore::add_gossip(const GossipRecord& g) {
    return db_->exec("INSERT OR IGNORE INTO gossip_messages (id, origin, topic, ts_ms, seq, hops, "
                     "payload, sig, from_peer, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     {g.id, g.origin, g.topic, g.ts_ms, g.seq, g.hops, g.payload_json, g.sig,
                      g.from_peer, g.received_ms});
}

Result<std::vector<GossipRecord>> MeshStore::gossip_messages(const std::string& topic,
                                                             std::int64_t since_ms,
                                                             std::int64_t limit,
                                                             std::size_t max_bytes) {
    std::vector<GossipRecord> out;
    std::size_t bytes = 0;
    auto st = db_->query_each(
        "SELECT id, origin, topic, ts_ms, seq, hops, payload, sig, from_peer, received_ms FROM "
        "gossip_messages WHERE (? = '' OR topic = ?) AND received_ms > ? "
        "ORDER BY received_ms, rowid LIMIT ?",
        {topic, topic, since_ms, limit}, [&](Row&& r) {
            out.push_back({text_at(r, 0), text_at(r, 1), text_at(r, 2), int_at(r, 3), int_at(r, 4),
                           int_at(r, 5), text_at(r, 6), text_at(r, 7), text_at(r, 8),
                           int_at(r, 9)});
            bytes += out.back().payload_json.size() + out.back().sig.size() + 256;
            return bytes <= max_bytes;
        });
    if (!st)
        return st.error();
    return out;
}

Status MeshStore::prune_gossip(std::int64_t keep) {
    return db_->exec("DELETE FROM gossip_messages WHERE rowid NOT IN (SELECT rowid FROM "
                     "gossip_messages ORDER BY received_ms DESC, rowid DESC LIMIT ?)",
                     {keep});
}

Result<bool> MeshStore::add_message(const StoredMessage& m) {
    auto have = db_->query("SELECT 1 FROM messages WHERE peer = ? AND id = ?", {m.peer, m.id});
    if (!have)
        return have.error();
    if (!have.value().empty())
        return false;
    if (auto st =
            db_->exec("INSERT INTO messages (peer, id, ts_ms, is_binary, bytes, body) VALUES "
                      "(?, ?, ?, ?, ?, ?)",
                      {m.peer, m.id, m.ts_ms, std::int64_t{m.binary ? 1 : 0}, m.bytes, m.body});
        !st)
        return st.error();
    return true;
}

Result<std::vector<StoredMessage>> MeshStore::messages(const std::string& peer,
                                                       std::int64_t after_seq, std::int64_t limit) {
    auto rows =
        db_->query("SELECT seq, peer, id, ts_ms, is_binary, bytes, body FROM messages WHERE "
                   "(? = '' OR peer = ?) AND seq > ? ORDER BY seq LIMIT ?",
                   {peer, peer, after_seq, limit});
    if (!rows)
        return rows.error();
    std::vector<StoredMessage> out;
    for (const auto& r : rows.value())
        out.push_back({int_at(r, 0), text_at(r, 1), text_at(r, 2), int_at(r, 3), int_at(r, 4) != 0,
                       int_at(r, 5), text_at(r, 6)});
    return out;
}

Result<std::int64_t> MeshStore::prune_messages(const std::string& peer, std::int64_t max_per_peer,
                                               std::int64_t max_total) {
    // One count per stored message; a delete only when a bound is passed (by one, in steady state).
    auto n = db_->query(
        "SELECT (SELECT COUNT(*) FROM messages WHERE peer = ?), (SELECT COUNT(*) FROM messages)",
        {peer});
    if (!n)
        return n.error();
    auto of_peer = int_at(n.value().at(0), 0), total = int_at(n.value().at(0), 1);
    std::int64_t gone = 0;
    if (of_peer > max_per_peer) {
        if (auto st = db_->exec("DELETE FROM messages WHERE seq IN (SELECT seq FROM messages WHERE "
                                "peer = ? ORDER BY seq LIMIT ?)",
                                {peer, of_peer - max_per_peer});
            !st)
            return st.error();
        gone += of_peer - max_per_peer;
        total -= of_peer - max_per_peer;
    }
    if (total > max_total) {
        if (auto st = db_->exec(
                "DELETE FROM messages WHERE seq IN (SELECT seq FROM messages ORDER BY seq LIMIT ?)",
                {total - max_total});
            !st)
            return st.error();
        gone += total - max_total;
    }
    return gone;
}

Status MeshStore::put_crdt(const std::string& name, const std::string& state, std::int64_t now_ms) {
    return db_->exec("INSERT INTO crdt_docs (name, state, updated_ms) VALUES (?, ?, ?) "
                     "ON CONFLICT(name) DO UPDATE SET state = excluded.state, "
                     "updated_ms = excluded.updated_ms",
                     {name, state, now_ms});
}

Result<std::vector<std::pair<std::string, std::string>>> MeshStore::crdt_docs() {
    auto rows = db_->query("SELECT name, state FROM crdt_docs ORDER BY name");
    if (!rows)
        return rows.error();
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : rows.value())
        out.emplace_back(text_at(r, 0), text_at(r, 1));
    return out;
}

Status MeshStore::delete_crdt(const std::string& name) {
    return db_->exec("DELETE FROM crdt_docs WHERE name = ?", {name});
}

namespace {
Value bits(const std::optional<std::uint64_t>& v) {
    return v ? Value(static_cast<std::int64_t>(*v)) : Value(nullptr);
}
std::optional<std::uint64_t> bits_at(const Row& r, std::size_t i) {
    if (auto* v = std::get_if<std::int64_t>(&r.at(i)))
        return static_cast<std::uint64_t>(*v);
    return std::nullopt;
}
} // namespace

Status MeshStore::put_registry(const std::vector<RegistryRow>& rows,
                               const std::vector<std::string>& erased) {
    if (rows.empty() && erased.empty())
        return Ok{};
    return db_->transaction([&]() -> Status {
        for (const auto& r : rows)
            if (auto st = db_->exec(
                    "INSERT INTO registry_entries (element, add_ts, add_replica, remove_ts, "
                    "remove_replica) VALUES (?, ?, ?, ?, ?) ON CONFLICT(element) DO UPDATE SET "
                    "add_ts = excluded.add_ts, add_replica = excluded.add_replica, "
                    "remove_ts = excluded.remove_ts, remove_replica = excluded.remove_replica",
                    {r.element, bits(r.add_ts), bits(r.add_replica), bits(r.remove_ts),
                     bits(r.remove_replica)});
                !st)
                return st;
        for (const auto& e : erased)
            if (auto st = db_->exec("DELETE FROM registry_entries WHERE element = ?", {e}); !st)
                return st;
        return Ok{};
    });
}

Result<std::vector<RegistryRow>> MeshStore::registry_rows() {
    auto rows = db_->query("SELECT element, add_ts, add_replica, remove_ts, remove_replica FROM "
                           "registry_entries");
    if (!rows)
        return rows.error();
    std::vector<RegistryRow> out;
    out.reserve(rows.value().size());
    for (const auto& r : rows.value())
        out.push_back({text_at(r, 0), bits_at(r, 1), bits_at(r, 2), bits_at(r, 3), bits_at(r, 4)});
    return out;
}

} // namespace f0::store

// Thin SQLite wrapper with bound parameters only (no string-built SQL from outside data).
#include "store/database.hpp"

#include <sqlite3.h>

namespace f0::store {

namespace {
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS peers (
  id TEXT PRIMARY KEY,
  pub_key TEXT NOT NULL,
  region TEXT NOT NULL DEFAULT '',
  endpoint TEXT NOT NULL DEFAULT '',
  lat REAL,
  lon REAL,
  registered_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mesh_links (
  peer TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  role TEXT NOT NULL,
  desired INTEGER NOT NULL DEFAULT 1,
  created_ms INTEGER NOT NULL,
  opened_ms INTEGER,
  closed_ms INTEGER,
  last_error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  rtt_ms REAL,
  jitter_ms REAL,
  loss_pct REAL,
  bitrate_kbps REAL,
  qos_ms INTEGER
);
CREATE TABLE IF NOT EXISTS qos_samples (
  peer TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  rtt_ms REAL,
  jitter_ms REAL NOT NULL,
  loss_pct REAL NOT NULL,
  tx_kbps REAL NOT NULL,
  rx_kbps REAL NOT NULL,
  sctp_rtt_ms REAL,
  probes INTEGER NOT NULL,
  health TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS qos_samples_peer_ts ON qos_samples (peer, ts_ms);
CREATE TABLE IF NOT EXISTS gossip_messages (
  id TEXT PRIMARY KEY,
  origin TEXT NOT NULL,
  topic TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  hops INTEGER NOT NULL,
  payload TEXT NOT NULL,
  sig TEXT NOT NULL,
  from_peer TEXT NOT NULL,
  received_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gossip_messages_received ON gossip_messages (received_ms);
CREATE TABLE IF NOT EXISTS crdt_docs (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL, -- the codec's bytes, base64
  updated_ms INTEGER NOT NULL
);
-- The replicated registry, one row per element, so a change writes only what changed.
CREATE TABLE IF NOT EXISTS registry_entries (
  element TEXT PRIMARY KEY,
  add_ts INTEGER, add_replica INTEGER, remove_ts INTEGER, remove_replica INTEGER
);
-- Control messages a peer sent with a receipt requested, stored before the receipt is sent.
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  peer TEXT NOT NULL,
  id TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  is_binary INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  body TEXT NOT NULL, -- the text, or the bytes in base64
  UNIQUE (peer, id)
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
)sql";
} // namespace

Result<std::unique_ptr<Database>> Database::open(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::unique_ptr<Database> d(new Database());
    if (sqlite3_open_v2(path.c_str(), &d->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK)
        return make_error("cannot open database " + path.string() + ": " +
                          (d->db_ ? sqlite3_errmsg(d->db_) : "out of memory"));
    sqlite3_busy_timeout(d->db_, 2000);
    for (const char* pragma :
         {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
        if (auto st = d->exec(pragma); !st)
            return st.error();
    }
    char* err = nullptr;
    if (sqlite3_exec(d->db_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string m = err ? err : "unknown";
        sqlite3_free(err);
        return make_error("schema migration failed: " + m);
    }
    // A file store checkpoints on its own thread (see checkpoint_loop), not in the writer.
    if (path != ":memory:") {
        if (auto st = d->exec("PRAGMA wal_autocheckpoint=0"); !st)
            return st.error();
        d->checkpointer_ = std::thread([db = d.get(), path] { db->checkpoint_loop(path); });
    }
    return d;
}

Database::~Database() {
    {
        std::lock_guard lock(stop_mu_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    if (checkpointer_.joinable())
        checkpointer_.join();
    if (db_)
        sqlite3_close_v2(db_); // the last connection: SQLite checkpoints the WAL as it closes
}

void Database::checkpoint_loop(std::filesystem::path path) {
    constexpr auto kCheckpointEvery = std::chrono::milliseconds(500);
    sqlite3* c = nullptr;
    if (sqlite3_open_v2(path.c_str(), &c, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(c);
        return; // no background checkpoints: the WAL is checkpointed when the store closes
    }
    sqlite3_busy_timeout(c, 100);
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, kCheckpointEvery, [this] { return stopping_; })) {
        lock.unlock();
        // PASSIVE: copies what no reader needs into the database and fsyncs, never waiting on
        // the writer; what it cannot copy now it copies next time.
        sqlite3_wal_checkpoint_v2(c, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        lock.lock();
    }
    lock.unlock();
    sqlite3_close_v2(c);
}

Result<sqlite3_stmt*> Database::prepare(const std::string& sql, const std::vector<Value>& params) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
        return make_error(std::string("sql: ") + sqlite3_errmsg(db_));
    for (std::size_t i = 0; i < params.size(); ++i) {
        int idx = static_cast<int>(i + 1);
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::nullptr_t>)
                    sqlite3_bind_null(st, idx);
                else if constexpr (std::is_same_v<T, std::int64_t>)
                    sqlite3_bind_int64(st, idx, v);
                else if constexpr (std::is_same_v<T, double>)
                    sqlite3_bind_double(st, idx, v);
                else
                    sqlite3_bind_text(st, idx, v.c_str(), static_cast<int>(v.size()),
                                      SQLITE_TRANSIENT);
            },
            params[i]);
    }
    return st;
}

Status Database::exec(const std::string& sql, const std::vector<Value>& params) {
    auto st = prepare(sql, params);
    if (!st)
        return st.error();
    int rc;
    while ((rc = sqlite3_step(st.value())) == SQLITE_ROW) {
    }
    sqlite3_finalize(st.value());
    if (rc != SQLITE_DONE)
        return make_error(std::string("sql: ") + sqlite3_errmsg(db_));
    return Ok{};
}

Result<std::vector<Row>> Database::query(const std::string& sql, const std::vector<Value>& params) {
    std::vector<Row> rows;
    auto st = query_each(sql, params, [&](Row&& r) {
        rows.push_back(std::move(r));
        return true;
    });
    if (!st)
        return st.error();
    return rows;
}

Status Database::query_each(const std::string& sql, const std::vector<Value>& params,
                            const std::function<bool(Row&&)>& each) {
    auto st = prepare(sql, params);
    if (!st)
        return st.error();
    int rc;
    while ((rc = sqlite3_step(st.value())) == SQLITE_ROW) {
        Row row;
        int n = sqlite3_column_count(st.value());
        for (int i = 0; i < n; ++i) {
            switch (sqlite3_column_type(st.value(), i)) {
            case SQLITE_INTEGER:
                row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(st.value(), i)));
                break;
            case SQLITE_FLOAT:
                row.emplace_back(sqlite3_column_double(st.value(), i));
                break;
            case SQLITE_NULL:
                row.emplace_back(nullptr);
                break;
            default:
                row.emplace_back(
                    std::string(reinterpret_cast<const char*>(sqlite3_column_text(st.value(), i)),
                                static_cast<std::size_t>(sqlite3_column_bytes(st.value(), i))));
            }
        }
        if (!each(std::move(row))) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st.value());
    if (rc != SQLITE_DONE)
        return make_error(std::string("sql: ") + sqlite3_errmsg(db_));
    return Ok{};
}

Status Database::transaction(const std::function<Status()>& body) {
    if (auto st = exec("BEGIN IMMEDIATE"); !st)
        return st;
    Status st = body();
    if (st)
        st = exec("COMMIT");
    if (!st)
        (void)exec("ROLLBACK");
    return st;
}

std::string text_at(const Row& r, std::size_t i) {
    if (auto* s = std::get_if<std::string>(&r.at(i)))
        return *s;
    return {};
}

std::int64_t int_at(const Row& r, std::size_t i) {
    if (auto* v = std::get_if<std::int64_t>(&r.at(i)))
        return *v;
    if (auto* d = std::get_if<double>(&r.at(i)))
        return static_cast<std::int64_t>(*d);
    return 0;
}

std::optional<double> real_at(const Row& r, std::size_t i) {
    if (auto* d = std::get_if<double>(&r.at(i)))
        return *d;
    if (auto* v = std::get_if<std::int64_t>(&r.at(i)))
        return static_cast<double>(*v);
    return std::nullopt;
}

} // namespace f0::store

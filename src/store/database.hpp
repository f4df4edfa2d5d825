// SQLite in WAL mode: one connection, owned by the control plane. A SIGKILL loses nothing that
// was committed. Schema migrations run on open.
#pragma once

#include "util/result.hpp"

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace f0::store {

using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
using Row = std::vector<Value>;

class Database {
public:
    static Result<std::unique_ptr<Database>> open(const std::filesystem::path& path);
    ~Database();

    Status exec(const std::string& sql, const std::vector<Value>& params = {});
    Result<std::vector<Row>> query(const std::string& sql, const std::vector<Value>& params = {});
    // Rows one at a time; `each` returns false to stop early (the rest are never read).
    Status query_each(const std::string& sql, const std::vector<Value>& params,
                      const std::function<bool(Row&&)>& each);
    // Runs body inside BEGIN IMMEDIATE / COMMIT; rolls back when body (or the commit) fails.
    Status transaction(const std::function<Status()>& body);

private:
    Database() = default;
    Result<sqlite3_stmt*> prepare(const std::string& sql, const std::vector<Value>& params);
    void checkpoint_loop(std::filesystem::path path);
    sqlite3* db_ = nullptr;
    // WAL checkpoints (the only writes that fsync, with synchronous=NORMAL) run on their own
    // thread and connection, every kCheckpointEvery: a slow disk never stalls the thread that
    // owns the database (the control thread).
    std::thread checkpointer_;
    std::mutex stop_mu_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
};

// Helpers to read typed values out of a Row.
std::string text_at(const Row& r, std::size_t i);
std::int64_t int_at(const Row& r, std::size_t i);
std::optional<double> real_at(const Row& r, std::size_t i);

} // namespace f0::store

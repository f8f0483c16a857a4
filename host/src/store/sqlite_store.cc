#include "store/sqlite_store.h"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/levels_json.h"
#include "store/migrations.h"

namespace polyhost {
namespace {

// soci-sqlite3.h includes <sqlite3.h> inside namespace sqlite_api.
using namespace sqlite_api;  // NOLINT(build/namespaces)

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

sqlite3* RawHandle(soci::session& sql) {
  return static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
}

// Runs SQL without results on a raw handle; throws StoreError("what: reason").
void Exec(sqlite3* db, const char* sql, std::string_view what) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string reason = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw StoreError(std::string(what) + ": " + reason);
  }
}

// Rolls back if a transaction is open; never throws.
void RollbackQuietly(sqlite3* db) {
  if (db != nullptr && sqlite3_get_autocommit(db) == 0) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

// A prepared statement on a raw handle. Callers Reset() before binding and after
// reading, so that no statement keeps a read transaction open.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql, bool persistent) : db_(db) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
      throw StoreError("cannot prepare statement (" + std::string(sqlite3_errmsg(db)) + "): " +
                       std::string(sql));
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&& other) noexcept {
    if (this != &other) {
      Finalize();
      db_ = other.db_;
      stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
  }
  ~Stmt() { Finalize(); }

  void Finalize() {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
  void Reset() { sqlite3_reset(stmt_); }
  void Int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Null(int i) { sqlite3_bind_null(stmt_, i); }
  // The text must stay alive until the statement is stepped (SQLITE_STATIC).
  void Text(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  // True when a row is available, false when done; throws (after resetting) on error.
  bool Step(std::string_view what) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    std::string reason = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_);
    throw StoreError(std::string(what) + ": " + reason);
  }
  // Steps a statement that returns no rows, then resets it.
  void Run(std::string_view what) {
    Step(what);
    sqlite3_reset(stmt_);
  }
  int64_t ColInt(int c) const { return sqlite3_column_int64(stmt_, c); }
  bool ColNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::string_view ColText(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c)));
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// A transaction on a raw handle that rolls back unless committed.
class Txn {
 public:
  Txn(sqlite3* db, const char* begin, std::string_view what) : db_(db) { Exec(db, begin, what); }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() {
    if (db_ != nullptr) RollbackQuietly(db_);
  }
  void Commit(std::string_view what) {
    Exec(db_, "COMMIT", what);
    db_ = nullptr;
  }

 private:
  sqlite3* db_;
};

int64_t QueryInt(sqlite3* db, const char* sql, std::string_view what) {
  Stmt s(db, sql, false);
  const int64_t v = s.Step(what) ? s.ColInt(0) : 0;
  s.Reset();
  return v;
}

// Rebuilds an outcome's book from its latest snapshot and the events after it.
class BookLoader {
 public:
  explicit BookLoader(sqlite3* db)
      : snapshot_(db,
                  "SELECT id, ts_ms, seq, event_watermark, levels_json FROM orderbook_snapshots"
                  " WHERE outcome_id = ?1 AND event_watermark <= ?2"
                  " ORDER BY event_watermark DESC, id DESC LIMIT 1",
                  false),
        events_(db,
                "SELECT id, ts_ms, seq, kind, side, price, size, levels_json FROM orderbook_events"
                " WHERE outcome_id = ?1 AND id > ?2 AND id <= ?3 ORDER BY id",
                false) {}

  enum class Result { kEmpty, kSnapshotOnly, kEvents };

  // Replaces out->book and sets out->seq/ts_ms from the last snapshot or event
  // applied (events with id <= upto only). kEmpty: the outcome has neither (the
  // book is then empty and seq/ts_ms untouched).
  Result Rebuild(int64_t outcome_id, int64_t upto, StoredBook* out) {
    out->book = OrderBook();
    bool any = false;
    bool events = false;
    int64_t from = 0;
    snapshot_.Reset();
    snapshot_.Int(1, outcome_id);
    snapshot_.Int(2, upto);
    if (snapshot_.Step("cannot read orderbook_snapshots")) {
      any = true;
      from = snapshot_.ColInt(3);
      out->ts_ms = snapshot_.ColInt(1);
      out->seq = snapshot_.ColInt(2);
      ApplyLevelsJson(snapshot_.ColText(4), "orderbook_snapshots", snapshot_.ColInt(0), out);
    }
    snapshot_.Reset();

    events_.Reset();
    events_.Int(1, outcome_id);
    events_.Int(2, from);
    events_.Int(3, upto);
    try {
      while (events_.Step("cannot read orderbook_events")) {
        events = true;
        const int64_t id = events_.ColInt(0);
        out->ts_ms = events_.ColInt(1);
        out->seq = events_.ColInt(2);
        switch (static_cast<EventKind>(events_.ColInt(3))) {
          case EventKind::kBook:
            ApplyLevelsJson(events_.ColText(7), "orderbook_events", id, out);
            break;
          case EventKind::kLevel: {
            if (events_.ColNull(4) || events_.ColNull(5) || events_.ColNull(6)) {
              throw StoreError("orderbook_events id " + std::to_string(id) + ": level event without side/price/size");
            }
            const int64_t side = events_.ColInt(4);
            out->book.ApplyLevel(side == 0 ? Side::kBid : Side::kAsk, events_.ColInt(5), events_.ColInt(6));
            break;
          }
          case EventKind::kTick:
            out->book.set_tick_size(events_.ColInt(5));
            break;
          default:
            throw StoreError("orderbook_events id " + std::to_string(id) + ": unknown kind " +
                             std::to_string(events_.ColInt(3)));
        }
      }
    } catch (...) {
      events_.Reset();
      throw;
    }
    events_.Reset();
    return events ? Result::kEvents : any ? Result::kSnapshotOnly : Result::kEmpty;
  }

 private:
  void ApplyLevelsJson(std::string_view json, const char* table, int64_t id, StoredBook* out) {
    int64_t tick = 0;
    std::string error;
    if (!DecodeLevelsJson(json, &bids_, &asks_, &tick, &error)) {
      throw StoreError(std::string(table) + " id " + std::to_string(id) + ": bad levels_json: " + error);
    }
    out->book.ApplySnapshot(bids_, asks_);
    if (tick != 0) out->book.set_tick_size(tick);
  }

  Stmt snapshot_;
  Stmt events_;
  std::vector<Level> bids_, asks_;
};

// The connect string of SOCI's sqlite3 backend.
std::string ConnectString(const std::string& path, bool read_only) {
  if (path.find('"') != std::string::npos) {
    throw StoreError("database path may not contain a double quote: " + path);
  }
  std::string s = "db=\"" + path + "\"";
  if (read_only) s += " readonly=true";
  return s;
}

std::unique_ptr<soci::session> OpenSession(const DbUrl& url, bool read_only) {
  try {
    return std::make_unique<soci::session>(soci::sqlite3, ConnectString(url.path, read_only));
  } catch (const soci::soci_error& e) {
    throw StoreError("cannot open database " + url.redacted + ": " + e.get_error_message());
  }
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const DbUrl& url, const StoreOptions& options)
      : url_(url), options_(options), memory_(url.path == ":memory:") {}
  ~SqliteStore() override;

  void Init();

  int schema_version() override { return schema_version_; }
  int64_t RegisterSource(std::string_view path, int64_t* committed_line) override;
  void Submit(WriteBatch batch) override;
  void Flush() override;
  StoreStats stats() const override;
  std::vector<AssetStatus> Status() override;
  std::optional<StoredBook> LoadBook(std::string_view market, std::string_view asset_id) override;
  int64_t SnapshotFromStore(int64_t ts_ms) override;
  int64_t PruneEventsBefore(int64_t ts_ms) override;

 private:
  struct BatchResult {
    int64_t written = 0;
    int64_t skipped = 0;
  };
  // An event inserted by the current batch (tracked only when it has snapshots).
  struct Inserted {
    uint32_t key;
    int64_t seq;
    int64_t id;
  };

  void ConfigureConnection(sqlite3* db, bool writer);
  void PrepareWriter();
  void WriterLoop();
  BatchResult ApplyBatch(const WriteBatch& b);  // under write_mu_
  int64_t CommittedLine(int64_t source_id);     // under write_mu_
  int64_t OutcomeId(uint32_t key) const;        // under write_mu_
  void RequireWritable(const char* what) const;
  void ThrowIfFailedLocked() const;  // under mu_
  void InsertSnapshot(int64_t outcome_id, int64_t ts_ms, int64_t seq, int64_t watermark,
                      const OrderBook& book);  // under write_mu_

  // Runs f(sqlite3*, soci::session&) on the reading connection.
  template <class F>
  auto WithReader(F&& f) {
    if (memory_) {
      std::lock_guard<std::mutex> lock(write_mu_);
      return f(wdb_, *wsql_);
    }
    std::lock_guard<std::mutex> lock(read_mu_);
    return f(rdb_, *rsql_);
  }

  const DbUrl url_;
  const StoreOptions options_;
  const bool memory_;
  int schema_version_ = 0;

  // The writer's connection and everything the writer thread touches.
  std::mutex write_mu_;
  std::unique_ptr<soci::session> wsql_;
  sqlite3* wdb_ = nullptr;
  Stmt begin_, commit_;
  Stmt insert_outcome_, select_outcome_;
  Stmt insert_event_, upsert_status_, insert_snapshot_, max_event_id_;
  Stmt select_source_, update_source_;
  std::vector<int64_t> key_to_outcome_;                 // asset key -> outcomes.id (0 = unknown)
  std::unordered_map<int64_t, int64_t> committed_;      // source id -> committed_line
  std::vector<Inserted> inserted_;                      // per batch scratch
  std::unordered_map<uint32_t, int64_t> skipped_seq_;   // per batch scratch: key -> max seq skipped

  // The reader's connection (unused for ":memory:").
  std::mutex read_mu_;
  std::unique_ptr<soci::session> rsql_;
  sqlite3* rdb_ = nullptr;

  // The queue between Submit() and the writer thread.
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_, progress_;
  std::deque<WriteBatch> queue_;
  bool stop_ = false;
  bool failed_ = false;
  std::string error_;
  int64_t submitted_ = 0;
  int64_t completed_ = 0;
  StoreStats stats_;
  std::thread writer_;
};

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  not_empty_.notify_all();
  if (writer_.joinable()) writer_.join();
  // Statements before their connections (sqlite3_close refuses open statements).
  for (Stmt* s : {&begin_, &commit_, &insert_outcome_, &select_outcome_, &insert_event_, &upsert_status_,
                  &insert_snapshot_, &max_event_id_, &select_source_, &update_source_}) {
    s->Finalize();
  }
}

void SqliteStore::ConfigureConnection(sqlite3* db, bool writer) {
  sqlite3_busy_timeout(db, std::max(0, options_.busy_timeout_ms));
  const char* what = "cannot configure database";
  if (writer) {
    if (options_.wal && !memory_) Exec(db, "PRAGMA journal_mode = WAL", what);
    Exec(db, "PRAGMA synchronous = NORMAL", what);
    Exec(db, "PRAGMA foreign_keys = ON", what);
    // The writer touches the right-hand leaf of each outcome's index range; a
    // larger cache keeps those hot across batches.
    Exec(db, "PRAGMA cache_size = -65536", what);
    Exec(db, "PRAGMA temp_store = MEMORY", what);
  } else {
    Exec(db, "PRAGMA query_only = ON", what);
  }
}

void SqliteStore::Init() {
  const std::string& path = url_.path;
  if (options_.read_only) {
    if (memory_) throw StoreError("cannot open an in-memory database read-only (it would be empty)");
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw StoreError("database not found: " + path);
    rsql_ = OpenSession(url_, /*read_only=*/true);
    rdb_ = RawHandle(*rsql_);
    try {
      ConfigureConnection(rdb_, /*writer=*/false);
      schema_version_ = CurrentSchemaVersion(*rsql_);
    } catch (const StoreError& e) {
      throw StoreError("cannot read database " + path + ": " + e.what());
    }
    if (schema_version_ == 0) {
      throw StoreError(path + " is not a polyhost database (no schema_version); run a replay to create one");
    }
    if (schema_version_ > LatestSqliteSchemaVersion()) {
      throw StoreError("database schema version " + std::to_string(schema_version_) +
                       " is newer than this build of polyhost supports (" +
                       std::to_string(LatestSqliteSchemaVersion()) + "); use a newer polyhost");
    }
    return;
  }

  wsql_ = OpenSession(url_, /*read_only=*/false);
  wdb_ = RawHandle(*wsql_);
  try {
    ConfigureConnection(wdb_, /*writer=*/true);
    schema_version_ = ApplyMigrations(*wsql_, SqliteMigrations());
  } catch (const StoreError& e) {
    throw StoreError("cannot open database " + path + ": " + e.what());
  }
  if (!memory_) {
    rsql_ = OpenSession(url_, /*read_only=*/false);
    rdb_ = RawHandle(*rsql_);
    ConfigureConnection(rdb_, /*writer=*/false);
  }
  PrepareWriter();
  writer_ = std::thread([this] { WriterLoop(); });
}

void SqliteStore::PrepareWriter() {
  sqlite3* db = wdb_;
  begin_ = Stmt(db, "BEGIN IMMEDIATE", true);
  commit_ = Stmt(db, "COMMIT", true);
  insert_outcome_ = Stmt(db,
                         "INSERT INTO outcomes (market, asset_id) VALUES (?1, ?2)"
                         " ON CONFLICT (market, asset_id) DO NOTHING",
                         true);
  select_outcome_ = Stmt(db, "SELECT id FROM outcomes WHERE market = ?1 AND asset_id = ?2", true);
  insert_event_ = Stmt(db,
                       "INSERT INTO orderbook_events (source_id, line, item, outcome_id, ts_ms, recv_ts_ms,"
                       " seq, kind, side, price, size, levels_json)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                       " ON CONFLICT (source_id, line, item) DO NOTHING",
                       true);
  upsert_status_ = Stmt(db,
                        "INSERT INTO market_status (outcome_id, last_update_ts_ms, seq, best_bid, best_ask,"
                        " stale, events, continuity_breaks, updated_ms)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                        " ON CONFLICT (outcome_id) DO UPDATE SET"
                        " last_update_ts_ms = excluded.last_update_ts_ms, seq = excluded.seq,"
                        " best_bid = excluded.best_bid, best_ask = excluded.best_ask, stale = excluded.stale,"
                        " events = excluded.events, continuity_breaks = excluded.continuity_breaks,"
                        " updated_ms = excluded.updated_ms",
                        true);
  insert_snapshot_ = Stmt(db,
                          "INSERT INTO orderbook_snapshots (outcome_id, ts_ms, seq, event_watermark, levels_json)"
                          " VALUES (?1, ?2, ?3, ?4, ?5)",
                          true);
  max_event_id_ = Stmt(db, "SELECT coalesce(max(id), 0) FROM orderbook_events", true);
  select_source_ = Stmt(db, "SELECT committed_line FROM sources WHERE id = ?1", true);
  update_source_ = Stmt(db, "UPDATE sources SET committed_line = ?2, updated_ms = ?3 WHERE id = ?1", true);
}

void SqliteStore::RequireWritable(const char* what) const {
  if (options_.read_only) throw StoreError(std::string(what) + ": the store was opened read-only");
}

void SqliteStore::ThrowIfFailedLocked() const {
  if (failed_) throw StoreError("database writer failed: " + error_);
}

// ---------------------------------------------------------------------------
// Writing

int64_t SqliteStore::RegisterSource(std::string_view path, int64_t* committed_line) {
  RequireWritable("RegisterSource");
  if (path.empty()) throw StoreError("RegisterSource: empty path");
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(std::filesystem::path(path), ec);
  const std::string key = ec ? std::string(path) : abs.lexically_normal().string();

  std::lock_guard<std::mutex> lock(write_mu_);
  long long id = 0;
  long long line = 0;
  try {
    const long long now = NowMs();
    *wsql_ << "INSERT INTO sources (path, committed_line, first_seen_ms, updated_ms) VALUES (:p, 0, :n, :n)"
              " ON CONFLICT (path) DO NOTHING",
        soci::use(key, "p"), soci::use(now, "n");
    *wsql_ << "SELECT id, committed_line FROM sources WHERE path = :p", soci::use(key), soci::into(id),
        soci::into(line);
  } catch (const soci::soci_error& e) {
    throw StoreError("cannot register source " + key + ": " + e.get_error_message());
  }
  // Batches of this source committed by this process may be ahead of nothing
  // else: the database row is the truth, the in-memory value only a cache.
  int64_t& cached = committed_[id];
  cached = std::max<int64_t>(cached, line);
  if (committed_line != nullptr) *committed_line = cached;
  return id;
}

void SqliteStore::Submit(WriteBatch batch) {
  RequireWritable("Submit");
  const size_t capacity = std::max<size_t>(1, options_.queue_batches);
  std::unique_lock<std::mutex> lock(mu_);
  ThrowIfFailedLocked();
  if (queue_.size() >= capacity) {
    ++stats_.queue_full_waits;
    not_full_.wait(lock, [&] { return queue_.size() < capacity || failed_; });
    ThrowIfFailedLocked();
  }
  queue_.push_back(std::move(batch));
  ++submitted_;
  lock.unlock();
  not_empty_.notify_one();
}

void SqliteStore::Flush() {
  if (options_.read_only) return;
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t target = submitted_;
  progress_.wait(lock, [&] { return completed_ >= target; });
  ThrowIfFailedLocked();
}

StoreStats SqliteStore::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void SqliteStore::WriterLoop() {
  for (;;) {
    WriteBatch batch;
    bool drop = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_empty_.wait(lock, [&] { return !queue_.empty() || stop_; });
      if (queue_.empty()) return;  // stopping, and everything is written
      batch = std::move(queue_.front());
      queue_.pop_front();
      drop = failed_;  // after a failure nothing more is written
    }
    not_full_.notify_one();
    BatchResult result;
    std::string error;
    if (!drop) {
      try {
        std::lock_guard<std::mutex> lock(write_mu_);
        result = ApplyBatch(batch);
      } catch (const std::exception& e) {
        error = e.what();
      } catch (...) {
        error = "unknown error";
      }
    }
    batch = WriteBatch();  // free it outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error.empty() && !failed_) {
        failed_ = true;
        error_ = error;
      }
      if (!drop && error.empty()) {
        ++stats_.batches;
        stats_.events_written += result.written;
        stats_.events_skipped += result.skipped;
      }
      ++completed_;
    }
    progress_.notify_all();
    if (!error.empty()) not_full_.notify_all();
  }
}

int64_t SqliteStore::CommittedLine(int64_t source_id) {
  auto it = committed_.find(source_id);
  if (it != committed_.end()) return it->second;
  select_source_.Reset();
  select_source_.Int(1, source_id);
  if (!select_source_.Step("cannot read sources")) {
    select_source_.Reset();
    throw StoreError("batch names source id " + std::to_string(source_id) + ", which RegisterSource never returned");
  }
  const int64_t line = select_source_.ColInt(0);
  select_source_.Reset();
  committed_[source_id] = line;
  return line;
}

int64_t SqliteStore::OutcomeId(uint32_t key) const {
  const int64_t id = key < key_to_outcome_.size() ? key_to_outcome_[key] : 0;
  if (id == 0) {
    throw StoreError("batch refers to asset key " + std::to_string(key) + ", which no batch announced in new_assets");
  }
  return id;
}

void SqliteStore::InsertSnapshot(int64_t outcome_id, int64_t ts_ms, int64_t seq, int64_t watermark,
                                 const OrderBook& book) {
  const std::string json = EncodeLevelsJson(book);
  insert_snapshot_.Reset();
  insert_snapshot_.Int(1, outcome_id);
  insert_snapshot_.Int(2, ts_ms);
  insert_snapshot_.Int(3, seq);
  insert_snapshot_.Int(4, watermark);
  insert_snapshot_.Text(5, json);
  insert_snapshot_.Run("cannot insert into orderbook_snapshots");
}

SqliteStore::BatchResult SqliteStore::ApplyBatch(const WriteBatch& b) {
  BatchResult result;
  sqlite3* db = wdb_;
  begin_.Run("cannot begin a write transaction");
  try {
    // 1. Assets: intern, then map the in-process key to outcomes.id.
    for (const NewAsset& a : b.new_assets) {
      insert_outcome_.Reset();
      insert_outcome_.Text(1, a.market);
      insert_outcome_.Text(2, a.asset_id);
      insert_outcome_.Run("cannot insert into outcomes");
      int64_t id;
      if (sqlite3_changes(db) == 1) {
        id = sqlite3_last_insert_rowid(db);
      } else {
        select_outcome_.Reset();
        select_outcome_.Text(1, a.market);
        select_outcome_.Text(2, a.asset_id);
        if (!select_outcome_.Step("cannot read outcomes")) throw StoreError("outcome vanished while interning it");
        id = select_outcome_.ColInt(0);
        select_outcome_.Reset();
      }
      if (a.key >= key_to_outcome_.size()) key_to_outcome_.resize(static_cast<size_t>(a.key) + 1, 0);
      key_to_outcome_[a.key] = id;
    }

    // 2. Events, skipping lines an earlier run already committed.
    const bool has_source = b.source_id != 0;
    const int64_t committed = has_source ? CommittedLine(b.source_id) : 0;
    // A batch wholly at or below the watermark was committed before (a resumed
    // replay resubmitting it): its status and snapshots are already there too.
    const bool already_committed = has_source && b.last_line > 0 && b.last_line <= committed;
    const bool track = !b.snapshots.empty() && !already_committed;
    inserted_.clear();
    skipped_seq_.clear();
    Stmt& ins = insert_event_;
    for (const EventRow& e : b.events) {
      const int64_t outcome_id = OutcomeId(e.asset_key);
      if (has_source && e.line <= committed) {
        ++result.skipped;
        if (track) {
          int64_t& s = skipped_seq_[e.asset_key];
          s = std::max(s, e.seq);
        }
        continue;
      }
      ins.Reset();
      if (has_source) {
        ins.Int(1, b.source_id);
      } else {
        ins.Null(1);
      }
      ins.Int(2, e.line);
      ins.Int(3, e.item);
      ins.Int(4, outcome_id);
      ins.Int(5, e.ts_ms);
      ins.Int(6, e.recv_ts_ms);
      ins.Int(7, e.seq);
      ins.Int(8, static_cast<int64_t>(e.kind));
      switch (e.kind) {
        case EventKind::kLevel:
          ins.Int(9, static_cast<int64_t>(e.side));
          ins.Int(10, e.price);
          ins.Int(11, e.size);
          ins.Null(12);
          break;
        case EventKind::kTick:
          ins.Null(9);
          ins.Int(10, e.price);
          ins.Null(11);
          ins.Null(12);
          break;
        case EventKind::kBook:
        default:
          ins.Null(9);
          ins.Null(10);
          ins.Null(11);
          ins.Text(12, e.levels_json);
          break;
      }
      ins.Step("cannot insert into orderbook_events");
      if (sqlite3_changes(db) == 1) {
        ++result.written;
        if (track) inserted_.push_back(Inserted{e.asset_key, e.seq, sqlite3_last_insert_rowid(db)});
      } else {
        ++result.skipped;  // the (source_id, line, item) key already exists
        if (track) {
          int64_t& s = skipped_seq_[e.asset_key];
          s = std::max(s, e.seq);
        }
      }
    }
    ins.Reset();

    if (!already_committed) {
      // 3. Status.
      const int64_t now = NowMs();
      for (const StatusRow& s : b.status) {
        upsert_status_.Reset();
        upsert_status_.Int(1, OutcomeId(s.asset_key));
        upsert_status_.Int(2, s.last_update_ts_ms);
        upsert_status_.Int(3, s.seq);
        upsert_status_.Int(4, s.best_bid);
        upsert_status_.Int(5, s.best_ask);
        upsert_status_.Int(6, s.stale ? 1 : 0);
        upsert_status_.Int(7, s.events);
        upsert_status_.Int(8, s.continuity_breaks);
        upsert_status_.Int(9, now);
        upsert_status_.Run("cannot upsert market_status");
      }

      // 4. Snapshots. A snapshot covers its asset's events with seq <= its seq,
      // so it may have been taken in the middle of the batch: its watermark stops
      // just before the first event of the asset it does not reflect.
      if (!b.snapshots.empty()) {
        max_event_id_.Reset();
        max_event_id_.Step("cannot read orderbook_events");
        const int64_t max_id = max_event_id_.ColInt(0);
        max_event_id_.Reset();
        std::stable_sort(inserted_.begin(), inserted_.end(), [](const Inserted& x, const Inserted& y) {
          return x.key != y.key ? x.key < y.key : x.seq < y.seq;
        });
        for (const SnapshotRow& s : b.snapshots) {
          const int64_t outcome_id = OutcomeId(s.asset_key);
          if (auto it = skipped_seq_.find(s.asset_key); it != skipped_seq_.end() && it->second > s.seq) {
            continue;  // taken before events an earlier run committed: it was written then
          }
          auto first_after = std::upper_bound(
              inserted_.begin(), inserted_.end(), std::make_pair(s.asset_key, s.seq),
              [](const std::pair<uint32_t, int64_t>& v, const Inserted& x) {
                return v.first != x.key ? v.first < x.key : v.second < x.seq;
              });
          const int64_t watermark =
              (first_after != inserted_.end() && first_after->key == s.asset_key) ? first_after->id - 1 : max_id;
          insert_snapshot_.Reset();
          insert_snapshot_.Int(1, outcome_id);
          insert_snapshot_.Int(2, s.ts_ms);
          insert_snapshot_.Int(3, s.seq);
          insert_snapshot_.Int(4, watermark);
          insert_snapshot_.Text(5, s.levels_json);
          insert_snapshot_.Run("cannot insert into orderbook_snapshots");
        }
      }
    }

    // 5. The source's progress, in the same transaction as its rows.
    if (has_source && b.last_line > committed) {
      update_source_.Reset();
      update_source_.Int(1, b.source_id);
      update_source_.Int(2, b.last_line);
      update_source_.Int(3, NowMs());
      update_source_.Run("cannot update sources");
    }
    commit_.Run("cannot commit");
    if (has_source && b.last_line > committed) committed_[b.source_id] = b.last_line;
  } catch (...) {
    RollbackQuietly(db);
    throw;
  }
  return result;
}

// ---------------------------------------------------------------------------
// Reading

std::vector<AssetStatus> SqliteStore::Status() {
  return WithReader([&](sqlite3*, soci::session& sql) {
    std::vector<AssetStatus> out;
    try {
      AssetStatus row;
      int stale = 0;
      long long ts = 0, seq = 0, bid = 0, ask = 0, events = 0, breaks = 0;
      soci::statement st =
          (sql.prepare << "SELECT o.market, o.asset_id, s.last_update_ts_ms, s.seq, s.best_bid, s.best_ask,"
                          " s.stale, s.events, s.continuity_breaks"
                          " FROM market_status s JOIN outcomes o ON o.id = s.outcome_id"
                          " ORDER BY o.market, o.asset_id",
           soci::into(row.market), soci::into(row.asset_id), soci::into(ts), soci::into(seq), soci::into(bid),
           soci::into(ask), soci::into(stale), soci::into(events), soci::into(breaks));
      st.execute();
      while (st.fetch()) {
        row.last_update_ts_ms = ts;
        row.seq = seq;
        row.best_bid = bid;
        row.best_ask = ask;
        row.stale = stale != 0;
        row.events = events;
        row.continuity_breaks = breaks;
        out.push_back(row);
      }
    } catch (const soci::soci_error& e) {
      throw StoreError(std::string("cannot read market status: ") + e.get_error_message());
    }
    return out;
  });
}

std::optional<StoredBook> SqliteStore::LoadBook(std::string_view market, std::string_view asset_id) {
  return WithReader([&](sqlite3* db, soci::session&) -> std::optional<StoredBook> {
    // One read transaction: the snapshot and the events after it are a consistent view.
    Txn txn(db, "BEGIN", "cannot begin a read transaction");
    Stmt find(db, "SELECT id FROM outcomes WHERE market = ?1 AND asset_id = ?2", false);
    find.Text(1, market);
    find.Text(2, asset_id);
    if (!find.Step("cannot read outcomes")) return std::nullopt;
    const int64_t outcome_id = find.ColInt(0);
    find.Reset();

    StoredBook out;
    out.market = std::string(market);
    out.asset_id = std::string(asset_id);
    BookLoader loader(db);
    const BookLoader::Result r = loader.Rebuild(outcome_id, std::numeric_limits<int64_t>::max(), &out);

    Stmt status(db, "SELECT seq, last_update_ts_ms, stale FROM market_status WHERE outcome_id = ?1", false);
    status.Int(1, outcome_id);
    if (status.Step("cannot read market_status")) {
      out.stale = status.ColInt(2) != 0;
      // ts_ms is the time of the book's last change: a snapshot row carries the
      // time it was taken, so when nothing followed it prefer the status row's
      // last update if that describes the same state.
      if (r == BookLoader::Result::kEmpty ||
          (r == BookLoader::Result::kSnapshotOnly && status.ColInt(0) == out.seq)) {
        out.seq = status.ColInt(0);
        out.ts_ms = status.ColInt(1);
      }
    }
    status.Reset();
    txn.Commit("cannot end a read transaction");
    return out;
  });
}

// ---------------------------------------------------------------------------
// Maintenance (under the writer's lock, in one IMMEDIATE transaction each)

int64_t SqliteStore::SnapshotFromStore(int64_t ts_ms) {
  RequireWritable("SnapshotFromStore");
  Flush();
  std::lock_guard<std::mutex> lock(write_mu_);
  sqlite3* db = wdb_;
  int64_t written = 0;
  Txn txn(db, "BEGIN IMMEDIATE", "cannot begin a write transaction");
  const int64_t watermark = QueryInt(db, "SELECT coalesce(max(id), 0) FROM orderbook_events", "cannot read orderbook_events");
  Stmt outcomes(db, "SELECT id FROM outcomes ORDER BY id", false);
  std::vector<int64_t> ids;
  while (outcomes.Step("cannot read outcomes")) ids.push_back(outcomes.ColInt(0));
  outcomes.Reset();
  BookLoader loader(db);
  StoredBook book;
  for (int64_t id : ids) {
    if (loader.Rebuild(id, watermark, &book) == BookLoader::Result::kEmpty) continue;
    InsertSnapshot(id, ts_ms, book.seq, watermark, book.book);
    ++written;
  }
  txn.Commit("cannot commit snapshots");
  return written;
}

int64_t SqliteStore::PruneEventsBefore(int64_t ts_ms) {
  RequireWritable("PruneEventsBefore");
  Flush();
  std::lock_guard<std::mutex> lock(write_mu_);
  sqlite3* db = wdb_;
  int64_t deleted = 0;
  Txn txn(db, "BEGIN IMMEDIATE", "cannot begin a write transaction");
  // The newest event row is never deleted, so max(id) never goes down and SQLite
  // never hands out an id again: a watermark always means the same events.
  const int64_t max_id = QueryInt(db, "SELECT coalesce(max(id), 0) FROM orderbook_events", "cannot read orderbook_events");
  Stmt outcomes(db, "SELECT id FROM outcomes ORDER BY id", false);
  std::vector<int64_t> ids;
  while (outcomes.Step("cannot read outcomes")) ids.push_back(outcomes.ColInt(0));
  outcomes.Reset();

  Stmt newest(db, "SELECT coalesce(max(event_watermark), 0) FROM orderbook_snapshots WHERE outcome_id = ?1", false);
  Stmt uncovered(db,
                 "SELECT EXISTS (SELECT 1 FROM orderbook_events WHERE outcome_id = ?1 AND id > ?2 AND ts_ms < ?3)",
                 false);
  Stmt remove(db,
              "DELETE FROM orderbook_events WHERE outcome_id = ?1 AND id <= ?2 AND ts_ms < ?3 AND id < ?4",
              false);
  BookLoader loader(db);
  StoredBook book;
  for (int64_t id : ids) {
    newest.Reset();
    newest.Int(1, id);
    newest.Step("cannot read orderbook_snapshots");
    int64_t covered = newest.ColInt(0);
    newest.Reset();

    uncovered.Reset();
    uncovered.Int(1, id);
    uncovered.Int(2, covered);
    uncovered.Int(3, ts_ms);
    uncovered.Step("cannot read orderbook_events");
    const bool needs_snapshot = uncovered.ColInt(0) != 0;
    uncovered.Reset();
    if (needs_snapshot && loader.Rebuild(id, max_id, &book) != BookLoader::Result::kEmpty) {
      InsertSnapshot(id, book.ts_ms, book.seq, max_id, book.book);
      covered = max_id;
    }
    if (covered == 0) continue;
    remove.Reset();
    remove.Int(1, id);
    remove.Int(2, covered);
    remove.Int(3, ts_ms);
    remove.Int(4, max_id);
    remove.Run("cannot delete from orderbook_events");
    deleted += sqlite3_changes(db);
  }
  // Snapshots older than a newer snapshot that is itself before the cutoff.
  Stmt superseded(db,
                  "DELETE FROM orderbook_snapshots WHERE EXISTS ("
                  " SELECT 1 FROM orderbook_snapshots n"
                  " WHERE n.outcome_id = orderbook_snapshots.outcome_id AND n.ts_ms < ?1"
                  " AND (n.event_watermark > orderbook_snapshots.event_watermark"
                  "      OR (n.event_watermark = orderbook_snapshots.event_watermark"
                  "          AND n.id > orderbook_snapshots.id)))",
                  false);
  superseded.Int(1, ts_ms);
  superseded.Run("cannot delete from orderbook_snapshots");
  deleted += sqlite3_changes(db);
  txn.Commit("cannot commit the prune");
  return deleted;
}

}  // namespace

std::unique_ptr<Store> OpenSqliteStore(const DbUrl& url, const StoreOptions& options) {
  auto store = std::make_unique<SqliteStore>(url, options);
  store->Init();
  return store;
}

}  // namespace polyhost

#include "store/sqlite_store.h"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/event_blocks.h"
#include "store/levels_json.h"
#include "store/migrations.h"
#include "store/wal_checkpointer.h"
#include "store/write_queue.h"

namespace polyhost {
namespace {

// soci-sqlite3.h includes <sqlite3.h> inside namespace sqlite_api.
using namespace sqlite_api;  // NOLINT(build/namespaces)

// How much WAL accumulates before a checkpoint: by SQLite's own automatic
// checkpoint on connections without a WalCheckpointer (see ConfigureConnection),
// or before the writer's WalCheckpointer starts a pass in the background; past
// kWalBackPressureBytes the writer waits for that pass.
constexpr int64_t kWalCheckpointBytes = 64 << 20;
constexpr int64_t kWalBackPressureBytes = 256 << 20;

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
  // The bytes must stay alive until the statement has been stepped (SQLITE_STATIC).
  void Text(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void Blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
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
  std::string_view ColBlob(int c) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
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

// ---------------------------------------------------------------------------
// Rebuilding books.

struct LevelsScratch {
  std::vector<Level> bids, asks;
};

void ApplyLevelsJson(std::string_view json, const char* table, int64_t id, LevelsScratch* scratch, OrderBook* book) {
  int64_t tick = 0;
  std::string error;
  if (!DecodeLevelsJson(json, &scratch->bids, &scratch->asks, &tick, &error)) {
    throw StoreError(std::string(table) + " id " + std::to_string(id) + ": bad levels_json: " + error);
  }
  book->ApplySnapshot(scratch->bids, scratch->asks);
  if (tick != 0) book->set_tick_size(tick);
}

// The columns a block is read from, in every query of blocks: its base, then events.
constexpr const char* kBlockColumns = "first_id, first_line, first_ts_ms, first_recv_ts_ms, first_seq, events";

// Appends the events of the orderbook_event_blocks row whose kBlockColumns start
// at column c; throws on a malformed block.
void DecodeBlock(const Stmt& s, int c, std::vector<BlockEvent>* out) {
  const BlockBase base{s.ColInt(c), s.ColInt(c + 1), s.ColInt(c + 2), s.ColInt(c + 3), s.ColInt(c + 4)};
  std::string error;
  if (!DecodeEventBlock(base, s.ColText(c + 5), out, &error)) {
    throw StoreError("orderbook_event_blocks first_id " + std::to_string(base.id) + ": bad events: " + error);
  }
}

// Blocks written by the store hold ascending ids and never overlap for one
// outcome; blocks regrouped by migration 5 or a copy are put in order here.
void SortById(std::vector<BlockEvent>* events) {
  auto by_id = [](const BlockEvent& a, const BlockEvent& b) { return a.id < b.id; };
  if (!std::is_sorted(events->begin(), events->end(), by_id)) std::stable_sort(events->begin(), events->end(), by_id);
}

void ApplyBlockEvent(const BlockEvent& e, LevelsScratch* scratch, StoredBook* out) {
  out->ts_ms = e.ts_ms;
  out->seq = e.seq;
  switch (e.kind) {
    case EventKind::kBook:
      ApplyLevelsJson(e.levels_json, "orderbook_events", e.id, scratch, &out->book);
      return;
    case EventKind::kLevel:
      out->book.ApplyLevel(e.side, e.price, e.size);
      return;
    case EventKind::kTick:
      out->book.set_tick_size(e.price);
      return;
  }
}

enum class Rebuilt { kEmpty, kSnapshotOnly, kEvents };

// One outcome's book: its newest snapshot, then the events after it, read from
// the outcome's blocks that end past the snapshot's watermark.
class OutcomeBookReader {
 public:
  explicit OutcomeBookReader(sqlite3* db)
      : snapshot_(db,
                  "SELECT id, ts_ms, seq, event_watermark, levels_json FROM orderbook_snapshots"
                  " WHERE outcome_id = ?1 ORDER BY event_watermark DESC, id DESC LIMIT 1",
                  false),
        blocks_(db,
                std::string("SELECT ") + kBlockColumns +
                    " FROM orderbook_event_blocks WHERE outcome_id = ?1 AND last_id > ?2 ORDER BY first_id",
                false) {}

  // Replaces out->book (and out->seq/ts_ms when anything is applied).
  Rebuilt Rebuild(int64_t outcome_id, StoredBook* out) {
    out->book = OrderBook();
    Rebuilt result = Rebuilt::kEmpty;
    int64_t watermark = 0;
    snapshot_.Reset();
    snapshot_.Int(1, outcome_id);
    if (snapshot_.Step("cannot read orderbook_snapshots")) {
      result = Rebuilt::kSnapshotOnly;
      watermark = snapshot_.ColInt(3);
      out->ts_ms = snapshot_.ColInt(1);
      out->seq = snapshot_.ColInt(2);
      ApplyLevelsJson(snapshot_.ColText(4), "orderbook_snapshots", snapshot_.ColInt(0), &scratch_, &out->book);
    }
    snapshot_.Reset();

    events_.clear();
    blocks_.Reset();
    blocks_.Int(1, outcome_id);
    blocks_.Int(2, watermark);
    while (blocks_.Step("cannot read orderbook_event_blocks")) DecodeBlock(blocks_, 0, &events_);
    blocks_.Reset();
    SortById(&events_);
    for (const BlockEvent& e : events_) {
      if (e.id <= watermark) continue;
      ApplyBlockEvent(e, &scratch_, out);
      result = Rebuilt::kEvents;
    }
    return result;
  }

 private:
  Stmt snapshot_, blocks_;
  std::vector<BlockEvent> events_;
  LevelsScratch scratch_;
};

struct RebuiltBook {
  StoredBook book;
  int64_t watermark = 0;  // of the snapshot it started from (0: none)
  bool any = false;       // a snapshot or an event was applied
};

// Rebuilds the books of `outcome_ids` as of event id `upto` (each from its newest
// snapshot with watermark <= upto, then its events up to `upto`) in one pass over
// the event blocks: the way to rebuild many books at once.
std::unordered_map<int64_t, RebuiltBook> RebuildBooks(sqlite3* db, const std::vector<int64_t>& outcome_ids,
                                                      int64_t upto) {
  std::unordered_map<int64_t, RebuiltBook> books;
  books.reserve(outcome_ids.size());
  for (int64_t id : outcome_ids) books.emplace(id, RebuiltBook());
  LevelsScratch scratch;

  Stmt snapshots(db,
                 "SELECT outcome_id, id, ts_ms, seq, event_watermark, levels_json FROM orderbook_snapshots"
                 " WHERE event_watermark <= ?1 ORDER BY outcome_id, event_watermark DESC, id DESC",
                 false);
  snapshots.Int(1, upto);
  int64_t previous = 0;
  while (snapshots.Step("cannot read orderbook_snapshots")) {
    const int64_t outcome_id = snapshots.ColInt(0);
    if (outcome_id == previous) continue;  // an older snapshot of the same outcome
    previous = outcome_id;
    auto it = books.find(outcome_id);
    if (it == books.end()) continue;
    RebuiltBook& b = it->second;
    b.any = true;
    b.watermark = snapshots.ColInt(4);
    b.book.ts_ms = snapshots.ColInt(2);
    b.book.seq = snapshots.ColInt(3);
    ApplyLevelsJson(snapshots.ColText(5), "orderbook_snapshots", snapshots.ColInt(1), &scratch, &b.book.book);
  }
  snapshots.Reset();

  int64_t from = upto;
  for (const auto& [id, b] : books) from = std::min(from, b.watermark);
  // Block by block, one outcome at a time (memory: one outcome's events).
  Stmt blocks(db,
              std::string("SELECT outcome_id, ") + kBlockColumns +
                  " FROM orderbook_event_blocks WHERE last_id > ?1 AND first_id <= ?2 ORDER BY outcome_id, first_id",
              false);
  blocks.Int(1, from);
  blocks.Int(2, upto);
  std::vector<BlockEvent> events;
  RebuiltBook* current = nullptr;
  auto apply = [&] {
    if (current == nullptr) return;
    SortById(&events);
    for (const BlockEvent& e : events) {
      if (e.id <= current->watermark || e.id > upto) continue;
      current->any = true;
      ApplyBlockEvent(e, &scratch, &current->book);
    }
    events.clear();
  };
  int64_t current_outcome = 0;
  while (blocks.Step("cannot read orderbook_event_blocks")) {
    const int64_t outcome_id = blocks.ColInt(0);
    if (outcome_id != current_outcome) {
      apply();
      current_outcome = outcome_id;
      auto it = books.find(outcome_id);
      current = it == books.end() ? nullptr : &it->second;
    }
    if (current != nullptr) DecodeBlock(blocks, 1, &events);
  }
  apply();
  blocks.Reset();
  return books;
}

std::vector<int64_t> AllOutcomeIds(sqlite3* db) {
  Stmt s(db, "SELECT id FROM outcomes ORDER BY id", false);
  std::vector<int64_t> ids;
  while (s.Step("cannot read outcomes")) ids.push_back(s.ColInt(0));
  s.Reset();
  return ids;
}

// ---------------------------------------------------------------------------
// Opening.

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

struct CloseConnection {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using OwnedConnection = std::unique_ptr<sqlite3, CloseConnection>;

// The writer's connection of a file database, opened without SOCI so that it can
// be SQLITE_OPEN_NOMUTEX: SOCI opens in serialized mode, where every bind and
// step takes the connection's mutex (~10% of the writer thread's time). Safe
// because every use of the writer's connection holds SqliteStore::write_mu_, so
// no two threads ever use it at once. Same flags as SOCI's otherwise.
OwnedConnection OpenWriterConnection(const DbUrl& url) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(url.path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  OwnedConnection owned(db);
  if (rc != SQLITE_OK) {
    throw StoreError("cannot open database " + url.redacted + ": " +
                     (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  return owned;
}

// ---------------------------------------------------------------------------

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
  ExecTimings ExecutionTimings() override;
  std::vector<OpenOrderRow> OpenOrders() override;
  std::optional<StoredBook> LoadBook(std::string_view market, std::string_view asset_id) override;
  int64_t SnapshotFromStore(int64_t ts_ms) override;
  int64_t PruneEventsBefore(int64_t ts_ms) override;
  int64_t UpsertMarkets(const std::vector<MarketRecord>& markets) override;
  std::vector<MarketRecord> ListMarkets(std::string_view search) override;

 private:
  struct BatchResult {
    int64_t written = 0;
    int64_t skipped = 0;
  };
  // An event of the current batch to insert, in feed order.
  struct Pending {
    const EventRow* event;
    int64_t outcome_id;
    int64_t id;  // given by WriteBlocks
  };

  void ConfigureConnection(sqlite3* db, bool writer);
  void PrepareWriter();
  // All under write_mu_:
  BatchResult ApplyBatch(const WriteBatch& b);
  // Returns the source's new committed line (the highest line kept, or `committed`).
  int64_t CollectPending(const WriteBatch& b, int64_t committed, BatchResult* result);
  int64_t MaxEventId();
  void WriteBlocks(int64_t source_id, bool track, BatchResult* result);
  void ClearBatchKeys();
  void WriteSnapshots(const WriteBatch& b);
  void WriteExecution(const WriteBatch& b);
  void NoteSkipped(const EventRow& e);
  int64_t CommittedLine(int64_t source_id);
  int64_t OutcomeId(uint32_t key) const;
  void InsertSnapshot(int64_t outcome_id, int64_t ts_ms, int64_t seq, int64_t watermark, std::string_view json);

  void RequireWritable(const char* what) const;
  // SQLite's WAL hook of the writer's connection: after each commit, on the writer's thread.
  static int OnWalCommit(void* self, sqlite3* db, const char* schema, int wal_frames);

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

  // The writer's connection and everything the writer thread touches. Every
  // use of wdb_ holds write_mu_ (wdb_owned_ is opened SQLITE_OPEN_NOMUTEX).
  std::mutex write_mu_;
  std::unique_ptr<soci::session> wsql_;  // ":memory:" only (it is also the reader)
  OwnedConnection wdb_owned_;            // file databases
  sqlite3* wdb_ = nullptr;
  Stmt begin_, commit_;
  Stmt insert_outcome_, select_outcome_;
  Stmt insert_block_;
  Stmt upsert_status_, insert_snapshot_, max_event_id_;
  Stmt select_source_, update_source_;
  Stmt insert_audit_, upsert_order_, select_order_, insert_fill_;
  std::vector<int64_t> key_to_outcome_;             // asset key -> outcomes.id (0 = unknown)
  // Per-batch scratch, kept to reuse its memory.
  std::vector<Pending> pending_;
  // An asset's block of the current batch.
  struct KeyBlock {
    std::vector<int64_t> ids;   // inserted by this batch, ascending
    std::vector<int64_t> seqs;  // and their seqs (only when the batch has snapshots)
    BlockBase base;
    BlockText text;  // orderbook_event_blocks.events
    int64_t min_ts = 0, max_ts = 0;
  };
  std::vector<KeyBlock> blocks_;  // by asset key
  std::vector<uint32_t> touched_keys_;
  bool track_skipped_ = false;
  std::unordered_map<uint32_t, int64_t> skipped_seq_;  // key -> max seq skipped

  // The reader's connection (unused for ":memory:").
  std::mutex read_mu_;
  std::unique_ptr<soci::session> rsql_;
  sqlite3* rdb_ = nullptr;

  // Checkpoints the WAL of a file database off the writer's thread.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  int64_t page_size_ = 0;

  // The queue between Submit() and the writer thread (last: its thread uses
  // the members above).
  std::unique_ptr<WriteQueue> queue_;
};

SqliteStore::~SqliteStore() {
  queue_.reset();  // writes what is queued, then joins the writer thread
  checkpointer_.reset();
  // Statements before their connections (sqlite3_close refuses open statements).
  for (Stmt* s : {&begin_, &commit_, &insert_outcome_, &select_outcome_, &insert_block_,
                  &upsert_status_, &insert_snapshot_, &max_event_id_,
                  &select_source_, &update_source_, &insert_audit_, &upsert_order_, &select_order_,
                  &insert_fill_}) {
    s->Finalize();
  }
}

void SqliteStore::ConfigureConnection(sqlite3* db, bool writer) {
  sqlite3_busy_timeout(db, std::max(0, options_.busy_timeout_ms));
  const char* what = "cannot configure database";
  if (writer) {
    // 16 KiB pages for a new database (a no-op on an existing one, which keeps
    // its page size): the same bytes in a quarter of the page writes, reads and
    // WAL frames. Must come before journal_mode, which creates the file.
    if (!memory_) Exec(db, "PRAGMA page_size = 16384", what);
    if (options_.wal && !memory_) Exec(db, "PRAGMA journal_mode = WAL", what);
    Exec(db, "PRAGMA synchronous = NORMAL", what);
    Exec(db, "PRAGMA foreign_keys = ON", what);
    Exec(db, "PRAGMA cache_size = -65536", what);  // 64 MiB
    Exec(db, "PRAGMA temp_store = MEMORY", what);
    // Checkpoint the WAL every 64 MiB instead of SQLite's 4 MiB: a write batch
    // of a replay is ~4 MiB, so the default checkpointed (copy into the database
    // file, two fdatasyncs) after nearly every commit, and pages dirtied by
    // consecutive batches (index leaves) were copied each time. On the 1M-line
    // benchmark replay with 4 KiB pages: 14% fewer page writes, 30 fdatasyncs
    // instead of 183. The WAL file may grow to about that size (docs/schema.md).
    if (options_.wal && !memory_) {
      const int64_t page_size = QueryInt(db, "PRAGMA page_size", what);
      const int64_t pages = std::max<int64_t>(1000, kWalCheckpointBytes / std::max<int64_t>(page_size, 512));
      Exec(db, ("PRAGMA wal_autocheckpoint = " + std::to_string(pages)).c_str(), what);
    }
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

  // Migrations run through SOCI (migrations.cc). An in-memory database is one
  // connection for everything, so it stays a SOCI session; a file database gets
  // a mutex-free writer connection (OpenWriterConnection) once migrated.
  std::unique_ptr<soci::session> migrator = OpenSession(url_, /*read_only=*/false);
  try {
    ConfigureConnection(RawHandle(*migrator), /*writer=*/true);
    schema_version_ = ApplyMigrations(*migrator, SqliteMigrations());
  } catch (const StoreError& e) {
    throw StoreError("cannot open database " + path + ": " + e.what());
  }
  if (memory_) {
    wsql_ = std::move(migrator);
    wdb_ = RawHandle(*wsql_);
  } else {
    migrator.reset();
    wdb_owned_ = OpenWriterConnection(url_);
    wdb_ = wdb_owned_.get();
    try {
      ConfigureConnection(wdb_, /*writer=*/true);
      if (options_.wal) {
        page_size_ = QueryInt(wdb_, "PRAGMA page_size", "cannot configure database");
        checkpointer_ = std::make_unique<WalCheckpointer>(path, options_.busy_timeout_ms, kWalCheckpointBytes,
                                                          kWalBackPressureBytes);
        sqlite3_wal_hook(wdb_, &SqliteStore::OnWalCommit, this);  // replaces the automatic checkpoint
      }
    } catch (const StoreError& e) {
      throw StoreError("cannot open database " + path + ": " + e.what());
    }
    rsql_ = OpenSession(url_, /*read_only=*/false);
    rdb_ = RawHandle(*rsql_);
    ConfigureConnection(rdb_, /*writer=*/false);
  }
  PrepareWriter();
  queue_ = std::make_unique<WriteQueue>(
      options_.queue_batches,
      [this](const WriteBatch& b) {
        std::lock_guard<std::mutex> lock(write_mu_);
        const BatchResult r = ApplyBatch(b);
        return WriteQueue::Applied{r.written, r.skipped};
      },
      "ph-store-writer");
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
  insert_block_ = Stmt(db,
                       "INSERT INTO orderbook_event_blocks (first_id, outcome_id, source_id, last_id, n_events,"
                       " min_ts_ms, max_ts_ms, first_line, first_ts_ms, first_recv_ts_ms, first_seq, events)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
  max_event_id_ = Stmt(db, "SELECT coalesce(max(last_id), 0) FROM orderbook_event_blocks", true);
  select_source_ = Stmt(db, "SELECT committed_line FROM sources WHERE id = ?1", true);
  update_source_ = Stmt(db, "UPDATE sources SET committed_line = ?2, updated_ms = ?3 WHERE id = ?1", true);
  insert_audit_ = Stmt(db,
                       "INSERT INTO exec_audit (plan_id, plugin, decision, reason, legs_json, event_to_plan_us,"
                       " plan_to_ack_us, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       true);
  upsert_order_ = Stmt(db,
                       "INSERT INTO orders (plan_id, leg, plugin, outcome_id, side, price_micros, size_micros, tif,"
                       " status, relayer, dry_run, filled_size_micros, error, created_ts_ms, updated_ts_ms)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)"
                       " ON CONFLICT (plan_id, leg) DO UPDATE SET status = excluded.status,"
                       " filled_size_micros = excluded.filled_size_micros, error = excluded.error,"
                       " updated_ts_ms = excluded.updated_ts_ms",
                       true);
  select_order_ = Stmt(db, "SELECT id FROM orders WHERE plan_id = ?1 AND leg = ?2", true);
  insert_fill_ = Stmt(db,
                      "INSERT INTO fills (order_id, price_micros, size_micros, fee_micros, ts_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)",
                      true);
}

int SqliteStore::OnWalCommit(void* self, sqlite3*, const char*, int wal_frames) {
  auto* store = static_cast<SqliteStore*>(self);
  store->checkpointer_->OnCommit(static_cast<int64_t>(wal_frames) * store->page_size_);
  return SQLITE_OK;
}

void SqliteStore::RequireWritable(const char* what) const {
  if (options_.read_only) throw StoreError(std::string(what) + ": the store was opened read-only");
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
  const std::string what = "cannot register source " + key;
  Stmt insert(wdb_,
              "INSERT INTO sources (path, committed_line, first_seen_ms, updated_ms) VALUES (?1, 0, ?2, ?2)"
              " ON CONFLICT (path) DO NOTHING",
              false);
  insert.Text(1, key);
  insert.Int(2, NowMs());
  insert.Run(what);
  Stmt select(wdb_, "SELECT id, committed_line FROM sources WHERE path = ?1", false);
  select.Text(1, key);
  if (!select.Step(what)) throw StoreError(what + ": its row vanished");
  const int64_t id = select.ColInt(0);
  if (committed_line != nullptr) *committed_line = select.ColInt(1);
  select.Reset();
  return id;
}

void SqliteStore::Submit(WriteBatch batch) {
  RequireWritable("Submit");
  queue_->Submit(std::move(batch));
}

void SqliteStore::Flush() {
  if (queue_) queue_->Flush();
}

StoreStats SqliteStore::stats() const {
  StoreStats s = queue_ ? queue_->stats() : StoreStats();
  if (checkpointer_) {
    const WalCheckpointer::Stats c = checkpointer_->stats();
    s.wal_checkpoints = c.passes;
    s.wal_checkpoint_waits = c.waits;
  }
  return s;
}

// Read inside the batch's write transaction, never cached: another process may
// have written the same source since (its batches serialise with ours).
int64_t SqliteStore::CommittedLine(int64_t source_id) {
  select_source_.Reset();
  select_source_.Int(1, source_id);
  if (!select_source_.Step("cannot read sources")) {
    select_source_.Reset();
    throw StoreError("batch names source id " + std::to_string(source_id) + ", which RegisterSource never returned");
  }
  const int64_t line = select_source_.ColInt(0);
  select_source_.Reset();
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
                                 std::string_view json) {
  insert_snapshot_.Reset();
  insert_snapshot_.Int(1, outcome_id);
  insert_snapshot_.Int(2, ts_ms);
  insert_snapshot_.Int(3, seq);
  insert_snapshot_.Int(4, watermark);
  insert_snapshot_.Text(5, json);
  insert_snapshot_.Run("cannot insert into orderbook_snapshots");
}

void SqliteStore::NoteSkipped(const EventRow& e) {
  if (!track_skipped_) return;
  int64_t& s = skipped_seq_[e.asset_key];
  s = std::max(s, e.seq);
}

// The events to insert, in feed order. A source's rows come in (line, item)
// order, each line whole in one batch (store.h), so a row at or below the last
// (line, item) accepted is already stored: below the committed line (a resumed
// run), or repeated by a caller that did not advance last_line. The committed
// line moves past every line written, so such repeats are caught in later
// batches too. This is what keeps events unique (schema version 4 dropped the
// per-row unique key; docs/schema.md).
int64_t SqliteStore::CollectPending(const WriteBatch& b, int64_t committed, BatchResult* result) {
  const bool has_source = b.source_id != 0;
  pending_.clear();
  pending_.reserve(b.events.size());
  int64_t high_line = committed;
  uint32_t high_item = UINT32_MAX;
  for (const EventRow& e : b.events) {
    const int64_t outcome_id = OutcomeId(e.asset_key);
    if (e.kind != EventKind::kBook && e.kind != EventKind::kLevel && e.kind != EventKind::kTick) {
      throw StoreError("event with unknown kind " + std::to_string(static_cast<int>(e.kind)) + " at line " +
                       std::to_string(e.line));
    }
    if (has_source) {
      if (e.line < high_line || (e.line == high_line && e.item <= high_item)) {
        ++result->skipped;
        NoteSkipped(e);
        continue;
      }
      high_line = e.line;
      high_item = e.item;
    }
    pending_.push_back(Pending{&e, outcome_id, 0});
  }
  return high_line;
}

int64_t SqliteStore::MaxEventId() {
  max_event_id_.Reset();
  max_event_id_.Step("cannot read orderbook_event_blocks");
  const int64_t max_id = max_event_id_.ColInt(0);
  max_event_id_.Reset();
  return max_id;
}

// Ids are given in feed order, not left to SQLite: max(id) + 1 onwards, under
// the write transaction (pruning never deletes the block holding the newest
// event, so an id is never handed out twice and watermarks keep their meaning).
// Then one orderbook_event_blocks row per asset key with events in the batch,
// in the order of their first events: each row is appended at the end of the
// table's b-tree. Leaves blocks_' ids (and, when `track`, seqs) filled for
// WriteSnapshots; ClearBatchKeys() empties them.
void SqliteStore::WriteBlocks(int64_t source_id, bool track, BatchResult* result) {
  const int64_t base_id = MaxEventId() + 1;
  for (size_t i = 0; i < pending_.size(); ++i) pending_[i].id = base_id + static_cast<int64_t>(i);
  result->written += static_cast<int64_t>(pending_.size());

  if (blocks_.size() < key_to_outcome_.size()) blocks_.resize(key_to_outcome_.size());
  touched_keys_.clear();
  // One pass in feed order, appending each event to its asset's block: the
  // batch's rows are read sequentially (grouping first and then reading each
  // asset's rows scattered over the batch stalled on memory most of the time).
  for (const Pending& p : pending_) {
    const EventRow& e = *p.event;
    KeyBlock& k = blocks_[e.asset_key];
    if (k.ids.empty()) {
      touched_keys_.push_back(e.asset_key);
      k.base = BlockBaseOf(p.id, e);
      k.text.clear();
      k.min_ts = k.max_ts = e.ts_ms;
    }
    k.ids.push_back(p.id);
    if (track) k.seqs.push_back(e.seq);
    AppendEventToBlock(k.base, p.id, e, &k.text);
    k.min_ts = std::min(k.min_ts, e.ts_ms);
    k.max_ts = std::max(k.max_ts, e.ts_ms);
  }
  for (uint32_t key : touched_keys_) {
    KeyBlock& k = blocks_[key];
    EndEventBlock(&k.text);
    insert_block_.Reset();
    insert_block_.Int(1, k.ids.front());
    insert_block_.Int(2, key_to_outcome_[key]);
    if (source_id != 0) {
      insert_block_.Int(3, source_id);
    } else {
      insert_block_.Null(3);
    }
    insert_block_.Int(4, k.ids.back());
    insert_block_.Int(5, static_cast<int64_t>(k.ids.size()));
    insert_block_.Int(6, k.min_ts);
    insert_block_.Int(7, k.max_ts);
    insert_block_.Int(8, k.base.line);
    insert_block_.Int(9, k.base.ts_ms);
    insert_block_.Int(10, k.base.recv_ts_ms);
    insert_block_.Int(11, k.base.seq);
    insert_block_.Text(12, k.text.view());
    insert_block_.Run("cannot insert into orderbook_event_blocks");
  }
}

void SqliteStore::ClearBatchKeys() {
  for (uint32_t key : touched_keys_) {
    blocks_[key].ids.clear();
    blocks_[key].seqs.clear();
  }
  touched_keys_.clear();
}

// A snapshot covers its asset's events with seq <= its seq, so it may have been
// taken in the middle of the batch: its watermark stops just before the first
// event of the asset that it does not reflect (the one with the least seq above
// the snapshot's, the earliest of equals; seqs normally rise in feed order, so
// that is a binary search in the asset's own ids).
void SqliteStore::WriteSnapshots(const WriteBatch& b) {
  const int64_t max_id = MaxEventId();
  for (const SnapshotRow& s : b.snapshots) {
    const int64_t outcome_id = OutcomeId(s.asset_key);
    if (auto it = skipped_seq_.find(s.asset_key); it != skipped_seq_.end() && it->second > s.seq) {
      continue;  // taken before events an earlier run committed: that run wrote it
    }
    int64_t watermark = max_id;
    if (s.asset_key < blocks_.size() && !blocks_[s.asset_key].seqs.empty()) {
      const std::vector<int64_t>& seqs = blocks_[s.asset_key].seqs;
      const std::vector<int64_t>& ids = blocks_[s.asset_key].ids;
      size_t first_after = seqs.size();
      if (std::is_sorted(seqs.begin(), seqs.end())) {
        first_after = static_cast<size_t>(std::upper_bound(seqs.begin(), seqs.end(), s.seq) - seqs.begin());
      } else {
        for (size_t i = 0; i < seqs.size(); ++i) {
          if (seqs[i] > s.seq && (first_after == seqs.size() || seqs[i] < seqs[first_after])) first_after = i;
        }
      }
      if (first_after < seqs.size()) watermark = ids[first_after] - 1;
    }
    InsertSnapshot(outcome_id, s.ts_ms, s.seq, watermark, s.levels_json);
  }
}

// Execution records: audits, orders (inserted on first sight, then updated by
// (plan_id, leg)), fills (of an order written by this or an earlier batch).
void SqliteStore::WriteExecution(const WriteBatch& b) {
  for (const AuditRow& a : b.audits) {
    insert_audit_.Reset();
    insert_audit_.Text(1, a.plan_id);
    insert_audit_.Text(2, a.plugin);
    insert_audit_.Text(3, a.decision);
    insert_audit_.Text(4, a.reason);
    insert_audit_.Text(5, a.legs_json.empty() ? std::string_view("[]") : std::string_view(a.legs_json));
    if (a.event_to_plan_us >= 0) {
      insert_audit_.Int(6, a.event_to_plan_us);
    } else {
      insert_audit_.Null(6);
    }
    if (a.plan_to_ack_us >= 0) {
      insert_audit_.Int(7, a.plan_to_ack_us);
    } else {
      insert_audit_.Null(7);
    }
    insert_audit_.Int(8, a.ts_ms);
    insert_audit_.Run("cannot insert into exec_audit");
  }
  for (const OrderRow& o : b.orders) {
    upsert_order_.Reset();
    upsert_order_.Text(1, o.plan_id);
    upsert_order_.Int(2, o.leg);
    upsert_order_.Text(3, o.plugin);
    upsert_order_.Int(4, OutcomeId(o.asset_key));
    upsert_order_.Int(5, static_cast<int64_t>(o.side));
    upsert_order_.Int(6, o.price);
    upsert_order_.Int(7, o.size);
    upsert_order_.Text(8, o.tif);
    upsert_order_.Text(9, o.status);
    upsert_order_.Text(10, o.relayer);
    upsert_order_.Int(11, o.dry_run ? 1 : 0);
    upsert_order_.Int(12, o.filled);
    upsert_order_.Text(13, o.error);
    upsert_order_.Int(14, o.ts_ms);
    upsert_order_.Run("cannot upsert orders");
  }
  for (const FillRow& f : b.fills) {
    select_order_.Reset();
    select_order_.Text(1, f.plan_id);
    select_order_.Int(2, f.leg);
    if (!select_order_.Step("cannot read orders")) {
      select_order_.Reset();
      throw StoreError("fill for plan " + f.plan_id + " leg " + std::to_string(f.leg) + ", which has no order row");
    }
    const int64_t order_id = select_order_.ColInt(0);
    select_order_.Reset();
    insert_fill_.Reset();
    insert_fill_.Int(1, order_id);
    insert_fill_.Int(2, f.price);
    insert_fill_.Int(3, f.size);
    insert_fill_.Int(4, f.fee_micros);
    insert_fill_.Int(5, f.ts_ms);
    insert_fill_.Run("cannot insert into fills");
  }
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

    // 2. Events, skipping lines an earlier run already committed; then where
    // each outcome's new events are.
    const bool has_source = b.source_id != 0;
    const int64_t committed = has_source ? CommittedLine(b.source_id) : 0;
    // A batch wholly at or below the watermark was committed before (a resumed
    // replay resubmitting it): its status and snapshots are already there too.
    const bool already_committed = has_source && b.last_line > 0 && b.last_line <= committed;
    const bool snapshots = !b.snapshots.empty() && !already_committed;
    track_skipped_ = snapshots;
    skipped_seq_.clear();
    const int64_t high_line = CollectPending(b, committed, &result);
    WriteBlocks(b.source_id, snapshots, &result);

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
      // 4. Snapshots.
      if (snapshots) WriteSnapshots(b);
    }
    // 5. Execution records. Always written: their plan ids belong to this run
    // (a resumed run makes new ones), and a later fill needs its order row.
    WriteExecution(b);

    // 6. The source's progress, in the same transaction as its rows: past every
    // line written, even when the caller did not say last_line.
    const int64_t new_committed = std::max(b.last_line, high_line);
    if (has_source && new_committed > committed) {
      update_source_.Reset();
      update_source_.Int(1, b.source_id);
      update_source_.Int(2, new_committed);
      update_source_.Int(3, NowMs());
      update_source_.Run("cannot update sources");
    }
    ClearBatchKeys();
    commit_.Run("cannot commit");
  } catch (...) {
    RollbackQuietly(db);
    for (KeyBlock& k : blocks_) {
      k.ids.clear();
      k.seqs.clear();
    }
    touched_keys_.clear();
    throw;
  }
  return result;
}

// ---------------------------------------------------------------------------
// Reading

ExecTimings SqliteStore::ExecutionTimings() {
  return WithReader([&](sqlite3*, soci::session& sql) {
    ExecTimings t;
    try {
      long long plans = 0, accepted = 0;
      sql << "SELECT count(*), coalesce(sum(decision = 'accepted'), 0) FROM exec_audit"
             " WHERE decision IN ('accepted', 'rejected')", soci::into(plans),
          soci::into(accepted);
      t.plans = plans;
      t.accepted = accepted;
      // Nearest-rank percentiles over the non-null measurements of one column.
      auto percentile = [&](const char* column, int pct) -> int64_t {
        long long n = 0;
        sql << "SELECT count(" << column << ") FROM exec_audit", soci::into(n);
        if (n == 0) return -1;
        long long rank = (n * pct + 99) / 100;
        if (rank < 1) rank = 1;
        long long v = 0;
        sql << "SELECT " << column << " FROM exec_audit WHERE " << column << " IS NOT NULL ORDER BY " << column
            << " LIMIT 1 OFFSET " << (rank - 1),
            soci::into(v);
        return v;
      };
      t.event_to_plan_p50_us = percentile("event_to_plan_us", 50);
      t.event_to_plan_p99_us = percentile("event_to_plan_us", 99);
      t.plan_to_ack_p50_us = percentile("plan_to_ack_us", 50);
      t.plan_to_ack_p99_us = percentile("plan_to_ack_us", 99);
    } catch (const soci::soci_error& e) {
      throw StoreError(std::string("cannot read exec_audit: ") + e.get_error_message());
    }
    return t;
  });
}

std::vector<OpenOrderRow> SqliteStore::OpenOrders() {
  return WithReader([&](sqlite3*, soci::session& sql) {
    std::vector<OpenOrderRow> out;
    try {
      OpenOrderRow row;
      int side = 0;
      long long price = 0, size = 0, filled = 0;
      soci::statement st =
          (sql.prepare << "SELECT r.plugin, o.market, o.asset_id, r.side, r.price_micros, r.size_micros,"
                          " r.filled_size_micros, r.status FROM orders r JOIN outcomes o ON o.id = r.outcome_id"
                          " WHERE r.status IN ('acked', 'partially_filled')"
                          " ORDER BY o.market, o.asset_id, r.side, r.price_micros DESC",
           soci::into(row.plugin), soci::into(row.market), soci::into(row.asset_id), soci::into(side),
           soci::into(price), soci::into(size), soci::into(filled), soci::into(row.status));
      st.execute();
      while (st.fetch()) {
        row.side = side == 0 ? Side::kBid : Side::kAsk;
        row.price = price;
        row.size = size;
        row.filled = filled;
        out.push_back(row);
      }
    } catch (const soci::soci_error& e) {
      throw StoreError(std::string("cannot read orders: ") + e.get_error_message());
    }
    return out;
  });
}

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
    // One read transaction: the snapshot and the events after it are one view.
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
    OutcomeBookReader reader(db);
    const Rebuilt r = reader.Rebuild(outcome_id, &out);

    Stmt status(db, "SELECT seq, last_update_ts_ms, stale FROM market_status WHERE outcome_id = ?1", false);
    status.Int(1, outcome_id);
    if (status.Step("cannot read market_status")) {
      out.stale = status.ColInt(2) != 0;
      // ts_ms is the time of the book's last change. A snapshot row carries the
      // time it was taken, so when nothing followed it prefer the status row's
      // last update if that describes the same state (same seq).
      if (r == Rebuilt::kEmpty || (r == Rebuilt::kSnapshotOnly && status.ColInt(0) == out.seq)) {
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
// Maintenance: under the writer's lock, each in one IMMEDIATE transaction.

int64_t SqliteStore::SnapshotFromStore(int64_t ts_ms) {
  RequireWritable("SnapshotFromStore");
  Flush();
  std::lock_guard<std::mutex> lock(write_mu_);
  sqlite3* db = wdb_;
  Txn txn(db, "BEGIN IMMEDIATE", "cannot begin a write transaction");
  const int64_t watermark = MaxEventId();
  const std::vector<int64_t> ids = AllOutcomeIds(db);
  std::unordered_map<int64_t, RebuiltBook> books = RebuildBooks(db, ids, watermark);
  int64_t written = 0;
  for (int64_t id : ids) {
    const RebuiltBook& b = books.at(id);
    if (!b.any) continue;
    InsertSnapshot(id, ts_ms, b.book.seq, watermark, EncodeLevelsJson(b.book.book));
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
  Txn txn(db, "BEGIN IMMEDIATE", "cannot begin a write transaction");
  // The block holding the newest event is never deleted, so max(id) never goes
  // down and no id is handed out twice: a watermark always means the same events.
  const int64_t max_id = MaxEventId();

  // What each outcome's newest snapshot covers.
  std::unordered_map<int64_t, int64_t> covered;
  for (int64_t id : AllOutcomeIds(db)) covered[id] = 0;
  {
    Stmt s(db, "SELECT outcome_id, max(event_watermark) FROM orderbook_snapshots GROUP BY outcome_id", false);
    while (s.Step("cannot read orderbook_snapshots")) covered[s.ColInt(0)] = s.ColInt(1);
  }

  // Outcomes with events older than the cutoff that no snapshot covers get one
  // first (as of now).
  int64_t least_covered = max_id;
  for (const auto& [id, w] : covered) least_covered = std::min(least_covered, w);
  std::vector<int64_t> need;
  {
    // One pass over the blocks with events no snapshot of some outcome covers
    // (a block's oldest event before the cutoff is enough: at worst an outcome
    // gets a snapshot it did not strictly need).
    Stmt s(db, "SELECT outcome_id, last_id FROM orderbook_event_blocks WHERE last_id > ?1 AND min_ts_ms < ?2", false);
    s.Int(1, least_covered);
    s.Int(2, ts_ms);
    while (s.Step("cannot read orderbook_event_blocks")) {
      auto it = covered.find(s.ColInt(0));
      if (it != covered.end() && s.ColInt(1) > it->second && it->second != max_id) {
        need.push_back(it->first);
        it->second = max_id;  // marked (it gets a snapshot at max_id below)
      }
    }
    s.Reset();
  }
  if (!need.empty()) {
    std::sort(need.begin(), need.end());
    std::unordered_map<int64_t, RebuiltBook> books = RebuildBooks(db, need, max_id);
    for (int64_t id : need) {
      const RebuiltBook& b = books.at(id);
      InsertSnapshot(id, b.book.ts_ms, b.book.seq, max_id, EncodeLevelsJson(b.book.book));
    }
  }

  int64_t deleted = 0;
  Exec(db, "CREATE TEMP TABLE IF NOT EXISTS prune_cover (outcome_id INTEGER PRIMARY KEY, watermark INTEGER NOT NULL)",
       "cannot prune");
  Exec(db, "DELETE FROM temp.prune_cover", "cannot prune");
  {
    Stmt ins(db, "INSERT INTO temp.prune_cover (outcome_id, watermark) VALUES (?1, ?2)", false);
    for (const auto& [id, w] : covered) {
      if (w == 0) continue;
      ins.Reset();
      ins.Int(1, id);
      ins.Int(2, w);
      ins.Run("cannot prune");
    }
  }
  {
    // Whole blocks, every event of them covered and older than the cutoff (an
    // outcome without a snapshot has no prune_cover row: the comparison is NULL
    // and nothing of it is deleted). A block with an event at or after the
    // cutoff stays whole until a later prune: a block is one write batch.
    Stmt del(db,
             "DELETE FROM orderbook_event_blocks WHERE last_id < ?1 AND last_id <= ?3 AND max_ts_ms < ?2"
             " AND last_id <= (SELECT watermark FROM temp.prune_cover c"
             "                 WHERE c.outcome_id = orderbook_event_blocks.outcome_id)"
             " RETURNING n_events",
             false);
    int64_t most_covered = 0;
    for (const auto& [id, w] : covered) most_covered = std::max(most_covered, w);
    del.Int(1, max_id);
    del.Int(2, ts_ms);
    del.Int(3, most_covered);
    while (del.Step("cannot delete from orderbook_event_blocks")) deleted += del.ColInt(0);
    del.Reset();
  }
  // Snapshots older than a newer snapshot that is itself before the cutoff. The
  // correlated delete is quadratic in an outcome's snapshots, so first ask the
  // cheap question: does any outcome have two or more snapshots before the cutoff?
  const bool superseded = QueryInt(db,
                                   ("SELECT count(*) FROM (SELECT 1 FROM orderbook_snapshots GROUP BY outcome_id"
                                    " HAVING sum(ts_ms < " + std::to_string(ts_ms) + ") >= 2 LIMIT 1)").c_str(),
                                   "cannot read orderbook_snapshots") > 0;
  if (superseded) {
    Stmt del(db,
             "DELETE FROM orderbook_snapshots WHERE EXISTS ("
             " SELECT 1 FROM orderbook_snapshots n"
             " WHERE n.outcome_id = orderbook_snapshots.outcome_id AND n.ts_ms < ?1"
             " AND (n.event_watermark > orderbook_snapshots.event_watermark"
             "      OR (n.event_watermark = orderbook_snapshots.event_watermark"
             "          AND n.id > orderbook_snapshots.id)))",
             false);
    del.Int(1, ts_ms);
    del.Run("cannot delete from orderbook_snapshots");
    deleted += sqlite3_changes(db);
  }
  Exec(db, "DROP TABLE temp.prune_cover", "cannot prune");
  txn.Commit("cannot commit the prune");
  return deleted;
}

}  // namespace

// The catalog is written on the writer's connection (under its lock), in its own
// transaction: a refresh never mixes with a feed batch.
int64_t SqliteStore::UpsertMarkets(const std::vector<MarketRecord>& markets) {
  RequireWritable("cannot write the market catalog");
  std::lock_guard<std::mutex> lock(write_mu_);
  Txn txn(wdb_, "BEGIN IMMEDIATE", "cannot begin the catalog transaction");
  Stmt market(wdb_,
              "INSERT INTO markets (condition_id, question, slug, event_id, neg_risk, tick_size_micros,"
              " min_order_size_micros, end_date_ms, active, closed, updated_ms)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
              " ON CONFLICT (condition_id) DO UPDATE SET question = excluded.question, slug = excluded.slug,"
              " event_id = excluded.event_id, neg_risk = excluded.neg_risk,"
              " tick_size_micros = excluded.tick_size_micros, min_order_size_micros = excluded.min_order_size_micros,"
              " end_date_ms = excluded.end_date_ms, active = excluded.active, closed = excluded.closed,"
              " updated_ms = excluded.updated_ms",
              false);
  Stmt outcome(wdb_,
               "INSERT INTO outcomes (market, asset_id, outcome) VALUES (?1, ?2, ?3)"
               " ON CONFLICT (market, asset_id) DO UPDATE SET outcome = excluded.outcome",
               false);
  for (const MarketRecord& m : markets) {
    market.Text(1, m.condition_id);
    market.Text(2, m.question);
    market.Text(3, m.slug);
    market.Text(4, m.event_id);
    market.Int(5, m.neg_risk ? 1 : 0);
    market.Int(6, m.tick_size_micros);
    market.Int(7, m.min_order_size_micros);
    market.Int(8, m.end_date_ms);
    market.Int(9, m.active ? 1 : 0);
    market.Int(10, m.closed ? 1 : 0);
    market.Int(11, m.updated_ms);
    market.Run("cannot write market " + m.condition_id);
    for (size_t i = 0; i < m.asset_ids.size(); ++i) {
      outcome.Text(1, m.condition_id);
      outcome.Text(2, m.asset_ids[i]);
      outcome.Text(3, i < m.outcomes.size() ? std::string_view(m.outcomes[i]) : std::string_view());
      outcome.Run("cannot write outcome " + m.asset_ids[i]);
    }
  }
  txn.Commit("cannot commit the catalog");
  return static_cast<int64_t>(markets.size());
}

std::vector<MarketRecord> SqliteStore::ListMarkets(std::string_view search) {
  return WithReader([&](sqlite3* db, soci::session&) {
    Txn txn(db, "BEGIN", "cannot begin a read transaction");
    Stmt list(db,
              "SELECT condition_id, question, slug, event_id, neg_risk, tick_size_micros, min_order_size_micros,"
              " end_date_ms, active, closed, updated_ms FROM markets m"
              " WHERE ?1 = '' OR instr(lower(question), lower(?1)) > 0 OR instr(lower(slug), lower(?1)) > 0"
              " OR instr(lower(condition_id), lower(?1)) > 0 OR instr(lower(event_id), lower(?1)) > 0"
              " OR EXISTS (SELECT 1 FROM outcomes o WHERE o.market = m.condition_id AND instr(o.asset_id, ?1) > 0)"
              " ORDER BY question, condition_id",
              false);
    Stmt tokens(db, "SELECT asset_id, outcome FROM outcomes WHERE market = ?1 ORDER BY id", false);
    list.Text(1, search);
    std::vector<MarketRecord> out;
    while (list.Step("cannot read markets")) {
      MarketRecord m;
      m.condition_id = std::string(list.ColText(0));
      m.question = std::string(list.ColText(1));
      m.slug = std::string(list.ColText(2));
      m.event_id = std::string(list.ColText(3));
      m.neg_risk = list.ColInt(4) != 0;
      m.tick_size_micros = list.ColInt(5);
      m.min_order_size_micros = list.ColInt(6);
      m.end_date_ms = list.ColInt(7);
      m.active = list.ColInt(8) != 0;
      m.closed = list.ColInt(9) != 0;
      m.updated_ms = list.ColInt(10);
      out.push_back(std::move(m));
    }
    list.Reset();
    for (MarketRecord& m : out) {
      tokens.Text(1, m.condition_id);
      while (tokens.Step("cannot read outcomes")) {
        m.asset_ids.emplace_back(tokens.ColText(0));
        m.outcomes.emplace_back(tokens.ColText(1));
      }
      tokens.Reset();
    }
    txn.Commit("cannot end a read transaction");
    return out;
  });
}

std::unique_ptr<Store> OpenSqliteStore(const DbUrl& url, const StoreOptions& options) {
  auto store = std::make_unique<SqliteStore>(url, options);
  store->Init();
  return store;
}

}  // namespace polyhost

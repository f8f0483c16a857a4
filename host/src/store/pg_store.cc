#include "store/pg_store.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/levels_json.h"
#include "store/pg_conn.h"
#include "store/pg_schema.h"
#include "store/write_queue.h"

namespace polyhost {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();
// COPY data goes to the server in pieces of about this size.
constexpr size_t kCopyChunkBytes = 1 << 20;

// ---------------------------------------------------------------------------
// COPY binary encoding (https://www.postgresql.org/docs/15/sql-copy.html).

void Put16(std::string* out, int16_t v) {
  const uint16_t n = htons(static_cast<uint16_t>(v));
  out->append(reinterpret_cast<const char*>(&n), 2);
}
void Put32(std::string* out, int32_t v) {
  const uint32_t n = htonl(static_cast<uint32_t>(v));
  out->append(reinterpret_cast<const char*>(&n), 4);
}
void Put64(std::string* out, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  const uint32_t hi = htonl(static_cast<uint32_t>(u >> 32)), lo = htonl(static_cast<uint32_t>(u));
  out->append(reinterpret_cast<const char*>(&hi), 4);
  out->append(reinterpret_cast<const char*>(&lo), 4);
}
void FieldInt8(std::string* out, int64_t v) {
  Put32(out, 8);
  Put64(out, v);
}
void FieldInt4(std::string* out, int32_t v) {
  Put32(out, 4);
  Put32(out, v);
}
void FieldInt2(std::string* out, int16_t v) {
  Put32(out, 2);
  Put16(out, v);
}
void FieldNull(std::string* out) { Put32(out, -1); }

// ---------------------------------------------------------------------------
// Rebuilding books from rows.

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

enum class Rebuilt { kEmpty, kSnapshotOnly, kEvents };

// One outcome's book as of event id `upto`: its newest snapshot with a
// watermark <= upto, then its later events, found through orderbook_event_index.
Rebuilt RebuildBook(PgConn& conn, int64_t outcome_id, int64_t upto, StoredBook* out, int64_t* watermark_out = nullptr) {
  out->book = OrderBook();
  LevelsScratch scratch;
  Rebuilt result = Rebuilt::kEmpty;
  int64_t watermark = 0;
  PgResult snap = conn.Query(
      "SELECT id, ts_ms, seq, event_watermark, levels_json::text FROM orderbook_snapshots"
      " WHERE outcome_id = $1 AND event_watermark <= $2 ORDER BY event_watermark DESC, id DESC LIMIT 1",
      {outcome_id, upto}, "cannot read orderbook_snapshots");
  if (PQntuples(snap.get()) == 1) {
    result = Rebuilt::kSnapshotOnly;
    out->ts_ms = PgInt(snap.get(), 0, 1);
    out->seq = PgInt(snap.get(), 0, 2);
    watermark = PgInt(snap.get(), 0, 3);
    ApplyLevelsJson(PgText(snap.get(), 0, 4), "orderbook_snapshots", PgInt(snap.get(), 0, 0), &scratch, &out->book);
  }
  if (watermark_out != nullptr) *watermark_out = watermark;
  // The id ranges of the batches that wrote this outcome's later events: the
  // events are read by outcome within those ranges (the BRIN index on id finds
  // their pages) and their ts_ms range (only their partitions are visited).
  PgResult idx = conn.Query(
      "SELECT first_id, last_id, min_ts_ms, max_ts_ms FROM orderbook_event_index WHERE outcome_id = $1"
      " AND last_id > $2 AND first_id <= $3 ORDER BY first_id",
      {outcome_id, watermark, upto}, "cannot read orderbook_event_index");
  const int ranges = PQntuples(idx.get());
  if (ranges == 0) return result;
  int64_t min_ts = std::numeric_limits<int64_t>::max(), max_ts = std::numeric_limits<int64_t>::min();
  std::string in_ranges = "(";
  for (int i = 0; i < ranges; ++i) {
    if (i != 0) in_ranges += " OR ";
    // Integers only, written as literals.
    in_ranges += "id BETWEEN " + std::to_string(PgInt(idx.get(), i, 0)) + " AND " + std::to_string(PgInt(idx.get(), i, 1));
    min_ts = std::min(min_ts, PgInt(idx.get(), i, 2));
    max_ts = std::max(max_ts, PgInt(idx.get(), i, 3));
  }
  in_ranges += ")";
  PgResult ev = conn.Query(
      "SELECT id, ts_ms, seq, kind, side, price, size, levels_json::text, outcome_id FROM orderbook_events"
      " WHERE outcome_id = $1 AND id > $2 AND id <= $3 AND ts_ms BETWEEN $4 AND $5 AND " + in_ranges + " ORDER BY id",
      {outcome_id, watermark, upto, min_ts, max_ts}, "cannot read orderbook_events");
  const PGresult* r = ev.get();
  for (int i = 0, n = PQntuples(r); i < n; ++i) {  // pruned ids are simply absent
    const int64_t id = PgInt(r, i, 0);
    out->ts_ms = PgInt(r, i, 1);
    out->seq = PgInt(r, i, 2);
    const int64_t kind = PgInt(r, i, 3);
    switch (static_cast<EventKind>(kind)) {
      case EventKind::kBook:
        ApplyLevelsJson(PgText(r, i, 7), "orderbook_events", id, &scratch, &out->book);
        break;
      case EventKind::kLevel:
        if (PgIsNull(r, i, 4) || PgIsNull(r, i, 5) || PgIsNull(r, i, 6)) {
          throw StoreError("orderbook_events id " + std::to_string(id) + ": level event without side/price/size");
        }
        out->book.ApplyLevel(PgInt(r, i, 4) == 0 ? Side::kBid : Side::kAsk, PgInt(r, i, 5), PgInt(r, i, 6));
        break;
      case EventKind::kTick:
        out->book.set_tick_size(PgInt(r, i, 5));
        break;
      default:
        throw StoreError("orderbook_events id " + std::to_string(id) + ": unknown kind " + std::to_string(kind));
    }
    result = Rebuilt::kEvents;
  }
  return result;
}

std::vector<int64_t> AllOutcomeIds(PgConn& conn) {
  PgResult r = conn.Query("SELECT id FROM outcomes ORDER BY id", "cannot read outcomes");
  std::vector<int64_t> ids;
  for (int i = 0, n = PQntuples(r.get()); i < n; ++i) ids.push_back(PgInt(r.get(), i, 0));
  return ids;
}

// The largest event id handed out so far (0 when none): every committed event
// has an id at or below it. Only meaningful under kPgWriterLock.
int64_t LastEventId(PgConn& conn) {
  return conn.QueryInt("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM orderbook_events_id_seq", {},
                       "cannot read orderbook_events_id_seq");
}

// ---------------------------------------------------------------------------

class PgStore final : public Store {
 public:
  PgStore(const DbUrl& url, const StoreOptions& options) : url_(url), options_(options) {}
  ~PgStore() override { queue_.reset(); }  // writes what is queued before the connections close

  void Init();

  int schema_version() override { return schema_version_; }
  int64_t RegisterSource(std::string_view path, int64_t* committed_line) override;
  void Submit(WriteBatch batch) override {
    RequireWritable("Submit");
    queue_->Submit(std::move(batch));
  }
  void Flush() override {
    if (queue_) queue_->Flush();
  }
  StoreStats stats() const override { return queue_ ? queue_->stats() : StoreStats(); }
  std::vector<AssetStatus> Status() override;
  ExecTimings ExecutionTimings() override;
  std::vector<OpenOrderRow> OpenOrders() override;
  std::optional<StoredBook> LoadBook(std::string_view market, std::string_view asset_id) override;
  int64_t SnapshotFromStore(int64_t ts_ms) override;
  int64_t PruneEventsBefore(int64_t ts_ms) override;
  int64_t UpsertMarkets(const std::vector<MarketRecord>& markets) override;
  std::vector<MarketRecord> ListMarkets(std::string_view search) override;

 private:
  struct Pending {
    const EventRow* event;
    int64_t outcome_id;
    int64_t id;
    bool inserted;
  };
  struct Inserted {
    uint32_t key;
    int64_t seq;
    int64_t id;
  };

  void RequireWritable(const char* what) const {
    if (options_.read_only) throw StoreError(std::string(what) + ": the store was opened read-only");
  }
  // All under write_mu_, inside the batch's transaction:
  WriteQueue::Applied ApplyBatch(const WriteBatch& b);
  void InternAssets(const WriteBatch& b);
  int64_t OutcomeId(uint32_t key) const;
  void CopyPending(int64_t source_id, const std::vector<int64_t>& days, WriteQueue::Applied* result);
  // One COPY ... FROM STDIN (FORMAT binary) of `columns` into `table`; `rows`
  // appends the rows (AppendPgCopyRow or the like) through `emit`, which sends
  // the buffer to the server whenever it holds a chunk.
  template <class Rows>
  void CopyBinary(const std::string& table, const char* columns, Rows&& rows);
  void WriteIndex();
  void WriteStatus(const WriteBatch& b);
  void WriteSnapshots(const WriteBatch& b, int64_t max_id);
  void WriteExecution(const WriteBatch& b);
  void InsertSnapshot(int64_t outcome_id, int64_t ts_ms, int64_t seq, int64_t watermark, std::string_view json);
  void LockWriter() {
    writer_->Query("SELECT pg_advisory_xact_lock($1)", {kPgWriterLock}, "cannot lock the database for writing");
  }

  const DbUrl url_;
  const StoreOptions options_;
  int schema_version_ = 0;

  std::mutex write_mu_;
  std::unique_ptr<PgConn> writer_;
  std::vector<int64_t> key_to_outcome_;  // asset key -> outcomes.id (0 = unknown)
  std::vector<Pending> pending_;
  std::vector<Inserted> inserted_;
  std::unordered_map<uint32_t, int64_t> skipped_seq_;  // key -> max seq skipped
  std::string copy_buf_;

  std::mutex read_mu_;
  std::unique_ptr<PgConn> reader_;

  std::unique_ptr<WriteQueue> queue_;  // last: its thread uses the members above
};

void PgStore::Init() {
  if (options_.read_only) {
    reader_ = PgConn::Connect(url_);
    reader_->Exec("SET default_transaction_read_only = on", "cannot configure the connection");
    schema_version_ = CurrentPgSchemaVersion(*reader_);
    if (schema_version_ == 0) {
      throw StoreError(url_.redacted + " is not a polyhost database (no schema_version); run a replay or "
                                       "`polyhost migrate --apply` to create one");
    }
    const int known = PostgresMigrations().back().version;
    if (schema_version_ > known) {
      throw StoreError("database schema version " + std::to_string(schema_version_) +
                       " is newer than this build of polyhost supports (" + std::to_string(known) +
                       "); use a newer polyhost");
    }
    return;
  }
  writer_ = PgConn::Connect(url_);
  try {
    ApplyPgMigrations(*writer_, PostgresMigrations());
    schema_version_ = CurrentPgSchemaVersion(*writer_);
  } catch (const StoreError& e) {
    throw StoreError("cannot open database " + url_.redacted + ": " + e.what());
  }
  reader_ = PgConn::Connect(url_);
  queue_ = std::make_unique<WriteQueue>(
      options_.queue_batches,
      [this](const WriteBatch& b) {
        std::lock_guard<std::mutex> lock(write_mu_);
        return ApplyBatch(b);
      },
      "ph-pg-writer");
}

int64_t PgStore::RegisterSource(std::string_view path, int64_t* committed_line) {
  RequireWritable("RegisterSource");
  if (path.empty()) throw StoreError("RegisterSource: empty path");
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(std::filesystem::path(path), ec);
  const std::string key = ec ? std::string(path) : abs.lexically_normal().string();
  std::lock_guard<std::mutex> lock(write_mu_);
  const int64_t now = NowMs();
  writer_->Query("INSERT INTO sources (path, committed_line, first_seen_ms, updated_ms) VALUES ($1, 0, $2, $2)"
                 " ON CONFLICT (path) DO NOTHING",
                 {key, now}, "cannot register source " + key);
  PgResult r = writer_->Query("SELECT id, committed_line FROM sources WHERE path = $1", {key},
                              "cannot register source " + key);
  if (PQntuples(r.get()) != 1) throw StoreError("cannot register source " + key + ": row vanished");
  if (committed_line != nullptr) *committed_line = PgInt(r.get(), 0, 1);
  return PgInt(r.get(), 0, 0);
}

int64_t PgStore::OutcomeId(uint32_t key) const {
  const int64_t id = key < key_to_outcome_.size() ? key_to_outcome_[key] : 0;
  if (id == 0) {
    throw StoreError("batch refers to asset key " + std::to_string(key) + ", which no batch announced in new_assets");
  }
  return id;
}

void PgStore::InternAssets(const WriteBatch& b) {
  for (const NewAsset& a : b.new_assets) {
    PgResult r = writer_->Query(
        "INSERT INTO outcomes (market, asset_id) VALUES ($1, $2) ON CONFLICT (market, asset_id) DO NOTHING"
        " RETURNING id",
        {a.market, a.asset_id}, "cannot insert into outcomes");
    int64_t id;
    if (PQntuples(r.get()) == 1) {
      id = PgInt(r.get(), 0, 0);
    } else {
      id = writer_->QueryInt("SELECT id FROM outcomes WHERE market = $1 AND asset_id = $2", {a.market, a.asset_id},
                             "cannot read outcomes");
      if (id == 0) throw StoreError("outcome vanished while interning it");
    }
    if (a.key >= key_to_outcome_.size()) key_to_outcome_.resize(static_cast<size_t>(a.key) + 1, 0);
    key_to_outcome_[a.key] = id;
  }
}

template <class Rows>
void PgStore::CopyBinary(const std::string& table, const char* columns, Rows&& rows) {
  PGconn* conn = writer_->raw();
  const std::string sql = "COPY " + table + " " + columns + " FROM STDIN (FORMAT binary)";
  PgResult start(PQexec(conn, sql.c_str()));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) writer_->Fail("cannot start COPY", start.get());
  copy_buf_.clear();
  AppendPgCopyHeader(&copy_buf_);
  bool send_failed = false;
  auto send = [&] {
    if (!send_failed && PQputCopyData(conn, copy_buf_.data(), static_cast<int>(copy_buf_.size())) != 1) {
      send_failed = true;
    }
    copy_buf_.clear();
  };
  rows(&copy_buf_, [&] {
    if (copy_buf_.size() >= kCopyChunkBytes) send();
  });
  AppendPgCopyTrailer(&copy_buf_);
  send();
  if (copy_buf_.capacity() > 4 * kCopyChunkBytes) std::string().swap(copy_buf_);
  if (PQputCopyEnd(conn, send_failed ? "client could not send the rows" : nullptr) != 1) {
    writer_->Fail("cannot finish COPY");
  }
  PgResult end(PQgetResult(conn));
  const bool ok = end && PQresultStatus(end.get()) == PGRES_COMMAND_OK;
  // Drain (COPY returns exactly one result, then NULL).
  while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
  if (!ok) writer_->Fail("cannot COPY into " + table, end.get());
}

// Inserts pending_ (ids already assigned in feed order) with one COPY per day
// partition (`days`, sorted: usually one): straight into the partition, so the
// server does not route every row (docs/postgresql.md, "Ingest speed"). Rows
// are never duplicates: ApplyBatch already dropped every (line, item) at or
// below the source's watermark, under the writer lock (schema v3 has no unique
// key to pay for per row).
void PgStore::CopyPending(int64_t source_id, const std::vector<int64_t>& days, WriteQueue::Applied* result) {
  if (pending_.empty()) return;
  for (Pending& p : pending_) p.inserted = true;
  for (const int64_t day : days) {
    CopyBinary(PgEventPartitionName(day), kPgEventCopyColumns, [&](std::string* out, auto&& emit) {
      for (const Pending& p : pending_) {
        if (days.size() > 1 && PgEventDay(p.event->ts_ms) != day) continue;
        AppendPgCopyRow(PgEventCopyRow{p.id, source_id, p.outcome_id, p.event}, out);
        emit();
      }
    });
  }
  result->written += static_cast<int64_t>(pending_.size());
}

// One orderbook_event_index row per outcome with events inserted by this batch,
// by binary COPY (the id arrays are a third of the ids the batch writes: as
// text they cost the server a parse of every id).
void PgStore::WriteIndex() {
  struct Entry {
    std::vector<int64_t> ids;
    int64_t min_ts = 0, max_ts = 0;
  };
  std::unordered_map<int64_t, Entry> by_outcome;
  for (const Pending& p : pending_) {
    if (!p.inserted) continue;
    Entry& e = by_outcome[p.outcome_id];
    if (e.ids.empty()) e.min_ts = e.max_ts = p.event->ts_ms;
    e.ids.push_back(p.id);
    e.min_ts = std::min(e.min_ts, p.event->ts_ms);
    e.max_ts = std::max(e.max_ts, p.event->ts_ms);
  }
  if (by_outcome.empty()) return;
  CopyBinary("orderbook_event_index", "(outcome_id, first_id, last_id, min_ts_ms, max_ts_ms, ids)",
             [&](std::string* out, auto&& emit) {
               for (const auto& [outcome_id, e] : by_outcome) {
                 AppendPgIndexCopyRow(outcome_id, e.min_ts, e.max_ts, e.ids, out);
                 emit();
               }
             });
}

void PgStore::WriteStatus(const WriteBatch& b) {
  if (b.status.empty()) return;
  // One statement for the batch (all values are integers, written as literals).
  std::string sql =
      "INSERT INTO market_status (outcome_id, last_update_ts_ms, seq, best_bid, best_ask, stale, events,"
      " continuity_breaks, updated_ms) VALUES ";
  const std::string now = std::to_string(NowMs());
  bool first = true;
  for (const StatusRow& s : b.status) {
    sql += first ? "(" : ",(";
    first = false;
    sql += std::to_string(OutcomeId(s.asset_key)) + "," + std::to_string(s.last_update_ts_ms) + "," +
           std::to_string(s.seq) + "," + std::to_string(s.best_bid) + "," + std::to_string(s.best_ask) + "," +
           (s.stale ? "true" : "false") + "," + std::to_string(s.events) + "," + std::to_string(s.continuity_breaks) +
           "," + now + ")";
  }
  sql +=
      " ON CONFLICT (outcome_id) DO UPDATE SET last_update_ts_ms = excluded.last_update_ts_ms, seq = excluded.seq,"
      " best_bid = excluded.best_bid, best_ask = excluded.best_ask, stale = excluded.stale,"
      " events = excluded.events, continuity_breaks = excluded.continuity_breaks, updated_ms = excluded.updated_ms";
  writer_->Exec(sql, "cannot upsert market_status");
}

void PgStore::InsertSnapshot(int64_t outcome_id, int64_t ts_ms, int64_t seq, int64_t watermark,
                             std::string_view json) {
  writer_->Query("INSERT INTO orderbook_snapshots (outcome_id, ts_ms, seq, event_watermark, levels_json)"
                 " VALUES ($1, $2, $3, $4, $5)",
                 {outcome_id, ts_ms, seq, watermark, json}, "cannot insert into orderbook_snapshots");
}

// As on SQLite: a snapshot covers its asset's events with seq <= its seq, so its
// watermark stops just before the first inserted event of the asset after it.
void PgStore::WriteSnapshots(const WriteBatch& b, int64_t max_id) {
  inserted_.clear();
  for (const Pending& p : pending_) {
    if (p.inserted) inserted_.push_back(Inserted{p.event->asset_key, p.event->seq, p.id});
  }
  std::stable_sort(inserted_.begin(), inserted_.end(), [](const Inserted& x, const Inserted& y) {
    return x.key != y.key ? x.key < y.key : x.seq < y.seq;
  });
  for (const SnapshotRow& s : b.snapshots) {
    const int64_t outcome_id = OutcomeId(s.asset_key);
    if (auto it = skipped_seq_.find(s.asset_key); it != skipped_seq_.end() && it->second > s.seq) {
      continue;  // taken before events an earlier run committed: that run wrote it
    }
    auto first_after = std::upper_bound(inserted_.begin(), inserted_.end(), std::make_pair(s.asset_key, s.seq),
                                        [](const std::pair<uint32_t, int64_t>& v, const Inserted& x) {
                                          return v.first != x.key ? v.first < x.key : v.second < x.seq;
                                        });
    const int64_t watermark =
        (first_after != inserted_.end() && first_after->key == s.asset_key) ? first_after->id - 1 : max_id;
    InsertSnapshot(outcome_id, s.ts_ms, s.seq, watermark, s.levels_json);
  }
}

void PgStore::WriteExecution(const WriteBatch& b) {
  for (const AuditRow& a : b.audits) {
    writer_->Query("INSERT INTO exec_audit (plan_id, plugin, decision, reason, legs_json, event_to_plan_us,"
                   " plan_to_ack_us, ts_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                   {a.plan_id, a.plugin, a.decision, a.reason,
                    a.legs_json.empty() ? std::string("[]") : a.legs_json,
                    a.event_to_plan_us >= 0 ? PgParam(a.event_to_plan_us) : PgParam(std::nullopt),
                    a.plan_to_ack_us >= 0 ? PgParam(a.plan_to_ack_us) : PgParam(std::nullopt), a.ts_ms},
                   "cannot insert into exec_audit");
  }
  for (const OrderRow& o : b.orders) {
    writer_->Query("INSERT INTO orders (plan_id, leg, plugin, outcome_id, side, price_micros, size_micros, tif,"
                   " status, relayer, dry_run, filled_size_micros, error, created_ts_ms, updated_ts_ms)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)"
                   " ON CONFLICT (plan_id, leg) DO UPDATE SET status = excluded.status,"
                   " filled_size_micros = excluded.filled_size_micros, error = excluded.error,"
                   " updated_ts_ms = excluded.updated_ts_ms",
                   {o.plan_id, static_cast<int64_t>(o.leg), o.plugin, OutcomeId(o.asset_key),
                    static_cast<int64_t>(o.side), o.price, o.size, o.tif, o.status, o.relayer, o.dry_run, o.filled,
                    o.error, o.ts_ms},
                   "cannot upsert orders");
  }
  for (const FillRow& f : b.fills) {
    const int64_t order_id = writer_->QueryInt("SELECT id FROM orders WHERE plan_id = $1 AND leg = $2",
                                               {f.plan_id, static_cast<int64_t>(f.leg)}, "cannot read orders");
    if (order_id == 0) {
      throw StoreError("fill for plan " + f.plan_id + " leg " + std::to_string(f.leg) + ", which has no order row");
    }
    writer_->Query("INSERT INTO fills (order_id, price_micros, size_micros, fee_micros, ts_ms)"
                   " VALUES ($1, $2, $3, $4, $5)",
                   {order_id, f.price, f.size, f.fee_micros, f.ts_ms}, "cannot insert into fills");
  }
}

WriteQueue::Applied PgStore::ApplyBatch(const WriteBatch& b) {
  WriteQueue::Applied result;
  PgConn& db = *writer_;
  db.Exec("BEGIN", "cannot begin a write transaction");
  try {
    LockWriter();
    InternAssets(b);

    // Events, without lines the source's committed watermark already covers.
    const bool has_source = b.source_id != 0;
    int64_t committed = 0;
    if (has_source) {
      PgResult r = db.Query("SELECT committed_line FROM sources WHERE id = $1", {b.source_id}, "cannot read sources");
      if (PQntuples(r.get()) != 1) {
        throw StoreError("batch names source id " + std::to_string(b.source_id) +
                         ", which RegisterSource never returned");
      }
      committed = PgInt(r.get(), 0, 0);
    }
    const bool already_committed = has_source && b.last_line > 0 && b.last_line <= committed;
    skipped_seq_.clear();
    pending_.clear();
    pending_.reserve(b.events.size());
    // A source's rows come in (line, item) order, each line whole in one batch
    // (store.h). So a row at or below the last (line, item) accepted is one that
    // is already stored: below the watermark (a resumed run), or repeated by a
    // caller that did not advance last_line. The watermark below moves past
    // every line written, so such repeats are caught in later batches too.
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
          ++result.skipped;
          int64_t& s = skipped_seq_[e.asset_key];
          s = std::max(s, e.seq);
          continue;
        }
        high_line = e.line;
        high_item = e.item;
      }
      pending_.push_back(Pending{&e, outcome_id, 0, false});
    }
    int64_t max_id;
    if (!pending_.empty()) {
      // Reserve a block of ids (under the writer lock, so ids follow commit order).
      const auto n = static_cast<int64_t>(pending_.size());
      max_id = db.QueryInt("SELECT setval('orderbook_events_id_seq', nextval('orderbook_events_id_seq') + $1 - 1)",
                           {n}, "cannot reserve event ids");
      int64_t id = max_id - n + 1;
      for (Pending& p : pending_) p.id = id++;
      // The day partitions these rows go to.
      std::vector<int64_t> days;
      for (const Pending& p : pending_) {
        const int64_t d = PgEventDay(p.event->ts_ms);
        if (days.empty() || days.back() != d) days.push_back(d);
      }
      std::sort(days.begin(), days.end());
      days.erase(std::unique(days.begin(), days.end()), days.end());
      for (int64_t d : days) db.Exec(PgCreateEventPartitionSql(d), "cannot create an orderbook_events partition");
      CopyPending(b.source_id, days, &result);
      WriteIndex();
    } else {
      max_id = LastEventId(db);
    }

    if (!already_committed) {
      WriteStatus(b);
      if (!b.snapshots.empty()) WriteSnapshots(b, max_id);
    }
    // Execution records are always written (their plan ids belong to this run).
    WriteExecution(b);

    // The source's progress, in the same transaction as its rows.
    const int64_t new_committed = std::max(b.last_line, high_line);
    if (has_source && new_committed > committed) {
      db.Query("UPDATE sources SET committed_line = $2, updated_ms = $3 WHERE id = $1",
               {b.source_id, new_committed, NowMs()}, "cannot update sources");
    }
    db.Exec("COMMIT", "cannot commit");
  } catch (...) {
    db.RollbackQuietly();
    throw;
  }
  return result;
}

// ---------------------------------------------------------------------------
// Reading

std::vector<AssetStatus> PgStore::Status() {
  std::lock_guard<std::mutex> lock(read_mu_);
  // COLLATE "C": the same (bytewise) order as SQLite, whatever the database's locale.
  PgResult r = reader_->Query(
      "SELECT o.market, o.asset_id, s.last_update_ts_ms, s.seq, s.best_bid, s.best_ask, s.stale, s.events,"
      " s.continuity_breaks FROM market_status s JOIN outcomes o ON o.id = s.outcome_id"
      " ORDER BY o.market COLLATE \"C\", o.asset_id COLLATE \"C\"",
      "cannot read market status");
  std::vector<AssetStatus> out;
  for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
    AssetStatus s;
    s.market = PgText(r.get(), i, 0);
    s.asset_id = PgText(r.get(), i, 1);
    s.last_update_ts_ms = PgInt(r.get(), i, 2);
    s.seq = PgInt(r.get(), i, 3);
    s.best_bid = PgInt(r.get(), i, 4);
    s.best_ask = PgInt(r.get(), i, 5);
    s.stale = PgBool(r.get(), i, 6);
    s.events = PgInt(r.get(), i, 7);
    s.continuity_breaks = PgInt(r.get(), i, 8);
    out.push_back(std::move(s));
  }
  return out;
}

ExecTimings PgStore::ExecutionTimings() {
  std::lock_guard<std::mutex> lock(read_mu_);
  PgConn& db = *reader_;
  ExecTimings t;
  PgResult r = db.Query("SELECT count(*), count(*) FILTER (WHERE decision = 'accepted') FROM exec_audit"
                        " WHERE decision IN ('accepted', 'rejected')",
                        "cannot read exec_audit");
  t.plans = PgInt(r.get(), 0, 0);
  t.accepted = PgInt(r.get(), 0, 1);
  // Nearest-rank percentiles over the non-null measurements (as on SQLite).
  auto percentile = [&](const std::string& column, int pct) -> int64_t {
    const int64_t n = db.QueryInt("SELECT count(" + column + ") FROM exec_audit", {}, "cannot read exec_audit");
    if (n == 0) return -1;
    const int64_t rank = std::max<int64_t>(1, (n * pct + 99) / 100);
    return db.QueryInt("SELECT " + column + " FROM exec_audit WHERE " + column + " IS NOT NULL ORDER BY " + column +
                           " LIMIT 1 OFFSET $1",
                       {rank - 1}, "cannot read exec_audit");
  };
  t.event_to_plan_p50_us = percentile("event_to_plan_us", 50);
  t.event_to_plan_p99_us = percentile("event_to_plan_us", 99);
  t.plan_to_ack_p50_us = percentile("plan_to_ack_us", 50);
  t.plan_to_ack_p99_us = percentile("plan_to_ack_us", 99);
  return t;
}

std::vector<OpenOrderRow> PgStore::OpenOrders() {
  std::lock_guard<std::mutex> lock(read_mu_);
  PgResult r = reader_->Query(
      "SELECT r.plugin, o.market, o.asset_id, r.side, r.price_micros, r.size_micros, r.filled_size_micros, r.status"
      " FROM orders r JOIN outcomes o ON o.id = r.outcome_id WHERE r.status IN ('acked', 'partially_filled')"
      " ORDER BY o.market COLLATE \"C\", o.asset_id COLLATE \"C\", r.side, r.price_micros DESC",
      "cannot read orders");
  std::vector<OpenOrderRow> out;
  for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
    OpenOrderRow o;
    o.plugin = PgText(r.get(), i, 0);
    o.market = PgText(r.get(), i, 1);
    o.asset_id = PgText(r.get(), i, 2);
    o.side = PgInt(r.get(), i, 3) == 0 ? Side::kBid : Side::kAsk;
    o.price = PgInt(r.get(), i, 4);
    o.size = PgInt(r.get(), i, 5);
    o.filled = PgInt(r.get(), i, 6);
    o.status = PgText(r.get(), i, 7);
    out.push_back(std::move(o));
  }
  return out;
}

std::optional<StoredBook> PgStore::LoadBook(std::string_view market, std::string_view asset_id) {
  std::lock_guard<std::mutex> lock(read_mu_);
  PgConn& db = *reader_;
  // One snapshot of the database: the book's snapshot and later events agree.
  db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "cannot begin a read transaction");
  try {
    const int64_t outcome_id = db.QueryInt("SELECT id FROM outcomes WHERE market = $1 AND asset_id = $2",
                                           {market, asset_id}, "cannot read outcomes");
    if (outcome_id == 0) {
      db.Exec("COMMIT", "cannot end a read transaction");
      return std::nullopt;
    }
    StoredBook out;
    out.market = std::string(market);
    out.asset_id = std::string(asset_id);
    const Rebuilt rebuilt = RebuildBook(db, outcome_id, kNoLimit, &out);
    PgResult s = db.Query("SELECT seq, last_update_ts_ms, stale FROM market_status WHERE outcome_id = $1",
                          {outcome_id}, "cannot read market_status");
    if (PQntuples(s.get()) == 1) {
      out.stale = PgBool(s.get(), 0, 2);
      // As on SQLite: with nothing after a snapshot, the status row's time of
      // the same state is the time of the book's last change.
      if (rebuilt == Rebuilt::kEmpty || (rebuilt == Rebuilt::kSnapshotOnly && PgInt(s.get(), 0, 0) == out.seq)) {
        out.seq = PgInt(s.get(), 0, 0);
        out.ts_ms = PgInt(s.get(), 0, 1);
      }
    }
    db.Exec("COMMIT", "cannot end a read transaction");
    return out;
  } catch (...) {
    db.RollbackQuietly();
    throw;
  }
}

// ---------------------------------------------------------------------------
// Maintenance: on the writer's connection, each in one transaction under the lock.

int64_t PgStore::SnapshotFromStore(int64_t ts_ms) {
  RequireWritable("SnapshotFromStore");
  Flush();
  std::lock_guard<std::mutex> lock(write_mu_);
  PgConn& db = *writer_;
  db.Exec("BEGIN", "cannot begin a write transaction");
  try {
    LockWriter();
    const int64_t watermark = LastEventId(db);
    int64_t written = 0;
    for (int64_t id : AllOutcomeIds(db)) {
      StoredBook b;
      if (RebuildBook(db, id, watermark, &b) == Rebuilt::kEmpty) continue;
      InsertSnapshot(id, ts_ms, b.seq, watermark, EncodeLevelsJson(b.book));
      ++written;
    }
    db.Exec("COMMIT", "cannot commit snapshots");
    return written;
  } catch (...) {
    db.RollbackQuietly();
    throw;
  }
}

int64_t PgStore::PruneEventsBefore(int64_t ts_ms) {
  RequireWritable("PruneEventsBefore");
  Flush();
  std::lock_guard<std::mutex> lock(write_mu_);
  PgConn& db = *writer_;
  db.Exec("BEGIN", "cannot begin a write transaction");
  try {
    LockWriter();
    const int64_t max_id = LastEventId(db);
    // Outcomes with events before the cutoff that their newest snapshot does not
    // cover get a snapshot first (as of now), so every such event is covered.
    PgResult need = db.Query(
        "SELECT DISTINCT e.outcome_id FROM orderbook_events e"
        " LEFT JOIN (SELECT outcome_id, max(event_watermark) AS w FROM orderbook_snapshots GROUP BY outcome_id) s"
        " ON s.outcome_id = e.outcome_id WHERE e.ts_ms < $1 AND e.id > coalesce(s.w, 0) ORDER BY 1",
        {ts_ms}, "cannot read orderbook_events");
    for (int i = 0, n = PQntuples(need.get()); i < n; ++i) {
      const int64_t id = PgInt(need.get(), i, 0);
      StoredBook b;
      RebuildBook(db, id, max_id, &b);
      InsertSnapshot(id, b.ts_ms, b.seq, max_id, EncodeLevelsJson(b.book));
    }

    int64_t deleted = 0;
    // Whole days before the cutoff: drop their partitions.
    PgResult parts = db.Query(
        "SELECT c.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'orderbook_events'::regclass ORDER BY 1",
        "cannot list orderbook_events partitions");
    const int64_t cutoff_day = PgEventDay(ts_ms);
    for (int i = 0, n = PQntuples(parts.get()); i < n; ++i) {
      const std::string name(PgText(parts.get(), i, 0));
      int64_t day = 0;
      if (!ParsePgEventPartitionName(name, &day)) continue;  // not ours: leave it
      if (day < cutoff_day) {  // the whole day is before the cutoff
        deleted += db.QueryInt("SELECT count(*) FROM " + name, {}, "cannot count " + name);
        db.Exec("DROP TABLE " + name, "cannot drop partition " + name);
      }
    }
    // The day the cutoff falls in: delete its rows before the cutoff.
    PgResult del = db.Query("DELETE FROM orderbook_events WHERE ts_ms < $1", {ts_ms},
                            "cannot delete from orderbook_events");
    deleted += std::atoll(PQcmdTuples(del.get()));

    // Index rows are only read for events after the outcome's newest snapshot.
    db.Exec("DELETE FROM orderbook_event_index x USING (SELECT outcome_id, max(event_watermark) AS w"
            " FROM orderbook_snapshots GROUP BY outcome_id) s WHERE s.outcome_id = x.outcome_id AND x.last_id <= s.w",
            "cannot delete from orderbook_event_index");
    // Snapshots older than a newer snapshot that is itself before the cutoff.
    PgResult snaps = db.Query(
        "DELETE FROM orderbook_snapshots s WHERE EXISTS ("
        " SELECT 1 FROM orderbook_snapshots n"
        " WHERE n.outcome_id = s.outcome_id AND n.ts_ms < $1"
        " AND (n.event_watermark > s.event_watermark OR (n.event_watermark = s.event_watermark AND n.id > s.id)))",
        {ts_ms}, "cannot delete from orderbook_snapshots");
    deleted += std::atoll(PQcmdTuples(snaps.get()));
    db.Exec("COMMIT", "cannot commit the prune");
    return deleted;
  } catch (...) {
    db.RollbackQuietly();
    throw;
  }
}

// The catalog, as on SQLite: one transaction on the writer's connection (under
// the writer lock), never mixed with a feed batch.
int64_t PgStore::UpsertMarkets(const std::vector<MarketRecord>& markets) {
  RequireWritable("cannot write the market catalog");
  std::lock_guard<std::mutex> lock(write_mu_);
  PgConn& db = *writer_;
  db.Exec("BEGIN", "cannot begin the catalog transaction");
  try {
    LockWriter();
    for (const MarketRecord& m : markets) {
      db.Query("INSERT INTO markets (condition_id, question, slug, event_id, neg_risk, tick_size_micros,"
               " min_order_size_micros, end_date_ms, active, closed, updated_ms)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
               " ON CONFLICT (condition_id) DO UPDATE SET question = excluded.question, slug = excluded.slug,"
               " event_id = excluded.event_id, neg_risk = excluded.neg_risk,"
               " tick_size_micros = excluded.tick_size_micros, min_order_size_micros = excluded.min_order_size_micros,"
               " end_date_ms = excluded.end_date_ms, active = excluded.active, closed = excluded.closed,"
               " updated_ms = excluded.updated_ms",
               {m.condition_id, m.question, m.slug, m.event_id, m.neg_risk, m.tick_size_micros,
                m.min_order_size_micros, m.end_date_ms, m.active, m.closed, m.updated_ms},
               "cannot write market " + m.condition_id);
      for (size_t i = 0; i < m.asset_ids.size(); ++i) {
        db.Query("INSERT INTO outcomes (market, asset_id, outcome) VALUES ($1, $2, $3)"
                 " ON CONFLICT (market, asset_id) DO UPDATE SET outcome = excluded.outcome",
                 {m.condition_id, m.asset_ids[i], i < m.outcomes.size() ? m.outcomes[i] : std::string()},
                 "cannot write outcome " + m.asset_ids[i]);
      }
    }
    db.Exec("COMMIT", "cannot commit the catalog");
  } catch (...) {
    db.RollbackQuietly();
    throw;
  }
  return static_cast<int64_t>(markets.size());
}

std::vector<MarketRecord> PgStore::ListMarkets(std::string_view search) {
  std::lock_guard<std::mutex> lock(read_mu_);
  PgConn& db = *reader_;
  db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "cannot begin a read transaction");
  try {
    PgResult r = db.Query(
        "SELECT condition_id, question, slug, event_id, neg_risk, tick_size_micros, min_order_size_micros,"
        " end_date_ms, active, closed, updated_ms FROM markets m"
        " WHERE $1 = '' OR strpos(lower(question), lower($1)) > 0 OR strpos(lower(slug), lower($1)) > 0"
        " OR strpos(lower(condition_id), lower($1)) > 0 OR strpos(lower(event_id), lower($1)) > 0"
        " OR EXISTS (SELECT 1 FROM outcomes o WHERE o.market = m.condition_id AND strpos(o.asset_id, $1) > 0)"
        " ORDER BY question COLLATE \"C\", condition_id COLLATE \"C\"",
        {search}, "cannot read markets");
    std::vector<MarketRecord> out;
    for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
      MarketRecord m;
      m.condition_id = PgText(r.get(), i, 0);
      m.question = PgText(r.get(), i, 1);
      m.slug = PgText(r.get(), i, 2);
      m.event_id = PgText(r.get(), i, 3);
      m.neg_risk = PgBool(r.get(), i, 4);
      m.tick_size_micros = PgInt(r.get(), i, 5);
      m.min_order_size_micros = PgInt(r.get(), i, 6);
      m.end_date_ms = PgInt(r.get(), i, 7);
      m.active = PgBool(r.get(), i, 8);
      m.closed = PgBool(r.get(), i, 9);
      m.updated_ms = PgInt(r.get(), i, 10);
      PgResult t = db.Query("SELECT asset_id, outcome FROM outcomes WHERE market = $1 ORDER BY id", {m.condition_id},
                            "cannot read outcomes");
      for (int j = 0, k = PQntuples(t.get()); j < k; ++j) {
        m.asset_ids.emplace_back(PgText(t.get(), j, 0));
        m.outcomes.emplace_back(PgText(t.get(), j, 1));
      }
      out.push_back(std::move(m));
    }
    db.Exec("COMMIT", "cannot end a read transaction");
    return out;
  } catch (...) {
    db.RollbackQuietly();
    throw;
  }
}

}  // namespace

void AppendPgCopyHeader(std::string* out) {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";
  out->append(kSignature, 11);  // includes the terminating NUL
  Put32(out, 0);                // flags
  Put32(out, 0);                // header extension length
}

void AppendPgCopyRow(const PgEventCopyRow& row, std::string* out) {
  const EventRow& e = *row.event;
  Put16(out, 13);
  FieldInt8(out, row.id);
  if (row.source_id != 0) {
    FieldInt8(out, row.source_id);
  } else {
    FieldNull(out);
  }
  FieldInt8(out, e.line);
  FieldInt4(out, static_cast<int32_t>(e.item));
  FieldInt8(out, row.outcome_id);
  FieldInt8(out, e.ts_ms);
  FieldInt8(out, e.recv_ts_ms);
  FieldInt8(out, e.seq);
  FieldInt2(out, static_cast<int16_t>(e.kind));
  switch (e.kind) {
    case EventKind::kLevel:
      FieldInt2(out, static_cast<int16_t>(e.side));
      FieldInt8(out, e.price);
      FieldInt8(out, e.size);
      FieldNull(out);
      break;
    case EventKind::kTick:
      FieldNull(out);
      FieldInt8(out, e.price);
      FieldNull(out);
      FieldNull(out);
      break;
    case EventKind::kBook:
      FieldNull(out);
      FieldNull(out);
      FieldNull(out);
      // jsonb's binary form: a version byte (1), then the text.
      Put32(out, static_cast<int32_t>(e.levels_json.size() + 1));
      out->push_back('\1');
      out->append(e.levels_json);
      break;
  }
}

void AppendPgIndexCopyRow(int64_t outcome_id, int64_t min_ts_ms, int64_t max_ts_ms, const std::vector<int64_t>& ids,
                          std::string* out) {
  Put16(out, 6);
  FieldInt8(out, outcome_id);
  FieldInt8(out, ids.front());
  FieldInt8(out, ids.back());
  FieldInt8(out, min_ts_ms);
  FieldInt8(out, max_ts_ms);
  // bigint[]'s binary form: dimensions, has-nulls, element type (int8 = oid 20),
  // then per dimension its length and lower bound, then the elements.
  constexpr int32_t kInt8Oid = 20;
  Put32(out, static_cast<int32_t>(20 + ids.size() * 12));
  Put32(out, 1);
  Put32(out, 0);
  Put32(out, kInt8Oid);
  Put32(out, static_cast<int32_t>(ids.size()));
  Put32(out, 1);
  for (const int64_t id : ids) FieldInt8(out, id);
}

void AppendPgCopyTrailer(std::string* out) { Put16(out, -1); }

std::unique_ptr<Store> OpenPostgresStore(const DbUrl& url, const StoreOptions& options) {
  auto store = std::make_unique<PgStore>(url, options);
  store->Init();
  return store;
}

}  // namespace polyhost

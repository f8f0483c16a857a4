// Persistence: the one place that talks to the database (SOCI; SQLite in
// sqlite_store.*, PostgreSQL in pg_store.*, chosen by the URL's scheme).
//
// Writes go through a bounded queue to a single writer thread that commits each
// WriteBatch in one transaction together with the source's progress watermark, so
// a crash or kill -9 loses at most uncommitted batches and a rerun resumes exactly
// (no duplicates, no loss). Reads (status, book) run synchronously on the caller's
// thread over their own connection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "book/order_book.h"
#include "core/fixed_histogram.h"
#include "store/db_url.h"

namespace polyhost {

// What one stored orderbook_events row means.
enum class EventKind : uint8_t {
  kBook = 1,   // full snapshot of the asset's book (levels_json holds it)
  kLevel = 2,  // one level set to an absolute size (side, price, size)
  kTick = 3,   // tick size change (price = new tick size)
};

// An asset seen for the first time in this process. `key` is the in-process
// index used by EventRow/StatusRow; the writer maps it to outcomes.id.
struct NewAsset {
  uint32_t key;
  std::string market;
  std::string asset_id;
};

struct EventRow {
  uint32_t asset_key;
  uint32_t item;        // index of this row within its source line
  int64_t line;         // 1-based line in the source file
  int64_t ts_ms;        // venue timestamp (0 when absent)
  int64_t recv_ts_ms;   // local receive time from an envelope (0 when absent)
  int64_t seq;          // host sequence number of the asset after this event
  EventKind kind;
  Side side;            // kLevel only
  int64_t price;        // kLevel: level price; kTick: new tick size
  int64_t size;         // kLevel only
  std::string levels_json;  // kBook only: {"bids":[["0.5","200"],...],"asks":[...]}
};

// The latest state of one asset, upserted into market_status.
struct StatusRow {
  uint32_t asset_key;
  int64_t last_update_ts_ms;
  int64_t seq;
  int64_t best_bid;  // 0 = none
  int64_t best_ask;  // 0 = none
  bool stale;
  int64_t events;             // events applied to this asset
  int64_t continuity_breaks;  // times the asset went stale
};

// A snapshot of one asset's in-memory book. It covers the asset's events with
// seq <= this seq, so it may be taken in the middle of a batch: the writer sets
// its event_watermark just below the asset's first later event.
struct SnapshotRow {
  uint32_t asset_key;
  int64_t ts_ms;
  int64_t seq;
  std::string levels_json;
};

// An order the host created for one leg of an accepted plan; inserted on first
// sight, then updated (status, filled) by (plan_id, leg).
struct OrderRow {
  std::string plan_id;  // "<run_id>:<n>"
  uint32_t leg = 0;
  std::string plugin;
  uint32_t asset_key = 0;
  Side side = Side::kBid;
  int64_t price = 0;
  int64_t size = 0;
  std::string tif;
  std::string status;  // acked | rejected | partially_filled | filled | cancelled | dry_run
  std::string relayer;
  bool dry_run = true;
  int64_t filled = 0;
  std::string error;
  int64_t ts_ms = 0;
};

struct FillRow {
  std::string plan_id;
  uint32_t leg = 0;
  int64_t price = 0;
  int64_t size = 0;
  int64_t fee_micros = 0;
  int64_t ts_ms = 0;
};

// One decision about a plan (accepted or rejected with its reason).
struct AuditRow {
  std::string plan_id;
  std::string plugin;
  std::string decision;  // accepted | rejected
  std::string reason;
  std::string legs_json;
  int64_t event_to_plan_us = -1;  // -1: not measured
  int64_t plan_to_ack_us = -1;
  int64_t ts_ms = 0;
};

// One transaction's worth of work. The writer applies, in order: new assets,
// events (skipping lines <= the source's committed line), status, snapshots,
// then advances the source's committed line to last_line. A source's events
// come in (line, item) order with each line whole in one batch (the replayer and
// the live source work that way); rows at or below the last (line, item) already
// stored for the source are skipped as duplicates. A batch whose
// last_line is at or below the committed line (a resumed replay resubmitting it)
// writes no status or snapshot rows either: the earlier run wrote them.
struct WriteBatch {
  int64_t source_id = 0;  // 0: no source (e.g. snapshot-only batches)
  int64_t last_line = 0;
  std::vector<NewAsset> new_assets;
  std::vector<EventRow> events;
  std::vector<StatusRow> status;
  std::vector<SnapshotRow> snapshots;
  // Execution records, applied after the events: audit, orders (upsert), fills.
  std::vector<AuditRow> audits;
  std::vector<OrderRow> orders;
  std::vector<FillRow> fills;
};

struct StoreOptions {
  bool wal = true;  // SQLite only
  size_t queue_batches = 8;  // bounded writer queue (back-pressure when full)
  bool read_only = false;    // for status/book: never migrate or write
  int busy_timeout_ms = 30000;  // how long to wait for another process's write lock
};

// One row of `polyhost status`.
struct AssetStatus {
  std::string market;
  std::string asset_id;
  int64_t last_update_ts_ms = 0;
  int64_t seq = 0;
  int64_t best_bid = 0;
  int64_t best_ask = 0;
  bool stale = false;
  int64_t events = 0;
  int64_t continuity_breaks = 0;
};

// Percentiles of the measured durations in exec_audit, in microseconds.
struct ExecTimings {
  int64_t plans = 0;             // plans: audit rows decided by the risk gate (not venue or control rows)
  int64_t accepted = 0;
  int64_t event_to_plan_p50_us = -1;  // -1: nothing measured
  int64_t event_to_plan_p99_us = -1;
  int64_t plan_to_ack_p50_us = -1;
  int64_t plan_to_ack_p99_us = -1;
};

// An order that is still working (acked or partially filled): a live quote.
struct OpenOrderRow {
  std::string plugin;
  std::string market;
  std::string asset_id;
  Side side = Side::kBid;
  int64_t price = 0;
  int64_t size = 0;
  int64_t filled = 0;
  std::string status;
};

// A book rebuilt from the latest snapshot plus later events.
struct StoredBook {
  std::string market;
  std::string asset_id;
  int64_t seq = 0;    // of the last event applied (or of the snapshot)
  int64_t ts_ms = 0;  // venue time of the book's last change
  bool stale = false;
  OrderBook book;
};

struct StoreStats {
  int64_t batches = 0;
  int64_t events_written = 0;
  int64_t events_skipped = 0;    // already committed by an earlier run
  int64_t queue_full_waits = 0;  // Submit() had to wait for the writer
  // Measured by the writer thread once per batch (never per row):
  LatencyHistogramNs write_latency;  // one batch's transaction, begin to commit (ns)
  CountHistogram batch_events;       // event rows per committed batch (written + skipped)
  int64_t queue_depth = 0;           // batches waiting for the writer when stats() was called
  int64_t queue_high_water = 0;      // most batches waiting at once
  // SQLite file databases in WAL mode: checkpoints run off the writer's thread
  // (store/wal_checkpointer.h), and commits that waited for one (WAL too large).
  int64_t wal_checkpoints = 0;
  int64_t wal_checkpoint_waits = 0;
};

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One market of the catalog (Gamma, `polyhost refresh-markets`) with its outcome
// tokens, as stored in `markets` and `outcomes`.
struct MarketRecord {
  std::string condition_id;
  std::string question;
  std::string slug;
  std::string event_id;
  bool neg_risk = false;
  int64_t tick_size_micros = 0;
  int64_t min_order_size_micros = 0;
  int64_t end_date_ms = 0;
  bool active = false;
  bool closed = false;
  int64_t updated_ms = 0;
  std::vector<std::string> asset_ids;  // clobTokenIds, in outcome order
  std::vector<std::string> outcomes;   // names, parallel to asset_ids ("" when unknown)
};

class Store {
 public:
  // Opens (creating if needed) and migrates to the latest schema version.
  // Throws StoreError with a clear message (never containing a password).
  static std::unique_ptr<Store> Open(const DbUrl& url, const StoreOptions& options = {});
  virtual ~Store() = default;

  virtual int schema_version() = 0;

  // Identifies a replayed file (by absolute path) and returns its id and the last
  // line already committed for it (0 for a new source).
  virtual int64_t RegisterSource(std::string_view path, int64_t* committed_line) = 0;

  // Queues a batch for the writer thread; blocks while the queue is full.
  // Rethrows (as StoreError) a failure of the writer thread.
  virtual void Submit(WriteBatch batch) = 0;
  // Waits until every submitted batch is committed; rethrows writer failures.
  virtual void Flush() = 0;
  virtual StoreStats stats() const = 0;

  // Reads (synchronous, caller's thread). They see committed batches: call
  // Flush() first to include your own submissions.
  virtual std::vector<AssetStatus> Status() = 0;
  // Engine timings and open orders from the execution records (status --verbose).
  virtual ExecTimings ExecutionTimings() = 0;
  virtual std::vector<OpenOrderRow> OpenOrders() = 0;
  virtual std::optional<StoredBook> LoadBook(std::string_view market, std::string_view asset_id) = 0;

  // Writes a snapshot of every asset's book rebuilt from the DB; returns the count.
  virtual int64_t SnapshotFromStore(int64_t ts_ms) = 0;
  // Deletes events older than ts_ms that a later snapshot already covers (taking
  // snapshots first where needed), and superseded snapshots; returns rows deleted.
  virtual int64_t PruneEventsBefore(int64_t ts_ms) = 0;

  // The market catalog. UpsertMarkets inserts or updates every market and its
  // outcome tokens (names updated, tokens never removed) in one transaction and
  // returns how many markets it wrote. ListMarkets returns the markets whose
  // question, slug, condition id, event id or a token id contains `search`
  // (case-insensitive; every market when empty), ordered by question.
  virtual int64_t UpsertMarkets(const std::vector<MarketRecord>& markets) = 0;
  virtual std::vector<MarketRecord> ListMarkets(std::string_view search) = 0;
};

}  // namespace polyhost

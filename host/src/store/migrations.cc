#include "store/migrations.h"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <chrono>
#include <string>

#include "store/store.h"

namespace polyhost {

namespace {

// All prices and sizes are INTEGER micro-units (1e-6); times are INTEGER
// milliseconds since the Unix epoch unless the column name says _us. STRICT
// tables make SQLite refuse a value of the wrong type (and there is no REAL
// column anywhere). docs/schema.md documents every column.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE markets (
  condition_id          TEXT PRIMARY KEY NOT NULL,
  question              TEXT NOT NULL DEFAULT '',
  slug                  TEXT NOT NULL DEFAULT '',
  event_id              TEXT NOT NULL DEFAULT '',
  neg_risk              INTEGER NOT NULL DEFAULT 0 CHECK (neg_risk IN (0, 1)),
  tick_size_micros      INTEGER NOT NULL DEFAULT 0,
  min_order_size_micros INTEGER NOT NULL DEFAULT 0,
  end_date_ms           INTEGER NOT NULL DEFAULT 0,
  active                INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
  closed                INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
  updated_ms            INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE outcomes (
  id       INTEGER PRIMARY KEY,
  market   TEXT NOT NULL,
  asset_id TEXT NOT NULL,
  outcome  TEXT NOT NULL DEFAULT '',
  UNIQUE (market, asset_id)
) STRICT;

CREATE TABLE sources (
  id             INTEGER PRIMARY KEY,
  path           TEXT NOT NULL UNIQUE,
  committed_line INTEGER NOT NULL DEFAULT 0,
  first_seen_ms  INTEGER NOT NULL,
  updated_ms     INTEGER NOT NULL
) STRICT;

-- The hot table (up to ~1M rows/s): no foreign-key clauses (each costs a parent
-- lookup per row; the writer takes ids from its own interning) and no per-outcome
-- index (inserting into the middle of one halves the insert rate); reads go
-- through orderbook_event_index instead. Rows are inserted in feed order.
CREATE TABLE orderbook_events (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER,
  line        INTEGER NOT NULL,
  item        INTEGER NOT NULL,
  outcome_id  INTEGER NOT NULL,
  ts_ms       INTEGER NOT NULL,
  recv_ts_ms  INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  kind        INTEGER NOT NULL,
  side        INTEGER,
  price       INTEGER,
  size        INTEGER,
  levels_json TEXT,
  UNIQUE (source_id, line, item)
) STRICT;

-- Where an outcome's events are, without a per-event index: one row per
-- (write batch, outcome) listing the ids of that outcome's events in the batch.
-- ids: unsigned LEB128 varints, each the difference from the previous id (the
-- first from first_id, so 0). Rows entirely covered by the outcome's newest
-- snapshot are dropped by pruning (only events after it are ever looked up).
CREATE TABLE orderbook_event_index (
  outcome_id INTEGER NOT NULL,
  first_id   INTEGER NOT NULL,
  last_id    INTEGER NOT NULL,
  ids        BLOB NOT NULL,
  PRIMARY KEY (outcome_id, first_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE orderbook_snapshots (
  id              INTEGER PRIMARY KEY,
  outcome_id      INTEGER NOT NULL REFERENCES outcomes (id),
  ts_ms           INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  event_watermark INTEGER NOT NULL,
  levels_json     TEXT NOT NULL
) STRICT;
CREATE INDEX orderbook_snapshots_by_outcome ON orderbook_snapshots (outcome_id, event_watermark);

CREATE TABLE market_status (
  outcome_id        INTEGER PRIMARY KEY REFERENCES outcomes (id),
  last_update_ts_ms INTEGER NOT NULL,
  seq               INTEGER NOT NULL,
  best_bid          INTEGER NOT NULL,
  best_ask          INTEGER NOT NULL,
  stale             INTEGER NOT NULL CHECK (stale IN (0, 1)),
  events            INTEGER NOT NULL,
  continuity_breaks INTEGER NOT NULL,
  updated_ms        INTEGER NOT NULL
) STRICT;
)sql";

constexpr std::string_view kV2 = R"sql(
CREATE TABLE orders (
  id                  INTEGER PRIMARY KEY,
  plan_id             TEXT NOT NULL,
  plugin              TEXT NOT NULL,
  leg                 INTEGER NOT NULL DEFAULT 0,
  outcome_id          INTEGER NOT NULL REFERENCES outcomes (id),
  side                INTEGER NOT NULL CHECK (side IN (0, 1)),
  price_micros        INTEGER NOT NULL,
  size_micros         INTEGER NOT NULL,
  tif                 TEXT NOT NULL,
  status              TEXT NOT NULL,
  relayer             TEXT NOT NULL DEFAULT '',
  dry_run             INTEGER NOT NULL DEFAULT 1 CHECK (dry_run IN (0, 1)),
  venue_order_id      TEXT,
  filled_size_micros  INTEGER NOT NULL DEFAULT 0,
  error               TEXT NOT NULL DEFAULT '',
  created_ts_ms       INTEGER NOT NULL,
  updated_ts_ms       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX orders_by_plan ON orders (plan_id, leg);
CREATE UNIQUE INDEX orders_by_venue_id ON orders (venue_order_id) WHERE venue_order_id IS NOT NULL;
CREATE INDEX orders_by_created ON orders (created_ts_ms);

CREATE TABLE fills (
  id             INTEGER PRIMARY KEY,
  order_id       INTEGER NOT NULL REFERENCES orders (id),
  venue_trade_id TEXT,
  price_micros   INTEGER NOT NULL,
  size_micros    INTEGER NOT NULL,
  fee_micros     INTEGER NOT NULL DEFAULT 0,
  ts_ms          INTEGER NOT NULL
) STRICT;
CREATE INDEX fills_by_order ON fills (order_id);
CREATE UNIQUE INDEX fills_by_venue_trade ON fills (order_id, venue_trade_id) WHERE venue_trade_id IS NOT NULL;

CREATE TABLE exec_audit (
  id               INTEGER PRIMARY KEY,
  plan_id          TEXT NOT NULL,
  plugin           TEXT NOT NULL,
  decision         TEXT NOT NULL,
  reason           TEXT NOT NULL DEFAULT '',
  legs_json        TEXT NOT NULL DEFAULT '[]',
  event_to_plan_us INTEGER,
  plan_to_ack_us   INTEGER,
  ts_ms            INTEGER NOT NULL
) STRICT;
CREATE INDEX exec_audit_by_plan ON exec_audit (plan_id);
CREATE INDEX exec_audit_by_ts ON exec_audit (ts_ms);
)sql";

// The unique key (source_id, line, item) cost every event row a second b-tree
// insert: measured, half of SQLite's insert rate (docs/performance.md). The
// writer now keeps events unique itself, as on PostgreSQL since version 3: rows
// at or below the source's (line, item) watermark are dropped under the write
// transaction (sqlite_store.cc, CollectPending). SQLite cannot drop a table
// constraint, so the table is rebuilt: every stored event is copied once, in id
// order, inside the migration's transaction.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE orderbook_events_v4 (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER,
  line        INTEGER NOT NULL,
  item        INTEGER NOT NULL,
  outcome_id  INTEGER NOT NULL,
  ts_ms       INTEGER NOT NULL,
  recv_ts_ms  INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  kind        INTEGER NOT NULL,
  side        INTEGER,
  price       INTEGER,
  size        INTEGER,
  levels_json TEXT
) STRICT;
INSERT INTO orderbook_events_v4 (id, source_id, line, item, outcome_id, ts_ms, recv_ts_ms, seq, kind, side, price,
                                 size, levels_json)
  SELECT id, source_id, line, item, outcome_id, ts_ms, recv_ts_ms, seq, kind, side, price, size, levels_json
  FROM orderbook_events ORDER BY id;
DROP TABLE orderbook_events;
ALTER TABLE orderbook_events_v4 RENAME TO orderbook_events;
)sql";

// Version 5 (SQLite): events are stored a block at a time, one row per (write
// batch, outcome) holding that outcome's events of the batch as JSON
// (store/event_blocks.h), instead of one row per event plus an index row per
// (batch, outcome). 2.2 rows per feed line were the ceiling of replay speed
// (docs/performance.md); a block is ~1 row per 100 events. orderbook_events
// becomes a view over the blocks with the same columns, so every query of it
// keeps working (read-only). The index table is folded into the blocks.
// Existing events are regrouped: per outcome and source, 16384 ids a block.
constexpr std::string_view kV5Head = R"sql(
CREATE TABLE orderbook_event_blocks (
  first_id         INTEGER PRIMARY KEY,
  outcome_id       INTEGER NOT NULL,
  source_id        INTEGER,
  last_id          INTEGER NOT NULL,
  n_events         INTEGER NOT NULL,
  min_ts_ms        INTEGER NOT NULL,
  max_ts_ms        INTEGER NOT NULL,
  first_line       INTEGER NOT NULL,
  first_ts_ms      INTEGER NOT NULL,
  first_recv_ts_ms INTEGER NOT NULL,
  first_seq        INTEGER NOT NULL,
  events           TEXT NOT NULL
) STRICT;
CREATE INDEX orderbook_event_blocks_by_outcome ON orderbook_event_blocks (outcome_id, last_id);
CREATE INDEX orderbook_event_blocks_by_last_id ON orderbook_event_blocks (last_id);
)sql";

// Part of migration 5 and of `polyhost db copy` into SQLite (db_admin.cc): the
// rows of ROWS (the columns of orderbook_events) grouped into blocks, per outcome,
// source and 16384 ids. Frozen with migration 5: change it only by a new one.
constexpr std::string_view kBlocksFromRows = R"sql(
INSERT INTO orderbook_event_blocks (first_id, outcome_id, source_id, last_id, n_events, min_ts_ms, max_ts_ms,
                                    first_line, first_ts_ms, first_recv_ts_ms, first_seq, events)
  SELECT min(id), outcome_id, source_id, max(id), count(*), min(ts_ms), max(ts_ms),
         min(f_line), min(f_ts), min(f_recv), min(f_seq),
         json_group_array(json_array(id - f_id, line - f_line, item, ts_ms - f_ts, recv_ts_ms - f_recv, seq - f_seq,
                                     kind, side, price, size, json(levels_json)))
  FROM (SELECT e.*, first_value(id) OVER w AS f_id, first_value(line) OVER w AS f_line,
               first_value(ts_ms) OVER w AS f_ts, first_value(recv_ts_ms) OVER w AS f_recv,
               first_value(seq) OVER w AS f_seq
        FROM ROWS e
        WINDOW w AS (PARTITION BY outcome_id, source_id, id / 16384 ORDER BY id)
        ORDER BY outcome_id, source_id, id / 16384, id)
  GROUP BY outcome_id, source_id, id / 16384;
)sql";

constexpr std::string_view kV5Tail = R"sql(
DROP TABLE orderbook_events;
DROP TABLE orderbook_event_index;
CREATE VIEW orderbook_events (id, source_id, line, item, outcome_id, ts_ms, recv_ts_ms, seq, kind, side, price, size,
                              levels_json) AS
  SELECT b.first_id + json_extract(e.value, '$[0]'), b.source_id, b.first_line + json_extract(e.value, '$[1]'),
         json_extract(e.value, '$[2]'), b.outcome_id, b.first_ts_ms + json_extract(e.value, '$[3]'),
         b.first_recv_ts_ms + json_extract(e.value, '$[4]'), b.first_seq + json_extract(e.value, '$[5]'),
         json_extract(e.value, '$[6]'), json_extract(e.value, '$[7]'), json_extract(e.value, '$[8]'),
         json_extract(e.value, '$[9]'), json_extract(e.value, '$[10]')
  FROM orderbook_event_blocks b, json_each(b.events) e;
)sql";

const std::string& V5Sql() {
  static const std::string sql =
      std::string(kV5Head) + SqliteEventBlocksFromRowsSql("orderbook_events") + std::string(kV5Tail);
  return sql;
}

sqlite_api::sqlite3* RawHandle(soci::session& sql) {
  // The sqlite3 backend's typeinfo is not exported, so no dynamic_cast: check the name.
  if (sql.get_backend_name() != "sqlite3") throw StoreError("internal error: migrations need a SQLite session");
  return static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
}

// Runs one or more statements; throws StoreError with `what` and SQLite's message.
void Exec(sqlite_api::sqlite3* db, std::string_view sql_text, const std::string& what) {
  char* message = nullptr;
  const std::string text(sql_text);
  const int rc = sqlite_api::sqlite3_exec(db, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string reason = message != nullptr ? message : sqlite_api::sqlite3_errstr(rc);
    sqlite_api::sqlite3_free(message);
    throw StoreError(what + ": " + reason);
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view SqliteSchemaVersionTableSql() {
  return "CREATE TABLE IF NOT EXISTS schema_version ("
         " version INTEGER PRIMARY KEY,"
         " applied_at_ms INTEGER NOT NULL,"
         " description TEXT NOT NULL) STRICT";
}

std::span<const Migration> SqliteMigrations() {
  // Built on first use: version 5's text is assembled at run time.
  static const Migration kSqliteMigrations[] = {
      {1, kMigrationDescriptions[0], kV1},
      {2, kMigrationDescriptions[1], kV2},
      // PostgreSQL only (pg_schema.cc); the version is shared so both backends
      // keep one history. SQLite's turn came in version 4.
      {3, kMigrationDescriptions[2], "-- nothing to change on SQLite"},
      {4, kMigrationDescriptions[3], kV4},
      {5, kMigrationDescriptions[4], V5Sql()},
  };
  return kSqliteMigrations;
}

std::string SqliteEventBlocksFromRowsSql(std::string_view rows_table) {
  std::string sql(kBlocksFromRows);
  const size_t at = sql.find("FROM ROWS e");
  sql.replace(at + 5, 4, rows_table);
  return sql;
}

int LatestSqliteSchemaVersion() { return SqliteMigrations().back().version; }

int CurrentSchemaVersion(soci::session& sql) {
  try {
    int tables = 0;
    sql << "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        soci::into(tables);
    if (tables == 0) return 0;
    int version = 0;
    sql << "SELECT coalesce(max(version), 0) FROM schema_version", soci::into(version);
    return version;
  } catch (const soci::soci_error& e) {
    throw StoreError(std::string("cannot read the schema version: ") + e.what());
  }
}

int ApplyMigrations(soci::session& sql, std::span<const Migration> migrations) {
  sqlite_api::sqlite3* db = RawHandle(sql);
  const int known = migrations.empty() ? 0 : migrations.back().version;
  Exec(db, SqliteSchemaVersionTableSql(), "cannot create the schema_version table");
  int current = CurrentSchemaVersion(sql);
  if (current > known) {
    throw StoreError("database schema version " + std::to_string(current) +
                     " is newer than this build of polyhost supports (" + std::to_string(known) +
                     "); use a newer polyhost");
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    const std::string what = "migration " + std::to_string(m.version) + " (" + std::string(m.description) + ")";
    Exec(db, "BEGIN IMMEDIATE", what + ": cannot begin");
    try {
      // Another process may have migrated while we waited for the lock.
      const int now_version = CurrentSchemaVersion(sql);
      if (now_version >= m.version) {
        Exec(db, "COMMIT", what);
        current = now_version;
        continue;
      }
      if (now_version != m.version - 1) {
        throw StoreError(what + ": database is at version " + std::to_string(now_version) +
                         ", expected " + std::to_string(m.version - 1));
      }
      Exec(db, m.sql, what + " failed");
      const int version = m.version;
      const long long now = NowMs();
      const std::string description(m.description);
      sql << "INSERT INTO schema_version (version, applied_at_ms, description) VALUES (:v, :t, :d)",
          soci::use(version), soci::use(now), soci::use(description);
      Exec(db, "COMMIT", what + ": cannot commit");
      current = m.version;
    } catch (const soci::soci_error& e) {
      sqlite_api::sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw StoreError(what + " failed: " + e.what());
    } catch (...) {
      if (!sqlite_api::sqlite3_get_autocommit(db)) {
        sqlite_api::sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      }
      throw;
    }
  }
  return current;
}

}  // namespace polyhost

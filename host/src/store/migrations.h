// Versioned schema migrations (docs/schema.md, "Migration policy").
//
// A migration is (version, description, sql). Versions start at 1 and increase
// by one; a released migration is never edited, only followed by a new one. Each
// is applied in its own transaction together with its schema_version row, so a
// crash leaves the database at a whole version.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace soci {
class session;
}

namespace polyhost {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;  // one or more statements (SQLite dialect)
};

// The description of each schema version (index version - 1). One history for
// both backends: version N means the same tables and columns on SQLite (below)
// and PostgreSQL (pg_schema.h); only the dialect differs, except that from
// version 5 SQLite stores events in blocks and reads them through the view
// orderbook_events, which has the columns of PostgreSQL's table.
inline constexpr std::string_view kMigrationDescriptions[] = {
    "market data: markets, outcomes, sources, orderbook events/index/snapshots, market_status",
    "execution: orders, fills, exec_audit",
    "faster event ingest: duplicates caught by the source watermark, not a per-row unique key",
    "faster SQLite event ingest: the same, on SQLite (its events table is rebuilt once)",
    "SQLite events stored in blocks per (batch, outcome); orderbook_events becomes a view of them",
};

// The CREATE TABLE IF NOT EXISTS of schema_version on SQLite (run before the migrations).
std::string_view SqliteSchemaVersionTableSql();

// Every SQLite migration this build knows, in order.
std::span<const Migration> SqliteMigrations();

// An INSERT INTO orderbook_event_blocks of the rows of `rows_table` (a table
// with the columns of orderbook_events), grouped per outcome, source and 16384
// ids (migration 5 runs it on the old table; `polyhost db copy` on its own).
std::string SqliteEventBlocksFromRowsSql(std::string_view rows_table);

// The version SqliteMigrations() ends at.
int LatestSqliteSchemaVersion();

// The database's schema version: MAX(schema_version.version), or 0 when the
// database has no schema_version table (a new, empty database).
int CurrentSchemaVersion(soci::session& sql);

// Applies the migrations of `migrations` newer than the database, in order, each
// in its own IMMEDIATE transaction (so concurrent openers serialise and skip what
// another already applied). Throws StoreError when the database is newer than the
// last migration given, or when a migration fails (naming its version).
// Returns the resulting schema version.
int ApplyMigrations(soci::session& sql, std::span<const Migration> migrations);

}  // namespace polyhost

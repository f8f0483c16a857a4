// The PostgreSQL schema (docs/schema.md, "PostgreSQL"): the same versions as the
// SQLite migrations (migrations.h), in PostgreSQL's dialect with native types:
// bigint micro-units and bigint milliseconds (as on SQLite, so rows copy
// exactly), boolean flags, jsonb for levels and legs, and orderbook_events
// range-partitioned by day on ts_ms.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "store/migrations.h"

namespace polyhost {

class PgConn;

// The CREATE TABLE IF NOT EXISTS of schema_version on PostgreSQL.
std::string_view PgSchemaVersionTableSql();

// Every PostgreSQL migration this build knows, in order.
std::span<const Migration> PostgresMigrations();

// The database's schema version (0: no schema_version table yet).
int CurrentPgSchemaVersion(PgConn& conn);

// Applies the pending migrations of `migrations` in ONE transaction, under an
// advisory lock so concurrent openers serialise (the second sees the work of the
// first and applies nothing). Throws StoreError when the database is newer than
// the last migration given or a migration fails (naming its version); nothing of
// a failed run stays. Returns the versions applied (empty when up to date).
std::vector<int> ApplyPgMigrations(PgConn& conn, std::span<const Migration> migrations);

// The advisory lock every writer of a polyhost database on PostgreSQL holds for
// its transaction (pg_advisory_xact_lock): one writer at a time, as on SQLite.
inline constexpr int64_t kPgWriterLock = 0x706f6c79686f7374;  // "polyhost"

// orderbook_events is partitioned by day: day = floor(ts_ms / 86400000).
int64_t PgEventDay(int64_t ts_ms);
// "orderbook_events_20231229" for the partition holding `day`.
std::string PgEventPartitionName(int64_t day);
// The day of a partition name made by PgEventPartitionName; false if it is not one.
bool ParsePgEventPartitionName(std::string_view name, int64_t* day);
// CREATE TABLE IF NOT EXISTS for the partition of `day`.
std::string PgCreateEventPartitionSql(int64_t day);

}  // namespace polyhost

// Database administration behind `polyhost migrate` and `polyhost db copy`
// (docs/postgresql.md): the migrations of either backend, applying them and
// reporting what ran, and copying a database between any two backends, verified
// by row counts and checksums.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "store/db_url.h"
#include "store/migrations.h"

namespace polyhost {

// Every migration of the URL's backend, in order (the exact SQL `--apply` runs).
std::span<const Migration> MigrationsFor(DbUrl::Backend backend);
// The statement that creates schema_version (if missing) before any migration.
std::string_view SchemaVersionTableSqlFor(DbUrl::Backend backend);

struct MigrateResult {
  int from_version = 0;
  int to_version = 0;
  std::vector<int> applied;  // versions applied by this call, in order
};

// The schema version of an existing database without changing it (0: empty).
// Throws StoreError.
int ReadSchemaVersion(const DbUrl& url);

// Applies the pending migrations (SQLite: each in its own transaction;
// PostgreSQL: all in one). Idempotent: a second call applies nothing.
MigrateResult MigrateDatabase(const DbUrl& url);

struct TableCopy {
  std::string table;
  int64_t rows = 0;            // in the source, and (verified) in the target
  std::string checksum;        // 16 hex digits over the table's canonical rows, equal on both sides
};

// Copies every polyhost table of a database (SQLite or PostgreSQL, at the
// latest schema version; read-only, on PostgreSQL one snapshot) into an empty
// database of either backend (migrated first; not the same database) in ONE
// transaction, then reads the target back and compares row counts and checksums
// before committing: on any difference nothing is committed and StoreError names
// the table. `progress` (may be empty) gets the table being copied.
std::vector<TableCopy> CopyDatabase(const DbUrl& from, const DbUrl& to,
                                    const std::function<void(const std::string& table)>& progress = {});

}  // namespace polyhost

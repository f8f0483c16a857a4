// A read-only connection to a polyhost database of either backend, for the
// commands that report on it without the store's writer (report, metrics,
// metrics-export, metrics-serve). The SQL they run is the part both backends
// share; the few differences (file size, table lookup) are methods here.
//
// SQLite: its own read-only connection beside a running writer (WAL, busy
// timeout). PostgreSQL: one REPEATABLE READ READ ONLY transaction for the
// reader's lifetime, so every query sees the same snapshot; rows are fetched
// through a cursor in blocks, so a query over orderbook_events never holds the
// whole table in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "store/db_url.h"

namespace polyhost {

// One result row. Columns are 0-based.
class DbRow {
 public:
  virtual ~DbRow() = default;
  virtual bool IsNull(int col) const = 0;
  // Integers and booleans (1/0); 0 for NULL.
  virtual int64_t Int(int col) const = 0;
  // Text (jsonb columns in their text form); "" for NULL.
  virtual std::string Text(int col) const = 0;
};

class DbReader {
 public:
  // Opens url read-only. Throws std::runtime_error naming the database (never
  // its password) when it does not exist or cannot be opened. `what` names the
  // caller in query errors ("report", "metrics").
  static std::unique_ptr<DbReader> Open(const DbUrl& url, const std::string& what);
  virtual ~DbReader() = default;

  virtual DbUrl::Backend backend() const = 0;
  // Runs `sql` (no parameters), calling row() for each row in order.
  virtual void Query(const std::string& sql, const std::function<void(const DbRow&)>& row) = 0;
  // The first column of the last row (0 when there is none).
  int64_t Int(const std::string& sql);
  virtual bool HasTable(std::string_view name) = 0;
  // Bytes the database occupies: the SQLite file plus its WAL, or the
  // PostgreSQL database's size (pg_database_size).
  virtual int64_t SizeBytes() = 0;
};

}  // namespace polyhost

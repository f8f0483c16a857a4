// A read-only SQLite connection for the commands that report on a polyhost
// database (report, metrics, metrics-serve): they read beside a running writer
// (WAL; a busy timeout rides out its checkpoints) and never write.
//
// Header-only so that modules reading a database file need SQLite, not the
// store module and its writer.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace polyhost {

class SqliteReader {
 public:
  // `what` names the caller in query errors ("report", "metrics").
  SqliteReader(const std::string& path, std::string what) : path_(path), what_(std::move(what)) {
    if (!std::filesystem::exists(path)) throw std::runtime_error("database not found: " + path);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw std::runtime_error("cannot open database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 30000);
  }
  ~SqliteReader() { sqlite3_close(db_); }
  SqliteReader(const SqliteReader&) = delete;
  SqliteReader& operator=(const SqliteReader&) = delete;

  // Runs `sql`, calling row(stmt) for each row.
  template <typename F>
  void Query(const char* sql, F&& row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) Fail();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) Fail();
  }

  // The first column of the last row of `sql` (0 when there is none).
  int64_t Int(const char* sql) {
    int64_t v = 0;
    Query(sql, [&](sqlite3_stmt* st) { v = sqlite3_column_int64(st, 0); });
    return v;
  }

  bool HasTable(std::string_view name) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &st, nullptr) !=
        SQLITE_OK) {
      Fail();
    }
    sqlite3_bind_text(st, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    const bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
  }

  // Column `col` as text ("" for NULL).
  static std::string Text(sqlite3_stmt* st, int col) {
    const unsigned char* t = sqlite3_column_text(st, col);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }

 private:
  [[noreturn]] void Fail() const {
    throw std::runtime_error(path_ + ": " + what_ + " query failed: " + sqlite3_errmsg(db_));
  }

  std::string path_;
  std::string what_;
  sqlite3* db_ = nullptr;
};

}  // namespace polyhost

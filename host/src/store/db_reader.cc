#include "store/db_reader.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>

#include "store/pg_conn.h"
#include "store/sqlite_reader.h"

namespace polyhost {
namespace {

class SqliteRow final : public DbRow {
 public:
  explicit SqliteRow(sqlite3_stmt* st) : st_(st) {}
  bool IsNull(int col) const override { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  int64_t Int(int col) const override { return sqlite3_column_int64(st_, col); }
  std::string Text(int col) const override { return SqliteReader::Text(st_, col); }

 private:
  sqlite3_stmt* st_;
};

class SqliteDbReader final : public DbReader {
 public:
  SqliteDbReader(const std::string& path, const std::string& what) : path_(path), db_(path, what) {}
  DbUrl::Backend backend() const override { return DbUrl::Backend::kSqlite; }
  void Query(const std::string& sql, const std::function<void(const DbRow&)>& row) override {
    db_.Query(sql.c_str(), [&](sqlite3_stmt* st) { row(SqliteRow(st)); });
  }
  bool HasTable(std::string_view name) override { return db_.HasTable(name); }
  int64_t SizeBytes() override {
    int64_t n = db_.Int("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    std::error_code ec;
    const auto wal = std::filesystem::file_size(path_ + "-wal", ec);
    if (!ec) n += static_cast<int64_t>(wal);
    return n;
  }

 private:
  std::string path_;
  SqliteReader db_;
};

class PgRow final : public DbRow {
 public:
  PgRow(const PGresult* res, int r) : res_(res), r_(r) {}
  bool IsNull(int col) const override { return PgIsNull(res_, r_, col); }
  int64_t Int(int col) const override {
    if (PQftype(res_, col) == kBoolOid) return PgBool(res_, r_, col) ? 1 : 0;
    return PgInt(res_, r_, col);
  }
  std::string Text(int col) const override { return std::string(PgText(res_, r_, col)); }

 private:
  static constexpr Oid kBoolOid = 16;  // pg_type.oid of boolean
  const PGresult* res_;
  int r_;
};

class PgDbReader final : public DbReader {
 public:
  PgDbReader(const DbUrl& url, const std::string& what) : what_(what), conn_(PgConn::Connect(url)) {
    conn_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", what_ + ": cannot begin a read transaction");
  }
  ~PgDbReader() override { conn_->RollbackQuietly(); }
  DbUrl::Backend backend() const override { return DbUrl::Backend::kPostgres; }

  void Query(const std::string& sql, const std::function<void(const DbRow&)>& row) override {
    // A cursor per query, fetched in blocks: bounded memory on any table size.
    const std::string cursor = "ph_reader_" + std::to_string(++cursors_);
    conn_->Exec("DECLARE " + cursor + " NO SCROLL CURSOR FOR " + sql, what_ + " query failed");
    for (;;) {
      PgResult r = conn_->Query("FETCH 20000 FROM " + cursor, what_ + " query failed");
      const int n = PQntuples(r.get());
      for (int i = 0; i < n; ++i) row(PgRow(r.get(), i));
      if (n == 0) break;
    }
    conn_->Exec("CLOSE " + cursor, what_ + " query failed");
  }
  bool HasTable(std::string_view name) override {
    return conn_->QueryInt("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
                           " AND tablename = $1",
                           {name}, what_ + " query failed") > 0;
  }
  int64_t SizeBytes() override {
    return conn_->QueryInt("SELECT pg_database_size(current_database())", {}, what_ + " query failed");
  }

 private:
  std::string what_;
  std::unique_ptr<PgConn> conn_;
  int cursors_ = 0;
};

}  // namespace

int64_t DbReader::Int(const std::string& sql) {
  int64_t v = 0;
  Query(sql, [&](const DbRow& r) { v = r.Int(0); });
  return v;
}

std::unique_ptr<DbReader> DbReader::Open(const DbUrl& url, const std::string& what) {
  if (url.backend == DbUrl::Backend::kPostgres) return std::make_unique<PgDbReader>(url, what);
  if (url.path == ":memory:") throw std::invalid_argument(what + " needs a database file, not sqlite:///:memory:");
  return std::make_unique<SqliteDbReader>(url.path, what);
}

}  // namespace polyhost

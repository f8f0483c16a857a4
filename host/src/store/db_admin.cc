#include "store/db_admin.h"

// soci-sqlite3.h includes <sqlite3.h> inside namespace sqlite_api, so it comes
// first and the SQLite API is used through that namespace.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>

#include "store/levels_json.h"
#include "store/pg_conn.h"
#include "store/pg_schema.h"
#include "store/store.h"

namespace polyhost {
namespace {

using namespace sqlite_api;  // NOLINT(build/namespaces)

// How a column's values are compared across backends.
enum class Col {
  kInt,     // INTEGER / bigint, smallint, integer
  kBool,    // INTEGER 0/1 on SQLite, boolean on PostgreSQL
  kText,    // TEXT / text
  kLevels,  // levels_json: TEXT on SQLite, jsonb on PostgreSQL (compared decoded)
  kJson,    // other JSON: TEXT on SQLite, jsonb on PostgreSQL (compared with sorted keys)
};

struct ColumnSpec {
  const char* name;
  Col type;
};

struct TableSpec {
  const char* name;
  std::vector<ColumnSpec> columns;
  const char* order_by;     // SQLite (bytewise text order)
  const char* pg_order_by;  // the same order on PostgreSQL
};

// Every table of the latest schema version, parents first, except what is
// derived from orderbook_events and differs between the backends (PostgreSQL's
// orderbook_event_index; SQLite's orderbook_event_blocks, of which
// orderbook_events is a view): the copy rebuilds it.
const std::vector<TableSpec>& Tables() {
  static const std::vector<TableSpec> kTables = {
      {"markets",
       {{"condition_id", Col::kText}, {"question", Col::kText}, {"slug", Col::kText}, {"event_id", Col::kText},
        {"neg_risk", Col::kBool}, {"tick_size_micros", Col::kInt}, {"min_order_size_micros", Col::kInt},
        {"end_date_ms", Col::kInt}, {"active", Col::kBool}, {"closed", Col::kBool}, {"updated_ms", Col::kInt}},
       "condition_id", "condition_id COLLATE \"C\""},
      {"outcomes",
       {{"id", Col::kInt}, {"market", Col::kText}, {"asset_id", Col::kText}, {"outcome", Col::kText}},
       "id", "id"},
      {"sources",
       {{"id", Col::kInt}, {"path", Col::kText}, {"committed_line", Col::kInt}, {"first_seen_ms", Col::kInt},
        {"updated_ms", Col::kInt}},
       "id", "id"},
      {"orderbook_events",
       {{"id", Col::kInt}, {"source_id", Col::kInt}, {"line", Col::kInt}, {"item", Col::kInt},
        {"outcome_id", Col::kInt}, {"ts_ms", Col::kInt}, {"recv_ts_ms", Col::kInt}, {"seq", Col::kInt},
        {"kind", Col::kInt}, {"side", Col::kInt}, {"price", Col::kInt}, {"size", Col::kInt},
        {"levels_json", Col::kLevels}},
       "id", "id"},
      {"orderbook_snapshots",
       {{"id", Col::kInt}, {"outcome_id", Col::kInt}, {"ts_ms", Col::kInt}, {"seq", Col::kInt},
        {"event_watermark", Col::kInt}, {"levels_json", Col::kLevels}},
       "id", "id"},
      {"market_status",
       {{"outcome_id", Col::kInt}, {"last_update_ts_ms", Col::kInt}, {"seq", Col::kInt}, {"best_bid", Col::kInt},
        {"best_ask", Col::kInt}, {"stale", Col::kBool}, {"events", Col::kInt}, {"continuity_breaks", Col::kInt},
        {"updated_ms", Col::kInt}},
       "outcome_id", "outcome_id"},
      {"orders",
       {{"id", Col::kInt}, {"plan_id", Col::kText}, {"plugin", Col::kText}, {"leg", Col::kInt},
        {"outcome_id", Col::kInt}, {"side", Col::kInt}, {"price_micros", Col::kInt}, {"size_micros", Col::kInt},
        {"tif", Col::kText}, {"status", Col::kText}, {"relayer", Col::kText}, {"dry_run", Col::kBool},
        {"venue_order_id", Col::kText}, {"filled_size_micros", Col::kInt}, {"error", Col::kText},
        {"created_ts_ms", Col::kInt}, {"updated_ts_ms", Col::kInt}},
       "id", "id"},
      {"fills",
       {{"id", Col::kInt}, {"order_id", Col::kInt}, {"venue_trade_id", Col::kText}, {"price_micros", Col::kInt},
        {"size_micros", Col::kInt}, {"fee_micros", Col::kInt}, {"ts_ms", Col::kInt}},
       "id", "id"},
      {"exec_audit",
       {{"id", Col::kInt}, {"plan_id", Col::kText}, {"plugin", Col::kText}, {"decision", Col::kText},
        {"reason", Col::kText}, {"legs_json", Col::kJson}, {"event_to_plan_us", Col::kInt},
        {"plan_to_ack_us", Col::kInt}, {"ts_ms", Col::kInt}},
       "id", "id"},
  };
  return kTables;
}

std::string ColumnList(const TableSpec& t) {
  std::string out;
  for (const ColumnSpec& c : t.columns) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Canonical values, so that equal data checksums equally on both backends.

void CanonicalJsonTo(const boost::json::value& v, std::string* out) {
  if (const boost::json::object* o = v.if_object()) {
    std::vector<std::pair<std::string_view, const boost::json::value*>> items;
    for (const auto& kv : *o) items.emplace_back(std::string_view(kv.key().data(), kv.key().size()), &kv.value());
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    out->push_back('{');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i != 0) out->push_back(',');
      *out += boost::json::serialize(boost::json::value(boost::json::string(items[i].first)));
      out->push_back(':');
      CanonicalJsonTo(*items[i].second, out);
    }
    out->push_back('}');
  } else if (const boost::json::array* a = v.if_array()) {
    out->push_back('[');
    for (size_t i = 0; i < a->size(); ++i) {
      if (i != 0) out->push_back(',');
      CanonicalJsonTo((*a)[i], out);
    }
    out->push_back(']');
  } else {
    *out += boost::json::serialize(v);
  }
}

// One value in canonical text ("\N" for NULL); throws on malformed JSON.
std::string Canonical(Col type, bool is_null, std::string_view text, const char* table, const char* column) {
  if (is_null) return "\\N";
  switch (type) {
    case Col::kInt:
    case Col::kText:
      return std::string(text);
    case Col::kBool:
      return (text == "t" || text == "1" || text == "true") ? "1" : "0";
    case Col::kLevels: {
      std::vector<Level> bids, asks;
      int64_t tick = 0;
      std::string error;
      if (!DecodeLevelsJson(text, &bids, &asks, &tick, &error)) {
        throw StoreError(std::string(table) + "." + column + ": " + error);
      }
      return EncodeLevelsJson(bids, asks, tick);
    }
    case Col::kJson: {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
      if (ec) throw StoreError(std::string(table) + "." + column + " is not valid JSON: " + ec.message());
      std::string out;
      CanonicalJsonTo(v, &out);
      return out;
    }
  }
  return std::string(text);
}

// FNV-1a (64-bit) over rows; enough to tell copies apart, not a security measure.
class Checksum {
 public:
  void Add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
  }
  void EndField() { Add(std::string_view("\x1f", 1)); }
  void EndRow() { Add(std::string_view("\x1e", 1)); }
  std::string Hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_));
    return buf;
  }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// COPY text format: backslash escapes for the characters it treats specially.
void AppendCopyText(std::string_view v, std::string* out) {
  for (char c : v) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '\t': *out += "\\t"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      default: out->push_back(c);
    }
  }
}

// ---------------------------------------------------------------------------
// Both ends of a copy. A source streams a table's rows (text values, as each
// backend prints them); a target takes them in one transaction and can read
// them back through a source on its own connection before committing.

struct Field {
  bool null = false;
  std::string_view text;
};
using RowFn = std::function<void(const Field* fields)>;

class CopySource {
 public:
  virtual ~CopySource() = default;
  // Runs `sql` (selecting ncols columns), calling row() per row.
  virtual void Select(const std::string& sql, size_t ncols, const RowFn& row) = 0;
  virtual DbUrl::Backend backend() const = 0;
};

class SqliteSource final : public CopySource {
 public:
  explicit SqliteSource(sqlite3* db) : db_(db) {}
  DbUrl::Backend backend() const override { return DbUrl::Backend::kSqlite; }
  void Select(const std::string& sql, size_t ncols, const RowFn& row) override {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw StoreError("cannot read the source (" + sql.substr(0, 60) + "): " + sqlite3_errmsg(db_));
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, sqlite3_finalize);
    std::vector<Field> fields(ncols);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      for (size_t c = 0; c < ncols; ++c) {
        const int i = static_cast<int>(c);
        fields[c].null = sqlite3_column_type(st, i) == SQLITE_NULL;
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
        fields[c].text = p == nullptr ? std::string_view()
                                      : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(st, i)));
      }
      row(fields.data());
    }
    if (rc != SQLITE_DONE) throw StoreError("cannot read the source (" + sql.substr(0, 60) + "): " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
};

// Reads through a cursor (bounded memory) inside the connection's transaction.
class PgSource final : public CopySource {
 public:
  explicit PgSource(PgConn& pg) : pg_(pg) {}
  DbUrl::Backend backend() const override { return DbUrl::Backend::kPostgres; }
  void Select(const std::string& sql, size_t ncols, const RowFn& row) override {
    const std::string cursor = "copy_cursor_" + std::to_string(++cursors_);
    pg_.Exec("DECLARE " + cursor + " NO SCROLL CURSOR FOR " + sql, "cannot read (" + sql.substr(0, 60) + ")");
    std::vector<Field> fields(ncols);
    for (;;) {
      PgResult r = pg_.Query("FETCH 20000 FROM " + cursor, "cannot read (" + sql.substr(0, 60) + ")");
      const int n = PQntuples(r.get());
      if (n == 0) break;
      for (int i = 0; i < n; ++i) {
        for (size_t c = 0; c < ncols; ++c) {
          const int ci = static_cast<int>(c);
          fields[c].null = PgIsNull(r.get(), i, ci);
          fields[c].text = PgText(r.get(), i, ci);
        }
        row(fields.data());
      }
    }
    pg_.Exec("CLOSE " + cursor, "cannot close a cursor");
  }

 private:
  PgConn& pg_;
  int cursors_ = 0;
};

std::string SelectAll(const TableSpec& t, DbUrl::Backend backend) {
  return "SELECT " + ColumnList(t) + " FROM " + t.name + " ORDER BY " +
         (backend == DbUrl::Backend::kPostgres ? t.pg_order_by : t.order_by);
}

// Reads a table into *sum; returns its rows.
int64_t ChecksumTable(CopySource& src, const TableSpec& t, Checksum* sum) {
  int64_t rows = 0;
  src.Select(SelectAll(t, src.backend()), t.columns.size(), [&](const Field* f) {
    for (size_t c = 0; c < t.columns.size(); ++c) {
      sum->Add(Canonical(t.columns[c].type, f[c].null, f[c].text, t.name, t.columns[c].name));
      sum->EndField();
    }
    sum->EndRow();
    ++rows;
  });
  return rows;
}

bool IsTrue(std::string_view text) { return text == "t" || text == "1" || text == "true"; }

class CopyTarget {
 public:
  virtual ~CopyTarget() = default;
  virtual void Begin() = 0;
  virtual bool Empty(const TableSpec& t) = 0;
  // Called once before the tables, with the source.
  virtual void Prepare(CopySource& src) = 0;
  // Writes every row of t from src; returns the rows and fills *sum from them.
  virtual int64_t Write(CopySource& src, const TableSpec& t, Checksum* sum) = 0;
  // Derived rows (event index or blocks) and id sequences, after every table.
  virtual void Finish() = 0;
  // A source over the target's own connection (inside its transaction).
  virtual CopySource& ReadBack() = 0;
  virtual void Commit() = 0;
  virtual void Rollback() = 0;
};

class PgTarget final : public CopyTarget {
 public:
  explicit PgTarget(const DbUrl& url) : pg_(PgConn::Connect(url)), read_back_(*pg_) {}
  void Begin() override {
    pg_->Exec("BEGIN", "cannot begin the copy transaction");
    pg_->Query("SELECT pg_advisory_xact_lock($1)", {kPgWriterLock}, "cannot lock the target database");
  }
  bool Empty(const TableSpec& t) override {
    return pg_->QueryInt(std::string("SELECT count(*) FROM (SELECT 1 FROM ") + t.name + " LIMIT 1) x", {},
                         std::string("cannot read ") + t.name) == 0;
  }
  void Prepare(CopySource& src) override {
    std::vector<int64_t> days;
    src.Select("SELECT DISTINCT ts_ms FROM orderbook_events", 1, [&](const Field* f) {
      const int64_t d = PgEventDay(std::atoll(std::string(f[0].text).c_str()));
      if (days.empty() || days.back() != d) days.push_back(d);
    });
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    for (int64_t d : days) pg_->Exec(PgCreateEventPartitionSql(d), "cannot create an orderbook_events partition");
  }
  // COPY (text format), 1 MiB at a time.
  int64_t Write(CopySource& src, const TableSpec& t, Checksum* sum) override {
    const std::string cols = ColumnList(t);
    PGconn* conn = pg_->raw();
    const std::string copy = std::string("COPY ") + t.name + " (" + cols + ") FROM STDIN";
    PgResult start(PQexec(conn, copy.c_str()));
    if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) pg_->Fail("cannot start COPY", start.get());
    std::string buf;
    int64_t rows = 0;
    bool send_failed = false;
    auto send = [&] {
      if (!send_failed && PQputCopyData(conn, buf.data(), static_cast<int>(buf.size())) != 1) send_failed = true;
      buf.clear();
    };
    try {
      src.Select(SelectAll(t, src.backend()), t.columns.size(), [&](const Field* f) {
        for (size_t c = 0; c < t.columns.size(); ++c) {
          const ColumnSpec& col = t.columns[c];
          if (c != 0) buf.push_back('\t');
          if (f[c].null) {
            buf += "\\N";
          } else if (col.type == Col::kBool) {
            buf += IsTrue(f[c].text) ? "t" : "f";
          } else {
            AppendCopyText(f[c].text, &buf);
          }
          sum->Add(Canonical(col.type, f[c].null, f[c].text, t.name, col.name));
          sum->EndField();
        }
        buf.push_back('\n');
        sum->EndRow();
        ++rows;
        if (buf.size() >= (1 << 20)) send();
      });
    } catch (...) {
      PQputCopyEnd(conn, "source read failed");
      while (PGresult* r = PQgetResult(conn)) PQclear(r);
      throw;
    }
    send();
    if (PQputCopyEnd(conn, send_failed ? "client could not send the rows" : nullptr) != 1) {
      pg_->Fail("cannot finish COPY");
    }
    PgResult end(PQgetResult(conn));
    const bool ok = end && PQresultStatus(end.get()) == PGRES_COMMAND_OK;
    if (!ok) {
      std::string what = std::string("cannot copy ") + t.name;
      while (PGresult* r = PQgetResult(conn)) PQclear(r);
      pg_->Fail(what, end.get());
    }
    while (PGresult* r = PQgetResult(conn)) PQclear(r);
    return rows;
  }
  void Finish() override {
    // PostgreSQL's orderbook_event_index (it also holds each row's ts_ms range),
    // rebuilt from the copied events: one row per outcome and block of 16384 ids.
    pg_->Exec("INSERT INTO orderbook_event_index (outcome_id, first_id, last_id, min_ts_ms, max_ts_ms, ids)"
              " SELECT outcome_id, min(id), max(id), min(ts_ms), max(ts_ms), array_agg(id ORDER BY id)"
              " FROM orderbook_events GROUP BY outcome_id, id / 16384",
              "cannot build orderbook_event_index");
    // Ids continue after the copied ones.
    pg_->Exec("SELECT setval('orderbook_events_id_seq', max(id)) FROM orderbook_events HAVING max(id) IS NOT NULL",
              "cannot set orderbook_events_id_seq");
    for (const char* table : {"outcomes", "sources", "orderbook_snapshots", "orders", "fills", "exec_audit"}) {
      pg_->Exec(std::string("SELECT setval(pg_get_serial_sequence('") + table + "', 'id'), max(id)) FROM " + table +
                    " HAVING max(id) IS NOT NULL",
                std::string("cannot set the id sequence of ") + table);
    }
  }
  CopySource& ReadBack() override { return read_back_; }
  void Commit() override { pg_->Exec("COMMIT", "cannot commit the copy"); }
  void Rollback() override { pg_->RollbackQuietly(); }

 private:
  std::unique_ptr<PgConn> pg_;
  PgSource read_back_;
};

class SqliteTarget final : public CopyTarget {
 public:
  explicit SqliteTarget(const DbUrl& url) : url_(url) {
    if (sqlite3_open_v2(url.path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StoreError("cannot open database " + url.path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 30000);
    read_back_ = std::make_unique<SqliteSource>(db_);
  }
  ~SqliteTarget() override { sqlite3_close(db_); }
  void Begin() override { Exec("BEGIN IMMEDIATE"); }
  bool Empty(const TableSpec& t) override {
    bool empty = true;
    read_back_->Select(std::string("SELECT 1 FROM ") + t.name + " LIMIT 1", 1, [&](const Field*) { empty = false; });
    return empty;
  }
  void Prepare(CopySource&) override {}
  // One prepared INSERT, values bound in SQLite's types; JSON in its canonical
  // compact form (PostgreSQL prints jsonb with spaces and its own key order).
  int64_t Write(CopySource& src, const TableSpec& t, Checksum* sum) override {
    // orderbook_events is a view of the blocks on SQLite: its rows go to a
    // temporary table first, which Finish() groups into blocks.
    const bool events = std::string_view(t.name) == "orderbook_events";
    if (events) Exec(("CREATE TEMP TABLE copy_event_rows (" + ColumnList(t) + ")").c_str());
    std::string sql =
        std::string("INSERT INTO ") + (events ? "temp.copy_event_rows" : t.name) + " (" + ColumnList(t) + ") VALUES (";
    for (size_t c = 0; c < t.columns.size(); ++c) sql += (c == 0 ? "?" : ", ?") + std::to_string(c + 1);
    sql += ")";
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) Fail(std::string("cannot insert into ") + t.name);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, sqlite3_finalize);
    int64_t rows = 0;
    src.Select(SelectAll(t, src.backend()), t.columns.size(), [&](const Field* f) {
      sqlite3_reset(st);
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const ColumnSpec& col = t.columns[c];
        const int i = static_cast<int>(c) + 1;
        const std::string canonical = Canonical(col.type, f[c].null, f[c].text, t.name, col.name);
        if (f[c].null) {
          sqlite3_bind_null(st, i);
        } else if (col.type == Col::kBool) {
          sqlite3_bind_int64(st, i, IsTrue(f[c].text) ? 1 : 0);
        } else if (col.type == Col::kInt) {
          sqlite3_bind_int64(st, i, std::atoll(std::string(f[c].text).c_str()));
        } else if (col.type == Col::kText) {
          sqlite3_bind_text(st, i, f[c].text.data(), static_cast<int>(f[c].text.size()), SQLITE_TRANSIENT);
        } else {
          sqlite3_bind_text(st, i, canonical.data(), static_cast<int>(canonical.size()), SQLITE_TRANSIENT);
        }
        sum->Add(canonical);
        sum->EndField();
      }
      sum->EndRow();
      if (sqlite3_step(st) != SQLITE_DONE) Fail(std::string("cannot insert into ") + t.name);
      ++rows;
    });
    return rows;
  }
  // SQLite's event blocks, from the copied rows (as migration 5 regroups a table).
  void Finish() override {
    Exec(SqliteEventBlocksFromRowsSql("temp.copy_event_rows").c_str());
    Exec("DROP TABLE temp.copy_event_rows");
  }
  CopySource& ReadBack() override { return *read_back_; }
  void Commit() override { Exec("COMMIT"); }
  void Rollback() override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

 private:
  void Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Fail(sql);
  }
  [[noreturn]] void Fail(const std::string& what) const {
    throw StoreError(what + " (" + url_.path + "): " + sqlite3_errmsg(db_));
  }
  DbUrl url_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<SqliteSource> read_back_;
};

// A read-only SQLite handle for the source.
class SqliteFile {
 public:
  explicit SqliteFile(const DbUrl& url) {
    if (url.path == ":memory:") throw StoreError("cannot copy from an in-memory database (it would be empty)");
    std::error_code ec;
    if (!std::filesystem::exists(url.path, ec)) throw StoreError("database not found: " + url.path);
    if (sqlite3_open_v2(url.path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      throw StoreError("cannot open database " + url.path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 30000);
  }
  ~SqliteFile() { sqlite3_close(db_); }
  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<soci::session> OpenSqliteSession(const DbUrl& url) {
  if (url.path.find('"') != std::string::npos) throw StoreError("database path may not contain a double quote");
  try {
    return std::make_unique<soci::session>(soci::sqlite3, "db=\"" + url.path + "\"");
  } catch (const soci::soci_error& e) {
    throw StoreError("cannot open database " + url.redacted + ": " + e.get_error_message());
  }
}

}  // namespace

std::span<const Migration> MigrationsFor(DbUrl::Backend backend) {
  return backend == DbUrl::Backend::kPostgres ? PostgresMigrations() : SqliteMigrations();
}

std::string_view SchemaVersionTableSqlFor(DbUrl::Backend backend) {
  return backend == DbUrl::Backend::kPostgres ? PgSchemaVersionTableSql() : SqliteSchemaVersionTableSql();
}

int ReadSchemaVersion(const DbUrl& url) {
  if (url.backend == DbUrl::Backend::kPostgres) {
    auto conn = PgConn::Connect(url);
    return CurrentPgSchemaVersion(*conn);
  }
  if (url.path != ":memory:") {
    std::error_code ec;
    if (!std::filesystem::exists(url.path, ec)) return 0;
  }
  auto sql = OpenSqliteSession(url);
  return CurrentSchemaVersion(*sql);
}

MigrateResult MigrateDatabase(const DbUrl& url) {
  MigrateResult result;
  if (url.backend == DbUrl::Backend::kPostgres) {
    auto conn = PgConn::Connect(url);
    result.from_version = CurrentPgSchemaVersion(*conn);
    result.applied = ApplyPgMigrations(*conn, PostgresMigrations());
    result.to_version = CurrentPgSchemaVersion(*conn);
    return result;
  }
  auto sql = OpenSqliteSession(url);
  result.from_version = CurrentSchemaVersion(*sql);
  result.to_version = ApplyMigrations(*sql, SqliteMigrations());
  // SQLite applies each version in its own transaction; another process may
  // have applied some of them meanwhile, but none are applied twice.
  for (int v = result.from_version + 1; v <= result.to_version; ++v) result.applied.push_back(v);
  return result;
}

std::vector<TableCopy> CopyDatabase(const DbUrl& from, const DbUrl& to,
                                    const std::function<void(const std::string&)>& progress) {
  const bool pg_from = from.backend == DbUrl::Backend::kPostgres;
  const bool pg_to = to.backend == DbUrl::Backend::kPostgres;
  if (pg_from == pg_to && (pg_from ? from.pg_conninfo == to.pg_conninfo : from.path == to.path)) {
    throw StoreError("db copy: --from and --to name the same database (" + to.redacted + ")");
  }
  if (!pg_to && to.path == ":memory:") throw StoreError("db copy: the target cannot be sqlite:///:memory:");
  // The source: read-only, and on PostgreSQL one snapshot for the whole copy.
  std::unique_ptr<SqliteFile> src_file;
  std::unique_ptr<PgConn> src_pg;
  std::unique_ptr<CopySource> src;
  if (pg_from) {
    src_pg = PgConn::Connect(from);
    src_pg->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "cannot begin a read transaction");
    src = std::make_unique<PgSource>(*src_pg);
  } else {
    src_file = std::make_unique<SqliteFile>(from);
    src = std::make_unique<SqliteSource>(src_file->db());
  }
  const int latest = SqliteMigrations().back().version;
  const int version = ReadSchemaVersion(from);
  if (version != latest) {
    throw StoreError("source database " + from.redacted + " is at schema version " + std::to_string(version) +
                     ", not " + std::to_string(latest) + "; run `polyhost migrate --apply --db-url " + from.redacted +
                     "` first");
  }
  MigrateDatabase(to);
  std::unique_ptr<CopyTarget> target;
  if (pg_to) {
    target = std::make_unique<PgTarget>(to);
  } else {
    target = std::make_unique<SqliteTarget>(to);
  }
  std::vector<TableCopy> out;
  target->Begin();
  try {
    for (const TableSpec& t : Tables()) {
      if (!target->Empty(t)) {
        throw StoreError("target database " + to.redacted + " already has rows in " + t.name +
                         "; db copy only fills an empty database");
      }
    }
    target->Prepare(*src);
    for (const TableSpec& t : Tables()) {
      if (progress) progress(t.name);
      Checksum sum;
      TableCopy copy;
      copy.table = t.name;
      copy.rows = target->Write(*src, t, &sum);
      copy.checksum = sum.Hex();
      out.push_back(copy);
    }
    target->Finish();
    // Verify what the target now holds, before committing it.
    for (size_t i = 0; i < Tables().size(); ++i) {
      const TableSpec& t = Tables()[i];
      if (progress) progress(std::string("verifying ") + t.name);
      Checksum sum;
      const int64_t rows = ChecksumTable(target->ReadBack(), t, &sum);
      if (rows != out[i].rows || sum.Hex() != out[i].checksum) {
        throw StoreError(std::string("verification failed for ") + t.name + ": source has " +
                         std::to_string(out[i].rows) + " rows (checksum " + out[i].checksum + "), target " +
                         std::to_string(rows) + " rows (checksum " + sum.Hex() + "); nothing was committed");
      }
    }
    target->Commit();
  } catch (...) {
    target->Rollback();
    throw;
  }
  if (src_pg) src_pg->RollbackQuietly();
  return out;
}

}  // namespace polyhost

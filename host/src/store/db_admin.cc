#include "store/db_admin.h"

// soci-sqlite3.h includes <sqlite3.h> inside namespace sqlite_api, so it comes
// first and the SQLite API is used through that namespace.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
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

// Every table of the latest schema version, parents first, except
// orderbook_event_index, which is derived from orderbook_events and differs
// between the backends (PostgreSQL's also holds each row's ts_ms range); the
// copy rebuilds it.
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
// SQLite access (raw handle, read-only for copying).

class SqliteReader {
 public:
  explicit SqliteReader(const DbUrl& url) {
    if (url.path == ":memory:") throw StoreError("cannot copy from an in-memory database (it would be empty)");
    std::error_code ec;
    if (!std::filesystem::exists(url.path, ec)) throw StoreError("database not found: " + url.path);
    if (sqlite3_open_v2(url.path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      throw StoreError("cannot open database " + url.path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 30000);
  }
  ~SqliteReader() { sqlite3_close(db_); }
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

void CreatePartitionsFor(sqlite3* src, PgConn& pg) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(src, "SELECT DISTINCT ts_ms FROM orderbook_events", -1, &st, nullptr) != SQLITE_OK) {
    throw StoreError(std::string("cannot read orderbook_events: ") + sqlite3_errmsg(src));
  }
  std::vector<int64_t> days;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const int64_t d = PgEventDay(sqlite3_column_int64(st, 0));
    if (days.empty() || days.back() != d) days.push_back(d);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw StoreError(std::string("cannot read orderbook_events: ") + sqlite3_errmsg(src));
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  for (int64_t d : days) pg.Exec(PgCreateEventPartitionSql(d), "cannot create an orderbook_events partition");
}

// Streams one table from SQLite into PostgreSQL with COPY (text format);
// returns its row count and fills *sum from the source rows.
int64_t CopyTable(sqlite3* src, PgConn& pg, const TableSpec& t, Checksum* sum) {
  const std::string cols = ColumnList(t);
  sqlite3_stmt* st = nullptr;
  const std::string select = "SELECT " + cols + " FROM " + t.name + " ORDER BY " + t.order_by;
  if (sqlite3_prepare_v2(src, select.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    throw StoreError(std::string("cannot read ") + t.name + ": " + sqlite3_errmsg(src));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, sqlite3_finalize);
  PGconn* conn = pg.raw();
  const std::string copy = std::string("COPY ") + t.name + " (" + cols + ") FROM STDIN";
  PgResult start(PQexec(conn, copy.c_str()));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) pg.Fail("cannot start COPY", start.get());
  std::string buf;
  int64_t rows = 0;
  bool send_failed = false;
  auto send = [&] {
    if (!send_failed && PQputCopyData(conn, buf.data(), static_cast<int>(buf.size())) != 1) send_failed = true;
    buf.clear();
  };
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const ColumnSpec& col = t.columns[c];
      const int i = static_cast<int>(c);
      const bool is_null = sqlite3_column_type(st, i) == SQLITE_NULL;
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      const std::string_view text =
          p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(st, i)));
      if (c != 0) buf.push_back('\t');
      if (is_null) {
        buf += "\\N";
      } else if (col.type == Col::kBool) {
        buf += text == "0" ? "f" : "t";
      } else {
        AppendCopyText(text, &buf);
      }
      sum->Add(Canonical(col.type, is_null, text, t.name, col.name));
      sum->EndField();
    }
    buf.push_back('\n');
    sum->EndRow();
    ++rows;
    if (buf.size() >= (1 << 20)) send();
  }
  if (rc != SQLITE_DONE) {
    PQputCopyEnd(conn, "source read failed");
    while (PGresult* r = PQgetResult(conn)) PQclear(r);
    throw StoreError(std::string("cannot read ") + t.name + ": " + sqlite3_errmsg(src));
  }
  send();
  if (PQputCopyEnd(conn, send_failed ? "client could not send the rows" : nullptr) != 1) pg.Fail("cannot finish COPY");
  PgResult end(PQgetResult(conn));
  const bool ok = end && PQresultStatus(end.get()) == PGRES_COMMAND_OK;
  if (!ok) {
    std::string what = std::string("cannot copy ") + t.name;
    while (PGresult* r = PQgetResult(conn)) PQclear(r);
    pg.Fail(what, end.get());
  }
  while (PGresult* r = PQgetResult(conn)) PQclear(r);
  return rows;
}

// Reads a table back from PostgreSQL (through a cursor) into *sum; returns rows.
int64_t ChecksumPgTable(PgConn& pg, const TableSpec& t, Checksum* sum) {
  pg.Exec(std::string("DECLARE verify NO SCROLL CURSOR FOR SELECT ") + ColumnList(t) + " FROM " + t.name +
              " ORDER BY " + t.pg_order_by,
          std::string("cannot read back ") + t.name);
  int64_t rows = 0;
  for (;;) {
    PgResult r = pg.Query("FETCH 20000 FROM verify", std::string("cannot read back ") + t.name);
    const int n = PQntuples(r.get());
    if (n == 0) break;
    for (int i = 0; i < n; ++i) {
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const int ci = static_cast<int>(c);
        sum->Add(Canonical(t.columns[c].type, PgIsNull(r.get(), i, ci), PgText(r.get(), i, ci), t.name,
                           t.columns[c].name));
        sum->EndField();
      }
      sum->EndRow();
    }
    rows += n;
  }
  pg.Exec("CLOSE verify", "cannot close a cursor");
  return rows;
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
  if (from.backend != DbUrl::Backend::kSqlite || to.backend != DbUrl::Backend::kPostgres) {
    throw StoreError("db copy copies a SQLite database into PostgreSQL (--from sqlite:///... --to postgresql://...);"
                     " other directions are not supported yet");
  }
  const int latest = SqliteMigrations().back().version;
  SqliteReader src(from);
  {
    auto sql = OpenSqliteSession(from);
    const int version = CurrentSchemaVersion(*sql);
    if (version != latest) {
      throw StoreError("source database " + from.redacted + " is at schema version " + std::to_string(version) +
                       ", not " + std::to_string(latest) + "; run `polyhost migrate --apply --db-url " +
                       from.redacted + "` first");
    }
  }
  MigrateDatabase(to);
  auto pg = PgConn::Connect(to);
  std::vector<TableCopy> out;
  pg->Exec("BEGIN", "cannot begin the copy transaction");
  try {
    pg->Query("SELECT pg_advisory_xact_lock($1)", {kPgWriterLock}, "cannot lock the target database");
    for (const TableSpec& t : Tables()) {
      if (pg->QueryInt(std::string("SELECT count(*) FROM (SELECT 1 FROM ") + t.name + " LIMIT 1) x", {},
                       std::string("cannot read ") + t.name) != 0) {
        throw StoreError("target database " + to.redacted + " already has rows in " + t.name +
                         "; db copy only fills an empty database");
      }
    }
    CreatePartitionsFor(src.db(), *pg);
    for (const TableSpec& t : Tables()) {
      if (progress) progress(t.name);
      Checksum sum;
      TableCopy copy;
      copy.table = t.name;
      copy.rows = CopyTable(src.db(), *pg, t, &sum);
      copy.checksum = sum.Hex();
      out.push_back(copy);
    }
    // PostgreSQL's orderbook_event_index (SQLite's has no ts_ms range), rebuilt
    // from the copied events: one row per outcome and block of 16384 ids.
    pg->Exec("INSERT INTO orderbook_event_index (outcome_id, first_id, last_id, min_ts_ms, max_ts_ms, ids)"
             " SELECT outcome_id, min(id), max(id), min(ts_ms), max(ts_ms), array_agg(id ORDER BY id)"
             " FROM orderbook_events GROUP BY outcome_id, id / 16384",
             "cannot build orderbook_event_index");
    // Ids continue after the copied ones.
    pg->Exec("SELECT setval('orderbook_events_id_seq', max(id)) FROM orderbook_events HAVING max(id) IS NOT NULL",
             "cannot set orderbook_events_id_seq");
    for (const char* table : {"outcomes", "sources", "orderbook_snapshots", "orders", "fills", "exec_audit"}) {
      pg->Exec(std::string("SELECT setval(pg_get_serial_sequence('") + table + "', 'id'), max(id)) FROM " + table +
                   " HAVING max(id) IS NOT NULL",
               std::string("cannot set the id sequence of ") + table);
    }
    // Verify what the target now holds, before committing it.
    for (size_t i = 0; i < Tables().size(); ++i) {
      const TableSpec& t = Tables()[i];
      if (progress) progress(std::string("verifying ") + t.name);
      Checksum sum;
      const int64_t rows = ChecksumPgTable(*pg, t, &sum);
      if (rows != out[i].rows || sum.Hex() != out[i].checksum) {
        throw StoreError(std::string("verification failed for ") + t.name + ": source has " +
                         std::to_string(out[i].rows) + " rows (checksum " + out[i].checksum + "), target " +
                         std::to_string(rows) + " rows (checksum " + sum.Hex() + "); nothing was committed");
      }
    }
    pg->Exec("COMMIT", "cannot commit the copy");
  } catch (...) {
    pg->RollbackQuietly();
    throw;
  }
  return out;
}

}  // namespace polyhost

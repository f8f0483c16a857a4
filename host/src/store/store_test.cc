#include "store/store.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

// soci-sqlite3.h includes <sqlite3.h> inside namespace sqlite_api, so it comes
// first and the SQLite API is used through that namespace.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/decimal.h"
#include "store/levels_json.h"
#include "store/migrations.h"
#include "store/pg_conn.h"
#include "store/pg_schema.h"

namespace polyhost {
namespace {

namespace fs = std::filesystem;
using namespace sqlite_api;  // NOLINT(build/namespaces)

// ---------------------------------------------------------------------------
// Helpers

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("polyhost-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  // sqlite:///<absolute path> -> four slashes.
  DbUrl Url(const std::string& name) const { return ParseDbUrl("sqlite:///" + File(name)); }

 private:
  fs::path path_;
};

// Direct SQLite access for checking what the store wrote.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    std::string v;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return v;
  }
  std::vector<std::vector<int64_t>> Ints(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    std::vector<std::vector<int64_t>> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.emplace_back();
      for (int c = 0; c < sqlite3_column_count(s); ++c) out.back().push_back(sqlite3_column_int64(s, c));
    }
    sqlite3_finalize(s);
    return out;
  }
  // Every row of a query as text, one line per row.
  std::string Dump(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    std::string out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        const unsigned char* t = sqlite3_column_text(s, c);
        out += t == nullptr ? "NULL" : reinterpret_cast<const char*>(t);
        out += '|';
      }
      out += '\n';
    }
    sqlite3_finalize(s);
    return out;
  }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }

 private:
  sqlite3* db_ = nullptr;
};

// ---------------------------------------------------------------------------
// Both backends. Every test written as STORE_TEST runs twice: "sqlite: ..." on a
// file in a temporary directory and "postgresql: ..." in a fresh schema of the
// database named by POLYHOST_TEST_PG_URL (scripts/test.sh starts a throwaway
// server and sets it). Without that variable the PostgreSQL variants FAIL: a
// missing backend must never look like a passing test.

enum class Backend { kSqlite, kPostgres };

constexpr const char* kPgUrlVariable = "POLYHOST_TEST_PG_URL";

std::string PgBaseUrl() {
  const char* url = std::getenv(kPgUrlVariable);
  if (url == nullptr || *url == '\0') {
    FAIL(kPgUrlVariable << " is not set: the PostgreSQL store tests need a server. Run them with `make test` "
                           "(scripts/test.sh starts a throwaway PostgreSQL 15), or start one with "
                           "scripts/pg_test_server.sh start DIR and export the URL it prints.");
  }
  return url;
}

// Raw SQL on a PostgreSQL schema, for checking what the store wrote.
class RawPg {
 public:
  explicit RawPg(const DbUrl& url) : conn_(PgConn::Connect(url)) {}
  int64_t Int(const std::string& sql) { return conn_->QueryInt(sql, {}, sql, -1); }
  std::string Text(const std::string& sql) {
    PgResult r = conn_->Query(sql, sql);
    return PQntuples(r.get()) > 0 && !PgIsNull(r.get(), 0, 0) ? std::string(PgText(r.get(), 0, 0)) : "";
  }
  std::vector<std::vector<int64_t>> Ints(const std::string& sql) {
    PgResult r = conn_->Query(sql, sql);
    std::vector<std::vector<int64_t>> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      out.emplace_back();
      for (int c = 0; c < PQnfields(r.get()); ++c) out.back().push_back(PgInt(r.get(), i, c));
    }
    return out;
  }
  std::string Dump(const std::string& sql) {
    PgResult r = conn_->Query(sql, sql);
    std::string out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      for (int c = 0; c < PQnfields(r.get()); ++c) {
        out += PgIsNull(r.get(), i, c) ? std::string("NULL") : std::string(PgText(r.get(), i, c));
        out += '|';
      }
      out += '\n';
    }
    return out;
  }
  void Exec(const std::string& sql) {
    INFO(sql);
    REQUIRE_NOTHROW(conn_->Exec(sql, sql));
  }
  PgConn& conn() { return *conn_; }

 private:
  std::unique_ptr<PgConn> conn_;
};

// Where a test's databases live: files in a temporary directory (SQLite) or
// schemas in the test database (PostgreSQL), each dropped at the end.
class TestDbs {
 public:
  explicit TestDbs(Backend backend) : backend_(backend) {
    if (backend_ == Backend::kPostgres) {
      static int counter = 0;
      prefix_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_";
      admin_ = std::make_unique<RawPg>(ParseDbUrl(PgBaseUrl()));
    }
  }
  ~TestDbs() {
    for (const std::string& schema : schemas_) {
      try {
        admin_->conn().Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE", "drop");
      } catch (...) {
      }
    }
  }
  Backend backend() const { return backend_; }
  bool pg() const { return backend_ == Backend::kPostgres; }
  // The database `name` ("poly.db"): a file, or a schema created on first use.
  DbUrl Url(const std::string& name) {
    if (!pg()) return dir_.Url(name);
    std::string schema = prefix_;
    for (char c : name) schema.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    if (std::find(schemas_.begin(), schemas_.end(), schema) == schemas_.end()) {
      admin_->Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
      schemas_.push_back(schema);
    }
    const std::string base = PgBaseUrl();
    return ParseDbUrl(base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema);
  }
  std::string File(const std::string& name) const { return dir_.File(name); }

 private:
  Backend backend_;
  TempDir dir_;
  std::string prefix_;
  std::unique_ptr<RawPg> admin_;
  std::vector<std::string> schemas_;
};

// Raw SQL on one test database of either backend.
class Raw {
 public:
  Raw(TestDbs& dbs, const std::string& name) {
    if (dbs.pg()) {
      pg_ = std::make_unique<RawPg>(dbs.Url(name));
    } else {
      sqlite_ = std::make_unique<RawDb>(dbs.File(name));
    }
  }
  int64_t Int(const std::string& sql) { return pg_ ? pg_->Int(sql) : sqlite_->Int(sql); }
  std::string Text(const std::string& sql) { return pg_ ? pg_->Text(sql) : sqlite_->Text(sql); }
  std::vector<std::vector<int64_t>> Ints(const std::string& sql) { return pg_ ? pg_->Ints(sql) : sqlite_->Ints(sql); }
  std::string Dump(const std::string& sql) { return pg_ ? pg_->Dump(sql) : sqlite_->Dump(sql); }
  void Exec(const std::string& sql) { pg_ ? pg_->Exec(sql) : sqlite_->Exec(sql); }
  // The backend's own consistency check.
  void CheckIntegrity() {
    if (sqlite_) CHECK(sqlite_->Text("PRAGMA integrity_check") == "ok");
  }

 private:
  std::unique_ptr<RawDb> sqlite_;
  std::unique_ptr<RawPg> pg_;
};

#define STORE_TEST_NAME2(a, b) a##b
#define STORE_TEST_NAME(a, b) STORE_TEST_NAME2(a, b)
// Defines a test body `void f(TestDbs& dbs)` run once per backend.
#define STORE_TEST(title, tags) STORE_TEST_IMPL(STORE_TEST_NAME(StoreTestBody, __LINE__), title, tags)
#define STORE_TEST_IMPL(fn, title, tags)                                \
  static void fn(TestDbs& dbs);                                          \
  TEST_CASE("sqlite: " title, tags) {                                    \
    TestDbs dbs(Backend::kSqlite);                                       \
    fn(dbs);                                                             \
  }                                                                      \
  TEST_CASE("postgresql: " title, tags "[pg]") {                         \
    TestDbs dbs(Backend::kPostgres);                                     \
    fn(dbs);                                                             \
  }                                                                      \
  static void fn(TestDbs& dbs)

void ApplyLevelsJson(const std::string& json, OrderBook* book) {
  std::vector<Level> bids, asks;
  int64_t tick = 0;
  REQUIRE(DecodeLevelsJson(json, &bids, &asks, &tick));
  book->ApplySnapshot(bids, asks);
  if (tick != 0) book->set_tick_size(tick);
}

// An outcome's book from its events with id <= upto alone (no snapshots).
OrderBook RebuildFromEvents(Raw& db, int64_t outcome_id, int64_t upto) {
  OrderBook book;
  const std::string where = " FROM orderbook_events WHERE outcome_id = " + std::to_string(outcome_id) +
                            " AND id <= " + std::to_string(upto) + " ORDER BY id";
  for (const auto& e : db.Ints("SELECT id, kind, coalesce(side, -1), coalesce(price, 0), coalesce(size, 0)" + where)) {
    switch (e[1]) {
      case 1:
        ApplyLevelsJson(db.Text("SELECT levels_json FROM orderbook_events WHERE id = " + std::to_string(e[0])), &book);
        break;
      case 2:
        book.ApplyLevel(e[2] == 0 ? Side::kBid : Side::kAsk, e[3], e[4]);
        break;
      case 3:
        book.set_tick_size(e[3]);
        break;
      default:
        FAIL("bad kind " << e[1]);
    }
  }
  return book;
}

std::string StoreErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e.what();
  }
  return "";
}

// A deterministic feed shaped like the book engine's output: the first event of
// an asset is a book, then level changes, occasional tick changes and resets;
// snapshots every `snapshot_every` lines (deliberately not at batch ends).
struct FeedOptions {
  int lines = 1000;
  int lines_per_batch = 100;
  uint32_t assets = 4;
  int snapshot_every = 0;
  int64_t ts0 = 1'700'000'000'000;
  uint64_t seed = 42;
};

struct Feed {
  std::vector<WriteBatch> batches;
  std::vector<std::string> markets, asset_ids;
  std::vector<OrderBook> books;  // after the last line
  std::vector<int64_t> seq, ts;
  int64_t events = 0;
  int64_t snapshots = 0;
};

Feed MakeFeed(const FeedOptions& o) {
  uint64_t rng = o.seed;
  auto next = [&rng] {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(rng >> 33);
  };
  Feed f;
  f.books.resize(o.assets);
  f.seq.assign(o.assets, 0);
  f.ts.assign(o.assets, 0);
  std::vector<bool> announced(o.assets), has_book(o.assets), touched(o.assets);
  for (uint32_t k = 0; k < o.assets; ++k) {
    f.markets.push_back("0xmarket" + std::to_string(k / 2));
    f.asset_ids.push_back(std::to_string(7000000000000000000ULL + k * 7919ULL));
  }
  WriteBatch cur;
  for (int line = 1; line <= o.lines; ++line) {
    const int64_t ts = o.ts0 + line * 10;
    const uint32_t k = next() % o.assets;
    if (!announced[k]) {
      cur.new_assets.push_back(NewAsset{k, f.markets[k], f.asset_ids[k]});
      announced[k] = true;
    }
    const uint32_t items = next() % 3 == 0 ? 2 : 1;
    for (uint32_t item = 0; item < items; ++item) {
      OrderBook& book = f.books[k];
      EventRow e{};
      e.asset_key = k;
      e.item = item;
      e.line = line;
      e.ts_ms = ts;
      e.recv_ts_ms = ts + 3;
      if (!has_book[k] || next() % 50 == 0) {
        std::vector<Level> bids, asks;
        const int nb = 1 + next() % 5, na = 1 + next() % 5;
        for (int i = 0; i < nb; ++i) bids.push_back({400000 + int64_t(next() % 10) * 10000, 1 + next() % 500000000});
        for (int i = 0; i < na; ++i) asks.push_back({510000 + int64_t(next() % 10) * 10000, 1 + next() % 500000000});
        book.ApplySnapshot(bids, asks);
        has_book[k] = true;
        e.kind = EventKind::kBook;
        e.levels_json = EncodeLevelsJson(book);
      } else if (next() % 40 == 0) {
        const int64_t tick = next() % 2 == 0 ? 10000 : 1000;
        book.set_tick_size(tick);
        e.kind = EventKind::kTick;
        e.price = tick;
      } else {
        e.kind = EventKind::kLevel;
        e.side = next() % 2 == 0 ? Side::kBid : Side::kAsk;
        e.price = 300000 + int64_t(next() % 40) * 10000;
        e.size = next() % 4 == 0 ? 0 : 1 + next() % 100000000;
        book.ApplyLevel(e.side, e.price, e.size);
      }
      e.seq = ++f.seq[k];
      f.ts[k] = ts;
      cur.events.push_back(std::move(e));
      ++f.events;
      touched[k] = true;
    }
    if (o.snapshot_every > 0 && line % o.snapshot_every == 0) {
      for (uint32_t s = 0; s < o.assets; ++s) {
        if (!has_book[s]) continue;
        cur.snapshots.push_back(SnapshotRow{s, ts, f.seq[s], EncodeLevelsJson(f.books[s])});
        ++f.snapshots;
      }
    }
    if (line % o.lines_per_batch == 0 || line == o.lines) {
      for (uint32_t s = 0; s < o.assets; ++s) {
        if (!touched[s]) continue;
        const OrderBook& b = f.books[s];
        cur.status.push_back(StatusRow{s, f.ts[s], f.seq[s], b.best_bid(), b.best_ask(), s == 1, f.seq[s], s == 1 ? 1 : 0});
        touched[s] = false;
      }
      cur.last_line = line;
      f.batches.push_back(std::move(cur));
      cur = WriteBatch();
    }
  }
  return f;
}

// Submits every batch of the feed for `source_id`.
void SubmitFeed(Store& store, const Feed& feed, int64_t source_id) {
  for (const WriteBatch& b : feed.batches) {
    WriteBatch copy = b;
    copy.source_id = source_id;
    store.Submit(std::move(copy));
  }
}

std::vector<Level> Vec(std::span<const Level> s) { return {s.begin(), s.end()}; }

void CheckBook(const OrderBook& got, const OrderBook& want) {
  CHECK(Vec(got.bids()) == Vec(want.bids()));
  CHECK(Vec(got.asks()) == Vec(want.asks()));
  CHECK(got.tick_size() == want.tick_size());
}

// Every asset's stored book equals the feed's final book.
void CheckBooks(Store& store, const Feed& feed) {
  for (size_t k = 0; k < feed.books.size(); ++k) {
    INFO("asset " << k);
    std::optional<StoredBook> b = store.LoadBook(feed.markets[k], feed.asset_ids[k]);
    REQUIRE(b.has_value());
    CheckBook(b->book, feed.books[k]);
    CHECK(b->seq == feed.seq[k]);
    CHECK(b->ts_ms == feed.ts[k]);
    CHECK(b->stale == (k == 1));
  }
}

// The rows a run leaves, without wall-clock columns.
std::string DumpRows(TestDbs& dbs, const std::string& name) {
  Raw db(dbs, name);
  return db.Dump("SELECT * FROM outcomes ORDER BY id") +
         db.Dump("SELECT id, path, committed_line FROM sources ORDER BY id") +
         db.Dump("SELECT * FROM orderbook_events ORDER BY id") +
         db.Dump(dbs.pg() ? "SELECT outcome_id, first_id, last_id, min_ts_ms, max_ts_ms, ids FROM orderbook_event_index"
                            " ORDER BY outcome_id, first_id"
                          : "SELECT first_id, outcome_id, source_id, last_id, n_events, min_ts_ms, max_ts_ms, events"
                            " FROM orderbook_event_blocks ORDER BY first_id") +
         db.Dump("SELECT * FROM orderbook_snapshots ORDER BY id") +
         db.Dump("SELECT outcome_id, last_update_ts_ms, seq, best_bid, best_ask, stale, events, continuity_breaks"
                 " FROM market_status ORDER BY outcome_id");
}

// ---------------------------------------------------------------------------
// levels_json

TEST_CASE("levels_json encodes canonical decimals best-first and decodes back", "[store][levels_json]") {
  OrderBook book;
  std::vector<Level> bids = {{480000, 100000000}, {500000, 200000000}};
  std::vector<Level> asks = {{530000, 1}, {520000, 12500000}};
  book.ApplySnapshot(bids, asks);
  CHECK(EncodeLevelsJson(book) ==
        R"({"bids":[["0.5","200"],["0.48","100"]],"asks":[["0.52","12.5"],["0.53","0.000001"]]})");
  book.set_tick_size(10000);
  const std::string json = EncodeLevelsJson(book);
  CHECK(json == R"({"bids":[["0.5","200"],["0.48","100"]],"asks":[["0.52","12.5"],["0.53","0.000001"]],"tick":"0.01"})");
  CHECK(EncodeLevelsJson(OrderBook()) == R"({"bids":[],"asks":[]})");

  std::vector<Level> b, a;
  int64_t tick = -1;
  REQUIRE(DecodeLevelsJson(json, &b, &a, &tick));
  CHECK(b == std::vector<Level>{{500000, 200000000}, {480000, 100000000}});
  CHECK(a == std::vector<Level>{{520000, 12500000}, {530000, 1}});
  CHECK(tick == 10000);

  // Whitespace, missing sides and unknown keys are fine; malformed text is not.
  REQUIRE(DecodeLevelsJson(R"( { "asks" : [ ["1", "2"] ], "x": 1 } )", &b, &a, &tick));
  CHECK(b.empty());
  CHECK(a == std::vector<Level>{{1000000, 2000000}});
  CHECK(tick == 0);
  std::string error;
  CHECK_FALSE(DecodeLevelsJson("{\"bids\":[[0.5,1]]}", &b, &a, nullptr, &error));
  CHECK_THAT(error, Catch::Contains("[\"price\",\"size\"]"));
  CHECK_FALSE(DecodeLevelsJson("{\"bids\":[[\"1e-3\",\"1\"]]}", &b, &a, nullptr, &error));
  CHECK_THAT(error, Catch::Contains("exponent"));
  CHECK_FALSE(DecodeLevelsJson("not json", &b, &a, nullptr, &error));
  CHECK_FALSE(DecodeLevelsJson("[]", &b, &a, nullptr, &error));
}

// ---------------------------------------------------------------------------
// Opening and migrations

TEST_CASE("opening migrates once; reopening keeps the version", "[store][migrations]") {
  TempDir dir;
  const DbUrl url = dir.Url("poly.db");
  {
    auto store = Store::Open(url);
    CHECK(store->schema_version() == LatestSqliteSchemaVersion());
  }
  {
    auto store = Store::Open(url);
    CHECK(store->schema_version() == LatestSqliteSchemaVersion());
  }
  RawDb db(dir.File("poly.db"));
  CHECK(db.Int("SELECT count(*) FROM schema_version") == LatestSqliteSchemaVersion());
  CHECK(db.Text("PRAGMA journal_mode") == "wal");
  for (const char* table : {"markets", "outcomes", "sources", "orderbook_event_blocks", "orderbook_snapshots", "orders",
                            "fills", "market_status", "exec_audit", "schema_version"}) {
    INFO(table);
    CHECK(db.Int(std::string("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='") + table + "'") == 1);
  }
  // Events are read through a view with the columns of PostgreSQL's table.
  CHECK(db.Int("SELECT count(*) FROM sqlite_master WHERE type='view' AND name='orderbook_events'") == 1);
  CHECK(db.Text("SELECT group_concat(name, ',') FROM pragma_table_info('orderbook_events')") ==
        "id,source_id,line,item,outcome_id,ts_ms,recv_ts_ms,seq,kind,side,price,size,levels_json");
  CHECK(db.Int("SELECT count(*) FROM sqlite_master WHERE name = 'orderbook_event_index'") == 0);
  // No REAL (or untyped) column anywhere, and no BLOB.
  CHECK(db.Int("SELECT count(*) FROM sqlite_master m, pragma_table_info(m.name) c"
               " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND c.type NOT IN ('INTEGER', 'TEXT')") == 0);
}

TEST_CASE("opening an older database applies only the missing migrations", "[store][migrations]") {
  TempDir dir;
  {
    soci::session sql(soci::sqlite3, "db=" + dir.File("old.db"));
    CHECK(ApplyMigrations(sql, SqliteMigrations().first(1)) == 1);
    CHECK(CurrentSchemaVersion(sql) == 1);
    sql << "INSERT INTO outcomes (market, asset_id) VALUES ('m', 'a')";
  }
  auto store = Store::Open(dir.Url("old.db"));
  CHECK(store->schema_version() == LatestSqliteSchemaVersion());
  store.reset();
  RawDb db(dir.File("old.db"));
  CHECK(db.Int("SELECT count(*) FROM schema_version") == LatestSqliteSchemaVersion());
  CHECK(db.Int("SELECT count(*) FROM outcomes") == 1);
  CHECK(db.Int("SELECT count(*) FROM sqlite_master WHERE name = 'orders'") == 1);
}

// A database at `version` (3 or 4: one row per event) holding the rows of the
// current-schema database `from`, as a store of that version would have left
// them (the event index is not filled: version 5 drops it).
void MakeOldDatabase(const std::string& from, const std::string& to, size_t version) {
  {
    soci::session sql(soci::sqlite3, "db=" + to);
    REQUIRE(ApplyMigrations(sql, SqliteMigrations().first(version)) == static_cast<int>(version));
  }
  RawDb db(to);
  db.Exec("ATTACH '" + from + "' AS r; BEGIN;"
          " INSERT INTO outcomes SELECT * FROM r.outcomes; INSERT INTO sources SELECT * FROM r.sources;"
          " INSERT INTO orderbook_events SELECT * FROM r.orderbook_events ORDER BY id;"
          " INSERT INTO orderbook_snapshots SELECT * FROM r.orderbook_snapshots;"
          " INSERT INTO market_status SELECT * FROM r.market_status; COMMIT; DETACH r");
}

TEST_CASE("migrations 4 and 5 turn a version 3 events table into blocks, events intact", "[store][migrations]") {
  TempDir dir;
  Feed feed = MakeFeed({.lines = 300, .lines_per_batch = 50, .snapshot_every = 70});
  {
    auto store = Store::Open(dir.Url("ref.db"));
    SubmitFeed(*store, feed, store->RegisterSource(dir.File("feed.jsonl"), nullptr));
    store->Flush();
  }
  const std::string all_events = "SELECT * FROM orderbook_events ORDER BY id";
  const std::string before = RawDb(dir.File("ref.db")).Dump(all_events);
  REQUIRE(RawDb(dir.File("ref.db")).Int("SELECT count(*) FROM orderbook_events") == feed.events);
  MakeOldDatabase(dir.File("ref.db"), dir.File("poly.db"), 3);
  {
    RawDb db(dir.File("poly.db"));
    REQUIRE(db.Int("SELECT count(*) FROM pragma_index_list('orderbook_events')") == 1);  // the unique key
    REQUIRE(db.Dump(all_events) == before);
    // Version 4 alone: the same rows, without the unique key.
    soci::session sql(soci::sqlite3, "db=" + dir.File("poly.db"));
    REQUIRE(ApplyMigrations(sql, SqliteMigrations().first(4)) == 4);
    CHECK(db.Int("SELECT count(*) FROM pragma_index_list('orderbook_events')") == 0);
    CHECK(db.Int("SELECT count(*) FROM sqlite_master WHERE name LIKE 'orderbook_events_v4%'") == 0);
    CHECK(db.Dump(all_events) == before);
  }
  auto store = Store::Open(dir.Url("poly.db"));
  CHECK(store->schema_version() == 5);
  {
    RawDb db(dir.File("poly.db"));
    CHECK(db.Dump(all_events) == before);  // the view gives back every row as it was
    CHECK(db.Int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'orderbook_events'") == 0);
    CHECK(db.Int("SELECT count(*) FROM sqlite_master WHERE name = 'orderbook_event_index'") == 0);
    // Regrouped per outcome and source (ids < 16384): a block per outcome.
    CHECK(db.Int("SELECT count(*) FROM orderbook_event_blocks") == 4);
    CHECK(db.Int("SELECT count(DISTINCT outcome_id) FROM orderbook_event_blocks") == 4);
    CHECK(db.Int("SELECT sum(n_events) FROM orderbook_event_blocks") == feed.events);
  }
  CheckBooks(*store, feed);
  // The same source again: everything is at or below its committed line.
  int64_t committed = 0;
  SubmitFeed(*store, feed, store->RegisterSource(dir.File("feed.jsonl"), &committed));
  store->Flush();
  CHECK(committed == 300);
  CHECK(store->stats().events_written == 0);
  CHECK(RawDb(dir.File("poly.db")).Dump(all_events) == before);
  // New events go on after the migrated ones.
  Feed more = MakeFeed({.lines = 30, .lines_per_batch = 10});
  SubmitFeed(*store, more, store->RegisterSource(dir.File("more.jsonl"), nullptr));
  store->Flush();
  RawDb db(dir.File("poly.db"));
  CHECK(db.Int("SELECT min(id) FROM orderbook_events WHERE source_id = 2") ==
        db.Int("SELECT max(id) FROM orderbook_events WHERE source_id = 1") + 1);
}

STORE_TEST("a database newer than the binary is refused", "[store][migrations]") {
  Store::Open(dbs.Url("new.db")).reset();
  Raw(dbs, "new.db").Exec("INSERT INTO schema_version VALUES (99, 0, 'from the future')");
  const std::string rw = StoreErrorOf([&] { Store::Open(dbs.Url("new.db")); });
  CHECK_THAT(rw, Catch::Contains("schema version 99 is newer than this build"));
  StoreOptions ro;
  ro.read_only = true;
  const std::string r = StoreErrorOf([&] { Store::Open(dbs.Url("new.db"), ro); });
  CHECK_THAT(r, Catch::Contains("schema version 99 is newer than this build"));
}

STORE_TEST("read-only opening never creates or migrates", "[store]") {
  StoreOptions ro;
  ro.read_only = true;
  if (!dbs.pg()) {
    CHECK(StoreErrorOf([&] { Store::Open(dbs.Url("missing.db"), ro); }) ==
          "database not found: " + dbs.File("missing.db"));
    CHECK_FALSE(fs::exists(dbs.File("missing.db")));
    CHECK_THAT(StoreErrorOf([&] { Store::Open(ParseDbUrl("sqlite:///:memory:"), ro); }), Catch::Contains("in-memory"));
  }
  Raw(dbs, "empty.db").Exec("CREATE TABLE t (x INTEGER)");
  CHECK_THAT(StoreErrorOf([&] { Store::Open(dbs.Url("empty.db"), ro); }), Catch::Contains("not a polyhost database"));
  CHECK(Raw(dbs, "empty.db").Int("SELECT count(*) FROM t") == 0);  // and still untouched

  Feed feed = MakeFeed({.lines = 50, .lines_per_batch = 10});
  {
    auto store = Store::Open(dbs.Url("poly.db"));
    SubmitFeed(*store, feed, store->RegisterSource(dbs.File("feed.jsonl"), nullptr));
    store->Flush();
  }
  auto store = Store::Open(dbs.Url("poly.db"), ro);
  CHECK(store->schema_version() == LatestSqliteSchemaVersion());
  CHECK(store->Status().size() == 4);
  CheckBooks(*store, feed);
  CHECK_THAT(StoreErrorOf([&] { store->Submit(WriteBatch()); }), Catch::Contains("read-only"));
  CHECK_THAT(StoreErrorOf([&] { store->RegisterSource("/x", nullptr); }), Catch::Contains("read-only"));
  CHECK_THAT(StoreErrorOf([&] { store->PruneEventsBefore(1); }), Catch::Contains("read-only"));
  store->Flush();  // nothing to wait for
}

TEST_CASE("unreachable PostgreSQL fails clearly and never shows the password", "[store]") {
  // Port 1 on loopback: nothing listens there.
  for (const char* url : {"postgresql://polyuser:s3cr%2Fet-pw@127.0.0.1:1/polydb",
                          "postgresql://polyuser@127.0.0.1:1/polydb?password=s3cr%2Fet-pw&connect_timeout=2"}) {
    INFO(url);
    const std::string e = StoreErrorOf([&] { Store::Open(ParseDbUrl(url)); });
    CHECK_THAT(e, Catch::StartsWith("cannot connect to postgresql://polyuser"));
    CHECK_THAT(e, Catch::Contains("***"));
    CHECK_THAT(e, !Catch::Contains("s3cr"));
    CHECK_THAT(e, !Catch::Contains("et-pw"));
  }
  // A driver message that echoes the password is scrubbed too.
  const DbUrl url = ParseDbUrl("postgresql://u:hunter2@h/db");
  CHECK(ScrubPassword("FATAL: password 'hunter2' and hunter2 again", url) == "FATAL: password '***' and *** again");
}

TEST_CASE("unopenable SQLite databases fail with clear messages", "[store]") {
  TempDir dir;
  const std::string e = StoreErrorOf([&] { Store::Open(dir.Url("no/such/dir/x.db")); });
  CHECK_THAT(e, Catch::Contains("cannot open database"));
  std::FILE* f = std::fopen(dir.File("junk.db").c_str(), "w");
  std::fputs("this is not a database, just some text that is long enough to be checked by sqlite", f);
  std::fclose(f);
  CHECK_THAT(StoreErrorOf([&] { Store::Open(dir.Url("junk.db")); }), Catch::Contains("not a database"));
}

// ---------------------------------------------------------------------------
// Writing and reading

STORE_TEST("batches write events, status and snapshots; reads rebuild the books", "[store]") {
  Feed feed = MakeFeed({.lines = 2000, .lines_per_batch = 100, .assets = 6, .snapshot_every = 137});
  auto store = Store::Open(dbs.Url("poly.db"));
  int64_t committed = -1;
  const int64_t source = store->RegisterSource(dbs.File("feed.jsonl"), &committed);
  CHECK(committed == 0);
  SubmitFeed(*store, feed, source);
  store->Flush();
  StoreStats stats = store->stats();
  CHECK(stats.batches == static_cast<int64_t>(feed.batches.size()));
  CHECK(stats.events_written == feed.events);
  CHECK(stats.events_skipped == 0);

  Raw db(dbs, "poly.db");
  CHECK(db.Int("SELECT count(*) FROM orderbook_events") == feed.events);
  CHECK(db.Int("SELECT count(*) FROM orderbook_snapshots") == feed.snapshots);
  CHECK(db.Int("SELECT committed_line FROM sources") == 2000);
  CHECK(db.Int("SELECT count(*) FROM outcomes") == 6);

  std::vector<AssetStatus> status = store->Status();
  REQUIRE(status.size() == 6);
  for (size_t i = 1; i < status.size(); ++i) {
    CHECK(std::tie(status[i - 1].market, status[i - 1].asset_id) < std::tie(status[i].market, status[i].asset_id));
  }
  for (const AssetStatus& s : status) {
    size_t k = 0;
    while (feed.asset_ids[k] != s.asset_id) ++k;
    CHECK(s.market == feed.markets[k]);
    CHECK(s.seq == feed.seq[k]);
    CHECK(s.events == feed.seq[k]);
    CHECK(s.last_update_ts_ms == feed.ts[k]);
    CHECK(s.best_bid == feed.books[k].best_bid());
    CHECK(s.best_ask == feed.books[k].best_ask());
    CHECK(s.stale == (k == 1));
    CHECK(s.continuity_breaks == (k == 1 ? 1 : 0));
  }
  // Mid-batch snapshots: their watermarks must make the rebuild exact.
  CheckBooks(*store, feed);
  CHECK_FALSE(store->LoadBook("0xmarket0", "nope").has_value());

  // Every snapshot equals its outcome's book rebuilt from the events up to its
  // watermark alone, although most were taken in the middle of a batch.
  const std::vector<std::vector<int64_t>> snaps =
      db.Ints("SELECT id, outcome_id, event_watermark FROM orderbook_snapshots ORDER BY id");
  REQUIRE(snaps.size() > 20);
  for (const auto& row : snaps) {
    INFO("snapshot " << row[0]);
    OrderBook want;
    ApplyLevelsJson(db.Text("SELECT levels_json FROM orderbook_snapshots WHERE id = " + std::to_string(row[0])), &want);
    CheckBook(RebuildFromEvents(db, row[1], row[2]), want);
  }
}

STORE_TEST("LoadBook without snapshots, then from SnapshotFromStore", "[store]") {
  Feed feed = MakeFeed({.lines = 1500, .lines_per_batch = 64, .assets = 5});
  auto store = Store::Open(dbs.Url("poly.db"));
  SubmitFeed(*store, feed, store->RegisterSource(dbs.File("f"), nullptr));
  store->Flush();
  Raw db(dbs, "poly.db");
  REQUIRE(db.Int("SELECT count(*) FROM orderbook_snapshots") == 0);
  CheckBooks(*store, feed);

  CHECK(store->SnapshotFromStore(1'800'000'000'000) == 5);
  CHECK(db.Int("SELECT count(*) FROM orderbook_snapshots") == 5);
  CHECK(db.Int("SELECT min(event_watermark) FROM orderbook_snapshots") == db.Int("SELECT max(id) FROM orderbook_events"));
  CHECK(db.Int("SELECT min(ts_ms) FROM orderbook_snapshots") == 1'800'000'000'000);
  // Now the books come from the snapshots alone: delete every event to prove it.
  db.Exec(dbs.pg() ? "DELETE FROM orderbook_events" : "DELETE FROM orderbook_event_blocks");
  CheckBooks(*store, feed);
}

STORE_TEST("a second run of the same source skips everything already committed", "[store]") {
  Feed feed = MakeFeed({.lines = 1000, .lines_per_batch = 50, .assets = 4, .snapshot_every = 77});
  std::string first;
  {
    auto store = Store::Open(dbs.Url("poly.db"));
    SubmitFeed(*store, feed, store->RegisterSource(dbs.File("feed.jsonl"), nullptr));
    store->Flush();
    first = DumpRows(dbs, "poly.db");
  }
  {
    auto store = Store::Open(dbs.Url("poly.db"));
    int64_t committed = 0;
    const int64_t source = store->RegisterSource(dbs.File("feed.jsonl"), &committed);
    CHECK(committed == 1000);
    SubmitFeed(*store, feed, source);
    store->Flush();
    CHECK(store->stats().events_written == 0);
    CHECK(store->stats().events_skipped == feed.events);
    CheckBooks(*store, feed);
  }
  CHECK(DumpRows(dbs, "poly.db") == first);

  // The same lines under another source are new rows; with no source they are
  // never skipped.
  {
    auto store = Store::Open(dbs.Url("poly.db"));
    SubmitFeed(*store, feed, store->RegisterSource(dbs.File("copy.jsonl"), nullptr));
    store->Flush();
    CHECK(store->stats().events_written == feed.events);
  }
  CHECK(Raw(dbs, "poly.db").Int("SELECT count(*) FROM orderbook_events") == 2 * feed.events);
}

STORE_TEST("rows repeated above the committed line are caught by the (line, item) watermark", "[store]") {
  auto store = Store::Open(dbs.Url("poly.db"));
  const int64_t source = store->RegisterSource(dbs.File("f"), nullptr);
  WriteBatch b;
  b.source_id = source;
  b.last_line = 0;  // caller forgot it: the watermark cannot help
  b.new_assets.push_back({0, "m", "a"});
  EventRow e{};
  e.asset_key = 0;
  e.line = 1;
  e.kind = EventKind::kLevel;
  e.price = 500000;
  e.size = 1000000;
  b.events.push_back(e);
  b.events.push_back(e);  // same (line, item)
  store->Submit(b);
  store->Submit(b);
  store->Flush();
  CHECK(store->stats().events_written == 1);
  CHECK(store->stats().events_skipped == 3);
}

STORE_TEST("duplicates inside multi-row inserts keep ids, index and snapshots right", "[store]") {
  auto store = Store::Open(dbs.Url("poly.db"));
  const int64_t source = store->RegisterSource(dbs.File("f"), nullptr);
  // Two assets, one level event per line; the second batch repeats lines 81..160
  // without the watermark's help (last_line 0), so the (line, item) watermark must
  // drop them; the rest go in as two 64-row statements and single rows (the
  // SQLite writer inserts 64 rows per statement).
  auto make = [&](int from, int to, bool announce) {
    WriteBatch b;
    b.source_id = source;
    if (announce) {
      b.new_assets.push_back({0, "m", "yes"});
      b.new_assets.push_back({1, "m", "no"});
    }
    for (int line = from; line <= to; ++line) {
      EventRow e{};
      e.asset_key = static_cast<uint32_t>(line % 2);
      e.line = line;
      e.ts_ms = 1000 + line;
      e.seq = (line + 1) / 2;
      e.kind = EventKind::kLevel;
      e.side = line % 3 == 0 ? Side::kAsk : Side::kBid;
      e.price = 10000 * (line % 37 + 1);
      e.size = line % 5 == 0 ? 0 : 1000000 * line;
      b.events.push_back(e);
    }
    return b;
  };
  OrderBook want[2];
  for (int line = 1; line <= 300; ++line) {
    want[line % 2].ApplyLevel(line % 3 == 0 ? Side::kAsk : Side::kBid, 10000 * (line % 37 + 1),
                              line % 5 == 0 ? 0 : 1000000 * line);
  }
  store->Submit(make(1, 160, true));
  WriteBatch second = make(81, 300, false);
  // A snapshot of asset 0 taken after line 250: lines 252..300 of it come after.
  OrderBook at250;
  for (int line = 2; line <= 250; line += 2) {
    at250.ApplyLevel(line % 3 == 0 ? Side::kAsk : Side::kBid, 10000 * (line % 37 + 1), line % 5 == 0 ? 0 : 1000000 * line);
  }
  second.snapshots.push_back(SnapshotRow{0, 1250, 125, EncodeLevelsJson(at250)});
  store->Submit(second);
  store->Flush();
  CHECK(store->stats().events_written == 300);
  CHECK(store->stats().events_skipped == 80);
  Raw db(dbs, "poly.db");
  CHECK(db.Int("SELECT count(*) FROM orderbook_events") == 300);
  // One index row (PostgreSQL) or block (SQLite) per batch and outcome.
  CHECK(db.Int(dbs.pg() ? "SELECT count(*) FROM orderbook_event_index" : "SELECT count(*) FROM orderbook_event_blocks") ==
        4);
  // The snapshot's watermark stops before line 252's row.
  CHECK(db.Int("SELECT event_watermark FROM orderbook_snapshots") ==
        db.Int("SELECT id FROM orderbook_events WHERE line = 252") - 1);
  for (uint32_t k = 0; k < 2; ++k) {
    std::optional<StoredBook> b = store->LoadBook("m", k == 0 ? "yes" : "no");
    REQUIRE(b.has_value());
    CheckBook(b->book, want[k]);
    CHECK(b->seq == 150);
  }
}

STORE_TEST("several snapshots of an asset in one batch each stop before its first later event", "[store]") {
  auto store = Store::Open(dbs.Url("poly.db"));
  const int64_t source = store->RegisterSource(dbs.File("feed.jsonl"), nullptr);
  // Lines 1..30: assets 0 and 1 take turns (seq 1..15 each); asset 2 has no
  // event in the batch. Snapshots: asset 0 at seq 3 and 10 (mid-batch) and 15
  // (its last event), asset 1 at seq 0 (before its first event of the batch),
  // asset 2 (nothing follows it in the batch).
  WriteBatch b;
  b.source_id = source;
  b.last_line = 30;
  b.new_assets.push_back({0, "m", "a"});
  b.new_assets.push_back({1, "m", "b"});
  b.new_assets.push_back({2, "m", "c"});
  OrderBook books[2], at[2][16];
  for (int line = 1; line <= 30; ++line) {
    EventRow e{};
    e.asset_key = static_cast<uint32_t>((line - 1) % 2);
    e.line = line;
    e.ts_ms = 2000 + line;
    e.seq = (line + 1) / 2;
    e.kind = EventKind::kLevel;
    e.side = line % 4 < 2 ? Side::kBid : Side::kAsk;
    e.price = 10000 * (line % 7 + 1);
    e.size = line % 6 == 0 ? 0 : 1000000 * line;
    b.events.push_back(e);
    books[e.asset_key].ApplyLevel(e.side, e.price, e.size);
    at[e.asset_key][e.seq] = books[e.asset_key];
  }
  OrderBook lone;
  lone.ApplyLevel(Side::kBid, 400000, 5000000);
  b.snapshots.push_back(SnapshotRow{0, 2100, 3, EncodeLevelsJson(at[0][3])});
  b.snapshots.push_back(SnapshotRow{1, 2100, 0, EncodeLevelsJson(OrderBook())});
  b.snapshots.push_back(SnapshotRow{0, 2200, 10, EncodeLevelsJson(at[0][10])});
  b.snapshots.push_back(SnapshotRow{2, 2200, 1, EncodeLevelsJson(lone)});
  b.snapshots.push_back(SnapshotRow{0, 2300, 15, EncodeLevelsJson(at[0][15])});
  store->Submit(b);
  store->Flush();

  Raw db(dbs, "poly.db");
  auto id_of_line = [&](int line) { return db.Int("SELECT id FROM orderbook_events WHERE line = " + std::to_string(line)); };
  const int64_t max_id = db.Int("SELECT max(id) FROM orderbook_events");
  const auto rows = db.Ints(
      "SELECT s.seq, s.event_watermark, s.outcome_id, s.id FROM orderbook_snapshots s JOIN outcomes o ON o.id = s.outcome_id"
      " ORDER BY o.asset_id, s.seq");
  REQUIRE(rows.size() == 5);
  // asset a: seq 3 covers lines 1, 3, 5 and stops before line 7; seq 10 before
  // line 21; seq 15 (its last event) and asset c's snapshot cover everything.
  CHECK(rows[0][1] == id_of_line(7) - 1);
  CHECK(rows[1][1] == id_of_line(21) - 1);
  CHECK(rows[2][1] == max_id);
  CHECK(rows[3][1] == id_of_line(2) - 1);  // asset b before its first event
  CHECK(rows[4][1] == max_id);             // asset c
  for (const auto& row : rows) {
    INFO("snapshot " << row[3]);
    if (row[2] == rows[4][2]) continue;  // asset c has no events: its snapshot is all there is
    OrderBook want;
    ApplyLevelsJson(db.Text("SELECT levels_json FROM orderbook_snapshots WHERE id = " + std::to_string(row[3])), &want);
    CheckBook(RebuildFromEvents(db, row[2], row[1]), want);
  }
  for (uint32_t k = 0; k < 2; ++k) {
    std::optional<StoredBook> loaded = store->LoadBook("m", k == 0 ? "a" : "b");
    REQUIRE(loaded.has_value());
    CheckBook(loaded->book, books[k]);
  }
  std::optional<StoredBook> c = store->LoadBook("m", "c");
  REQUIRE(c.has_value());
  CheckBook(c->book, lone);
}

STORE_TEST("a resumed run with different batch boundaries neither loses nor repeats", "[store]") {
  const FeedOptions base{.lines = 1000, .lines_per_batch = 70, .assets = 5, .snapshot_every = 130};
  Feed first = MakeFeed(base);
  FeedOptions other = base;
  other.lines_per_batch = 100;
  Feed second = MakeFeed(other);
  REQUIRE(first.events == second.events);
  {
    auto store = Store::Open(dbs.Url("poly.db"));
    const int64_t source = store->RegisterSource(dbs.File("feed.jsonl"), nullptr);
    first.batches.resize(7);  // lines 1..490
    SubmitFeed(*store, first, source);
    store->Flush();
  }
  auto store = Store::Open(dbs.Url("poly.db"));
  int64_t committed = 0;
  const int64_t source = store->RegisterSource(dbs.File("feed.jsonl"), &committed);
  CHECK(committed == 490);
  SubmitFeed(*store, second, source);  // lines 401..500 straddle the watermark
  store->Flush();
  Raw db(dbs, "poly.db");
  CHECK(db.Int("SELECT count(*) FROM orderbook_events") == second.events);
  CHECK(db.Int("SELECT count(DISTINCT line * 10 + item) FROM orderbook_events") == second.events);
  CheckBooks(*store, second);
  // Every snapshot still matches its watermark.
  for (const auto& row : db.Ints("SELECT id, outcome_id, event_watermark FROM orderbook_snapshots")) {
    INFO("snapshot " << row[0]);
    OrderBook want;
    ApplyLevelsJson(db.Text("SELECT levels_json FROM orderbook_snapshots WHERE id = " + std::to_string(row[0])), &want);
    CheckBook(RebuildFromEvents(db, row[1], row[2]), want);
  }
}

STORE_TEST("execution records: audits, orders upserted by plan and leg, fills", "[store]") {
  auto store = Store::Open(dbs.Url("poly.db"));
  WriteBatch first;
  first.new_assets.push_back({3, "0xm", "111"});
  first.audits.push_back(AuditRow{"run1:1", "dutch", "accepted", "", R"([{"leg":0}])", 42, -1, 1000});
  first.audits.push_back(AuditRow{"run1:2", "dutch", "rejected", "stale book", "", -1, -1, 1001});
  OrderRow order{"run1:1", 0, "dutch", 3, Side::kAsk, 470000, 10000000, "FOK", "acked", "paper", true, 0, "", 1000};
  first.orders.push_back(order);
  store->Submit(first);
  WriteBatch second;
  order.status = "filled";
  order.filled = 10000000;
  order.ts_ms = 1005;
  second.orders.push_back(order);
  second.fills.push_back(FillRow{"run1:1", 0, 470000, 10000000, 12000, 1005});
  // Rows that are not plans: a venue refusal of an accepted plan's order and a
  // control action (tgbot /pause). ExecutionTimings counts plans only.
  second.audits.push_back(AuditRow{"run1:1", "dutch", "venue_rejected", "order_rejected", "", -1, -1, 1006});
  second.audits.push_back(AuditRow{"run1:control:1", "tgbot", "control", "pause of 'dutch'", "", -1, -1, 1007});
  store->Submit(second);
  store->Flush();
  const ExecTimings timings = store->ExecutionTimings();
  CHECK(timings.plans == 2);
  CHECK(timings.accepted == 1);
  CHECK(timings.event_to_plan_p50_us == 42);

  Raw db(dbs, "poly.db");
  // jsonb prints with a space after ':'; booleans print as t/f on PostgreSQL.
  const std::string legs = dbs.pg() ? "[{\"leg\": 0}]" : "[{\"leg\":0}]";
  const std::string yes = dbs.pg() ? "t" : "1";
  CHECK(db.Dump("SELECT plan_id, plugin, decision, reason, legs_json, event_to_plan_us, plan_to_ack_us, ts_ms"
                " FROM exec_audit ORDER BY id") ==
        "run1:1|dutch|accepted||" + legs + "|42|NULL|1000|\n"
        "run1:2|dutch|rejected|stale book|[]|NULL|NULL|1001|\n"
        "run1:1|dutch|venue_rejected|order_rejected|[]|NULL|NULL|1006|\n"
        "run1:control:1|tgbot|control|pause of 'dutch'|[]|NULL|NULL|1007|\n");
  CHECK(db.Dump("SELECT plan_id, leg, o.market, o.asset_id, side, price_micros, size_micros, tif, status, relayer,"
                " dry_run, filled_size_micros, created_ts_ms, updated_ts_ms"
                " FROM orders JOIN outcomes o ON o.id = orders.outcome_id") ==
        "run1:1|0|0xm|111|1|470000|10000000|FOK|filled|paper|" + yes + "|10000000|1000|1005|\n");
  CHECK(db.Dump("SELECT f.order_id = o.id, f.price_micros, f.size_micros, f.fee_micros, f.ts_ms"
                " FROM fills f, orders o") == yes + "|470000|10000000|12000|1005|\n");

  // A fill without its order is a caller bug that stops the writer.
  WriteBatch orphan;
  orphan.fills.push_back(FillRow{"run1:9", 0, 1, 1, 0, 0});
  store->Submit(orphan);
  CHECK_THAT(StoreErrorOf([&] { store->Flush(); }), Catch::Contains("run1:9 leg 0, which has no order row"));
}

// ---------------------------------------------------------------------------
// Crash safety

STORE_TEST("kill -9 at any moment, then rerunning, gives exactly the same rows", "[store][crash]") {
  Feed feed = MakeFeed({.lines = 30000, .lines_per_batch = 250, .assets = 40, .snapshot_every = 997});
  const std::string source_path = dbs.File("feed.jsonl");
  const DbUrl crash_url = dbs.Url("crash.db");  // (creates the schema before any fork)

  // Reference: one clean run.
  {
    auto store = Store::Open(dbs.Url("ref.db"));
    SubmitFeed(*store, feed, store->RegisterSource(source_path, nullptr));
    store->Flush();
  }
  const std::string reference = DumpRows(dbs, "ref.db");

  // Runs killed at different moments, each resuming the previous one.
  int killed_mid_run = 0;
  for (int delay_ms : {1, 15, 40, 80, 150, 300}) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        auto store = Store::Open(crash_url);
        SubmitFeed(*store, feed, store->RegisterSource(source_path, nullptr));
        store->Flush();
        for (;;) ::pause();  // done: wait for the kill
      } catch (...) {
        ::_exit(3);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    if (!dbs.pg() && !fs::exists(dbs.File("crash.db"))) continue;
    Raw db(dbs, "crash.db");
    db.CheckIntegrity();
    const bool has_sources = dbs.pg() ? db.Int("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                                               " AND tablename = 'sources'") == 1
                                      : db.Int("SELECT count(*) FROM sqlite_master WHERE name = 'sources'") == 1;
    if (!has_sources) continue;  // killed while migrating
    const int64_t committed = db.Int("SELECT coalesce(max(committed_line), 0) FROM sources");
    if (committed < 30000) ++killed_mid_run;
    // What is there is exactly the reference's prefix up to the watermark.
    CHECK(db.Int("SELECT count(*) FROM orderbook_events WHERE line > " + std::to_string(committed)) == 0);
    Raw ref(dbs, "ref.db");
    CHECK(db.Int("SELECT count(*) FROM orderbook_events") ==
          ref.Int("SELECT count(*) FROM orderbook_events WHERE line <= " + std::to_string(committed)));
    db.CheckIntegrity();
  }
  INFO("runs killed before the end: " << killed_mid_run);
  CHECK(killed_mid_run > 0);

  // The final rerun completes.
  {
    auto store = Store::Open(crash_url);
    SubmitFeed(*store, feed, store->RegisterSource(source_path, nullptr));
    store->Flush();
    CheckBooks(*store, feed);
  }
  Raw db(dbs, "crash.db");
  db.CheckIntegrity();
  CHECK(db.Int("SELECT count(*) FROM orderbook_events") == feed.events);
  if (dbs.pg()) {
    // Sequence values taken by rolled-back (killed) transactions are not reused,
    // so event and outcome ids differ from the reference; the rows do not.
    const char* rows = "SELECT source_id, line, item, o.market, o.asset_id, ts_ms, recv_ts_ms, seq, kind, side, price,"
                       " size, levels_json FROM orderbook_events e JOIN outcomes o ON o.id = e.outcome_id"
                       " ORDER BY line, item";
    CHECK(db.Dump(rows) == Raw(dbs, "ref.db").Dump(rows));
    const char* snaps = "SELECT o.market, o.asset_id, ts_ms, seq, levels_json FROM orderbook_snapshots s"
                        " JOIN outcomes o ON o.id = s.outcome_id ORDER BY 1, 2, seq";
    CHECK(db.Dump(snaps) == Raw(dbs, "ref.db").Dump(snaps));
    const char* status = "SELECT o.market, o.asset_id, last_update_ts_ms, seq, best_bid, best_ask, stale, events,"
                         " continuity_breaks FROM market_status s JOIN outcomes o ON o.id = s.outcome_id ORDER BY 1, 2";
    CHECK(db.Dump(status) == Raw(dbs, "ref.db").Dump(status));
  } else {
    CHECK(DumpRows(dbs, "crash.db") == reference);
  }
}

// ---------------------------------------------------------------------------
// Pruning

STORE_TEST("pruning keeps every book identical", "[store][prune]") {
  for (int snapshot_every : {0, 211}) {
    DYNAMIC_SECTION("snapshot_every " << snapshot_every) {
      const std::string name = "poly" + std::to_string(snapshot_every);
      FeedOptions options{.lines = 3000, .lines_per_batch = 100, .assets = 6, .snapshot_every = snapshot_every};
      Feed feed = MakeFeed(options);
      auto store = Store::Open(dbs.Url(name));
      const int64_t source = store->RegisterSource(dbs.File("f"), nullptr);
      SubmitFeed(*store, feed, source);
      store->Flush();
      CheckBooks(*store, feed);
      Raw db(dbs, name);
      const int64_t events_before = db.Int("SELECT count(*) FROM orderbook_events");
      const int64_t snapshots_before = db.Int("SELECT count(*) FROM orderbook_snapshots");
      const int64_t last_snapshot_id = db.Int("SELECT coalesce(max(id), 0) FROM orderbook_snapshots");

      const int64_t cutoff = options.ts0 + 2000 * 10;
      const int64_t deleted = store->PruneEventsBefore(cutoff);
      CHECK(deleted > 0);
      const int64_t events_after = db.Int("SELECT count(*) FROM orderbook_events");
      const int64_t snapshots_after = db.Int("SELECT count(*) FROM orderbook_snapshots");
      CHECK(events_after < events_before);
      const int64_t created =
          db.Int("SELECT count(*) FROM orderbook_snapshots WHERE id > " + std::to_string(last_snapshot_id));
      if (snapshot_every == 0) CHECK(created == 6);  // else the replay's snapshots already cover the cutoff
      CHECK(deleted == (events_before - events_after) + (snapshots_before + created - snapshots_after));
      // Nothing older than the cutoff is left uncovered, and the newest row stays.
      CHECK(db.Int("SELECT count(*) FROM orderbook_events e WHERE ts_ms < " + std::to_string(cutoff) +
                   " AND id > (SELECT max(event_watermark) FROM orderbook_snapshots s WHERE s.outcome_id = e.outcome_id)") == 0);
      CHECK(db.Int("SELECT max(line) FROM orderbook_events") == 3000);
      CheckBooks(*store, feed);
      db.CheckIntegrity();

      // Pruning again changes nothing but superseded snapshots; books unchanged.
      store->PruneEventsBefore(cutoff);
      CheckBooks(*store, feed);

      // New events after a prune still apply on top (ids are never reused).
      WriteBatch more;
      more.source_id = source;
      more.last_line = 3001;
      EventRow e{};
      e.asset_key = 0;
      e.line = 3001;
      e.ts_ms = options.ts0 + 3001 * 10;
      e.seq = feed.seq[0] + 1;
      e.kind = EventKind::kLevel;
      e.side = Side::kBid;
      e.price = 10000;
      e.size = 5000000;
      more.events.push_back(e);
      more.new_assets.push_back({0, feed.markets[0], feed.asset_ids[0]});
      store->Submit(more);
      store->Flush();
      feed.books[0].ApplyLevel(Side::kBid, 10000, 5000000);
      feed.seq[0] += 1;
      feed.ts[0] = e.ts_ms;
      CheckBooks(*store, feed);

      // Prune everything: still the same books.
      store->PruneEventsBefore(options.ts0 + 10'000'000);
      CheckBooks(*store, feed);
      // SQLite keeps the newest row (so its ids never go back); PostgreSQL's come
      // from a sequence, and the day's partition is dropped.
      CHECK(db.Int("SELECT count(*) FROM orderbook_events") == (dbs.pg() ? 0 : 1));
    }
  }
}

// ---------------------------------------------------------------------------
// Back-pressure and failures

STORE_TEST("a full queue makes Submit wait, never drop", "[store]") {
  StoreOptions options;
  options.queue_batches = 1;
  Feed feed = MakeFeed({.lines = 4000, .lines_per_batch = 10, .assets = 8});
  auto store = Store::Open(dbs.Url("poly.db"), options);
  SubmitFeed(*store, feed, store->RegisterSource(dbs.File("f"), nullptr));
  store->Flush();
  CHECK(store->stats().queue_full_waits > 0);
  CHECK(store->stats().batches == 400);
  CHECK(store->stats().events_written == feed.events);
  CHECK(Raw(dbs, "poly.db").Int("SELECT count(*) FROM orderbook_events") == feed.events);
  CheckBooks(*store, feed);
}

STORE_TEST("a writer failure surfaces from Flush and Submit; committed rows stay", "[store]") {
  Feed feed = MakeFeed({.lines = 400, .lines_per_batch = 100, .assets = 3});
  const std::vector<WriteBatch> all = feed.batches;
  {
    auto store = Store::Open(dbs.Url("poly.db"));
    const int64_t source = store->RegisterSource(dbs.File("f"), nullptr);
    feed.batches.assign(all.begin(), all.begin() + 2);
    SubmitFeed(*store, feed, source);
    store->Flush();

    // The database stops accepting events (as if it had become read-only).
    if (dbs.pg()) {
      Raw(dbs, "poly.db").Exec(
          "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'disk says no'; END$$;"
          " CREATE TRIGGER refuse BEFORE INSERT ON orderbook_events FOR EACH ROW EXECUTE FUNCTION refuse()");
    } else {
      Raw(dbs, "poly.db").Exec(
          "CREATE TRIGGER refuse BEFORE INSERT ON orderbook_event_blocks BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    }
    feed.batches.assign(all.begin() + 2, all.begin() + 3);
    SubmitFeed(*store, feed, source);
    const std::string flush = StoreErrorOf([&] { store->Flush(); });
    CHECK_THAT(flush, Catch::Contains("disk says no"));
    CHECK_THAT(StoreErrorOf([&] { store->Submit(WriteBatch()); }), Catch::Contains("disk says no"));
    CHECK_THAT(StoreErrorOf([&] { store->Flush(); }), Catch::Contains("disk says no"));
    CHECK(store->stats().batches == 2);
  }  // the destructor does not throw
  Raw db(dbs, "poly.db");
  CHECK(db.Int("SELECT committed_line FROM sources") == 200);
  CHECK(db.Int("SELECT count(*) FROM orderbook_events WHERE line > 200") == 0);
  CHECK(db.Int("SELECT count(*) FROM orderbook_events") ==
        db.Int("SELECT count(*) FROM orderbook_events WHERE line <= 200"));
  CHECK(db.Int("SELECT count(*) FROM orderbook_events") > 0);
  db.CheckIntegrity();
}

STORE_TEST("a batch naming an unknown asset key fails the writer", "[store]") {
  auto store = Store::Open(dbs.pg() ? dbs.Url("poly.db") : ParseDbUrl("sqlite:///:memory:"));
  WriteBatch b;
  StatusRow s{};
  s.asset_key = 7;
  b.status.push_back(s);
  store->Submit(b);
  CHECK_THAT(StoreErrorOf([&] { store->Flush(); }), Catch::Contains("asset key 7"));
}

// The writer's connection of a file database is opened SQLITE_OPEN_NOMUTEX: it
// relies on every user (writer thread, maintenance, catalog, RegisterSource)
// taking the store's write lock. Hammer it from three threads at once.
TEST_CASE("sqlite: the writer thread, maintenance and catalog calls share the writer's connection safely", "[store]") {
  TempDir dir;
  auto store = Store::Open(dir.Url("poly.db"), StoreOptions{.queue_batches = 2});
  const int64_t source = store->RegisterSource(dir.File("feed.jsonl"), nullptr);
  constexpr int kBatches = 150;
  constexpr int kLinesPerBatch = 40;
  OrderBook want;
  std::thread feeder([&] {
    for (int n = 0; n < kBatches; ++n) {
      WriteBatch b;
      b.source_id = source;
      if (n == 0) b.new_assets.push_back({0, "m", "a"});
      for (int i = 1; i <= kLinesPerBatch; ++i) {
        const int line = n * kLinesPerBatch + i;
        EventRow e{};
        e.asset_key = 0;
        e.line = line;
        e.ts_ms = 1'700'000'000'000 + line;
        e.seq = line;
        e.kind = EventKind::kLevel;
        e.side = line % 2 == 0 ? Side::kBid : Side::kAsk;
        e.price = 10000 * (line % 50 + 1);
        e.size = 1000000 * (line % 9);
        want.ApplyLevel(e.side, e.price, e.size);
        b.events.push_back(e);
      }
      b.last_line = (n + 1) * kLinesPerBatch;
      store->Submit(std::move(b));
    }
  });
  std::thread catalog([&] {
    for (int n = 0; n < 60; ++n) {
      MarketRecord m;
      m.condition_id = "0xcat" + std::to_string(n % 7);
      m.question = "question " + std::to_string(n);
      m.asset_ids = {"t" + std::to_string(n % 7)};
      store->UpsertMarkets({m});
      store->RegisterSource(dir.File("other" + std::to_string(n % 3) + ".jsonl"), nullptr);
    }
  });
  for (int n = 0; n < 20; ++n) {
    store->SnapshotFromStore(1'700'000'000'000 + n);
    store->PruneEventsBefore(1'700'000'000'000 + n * 100);
  }
  feeder.join();
  catalog.join();
  store->Flush();
  CHECK(store->stats().events_written == kBatches * kLinesPerBatch);
  std::optional<StoredBook> loaded = store->LoadBook("m", "a");
  REQUIRE(loaded.has_value());
  CheckBook(loaded->book, want);
  CHECK(loaded->seq == kBatches * kLinesPerBatch);
  CHECK(store->ListMarkets("").size() == 7);
  int64_t committed = 0;
  CHECK(store->RegisterSource(dir.File("feed.jsonl"), &committed) == source);
  CHECK(committed == kBatches * kLinesPerBatch);
  store.reset();
  RawDb db(dir.File("poly.db"));
  CHECK(db.Text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("sqlite: new databases get 16 KiB pages; existing ones keep theirs and still work", "[store]") {
  TempDir dir;
  {
    auto store = Store::Open(dir.Url("new.db"));
  }
  CHECK(RawDb(dir.File("new.db")).Int("PRAGMA page_size") == 16384);
  {
    RawDb old(dir.File("old.db"));
    old.Exec("PRAGMA page_size = 4096");
    old.Exec("CREATE TABLE unrelated (x INTEGER)");
  }
  Feed feed = MakeFeed(FeedOptions{.lines = 300, .lines_per_batch = 50, .assets = 3, .snapshot_every = 70});
  {
    auto store = Store::Open(dir.Url("old.db"));
    SubmitFeed(*store, feed, store->RegisterSource(dir.File("feed.jsonl"), nullptr));
    store->Flush();
    CheckBooks(*store, feed);
  }
  RawDb old(dir.File("old.db"));
  CHECK(old.Int("PRAGMA page_size") == 4096);
  CHECK(old.Text("PRAGMA integrity_check") == "ok");
  CHECK(old.Int("SELECT count(*) FROM orderbook_events") == feed.events);
}

TEST_CASE("an in-memory database works end to end", "[store]") {
  auto store = Store::Open(ParseDbUrl("sqlite:///:memory:"));
  Feed feed = MakeFeed({.lines = 500, .lines_per_batch = 50, .assets = 3, .snapshot_every = 90});
  SubmitFeed(*store, feed, store->RegisterSource("/tmp/mem-feed.jsonl", nullptr));
  store->Flush();
  CHECK(store->Status().size() == 3);
  CheckBooks(*store, feed);
  CHECK(store->SnapshotFromStore(1) == 3);
  CHECK(store->PruneEventsBefore(feed.ts[0] + 1) > 0);
  CheckBooks(*store, feed);
}

STORE_TEST("the market catalog is upserted and searched", "[store][catalog]") {
  auto store = Store::Open(dbs.Url("poly.db"));
  MarketRecord a{"0xaaa", "Will it rain?", "rain", "ev1", true, 10000, 5000000, 1700000000000, true, false, 1,
                 {"111", "222"}, {"Yes", "No"}};
  MarketRecord b{"0xbbb", "Another question", "other", "ev2", false, 1000, 1000000, 0, false, true, 2, {"333"}, {""}};
  CHECK(store->UpsertMarkets({a, b}) == 2);
  a.question = "Will it rain tomorrow?";
  a.outcomes = {"YES", "NO"};
  CHECK(store->UpsertMarkets({a}) == 1);
  std::vector<MarketRecord> all = store->ListMarkets("");
  REQUIRE(all.size() == 2);
  CHECK(all[0].condition_id == "0xbbb");  // ordered by question
  CHECK(all[1].question == "Will it rain tomorrow?");
  CHECK(all[1].neg_risk);
  CHECK(all[1].tick_size_micros == 10000);
  CHECK(all[1].asset_ids == std::vector<std::string>{"111", "222"});
  CHECK(all[1].outcomes == std::vector<std::string>{"YES", "NO"});
  CHECK(all[0].closed);
  CHECK(store->ListMarkets("RAIN").size() == 1);
  CHECK(store->ListMarkets("333").at(0).condition_id == "0xbbb");
  CHECK(store->ListMarkets("nothing like it").empty());
}

// ---------------------------------------------------------------------------
// PostgreSQL only: schema, migrations, partitions

TEST_CASE("both backends share one migration history", "[store][migrations]") {
  const auto sqlite = SqliteMigrations();
  const auto pg = PostgresMigrations();
  REQUIRE(sqlite.size() == pg.size());
  for (size_t i = 0; i < sqlite.size(); ++i) {
    CHECK(sqlite[i].version == static_cast<int>(i) + 1);
    CHECK(pg[i].version == sqlite[i].version);
    CHECK(pg[i].description == sqlite[i].description);
  }
}

TEST_CASE("event partitions are named by UTC day", "[store]") {
  CHECK(PgEventDay(0) == 0);
  CHECK(PgEventDay(86'399'999) == 0);
  CHECK(PgEventDay(86'400'000) == 1);
  CHECK(PgEventDay(-1) == -1);
  CHECK(PgEventPartitionName(0) == "orderbook_events_19700101");
  CHECK(PgEventPartitionName(PgEventDay(1'700'000'000'000)) == "orderbook_events_20231114");
  int64_t day = 0;
  REQUIRE(ParsePgEventPartitionName("orderbook_events_20231114", &day));
  CHECK(day == PgEventDay(1'700'000'000'000));
  REQUIRE(ParsePgEventPartitionName("orderbook_events_20240229", &day));
  CHECK(PgEventPartitionName(day) == "orderbook_events_20240229");
  CHECK_FALSE(ParsePgEventPartitionName("orderbook_events_20230230", &day));
  CHECK_FALSE(ParsePgEventPartitionName("orderbook_events_default", &day));
  CHECK_FALSE(ParsePgEventPartitionName("orders_20231114", &day));
}

TEST_CASE("postgresql: opening migrates once, in native types, idempotently", "[store][migrations][pg]") {
  TestDbs dbs(Backend::kPostgres);
  const DbUrl url = dbs.Url("poly.db");
  {
    auto store = Store::Open(url);
    CHECK(store->schema_version() == LatestSqliteSchemaVersion());
  }
  {
    auto store = Store::Open(url);
    CHECK(store->schema_version() == LatestSqliteSchemaVersion());
  }
  RawPg db(url);
  CHECK(db.Int("SELECT count(*) FROM schema_version") == LatestSqliteSchemaVersion());
  std::string history;
  for (size_t i = 0; i < std::size(kMigrationDescriptions); ++i) {
    history += std::to_string(i + 1) + "|" + std::string(kMigrationDescriptions[i]) + "|\n";
  }
  CHECK(db.Dump("SELECT version, description FROM schema_version ORDER BY version") == history);
  // Version 3: no per-row unique key on the hot table; its id index is BRIN.
  CHECK(db.Int("SELECT count(*) FROM pg_constraint WHERE conrelid = 'orderbook_events'::regclass AND contype = 'u'") == 0);
  CHECK(db.Text("SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relname = 'orderbook_events_by_id'") == "brin");
  for (const char* table : {"markets", "outcomes", "sources", "orderbook_events", "orderbook_snapshots", "orders",
                            "fills", "market_status", "exec_audit", "schema_version"}) {
    INFO(table);
    CHECK(db.Int(std::string("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                             " WHERE n.nspname = current_schema() AND c.relname = '") + table + "'") == 1);
  }
  // No floating point anywhere; flags are boolean; levels and legs are jsonb.
  CHECK(db.Int("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
               " AND data_type IN ('real', 'double precision', 'numeric')") == 0);
  CHECK(db.Text("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = 'market_status' AND column_name = 'stale'") == "boolean");
  CHECK(db.Int("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
               " AND data_type = 'jsonb'") == 3);
  // orderbook_events is range-partitioned (by ts_ms).
  CHECK(db.Text("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'orderbook_events'::regclass") == "r");
  // The indexes status, book and report read through.
  for (const char* index : {"orderbook_events_by_id", "orderbook_event_index_pkey", "orderbook_snapshots_by_outcome", "orders_by_created",
                            "fills_by_order", "exec_audit_by_ts", "outcomes_market_asset_id_key"}) {
    INFO(index);
    CHECK(db.Int(std::string("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = '") +
                 index + "'") == 1);
  }
  // Applying again does nothing.
  CHECK(ApplyPgMigrations(db.conn(), PostgresMigrations()).empty());
}

TEST_CASE("postgresql: opening an older database applies only the missing migrations", "[store][migrations][pg]") {
  TestDbs dbs(Backend::kPostgres);
  const DbUrl url = dbs.Url("old.db");
  {
    RawPg db(url);
    CHECK(ApplyPgMigrations(db.conn(), PostgresMigrations().first(1)) == std::vector<int>{1});
    CHECK(CurrentPgSchemaVersion(db.conn()) == 1);
    db.Exec("INSERT INTO outcomes (market, asset_id) VALUES ('m', 'a')");
  }
  auto store = Store::Open(url);
  CHECK(store->schema_version() == LatestSqliteSchemaVersion());
  RawPg db(url);
  CHECK(db.Int("SELECT count(*) FROM schema_version") == LatestSqliteSchemaVersion());
  CHECK(db.Int("SELECT count(*) FROM outcomes") == 1);
  CHECK(db.Int("SELECT count(*) FROM orders") == 0);
}

TEST_CASE("postgresql: a failing migration leaves nothing behind", "[store][migrations][pg]") {
  TestDbs dbs(Backend::kPostgres);
  RawPg db(dbs.Url("bad.db"));
  db.Exec("CREATE TABLE orders (x integer)");  // version 2 will collide with it
  const std::string e = StoreErrorOf([&] { ApplyPgMigrations(db.conn(), PostgresMigrations()); });
  CHECK_THAT(e, Catch::Contains("migration 2 (execution: orders, fills, exec_audit) failed"));
  // One transaction: version 1 was rolled back with it.
  CHECK(CurrentPgSchemaVersion(db.conn()) == 0);
  CHECK(db.Int("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'outcomes'") == 0);
}

TEST_CASE("postgresql: events land in day partitions and prune drops whole days", "[store][prune][pg]") {
  TestDbs dbs(Backend::kPostgres);
  constexpr int64_t kDay = 86'400'000;
  // Four days, 2000 lines each (ts0 at midnight UTC).
  FeedOptions options{.lines = 8000, .lines_per_batch = 500, .assets = 4, .snapshot_every = 0};
  options.ts0 = PgEventDay(1'700'000'000'000) * kDay;
  Feed feed = MakeFeed(options);
  for (WriteBatch& b : feed.batches) {
    for (EventRow& e : b.events) e.ts_ms = options.ts0 + (e.line - 1) / 2000 * kDay + e.line;
    for (StatusRow& s : b.status) s.last_update_ts_ms = 0;
  }
  auto store = Store::Open(dbs.Url("poly.db"));
  SubmitFeed(*store, feed, store->RegisterSource(dbs.File("f"), nullptr));
  store->Flush();
  RawPg db(dbs.Url("poly.db"));
  const std::string partitions =
      "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
      " WHERE i.inhparent = 'orderbook_events'::regclass";
  const int64_t day0 = PgEventDay(options.ts0);
  CHECK(db.Text(partitions) == PgEventPartitionName(day0) + "," + PgEventPartitionName(day0 + 1) + "," +
                                   PgEventPartitionName(day0 + 2) + "," + PgEventPartitionName(day0 + 3));
  CHECK(db.Int("SELECT count(*) FROM " + PgEventPartitionName(day0 + 1)) ==
        db.Int("SELECT count(*) FROM orderbook_events WHERE line > 2000 AND line <= 4000"));
  for (size_t k = 0; k < feed.books.size(); ++k) {
    std::optional<StoredBook> b = store->LoadBook(feed.markets[k], feed.asset_ids[k]);
    REQUIRE(b.has_value());
    CheckBook(b->book, feed.books[k]);
  }

  // Cut off in the middle of the third day: days 1 and 2 go as partitions, the
  // third day's earlier rows as rows.
  const int64_t total = db.Int("SELECT count(*) FROM orderbook_events");
  const int64_t cutoff = options.ts0 + 2 * kDay + 5000;
  const int64_t expected_rows = db.Int("SELECT count(*) FROM orderbook_events WHERE ts_ms < " + std::to_string(cutoff));
  const int64_t deleted = store->PruneEventsBefore(cutoff);
  CHECK(deleted == expected_rows);  // no snapshots existed, so none were superseded
  CHECK(db.Int("SELECT count(*) FROM orderbook_events") == total - expected_rows);
  CHECK(db.Text(partitions) == PgEventPartitionName(day0 + 2) + "," + PgEventPartitionName(day0 + 3));
  CHECK(db.Int("SELECT count(*) FROM orderbook_snapshots") == 4);
  for (size_t k = 0; k < feed.books.size(); ++k) {
    std::optional<StoredBook> b = store->LoadBook(feed.markets[k], feed.asset_ids[k]);
    REQUIRE(b.has_value());
    CheckBook(b->book, feed.books[k]);
  }
}

// ---------------------------------------------------------------------------
// Throughput (hidden: ./store_test "[.perf]")

TEST_CASE("throughput: 1M event rows", "[.perf]") {
  TempDir dir;
  // The replay's shape: 16384-line batches; 640 assets as in gen_recording.py's example.
  Feed feed = MakeFeed({.lines = 750'000, .lines_per_batch = 16384, .assets = 640, .snapshot_every = 0});
  auto store = Store::Open(dir.Url("perf.db"));
  const int64_t source = store->RegisterSource(dir.File("f"), nullptr);
  std::vector<WriteBatch> batches = feed.batches;
  for (WriteBatch& b : batches) b.source_id = source;
  auto cpu_seconds = [] {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double cpu0 = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  for (WriteBatch& b : batches) store->Submit(std::move(b));
  store->Flush();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu0;
  const double rows = static_cast<double>(store->stats().events_written);
  // Wall time depends on what else runs on the machine; CPU time much less.
  std::printf("inserted %.0f event rows in %.3f s wall (%.0f rows/s), %.3f s CPU (%.0f rows per CPU-second)\n",
              rows, s, rows / s, cpu, rows / cpu);
  CHECK(store->stats().events_written == feed.events);
}

}  // namespace
}  // namespace polyhost

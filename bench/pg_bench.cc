// `pg-ingest`: event rows per second into PostgreSQL, through the store's COPY
// (FORMAT binary) writer and through one prepared INSERT per row, on the rows a
// replay of FEED produces (docs/performance.md, "PostgreSQL ingest").
//
//   polyhost_bench pg-ingest FEED --db postgresql://... [--variant copy|copy-v2|rows] [--limit N] [--repeat N]
//
// Besides wall time it reports CPU seconds (this process plus the server's
// processes, from /proc): on a shared, loaded machine rows per CPU second is the
// comparable number. copy-v2 runs only when asked for.
//
// Each run works in a fresh schema (polyhost_bench_pg) of the given database,
// dropped afterwards.
#include <libpq-fe.h>
#include <time.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <cinttypes>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_commands.h"
#include "bench_util.h"
#include "ingest/feed_parser.h"
#include "ingest/line_reader.h"
#include "replay/book_engine.h"
#include "replay/replayer.h"
#include "store/pg_conn.h"
#include "store/pg_schema.h"
#include "store/store.h"

namespace polyhost::bench {
namespace {

constexpr const char* kSchema = "polyhost_bench_pg";

// This process's CPU (user + system; the store's writer thread included).
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The batches Replay() would hand the store (one per ReplayOptions::batch_lines).
std::vector<WriteBatch> MakeBatches(const Args& args, int64_t* rows) {
  LineReader reader(args.feed);
  FeedParser parser;
  ParsedLine parsed;
  ParseError error;
  BookEngine engine;
  std::vector<WriteBatch> batches;
  WriteBatch batch;
  const auto per_batch = static_cast<int64_t>(ReplayOptions{}.batch_lines);
  std::string_view line;
  bool too_long = false;
  *rows = 0;
  while (reader.Next(&line, &too_long)) {
    const int64_t n = reader.line_number();
    if (args.limit != 0 && static_cast<size_t>(n) > args.limit) break;
    if (parser.Parse(line.data(), line.size(), FeedFormat::kAuto, &parsed, &error)) engine.Apply(parsed, n, &batch);
    if (n % per_batch == 0) {
      batch.last_line = n;
      *rows += static_cast<int64_t>(batch.events.size());
      batches.push_back(std::move(batch));
      batch = WriteBatch{};
    }
  }
  batch.last_line = reader.line_number();
  *rows += static_cast<int64_t>(batch.events.size());
  batches.push_back(std::move(batch));
  return batches;
}

DbUrl SchemaUrl(const std::string& base) {
  return ParseDbUrl(base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + kSchema);
}

void ResetSchema(const std::string& base) {
  auto admin = PgConn::Connect(ParseDbUrl(base));
  admin->Exec(std::string("DROP SCHEMA IF EXISTS ") + kSchema + " CASCADE; CREATE SCHEMA " + kSchema, "reset schema");
}

void DropSchema(const std::string& base) {
  auto admin = PgConn::Connect(ParseDbUrl(base));
  admin->Exec(std::string("DROP SCHEMA IF EXISTS ") + kSchema + " CASCADE", "drop schema");
}

// CPU seconds (user + system) the PostgreSQL server has used so far: the
// postmaster's own and its reaped children's (backends that have exited, such as
// a closed store's writer) plus its live children (walwriter, checkpointer, ...).
// Load-independent, unlike wall time on a shared machine.
double ServerCpuSeconds(const std::string& base) {
  auto conn = PgConn::Connect(ParseDbUrl(base));
  const int64_t backend = conn->QueryInt("SELECT pg_backend_pid()", {}, "backend pid");
  auto stat = [](int64_t pid, int64_t* ppid, double* self, double* children) {
    std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
    if (f == nullptr) return false;
    char buf[1024];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* p = std::strrchr(buf, ')');  // after the command name
    if (p == nullptr) return false;
    long long pp = 0;
    unsigned long long ut = 0, st = 0;
    long long cut = 0, cst = 0;
    // fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
    if (std::sscanf(p + 2, "%*c %lld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &pp, &ut, &st, &cut,
                    &cst) != 5) {
      return false;
    }
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    *ppid = pp;
    *self = static_cast<double>(ut + st) / tick;
    *children = static_cast<double>(cut + cst) / tick;
    return true;
  };
  int64_t postmaster = 0;
  double self = 0, children = 0;
  if (!stat(backend, &postmaster, &self, &children)) return 0;
  conn.reset();
  int64_t grand = 0;
  double total = 0;
  if (!stat(postmaster, &grand, &self, &children)) return 0;
  total = self + children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    int64_t ppid = 0;
    double s = 0, c = 0;
    if (std::stoll(name) != backend && stat(std::stoll(name), &ppid, &s, &c) && ppid == postmaster) total += s;
  }
  return total;
}

// --variant copy-v2: the production writer into the schema of version 2 (a
// b-tree on id and the UNIQUE (source_id, line, item, ts_ms) key), to measure
// what migration 3 saves under the same conditions.
void RestoreV2Indexes(const std::string& base) {
  auto conn = PgConn::Connect(SchemaUrl(base));
  conn->Exec("DROP INDEX orderbook_events_by_id; CREATE INDEX orderbook_events_by_id ON orderbook_events (id);"
             " ALTER TABLE orderbook_events ADD UNIQUE (source_id, line, item, ts_ms)",
             "restore the version 2 indexes");
}

// The production path: Store::Open + Submit every batch + Flush.
double RunCopy(const std::string& base, std::vector<WriteBatch> batches, int64_t* written, bool v2_indexes) {
  ResetSchema(base);
  if (v2_indexes) {
    Store::Open(SchemaUrl(base)).reset();  // migrate
    RestoreV2Indexes(base);
  }
  auto store = Store::Open(SchemaUrl(base));
  const int64_t source = store->RegisterSource("/bench/feed.jsonl", nullptr);
  for (WriteBatch& b : batches) b.source_id = source;
  const auto t0 = std::chrono::steady_clock::now();
  for (WriteBatch& b : batches) store->Submit(std::move(b));
  store->Flush();
  const double s = SecondsSince(t0);
  *written = store->stats().events_written;
  return s;
}

// The same rows, one prepared INSERT each, in one transaction per batch (with
// the writer lock, partitions, outcomes and the watermark, like the store).
double RunRows(const std::string& base, const std::vector<WriteBatch>& batches, int64_t* written) {
  ResetSchema(base);
  Store::Open(SchemaUrl(base)).reset();  // migrate
  auto conn = PgConn::Connect(SchemaUrl(base));
  conn->Exec("INSERT INTO sources (id, path, first_seen_ms, updated_ms) VALUES (1, 'feed', 0, 0)", "source");
  PgResult prep(PQprepare(conn->raw(), "ins",
                          "INSERT INTO orderbook_events (id, source_id, line, item, outcome_id, ts_ms, recv_ts_ms,"
                          " seq, kind, side, price, size, levels_json)"
                          " VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                          12, nullptr));
  if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) conn->Fail("prepare", prep.get());
  const auto t0 = std::chrono::steady_clock::now();
  int64_t id = 0;
  std::vector<int64_t> days;
  for (const WriteBatch& b : batches) {
    conn->Exec("BEGIN", "begin");
    conn->Query("SELECT pg_advisory_xact_lock($1)", {kPgWriterLock}, "lock");
    for (const NewAsset& a : b.new_assets) {
      conn->Query("INSERT INTO outcomes (id, market, asset_id) VALUES ($1, $2, $3)",
                  {static_cast<int64_t>(a.key) + 1, a.market, a.asset_id}, "outcome");
    }
    for (const EventRow& e : b.events) {
      const int64_t day = PgEventDay(e.ts_ms);
      if (std::find(days.begin(), days.end(), day) == days.end()) {
        conn->Exec(PgCreateEventPartitionSql(day), "partition");
        days.push_back(day);
      }
      std::string v[12] = {std::to_string(++id), std::to_string(e.line), std::to_string(e.item),
                           std::to_string(e.asset_key + 1), std::to_string(e.ts_ms), std::to_string(e.recv_ts_ms),
                           std::to_string(e.seq), std::to_string(static_cast<int>(e.kind)),
                           std::to_string(static_cast<int>(e.side)), std::to_string(e.price), std::to_string(e.size),
                           e.levels_json};
      const char* p[12];
      for (int i = 0; i < 12; ++i) p[i] = v[i].c_str();
      if (e.kind != EventKind::kLevel) p[8] = nullptr;
      if (e.kind == EventKind::kBook) p[9] = nullptr;
      if (e.kind != EventKind::kLevel) p[10] = nullptr;
      if (e.kind != EventKind::kBook) p[11] = nullptr;
      PgResult r(PQexecPrepared(conn->raw(), "ins", 12, p, nullptr, nullptr, 0));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) conn->Fail("insert", r.get());
    }
    conn->Query("UPDATE sources SET committed_line = $1 WHERE id = 1", {b.last_line}, "watermark");
    conn->Exec("COMMIT", "commit");
  }
  const double s = SecondsSince(t0);
  *written = id;
  return s;
}

}  // namespace

int RunPgIngest(const Args& args) {
  if (args.db.rfind("postgres", 0) != 0) {
    throw std::invalid_argument("pg-ingest needs --db postgresql://... (scripts/pg_test_server.sh start DIR prints one)");
  }
  int64_t rows = 0;
  const std::vector<WriteBatch> batches = MakeBatches(args, &rows);
  std::fprintf(stderr, "  %" PRId64 " event rows in %zu batches\n", rows, batches.size());
  for (const std::string variant : {"copy", "copy-v2", "rows"}) {
    if (args.variant.empty() ? variant == "copy-v2" : args.variant != variant) continue;
    double best = 0, best_cpu = 0;
    int64_t written = 0;
    for (int r = 0; r < args.repeat; ++r) {
      const double server0 = ServerCpuSeconds(args.db);
      const double client0 = CpuSeconds();
      const double s = variant == "rows" ? RunRows(args.db, batches, &written)
                                         : RunCopy(args.db, batches, &written, variant == "copy-v2");
      const double client = CpuSeconds() - client0;
      ::usleep(200'000);  // let the postmaster reap the closed connections' backends
      const double server = ServerCpuSeconds(args.db) - server0;
      std::fprintf(stderr,
                   "  %s run %d: %" PRId64 " rows in %.3f s = %.0f rows/s; CPU: server %.2f s + client %.2f s"
                   " = %.0f rows per CPU second\n",
                   variant.c_str(), r + 1, written, s, static_cast<double>(written) / s, server, client,
                   static_cast<double>(written) / (server + client));
      if (best == 0 || s < best) best = s;
      if (best_cpu == 0 || server + client < best_cpu) best_cpu = server + client;
    }
    DropSchema(args.db);
    const double rate = static_cast<double>(written) / best;
    const char* what = variant == "copy"      ? "`Store` writer: COPY ... FROM STDIN (FORMAT binary), schema v3"
                       : variant == "copy-v2" ? "same, into schema v2's indexes (b-tree on id + unique key)"
                                              : "one prepared INSERT per row (libpq), same transactions";
    std::printf("| %s | %s | %.2f s | %s rows/s | %.2f s | %s rows/s |\n", what,
                Group(static_cast<double>(written)).c_str(), best, Group(rate).c_str(), best_cpu,
                Group(static_cast<double>(written) / best_cpu).c_str());
  }
  return 0;
}

}  // namespace polyhost::bench

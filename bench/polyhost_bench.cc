// polyhost_bench: throughput, latency and memory benchmarks over one recorded feed.
//
//   polyhost_bench parse         FEED [--repeat N] [--limit LINES] [--no-fast-scan]
//   polyhost_bench engine        FEED [--repeat N] [--limit LINES] [--no-fast-scan]
//   polyhost_bench replay-sqlite FEED [--repeat N] [--db PATH] [--snapshot-interval-ms MS]
//                                [--prune-keep-ms MS]
//   polyhost_bench sqlite-raw    FEED [--repeat N] [--db PATH] [--limit LINES]
//                                [--variant rows|no-fk|unique|outcome-index|bare]
//   polyhost_bench latency       FEED [--limit LINES]
//   polyhost_bench memory        FEED
//   polyhost_bench books         FEED [--repeat N] [--limit LINES]
//   polyhost_bench dispatch      FEED [--repeat N] [--limit LINES]
//   polyhost_bench plan-latency  FEED --plugin PATH [--catalog CATALOG.json] [--limit LINES]
//
// Each subcommand prints markdown table rows on stdout (bench/run.sh prints the
// headers) and details on stderr. Throughput is the best of N runs; "msgs" are
// feed lines (one frame each; a frame may hold several events). In-memory
// benchmarks read the whole file first, with FeedParser::kPadding bytes after each
// line, so I/O is excluded. See docs/performance.md.
#include <simdjson.h>
#include <sqlite3.h>

#include <boost/json.hpp>

#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_commands.h"
#include "bench_util.h"
#include "ondemand_walk.h"
#include "ingest/feed_parser.h"
#include "ingest/line_reader.h"
#include "replay/book_engine.h"
#include "replay/replayer.h"
#include "store/db_url.h"
#include "store/event_blocks.h"
#include "store/migrations.h"
#include "store/store.h"

namespace polyhost::bench {
namespace {

constexpr double kEngineTargetMsgsPerSec = 2'000'000;
constexpr double kReplayTargetMsgsPerSec = 500'000;
// config/default.toml, which `polyhost replay` uses unless overridden.
constexpr int64_t kDefaultSnapshotIntervalMs = 60'000;
constexpr int64_t kDefaultPruneKeepMs = 86'400'000;

inline double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Wall time and CPU time (this thread's, or the process's) of each run; best of N.
struct Throughput {
  explicit Throughput(clockid_t cpu = CLOCK_THREAD_CPUTIME_ID) : cpu_clock(cpu) {}
  clockid_t cpu_clock;
  double best_seconds = 1e300;
  double best_cpu_seconds = 1e300;
  std::vector<double> all, all_cpu;
  Clock::time_point t0;
  double c0 = 0;
  void Start() {
    c0 = CpuSeconds(cpu_clock);
    t0 = Clock::now();
  }
  void Stop() {
    const double wall = SecondsSince(t0);
    const double cpu = CpuSeconds(cpu_clock) - c0;
    all.push_back(wall);
    all_cpu.push_back(cpu);
    best_seconds = std::min(best_seconds, wall);
    best_cpu_seconds = std::min(best_cpu_seconds, cpu);
  }
};

// cpu_seconds <= 0: no CPU-time column value.
void PrintThroughputRow(const std::string& name, size_t msgs, size_t bytes, double seconds, double cpu_seconds,
                        const std::string& target, const std::string& notes) {
  const double mps = static_cast<double>(msgs) / seconds;
  std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", name.c_str(), Group(mps).c_str(),
              bytes == 0 ? "n/a" : Fixed(static_cast<double>(bytes) / seconds / 1e6, 1).c_str(),
              Fixed(seconds * 1e9 / static_cast<double>(msgs), 0).c_str(),
              cpu_seconds <= 0 ? "—" : Group(static_cast<double>(msgs) / cpu_seconds).c_str(), target.c_str(),
              notes.c_str());
  std::fflush(stdout);
}

std::string TargetCell(double target, double achieved) {
  return "≥ " + Group(target) + (achieved >= target ? " — **met**" : " — **missed**");
}

void LogRuns(const char* name, const Throughput& t) {
  std::fprintf(stderr, "  %-28s runs (wall / cpu):", name);
  for (size_t i = 0; i < t.all.size(); ++i) std::fprintf(stderr, " %.3f/%.3fs", t.all[i], t.all_cpu[i]);
  std::fprintf(stderr, "\n");
}

FeedBuffer Load(const Args& args) {
  auto t0 = Clock::now();
  FeedBuffer fb = LoadFeed(args.feed, args.limit);
  std::fprintf(stderr, "loaded %zu lines, %.1f MB in %.2fs\n", fb.lines.size(), fb.file_bytes / 1e6,
               SecondsSince(t0));
  return fb;
}

// ---------------------------------------------------------------------------
// 1. parse only

int RunParse(const Args& args) {
  const FeedBuffer feed = Load(args);
  const size_t n = feed.lines.size();
  Throughput t_feed, t_simd, t_boost_reused, t_boost_parse, t_ondemand;
  OnDemandCounts od_counts;
  simdjson::ondemand::parser od_parser;
  uint64_t sink = 0;
  size_t events = 0, bad = 0;

  FeedParser parser;
  parser.set_fast_scan(args.fast_scan);
  ParsedLine parsed;
  ParseError error;
  simdjson::dom::parser simd;
  unsigned char boost_temp[4096];
  boost::json::parser boost_parser(boost::json::storage_ptr(), boost::json::parse_options(), boost_temp);
  std::vector<unsigned char> value_buf(256 * 1024);

  for (int r = 0; r < args.repeat; ++r) {
    // FeedParser: simdjson DOM + field walk + decimal parsing + validation.
    t_feed.Start();
    events = 0, bad = 0;
    for (size_t i = 0; i < n; ++i) {
      if (parser.Parse(feed.line_data(i), feed.lines[i].len, FeedFormat::kAuto, &parsed, &error)) {
        events += parsed.events.size();
      } else {
        ++bad;
      }
    }
    t_feed.Stop();

    // Bare simdjson DOM parse, reused parser, input already padded.
    t_simd.Start();
    for (size_t i = 0; i < n; ++i) {
      simdjson::dom::element doc;
      if (simd.parse(feed.line_data(i), feed.lines[i].len, false).get(doc) == simdjson::SUCCESS) {
        sink += static_cast<uint64_t>(doc.type());
      }
    }
    t_simd.Stop();

    // Bare Boost.JSON, reused boost::json::parser, values in a reused monotonic buffer.
    t_boost_reused.Start();
    for (size_t i = 0; i < n; ++i) {
      boost::json::monotonic_resource mr(value_buf.data(), value_buf.size());
      boost_parser.reset(&mr);
      boost::system::error_code ec;
      boost_parser.write(feed.line_data(i), feed.lines[i].len, ec);
      if (ec) continue;
      boost::json::value v = boost_parser.release();
      sink += static_cast<uint64_t>(v.kind());
    }
    t_boost_reused.Stop();

    // Bare Boost.JSON, boost::json::parse() per line (default allocator).
    t_boost_parse.Start();
    for (size_t i = 0; i < n; ++i) {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(feed.line(i), ec);
      sink += static_cast<uint64_t>(v.kind());
    }
    t_boost_parse.Stop();

    // Prototype: simdjson On-Demand walk extracting the same fields (ondemand_walk.h).
    t_ondemand.Start();
    od_counts = OnDemandCounts{};
    for (size_t i = 0; i < n; ++i) {
      WalkOnDemand(od_parser, feed.line_data(i), feed.lines[i].len, feed.lines[i].len + FeedParser::kPadding,
                   od_counts);
    }
    t_ondemand.Stop();
  }
  DoNotOptimize(od_counts.checksum);
  DoNotOptimize(sink);
  LogRuns("FeedParser", t_feed);
  LogRuns("simdjson dom", t_simd);
  LogRuns("boost::json::parser", t_boost_reused);
  LogRuns("boost::json::parse", t_boost_parse);
  LogRuns("simdjson on-demand walk", t_ondemand);
  std::fprintf(stderr, "  on-demand walk: %" PRIu64 " events, %" PRIu64 " items, %" PRIu64 " levels, %" PRIu64
                       " errors\n", od_counts.events, od_counts.items, od_counts.levels, od_counts.errors);
  std::fprintf(stderr, "  FeedParser: %zu events, %zu rejected lines\n", events, bad);

  PrintThroughputRow("parse: bare simdjson DOM (`dom::parser::parse`, reused parser)", n, feed.file_bytes,
                     t_simd.best_seconds, t_simd.best_cpu_seconds, "—", "floor: JSON parse only");
  PrintThroughputRow("parse: bare Boost.JSON (reused `boost::json::parser` + monotonic buffer)", n,
                     feed.file_bytes, t_boost_reused.best_seconds, t_boost_reused.best_cpu_seconds, "—",
                     "floor: JSON parse only");
  PrintThroughputRow("parse: bare Boost.JSON (`boost::json::parse`, default allocator)", n, feed.file_bytes,
                     t_boost_parse.best_seconds, t_boost_parse.best_cpu_seconds, "—", "JSON parse + heap-allocated DOM");
  PrintThroughputRow(args.fast_scan ? "parse: `FeedParser::Parse` (fast scan, simdjson DOM for other shapes)"
                                     : "parse: `FeedParser::Parse` (simdjson DOM only + validation + normalization)",
                     n, feed.file_bytes, t_feed.best_seconds, t_feed.best_cpu_seconds, "—",
                     Group(static_cast<double>(events)) + " events, " +
                         Fixed(t_feed.best_seconds / t_simd.best_seconds, 2) + "× simdjson DOM time");
  PrintThroughputRow("parse: simdjson On-Demand walk extracting the same fields (bench prototype)", n,
                     feed.file_bytes, t_ondemand.best_seconds, t_ondemand.best_cpu_seconds, "—",
                     "decimals parsed, no ParsedLine, no error paths; " +
                         Fixed(t_feed.best_seconds / t_ondemand.best_seconds, 2) + "× FeedParser's throughput");
  return bad == 0 && od_counts.errors == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// 2. parse + book update, nothing persisted

int RunEngine(const Args& args) {
  const FeedBuffer feed = Load(args);
  const size_t n = feed.lines.size();
  Throughput t;
  EngineCounters counters;
  size_t assets = 0;
  for (int r = 0; r < args.repeat; ++r) {
    FeedParser parser;
    parser.set_fast_scan(args.fast_scan);
    ParsedLine parsed;
    ParseError error;
    BookEngine engine;
    t.Start();
    for (size_t i = 0; i < n; ++i) {
      if (parser.Parse(feed.line_data(i), feed.lines[i].len, FeedFormat::kAuto, &parsed, &error)) {
        engine.Apply(parsed, static_cast<int64_t>(i + 1), nullptr);
      } else {
        engine.CountMalformed();
      }
    }
    t.Stop();
    counters = engine.counters();
    assets = engine.asset_count();
  }
  LogRuns("parse + BookEngine::Apply", t);
  std::fprintf(stderr, "  %" PRId64 " events, %" PRId64 " level updates, %zu assets, %" PRId64
                       " continuity breaks, %" PRId64 " malformed\n",
               counters.events, counters.level_updates, assets, counters.continuity_breaks, counters.malformed);
  const double mps = static_cast<double>(n) / t.best_seconds;
  PrintThroughputRow("parse + `BookEngine::Apply` (null batch, no storage)", n, feed.file_bytes, t.best_seconds,
                     t.best_cpu_seconds, TargetCell(kEngineTargetMsgsPerSec, mps),
                     Group(static_cast<double>(counters.level_updates) / t.best_seconds) + " level updates/s");
  return 0;
}

// ---------------------------------------------------------------------------
// 3a. full replay into SQLite, as `polyhost replay` does

std::string DefaultDbPath(const Args& args, const char* tag) {
  if (!args.db.empty()) return args.db;
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  return dir + "/polyhost_bench_" + tag + "_" + std::to_string(getpid()) + ".db";
}

void RemoveDb(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
}

int64_t DbBytes(const std::string& path) {
  std::error_code ec;
  int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    auto s = std::filesystem::file_size(path + suffix, ec);
    if (!ec) total += static_cast<int64_t>(s);
  }
  return total;
}

int RunReplaySqlite(const Args& args) {
  const std::string db = std::filesystem::absolute(DefaultDbPath(args, "replay")).string();
  Throughput t(CLOCK_PROCESS_CPUTIME_ID), t_total(CLOCK_PROCESS_CPUTIME_ID);
  ReplaySummary summary;
  int64_t db_bytes = 0;
  for (int r = 0; r < args.repeat; ++r) {
    RemoveDb(db);
    t_total.Start();
    std::unique_ptr<Store> store = Store::Open(ParseDbUrl("sqlite:///" + db));
    ReplayOptions options;
    options.path = args.feed;
    options.store = store.get();
    options.snapshot_interval_ms = args.snapshot_interval_ms >= 0 ? args.snapshot_interval_ms
                                                                  : kDefaultSnapshotIntervalMs;
    options.prune_keep_ms = args.prune_keep_ms >= 0 ? args.prune_keep_ms : kDefaultPruneKeepMs;
    BookEngine engine;
    t.Start();
    summary = Replay(options, engine);
    t.Stop();
    store.reset();  // joins the writer, closes (checkpoints) the database
    t_total.Stop();
    db_bytes = DbBytes(db);
    RemoveDb(db);
  }
  LogRuns("Replay() into SQLite", t);
  LogRuns("  incl. open + close", t_total);
  const auto& c = summary.counters;
  std::fprintf(stderr, "  %" PRId64 " lines, %" PRId64 " events, %" PRId64 " event rows written, %" PRId64
                       " snapshot sets, %" PRId64 " rows pruned, %" PRId64 " batches, %" PRId64
                       " queue-full waits, %" PRId64 " WAL checkpoints (%" PRId64 " waited for), DB %.1f MB\n",
               c.lines, c.events, summary.store.events_written, summary.snapshots_written, summary.pruned_rows,
               summary.store.batches, summary.store.queue_full_waits, summary.store.wal_checkpoints,
               summary.store.wal_checkpoint_waits, db_bytes / 1e6);
  const auto lines = static_cast<size_t>(c.lines);
  const double mps = static_cast<double>(lines) / t.best_seconds;
  std::string interval =
      args.snapshot_interval_ms >= 0 ? " [snapshot interval " + std::to_string(args.snapshot_interval_ms) + " ms]" : "";
  if (args.prune_keep_ms >= 0) interval += " [prune keep " + std::to_string(args.prune_keep_ms) + " ms]";
  PrintThroughputRow("full replay into SQLite (`Replay()` + `Store`, fresh file DB, WAL)" + interval, lines,
                     static_cast<size_t>(summary.bytes), t.best_seconds, 0, TargetCell(kReplayTargetMsgsPerSec, mps),
                     Group(static_cast<double>(summary.store.events_written) / t.best_seconds) +
                         " event rows/s; " + Group(static_cast<double>(summary.store.events_written)) +
                         " rows + " + std::to_string(summary.snapshots_written) + " snapshot sets (" +
                         std::to_string(summary.snapshot_books) + " books); process CPU " + Fixed(t.best_cpu_seconds, 1) + " s (both threads); " +
                         Fixed(static_cast<double>(lines) / t_total.best_seconds / 1e3, 0) +
                         "k msgs/s incl. open+close; file I/O included");
  return 0;
}

// ---------------------------------------------------------------------------
// 3b. the bare cost of inserting the same rows with sqlite3: the event blocks
// the store writes (schema version 5), or with --variant rows|unique|
// outcome-index|no-fk|bare one row per event as schema version 4 stored them.

void Check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

void Exec(sqlite3* db, const char* sql) { Check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql); }

int RunSqliteRaw(const Args& args) {
  // Produce exactly the rows Replay() hands the store (engine with a batch per
  // 16384 lines, as ReplayOptions::batch_lines); not timed.
  std::vector<WriteBatch> batches;
  size_t rows = 0, lines = 0;
  {
    const FeedBuffer feed = Load(args);
    lines = feed.lines.size();
    FeedParser parser;
    ParsedLine parsed;
    ParseError error;
    BookEngine engine;
    WriteBatch batch;
    const size_t per_batch = static_cast<size_t>(ReplayOptions{}.batch_lines);
    for (size_t i = 0; i < lines; ++i) {
      if (parser.Parse(feed.line_data(i), feed.lines[i].len, FeedFormat::kAuto, &parsed, &error)) {
        engine.Apply(parsed, static_cast<int64_t>(i + 1), &batch);
      }
      if ((i + 1) % per_batch == 0 || i + 1 == lines) {
        batch.last_line = static_cast<int64_t>(i + 1);
        rows += batch.events.size();
        batches.push_back(std::move(batch));
        batch = WriteBatch{};
      }
    }
  }
  std::fprintf(stderr, "  %zu event rows in %zu batches\n", rows, batches.size());

  // The blocks the store writes for those batches: one per (batch, asset), the
  // text encoded here, untimed (ids from 1 in feed order, as in a new database).
  struct Block {
    int64_t first_id, outcome_id, last_id, n, min_ts, max_ts;
    BlockBase base;
    std::string text;
  };
  const bool per_row = !args.variant.empty();
  std::vector<std::vector<Block>> blocks(batches.size());
  size_t block_bytes = 0;
  if (!per_row) {
    int64_t next_id = 1;
    for (size_t bi = 0; bi < batches.size(); ++bi) {
      std::vector<int> index_of;  // asset key -> index in blocks[bi] + 1
      std::vector<BlockText> texts;
      for (const EventRow& e : batches[bi].events) {
        if (index_of.size() <= e.asset_key) index_of.resize(e.asset_key + 1, 0);
        const int64_t id = next_id++;
        if (index_of[e.asset_key] == 0) {
          blocks[bi].push_back(Block{id, e.asset_key + 1, id, 0, e.ts_ms, e.ts_ms, BlockBaseOf(id, e), {}});
          texts.emplace_back();
          index_of[e.asset_key] = static_cast<int>(blocks[bi].size());
        }
        Block& b = blocks[bi][static_cast<size_t>(index_of[e.asset_key] - 1)];
        AppendEventToBlock(b.base, id, e, &texts[static_cast<size_t>(index_of[e.asset_key] - 1)]);
        b.last_id = id;
        ++b.n;
        b.min_ts = std::min(b.min_ts, e.ts_ms);
        b.max_ts = std::max(b.max_ts, e.ts_ms);
      }
      for (size_t k = 0; k < texts.size(); ++k) {
        EndEventBlock(&texts[k]);
        blocks[bi][k].text = std::string(texts[k].view());
        block_bytes += blocks[bi][k].text.size();
      }
    }
  }

  const std::string path = DefaultDbPath(args, "raw");
  Throughput t;
  for (int r = 0; r < args.repeat; ++r) {
    RemoveDb(path);
    sqlite3* db = nullptr;
    Check(db, sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr),
          "open");
    // The writer connection settings of host/src/store/sqlite_store.cc.
    Exec(db, "PRAGMA page_size = 16384");
    Exec(db, "PRAGMA journal_mode = WAL");
    Exec(db, "PRAGMA wal_autocheckpoint = 4096");  // 64 MiB of 16 KiB pages
    Exec(db, "PRAGMA synchronous = NORMAL");
    Exec(db, args.variant == "no-fk" || args.variant == "bare" ? "PRAGMA foreign_keys = OFF" : "PRAGMA foreign_keys = ON");
    Exec(db, "PRAGMA cache_size = -65536");
    Exec(db, "PRAGMA temp_store = MEMORY");
    // The production schema, from the store's own migrations (so this floor
    // always has the same tables, constraints and indexes as `Store`); for the
    // per-row variants, the schema as of version 4.
    for (const Migration& m : SqliteMigrations().first(per_row ? 4 : SqliteMigrations().size())) {
      Exec(db, std::string(m.sql).c_str());
    }
    if (args.variant == "unique") {
      // Schema version 3's per-row unique key (dropped in version 4), for the A/B.
      Exec(db, "CREATE UNIQUE INDEX orderbook_events_unique ON orderbook_events (source_id, line, item)");
    }
    if (args.variant == "outcome-index") {
      // What a per-outcome index on the hot table would cost.
      Exec(db, "CREATE INDEX orderbook_events_by_outcome ON orderbook_events (outcome_id, id)");
    }
    Exec(db, "INSERT INTO sources (id, path, first_seen_ms, updated_ms) VALUES (1, 'feed', 0, 0)");
    sqlite3_stmt *ins_outcome = nullptr, *ins_event = nullptr, *upd_source = nullptr;
    Check(db, sqlite3_prepare_v3(db, "INSERT INTO outcomes (id, market, asset_id) VALUES (?1, ?2, ?3)", -1,
                                 SQLITE_PREPARE_PERSISTENT, &ins_outcome, nullptr), "prepare");
    Check(db, sqlite3_prepare_v3(db,
                                 per_row ? "INSERT INTO orderbook_events (source_id, line, item, outcome_id, ts_ms,"
                                           " recv_ts_ms, seq, kind, side, price, size, levels_json)"
                                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                                         : "INSERT INTO orderbook_event_blocks (first_id, outcome_id, source_id,"
                                           " last_id, n_events, min_ts_ms, max_ts_ms, first_line, first_ts_ms,"
                                           " first_recv_ts_ms, first_seq, events)"
                                           " VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                 -1, SQLITE_PREPARE_PERSISTENT, &ins_event, nullptr), "prepare");
    Check(db, sqlite3_prepare_v3(db, "UPDATE sources SET committed_line = ?1 WHERE id = 1", -1,
                                 SQLITE_PREPARE_PERSISTENT, &upd_source, nullptr), "prepare");

    t.Start();
    for (size_t bi = 0; bi < batches.size(); ++bi) {
      const WriteBatch& b = batches[bi];
      Exec(db, "BEGIN IMMEDIATE");
      for (const NewAsset& a : b.new_assets) {
        sqlite3_reset(ins_outcome);
        sqlite3_bind_int64(ins_outcome, 1, a.key + 1);
        sqlite3_bind_text(ins_outcome, 2, a.market.data(), static_cast<int>(a.market.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins_outcome, 3, a.asset_id.data(), static_cast<int>(a.asset_id.size()), SQLITE_STATIC);
        Check(db, sqlite3_step(ins_outcome), "insert outcome");
      }
      for (const Block& k : blocks[bi]) {
        sqlite3_reset(ins_event);
        const int64_t values[] = {k.first_id, k.outcome_id, k.last_id, k.n, k.min_ts, k.max_ts,
                                  k.base.line, k.base.ts_ms, k.base.recv_ts_ms, k.base.seq};
        for (int c = 0; c < 10; ++c) sqlite3_bind_int64(ins_event, c + 1, values[c]);
        sqlite3_bind_text(ins_event, 11, k.text.data(), static_cast<int>(k.text.size()), SQLITE_STATIC);
        Check(db, sqlite3_step(ins_event), "insert block");
      }
      for (const EventRow& e : per_row ? b.events : std::vector<EventRow>()) {
        sqlite3_reset(ins_event);
        sqlite3_bind_int64(ins_event, 1, 1);
        sqlite3_bind_int64(ins_event, 2, e.line);
        sqlite3_bind_int64(ins_event, 3, e.item);
        sqlite3_bind_int64(ins_event, 4, e.asset_key + 1);
        sqlite3_bind_int64(ins_event, 5, e.ts_ms);
        sqlite3_bind_int64(ins_event, 6, e.recv_ts_ms);
        sqlite3_bind_int64(ins_event, 7, e.seq);
        sqlite3_bind_int64(ins_event, 8, static_cast<int64_t>(e.kind));
        switch (e.kind) {
          case EventKind::kLevel:
            sqlite3_bind_int64(ins_event, 9, static_cast<int64_t>(e.side));
            sqlite3_bind_int64(ins_event, 10, e.price);
            sqlite3_bind_int64(ins_event, 11, e.size);
            sqlite3_bind_null(ins_event, 12);
            break;
          case EventKind::kTick:
            sqlite3_bind_null(ins_event, 9);
            sqlite3_bind_int64(ins_event, 10, e.price);
            sqlite3_bind_null(ins_event, 11);
            sqlite3_bind_null(ins_event, 12);
            break;
          default:
            sqlite3_bind_null(ins_event, 9);
            sqlite3_bind_null(ins_event, 10);
            sqlite3_bind_null(ins_event, 11);
            sqlite3_bind_text(ins_event, 12, e.levels_json.data(), static_cast<int>(e.levels_json.size()),
                              SQLITE_STATIC);
            break;
        }
        Check(db, sqlite3_step(ins_event), "insert event");
      }
      sqlite3_reset(upd_source);
      sqlite3_bind_int64(upd_source, 1, b.last_line);
      Check(db, sqlite3_step(upd_source), "update source");
      Exec(db, "COMMIT");
    }
    t.Stop();
    sqlite3_finalize(ins_outcome);
    sqlite3_finalize(ins_event);
    sqlite3_finalize(upd_source);
    sqlite3_close(db);
    RemoveDb(path);
  }
  LogRuns("sqlite3 raw inserts", t);
  const std::string variant = args.variant.empty() ? "" : " [" + args.variant + "]";
  size_t n_blocks = 0;
  for (const auto& v : blocks) n_blocks += v.size();
  if (per_row) {
    PrintThroughputRow("bare sqlite3 C API: one row per event (schema v4), prepared stmt, 1 txn / 16384 lines" + variant,
                       lines, 0, t.best_seconds, t.best_cpu_seconds, "—",
                       Group(static_cast<double>(rows) / t.best_seconds) + " rows/s (" +
                           Group(static_cast<double>(rows)) + " rows; no parse, no snapshots/status)");
  } else {
    PrintThroughputRow("bare sqlite3 C API: the same event blocks, text pre-encoded, prepared stmt, 1 txn / 16384 lines",
                       lines, 0, t.best_seconds, t.best_cpu_seconds, "—",
                       Group(static_cast<double>(rows) / t.best_seconds) + " events/s (" +
                           Group(static_cast<double>(n_blocks)) + " blocks, " +
                           Group(static_cast<double>(block_bytes) / 1e6) +
                           " MB of text; no parse, no encoding, no snapshots/status)");
  }
  return 0;
}

// ---------------------------------------------------------------------------
// 4a. latency

int RunLatency(const Args& args) {
  const FeedBuffer feed = Load(args);
  const int64_t overhead = ClockOverheadNs();
  std::fprintf(stderr, "  steady_clock::now() pair: %" PRId64 " ns (median)\n", overhead);
  {
    std::vector<int64_t> v(100000);
    for (auto& x : v) {
      auto a = Clock::now();
      auto b = Clock::now();
      x = NanosBetween(a, b);
    }
    PrintLatencyRow("(clock: empty `steady_clock::now()` pair)", ComputePercentiles(std::move(v)));
  }

  // BookEngine::Apply of one parsed line, timed per call; parsing is outside the timed region.
  {
    FeedParser parser;
    ParsedLine parsed;
    ParseError error;
    BookEngine engine;
    std::vector<int64_t> samples;
    samples.reserve(feed.lines.size());
    for (size_t i = 0; i < feed.lines.size(); ++i) {
      if (!parser.Parse(feed.line_data(i), feed.lines[i].len, FeedFormat::kAuto, &parsed, &error)) continue;
      auto t0 = Clock::now();
      engine.Apply(parsed, static_cast<int64_t>(i + 1), nullptr);
      auto t1 = Clock::now();
      samples.push_back(NanosBetween(t0, t1));
    }
    PrintLatencyRow("`BookEngine::Apply`, one line (per call, parse excluded)", ComputePercentiles(std::move(samples)));
  }

  const BookOps ops = ExtractBookOps(feed, nullptr);
  PrintLevelLatencyRows(ops, overhead, 64);
  return 0;
}

// ---------------------------------------------------------------------------
// 4b. memory per asset

int RunMemory(const Args& args) {
  // Pass 1 parses every line without building books, so the parser's and the
  // reader's buffers reach their final size before the "before" reading.
  {
    LineReader reader(args.feed);
    FeedParser parser;
    ParsedLine parsed;
    ParseError error;
    std::string_view line;
    bool too_long = false;
    while (reader.Next(&line, &too_long)) parser.Parse(line.data(), line.size(), FeedFormat::kAuto, &parsed, &error);
  }
  LineReader reader(args.feed);
  FeedParser parser;
  ParsedLine parsed;
  ParseError error;
  std::string_view line;
  bool too_long = false;
  // Warm this reader and parser on the first line too.
  if (reader.Next(&line, &too_long)) parser.Parse(line.data(), line.size(), FeedFormat::kAuto, &parsed, &error);
  auto engine = std::make_unique<BookEngine>();
  const int64_t rss0 = MaxRssBytes();
  const int64_t heap0 = HeapInUseBytes();
  engine->Apply(parsed, 1, nullptr);
  while (reader.Next(&line, &too_long)) {
    if (parser.Parse(line.data(), line.size(), FeedFormat::kAuto, &parsed, &error)) {
      engine->Apply(parsed, reader.line_number(), nullptr);
    }
  }
  const int64_t rss1 = MaxRssBytes();
  const int64_t heap1 = HeapInUseBytes();
  const size_t assets = engine->asset_count();
  size_t levels = 0;
  for (uint32_t k = 0; k < assets; ++k) {
    levels += engine->asset(k).book.bids().size() + engine->asset(k).book.asks().size();
  }
  const double per = assets > 0 ? 1.0 / static_cast<double>(assets) : 0;
  std::fprintf(stderr, "  ru_maxrss %.1f MB -> %.1f MB, heap %.1f MB -> %.1f MB, %zu assets, %zu levels\n",
               rss0 / 1e6, rss1 / 1e6, heap0 / 1e6, heap1 / 1e6, assets, levels);
  std::printf("| assets (books) in the feed | %zu |\n", assets);
  std::printf("| peak RSS growth per asset (`ru_maxrss` after − before building all books) / assets | %s B |\n",
              Group(static_cast<double>(rss1 - rss0) * per).c_str());
  std::printf("| heap in use per asset (mallinfo2 delta: books, AssetState, index) | %s B |\n",
              Group(static_cast<double>(heap1 - heap0) * per).c_str());
  std::printf("| level storage per asset (live levels × %zu B), levels per asset | %s B, %s |\n", sizeof(Level),
              Group(static_cast<double>(levels * sizeof(Level)) * per).c_str(),
              Fixed(static_cast<double>(levels) * per, 1).c_str());
  std::printf("| sizeof(AssetState) / sizeof(OrderBook) | %zu B / %zu B |\n", sizeof(AssetState), sizeof(OrderBook));
  std::fflush(stdout);
  return 0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: polyhost_bench COMMAND FEED [--repeat N] [--limit LINES] [--db PATH]\n"
               "       [--snapshot-interval-ms MS] [--prune-keep-ms MS]  (replay-sqlite; defaults 60000 and\n"
               "       86400000 as config/default.toml; 0 disables)\n"
               "       [--variant rows|no-fk|unique|outcome-index|bare]  (sqlite-raw: schema experiments)\n"
               "       [--no-fast-scan]  (parse, engine: FeedParser's simdjson DOM path only)\n"
               "       [--plugin PATH] [--catalog CATALOG.json]  (plan-latency: the plugin to feed)\n"
               "       [--db postgresql://...] [--variant copy|copy-v2|rows]  (pg-ingest: COPY vs row inserts)\n"
               "commands: parse engine replay-sqlite sqlite-raw latency memory books dispatch plan-latency\n"
               "          pg-ingest\n");
  return 2;
}

}  // namespace
}  // namespace polyhost::bench

int main(int argc, char** argv) {
  using namespace polyhost::bench;
  Args args;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--repeat") {
        args.repeat = std::max(1, std::stoi(value()));
      } else if (a == "--limit") {
        args.limit = std::stoull(value());
      } else if (a == "--prune-keep-ms") {
        args.prune_keep_ms = std::stoll(value());
      } else if (a == "--snapshot-interval-ms") {
        args.snapshot_interval_ms = std::stoll(value());
      } else if (a == "--variant") {
        args.variant = value();
        if (args.variant != "no-fk" && args.variant != "unique" && args.variant != "outcome-index" &&
            args.variant != "bare" && args.variant != "copy" && args.variant != "copy-v2" && args.variant != "rows") {
          return Usage();
        }
      } else if (a == "--no-fast-scan") {
        args.fast_scan = false;
      } else if (a == "--db") {
        args.db = value();
      } else if (a == "--catalog") {
        args.catalog = value();
      } else if (a == "--plugin") {
        args.plugin = value();
      } else if (a.rfind("--", 0) == 0) {
        return Usage();
      } else {
        positional.push_back(a);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return Usage();
    }
  }
  if (positional.size() != 2) return Usage();
  args.command = positional[0];
  args.feed = positional[1];
  try {
    if (args.command == "parse") return RunParse(args);
    if (args.command == "engine") return RunEngine(args);
    if (args.command == "replay-sqlite") return RunReplaySqlite(args);
    if (args.command == "sqlite-raw") return RunSqliteRaw(args);
    if (args.command == "latency") return RunLatency(args);
    if (args.command == "memory") return RunMemory(args);
    if (args.command == "books") return RunBooks(args);
    if (args.command == "dispatch") return RunDispatch(args);
    if (args.command == "plan-latency") return RunPlanLatency(args);
    if (args.command == "pg-ingest") return RunPgIngest(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "polyhost_bench %s: %s\n", args.command.c_str(), e.what());
    return 1;
  }
  return Usage();
}

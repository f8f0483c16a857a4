// Subcommands of polyhost_bench implemented outside polyhost_bench.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "book_ops.h"

namespace polyhost::bench {

struct Args {
  std::string command;
  std::string feed;
  std::string db;       // replay-sqlite / sqlite-raw: database file (default: a temp file)
  int repeat = 3;       // throughput runs: best of N
  bool fast_scan = true;  // parse / engine: false (--no-fast-scan) = FeedParser's DOM path only
  size_t limit = 0;     // in-memory benchmarks: first N lines only (0 = all)
  int64_t snapshot_interval_ms = -1;  // replay-sqlite: -1 = config default (60000)
  int64_t prune_keep_ms = -1;         // replay-sqlite: -1 = config default (86400000)
  std::string variant;  // sqlite-raw schema experiment: "" (production schema: event blocks); one row per
                        // event as in schema v4: rows, no-fk / bare (foreign_keys OFF), unique (plus schema
                        // v3's UNIQUE (source_id, line, item)), outcome-index (plus an index on
                        // orderbook_events (outcome_id, id))
  std::string catalog;  // plan-latency: Gamma markets JSON handed to the plugin (polyhost.markets/1)
  std::string plugin;   // plan-latency: the plugin library (path or name) to feed
};

// `books`: sorted-vector OrderBook vs FlatBook on the feed's level updates
// (rows of the "book structure" table).
int RunBooks(const Args& args);

// `dispatch`: PluginHost::DispatchBook with 0, 1 and 4 no-op plugins (rows of the
// "plugin dispatch" table).
int RunDispatch(const Args& args);

// `plan-latency`: a plugin library fed like `polyhost run` feeds it; rows of the
// latency table (book event -> plan, and DispatchBook to it).
int RunPlanLatency(const Args& args);

// `pg-ingest`: event rows/s into PostgreSQL via the store's COPY writer and via
// one INSERT per row (--db postgresql://..., --variant copy|rows).
int RunPgIngest(const Args& args);

// Rows of the latency table for OrderBook::ApplyLevel and FlatBook::ApplyLevel:
// per call, and as per-update means of batches of `batch` updates.
void PrintLevelLatencyRows(const BookOps& ops, int64_t clock_overhead_ns, int batch);

}  // namespace polyhost::bench

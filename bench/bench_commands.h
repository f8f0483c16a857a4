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
  size_t limit = 0;     // in-memory benchmarks: first N lines only (0 = all)
  int64_t snapshot_interval_ms = -1;  // replay-sqlite: -1 = config default (60000)
  std::string variant;  // sqlite-raw: "" (the real schema), no-fk, no-unique,
                        // no-outcome-index, no-index (neither index), bare (no index, no FK)
};

// `books`: sorted-vector OrderBook vs FlatBook on the feed's level updates
// (rows of the "book structure" table).
int RunBooks(const Args& args);

// Rows of the latency table for OrderBook::ApplyLevel and FlatBook::ApplyLevel:
// per call, and as per-update means of batches of `batch` updates.
void PrintLevelLatencyRows(const BookOps& ops, int64_t clock_overhead_ns, int batch);

}  // namespace polyhost::bench

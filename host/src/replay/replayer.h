// Replays a recorded feed file: read lines → parse → apply to books → persist.
//
// Malformed lines are counted and skipped with a warning naming file:line and the
// field (fatal under strict). Rows go to the store in batches, each committed with
// the source's line watermark, so rerunning after a crash resumes without
// duplicating or losing events.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "ingest/feed_parser.h"
#include "replay/book_engine.h"
#include "store/store.h"

namespace polyhost {

struct ReplayOptions {
  std::string path;
  FeedFormat format = FeedFormat::kAuto;
  bool strict = false;
  Store* store = nullptr;              // null: books only, nothing persisted
  int64_t batch_lines = 16384;         // lines per store transaction
  int64_t snapshot_interval_ms = 0;    // feed time between snapshots; 0 = only at the end
  int64_t prune_keep_ms = 0;           // after the replay, prune events older than last_ts - keep
  size_t max_line_bytes = size_t{64} << 20;
  // Called for each rejected line with "file:line: reason" (already formatted).
  std::function<void(const std::string&)> on_warning;
  // Called about every 64k lines and at the end with (bytes read, file size).
  std::function<void(int64_t, int64_t)> on_progress;
  // Called after each applied line with the engine and the parsed line (the run
  // loop dispatches books and trades to plugins from here).
  std::function<void(const BookEngine&, const ParsedLine&, int64_t line_no)> on_line;
  // Called just before each batch goes to the store, to add rows of its own
  // (orders, fills, audit) to the same transaction.
  std::function<void(WriteBatch*)> on_batch;
  // When it becomes true (SIGINT/SIGTERM), the replay stops reading and ends as
  // at the end of the file: the last batch and a snapshot are committed, so a
  // rerun resumes after the last line applied. Checked once per line.
  const std::atomic<bool>* stop = nullptr;
};

struct ReplaySummary {
  EngineCounters counters;
  int64_t assets = 0;
  int64_t stale_assets = 0;
  int64_t bytes = 0;
  int64_t snapshots_written = 0;  // snapshot rounds: every snapshot_interval_ms, and one at the end
  int64_t snapshot_books = 0;     // books snapshotted in them (periodic rounds: the books that changed enough)
  int64_t pruned_rows = 0;
  StoreStats store;
  double seconds = 0;
  bool stopped = false;         // `stop` ended the replay before the end of the file
  int64_t stopped_at_line = 0;  // then: the last line applied (a rerun resumes after it)
};

// Thrown under --strict (and for I/O failures): the message names file:line.
class ReplayError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

ReplaySummary Replay(const ReplayOptions& options, BookEngine& engine);

}  // namespace polyhost

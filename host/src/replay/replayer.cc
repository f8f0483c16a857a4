#include "replay/replayer.h"

#include <filesystem>

#include "ingest/line_reader.h"

namespace polyhost {

ReplaySummary Replay(const ReplayOptions& options, BookEngine& engine) {
  const auto start = std::chrono::steady_clock::now();
  ReplaySummary summary;
  LineReader reader(options.path, options.max_line_bytes);
  FeedParser parser;
  ParsedLine parsed;
  ParseError error;

  int64_t source_id = 0;
  int64_t committed_line = 0;
  if (options.store != nullptr) {
    std::error_code ec;
    auto abs = std::filesystem::weakly_canonical(options.path, ec);
    source_id = options.store->RegisterSource(ec ? options.path : abs.string(), &committed_line);
  }

  WriteBatch batch;
  batch.source_id = source_id;
  WriteBatch* sink = options.store != nullptr ? &batch : nullptr;
  int64_t lines_in_batch = 0;
  int64_t next_snapshot_ts = 0;

  auto submit = [&](int64_t last_line) {
    if (options.store == nullptr) return;
    engine.CollectStatus(&batch);
    if (options.on_batch) options.on_batch(&batch);
    batch.last_line = last_line;
    options.store->Submit(std::move(batch));
    batch = WriteBatch{};
    batch.source_id = source_id;
    lines_in_batch = 0;
  };

  std::string_view line;
  bool too_long = false;
  while (reader.Next(&line, &too_long)) {
    const int64_t line_no = reader.line_number();
    if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) [[unlikely]] {
      summary.stopped = true;
      summary.stopped_at_line = line_no - 1;  // this line is not applied; a rerun starts here
      break;
    }
    bool ok;
    if (too_long) {
      ok = false;
      error.field.clear();
      error.reason = "line longer than " + std::to_string(options.max_line_bytes) + " bytes";
    } else {
      ok = parser.Parse(line.data(), line.size(), options.format, &parsed, &error);
    }
    if (!ok) {
      engine.CountMalformed();
      std::string msg = options.path + ":" + std::to_string(line_no) + ": " + error.ToString();
      if (options.strict) {
        // Keep what was accepted before the bad line, then stop.
        submit(line_no - 1);
        if (options.store != nullptr) options.store->Flush();
        throw ReplayError(msg);
      }
      if (options.on_warning) options.on_warning(msg);
    } else {
      engine.Apply(parsed, line_no, sink, line_no > committed_line);
      if (options.on_line) options.on_line(engine, parsed, line_no);
    }
    if (options.snapshot_interval_ms > 0 && sink != nullptr && engine.last_ts_ms() >= next_snapshot_ts) {
      if (next_snapshot_ts != 0) {
        summary.snapshot_books += static_cast<int64_t>(engine.CollectChangedSnapshots(engine.last_ts_ms(), &batch));
        ++summary.snapshots_written;
      }
      next_snapshot_ts = engine.last_ts_ms() + options.snapshot_interval_ms;
    }
    if (++lines_in_batch >= options.batch_lines) submit(line_no);
    if (options.on_progress && (line_no & 0xFFFF) == 0) options.on_progress(reader.bytes_read(), reader.file_size());
  }
  if (options.store != nullptr) {
    // persist_snapshot_now at the end, so `polyhost book` reads one snapshot plus nothing.
    const size_t before = batch.snapshots.size();
    engine.CollectSnapshots(engine.last_ts_ms(), &batch);
    summary.snapshot_books += static_cast<int64_t>(batch.snapshots.size() - before);
    ++summary.snapshots_written;
    submit(summary.stopped ? summary.stopped_at_line : reader.line_number());
    options.store->Flush();
    if (options.prune_keep_ms > 0 && engine.last_ts_ms() > options.prune_keep_ms) {
      summary.pruned_rows = options.store->PruneEventsBefore(engine.last_ts_ms() - options.prune_keep_ms);
    }
    summary.store = options.store->stats();
  }
  if (options.on_progress) options.on_progress(reader.bytes_read(), reader.file_size());

  summary.counters = engine.counters();
  summary.assets = static_cast<int64_t>(engine.asset_count());
  for (uint32_t k = 0; k < engine.asset_count(); ++k) summary.stale_assets += engine.asset(k).stale ? 1 : 0;
  summary.bytes = reader.bytes_read();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace polyhost

// polyhost replay FILE [MARKET] [--db-url URL] [--format auto|P|S] [--strict]
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/live_flags.h"
#include "cli/progress.h"
#include "replay/replayer.h"

namespace polyhost {
namespace {

struct ReplayFlags {
  CommonFlags common;
  std::string file;
  std::string market;
  std::string format = "auto";
  bool strict = false;
  bool json = false;
  bool no_db = false;
  int max_warnings = 20;
};

boost::json::object SummaryJson(const ReplayFlags& flags, const ReplaySummary& s) {
  boost::json::object by_type;
  for (int t = 0; t < kEventTypeCount; ++t) {
    if (s.counters.by_type[t] != 0) by_type[EventTypeName(static_cast<EventType>(t))] = s.counters.by_type[t];
  }
  boost::json::object o;
  o["file"] = flags.file;
  o["lines"] = s.counters.lines;
  o["events"] = s.counters.events;
  o["by_type"] = std::move(by_type);
  o["text_frames"] = s.counters.text_frames;
  o["blank_lines"] = s.counters.blank_lines;
  o["malformed"] = s.counters.malformed;
  o["continuity_breaks"] = s.counters.continuity_breaks;
  o["drift_checks_failed"] = s.counters.drift_checks_failed;
  o["ignored_changes"] = s.counters.ignored_changes;
  o["level_updates"] = s.counters.level_updates;
  o["assets"] = s.assets;
  o["stale_assets"] = s.stale_assets;
  o["events_written"] = s.store.events_written;
  o["events_already_stored"] = s.store.events_skipped;
  o["snapshots"] = s.snapshots_written;
  o["snapshot_books"] = s.snapshot_books;
  o["pruned_rows"] = s.pruned_rows;
  o["bytes"] = s.bytes;
  o["stopped"] = s.stopped;
  if (s.stopped) o["stopped_at_line"] = s.stopped_at_line;
  o["seconds"] = s.seconds;
  o["lines_per_second"] = s.seconds > 0 ? static_cast<double>(s.counters.lines) / s.seconds : 0.0;
  return o;
}

void PrintSummary(const ReplayFlags& flags, const ReplaySummary& s) {
  const auto& c = s.counters;
  std::printf("replay %s\n", flags.file.c_str());
  std::printf("  lines %lld (blank %lld, malformed %lld, text frames %lld), events %lld\n",
              static_cast<long long>(c.lines), static_cast<long long>(c.blank_lines),
              static_cast<long long>(c.malformed), static_cast<long long>(c.text_frames),
              static_cast<long long>(c.events));
  std::printf("  by type:");
  for (int t = 0; t < kEventTypeCount; ++t) {
    if (c.by_type[t] != 0) {
      std::printf(" %s=%lld", EventTypeName(static_cast<EventType>(t)), static_cast<long long>(c.by_type[t]));
    }
  }
  std::printf("\n  assets %lld, stale at end %lld, continuity breaks %lld (drift %lld), changes not applied %lld\n",
              static_cast<long long>(s.assets), static_cast<long long>(s.stale_assets),
              static_cast<long long>(c.continuity_breaks), static_cast<long long>(c.drift_checks_failed),
              static_cast<long long>(c.ignored_changes));
  if (!flags.no_db) {
    std::printf("  stored %lld event rows (%lld already stored), %lld snapshot sets (%lld books), pruned %lld\n",
                static_cast<long long>(s.store.events_written), static_cast<long long>(s.store.events_skipped),
                static_cast<long long>(s.snapshots_written), static_cast<long long>(s.snapshot_books),
                static_cast<long long>(s.pruned_rows));
  }
  if (s.stopped) {
    std::printf("  stopped by a signal after line %lld (a rerun resumes there)\n",
                static_cast<long long>(s.stopped_at_line));
  }
  std::printf("  %.3f s, %.0f lines/s, %.1f MB/s\n", s.seconds,
              s.seconds > 0 ? static_cast<double>(c.lines) / s.seconds : 0.0,
              s.seconds > 0 ? static_cast<double>(s.bytes) / s.seconds / 1e6 : 0.0);
}


}  // namespace

void AddReplayCommand(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<ReplayFlags>();
  CLI::App* cmd = app.add_subcommand("replay", "Replay a recorded feed into books and the database");
  cmd->add_option("FILE", flags->file, "JSON Lines recording (format P, S, or mixed)")->required();
  cmd->add_option("MARKET", flags->market, "market for format S lines that carry none");
  cmd->add_option("--format", flags->format, "auto|P|S (auto-detects per line)");
  cmd->add_flag("--strict", flags->strict, "stop at the first malformed line (exit 1) instead of skipping it");
  cmd->add_flag("--json", flags->json, "print the summary as JSON");
  cmd->add_flag("--no-db", flags->no_db, "books only: persist nothing");
  cmd->add_option("--max-warnings", flags->max_warnings, "malformed-line warnings to print (the rest are counted)");
  AddCommonFlags(cmd, &flags->common);
  registry.Add(cmd, [flags]() -> int {
    const FeedFormat format = ParseFeedFormatFlag(flags->format);
    LoadedConfig loaded = LoadConfigFor(flags->common);
    const Config& config = loaded.config;
    std::unique_ptr<Store> store;
    if (!flags->no_db) store = OpenStore(config, /*read_only=*/false);

    ReplayOptions options;
    options.path = flags->file;
    options.format = format;
    options.strict = flags->strict;
    options.store = store.get();
    options.snapshot_interval_ms = config.ingestion.snapshot_interval_ms;
    options.prune_keep_ms = config.ingestion.prune_keep_ms;
    // SIGINT/SIGTERM: stop reading, commit what was applied (with a snapshot),
    // print the summary, exit 0; a rerun resumes. A second signal exits 130.
    InstallStopSignals();
    options.stop = StopSignalFlag();
    int printed = 0;
    int64_t suppressed = 0;
    options.on_warning = [&](const std::string& msg) {
      if (printed < flags->max_warnings) {
        spdlog::warn("skipped malformed line: {}", msg);
        ++printed;
      } else {
        ++suppressed;
      }
    };
    ProgressBar progress("replay", !flags->json);
    BookEngine engine(flags->market);
    options.on_progress = [&](int64_t done, int64_t total) {
      progress.Update(done, total, engine.counters().lines);
    };
    ReplaySummary summary;
    try {
      summary = Replay(options, engine);
    } catch (const ReplayError& e) {
      progress.Finish();
      throw;
    }
    progress.Finish();
    if (suppressed > 0) spdlog::warn("{} more malformed lines not shown", suppressed);
    if (flags->json) {
      std::cout << boost::json::serialize(SummaryJson(*flags, summary)) << "\n";
    } else {
      PrintSummary(*flags, summary);
    }
    return 0;
  });
}

}  // namespace polyhost

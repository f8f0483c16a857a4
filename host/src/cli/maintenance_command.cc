// polyhost snapshot [--ts-ms TS]  and  polyhost prune --before TS_MS
#include <chrono>
#include <cstdio>

#include "cli/command.h"

namespace polyhost {

void AddMaintenanceCommands(CLI::App& app, CommandRegistry& registry) {
  struct Flags {
    CommonFlags common;
    int64_t ts_ms = 0;
    int64_t before = 0;
  };
  auto snap = std::make_shared<Flags>();
  CLI::App* snapshot = app.add_subcommand("snapshot", "Write a snapshot of every stored book (speeds up `book` and enables pruning)");
  snapshot->add_option("--ts-ms", snap->ts_ms, "snapshot time to record (default: now)");
  AddCommonFlags(snapshot, &snap->common);
  registry.Add(snapshot, [snap]() -> int {
    LoadedConfig loaded = LoadConfigFor(snap->common);
    auto store = OpenStore(loaded.config, /*read_only=*/false);
    int64_t ts = snap->ts_ms;
    if (ts == 0) {
      ts = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    }
    int64_t n = store->SnapshotFromStore(ts);
    std::printf("wrote %lld snapshots at ts_ms %lld\n", static_cast<long long>(n), static_cast<long long>(ts));
    return 0;
  });

  auto pr = std::make_shared<Flags>();
  CLI::App* prune = app.add_subcommand("prune", "Delete stored events older than a time that snapshots already cover");
  prune->add_option("--before", pr->before, "delete events with ts_ms before this (milliseconds since the epoch)")->required();
  AddCommonFlags(prune, &pr->common);
  registry.Add(prune, [pr]() -> int {
    if (pr->before <= 0) throw UsageError("--before must be a positive millisecond timestamp");
    LoadedConfig loaded = LoadConfigFor(pr->common);
    auto store = OpenStore(loaded.config, /*read_only=*/false);
    int64_t n = store->PruneEventsBefore(pr->before);
    std::printf("pruned %lld rows before ts_ms %lld\n", static_cast<long long>(n), static_cast<long long>(pr->before));
    return 0;
  });
}

}  // namespace polyhost

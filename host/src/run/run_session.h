// `polyhost run` and the plugin harness: a feed drives the books, every book
// change goes to the plugins subscribed to it, their plans pass the risk gate and
// go to the relayer, and everything (events, plans, orders, fills, decisions) is
// recorded.
//
// Thread: everything runs on the calling thread (the strategy thread); the store
// writes on its own writer thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "exec/real_relayer.h"
#include "exec/relayer.h"
#include "exec/risk_gate.h"
#include "ingest/feed_parser.h"
#include "live/live_source.h"
#include "plugin/plugin_host.h"
#include "replay/replayer.h"
#include "store/store.h"

namespace polyhost {

struct RunLiveStats;

struct RunOptions {
  std::string feed_path;
  FeedFormat format = FeedFormat::kAuto;
  bool strict = false;
  std::string default_market;
  std::vector<std::string> plugins;  // names (looked up in plugin_dirs) or paths
  std::vector<std::string> plugin_dirs;
  // Instance name -> the only markets it may subscribe to (PluginHost::RestrictMarkets;
  // run-service's [[markets]] plugins). A plugin not listed: any market.
  std::map<std::string, std::vector<std::string>> plugin_markets;
  const Config* config = nullptr;    // [plugin.<name>] sections, [ingestion] schedule
  Store* store = nullptr;            // null: nothing persisted
  std::string relayer = "fake";      // fake | paper | real
  bool dry_run = true;
  PaperOptions paper;
  // For relayer = "real" (dry_run above is copied into it). market_params is
  // filled in by the session from the live books and the catalog.
  RealRelayerOptions real;
  RiskLimits limits;
  std::vector<std::string> kill_switch;  // plugins whose plans are all rejected
  std::string run_id;                // prefixes plan ids in the database ("<run_id>:<n>")
  std::string catalog_path;          // Gamma markets JSON (events, ticks, minimum sizes); optional
  // Canonical JSON lines of plans, decisions, orders and fills (the harness output).
  std::function<void(const std::string&)> on_record;
  std::function<void(const std::string&)> on_warning;
  std::function<void(int64_t, int64_t)> on_progress;
  // polyhost run --ws: a live market feed instead of feed_path (its store and
  // hooks are the session's). Null: replay feed_path.
  const LiveOptions* live = nullptr;
  // Live counters for a metrics endpoint, called with on_progress (about every
  // 64k lines and at the end of the feed), never per event.
  std::function<void(const RunLiveStats&)> on_live_stats;
  // Where pauses asked through polyhost.control/1 (the tgbot's /pause) are
  // kept; read at start and applied to the kill switches, so a pause survives a
  // restart (docs/plugins/tgbot.md). Empty: in memory only.
  std::string pause_file;
  // Set: after the feed, keep the plugins running (a bot answers, control calls
  // are applied) until *hold_until becomes true (run --hold).
  const std::atomic<bool>* hold_until = nullptr;
  // A replayed feed (feed_path) stops reading when *stop becomes true
  // (SIGINT/SIGTERM) and ends as at the end of the file (ReplayOptions::stop).
  const std::atomic<bool>* stop = nullptr;
};

// polyhost_book_update_seconds times one feed line in this many (a power of two).
inline constexpr int64_t kBookUpdateSampleEvery = 64;

// What on_live_stats sees: the engine's plain counters and the plugins' states.
struct RunLiveStats {
  const EngineCounters* counters = nullptr;
  int64_t assets = 0;
  int64_t stale_assets = 0;
  std::vector<PluginInfo> plugins;
  std::map<std::string, int64_t> plugin_errors;  // error-level log lines per plugin (load failures, disabling calls)
  StoreStats store;  // zero without a store
  int64_t plans = 0;
  int64_t orders = 0;
  int64_t fills = 0;
  bool finished = false;  // the feed is done (the last call)
  const LiveSummary* feed = nullptr;  // run --ws: the websocket feed's counters (connections, resyncs, queue)
  // Book update to plugin dispatch done (plans through the gate), one line in
  // kBookUpdateSampleEvery timed: nanoseconds.
  LatencyHistogramNs book_update;
};

struct PluginRunStats {
  std::string name;
  int64_t plans = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  std::map<std::string, int64_t> rejects_by_reason;
  int64_t orders = 0;
  int64_t orders_filled = 0;     // orders that ended completely filled
  int64_t orders_cancelled = 0;  // cancelled (replaced, pulled, or IOC/FOK remainder)
  int64_t orders_rejected = 0;   // refused by the relayer
  int64_t fills = 0;
  int64_t filled_size = 0;
  int64_t fees_micros = 0;
  int64_t cash_micros = 0;          // − buys + sells − fees
  int64_t inventory_value_micros = 0;  // positions marked at mid at the end
  std::map<std::string, int64_t> positions;  // asset_id -> tokens (micro-units)
  int64_t pnl_micros() const { return cash_micros + inventory_value_micros; }
};

struct RunSummary {
  ReplaySummary replay;
  std::vector<PluginInfo> plugins;
  std::vector<PluginRunStats> stats;  // one per loaded plugin, same order as plugins (failed ones too)
  int64_t plans = 0;
  int64_t orders = 0;
  int64_t fills = 0;
  int64_t orders_cancelled_at_stop = 0;  // live runs: open orders cancelled when the feed stopped
};

// Throws std::runtime_error when a plugin fails to load (with the loader's reason)
// or the relayer type is not available; ReplayError under strict.
RunSummary RunFeed(const RunOptions& options);

// The [plugin.<name>] section of `config` as the plugin host hands it to the
// plugin (empty when the section is absent).
PluginConfig PluginConfigFor(const Config& config, const std::string& name);

}  // namespace polyhost

// polyhost ingest-ws WS_URL MARKET [--assets ...] [--max-messages N] [--record FILE] ...
//
// Connects to the venue's market channel (or a mock), keeps the books of the
// market's outcome tokens with REST resync, and persists events, snapshots and
// status like a replay (one store "source" per session).
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "cli/command.h"
#include "cli/live_flags.h"
#include "core/json_text.h"
#include "live/http_get.h"
#include "live/live_source.h"

namespace polyhost {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signals{0};

// First SIGINT/SIGTERM: stop intake and shut down cleanly (run --ws and
// run-service also cancel open orders). Second: exit at once with 130 (the store
// commits whole transactions only, so the database stays consistent).
void OnSignal(int) {
  if (g_signals.fetch_add(1) >= 1) _exit(130);
  g_stop.store(true);
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct IngestFlags {
  CommonFlags common;
  LiveFlags live;
  std::string ws_url;
  std::string market;
  std::string assets;
  int64_t max_messages = 0;
  std::string record;
  bool no_db = false;
  bool json = false;
};

boost::json::object SummaryJson(const LiveSummary& s) {
  boost::json::object o;
  o["messages"] = s.messages;
  o["events"] = s.counters.events;
  o["malformed"] = s.counters.malformed;
  o["assets"] = s.assets;
  o["stale_assets"] = s.stale_assets;
  o["continuity_breaks"] = s.counters.continuity_breaks;
  o["drift_checks_failed"] = s.counters.drift_checks_failed;
  o["connects"] = s.ws.connects;
  o["reconnects"] = s.ws.reconnects;
  o["shards"] = s.ws.shards;
  o["pings"] = s.ws.pings;
  o["resync_requests"] = s.resync_requests;
  o["resyncs"] = s.resyncs;
  o["resync_failures"] = s.resync_failures;
  o["gaps"] = s.gaps;
  o["dropped_frames"] = s.ws.dropped;
  o["watchdog_fires"] = s.watchdog_fires;
  o["stale_marks"] = s.stale_marks;
  o["queue_high_water"] = static_cast<int64_t>(s.queue_high_water);
  o["events_written"] = s.store.events_written;
  o["seconds"] = s.seconds;
  return o;
}

}  // namespace

void InstallStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const std::atomic<bool>* StopSignalFlag() { return &g_stop; }

void AddLiveFlags(CLI::App* cmd, LiveFlags* flags) {
  cmd->add_option("--clob-url", flags->clob_url, "CLOB REST base for book resync (default: [polymarket] clob_url)");
  cmd->add_flag("--insecure", flags->insecure,
                "TLS without certificate checks (wss:// and https://); for local test servers only");
  cmd->add_option("--ca-file", flags->ca_file,
                  "PEM CA certificates to trust (wss: besides the system store; REST: instead of it)");
  cmd->add_option("--max-per-connection", flags->max_per_connection,
                  "assets per websocket connection (the venue allows 500)")
      ->check(CLI::Range(1, 500));
}

LiveOptions MakeLiveOptions(const LiveFlags& flags, const Config& config, const std::string& ws_url) {
  LiveOptions o;
  o.ws.url = ws_url.empty() ? config.polymarket.ws_url : ws_url;
  o.ws.insecure = flags.insecure;
  o.ws.ca_file = flags.ca_file;
  o.ws.max_assets_per_connection = static_cast<size_t>(flags.max_per_connection);
  try {
    ParseWsUrl(o.ws.url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  o.clob_url = flags.clob_url.empty() ? config.polymarket.clob_url : flags.clob_url;
  HttpGetOptions http;
  http.insecure = flags.insecure;
  http.ca_file = flags.ca_file;
  o.http_get = MakeHttpGet(http);
  o.queue_capacity = static_cast<size_t>(config.ingestion.buffer_size);
  o.stale_after_ms = config.ingestion.stale_after_ms;
  o.snapshot_interval_ms = config.ingestion.snapshot_interval_ms;
  o.source_name = "live:" + o.ws.url + "@" +
                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  if (flags.insecure) spdlog::warn("--insecure: TLS certificates are NOT verified");
  return o;
}

void AddLiveCommands(CLI::App& app, CommandRegistry& registry) {
  AddRunServiceCommand(app, registry);

  auto f = std::make_shared<IngestFlags>();
  CLI::App* cmd = app.add_subcommand(
      "ingest-ws", "Ingest the live market channel (websocket + REST resync) into books and the database");
  cmd->add_option("WS_URL", f->ws_url, "ws:// or wss:// market-channel URL (\"-\": [polymarket] ws_url)")->required();
  cmd->add_option("MARKET", f->market, "condition id of the market")->required();
  cmd->add_option("--assets", f->assets,
                  "comma-separated outcome token ids (default: the market's tokens in the catalog, see refresh-markets)");
  cmd->add_option("--max-messages", f->max_messages, "stop after N websocket messages (default: until SIGINT)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--record", f->record, "also write every applied message as format P envelopes (with recv_ts_ms)");
  cmd->add_flag("--no-db", f->no_db, "persist nothing");
  cmd->add_flag("--json", f->json, "print the summary as JSON");
  AddLiveFlags(cmd, &f->live);
  AddCommonFlags(cmd, &f->common);
  registry.Add(cmd, [f]() -> int {
    LoadedConfig loaded = LoadConfigFor(f->common);
    const Config& config = loaded.config;
    LiveOptions o = MakeLiveOptions(f->live, config, f->ws_url == "-" ? "" : f->ws_url);
    for (const std::string& id : SplitComma(f->assets)) o.assets.push_back({f->market, id, ""});
    std::unique_ptr<Store> store;
    if (!f->no_db) store = OpenStore(config, false);
    if (o.assets.empty() && f->assets.empty()) {
      // The market's outcome tokens from the catalog (polyhost refresh-markets).
      std::unique_ptr<Store> catalog = store ? nullptr : OpenStore(config, true);
      for (const MarketRecord& m : (store ? store.get() : catalog.get())->ListMarkets(f->market)) {
        if (m.condition_id != f->market) continue;
        for (const std::string& id : m.asset_ids) o.assets.push_back({f->market, id, ""});
      }
      if (o.assets.empty()) {
        throw UsageError("market " + f->market + " is not in the catalog: run polyhost refresh-markets or give --assets");
      }
    }
    if (o.assets.empty()) throw UsageError("--assets: no token ids given");
    o.max_messages = f->max_messages;
    o.record_path = f->record;
    o.store = store.get();
    InstallStopSignals();
    o.stop_flag = StopSignalFlag();
    const bool tty = isatty(STDERR_FILENO) != 0 && !f->json;
    if (tty) {
      // A TTY gets a live line; logs and pipes get nothing until the summary.
      o.on_tick = [](const LiveSummary& s) {
        std::fprintf(stderr, "\ringest-ws: %lld messages, %lld resyncs, %lld reconnects   ",
                     static_cast<long long>(s.messages), static_cast<long long>(s.resyncs),
                     static_cast<long long>(s.ws.reconnects));
      };
    }
    LiveSource source(std::move(o));
    BookEngine engine(f->market);
    LiveSummary s = source.Run(engine);
    if (tty) std::fprintf(stderr, "\r\033[K");
    if (f->json) {
      std::cout << boost::json::serialize(SummaryJson(s)) << "\n";
    } else {
      std::printf("ingest-ws: %lld messages, %lld events, %lld assets (%lld stale), %lld malformed, %.3f s\n",
                  static_cast<long long>(s.messages), static_cast<long long>(s.counters.events),
                  static_cast<long long>(s.assets), static_cast<long long>(s.stale_assets),
                  static_cast<long long>(s.counters.malformed), s.seconds);
      std::printf("connections %lld (reconnects %lld, shards %lld), resyncs %lld of %lld requested (%lld failed)\n",
                  static_cast<long long>(s.ws.connects), static_cast<long long>(s.ws.reconnects),
                  static_cast<long long>(s.ws.shards), static_cast<long long>(s.resyncs),
                  static_cast<long long>(s.resync_requests), static_cast<long long>(s.resync_failures));
      std::printf("continuity breaks %lld (drift %lld), gaps %lld (%lld frames dropped), watchdog %lld\n",
                  static_cast<long long>(s.counters.continuity_breaks),
                  static_cast<long long>(s.counters.drift_checks_failed), static_cast<long long>(s.gaps),
                  static_cast<long long>(s.ws.dropped), static_cast<long long>(s.watchdog_fires));
    }
    return 0;
  });
}

}  // namespace polyhost

// polyhost run --plugins a,b,/path/libc.so --feed FILE ...
// polyhost harness --plugin NAME|PATH --feed FILE [--out plans.jsonl] [--expect golden.jsonl]
// polyhost plugins list
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <signal.h>

#include "cli/command.h"
#include "cli/metrics_command.h"
#include "cli/progress.h"
#include "cli/relayer_options.h"
#include "cli/run_options.h"
#include "core/decimal.h"
#include "core/json_text.h"
#include "cli/live_flags.h"
#include "plugin/control_extension.h"
#include "run/run_session.h"

namespace polyhost {
namespace {

struct RunFlags {
  CommonFlags common;
  std::string plugins;
  std::string feed;
  std::string market;
  std::string format = "auto";
  std::string relayer;
  std::string catalog;
  bool strict = false;
  bool json = false;
  bool no_db = false;
  int metrics_port = -1;  // -1: no metrics endpoint
  std::string metrics_host = "127.0.0.1";
  bool metrics_hold = false;
  bool hold = false;  // after the feed, keep the plugins (tgbot) running until a signal
  // harness
  std::string plugin;
  std::string out;
  std::string expect;
  // run --ws: a live feed instead of --feed
  std::string ws;
  std::string assets;
  int64_t max_messages = 0;
  LiveFlags live;
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}


RunOptions BaseOptions(const RunFlags& flags, const Config& config) {
  RunOptions o = RunOptionsFromConfig(config, flags.relayer);
  o.feed_path = flags.feed;
  o.format = ParseFeedFormatFlag(flags.format);
  o.strict = flags.strict;
  o.default_market = flags.market;
  o.catalog_path = flags.catalog;
  return o;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

}  // namespace

void AddRunCommands(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand("run", "Run strategy plugins on a feed: books → plugins → risk gate → relayer → storage");
  run->add_option("--plugins", flags->plugins, "comma-separated plugin names or .so paths (default: [strategy] switches)");
  run->add_option("--feed", flags->feed, "recorded feed (JSON Lines, format P/S)");
  run->add_option("--ws", flags->ws,
                  "live market channel instead of --feed: ws:// or wss:// URL, \"-\" for [polymarket] ws_url");
  run->add_option("--assets", flags->assets, "with --ws: comma-separated outcome token ids (market: --market)");
  run->add_option("--max-messages", flags->max_messages, "with --ws: stop after N messages (default: until SIGINT)")
      ->check(CLI::NonNegativeNumber);
  AddLiveFlags(run, &flags->live);
  run->add_option("--market", flags->market, "market for format S lines that carry none");
  run->add_option("--format", flags->format, "auto|P|S");
  run->add_option("--relayer", flags->relayer, "fake|paper|real (default: [relayer] type)");
  run->add_option("--catalog", flags->catalog, "Gamma markets JSON: neg-risk events, ticks, minimum sizes");
  run->add_flag("--strict", flags->strict, "stop at the first malformed line");
  run->add_flag("--json", flags->json, "print the summary as JSON");
  run->add_flag("--no-db", flags->no_db, "persist nothing");
  run->add_option("--metrics-port", flags->metrics_port,
                  "serve /metrics, /healthz, /readyz on this port while running (0: any free port, printed on stderr)")
      ->check(CLI::Range(0, 65535));
  run->add_option("--metrics-host", flags->metrics_host, "address for --metrics-port (default 127.0.0.1)");
  run->add_flag("--hold", flags->hold,
                "after the feed, keep the plugins running (the tgbot answers, /pause and /cancelall apply) "
                "until SIGINT/SIGTERM");
  run->add_flag("--metrics-hold", flags->metrics_hold,
                "after the feed, keep serving metrics until SIGINT/SIGTERM (needs --metrics-port)");
  AddCommonFlags(run, &flags->common);
  registry.Add(run, [flags]() -> int {
    LoadedConfig loaded = LoadConfigFor(flags->common);
    const Config& config = loaded.config;
    std::unique_ptr<Store> store;
    if (!flags->no_db) store = OpenStore(config, false);
    RunOptions o = BaseOptions(*flags, config);
    o.plugins = flags->plugins.empty() ? DefaultPlugins(config) : SplitList(flags->plugins);
    if (o.plugins.empty()) throw UsageError("no plugins: give --plugins or enable them in [strategy]");
    o.store = store.get();
    // Pauses asked through the control extension (tgbot /pause) survive a restart.
    if (store) o.pause_file = DefaultPauseFile(config.db.url);
    // SIGINT/SIGTERM end a replayed feed as at its end (the run's records and
    // a snapshot committed, the summary printed, exit 0; a rerun resumes), and
    // end --hold; a second signal exits 130 at once.
    InstallStopSignals();
    o.stop = StopSignalFlag();
    if (flags->hold) o.hold_until = StopSignalFlag();
    if (flags->feed.empty() == flags->ws.empty()) throw UsageError("give exactly one of --feed FILE and --ws URL");
    LiveOptions live;
    if (!flags->ws.empty()) {
      live = MakeLiveOptions(flags->live, config, flags->ws == "-" ? "" : flags->ws);
      for (const std::string& id : SplitList(flags->assets)) live.assets.push_back({flags->market, id, ""});
      if (live.assets.empty()) throw UsageError("--ws needs --assets (outcome token ids)");
      live.max_messages = flags->max_messages;
      InstallStopSignals();
      live.stop_flag = StopSignalFlag();
      o.live = &live;
    }
    if (flags->metrics_hold && flags->metrics_port < 0) throw UsageError("--metrics-hold needs --metrics-port");
    std::unique_ptr<RunMetricsEndpoint> metrics;
    if (flags->metrics_port >= 0) {
      // Database metrics from a SQLite file or PostgreSQL (not from :memory:).
      const DbUrl db_url = ParseDbUrl(config.db.url);
      const bool with_db =
          store != nullptr && !(db_url.backend == DbUrl::Backend::kSqlite && db_url.path == ":memory:");
      metrics = std::make_unique<RunMetricsEndpoint>(flags->metrics_host, static_cast<uint16_t>(flags->metrics_port),
                                                     config, with_db);
      std::fprintf(stderr, "run: metrics on http://%s:%u/metrics\n", flags->metrics_host.c_str(), metrics->port());
      o.on_live_stats = [&metrics](const RunLiveStats& live) { metrics->Publish(live); };
      metrics->SetReady(true);
    }
    ProgressBar progress("run", !flags->json);
    o.on_progress = [&](int64_t done, int64_t total) { progress.Update(done, total, done); };
    RunSummary s = RunFeed(o);
    progress.Finish();
    if (flags->json) {
      std::cout << boost::json::serialize(RunSummaryJson(s)) << "\n";
    } else {
      PrintRunSummary(s);
    }
    if (metrics && flags->metrics_hold) {
      std::fflush(stdout);
      // The stop handler only sets a flag, and any thread may take the signal
      // (threads started by the run do not block it), so poll the flag rather
      // than sigwait in this thread. With --ws it is already installed, and a
      // signal that stopped the run has already set it: exit then.
      if (o.live == nullptr) InstallStopSignals();
      if (!StopSignalFlag()->load()) {
        std::fprintf(stderr, "run: feed done; serving metrics until SIGINT/SIGTERM\n");
        while (!StopSignalFlag()->load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return 0;
  });

  auto h = std::make_shared<RunFlags>();
  CLI::App* harness = app.add_subcommand(
      "harness", "Run one plugin deterministically on a recording with the paper relayer; print the SHA-256 of its output");
  harness->add_option("--plugin", h->plugin, "plugin name or .so path")->required();
  harness->add_option("--feed", h->feed, "recorded feed")->required();
  harness->add_option("--market", h->market, "market for format S lines that carry none");
  harness->add_option("--catalog", h->catalog, "Gamma markets JSON: neg-risk events, ticks, minimum sizes");
  harness->add_option("--out", h->out, "write the canonical plans/orders/fills JSON lines here");
  harness->add_option("--expect", h->expect, "golden JSONL: exit 1 and show the first difference when the output differs");
  AddCommonFlags(harness, &h->common, /*with_db=*/false);
  registry.Add(harness, [h]() -> int {
    LoadedConfig loaded = LoadConfigFor(h->common);
    RunOptions o = BaseOptions(*h, loaded.config);
    o.plugins = {h->plugin};
    o.relayer = "paper";
    o.run_id = "harness";
    std::string output;
    std::vector<std::string> lines;
    o.on_record = [&](const std::string& line) {
      output += line;
      output += '\n';
      lines.push_back(line);
    };
    RunSummary s = RunFeed(o);
    for (const PluginInfo& info : s.plugins) {
      if (!info.failure.empty()) spdlog::warn("plugin {} was disabled: {}", info.name, info.failure);
    }
    if (!h->out.empty()) {
      std::ofstream f(h->out, std::ios::binary);
      f << output;
      if (!f) throw std::runtime_error(h->out + ": cannot write");
    }
    std::printf("%zu records, sha256 %s\n", lines.size(), Sha256Hex(output).c_str());
    if (!h->expect.empty()) {
      std::ifstream f(h->expect, std::ios::binary);
      if (!f) throw std::runtime_error(h->expect + ": cannot read");
      std::string want;
      size_t n = 0;
      while (std::getline(f, want)) {
        if (n >= lines.size()) {
          std::printf("first difference at record %zu: expected %s\n  got end of output\n", n + 1, want.c_str());
          return 1;
        }
        if (lines[n] != want) {
          std::printf("first difference at record %zu:\n  expected %s\n  got      %s\n", n + 1, want.c_str(),
                      lines[n].c_str());
          return 1;
        }
        ++n;
      }
      if (n != lines.size()) {
        std::printf("first difference at record %zu: expected end of output\n  got %s\n", n + 1, lines[n].c_str());
        return 1;
      }
      std::printf("output equals %s\n", h->expect.c_str());
    }
    return 0;
  });

  auto q = std::make_shared<RunFlags>();
  CLI::App* quoter = app.add_subcommand(
      "quoter-run", "Run the spread quoter on one outcome of a recorded feed and print the quote lifecycle");
  quoter->add_option("FILE", q->feed, "recorded feed")->required();
  quoter->add_option("MARKET", q->market, "market (condition id, or the format S market name)")->required();
  quoter->add_option("OUTCOME", q->plugin, "outcome token id to quote")->required();
  quoter->add_option("--relayer", q->relayer, "fake|paper (default: paper, so quotes can fill)");
  quoter->add_option("--catalog", q->catalog, "Gamma markets JSON (complement tokens, ticks)");
  quoter->add_flag("--json", q->json, "print the summary as JSON");
  quoter->add_flag("--no-db", q->no_db, "persist nothing");
  AddCommonFlags(quoter, &q->common);
  registry.Add(quoter, [q]() -> int {
    LoadedConfig loaded = LoadConfigFor(q->common);
    Config config = loaded.config;
    // Quote exactly this token; every other [plugin.spread] key keeps its value.
    config.plugin_sections["spread"]["assets"] =
        PluginSetting{PluginValueType::kArray, "[" + JsonQuoted(q->market + "/" + q->plugin) + "]"};
    config.plugin_sections["spread"].erase("markets");
    std::unique_ptr<Store> store;
    if (!q->no_db) store = OpenStore(config, false);
    RunFlags flags = *q;
    if (flags.relayer.empty()) flags.relayer = "paper";
    RunOptions o = BaseOptions(flags, config);
    o.plugins = {"spread"};
    o.store = store.get();
    RunSummary s = RunFeed(o);
    if (q->json) {
      std::cout << boost::json::serialize(RunSummaryJson(s)) << "\n";
      return 0;
    }
    const PluginRunStats& st = s.stats.empty() ? PluginRunStats{} : s.stats.front();
    std::printf("quoter-run %s %s/%s on the %s relayer\n", q->feed.c_str(), q->market.c_str(), q->plugin.c_str(),
                o.relayer.c_str());
    std::printf("  lines %lld, quotes placed %lld (plans %lld, rejected by the gate %lld)\n",
                static_cast<long long>(s.replay.counters.lines), static_cast<long long>(st.orders),
                static_cast<long long>(st.plans), static_cast<long long>(st.rejected));
    std::printf("  quotes ended: filled %lld, cancelled/replaced %lld, refused %lld, still open %lld\n",
                static_cast<long long>(st.orders_filled), static_cast<long long>(st.orders_cancelled),
                static_cast<long long>(st.orders_rejected),
                static_cast<long long>(st.orders - st.orders_filled - st.orders_cancelled - st.orders_rejected));
    std::printf("  fills %lld, volume %s, fees %s, cash %s, pnl at mid %s\n", static_cast<long long>(st.fills),
                FormatDecimal(st.filled_size).c_str(), FormatDecimal(st.fees_micros).c_str(),
                FormatDecimal(st.cash_micros).c_str(), FormatDecimal(st.pnl_micros()).c_str());
    for (const auto& [asset, qty] : st.positions) {
      std::printf("  position %s %s\n", asset.c_str(), FormatDecimal(qty).c_str());
    }
    for (const auto& [reason, n] : st.rejects_by_reason) {
      std::printf("  rejected %-22s %lld\n", reason.c_str(), static_cast<long long>(n));
    }
    if (!s.plugins.empty() && !s.plugins.front().failure.empty()) {
      std::printf("  spread was disabled: %s\n", s.plugins.front().failure.c_str());
      return 1;
    }
    return 0;
  });

  auto l = std::make_shared<RunFlags>();
  CLI::App* plugins = app.add_subcommand("plugins", "Inspect plugins");
  plugins->require_subcommand(1);
  CLI::App* list = plugins->add_subcommand("list", "Load each plugin found in [plugins] dirs (or given) and show what loaded and why not");
  list->add_option("--plugins", l->plugins, "comma-separated names or paths (default: every .so in the search dirs)");
  list->add_flag("--json", l->json, "machine-readable output");
  AddCommonFlags(list, &l->common, /*with_db=*/false);
  registry.Add(list, [l]() -> int {
    LoadedConfig loaded = LoadConfigFor(l->common);
    std::vector<std::string> specs = SplitList(l->plugins);
    const std::vector<std::string> dirs = PluginDirs(loaded.config);
    if (specs.empty()) {
      for (const std::string& dir : dirs) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
          if (entry.path().extension() == ".so") specs.push_back(entry.path().string());
        }
      }
      std::sort(specs.begin(), specs.end());
    }
    PluginHostOptions ho;
    for (const std::string& d : dirs) ho.search_dirs.emplace_back(d);
    ho.log = [](const PluginLogLine&) {};
    PluginHost host(std::move(ho));
    for (const std::string& spec : specs) host.Load(spec);
    std::vector<PluginInfo> infos = host.ListPlugins();
    if (l->json) {
      boost::json::array arr;
      for (const PluginInfo& i : infos) {
        arr.push_back({{"name", i.name}, {"id", i.id}, {"version", i.version}, {"abi_version", i.abi_version},
                       {"path", i.path}, {"state", PluginStateName(i.state)}, {"failure", i.failure}});
      }
      std::cout << boost::json::serialize(arr) << "\n";
      return 0;
    }
    if (infos.empty()) {
      std::printf("no plugins found in:");
      for (const std::string& d : dirs) std::printf(" %s", d.c_str());
      std::printf("\n");
      return 0;
    }
    std::printf("%-14s %-10s %-6s %-12s %s\n", "name", "version", "abi", "state", "path");
    for (const PluginInfo& i : infos) {
      std::printf("%-14s %-10s %-6s %-12s %s\n", i.name.c_str(), i.version.c_str(), i.abi_version.c_str(),
                  PluginStateName(i.state), i.path.c_str());
      if (!i.failure.empty()) std::printf("  failed: %s\n", i.failure.c_str());
    }
    return 0;
  });
}

}  // namespace polyhost

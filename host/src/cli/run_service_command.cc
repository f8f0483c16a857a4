// polyhost run-service --config FILE [--metrics-port N] [--json] ...
//
// Runs every [[markets]] entry of FILE concurrently in one live session: one
// LiveSource (a sharded websocket feed per URL, REST resync, watchdog) drives one
// book engine, the [service] plugins, the risk gate and the relayer (see
// run/service.h for why one session). secrets.local.toml beside FILE overrides
// [relayer] (the config loader's secrets layer); no secret is ever printed.
// The Gamma catalog is refreshed into the database on a thread of its own.
// SIGINT/SIGTERM: stop intake, cancel open orders, flush, snapshot, exit 0; a
// second signal exits at once (whole transactions only: the database stays
// consistent).
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "catalog/catalog_refresh.h"
#include "cli/command.h"
#include "cli/live_flags.h"
#include "cli/metrics_command.h"
#include "cli/run_options.h"
#include "live/http_get.h"
#include "plugin/control_extension.h"
#include "plugin/plugin_host.h"
#include "run/service.h"

namespace polyhost {
namespace {

struct ServiceFlags {
  CommonFlags common;
  LiveFlags live;
  std::string relayer;
  int metrics_port = -1;  // -1: no metrics endpoint
  std::string metrics_host = "127.0.0.1";
  bool no_db = false;
  bool json = false;
};

// "set by <layer>" for the relayer credentials, never their values.
std::string CredentialsNote(const LoadedConfig& loaded) {
  const RelayerConfig& r = loaded.config.relayer;
  std::string layers;
  const auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    auto it = loaded.source_of.find(std::string("relayer.") + key);
    const std::string layer = it == loaded.source_of.end() ? "default" : it->second;
    if (layers.find(layer) == std::string::npos) layers += (layers.empty() ? "" : ", ") + layer;
  };
  add("private_key", r.private_key);
  add("api_key", r.api_key);
  add("api_secret", r.api_secret);
  add("api_passphrase", r.api_passphrase);
  return layers.empty() ? "no credentials" : "credentials from " + layers;
}

}  // namespace

void AddRunServiceCommand(CLI::App& app, CommandRegistry& registry) {
  auto f = std::make_shared<ServiceFlags>();
  CLI::App* cmd = app.add_subcommand(
      "run-service", "Run strategy plugins on every [[markets]] entry of --config FILE, live and concurrently");
  cmd->add_option("--relayer", f->relayer, "fake|paper|real (default: [relayer] type, secrets.local.toml included)");
  cmd->add_option("--metrics-port", f->metrics_port,
                  "serve /metrics, /healthz, /readyz on this port while running (0: any free port, printed on stderr)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--metrics-host", f->metrics_host, "address for --metrics-port (default 127.0.0.1)");
  cmd->add_flag("--no-db", f->no_db, "persist nothing (no catalog refresh either)");
  cmd->add_flag("--json", f->json, "print the summary as JSON");
  AddLiveFlags(cmd, &f->live);
  AddCommonFlags(cmd, &f->common);
  registry.Add(cmd, [f]() -> int {
    if (f->common.config_file.empty()) {
      throw UsageError("run-service needs --config FILE with [[markets]] entries (see config/markets.example.toml)");
    }
    LoadedConfig loaded = LoadConfigFor(f->common);
    const Config& config = loaded.config;
    if (config.markets.empty()) {
      throw UsageError(f->common.config_file + ": no [[markets]] entries (see config/markets.example.toml)");
    }
    std::unique_ptr<Store> store;
    if (!f->no_db) store = OpenStore(config, false);

    RunOptions o = RunOptionsFromConfig(config, f->relayer);
    // [service] plugins plus the ones [[markets]] entries list; an entry's list
    // restricts its market to those plugins (run/service.h).
    const ServicePlugins plugins = PlanServicePlugins(
        config.markets, config.service.plugins.empty() ? DefaultPlugins(config) : config.service.plugins,
        f->common.config_file, [&](const std::string& spec) {
          if (spec.find('/') != std::string::npos || spec.ends_with(".so")) return std::filesystem::exists(spec);
          std::vector<std::filesystem::path> dirs(o.plugin_dirs.begin(), o.plugin_dirs.end());
          return FindPluginFile(spec, dirs).has_value();
        });
    if (!plugins.errors.empty()) {
      std::string all;
      for (const std::string& e : plugins.errors) all += (all.empty() ? "" : "\n") + e;
      throw UsageError(all);
    }
    o.plugins = plugins.plugins;
    o.plugin_markets = plugins.markets;
    if (o.plugins.empty()) throw UsageError("no plugins: set [service] plugins or enable them in [strategy]");
    for (const auto& [name, markets] : plugins.markets) {
      spdlog::info("run-service: plugin {} follows {} of {} markets ([[markets]] plugins)", name, markets.size(),
                   config.markets.size());
    }
    o.store = store.get();
    if (store) o.pause_file = DefaultPauseFile(config.db.url);

    LiveOptions live = MakeLiveOptions(f->live, config, "");
    ServiceFeed feed = PlanServiceFeed(config.markets, live.ws.url, [&](const std::string& market) {
      std::vector<std::string> tokens;
      if (!store) return tokens;
      try {
        for (const MarketRecord& m : store->ListMarkets(market)) {
          if (m.condition_id == market) tokens = m.asset_ids;
        }
      } catch (const StoreError& e) {
        spdlog::warn("run-service: catalog lookup of {}: {}", market, e.what());
      }
      return tokens;
    });
    for (const MarketEntry& m : config.markets) {
      if (m.ws_url.empty()) continue;
      try {
        ParseWsUrl(m.ws_url);
      } catch (const std::invalid_argument& e) {
        throw UsageError(f->common.config_file + ":" + std::to_string(m.line) + ": market " + m.market_id +
                         ": ws_url: " + e.what());
      }
    }
    for (const std::string& w : feed.warnings) spdlog::warn("run-service: {}", w);
    live.assets = feed.assets;
    live.on_demand = feed.on_demand;
    live.market_max_messages = feed.budgets;
    live.end_when_budgets_spent = feed.end_when_budgets_spent;
    live.source_name = "service:" + f->common.config_file + "@" + o.run_id;
    InstallStopSignals();
    live.stop_flag = StopSignalFlag();
    o.live = &live;

    std::unique_ptr<PeriodicCatalogRefresh> refresh;
    if (store && config.service.catalog_refresh_ms > 0 && !config.polymarket.gamma_url.empty()) {
      GammaFetchOptions g;
      g.gamma_url = config.polymarket.gamma_url;
      g.active_only = true;  // the service trades open markets
      HttpGetOptions http;
      http.insecure = f->live.insecure;
      http.ca_file = f->live.ca_file;
      g.get = MakeHttpGet(http);
      g.on_warning = [](const std::string& m) { spdlog::warn("catalog: {}", m); };
      refresh = std::make_unique<PeriodicCatalogRefresh>(*store, std::move(g), config.service.catalog_refresh_ms);
    }

    std::unique_ptr<RunMetricsEndpoint> metrics;
    if (f->metrics_port >= 0) {
      const DbUrl db_url = ParseDbUrl(config.db.url);
      const bool with_db =
          store != nullptr && !(db_url.backend == DbUrl::Backend::kSqlite && db_url.path == ":memory:");
      metrics = std::make_unique<RunMetricsEndpoint>(f->metrics_host, static_cast<uint16_t>(f->metrics_port), config,
                                                     with_db);
      std::fprintf(stderr, "run-service: metrics on http://%s:%u/metrics\n", f->metrics_host.c_str(), metrics->port());
      o.on_live_stats = [&metrics](const RunLiveStats& stats) { metrics->Publish(stats); };
      metrics->SetReady(true);
    }

    const auto subscribed = std::count_if(config.markets.begin(), config.markets.end(),
                                          [](const MarketEntry& m) { return m.subscribe; });
    std::fprintf(stderr, "run-service: %zu markets (%lld subscribed, %zu tokens on demand) on %zu feed(s); %zu plugin(s); "
                 "relayer %s (dry_run %s, %s)\n",
                 config.markets.size(), static_cast<long long>(subscribed), feed.on_demand.size(), feed.urls.size(),
                 o.plugins.size(), o.relayer.c_str(), o.dry_run ? "true" : "false", CredentialsNote(loaded).c_str());
    RunSummary s = RunFeed(o);
    PeriodicCatalogRefresh::Stats refreshed;
    if (refresh) {
      refresh->Stop();
      refreshed = refresh->stats();
    }
    if (f->json) {
      boost::json::object j = RunSummaryJson(s);
      j["markets"] = static_cast<int64_t>(config.markets.size());
      j["feeds"] = static_cast<int64_t>(feed.urls.size());
      j["relayer"] = o.relayer;
      j["dry_run"] = o.dry_run;
      j["orders_cancelled_at_stop"] = s.orders_cancelled_at_stop;
      j["stopped_by_signal"] = StopSignalFlag()->load();
      j["catalog_refreshes"] = refreshed.refreshes;
      j["catalog_refresh_failures"] = refreshed.failures;
      std::cout << boost::json::serialize(j) << "\n";
    } else {
      PrintRunSummary(s);
      std::printf("run-service: %zu markets on %zu feed(s), relayer %s; %lld open orders cancelled at stop; catalog "
                  "refreshes %lld (%lld failed)\n",
                  config.markets.size(), feed.urls.size(), o.relayer.c_str(),
                  static_cast<long long>(s.orders_cancelled_at_stop), static_cast<long long>(refreshed.refreshes),
                  static_cast<long long>(refreshed.failures));
    }
    return 0;
  });
}

}  // namespace polyhost

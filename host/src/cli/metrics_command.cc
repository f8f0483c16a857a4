// polyhost metrics [--json]            human table of what the database says (per market, per plugin)
// polyhost metrics-export              Prometheus text exposition on stdout
// polyhost metrics-serve --host H --port P   /metrics, /healthz, /readyz until SIGINT/SIGTERM
//
// A separate process cannot see another process's counters, so these read the
// database (obs/db_metrics.h); a running `polyhost run --metrics-port` adds its
// live counters (RunMetricsEndpoint). docs/operations.md lists every metric.
#include "cli/metrics_command.h"

#include <signal.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "core/decimal.h"
#include "obs/db_metrics.h"
#include "obs/logging.h"

namespace polyhost {
namespace {

constexpr const char* kVersion = "0.1.0";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The database behind [db] url (SQLite file or PostgreSQL); metrics read it on
// their own read-only connection.
DbUrl MetricsDbUrl(const Config& config) {
  DbUrl url;
  try {
    url = ParseDbUrl(config.db.url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--db-url / [db] url: ") + e.what());
  }
  if (url.backend == DbUrl::Backend::kSqlite && url.path == ":memory:") {
    throw UsageError("metrics need a database file, not sqlite:///:memory:");
  }
  return url;
}

void AddBuildInfo(obs::MetricsBuilder& out) {
  out.Gauge("polyhost_build_info", "Always 1; the version is a label.", {{"version", kVersion}}, 1);
}

std::string Age(int64_t now_ms, int64_t ts_ms) {
  if (ts_ms <= 0) return "-";
  const int64_t s = (now_ms - ts_ms) / 1000;
  if (s < 0) return "future";
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string Bytes(int64_t n) {
  char buf[32];
  if (n < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  } else if (n < int64_t{1024} * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1024 * 1024));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(n) / (1024.0 * 1024 * 1024));
  }
  return buf;
}

std::string PriceOrDash(int64_t micros) { return micros == 0 ? "-" : FormatDecimal(micros); }
std::string Micros(int64_t us) { return us < 0 ? "-" : std::to_string(us) + " us"; }

int64_t Get(const std::map<std::string, int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

void PrintMetricsTable(const obs::DbMetrics& m, const ExecTimings& t, const std::string& db, int64_t now_ms) {
  int64_t stale = 0;
  for (const obs::MarketMetrics& r : m.markets) stale += r.stale ? 1 : 0;
  std::printf("database %s: %s, %lld event rows, %lld snapshots, %lld sources (%lld lines committed)\n", db.c_str(),
              Bytes(m.db_size_bytes).c_str(), static_cast<long long>(m.event_rows),
              static_cast<long long>(m.snapshot_rows), static_cast<long long>(m.sources),
              static_cast<long long>(m.committed_lines));
  std::printf("assets %zu (%lld stale)\n", m.markets.size(), static_cast<long long>(stale));
  if (!m.markets.empty()) {
    std::printf("\n%-20s %-24s %10s %7s %-6s %8s %9s %9s %9s\n", "market", "asset", "events", "breaks", "state",
                "updated", "bid", "ask", "spread");
    for (const obs::MarketMetrics& r : m.markets) {
      const std::string spread = (r.best_bid != 0 && r.best_ask != 0) ? FormatDecimal(r.best_ask - r.best_bid) : "-";
      std::printf("%-20s %-24s %10lld %7lld %-6s %8s %9s %9s %9s\n", r.market.c_str(), r.asset_id.c_str(),
                  static_cast<long long>(r.events), static_cast<long long>(r.continuity_breaks),
                  r.stale ? "STALE" : "ok", (Age(now_ms, r.last_update_ts_ms) + " ago").c_str(),
                  PriceOrDash(r.best_bid).c_str(), PriceOrDash(r.best_ask).c_str(), spread.c_str());
    }
  }
  if (!m.plugins.empty()) {
    std::printf("\n%-14s %7s %8s %8s %7s %9s %6s %12s %10s %12s\n", "plugin", "plans", "accepted", "rejected",
                "orders", "refused", "fills", "volume", "fees", "pnl (mid)");
    for (const obs::PluginMetrics& p : m.plugins) {
      int64_t orders = 0;
      for (const auto& [status, n] : p.orders_by_status) orders += n;
      std::printf("%-14s %7lld %8lld %8lld %7lld %9lld %6lld %12s %10s %12s\n", p.plugin.c_str(),
                  static_cast<long long>(Get(p.plans_by_decision, "accepted") + Get(p.plans_by_decision, "rejected")),
                  static_cast<long long>(Get(p.plans_by_decision, "accepted")),
                  static_cast<long long>(Get(p.plans_by_decision, "rejected")), static_cast<long long>(orders),
                  static_cast<long long>(Get(p.orders_by_status, "rejected")), static_cast<long long>(p.fills),
                  FormatDecimal(p.filled_size).c_str(), FormatDecimal(p.fees).c_str(), FormatDecimal(p.pnl()).c_str());
      for (const auto& [reason, n] : p.rejects_by_reason) {
        std::printf("  rejected %-22s %lld\n", reason.c_str(), static_cast<long long>(n));
      }
      for (const auto& [asset, qty] : p.inventory) {
        if (qty != 0) {
          std::printf("  inventory %s/%s %s\n", asset.first.c_str(), asset.second.c_str(), FormatDecimal(qty).c_str());
        }
      }
    }
  }
  std::printf("\nengine: %lld plans; event->plan p50 %s p99 %s; plan->ack p50 %s p99 %s\n",
              static_cast<long long>(t.plans), Micros(t.event_to_plan_p50_us).c_str(),
              Micros(t.event_to_plan_p99_us).c_str(), Micros(t.plan_to_ack_p50_us).c_str(),
              Micros(t.plan_to_ack_p99_us).c_str());
}

boost::json::object MetricsJson(const obs::DbMetrics& m, const ExecTimings& t, int64_t now_ms) {
  boost::json::object o;
  o["db_size_bytes"] = m.db_size_bytes;
  o["event_rows"] = m.event_rows;
  o["snapshot_rows"] = m.snapshot_rows;
  o["sources"] = m.sources;
  o["committed_lines"] = m.committed_lines;
  boost::json::array markets;
  for (const obs::MarketMetrics& r : m.markets) {
    markets.push_back({{"market", r.market}, {"asset_id", r.asset_id}, {"events", r.events},
                       {"continuity_breaks", r.continuity_breaks}, {"stale", r.stale},
                       {"last_update_ts_ms", r.last_update_ts_ms},
                       {"seconds_since_update", r.last_update_ts_ms > 0 ? (now_ms - r.last_update_ts_ms) / 1000 : -1},
                       {"best_bid", r.best_bid == 0 ? boost::json::value(nullptr) : boost::json::value(FormatDecimal(r.best_bid))},
                       {"best_ask", r.best_ask == 0 ? boost::json::value(nullptr) : boost::json::value(FormatDecimal(r.best_ask))}});
  }
  o["markets"] = std::move(markets);
  boost::json::array plugins;
  for (const obs::PluginMetrics& p : m.plugins) {
    boost::json::object j;
    j["plugin"] = p.plugin;
    boost::json::object plans, rejects, orders;
    for (const auto& [k, n] : p.plans_by_decision) plans[k] = n;
    for (const auto& [k, n] : p.rejects_by_reason) rejects[k] = n;
    for (const auto& [k, n] : p.orders_by_status) orders[k] = n;
    j["plans"] = std::move(plans);
    j["rejects_by_reason"] = std::move(rejects);
    j["orders_by_status"] = std::move(orders);
    j["fills"] = p.fills;
    j["volume"] = FormatDecimal(p.filled_size);
    j["fees"] = FormatDecimal(p.fees);
    j["pnl_at_mid"] = FormatDecimal(p.pnl());
    boost::json::array inventory;
    for (const auto& [asset, qty] : p.inventory) {
      inventory.push_back({{"market", asset.first}, {"asset_id", asset.second}, {"size", FormatDecimal(qty)}});
    }
    j["inventory"] = std::move(inventory);
    plugins.push_back(std::move(j));
  }
  o["plugins"] = std::move(plugins);
  o["engine"] = {{"plans", t.plans},
                 {"event_to_plan_p50_us", t.event_to_plan_p50_us},
                 {"event_to_plan_p99_us", t.event_to_plan_p99_us},
                 {"plan_to_ack_p50_us", t.plan_to_ack_p50_us},
                 {"plan_to_ack_p99_us", t.plan_to_ack_p99_us}};
  return o;
}

struct MetricsFlags {
  CommonFlags common;
  bool json = false;
  std::string host = "127.0.0.1";
  uint16_t port = 9464;
};

}  // namespace

void AddDatabaseMetrics(obs::MetricsBuilder& out, const Config& config) {
  obs::AddDbMetrics(out, obs::ReadDbMetrics(MetricsDbUrl(config)), NowMs());
}

void AddRunLiveMetrics(obs::MetricsBuilder& out, const RunLiveStats& live) {
  const EngineCounters& c = *live.counters;
  out.Counter("polyhost_feed_lines_total", "Feed lines read (blank and malformed included).", {},
              static_cast<double>(c.lines));
  for (int i = 0; i < kEventTypeCount; ++i) {
    out.Counter("polyhost_feed_messages_total", "Feed messages applied, per event type.",
                {{"type", EventTypeName(static_cast<EventType>(i))}}, static_cast<double>(c.by_type[i]));
  }
  out.Counter("polyhost_feed_parse_errors_total", "Malformed feed lines (counted and skipped).", {},
              static_cast<double>(c.malformed));
  out.Counter("polyhost_continuity_breaks_total", "Times an asset went from fresh to stale.", {},
              static_cast<double>(c.continuity_breaks));
  out.Counter("polyhost_drift_checks_failed_total", "best_bid/best_ask fields that disagreed with the book.", {},
              static_cast<double>(c.drift_checks_failed));
  out.Counter("polyhost_ignored_changes_total", "Level changes not applied (no book yet, or stale).", {},
              static_cast<double>(c.ignored_changes));
  out.Counter("polyhost_level_updates_total", "Book levels set or removed.", {}, static_cast<double>(c.level_updates));
  out.Gauge("polyhost_run_assets", "Assets with a book in this process.", {}, static_cast<double>(live.assets));
  out.Gauge("polyhost_run_stale_assets", "Assets whose book is stale in this process.", {},
            static_cast<double>(live.stale_assets));
  out.Counter("polyhost_run_plans_total", "Plans submitted by plugins in this process.", {},
              static_cast<double>(live.plans));
  out.Counter("polyhost_run_orders_total", "Orders created in this process.", {}, static_cast<double>(live.orders));
  out.Counter("polyhost_run_fills_total", "Fills in this process.", {}, static_cast<double>(live.fills));
  out.Counter("polyhost_store_batches_total", "Write batches committed by the store's writer thread.", {},
              static_cast<double>(live.store.batches));
  out.Counter("polyhost_store_events_written_total", "Event rows written.", {},
              static_cast<double>(live.store.events_written));
  out.Counter("polyhost_store_events_skipped_total", "Event rows skipped as already committed (resumed feeds).", {},
              static_cast<double>(live.store.events_skipped));
  out.Counter("polyhost_store_queue_full_waits_total",
              "Times the feed waited for the writer because its bounded queue was full (back-pressure).", {},
              static_cast<double>(live.store.queue_full_waits));
  out.Gauge("polyhost_store_queue_depth", "Write batches waiting for the store's writer thread.", {},
            static_cast<double>(live.store.queue_depth));
  out.Gauge("polyhost_store_queue_high_water", "Most write batches waiting for the writer at once.", {},
            static_cast<double>(live.store.queue_high_water));
  out.Histogram("polyhost_store_write_latency_seconds",
                "Time to write one batch to the database, begin to commit (timed per batch).", {},
                obs::ToHistogramData(live.store.write_latency, 1e-9));
  out.Histogram("polyhost_store_batch_events", "Event rows per committed database batch.", {},
                obs::ToHistogramData(live.store.batch_events, 1.0));
  out.Histogram("polyhost_book_update_seconds",
                "Time from a feed line's book update to the end of its dispatch to the subscribed plugins "
                "(plans through the risk gate included); one line in 64 is timed.",
                {}, obs::ToHistogramData(live.book_update, 1e-9));
  out.Gauge("polyhost_store_mean_batch_events",
            "Event rows per committed batch, averaged over the run.", {},
            live.store.batches > 0 ? static_cast<double>(live.store.events_written) / live.store.batches : 0.0);
  int64_t disabled = 0;
  for (const PluginInfo& p : live.plugins) {
    const bool failed = p.state == PluginState::kFailed;
    disabled += failed ? 1 : 0;
    out.Gauge("polyhost_plugin_disabled", "1 when the plugin was refused at load or disabled after an error.",
              {{"plugin", p.name}}, failed ? 1 : 0);
    out.Counter("polyhost_plugin_callbacks_total", "Callbacks delivered to the plugin.", {{"plugin", p.name}},
                static_cast<double>(p.callbacks));
  }
  for (const auto& [plugin, n] : live.plugin_errors) {
    out.Counter("polyhost_plugin_errors_total", "Errors reported by or about the plugin (each disabling one included).",
                {{"plugin", plugin}}, static_cast<double>(n));
  }
  out.Gauge("polyhost_plugins_disabled", "Plugins refused or disabled after an error.", {},
            static_cast<double>(disabled));
  out.Gauge("polyhost_run_feed_finished", "1 once the run has read its whole feed.", {}, live.finished ? 1 : 0);
}

void AddLiveFeedMetrics(obs::MetricsBuilder& out, const LiveSummary& live) {
  RunLiveStats engine;
  engine.counters = &live.counters;
  engine.assets = live.assets;
  engine.stale_assets = live.stale_assets;
  engine.store = live.store;
  AddRunLiveMetrics(out, engine);
  AddFeedConnectionMetrics(out, live);
}

void AddFeedConnectionMetrics(obs::MetricsBuilder& out, const LiveSummary& live) {
  out.Counter("polyhost_ws_frames_total", "Websocket text frames received.", {}, static_cast<double>(live.ws.frames));
  out.Counter("polyhost_ws_received_bytes_total", "Websocket payload bytes received.", {},
              static_cast<double>(live.ws.bytes));
  out.Counter("polyhost_ws_connects_total", "Websocket connections established.", {},
              static_cast<double>(live.ws.connects));
  out.Counter("polyhost_ws_reconnects_total", "Websocket connections after a shard's first one.", {},
              static_cast<double>(live.ws.reconnects));
  out.Counter("polyhost_ws_disconnects_total", "Websocket connections lost or refused.", {},
              static_cast<double>(live.ws.disconnects));
  out.Gauge("polyhost_ws_shards", "Websocket connections (shards) opened.", {}, static_cast<double>(live.ws.shards));
  out.Counter("polyhost_resync_requests_total", "REST book fetches requested to resync stale assets.", {},
              static_cast<double>(live.resync_requests));
  out.Counter("polyhost_resyncs_total", "REST books applied (assets resynced).", {}, static_cast<double>(live.resyncs));
  out.Counter("polyhost_resync_failures_total", "REST book fetches that failed.", {},
              static_cast<double>(live.resync_failures));
  out.Counter("polyhost_feed_queue_overflows_total", "Frames dropped because the feed queue was full.", {},
              static_cast<double>(live.queue_overflows));
  out.Counter("polyhost_feed_gaps_total", "Runs of dropped frames (each marks assets stale).", {},
              static_cast<double>(live.gaps));
  out.Gauge("polyhost_feed_queue_high_water", "Most frames waiting in the feed queue at once.", {},
            static_cast<double>(live.queue_high_water));
  out.Counter("polyhost_watchdog_fires_total", "Shards silent for stale_after_ms (reconnected).", {},
              static_cast<double>(live.watchdog_fires));
  out.Counter("polyhost_stale_marks_total", "Assets marked stale by disconnects, gaps and the watchdog.", {},
              static_cast<double>(live.stale_marks));
}

RunMetricsEndpoint::RunMetricsEndpoint(const std::string& host, uint16_t port, const Config& config, bool with_db)
    : config_(config), with_db_(with_db) {
  obs::MetricsHandlers h;
  h.metrics = [this] { return Scrape(); };
  h.ready = [this](std::string* why) {
    std::lock_guard<std::mutex> lock(mu_);
    *why = why_not_ready_;
    return ready_;
  };
  server_ = std::make_unique<obs::MetricsServer>(host, port, std::move(h));
}

void RunMetricsEndpoint::Publish(const RunLiveStats& live) {
  std::lock_guard<std::mutex> lock(mu_);
  live_ = live;
  counters_ = *live.counters;
  live_.counters = &counters_;
  live_.feed = nullptr;
  have_live_ = true;
  if (live.feed != nullptr) {
    live_feed_ = *live.feed;
    have_live_feed_ = true;
  }
}

void RunMetricsEndpoint::PublishLive(const LiveSummary& live) {
  std::lock_guard<std::mutex> lock(mu_);
  live_feed_ = live;
  have_live_feed_ = true;
}

void RunMetricsEndpoint::SetReady(bool ready, std::string why_not) {
  std::lock_guard<std::mutex> lock(mu_);
  ready_ = ready;
  why_not_ready_ = std::move(why_not);
}

std::string RunMetricsEndpoint::Scrape() {
  obs::MetricsBuilder live;
  AddBuildInfo(live);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (have_live_) {
      AddRunLiveMetrics(live, live_);
      if (have_live_feed_) AddFeedConnectionMetrics(live, live_feed_);
    } else if (have_live_feed_) {
      AddLiveFeedMetrics(live, live_feed_);
    }
  }
  if (!with_db_) return live.Text();
  obs::MetricsBuilder db;
  AddDatabaseMetrics(db, config_);
  return obs::ExpositionText({&live, &db});
}

void AddMetricsCommands(CLI::App& app, CommandRegistry& registry) {
  auto m = std::make_shared<MetricsFlags>();
  CLI::App* metrics = app.add_subcommand(
      "metrics", "What the database says: per market (events, breaks, staleness, quotes) and per plugin (plans, orders, fills, PnL)");
  metrics->add_flag("--json", m->json, "machine-readable output");
  AddCommonFlags(metrics, &m->common);
  registry.Add(metrics, [m]() -> int {
    LoadedConfig loaded = LoadConfigFor(m->common);
    const obs::DbMetrics dbm = obs::ReadDbMetrics(MetricsDbUrl(loaded.config));
    ExecTimings timings;
    if (dbm.schema_version >= 2) timings = OpenStore(loaded.config, /*read_only=*/true)->ExecutionTimings();
    const int64_t now = NowMs();
    if (m->json) {
      std::cout << boost::json::serialize(MetricsJson(dbm, timings, now)) << "\n";
    } else {
      PrintMetricsTable(dbm, timings, ParseDbUrl(loaded.config.db.url).redacted, now);
    }
    return 0;
  });

  auto e = std::make_shared<MetricsFlags>();
  CLI::App* exp = app.add_subcommand("metrics-export", "Print the database-derived metrics in the Prometheus text format");
  AddCommonFlags(exp, &e->common);
  registry.Add(exp, [e]() -> int {
    LoadedConfig loaded = LoadConfigFor(e->common);
    obs::MetricsBuilder out;
    AddBuildInfo(out);
    AddDatabaseMetrics(out, loaded.config);
    std::cout << out.Text();
    std::cout.flush();
    return std::cout ? 0 : 1;
  });

  auto s = std::make_shared<MetricsFlags>();
  CLI::App* serve = app.add_subcommand(
      "metrics-serve", "Serve /metrics (from the database), /healthz and /readyz until SIGINT or SIGTERM");
  serve->add_option("--host", s->host, "address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)");
  serve->add_option("--port", s->port, "TCP port; 0 picks a free one (printed on stdout)");
  AddCommonFlags(serve, &s->common);
  registry.Add(serve, [s]() -> int {
    LoadedConfig loaded = LoadConfigFor(s->common);
    const Config& config = loaded.config;
    const DbUrl url = MetricsDbUrl(config);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // from here on only sigwait sees them
    obs::MetricsHandlers h;
    h.metrics = [&config] {
      obs::MetricsBuilder out;
      AddBuildInfo(out);
      AddDatabaseMetrics(out, config);
      return out.Text();
    };
    h.ready = [url](std::string* why) {
      try {
        obs::ReadDbMetrics(url);
        return true;
      } catch (const std::exception& ex) {
        *why = ex.what();
        return false;
      }
    };
    obs::MetricsServer server(s->host, s->port, std::move(h));
    std::printf("metrics-serve: listening on http://%s:%u (/metrics, /healthz, /readyz)\nport %u\n", s->host.c_str(),
                server.port(), server.port());
    std::fflush(stdout);
    obs::LogWith(*obs::ModuleLogger("metrics"), spdlog::level::info, "metrics-serve listening",
                 {{"host", s->host}, {"port", std::to_string(server.port())}});
    int sig = 0;
    sigwait(&stop, &sig);
    server.Stop();
    obs::LogWith(*obs::ModuleLogger("metrics"), spdlog::level::info, "metrics-serve stopped",
                 {{"signal", std::to_string(sig)}});
    return 0;
  });
}

}  // namespace polyhost

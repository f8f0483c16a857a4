// The metrics endpoint of a running process (`run --metrics-port`; run-service
// takes the same flag): the run's live counters, published at progress
// boundaries, plus the metrics derived from its database, served on /metrics,
// /healthz and /readyz.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.h"
#include "live/live_source.h"
#include "obs/http_server.h"
#include "obs/metrics.h"
#include "run/run_session.h"

namespace polyhost {

// Adds the database-derived metrics of config's [db] url (SQLite file or
// PostgreSQL) to out. Throws UsageError for sqlite:///:memory:.
void AddDatabaseMetrics(obs::MetricsBuilder& out, const Config& config);

// Adds the live counters of a run (feed lines, messages by type, parse errors,
// continuity breaks, store batches and back-pressure, plugin states).
void AddRunLiveMetrics(obs::MetricsBuilder& out, const RunLiveStats& live);

// Adds the counters of a live websocket feed (run-service, issue #6): frames,
// connects/reconnects/disconnects, resyncs, queue overflow and high-water mark,
// watchdog fires, plus the engine and store counters it carries.
void AddLiveFeedMetrics(obs::MetricsBuilder& out, const LiveSummary& live);
// Only the connection part of that (frames, reconnects, resyncs, queue), for a
// run whose engine counters come from RunLiveStats.
void AddFeedConnectionMetrics(obs::MetricsBuilder& out, const LiveSummary& live);

class RunMetricsEndpoint {
 public:
  // Starts serving on host:port (0: any free port); with_db adds the database
  // metrics to each scrape.
  RunMetricsEndpoint(const std::string& host, uint16_t port, const Config& config, bool with_db);
  uint16_t port() const { return server_->port(); }

  // Keeps a copy of the live counters for the next scrape.
  void Publish(const RunLiveStats& live);
  // The same for a live feed (LiveOptions::on_tick, about every 250 ms).
  void PublishLive(const LiveSummary& live);
  // /readyz answers 200 once ready (plugins loaded, feed running).
  void SetReady(bool ready, std::string why_not = "");

 private:
  std::string Scrape();

  const Config& config_;
  bool with_db_;
  std::mutex mu_;
  RunLiveStats live_;
  EngineCounters counters_;
  bool have_live_ = false;
  LiveSummary live_feed_;
  bool have_live_feed_ = false;
  bool ready_ = false;
  std::string why_not_ready_ = "starting";
  std::unique_ptr<obs::MetricsServer> server_;
};

}  // namespace polyhost

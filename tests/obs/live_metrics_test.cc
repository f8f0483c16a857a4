// The live counters a running process publishes (run --metrics-port, and the
// websocket feed's LiveSummary for run-service) become well-named metrics with
// the right values.
#include <catch2/catch.hpp>

#include "cli/metrics_command.h"

namespace polyhost {
namespace {

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST_CASE("live feed summary becomes websocket, resync, queue and engine metrics") {
  LiveSummary s;
  s.counters.lines = 120;
  s.counters.malformed = 2;
  s.counters.by_type[static_cast<size_t>(EventType::kBook)] = 7;
  s.counters.by_type[static_cast<size_t>(EventType::kPriceChange)] = 100;
  s.assets = 6;
  s.stale_assets = 1;
  s.ws.frames = 118;
  s.ws.bytes = 4096;
  s.ws.connects = 3;
  s.ws.reconnects = 2;
  s.ws.disconnects = 2;
  s.ws.shards = 1;
  s.resync_requests = 4;
  s.resyncs = 3;
  s.resync_failures = 1;
  s.queue_overflows = 9;
  s.gaps = 1;
  s.queue_high_water = 65536;
  s.watchdog_fires = 1;
  s.stale_marks = 6;
  s.store.batches = 4;
  s.store.events_written = 100;
  s.store.queue_full_waits = 5;
  obs::MetricsBuilder b;
  AddLiveFeedMetrics(b, s);
  const std::string t = b.Text();
  CHECK(Has(t, "polyhost_feed_lines_total 120"));
  CHECK(Has(t, "polyhost_feed_parse_errors_total 2"));
  CHECK(Has(t, "polyhost_feed_messages_total{type=\"book\"} 7"));
  CHECK(Has(t, "polyhost_feed_messages_total{type=\"price_change\"} 100"));
  CHECK(Has(t, "polyhost_ws_reconnects_total 2"));
  CHECK(Has(t, "polyhost_ws_received_bytes_total 4096"));
  CHECK(Has(t, "polyhost_resyncs_total 3"));
  CHECK(Has(t, "polyhost_resync_failures_total 1"));
  CHECK(Has(t, "polyhost_feed_queue_overflows_total 9"));
  CHECK(Has(t, "polyhost_feed_queue_high_water 65536"));
  CHECK(Has(t, "polyhost_watchdog_fires_total 1"));
  CHECK(Has(t, "polyhost_store_queue_full_waits_total 5"));
  CHECK(Has(t, "polyhost_store_mean_batch_events 25"));
  CHECK(Has(t, "polyhost_run_stale_assets 1"));
}

TEST_CASE("run live stats report disabled plugins") {
  EngineCounters c;
  RunLiveStats live;
  live.counters = &c;
  PluginInfo ok;
  ok.name = "spread";
  ok.state = PluginState::kActive;
  ok.callbacks = 12;
  PluginInfo bad;
  bad.name = "broken";
  bad.state = PluginState::kFailed;
  bad.failure = "on_book returned PH_ERR_INTERNAL";
  live.plugins = {ok, bad};
  live.plugin_errors = {{"broken", 2}};
  live.finished = true;
  obs::MetricsBuilder b;
  AddRunLiveMetrics(b, live);
  const std::string t = b.Text();
  CHECK(Has(t, "polyhost_plugin_disabled{plugin=\"broken\"} 1"));
  CHECK(Has(t, "polyhost_plugin_disabled{plugin=\"spread\"} 0"));
  CHECK(Has(t, "polyhost_plugins_disabled 1"));
  CHECK(Has(t, "polyhost_plugin_errors_total{plugin=\"broken\"} 2"));
  CHECK(Has(t, "polyhost_plugin_callbacks_total{plugin=\"spread\"} 12"));
  CHECK(Has(t, "polyhost_run_feed_finished 1"));
}

}  // namespace
}  // namespace polyhost

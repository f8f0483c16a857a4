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

TEST_CASE("fixed histograms count each value in the first bucket whose bound holds it") {
  LatencyHistogramNs h;
  h.Observe(1'000);        // exactly 1 us: the first bucket (le is inclusive)
  h.Observe(1'001);        // just above: the second
  h.Observe(20'000'000);   // 20 ms: le 0.1
  h.Observe(60'000'000'000);  // 60 s: +Inf
  CHECK(h.counts[0] == 1);
  CHECK(h.counts[1] == 1);
  CHECK(h.counts[13] == 1);
  CHECK(h.counts.back() == 1);
  CHECK(h.count() == 4);
  CHECK(h.sum == 1'000 + 1'001 + 20'000'000 + 60'000'000'000);
  LatencyHistogramNs g;
  g.Observe(1'000);
  g.Merge(h);
  CHECK(g.counts[0] == 2);
  CHECK(g.count() == 5);
}

TEST_CASE("store and book latency histograms, queue depth and batch sizes are exported in base units") {
  EngineCounters c;
  RunLiveStats live;
  live.counters = &c;
  live.store.batches = 3;
  live.store.events_written = 2500;
  live.store.write_latency.Observe(2'000'000);   // 2 ms
  live.store.write_latency.Observe(3'000'000);   // 3 ms
  live.store.write_latency.Observe(40'000'000);  // 40 ms
  live.store.batch_events.Observe(100);
  live.store.batch_events.Observe(400);
  live.store.batch_events.Observe(2000);
  live.store.queue_depth = 2;
  live.store.queue_high_water = 7;
  for (int i = 0; i < 5; ++i) live.book_update.Observe(3'000);  // 3 us
  obs::MetricsBuilder b;
  AddRunLiveMetrics(b, live);
  const std::string t = b.Text();
  CHECK(Has(t, "polyhost_store_write_latency_seconds_count 3"));
  CHECK(t.find("polyhost_store_write_latency_seconds_sum 0.045") != std::string::npos);  // 0.045 (+ rounding)
  CHECK(Has(t, "polyhost_store_write_latency_seconds_bucket{le=\"0.001\"} 0"));
  CHECK(Has(t, "polyhost_store_write_latency_seconds_bucket{le=\"0.0025\"} 1"));
  CHECK(Has(t, "polyhost_store_write_latency_seconds_bucket{le=\"0.005\"} 2"));
  CHECK(Has(t, "polyhost_store_write_latency_seconds_bucket{le=\"0.1\"} 3"));
  CHECK(Has(t, "polyhost_store_batch_events_count 3"));
  CHECK(Has(t, "polyhost_store_batch_events_sum 2500"));
  CHECK(Has(t, "polyhost_store_batch_events_bucket{le=\"100\"} 1"));
  CHECK(Has(t, "polyhost_store_batch_events_bucket{le=\"500\"} 2"));
  CHECK(Has(t, "polyhost_store_batch_events_bucket{le=\"2500\"} 3"));
  CHECK(Has(t, "polyhost_store_queue_depth 2"));
  CHECK(Has(t, "polyhost_store_queue_high_water 7"));
  CHECK(Has(t, "polyhost_book_update_seconds_count 5"));
  CHECK(Has(t, "polyhost_book_update_seconds_bucket{le=\"2.5e-06\"} 0"));
  CHECK(Has(t, "polyhost_book_update_seconds_bucket{le=\"5e-06\"} 5"));
}

}  // namespace
}  // namespace polyhost

#include "obs/metrics.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "obs/db_metrics.h"
#include "obs/http_server.h"
#include "store/store.h"

namespace polyhost::obs {
namespace {

namespace fs = std::filesystem;

TEST_CASE("metric names follow the Prometheus conventions") {
  CHECK(CheckMetricName("polyhost_fills_total", 'c').empty());
  CHECK(CheckMetricName("polyhost_db_size_bytes", 'g').empty());
  CHECK_FALSE(CheckMetricName("fills_total", 'c').empty());
  CHECK_FALSE(CheckMetricName("polyhost_fills", 'c').empty());
  CHECK_FALSE(CheckMetricName("polyhost_queue_total", 'g').empty());
  CHECK_FALSE(CheckMetricName("polyhost_latency_ms", 'h').empty());
  CHECK_FALSE(CheckMetricName("polyhost_Fills_total", 'c').empty());
  MetricsBuilder b;
  CHECK_THROWS_AS(b.Counter("polyhost_fills", "x", {}, 1), std::invalid_argument);
  b.Gauge("polyhost_x", "x", {}, 1);
  CHECK_THROWS_AS(b.Counter("polyhost_x", "x", {}, 1), std::invalid_argument);
}

TEST_CASE("builder renders counters, gauges and histograms as exposition text") {
  MetricsBuilder b;
  b.Counter("polyhost_fills_total", "Fills.", {{"plugin", "spread"}}, 7);
  b.Gauge("polyhost_pnl_usdc", "PnL.", {{"plugin", "spread"}}, -1.5);
  HistogramData h;
  h.bounds = {0.001, 0.01};
  h.Observe(0.0005);
  h.Observe(0.005);
  h.Observe(5);
  b.Histogram("polyhost_event_to_plan_seconds", "Latency.", {}, h);
  const std::string text = b.Text();
  CHECK(text.find("# TYPE polyhost_fills_total counter") != std::string::npos);
  CHECK(text.find("polyhost_fills_total{plugin=\"spread\"} 7") != std::string::npos);
  CHECK(text.find("polyhost_pnl_usdc{plugin=\"spread\"} -1.5") != std::string::npos);
  CHECK(text.find("polyhost_event_to_plan_seconds_bucket{le=\"0.001\"} 1") != std::string::npos);
  CHECK(text.find("polyhost_event_to_plan_seconds_bucket{le=\"0.01\"} 2") != std::string::npos);
  CHECK(text.find("polyhost_event_to_plan_seconds_bucket{le=\"+Inf\"} 3") != std::string::npos);
  CHECK(text.find("polyhost_event_to_plan_seconds_count 3") != std::string::npos);
  CHECK(h.count() == 3);
}

// A database with two assets of one market, one plan accepted (order + fill)
// and one rejected, written through the real store.
std::string MakeDb(const fs::path& dir) {
  const std::string path = (dir / "m.db").string();
  auto store = Store::Open(ParseDbUrl("sqlite:///" + path));
  WriteBatch b;
  b.new_assets = {{0, "mkt-1", "yes"}, {1, "mkt-1", "no"}};
  b.status = {{0, 1'700'000'000'000, 3, 480'000, 520'000, false, 3, 0},
              {1, 1'700'000'001'000, 2, 0, 0, true, 2, 1}};
  AuditRow ok{"r:1", "spread", "accepted", "", "[]", 120, 40, 1};
  AuditRow rej{"r:2", "spread", "rejected", "crossed_book", "[]", 80, -1, 2};
  b.audits = {ok, rej};
  OrderRow o;
  o.plan_id = "r:1";
  o.plugin = "spread";
  o.asset_key = 0;
  o.side = Side::kBid;
  o.price = 500'000;
  o.size = 10'000'000;
  o.tif = "GTC";
  o.status = "filled";
  o.relayer = "fake";
  o.filled = 10'000'000;
  o.ts_ms = 1;
  b.orders = {o};
  b.fills = {{"r:1", 0, 500'000, 10'000'000, 10'000, 1}};
  store->Submit(std::move(b));
  store->Flush();
  return path;
}

TEST_CASE("database metrics: per market, per plugin, latencies and storage") {
  const fs::path dir = fs::temp_directory_path() / ("obs_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const DbMetrics m = ReadDbMetrics(MakeDb(dir));
  REQUIRE(m.markets.size() == 2);
  CHECK(m.markets[1].asset_id == "yes");
  CHECK(m.markets[1].events == 3);
  CHECK(m.markets[0].stale);
  CHECK(m.markets[0].continuity_breaks == 1);
  REQUIRE(m.plugins.size() == 1);
  const PluginMetrics& p = m.plugins[0];
  CHECK(p.plans_by_decision.at("accepted") == 1);
  CHECK(p.rejects_by_reason.at("crossed_book") == 1);
  CHECK(p.fills == 1);
  CHECK(p.cash == -5'000'000 - 10'000);       // bought 10 at 0.50, fee 0.01
  CHECK(p.inventory_value == 5'000'000);      // 10 at mid 0.50
  CHECK(p.pnl() == -10'000);
  CHECK(m.event_to_plan.count() == 2);
  CHECK(m.plan_to_ack.count() == 1);
  CHECK(m.db_size_bytes > 0);

  MetricsBuilder b;
  AddDbMetrics(b, m, 1'700'000'010'000);
  const std::string text = b.Text();
  CHECK(text.find("polyhost_market_events_total{asset=\"yes\",market=\"mkt-1\"} 3") != std::string::npos);
  CHECK(text.find("polyhost_market_stale{asset=\"no\",market=\"mkt-1\"} 1") != std::string::npos);
  CHECK(text.find("polyhost_market_seconds_since_update{asset=\"yes\",market=\"mkt-1\"} 10") != std::string::npos);
  CHECK(text.find("polyhost_plans_total{decision=\"rejected\",plugin=\"spread\"} 1") != std::string::npos);
  CHECK(text.find("polyhost_plan_rejects_total{plugin=\"spread\",reason=\"crossed_book\"} 1") != std::string::npos);
  CHECK(text.find("polyhost_inventory_shares{asset=\"yes\",market=\"mkt-1\",plugin=\"spread\"} 10") !=
        std::string::npos);
  CHECK(text.find("polyhost_pnl_usdc{plugin=\"spread\"} -0.01") != std::string::npos);
  CHECK(text.find("polyhost_event_to_plan_seconds_count 2") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("database metrics refuse a missing or foreign file, naming it") {
  CHECK_THROWS_WITH(ReadDbMetrics("/nonexistent/x.db"), Catch::Contains("/nonexistent/x.db"));
}

std::pair<int, std::string> Get(uint16_t port, const std::string& target) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(s, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  return {res.result_int(), res.body()};
}

TEST_CASE("metrics server answers /metrics, /healthz, /readyz on an ephemeral port") {
  std::atomic<bool> ready{false};
  MetricsHandlers h;
  h.metrics = [] { return std::string("polyhost_up 1\n"); };
  h.ready = [&](std::string* why) {
    *why = "replay not started";
    return ready.load();
  };
  MetricsServer server("127.0.0.1", 0, h);
  REQUIRE(server.port() != 0);
  CHECK(Get(server.port(), "/metrics") == std::make_pair(200, std::string("polyhost_up 1\n")));
  CHECK(Get(server.port(), "/healthz").first == 200);
  CHECK(Get(server.port(), "/readyz") == std::make_pair(503, std::string("not ready: replay not started\n")));
  ready = true;
  CHECK(Get(server.port(), "/readyz").first == 200);
  CHECK(Get(server.port(), "/nope").first == 404);
  server.Stop();
  CHECK_THROWS_AS(MetricsServer("not-an-ip", 0, h), std::runtime_error);
}

}  // namespace
}  // namespace polyhost::obs

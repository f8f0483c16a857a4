// run_feed() (sdk/include/polyhost/sdk/testing.hpp) against the built polyhost
// and dutchbook.so, which polyhost_add_plugin_test() puts in the environment as
// POLYHOST_EXECUTABLE and POLYHOST_PLUGIN_UNDER_TEST. The working directory is
// tests/sdk, so "testdata/..." is tests/sdk/testdata/.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <polyhost/sdk/testing.hpp>

using namespace polyhost::sdk;
using namespace polyhost::sdk::testing;

namespace {

const std::string kSample = std::string(POLYHOST_SOURCE_DIR) + "/recordings/sample.jsonl";
const std::string kSampleGolden = std::string(POLYHOST_SOURCE_DIR) + "/tests/plugins/golden/dutchbook_sample.jsonl";
// A binary market: YES asks 0.45 x 100, NO asks 0.50 x 100, bids below, not crossed.
const std::string kBasket = "testdata/binary_basket.jsonl";

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the sample recording: one dutchbook plan, rejected on a crossed book, no orders") {
  const FeedResult r = run_feed(kSample);
  REQUIRE(r.plans.size() == 1);
  CHECK(r.orders.empty());
  CHECK(r.order_count() == 0);
  CHECK(r.fills.empty());

  const PlanRecord& p = r.plans[0];
  CHECK(p.plan_id == 1);
  CHECK(p.ts_ms == 1763000001300);
  CHECK(p.plugin == "dutchbook");
  CHECK(p.tag == "dutchbook:market:mkt-1");
  CHECK_FALSE(p.accepted);
  CHECK(p.decision == "rejected");
  CHECK(p.reject == "crossed_book");
  CHECK(p.reason == "leg 1 (buy 40 @ 0.47): book is crossed");
  REQUIRE(p.legs.size() == 2);
  CHECK(p.legs[0].market == "mkt-1");
  CHECK(p.legs[0].asset_id == "yes");
  CHECK(p.legs[0].side == Side::kBuy);
  CHECK(p.legs[0].price == 520'000);
  CHECK(p.legs[0].price_text == "0.52");
  CHECK(p.legs[0].size == 40'000'000);
  CHECK(p.legs[0].size_text == "40");
  CHECK(p.legs[0].tif == Tif::kFok);
  CHECK(p.legs[1].asset_id == "no");
  CHECK(p.legs[1].price == 470'000);
  CHECK(p.legs[1].size == 40'000'000);

  CHECK(r.accepted_count() == 0);
  CHECK(r.rejected_count() == 1);
  CHECK(r.rejected_count("crossed_book") == 1);
  CHECK(r.exit_code == 0);
  CHECK(r.disabled.empty());
  CHECK(r.sha256.size() == 64);
  CHECK(r.log.find("plugin 'dutchbook' loaded") != std::string::npos);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0] + "\n" == ReadFile(kSampleGolden));
}

TEST_CASE("a binary basket: accepted, both FOK legs filled by the paper relayer at the asks") {
  const FeedResult r = run_feed(kBasket);
  REQUIRE(r.plans.size() == 1);
  const PlanRecord& p = r.plans[0];
  CHECK(p.accepted);
  CHECK(p.decision == "accepted");
  CHECK(p.reject.empty());
  CHECK(p.reason.empty());
  CHECK(p.ts_ms == 1763100000100);  // when the second book arrived
  CHECK(p.tag == "dutchbook:market:mkt-basket");
  REQUIRE(p.legs.size() == 2);
  CHECK(p.legs[0].market == "mkt-basket");
  CHECK(p.legs[0].asset_id == "yes");
  CHECK(p.legs[0].side == Side::kBuy);
  CHECK(p.legs[0].price == 450'000);
  CHECK(p.legs[0].price_text == "0.45");
  CHECK(p.legs[0].size == 100'000'000);
  CHECK(p.legs[0].tif == Tif::kFok);
  CHECK(p.legs[1].asset_id == "no");
  CHECK(p.legs[1].price == 500'000);
  CHECK(p.legs[1].price_text == "0.5");
  CHECK(p.legs[1].size == 100'000'000);
  CHECK(p.legs[1].size_text == "100");
  CHECK(p.legs[1].tif == Tif::kFok);

  // Two orders, one per leg, each acked then filled.
  CHECK(r.order_count() == 2);
  REQUIRE(r.orders.size() == 4);
  CHECK(r.orders[0].state == "acked");
  CHECK(r.orders[0].remaining == 100'000'000);
  CHECK(r.orders[0].remaining_text == "100");
  for (const OrderRecord& o : r.final_orders()) {
    CHECK(o.plan_id == 1);
    CHECK(o.state == "filled");
    CHECK(o.filled == 100'000'000);
    CHECK(o.filled_text == "100");
    CHECK(o.remaining == 0);
  }
  CHECK(r.final_orders()[0].leg == 0);
  CHECK(r.final_orders()[1].leg == 1);
  CHECK(r.orders_for(1, 1).size() == 2);

  // The fills add up to the plan's size on each leg, at the asks, as a taker.
  REQUIRE(r.fills.size() == 2);
  CHECK(r.fills[0].leg == 0);
  CHECK(r.fills[0].price == 450'000);
  CHECK(r.fills[0].size == 100'000'000);
  CHECK(r.fills[0].fee == 0);
  CHECK(r.fills[0].fee_text == "0");
  CHECK_FALSE(r.fills[0].maker);
  CHECK(r.fills[1].leg == 1);
  CHECK(r.fills[1].price == 500'000);
  CHECK(r.fills[1].price_text == "0.5");
  CHECK(r.fills[1].size == 100'000'000);
  CHECK(r.filled_size(1, 0) == p.legs[0].size);
  CHECK(r.filled_size(1, 1) == p.legs[1].size);
  CHECK(r.filled_size(1) == 200'000'000);
  CHECK(r.fills_for(1, 0).size() == 1);
  int64_t cost = 0;
  for (const FillRecord& f : r.fills) cost += f.price * f.size / kMicros;
  CHECK(cost == 95'000'000);  // 95 USDC for 100 baskets paying 100
}

TEST_CASE("run_feed is deterministic and can keep its output") {
  const std::filesystem::path out = std::filesystem::temp_directory_path() / "polyhost_sdk_run_feed_test_out.jsonl";
  const FeedResult a = run_feed(kBasket, {.out = out.string()});
  const FeedResult b = run_feed(kBasket);
  CHECK(a.sha256 == b.sha256);
  CHECK(a.lines == b.lines);
  std::string joined;
  for (const std::string& l : a.lines) joined += l + "\n";
  CHECK(ReadFile(out.string()) == joined);
  std::filesystem::remove(out);
  // The golden file of the sample, as `polyhost harness --expect` checks it.
  CHECK(run_feed(kSample, {.expect = kSampleGolden}).plans.size() == 1);
}

TEST_CASE("run_feed passes a config to the plugin") {
  const FeedResult r = run_feed(kBasket, {.config_toml = "[plugin.dutchbook]\nmax_size = 50\n"});
  REQUIRE(r.plans.size() == 1);
  CHECK(r.plans[0].accepted);
  CHECK(r.plans[0].legs[0].size == 50'000'000);
  CHECK(r.filled_size(1) == 100'000'000);

  const std::filesystem::path config = std::filesystem::temp_directory_path() / "polyhost_sdk_run_feed_test.toml";
  {
    std::ofstream f(config);
    f << "[plugin.dutchbook]\nmax_size = 20\n";
  }
  CHECK(run_feed(kBasket, {.config = config.string()}).plans.at(0).legs.at(1).size == 20'000'000);
  std::filesystem::remove(config);
}

TEST_CASE("run_feed isolates the harness from the caller's POLYHOST_* variables unless asked") {
  ::setenv("POLYHOST_RISK_MAX_ORDER_NOTIONAL_USDC", "10", 1);
  const FeedResult isolated = run_feed(kBasket);
  const FeedResult inherited = run_feed(kBasket, {.inherit_polyhost_env = true});
  ::unsetenv("POLYHOST_RISK_MAX_ORDER_NOTIONAL_USDC");
  CHECK(isolated.accepted_count() == 1);
  REQUIRE(inherited.plans.size() == 1);
  CHECK(inherited.rejected_count("max_order_notional") == 1);

  const FeedResult given = run_feed(kBasket, {.env = {{"POLYHOST_RISK_MAX_ORDER_NOTIONAL_USDC", "10"}}});
  REQUIRE(given.plans.size() == 1);
  CHECK(given.plans[0].reject == "max_order_notional");
  CHECK(given.plans[0].reason == "leg 0 (buy 100 @ 0.45): notional 45 > max 10");
  CHECK(given.order_count() == 0);
}

TEST_CASE("run_feed errors carry the harness's stderr") {
  SECTION("a plugin that does not exist: the harness fails") {
    try {
      run_feed(kSample, {.plugin = "/nonexistent/dir/missing.so"});
      FAIL("run_feed did not throw");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      CHECK(what.find("exited with status 1") != std::string::npos);
      CHECK(what.find("file not found: /nonexistent/dir/missing.so") != std::string::npos);
    }
    const FeedResult r = run_feed(kSample, {.plugin = "/nonexistent/dir/missing.so", .check_exit = false});
    CHECK(r.exit_code == 1);
    CHECK(r.plans.empty());
    CHECK(r.log.find("file not found") != std::string::npos);
  }
  SECTION("no polyhost executable") {
    CHECK_THROWS_WITH(run_feed(kSample, {.polyhost = "/nonexistent/polyhost"}),
                      Catch::Contains("/nonexistent/polyhost") && Catch::Contains("does not exist"));
    const std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    const std::string saved = std::getenv("POLYHOST_EXECUTABLE") != nullptr ? std::getenv("POLYHOST_EXECUTABLE") : "";
    ::unsetenv("POLYHOST_EXECUTABLE");
    ::setenv("PATH", "/nonexistent", 1);
    CHECK_THROWS_WITH(run_feed(kSample), Catch::Contains("cannot find the polyhost executable"));
    ::setenv("PATH", path.c_str(), 1);
    ::setenv("POLYHOST_EXECUTABLE", saved.c_str(), 1);
  }
  SECTION("a feed that does not exist") {
    CHECK_THROWS_WITH(run_feed("testdata/no_such_feed.jsonl"), Catch::Contains("no such feed"));
  }
  SECTION("a golden file that differs") {
    try {
      run_feed(kBasket, {.expect = kSampleGolden});
      FAIL("run_feed did not throw");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("first difference at record 1") != std::string::npos);
    }
  }
  SECTION("a plugin disabled during the run") {
    try {
      run_feed("testdata/one_book.jsonl", {.plugin = THROWS_PLUGIN});
      FAIL("run_feed did not throw");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      CHECK(what.find("the plugin was disabled: ") != std::string::npos);
      CHECK(what.find("exploding on purpose") != std::string::npos);  // the plugin's own log line
    }
    const FeedResult r = run_feed("testdata/one_book.jsonl", {.plugin = THROWS_PLUGIN, .allow_disabled = true});
    CHECK(r.exit_code == 0);
    CHECK(r.plans.empty());
    CHECK(r.disabled.find("PH_ERR_EXCEPTION") != std::string::npos);
  }
  SECTION("a bad config is reported") {
    CHECK_THROWS_WITH(run_feed(kBasket, {.config_toml = "[risk]\nmax_open_orders = \"many\"\n"}),
                      Catch::Contains("exited with status") && Catch::Contains("max_open_orders"));
  }
}

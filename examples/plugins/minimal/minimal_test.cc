// A test of the minimal strategy through `polyhost harness`: the real minimal.so,
// a recorded feed, the paper relayer. Built and registered by
// polyhost_add_plugin_test() in CMakeLists.txt; run it with ctest.
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>  // Catch2 v3
#else
#include <catch2/catch.hpp>  // Catch2 v2
#endif

#include <polyhost/sdk/testing.hpp>

using namespace polyhost::sdk;
using namespace polyhost::sdk::testing;

TEST_CASE("minimal improves a wide bid by one tick and is filled when the ask comes down") {
  // bid 0.40, ask 0.45; then an ask at 0.41 reaches the resting bid.
  const FeedResult r = run_feed("testdata/wide_spread.jsonl", {.config = "testdata/minimal.toml"});

  REQUIRE(r.plans.size() == 1);
  const PlanRecord& plan = r.plans[0];
  CHECK(plan.accepted);
  CHECK(plan.tag == "improve-bid");
  REQUIRE(plan.legs.size() == 1);
  CHECK(plan.legs[0].side == Side::kBuy);
  CHECK(plan.legs[0].price == 410'000);  // 0.40 + one tick
  CHECK(plan.legs[0].size == 5 * kMicros);
  CHECK(plan.legs[0].tif == Tif::kGtc);

  REQUIRE(r.fills.size() == 1);
  CHECK(r.fills[0].maker);  // it rested, then the book came to it
  CHECK(r.fills[0].price_text == "0.41");
  CHECK(r.filled_size(plan.plan_id) == plan.legs[0].size);
  CHECK(r.final_orders().at(0).state == "filled");
}

TEST_CASE("minimal stays quiet when the spread is narrow") {
  const FeedResult r = run_feed("testdata/wide_spread.jsonl", {.config_toml = R"(
[plugin.minimal]
market = "0xexample"
asset_id = "yes"
min_spread = 0.10
)"});
  CHECK(r.plans.empty());
}

#include "basket.h"

#include <catch2/catch.hpp>

namespace polyhost::dutchbook {
namespace {

using Side = std::vector<AskLevel>;

Basket Size(const std::vector<Side>& legs, BasketParams p) {
  std::vector<std::span<const AskLevel>> views(legs.begin(), legs.end());
  return SizeBasket(views, p);
}

TEST_CASE("no edge, no basket") {
  auto b = Size({{{510000, 100'000000}}, {{490000, 100'000000}}}, {});
  CHECK_FALSE(b.tradable());
  CHECK(b.best_sum == 1'000000);
}

TEST_CASE("binary edge 0.51 + 0.47 walks levels until the edge closes") {
  BasketParams p;
  p.min_profit_micros = 0;
  p.max_size_micros = 1'000'000'000;
  p.max_cost_micros = 1'000'000'000;
  // Leg A: 10 @ 0.51 then 100 @ 0.53; leg B: 30 @ 0.47 then 5 @ 0.48.
  auto b = Size({{{510000, 10'000000}, {530000, 100'000000}}, {{470000, 30'000000}, {480000, 5'000000}}}, p);
  // 10 units at 0.98, then 0.53+0.47 = 1.00 stops.
  CHECK(b.size == 10'000000);
  CHECK(b.cost_micros == 9'800000);
  CHECK(b.profit_micros == 200000);
  CHECK(b.legs[0].limit_price == 510000);
  CHECK(b.legs[1].limit_price == 470000);
}

TEST_CASE("six-outcome basket, exact integers, fees and caps") {
  std::vector<Side> legs(6, Side{{160000, 50'000000}, {170000, 50'000000}});
  BasketParams p;
  p.min_profit_micros = 20'000;
  p.max_size_micros = 1'000'000'000;
  p.max_cost_micros = 1'000'000'000;
  // 6 x 0.16 = 0.96 per set; 6 x 0.17 = 1.02 stops: 50 sets, profit 2.
  auto b = Size(legs, p);
  CHECK(b.size == 50'000000);
  CHECK(b.profit_micros == 2'000000);
  // With a fee of 100 bps: fee per token 0.01*0.16*0.84 = 0.001344, x6 = 0.008064.
  p.fee_rate_bps = 100;
  b = Size(legs, p);
  CHECK(b.size == 50'000000);
  CHECK(b.fees_micros == 6 * 67200);
  CHECK(b.profit_micros == 2'000000 - 6 * 67200);
  // Threshold 0.05 > edge 0.04: nothing.
  p.fee_rate_bps = 0;
  p.edge_threshold_micros = 50'000;
  CHECK_FALSE(Size(legs, p).tradable());
  // Cost cap: 4.80 USDC buys 5 sets (0.96 each).
  p.edge_threshold_micros = 0;
  p.max_cost_micros = 4'800000;
  b = Size(legs, p);
  CHECK(b.size == 5'000000);
  CHECK(b.cost_micros + b.fees_micros <= 4'800000);
  // Min profit above what the cap allows: nothing.
  p.min_profit_micros = 300'000;
  CHECK_FALSE(Size(legs, p).tradable());
}

TEST_CASE("an empty leg or a single leg never trades") {
  CHECK_FALSE(Size({{{100000, 1'000000}}, {}}, {}).tradable());
  CHECK_FALSE(Size({{{100000, 1'000000}}}, {}).tradable());
}

TEST_CASE("sizes round down to lots") {
  BasketParams p;
  p.min_profit_micros = 0;
  p.lot_micros = 1'000000;
  auto b = Size({{{400000, 2'500000}}, {{400000, 10'000000}}}, p);
  CHECK(b.size == 2'000000);
}

}  // namespace
}  // namespace polyhost::dutchbook

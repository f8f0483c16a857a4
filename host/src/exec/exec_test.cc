#include <catch2/catch.hpp>

#include <vector>

#include "exec/plan.h"
#include "exec/relayer.h"
#include "exec/risk_gate.h"

namespace polyhost {
namespace {

OrderBook Book(std::vector<Level> bids, std::vector<Level> asks) {
  OrderBook b;
  b.ApplySnapshot(bids, asks);
  return b;
}

Plan OneLeg(int64_t price, int64_t size, Side side = Side::kBid, TimeInForce tif = TimeInForce::kGtc) {
  Plan p;
  p.plugin = "t";
  p.legs.push_back({"m", "a", side, price, size, tif});
  return p;
}

TEST_CASE("notional and fees are exact and round up") {
  CHECK(NotionalMicros(500000, 10'000000) == 5'000000);
  CHECK(NotionalMicros(333333, 3) == 1);  // 0.999999 micro rounds up
  CHECK(NotionalMicros(1'000000, INT64_MAX) == INT64_MAX);
  // 100 bps on 10 tokens at 0.5: 0.01 * 0.25 * 10 = 0.025 USDC
  CHECK(FeeMicros(500000, 10'000000, 100) == 25000);
  CHECK(FeeMicros(500000, 10'000000, 0) == 0);
  CHECK(FeeMicros(10000, 1, 1) == 1);  // tiny fees round up to one micro
}

TEST_CASE("risk gate rejects each limit with a named reason") {
  RiskGate gate;
  OrderBook book = Book({{490000, 100'000000}}, {{510000, 100'000000}});
  LegMarket m{&book, false, 10000, 5'000000};
  Exposure none;
  int64_t t = 0;
  auto check = [&](const Plan& p, LegMarket lm = {}, const Exposure& e = {}) {
    if (lm.book == nullptr && lm.tick_micros == 0) lm = LegMarket{&book, false, 10000, 5'000000};
    std::vector<LegMarket> legs(p.legs.size(), lm);
    t += 2'000'000'000;
    return gate.Check(p, legs, e, t);
  };
  CHECK(check(OneLeg(500000, 10'000000)).accepted());
  CHECK(check(Plan{}).code == RejectCode::kEmptyPlan);
  CHECK(check(OneLeg(505000, 10'000000)).code == RejectCode::kTickMisaligned);
  CHECK(check(OneLeg(500000, 1'000000)).code == RejectCode::kBelowMinSize);
  CHECK(check(OneLeg(0, 10'000000)).code == RejectCode::kPriceRange);
  CHECK(check(OneLeg(1'000000, 10'000000)).code == RejectCode::kPriceRange);
  CHECK(check(OneLeg(500000, 0)).code == RejectCode::kBadSize);
  CHECK(check(OneLeg(500000, 1000'000000)).code == RejectCode::kOrderNotional);
  CHECK(check(OneLeg(500000, 10'000000), LegMarket{&book, true, 10000, 0}).code == RejectCode::kStaleBook);
  OrderBook crossed = Book({{520000, 1}}, {{510000, 1}});
  CHECK(check(OneLeg(500000, 10'000000), LegMarket{&crossed, false, 10000, 0}).code == RejectCode::kCrossedBook);
  Exposure full;
  full.market_notional_micros["m"] = 499'000000;
  full.total_notional_micros = 499'000000;
  auto d = check(OneLeg(500000, 10'000000), {}, full);
  CHECK(d.code == RejectCode::kMarketNotional);
  CHECK(d.reason == "market m: open 499 + new 5 > max 500");
  Exposure busy;
  busy.open_orders = 50;
  CHECK(check(OneLeg(500000, 10'000000), {}, busy).code == RejectCode::kOpenOrders);
  gate.SetKillSwitch("t", true);
  CHECK(check(OneLeg(500000, 10'000000)).code == RejectCode::kKillSwitch);
  gate.SetKillSwitch("t", false);
  // The same plan twice inside the window is a duplicate.
  Plan p = OneLeg(480000, 10'000000);
  std::vector<LegMarket> legs{m};
  CHECK(gate.Check(p, legs, none, 100).accepted());
  CHECK(gate.Check(p, legs, none, 200).code == RejectCode::kDuplicate);
  CHECK(gate.Check(p, legs, none, 100 + gate.limits().duplicate_window_ns).accepted());
}

struct Recorder : RelayerListener {
  std::vector<OrderUpdate> updates;
  std::vector<Fill> fills;
  void OnOrderUpdate(const OrderUpdate& u) override { updates.push_back(u); }
  void OnFill(const Fill& f) override { fills.push_back(f); }
};

TEST_CASE("paper relayer takes liquidity level by level and honours IOC/FOK") {
  auto relayer = MakePaperRelayer({.taker_fee_bps = 0, .maker_fee_bps = 0});
  Recorder rec;
  relayer->SetListener(&rec);
  OrderBook book = Book({{480000, 10'000000}}, {{500000, 4'000000}, {510000, 6'000000}, {530000, 100'000000}});
  relayer->OnBook("m", "a", book);

  Order o{1, 1, "t", {"m", "a", Side::kBid, 510000, 20'000000, TimeInForce::kIoc}};
  relayer->Submit(o);
  REQUIRE(rec.fills.size() == 2);
  CHECK(rec.fills[0].price == 500000);
  CHECK(rec.fills[0].size == 4'000000);
  CHECK(rec.fills[1].price == 510000);
  CHECK(rec.fills[1].size == 6'000000);
  CHECK(rec.updates.back().state == OrderState::kCancelled);
  CHECK(rec.updates.back().filled == 10'000000);

  rec = {};
  relayer->SetListener(&rec);
  relayer->Submit(Order{2, 2, "t", {"m", "a", Side::kBid, 510000, 20'000000, TimeInForce::kFok}});
  CHECK(rec.fills.empty());
  CHECK(rec.updates.back().state == OrderState::kCancelled);

  // GTC below the ask rests, then fills when the ask comes down through it.
  rec = {};
  relayer->SetListener(&rec);
  relayer->Submit(Order{3, 3, "t", {"m", "a", Side::kBid, 490000, 5'000000, TimeInForce::kGtc}});
  CHECK(rec.fills.empty());
  CHECK(rec.updates.back().state == OrderState::kAcked);
  book.ApplyLevel(Side::kAsk, 490000, 2'000000);
  relayer->OnBook("m", "a", book);
  REQUIRE(rec.fills.size() == 1);
  CHECK(rec.fills[0].size == 2'000000);
  CHECK(rec.fills[0].maker);
  CHECK(rec.updates.back().state == OrderState::kPartiallyFilled);
  relayer->OnTrade("m", "a", 480000, 10'000000);  // a print through our price fills the rest
  CHECK(rec.updates.back().state == OrderState::kFilled);
  relayer->Cancel(3);  // already done: no-op
  CHECK(rec.updates.back().state == OrderState::kFilled);
}

TEST_CASE("fake relayer acks and rests; real is refused without sending") {
  auto fake = MakeRelayer("fake");
  Recorder rec;
  fake->SetListener(&rec);
  fake->Submit(Order{1, 1, "t", {"m", "a", Side::kBid, 500000, 5'000000, TimeInForce::kGtc}});
  CHECK(rec.updates.back().state == OrderState::kAcked);
  fake->Cancel(1);
  CHECK(rec.updates.back().state == OrderState::kCancelled);
  // IOC/FOK cannot rest: acked, then cancelled unfilled.
  fake->Submit(Order{2, 2, "t", {"m", "a", Side::kBid, 500000, 5'000000, TimeInForce::kFok}});
  CHECK(rec.updates.back().state == OrderState::kCancelled);
  CHECK(rec.updates.back().filled == 0);
  CHECK_THROWS_WITH(MakeRelayer("real"), Catch::Contains("not available in this build"));
  CHECK_THROWS(MakeRelayer("bogus"));
}

}  // namespace
}  // namespace polyhost

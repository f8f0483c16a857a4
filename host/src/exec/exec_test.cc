#include <catch2/catch.hpp>

#include <memory>
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

// ---- the paper fill model (docs/paper-trading.md) ---------------------------------------

struct PaperFixture {
  std::unique_ptr<Relayer> relayer;
  Recorder rec;
  OrderBook book;
  explicit PaperFixture(PaperOptions o = {}) : relayer(MakePaperRelayer(o)) {
    relayer->SetListener(&rec);
    book = Book({{480000, 100'000000}, {470000, 200'000000}}, {{520000, 100'000000}, {530000, 200'000000}});
    relayer->OnBook("m", "a", book);
  }
  void Place(int64_t id, Side side, int64_t price, int64_t size, TimeInForce tif = TimeInForce::kGtc) {
    relayer->Submit(Order{id, id, "t", {"m", "a", side, price, size, tif}});
  }
  void Level(Side side, int64_t price, int64_t size) {
    book.ApplyLevel(side, price, size);
    relayer->OnBook("m", "a", book);
  }
  int64_t Filled(int64_t id) const {
    int64_t total = 0;
    for (const Fill& f : rec.fills) total += f.order_id == id ? f.size : 0;
    return total;
  }
  const OrderUpdate& Last(int64_t id) const {
    for (auto it = rec.updates.rbegin(); it != rec.updates.rend(); ++it) {
      if (it->order_id == id) return *it;
    }
    FAIL("no update for order " << id);
    return rec.updates.front();
  }
};

TEST_CASE("paper: a resting order joins the back of the queue at its price") {
  PaperFixture f;
  f.Place(1, Side::kBid, 480000, 10'000000);  // 100 ahead of us at 0.48
  CHECK(f.Last(1).state == OrderState::kAcked);
  // A print at our price smaller than the queue ahead fills nothing.
  f.relayer->OnTrade("m", "a", 480000, 60'000000);
  CHECK(f.rec.fills.empty());
  // The book shows the print leaving the level (100 -> 40): not counted twice.
  f.Level(Side::kBid, 480000, 40'000000);
  CHECK(f.rec.fills.empty());
  // 45 more printed at 0.48: 40 ahead, the excess 5 is ours (partial).
  f.relayer->OnTrade("m", "a", 480000, 45'000000);
  REQUIRE(f.rec.fills.size() == 1);
  CHECK(f.rec.fills[0].price == 480000);
  CHECK(f.rec.fills[0].size == 5'000000);
  CHECK(f.rec.fills[0].maker);
  CHECK(f.Last(1).state == OrderState::kPartiallyFilled);
  CHECK(f.Last(1).remaining == 5'000000);
  // Now at the front: the next print at our price fills us directly.
  f.relayer->OnTrade("m", "a", 480000, 100'000000);
  CHECK(f.Filled(1) == 10'000000);
  CHECK(f.Last(1).state == OrderState::kFilled);
}

TEST_CASE("paper: level decreases are cancels ahead of us; increases queue behind") {
  PaperFixture f;
  f.Place(1, Side::kAsk, 520000, 10'000000);  // 100 ahead at 0.52
  f.Level(Side::kAsk, 520000, 300'000000);      // +200 joins behind us
  f.relayer->OnTrade("m", "a", 520000, 100'000000);  // exactly the queue ahead
  CHECK(f.rec.fills.empty());
  // Trade credit: the level shrinks by the print (300 -> 200), queue stays 0.
  f.Level(Side::kAsk, 520000, 200'000000);
  f.relayer->OnTrade("m", "a", 520000, 4'000000);
  CHECK(f.Filled(1) == 4'000000);

  PaperFixture g;
  g.Place(1, Side::kBid, 480000, 10'000000);  // 100 ahead
  g.Level(Side::kBid, 480000, 30'000000);     // 70 cancelled ahead of us -> 30 ahead
  g.relayer->OnTrade("m", "a", 480000, 35'000000);
  CHECK(g.Filled(1) == 5'000000);
  // The level disappearing entirely leaves nobody ahead.
  PaperFixture h;
  h.Place(1, Side::kBid, 480000, 10'000000);
  h.Level(Side::kBid, 480000, 0);
  h.relayer->OnTrade("m", "a", 480000, 3'000000);
  CHECK(h.Filled(1) == 3'000000);
}

TEST_CASE("paper: a new price level has an empty queue") {
  PaperFixture f;
  f.Place(1, Side::kBid, 490000, 10'000000);  // inside the spread: first in line
  f.relayer->OnTrade("m", "a", 490000, 4'000000);
  CHECK(f.Filled(1) == 4'000000);
  // Liquidity arriving later at our price is behind us.
  f.Level(Side::kBid, 490000, 50'000000);
  f.relayer->OnTrade("m", "a", 490000, 3'000000);
  CHECK(f.Filled(1) == 7'000000);
}

TEST_CASE("paper: prints through our price fill us up to their size") {
  PaperFixture f;
  f.Place(1, Side::kBid, 480000, 10'000000);  // queue 100 at 0.48
  // A sell printing at 0.47 went through 0.48: everything at 0.48 traded, us included.
  f.relayer->OnTrade("m", "a", 470000, 6'000000);
  CHECK(f.Filled(1) == 6'000000);
  CHECK(f.rec.fills.back().price == 480000);  // at our price, not the print's
  f.relayer->OnTrade("m", "a", 460000, 100'000000);
  CHECK(f.Filled(1) == 10'000000);
  CHECK(f.Last(1).state == OrderState::kFilled);
  // An ask is filled by prints above it; prints below it do nothing.
  f.Place(2, Side::kAsk, 530000, 5'000000);
  f.relayer->OnTrade("m", "a", 500000, 50'000000);
  CHECK(f.Filled(2) == 0);
  f.relayer->OnTrade("m", "a", 540000, 2'000000);
  CHECK(f.Filled(2) == 2'000000);
}

TEST_CASE("paper: print volume is shared by price, then time priority") {
  PaperFixture f;
  f.Place(1, Side::kBid, 490000, 5'000000);   // new level, empty queue
  f.Place(2, Side::kBid, 500000, 5'000000);   // better price
  f.Place(3, Side::kBid, 490000, 5'000000);   // same price as 1, later
  f.relayer->OnTrade("m", "a", 480000, 12'000000);  // through all three
  CHECK(f.Filled(2) == 5'000000);  // best price first
  CHECK(f.Filled(1) == 5'000000);  // then time
  CHECK(f.Filled(3) == 2'000000);
  // At-price prints: our earlier order at the level is ahead of our later one.
  PaperFixture g;
  g.Place(1, Side::kAsk, 510000, 5'000000);
  g.Place(2, Side::kAsk, 510000, 5'000000);
  g.relayer->OnTrade("m", "a", 510000, 7'000000);
  CHECK(g.Filled(1) == 5'000000);
  CHECK(g.Filled(2) == 2'000000);
}

TEST_CASE("paper: the opposite side crossing our price fills us once per level change") {
  PaperFixture f;
  f.Place(1, Side::kBid, 490000, 10'000000);
  f.Level(Side::kAsk, 490000, 3'000000);  // an ask at our price: 3 cross
  CHECK(f.Filled(1) == 3'000000);
  CHECK(f.rec.fills.back().price == 490000);
  CHECK(f.rec.fills.back().maker);
  // Another book event that leaves that ask level alone does not fill again.
  f.Level(Side::kBid, 470000, 150'000000);
  f.relayer->OnBook("m", "a", f.book);
  CHECK(f.Filled(1) == 3'000000);
  // The level changes: its new size is fresh liquidity.
  f.Level(Side::kAsk, 490000, 4'000000);
  CHECK(f.Filled(1) == 7'000000);
  // Crossing through our price fills at our price, across several levels.
  f.Level(Side::kAsk, 480000, 2'000000);
  f.Level(Side::kAsk, 470000, 50'000000);
  CHECK(f.Filled(1) == 10'000000);
  for (const Fill& x : f.rec.fills) CHECK(x.price == 490000);
  CHECK(f.Last(1).state == OrderState::kFilled);
}

TEST_CASE("paper: crossing liquidity goes to the better-priced order first") {
  PaperFixture f;
  f.Place(1, Side::kAsk, 510000, 5'000000);
  f.Place(2, Side::kAsk, 500000, 5'000000);
  f.Level(Side::kBid, 510000, 7'000000);  // bids 0.51 x 7 cross both asks
  CHECK(f.Filled(2) == 5'000000);
  CHECK(f.Filled(1) == 2'000000);
}

TEST_CASE("paper: liquidity we took is not taken twice until the level changes") {
  PaperFixture f;
  f.Place(1, Side::kBid, 520000, 60'000000, TimeInForce::kIoc);
  CHECK(f.Filled(1) == 60'000000);
  f.Place(2, Side::kBid, 520000, 60'000000, TimeInForce::kIoc);
  CHECK(f.Filled(2) == 40'000000);  // only what is left of the level
  f.Place(3, Side::kBid, 520000, 10'000000, TimeInForce::kFok);
  CHECK(f.Filled(3) == 0);
  CHECK(f.Last(3).state == OrderState::kCancelled);
  // A book event elsewhere keeps the memory; a change of the level resets it.
  f.Level(Side::kBid, 470000, 1'000000);
  f.Place(4, Side::kBid, 520000, 10'000000, TimeInForce::kIoc);
  CHECK(f.Filled(4) == 0);
  f.Level(Side::kAsk, 520000, 30'000000);
  f.Place(5, Side::kBid, 520000, 10'000000, TimeInForce::kFok);
  CHECK(f.Filled(5) == 10'000000);
  // A GTC remainder of a marketable order rests; the level it emptied does not refill it.
  f.Place(6, Side::kBid, 520000, 30'000000);
  CHECK(f.Filled(6) == 20'000000);
  CHECK(f.Last(6).state == OrderState::kPartiallyFilled);
  f.relayer->OnBook("m", "a", f.book);
  CHECK(f.Filled(6) == 20'000000);
  // Resting crossing fills consume the level too: a taker right after finds it used.
  PaperFixture g;
  g.Place(1, Side::kBid, 500000, 10'000000);
  g.Level(Side::kAsk, 500000, 4'000000);
  CHECK(g.Filled(1) == 4'000000);
  g.Place(2, Side::kBid, 500000, 4'000000, TimeInForce::kIoc);
  CHECK(g.Filled(2) == 0);
}

TEST_CASE("paper: remember_taken_liquidity = false restores the optimistic book") {
  PaperFixture f({.taker_fee_bps = 0, .maker_fee_bps = 0, .remember_taken_liquidity = false});
  f.Place(1, Side::kBid, 520000, 60'000000, TimeInForce::kIoc);
  f.Place(2, Side::kBid, 520000, 60'000000, TimeInForce::kIoc);
  CHECK(f.Filled(1) == 60'000000);
  CHECK(f.Filled(2) == 60'000000);
  // Queue position still applies.
  f.Place(3, Side::kBid, 480000, 10'000000);
  f.relayer->OnTrade("m", "a", 480000, 50'000000);
  CHECK(f.Filled(3) == 0);
}

TEST_CASE("paper: maker and taker fees are proportional to p(1-p)") {
  PaperFixture f({.taker_fee_bps = 200, .maker_fee_bps = 50});
  f.Place(1, Side::kBid, 520000, 10'000000, TimeInForce::kIoc);  // taker at 0.52
  REQUIRE(f.rec.fills.size() == 1);
  CHECK_FALSE(f.rec.fills[0].maker);
  CHECK(f.rec.fills[0].fee_micros == FeeMicros(520000, 10'000000, 200));
  CHECK(f.rec.fills[0].fee_micros == 49920);  // 0.02 * 0.52 * 0.48 * 10
  f.Place(2, Side::kAsk, 600000, 10'000000);
  f.relayer->OnTrade("m", "a", 610000, 10'000000);
  REQUIRE(f.rec.fills.size() == 2);
  CHECK(f.rec.fills[1].maker);
  CHECK(f.rec.fills[1].fee_micros == 12000);  // 0.005 * 0.6 * 0.4 * 10
  // Fees are symmetric in p and 1 - p and vanish at the bounds.
  CHECK(FeeMicros(300000, 1'000000, 100) == FeeMicros(700000, 1'000000, 100));
  CHECK(FeeMicros(0, 1'000000, 100) == 0);
}

TEST_CASE("paper: cancel stops fills; other assets and markets are independent") {
  PaperFixture f;
  f.Place(1, Side::kBid, 490000, 10'000000);
  f.relayer->OnTrade("m", "b", 480000, 10'000000);  // another asset
  f.relayer->OnTrade("n", "a", 480000, 10'000000);  // another market
  CHECK(f.rec.fills.empty());
  OrderBook other = Book({}, {{400000, 100'000000}});
  f.relayer->OnBook("m", "b", other);
  CHECK(f.rec.fills.empty());
  f.relayer->Cancel(1);
  CHECK(f.Last(1).state == OrderState::kCancelled);
  CHECK(f.Last(1).remaining == 10'000000);
  f.relayer->OnTrade("m", "a", 480000, 10'000000);
  CHECK(f.rec.fills.empty());
  // No book yet for an asset: a GTC order simply rests with an empty queue.
  f.relayer->Submit(Order{2, 2, "t", {"m", "z", Side::kBid, 500000, 5'000000, TimeInForce::kGtc}});
  CHECK(f.Last(2).state == OrderState::kAcked);
  f.relayer->OnTrade("m", "z", 500000, 1'000000);
  CHECK(f.Filled(2) == 1'000000);
}

TEST_CASE("paper: partial fills never exceed the order and states add up") {
  PaperFixture f;
  f.Place(1, Side::kBid, 490000, 10'000000);
  for (int i = 0; i < 30; ++i) {
    f.relayer->OnTrade("m", "a", 490000, 700000);
    f.Level(Side::kAsk, 490000, (i % 3 + 1) * 300000);
  }
  CHECK(f.Filled(1) == 10'000000);
  CHECK(f.Last(1).state == OrderState::kFilled);
  int64_t cum = 0;
  for (const OrderUpdate& u : f.rec.updates) {
    if (u.order_id != 1 || u.state == OrderState::kAcked) continue;
    CHECK(u.filled > cum);
    cum = u.filled;
    CHECK(u.filled + u.remaining == 10'000000);
  }
}

TEST_CASE("fake relayer acks and rests; real is refused without its settings") {
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
  CHECK_THROWS_WITH(MakeRelayer("real"), Catch::Contains("needs its [relayer] settings"));
  CHECK_THROWS(MakeRelayer("bogus"));
}

}  // namespace
}  // namespace polyhost

// Unit tests of the spread quoter core (quoter.h): prices, sizes, skew, caps,
// the refresh policy, safety pulls, the kill switch, and a randomised check that
// the caps hold in the worst case under adversarial fill / cancel sequences.
#include "quoter.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace polyhost::spread {
namespace {

constexpr int64_t U = kOne;        // 1 token / 1 USDC
constexpr int64_t C = kOne / 100;  // 1 cent

// A quoter with one binary market m = {yes, no}, quoting yes, and a tiny host
// that assigns plan ids and remembers what was asked.
struct Rig {
  Quoter q;
  TokenId yes = 0, no = 0;
  uint32_t inst = 0;
  int64_t now = 1'000'000;
  uint64_t next_plan = 1;
  std::vector<PlaceAction> places;    // of the last Drain
  std::vector<CancelAction> cancels;  // of the last Drain
  bool cancel_all = false;
  std::vector<Note> notes;

  explicit Rig(Params p = {}, bool complement = true) : q(p) {
    yes = q.AddToken("m", "yes");
    no = q.AddToken("m", "no");
    inst = q.AddInstrument(yes);
    if (complement) REQUIRE(q.SetComplement(inst, no));
  }
  static Top Book(int64_t bid, int64_t ask, int64_t bid_size = 100 * U, int64_t ask_size = 100 * U) {
    Top t;
    t.bid = bid;
    t.ask = ask;
    t.bid_size = bid > 0 ? bid_size : 0;
    t.ask_size = ask > 0 ? ask_size : 0;
    return t;
  }
  void SetBook(TokenId t, int64_t bid, int64_t ask, int64_t bid_size = 100 * U, int64_t ask_size = 100 * U) {
    q.OnBook(t, Book(bid, ask, bid_size, ask_size), now);
  }
  // A yes book and its mirror image on no.
  void SetBooks(int64_t bid, int64_t ask) {
    SetBook(yes, bid, ask);
    SetBook(no, ask > 0 ? U - ask : 0, bid > 0 ? U - bid : 0);
  }
  // Submits every place (plan ids 1, 2, ...) and records what was asked.
  void Drain() {
    Outbox& out = q.outbox();
    places = out.places;
    cancels = out.cancels;
    cancel_all = out.cancel_all;
    notes.insert(notes.end(), out.notes.begin(), out.notes.end());
    out.clear();
    for (PlaceAction& a : places) {
      q.OnSubmitted(a.local_id, next_plan);
      a.local_id = next_plan++;  // from here on: the plan id
    }
  }
  void Eval() {
    q.Evaluate(inst, now);
    Drain();
  }
  void Accept(uint64_t plan) {
    q.OnPlanAccepted(plan);
    q.OnAcked(plan);
  }
  void AcceptAll() {
    for (const auto& [id, o] : q.orders()) {
      if (!o.decided) {
        q.OnPlanAccepted(o.plan_id);
        q.OnAcked(o.plan_id);
      }
    }
  }
  // A fill reported the way the host does: on_fill, then the order update.
  void Fill(uint64_t plan, int64_t size, int64_t price = 0) {
    const Quoter::Order* o = q.order_by_plan(plan);
    REQUIRE(o != nullptr);
    const int64_t cum = o->filled + size;
    const bool done = cum >= o->size;
    q.OnFill(plan, o->token, o->side, price > 0 ? price : o->price, size, 0, now);
    q.OnProgress(plan, cum, now);
    if (done) q.OnClosed(plan, false, "", now);
  }
  void Cancelled(uint64_t plan) { q.OnClosed(plan, false, "cancelled", now); }
  void ConfirmCancels() {
    for (const CancelAction& c : cancels) Cancelled(c.plan_id);
  }
  const PlaceAction* Find(Slot slot, uint32_t level = 0) const {
    for (const PlaceAction& a : places) {
      if (a.slot == slot && a.level == level) return &a;
    }
    return nullptr;
  }
  std::vector<Quoter::Desired> Ladder() {
    const Quoter::Token& t = q.tokens()[yes];
    return q.Ladder(inst, *ReferencePrice(t.top, q.params().reference, t.last_trade));
  }
  static const Quoter::Desired* Find(const std::vector<Quoter::Desired>& v, Slot slot, uint32_t level = 0) {
    for (const auto& d : v) {
      if (d.slot == slot && d.level == level) return &d;
    }
    return nullptr;
  }
  int64_t OpenOrders() const { return static_cast<int64_t>(q.orders().size()); }
};

// ---- helpers ----------------------------------------------------------------------------

TEST_CASE("exact integer helpers round the safe way") {
  CHECK(MulCeil(480'000, 10 * U) == 4'800'000);
  CHECK(MulCeil(333'333, 3) == 1);        // 0.999999 micro rounds up
  CHECK(MulFloor(333'333, 3) == 0);
  CHECK(MulFloor(-333'333, 3) == -1);     // floor, not truncation
  CHECK(FloorTo(495'000, C) == 490'000);
  CHECK(CeilTo(495'000, C) == 500'000);
  CHECK(CeilTo(500'000, C) == 500'000);
  CHECK(FloorTo(-5'000, C) == -10'000);
  CHECK(FeeMicros(500'000, 10 * U, 0) == 0);
  CHECK(FeeMicros(500'000, 10 * U, 100) == 25'000);  // 1% · 0.25 · 10
  CHECK(FeeMicros(500'000, 1, 100) == 1);            // rounds up
  CHECK(Dec(480'000) == "0.48");
  CHECK(Dec(5 * U) == "5");
  CHECK(Dec(-1'500'000) == "-1.5");
  CHECK(Dec(1) == "0.000001");
  CHECK(Dec(INT64_MIN).starts_with("-9223372036854"));
}

TEST_CASE("parameter validation names the key") {
  CHECK(Validate(Params{}).empty());
  auto bad = [](auto change) {
    Params p;
    change(p);
    return Validate(p);
  };
  CHECK(bad([](Params& p) { p.levels = 0; }).starts_with("levels "));
  CHECK(bad([](Params& p) { p.levels = 11; }).starts_with("levels "));
  CHECK(bad([](Params& p) { p.tick_size = 30'000; }).starts_with("tick_size "));  // does not divide 1
  CHECK(bad([](Params& p) { p.half_spread = 600'000; }).starts_with("half_spread "));
  CHECK(bad([](Params& p) { p.lot_size = 0; }).starts_with("lot_size "));
  CHECK(bad([](Params& p) { p.target_position = 60 * U; }).starts_with("target_position "));
  CHECK(bad([](Params& p) { p.max_total_exposure = -1; }).starts_with("max_total_exposure_usdc "));
  CHECK(bad([](Params& p) { p.fill_delay_ms = -1; }).starts_with("fill_delay_ms "));
  CHECK(bad([](Params& p) { p.size_tolerance_bps = 10'001; }).starts_with("size_tolerance_bps "));
  CHECK(bad([](Params& p) { p.cancel_retry_ms = 0; }).starts_with("cancel_retry_ms "));
  CHECK(bad([](Params& p) { p.fee_rate_bps = 20'000; }).starts_with("fee_rate_bps "));
}

// ---- reference price --------------------------------------------------------------------

TEST_CASE("reference price: mid, microprice, last trade") {
  Top t = Rig::Book(490'000, 510'000, 100 * U, 300 * U);
  CHECK(ReferencePrice(t, Reference::kMid, 0) == 500'000);
  // More size on the ask pulls the microprice toward the bid: (0.49·300 + 0.51·100) / 400.
  CHECK(ReferencePrice(t, Reference::kMicroprice, 0) == 495'000);
  CHECK(ReferencePrice(t, Reference::kLastTrade, 530'000) == 530'000);
  CHECK(ReferencePrice(t, Reference::kLastTrade, 0) == 500'000);  // no trade yet: mid
  CHECK(ReferencePrice(Rig::Book(490'000, 0), Reference::kMid, 0) == std::nullopt);
  CHECK(ReferencePrice(Rig::Book(0, 510'000), Reference::kMicroprice, 0) == std::nullopt);
  CHECK(ReferencePrice(Rig::Book(0, 0), Reference::kLastTrade, 420'000) == 420'000);
  CHECK(ReferencePrice(Rig::Book(490'000, 491'000), Reference::kMid, 0) == 490'500);  // off the grid is fine
}

// ---- the ladder ---------------------------------------------------------------------------

TEST_CASE("one level around the mid: bid on yes, ask as a bid on no") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  auto v = r.Ladder();
  REQUIRE(v.size() == 2);
  const auto* bid = Rig::Find(v, Slot::kBid);
  const auto* askc = Rig::Find(v, Slot::kAskComplement);
  REQUIRE(bid);
  REQUIRE(askc);
  CHECK(bid->token == r.yes);
  CHECK(bid->side == Side::kBuy);
  CHECK(bid->price == 480'000);  // 0.50 − 2 ticks
  CHECK(bid->size == 10 * U);
  CHECK(askc->token == r.no);
  CHECK(askc->side == Side::kBuy);
  CHECK(askc->price == 480'000);  // 1 − ask 0.52
  CHECK(askc->size == 10 * U);
}

TEST_CASE("half spread in price overrides ticks; bids round down and asks up") {
  Params p;
  p.half_spread = 15'000;  // 0.015
  p.ask_mode = AskMode::kSell;
  Rig r(p);
  r.SetBooks(480'000, 510'000);  // mid 0.495
  auto v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->price == 480'000);  // floor(0.48)
  CHECK(Rig::Find(v, Slot::kAsk)->price == 510'000);  // ceil(0.51)
  r.SetBooks(470'000, 510'000);                       // mid 0.49
  v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->price == 470'000);  // floor(0.475)
  CHECK(Rig::Find(v, Slot::kAsk)->price == 510'000);  // ceil(0.505)
}

TEST_CASE("minimum spread widens both sides, at least one tick") {
  Params p;
  p.half_spread_ticks = 0;
  p.ask_mode = AskMode::kSell;
  p.allow_cross = true;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  auto v = r.Ladder();
  // Zero half spread still never quotes bid == ask.
  CHECK(Rig::Find(v, Slot::kAsk)->price - Rig::Find(v, Slot::kBid)->price == C);
  Params p2 = p;
  p2.min_spread = 50'000;  // 5 ticks: 2 down, 3 up
  Rig r2(p2);
  r2.SetBooks(490'000, 510'000);
  v = r2.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->price == 480'000);
  CHECK(Rig::Find(v, Slot::kAsk)->price == 530'000);
}

TEST_CASE("several levels step outwards with growing size") {
  Params p;
  p.levels = 3;
  p.level_spacing_ticks = 2;
  p.size_increment = 5 * U;
  p.ask_mode = AskMode::kSell;
  p.max_position = 1000 * U;
  p.max_market_exposure = 1000 * U;
  p.max_total_exposure = 1000 * U;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  auto v = r.Ladder();
  REQUIRE(v.size() == 6);
  for (uint32_t i = 0; i < 3; ++i) {
    CHECK(Rig::Find(v, Slot::kBid, i)->price == 480'000 - 20'000 * i);
    CHECK(Rig::Find(v, Slot::kAsk, i)->price == 520'000 + 20'000 * i);
    CHECK(Rig::Find(v, Slot::kBid, i)->size == (10 + 5 * i) * U);
    CHECK(Rig::Find(v, Slot::kAsk, i)->size == (10 + 5 * i) * U);
  }
}

TEST_CASE("prices stay inside [tick, 1 - tick]") {
  Params p;
  p.levels = 4;
  p.ask_mode = AskMode::kSell;
  p.max_position = 1000 * U;
  p.max_market_exposure = 1000 * U;
  p.max_total_exposure = 1000 * U;
  SECTION("near zero: bids below one tick are dropped") {
    Rig r(p);
    r.SetBooks(10'000, 30'000);  // mid 0.02: bid0 = 0.00
    auto v = r.Ladder();
    for (const auto& d : v) {
      CHECK(d.price >= C);
      CHECK(d.price <= U - C);
    }
    CHECK(Rig::Find(v, Slot::kBid) == nullptr);
    CHECK(Rig::Find(v, Slot::kAsk, 3) != nullptr);
  }
  SECTION("near one: asks above 1 - tick are dropped") {
    Rig r(p);
    r.SetBooks(970'000, 990'000);  // mid 0.98: ask0 = 1.00
    auto v = r.Ladder();
    for (const auto& d : v) {
      CHECK(d.price >= C);
      CHECK(d.price <= U - C);
    }
    CHECK(Rig::Find(v, Slot::kAsk) == nullptr);
    CHECK(Rig::Find(v, Slot::kBid, 3)->price == 930'000);
  }
  SECTION("a coarser tick from the book is used") {
    Rig r(p);
    Top t = Rig::Book(400'000, 600'000);
    t.tick = 100'000;
    r.q.OnBook(r.yes, t, r.now);
    auto v = r.Ladder();
    for (const auto& d : v) CHECK(d.price % 100'000 == 0);
    CHECK(Rig::Find(v, Slot::kBid)->price == 300'000);  // 0.5 − 2 × 0.1
    CHECK(Rig::Find(v, Slot::kBid, 1)->price == 200'000);
    CHECK(Rig::Find(v, Slot::kBid, 2)->price == 100'000);  // one tick: the last bid
    CHECK(Rig::Find(v, Slot::kBid, 3) == nullptr);
  }
}

TEST_CASE("never crosses the book unless allowed") {
  Params p;
  p.reference = Reference::kLastTrade;
  p.ask_mode = AskMode::kSell;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.OnTrade(r.yes, 600'000);  // a print far above the book
  auto v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->price == 500'000);  // best ask − 1 tick, not 0.58
  CHECK(Rig::Find(v, Slot::kAsk)->price == 620'000);
  r.q.OnTrade(r.yes, 400'000);  // and far below
  v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->price == 380'000);
  CHECK(Rig::Find(v, Slot::kAsk)->price == 500'000);  // best bid + 1 tick
  Params q = p;
  q.allow_cross = true;
  Rig x(q);
  x.SetBooks(490'000, 510'000);
  x.q.OnTrade(x.yes, 600'000);
  v = x.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->price == 580'000);
}

TEST_CASE("complement orders do not cross the complement's own book") {
  Rig r;
  r.SetBook(r.yes, 490'000, 510'000);
  r.SetBook(r.no, 440'000, 460'000);  // not a mirror: buying no at 0.48 would cross 0.46
  auto v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kAskComplement)->price == 450'000);  // no's ask − 1 tick
}

TEST_CASE("ask modes: sell, inventory, complement") {
  SECTION("sell: plain sells, even without tokens (paper only)") {
    Params p;
    p.ask_mode = AskMode::kSell;
    Rig r(p);
    r.SetBooks(490'000, 510'000);
    auto v = r.Ladder();
    CHECK(Rig::Find(v, Slot::kAsk)->side == Side::kSell);
    CHECK(Rig::Find(v, Slot::kAsk)->size == 10 * U);
  }
  SECTION("inventory: only held tokens are offered") {
    Params p;
    p.ask_mode = AskMode::kInventory;
    p.size_skew = false;
    Rig r(p);
    r.SetBooks(490'000, 510'000);
    CHECK(Rig::Find(r.Ladder(), Slot::kAsk) == nullptr);
    r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 7 * U, 0, r.now);
    auto v = r.Ladder();
    CHECK(Rig::Find(v, Slot::kAsk)->size == 7 * U);
    CHECK(Rig::Find(v, Slot::kAskComplement) == nullptr);
  }
  SECTION("complement: held tokens first, the rest as a bid on the complement") {
    Params p;
    p.size_skew = false;
    p.order_size = 20 * U;
    Rig r(p);
    r.SetBooks(490'000, 510'000);
    r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 6 * U, 0, r.now);
    auto v = r.Ladder();
    CHECK(Rig::Find(v, Slot::kAsk)->size == 6 * U);
    CHECK(Rig::Find(v, Slot::kAsk)->price == 520'000);
    CHECK(Rig::Find(v, Slot::kAskComplement)->size == 14 * U);
    CHECK(Rig::Find(v, Slot::kAskComplement)->price == 480'000);
  }
}

TEST_CASE("pieces below the minimum order size go to the other leg or are dropped") {
  Params p;
  p.size_skew = false;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  SECTION("3 held: too few to sell, the whole ask is a complement bid") {
    r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 3 * U, 0, r.now);
    auto v = r.Ladder();
    CHECK(Rig::Find(v, Slot::kAsk) == nullptr);
    CHECK(Rig::Find(v, Slot::kAskComplement)->size == 10 * U);
  }
  SECTION("7 held: sell 7, the 3 left are below the minimum and dropped") {
    r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 7 * U, 0, r.now);
    auto v = r.Ladder();
    CHECK(Rig::Find(v, Slot::kAsk)->size == 7 * U);
    CHECK(Rig::Find(v, Slot::kAskComplement) == nullptr);
  }
}

TEST_CASE("held complement tokens are sold instead of buying more") {
  Params p;
  p.size_skew = false;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.OnFill(0, r.no, Side::kBuy, 480'000, 10 * U, 0, r.now);  // short yes the Polymarket way
  auto v = r.Ladder();
  const auto* bidc = Rig::Find(v, Slot::kBidComplement);
  REQUIRE(bidc);
  CHECK(bidc->token == r.no);
  CHECK(bidc->side == Side::kSell);
  CHECK(bidc->price == 520'000);  // 1 − bid 0.48
  CHECK(bidc->size == 10 * U);
  CHECK(Rig::Find(v, Slot::kBid) == nullptr);
}

TEST_CASE("without a known complement the ask needs inventory") {
  Rig r(Params{}, /*complement=*/false);
  r.SetBook(r.yes, 490'000, 510'000);
  auto v = r.Ladder();
  REQUIRE(v.size() == 1);
  CHECK(v[0].slot == Slot::kBid);
}

// ---- inventory ---------------------------------------------------------------------------

TEST_CASE("size skew leans against the inventory, toward the target") {
  Params p;
  p.max_position = 40 * U;
  p.ask_mode = AskMode::kSell;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 10 * U, 0, r.now);  // +10 of range 40: r = 0.25
  auto v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->size == 7'500'000);
  CHECK(Rig::Find(v, Slot::kAsk)->size == 12'500'000);
  // Holding no counts as short yes: +10 yes, +20 no = −10 net → r = −0.25.
  r.q.OnFill(0, r.no, Side::kBuy, 480'000, 20 * U, 0, r.now);
  CHECK(r.q.EffectivePosition(r.inst) == -10 * U);
  v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->size == 12'500'000);
  CHECK(Rig::Find(v, Slot::kAsk)->size == 7'500'000);
  // A target of −10 makes that position neutral.
  Params t = p;
  t.target_position = -10 * U;
  Rig r2(t);
  r2.SetBooks(490'000, 510'000);
  r2.q.OnFill(0, r2.no, Side::kBuy, 480'000, 10 * U, 0, r2.now);
  v = r2.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->size == 10 * U);
  CHECK(Rig::Find(v, Slot::kAsk)->size == 10 * U);
}

TEST_CASE("size skew saturates and can be switched off; inventory_range sets its scale") {
  Params p;
  p.max_position = 40 * U;
  p.inventory_range = 10 * U;
  p.ask_mode = AskMode::kSell;
  p.max_market_exposure = 1000 * U;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 20 * U, 0, r.now);  // r = 2 → 1
  auto v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid) == nullptr);  // bid × 0
  CHECK(Rig::Find(v, Slot::kAsk)->size == 20 * U);
  p.size_skew = false;
  Rig r2(p);
  r2.SetBooks(490'000, 510'000);
  r2.q.OnFill(0, r2.yes, Side::kBuy, 480'000, 20 * U, 0, r2.now);
  v = r2.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->size == 10 * U);
  CHECK(Rig::Find(v, Slot::kAsk)->size == 10 * U);
}

TEST_CASE("price skew moves both quotes against the inventory") {
  Params p;
  p.max_position = 40 * U;
  p.price_skew_ticks = 4;
  p.size_skew = false;
  p.ask_mode = AskMode::kSell;
  p.allow_cross = true;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 20 * U, 0, r.now);  // r = 0.5: ref − 2 ticks
  auto v = r.Ladder();
  CHECK(r.q.SkewRatio(r.inst) == 500'000);
  CHECK(r.q.AdjustedReference(r.inst, 500'000) == 480'000);
  CHECK(Rig::Find(v, Slot::kBid)->price == 460'000);
  CHECK(Rig::Find(v, Slot::kAsk)->price == 500'000);
}

TEST_CASE("max position trims and then stops the side that adds to it") {
  Params p;
  p.max_position = 15 * U;
  p.size_skew = false;
  p.max_market_exposure = 1000 * U;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 8 * U, 0, r.now);
  auto v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid)->size == 7 * U);   // 8 + 7 = 15
  CHECK(Rig::Find(v, Slot::kAsk)->size == 8 * U);   // sell the 8 held
  CHECK(Rig::Find(v, Slot::kAskComplement) == nullptr);  // 2 more would be below the minimum
  r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 7 * U, 0, r.now);
  v = r.Ladder();
  CHECK(Rig::Find(v, Slot::kBid) == nullptr);
  CHECK(Rig::Find(v, Slot::kAsk)->size == 10 * U);
  // The short side is capped the same way: −15 through holding no.
  Rig s(p);
  s.SetBooks(490'000, 510'000);
  s.q.OnFill(0, s.no, Side::kBuy, 480'000, 15 * U, 0, s.now);
  v = s.Ladder();
  CHECK(Rig::Find(v, Slot::kAskComplement) == nullptr);
  CHECK(Rig::Find(v, Slot::kAsk) == nullptr);
  CHECK(Rig::Find(v, Slot::kBidComplement)->size == 10 * U);
}

// ---- exposure caps -------------------------------------------------------------------------

TEST_CASE("exposure is the worst loss at resolution; YES + NO pairs net out") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  r.q.OnFill(0, r.yes, Side::kBuy, 400'000, 10 * U, 0, r.now);
  CHECK(r.q.MarketExposure("m") == 4 * U);  // yes → 0 loses 4
  r.q.OnFill(0, r.no, Side::kBuy, 550'000, 10 * U, 0, r.now);
  CHECK(r.q.MarketExposure("m") == 0);      // paid 9.5 for a sure 10
  r.q.OnFill(0, r.no, Side::kBuy, 500'000, 10 * U, 0, r.now);
  CHECK(r.q.MarketExposure("m") == 4'500'000);  // paid 14.5: yes wins pays 10, no wins pays 20
  CHECK(r.q.TotalExposure() == 4'500'000);
  // Without the pairing the same fills would count as 4 + 5.5 + 5 = 14.5.
  Rig s(Params{}, false);
  s.q.OnFill(0, s.yes, Side::kBuy, 400'000, 10 * U, 0, s.now);
  s.q.OnFill(0, s.no, Side::kBuy, 550'000, 10 * U, 0, s.now);
  s.q.OnFill(0, s.no, Side::kBuy, 500'000, 10 * U, 0, s.now);
  CHECK(s.q.MarketExposure("m") == 14'500'000);
}

TEST_CASE("the market exposure cap trims sizes") {
  Params p;
  p.max_market_exposure = 5 * U;
  p.order_size = 20 * U;
  p.size_skew = false;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  auto v = r.Ladder();
  // Both buys cannot lose together, so each may use the whole cap: 5 / 0.48 = 10.41.
  CHECK(Rig::Find(v, Slot::kBid)->size == 10'410'000);
  CHECK(Rig::Find(v, Slot::kAskComplement)->size == 10'410'000);
  r.Eval();
  CHECK(r.q.MarketExposure("m") <= 5 * U);
  CHECK(r.q.MarketExposure("m") == MulCeil(480'000, 10'410'000));
}

TEST_CASE("the total exposure cap is shared by markets") {
  Params p;
  p.max_total_exposure = 7 * U;
  p.size_skew = false;
  p.min_order_size = 1 * U;
  Quoter q(p);
  const TokenId a = q.AddToken("ma", "yes");
  const TokenId b = q.AddToken("mb", "yes");
  const uint32_t ia = q.AddInstrument(a);
  const uint32_t ib = q.AddInstrument(b);
  q.OnBook(a, Rig::Book(490'000, 510'000), 0);
  q.OnBook(b, Rig::Book(490'000, 510'000), 0);
  q.Evaluate(ia, 0);
  q.Evaluate(ib, 0);
  std::map<TokenId, int64_t> size;
  for (const PlaceAction& x : q.outbox().places) size[x.token] += x.size;
  CHECK(size[a] == 10 * U);     // 4.8 of the 7
  CHECK(size[b] == 4'580'000);  // 2.2 / 0.48 = 4.58
  CHECK(q.TotalExposure() <= 7 * U);
}

TEST_CASE("order notional, open orders and fees are capped too") {
  SECTION("max_order_notional") {
    Params p;
    p.max_order_notional = 3 * U;
    p.size_skew = false;
    Rig r(p);
    r.SetBooks(490'000, 510'000);
    CHECK(Rig::Find(r.Ladder(), Slot::kBid)->size == 6'250'000);  // 3 / 0.48
  }
  SECTION("max_open_orders") {
    Params p;
    p.levels = 5;
    p.max_open_orders = 3;
    p.max_position = 1000 * U;
    p.max_market_exposure = 1000 * U;
    p.max_total_exposure = 1000 * U;
    Rig r(p);
    r.SetBooks(490'000, 510'000);
    r.Eval();
    CHECK(r.places.size() == 3);
    CHECK(r.OpenOrders() == 3);
  }
  SECTION("fees are reserved") {
    Params p;
    p.max_market_exposure = 5 * U;
    p.order_size = 20 * U;
    p.fee_rate_bps = 1000;  // 10% of p(1−p)
    p.size_skew = false;
    Rig r(p);
    r.SetBooks(490'000, 510'000);
    const int64_t s = Rig::Find(r.Ladder(), Slot::kBid)->size;
    CHECK(MulCeil(480'000, s) + FeeMicros(480'000, s, 1000) <= 5 * U);
    CHECK(MulCeil(480'000, s + C) + FeeMicros(480'000, s + C, 1000) > 5 * U);
  }
}

// ---- the refresh policy --------------------------------------------------------------------

TEST_CASE("quotes are placed once and kept while nothing changes") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  REQUIRE(r.places.size() == 2);
  CHECK(r.q.InFlight() == 2);
  r.Eval();  // undecided plans are open orders: nothing twice
  CHECK(r.places.empty());
  CHECK(r.cancels.empty());
  r.AcceptAll();
  CHECK(r.q.InFlight() == 0);
  r.now += 10'000;
  r.Eval();
  CHECK(r.places.empty());
  CHECK(r.cancels.empty());
}

TEST_CASE("a moved market is requoted, but not faster than min_requote_ms") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  const uint64_t old_bid = r.Find(Slot::kBid)->local_id;
  r.now += 500;
  r.SetBooks(500'000, 520'000);  // mid 0.51: bid 0.49 wanted, 0.48 resting
  r.Eval();
  CHECK(r.places.empty());  // 500 ms old: kept
  CHECK(r.cancels.empty());
  r.now += 500;
  r.Eval();
  REQUIRE(r.cancels.size() == 2);
  CHECK(r.cancels[0].plan_id == old_bid);
  REQUIRE(r.places.size() == 2);  // replace mode, caps loose: new quotes at once
  CHECK(r.Find(Slot::kBid)->price == 490'000);
  CHECK(r.Find(Slot::kAskComplement)->price == 470'000);
  // The old orders still count until their cancel is confirmed.
  CHECK(r.OpenOrders() == 4);
  r.ConfirmCancels();
  CHECK(r.OpenOrders() == 2);
}

TEST_CASE("price and size tolerance keep orders that are close enough") {
  Params p;
  p.price_tolerance = 10'000;
  p.size_tolerance_bps = 3500;
  p.max_position = 40 * U;
  p.ask_mode = AskMode::kSell;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.now += 5'000;
  r.SetBooks(500'000, 520'000);  // one tick away
  r.Eval();
  CHECK(r.cancels.empty());
  r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 10 * U, 0, r.now);  // r = 0.25: 7.5 / 12.5 wanted, 10 rest
  r.now += 5'000;
  r.Eval();
  CHECK(r.cancels.empty());  // 33% and 20% off: within 35%
  r.q.OnFill(0, r.yes, Side::kBuy, 480'000, 6 * U, 0, r.now);  // r = 0.4: 6 / 14 wanted
  r.now += 5'000;
  r.Eval();
  REQUIRE(r.cancels.size() == 1);  // the bid is 67% off, the ask 29%
  CHECK(r.q.order_by_plan(r.cancels[0].plan_id)->slot == Slot::kBid);
}

TEST_CASE("max_order_age_ms refreshes orders even within tolerance") {
  Params p;
  p.max_order_age_ms = 30'000;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.now += 29'999;
  r.Eval();
  CHECK(r.cancels.empty());
  r.now += 1;
  r.Eval();
  CHECK(r.cancels.size() == 2);
  CHECK(r.places.size() == 2);
}

TEST_CASE("a quote on the wrong side of the reference is replaced at once") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.now += 10;
  r.SetBooks(410'000, 430'000);  // mid 0.42: our ask (as a no bid at 0.48 ≡ ask 0.52) is fine, our bid 0.48 is above it
  r.Eval();
  REQUIRE(r.cancels.size() == 1);
  CHECK(r.q.order_by_plan(r.cancels[0].plan_id)->slot == Slot::kBid);
  REQUIRE(r.places.size() == 1);
  CHECK(r.places[0].price == 400'000);
}

TEST_CASE("cancel_first waits for the cancel before placing the replacement") {
  Params p;
  p.replace_mode = ReplaceMode::kCancelFirst;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.now += 2'000;
  r.SetBooks(500'000, 520'000);
  r.Eval();
  CHECK(r.cancels.size() == 2);
  CHECK(r.places.empty());
  const auto cancels = r.cancels;
  r.Eval();
  CHECK(r.places.empty());
  CHECK(r.cancels.empty());  // not sent twice
  for (const auto& c : cancels) r.Cancelled(c.plan_id);
  r.Eval();
  CHECK(r.places.size() == 2);
}

TEST_CASE("a cancel that is never confirmed is sent again") {
  Params p;
  p.cancel_retry_ms = 3'000;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.q.SetStale(r.yes, true);
  r.Eval();
  CHECK(r.cancels.size() == 2);
  r.now += 2'999;
  r.Eval();
  CHECK(r.cancels.empty());
  r.now += 1;
  r.Eval();
  CHECK(r.cancels.size() == 2);
}

TEST_CASE("no new orders for fill_delay_ms after a fill; cancels still go out") {
  Params p;
  p.fill_delay_ms = 2'000;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  const uint64_t bid = r.Find(Slot::kBid)->local_id;
  r.Fill(bid, 10 * U);
  r.now += 1'500;
  r.SetBooks(470'000, 490'000);  // mid 0.48: the no bid (ask 0.52) must move
  r.Eval();
  CHECK(r.places.empty());
  CHECK(r.cancels.size() == 1);
  r.now += 500;
  r.Eval();
  CHECK_FALSE(r.places.empty());
}

TEST_CASE("hanging orders survive requotes until too far away") {
  Params p;
  p.hanging_orders = true;
  p.hanging_cancel_distance = 50'000;
  p.fill_delay_ms = 0;
  p.ask_mode = AskMode::kSell;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  const uint64_t bid = r.Find(Slot::kBid)->local_id;
  const uint64_t ask = r.Find(Slot::kAsk)->local_id;
  r.Fill(bid, 10 * U);
  CHECK(r.q.order_by_plan(ask)->hanging);
  r.now += 2'000;
  r.SetBooks(470'000, 490'000);  // mid 0.48: the ask at 0.52 would be requoted, but it hangs
  r.Eval();
  for (const auto& c : r.cancels) CHECK(c.plan_id != ask);
  CHECK(r.Find(Slot::kAsk) != nullptr);  // a new ask beside it
  r.now += 2'000;
  r.SetBooks(440'000, 460'000);  // mid 0.45: 0.52 is 0.07 away
  r.Eval();
  bool cancelled = false;
  for (const auto& c : r.cancels) cancelled = cancelled || c.plan_id == ask;
  CHECK(cancelled);
}

TEST_CASE("an identical order is not placed again within repeat_guard_ms") {
  Params p;
  p.repeat_guard_ms = 1'000;
  p.reject_backoff_ms = 0;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  const auto first = r.places;
  r.q.SetStale(r.yes, true);
  r.Eval();
  r.ConfirmCancels();
  r.q.SetStale(r.yes, false);
  r.now += 999;
  r.Eval();
  CHECK(r.places.empty());  // the host would reject these as duplicates
  r.now += 1;
  r.Eval();
  REQUIRE(r.places.size() == 2);
  CHECK(r.places[0].price == first[0].price);
  CHECK(r.places[0].size == first[0].size);
}

// ---- caps with fills in flight (the adversarial cases) --------------------------------------

TEST_CASE("replacing a bid never doubles the position when the old one fills before its cancel") {
  Params p;
  p.max_position = 10 * U;
  p.size_skew = false;
  p.fill_delay_ms = 0;
  p.ask_mode = AskMode::kInventory;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  const uint64_t old_bid = r.Find(Slot::kBid)->local_id;
  r.now += 2'000;
  r.SetBooks(500'000, 520'000);
  r.Eval();
  CHECK(r.cancels.size() == 1);
  CHECK(r.places.empty());  // 10 resting + 10 new would be 20 > 10: wait for the cancel
  CHECK(r.q.PositionWorst(r.inst).long_side == 10 * U);
  // The venue fills the old bid before the cancel lands.
  r.Fill(old_bid, 10 * U);
  CHECK(r.q.EffectivePosition(r.inst) == 10 * U);
  r.now += 10;
  r.Eval();
  CHECK(r.Find(Slot::kBid) == nullptr);
  CHECK(r.q.PositionWorst(r.inst).long_side == 10 * U);
}

TEST_CASE("a partial fill during a cancel leaves room only for the rest") {
  Params p;
  p.max_position = 10 * U;
  p.size_skew = false;
  p.fill_delay_ms = 0;
  p.ask_mode = AskMode::kInventory;
  p.min_order_size = 1 * U;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  const uint64_t old_bid = r.Find(Slot::kBid)->local_id;
  r.now += 2'000;
  r.SetBooks(500'000, 520'000);
  r.Eval();
  // on_fill arrives before the order update: the position moves first.
  r.q.OnFill(old_bid, r.yes, Side::kBuy, 480'000, 4 * U, 0, r.now);
  CHECK(r.q.PositionWorst(r.inst).long_side == 10 * U);  // 4 held + 6 still open
  r.q.OnProgress(old_bid, 4 * U, r.now);
  CHECK(r.q.PositionWorst(r.inst).long_side == 10 * U);
  r.Cancelled(old_bid);
  CHECK(r.q.PositionWorst(r.inst).long_side == 4 * U);
  r.Eval();
  REQUIRE(r.Find(Slot::kBid));
  CHECK(r.Find(Slot::kBid)->size == 6 * U);
  CHECK(r.Find(Slot::kAsk)->size == 4 * U);  // the 4 held are offered
}

TEST_CASE("duplicated or late reports do not inflate or deflate the caps") {
  Params p;
  p.max_position = 10 * U;
  p.size_skew = false;
  p.ask_mode = AskMode::kInventory;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  const uint64_t bid = r.Find(Slot::kBid)->local_id;
  // The order update is ahead of its on_fill: the 3 are booked at once, at the limit.
  r.q.OnProgress(bid, 3 * U, r.now);
  CHECK(r.q.EffectivePosition(r.inst) == 3 * U);
  CHECK(r.q.order_by_plan(bid)->remaining() == 7 * U);
  CHECK(r.q.PositionWorst(r.inst).long_side == 10 * U);
  r.AcceptAll();
  r.q.OnProgress(bid, 2 * U, r.now);  // an older cumulative figure arrives late: ignored
  CHECK(r.q.order_by_plan(bid)->filled == 3 * U);
  // The fill itself, at a better price: the position stays, the cost is corrected.
  r.q.OnFill(bid, r.yes, Side::kBuy, 470'000, 3 * U, 0, r.now);
  CHECK(r.q.EffectivePosition(r.inst) == 3 * U);
  CHECK(r.q.tokens()[r.yes].net_cost == 1'410'000);
  CHECK(r.q.order_by_plan(bid)->filled == 3 * U);
  r.q.OnProgress(bid, 3 * U, r.now);
  CHECK(r.q.PositionWorst(r.inst).long_side == 10 * U);
  // The usual order: on_fill first, then the update with the same figure.
  r.q.OnFill(bid, r.yes, Side::kBuy, 480'000, 2 * U, 0, r.now);
  r.q.OnProgress(bid, 5 * U, r.now);
  CHECK(r.q.order_by_plan(bid)->filled == 5 * U);
  CHECK(r.q.EffectivePosition(r.inst) == 5 * U);
  CHECK(r.q.PositionWorst(r.inst).long_side == 10 * U);
  // An over-fill (a venue bug) is clamped on the order; the position is real.
  r.q.OnFill(bid, r.yes, Side::kBuy, 480'000, 7 * U, 0, r.now);
  CHECK(r.q.order_by_plan(bid)->remaining() == 0);
  CHECK(r.q.EffectivePosition(r.inst) == 12 * U);
  // A fill for a plan the quoter never knew moves the position all the same.
  r.q.OnFill(999, r.yes, Side::kSell, 500'000, 2 * U, 0, r.now);
  CHECK(r.q.EffectivePosition(r.inst) == 10 * U);
}

TEST_CASE("an order closed by an update before its fills keeps them booked") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  const uint64_t bid = r.Find(Slot::kBid)->local_id;
  r.q.OnProgress(bid, 10 * U, r.now);  // FILLED, and no on_fill yet
  r.q.OnClosed(bid, false, "", r.now);
  CHECK(r.q.order_by_plan(bid) == nullptr);
  CHECK(r.q.EffectivePosition(r.inst) == 10 * U);
  CHECK(r.q.tokens()[r.yes].net_cost == 4'800'000);
  r.q.OnFill(bid, r.yes, Side::kBuy, 460'000, 4 * U, 0, r.now);  // the fills arrive later
  r.q.OnFill(bid, r.yes, Side::kBuy, 480'000, 6 * U, 0, r.now);
  CHECK(r.q.EffectivePosition(r.inst) == 10 * U);
  CHECK(r.q.tokens()[r.yes].net_cost == 4'720'000);
  r.q.OnFill(bid, r.yes, Side::kBuy, 480'000, 1 * U, 0, r.now);  // more than reported: real
  CHECK(r.q.EffectivePosition(r.inst) == 11 * U);
}

TEST_CASE("in-flight plans count against the caps and the sink") {
  Params p;
  p.levels = 4;
  p.max_plans_in_flight = 3;
  p.max_position = 1000 * U;
  p.max_market_exposure = 1000 * U;
  p.max_total_exposure = 1000 * U;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  CHECK(r.places.size() == 3);
  r.Eval();
  CHECK(r.places.empty());
  r.AcceptAll();
  r.Eval();
  CHECK(r.places.size() == 3);
  r.AcceptAll();
  r.Eval();
  CHECK(r.places.size() == 2);
  CHECK(r.q.stats().deferred > 0);
}

TEST_CASE("the evaluation budget bounds the plans per call") {
  Params p;
  p.levels = 4;
  p.max_position = 1000 * U;
  p.max_market_exposure = 1000 * U;
  p.max_total_exposure = 1000 * U;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.Evaluate(r.inst, r.now, 5);
  r.Drain();
  CHECK(r.places.size() == 5);
  r.q.Evaluate(r.inst, r.now, 0);
  r.Drain();
  CHECK(r.places.empty());
}

// ---- rejections and the kill switch ---------------------------------------------------------

TEST_CASE("a rejected plan frees its caps and backs off") {
  Params p;
  p.reject_backoff_ms = 1'000;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  const uint64_t bid = r.Find(Slot::kBid)->local_id;
  r.q.OnPlanRejected(bid, "max_market_notional: too much", r.now);
  CHECK(r.q.order_by_plan(bid) == nullptr);
  CHECK(r.OpenOrders() == 1);
  r.Eval();
  CHECK(r.places.empty());  // backing off
  r.now += 1'000;
  r.Eval();
  CHECK(r.places.size() == 1);
}

TEST_CASE("rejections in a row trip the kill switch; duplicates do not count") {
  Params p;
  p.kill_max_rejects = 3;
  p.reject_backoff_ms = 0;
  p.repeat_guard_ms = 0;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  for (int i = 0; i < 5; ++i) {
    r.Eval();
    for (const auto& a : r.places) r.q.OnPlanRejected(a.local_id, "duplicate_plan: same legs", r.now);
  }
  CHECK_FALSE(r.q.killed());
  r.Eval();
  r.q.OnPlanRejected(r.places.at(0).local_id, "tick_misaligned: no", r.now);
  r.q.OnPlanRejected(r.places.at(1).local_id, "tick_misaligned: no", r.now);
  CHECK_FALSE(r.q.killed());
  r.Eval();
  r.q.OnPlanAccepted(r.places.at(0).local_id);  // an acceptance resets the count
  r.q.OnPlanRejected(r.places.at(1).local_id, "tick_misaligned: no", r.now);
  CHECK_FALSE(r.q.killed());
  r.q.OnClosed(r.places.at(0).local_id, true, "venue says no", r.now);
  r.Eval();
  for (const auto& a : r.places) r.q.OnPlanRejected(a.local_id, "tick_misaligned: no", r.now);
  CHECK(r.q.killed());
  r.Drain();
  CHECK(r.cancel_all);
}

TEST_CASE("the host's kill switch trips ours at once and it stays tripped") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.q.OnPlanAccepted(r.places[0].local_id);
  r.q.OnPlanRejected(r.places[1].local_id, "kill_switch: kill switch is on for plugin spread", r.now);
  CHECK(r.q.killed());
  r.Drain();
  CHECK(r.cancel_all);
  for (const auto& [id, o] : r.q.orders()) CHECK(o.state == Quoter::OrderState::kCancelling);
  r.now += 60'000;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  CHECK(r.places.empty());
  CHECK(r.q.PullReason(r.inst, r.now) == "kill switch");
}

TEST_CASE("the loss kill switch watches positions at mid") {
  Params p;
  p.kill_max_loss = 2 * U;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.OnFill(0, r.yes, Side::kBuy, 500'000, 10 * U, 0, r.now);
  CHECK(r.q.MarkedPnl() == 0);
  r.SetBooks(340'000, 360'000);  // mid 0.35: −1.5
  CHECK_FALSE(r.q.killed());
  r.SetBooks(290'000, 310'000);  // mid 0.30: −2
  CHECK_FALSE(r.q.killed());
  r.SetBooks(280'000, 300'000);  // mid 0.29: −2.1
  CHECK(r.q.killed());
}

TEST_CASE("Stop cancels everything once and quoting resumes after it") {
  Params p;
  p.repeat_guard_ms = 0;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.q.Stop("plugin deactivated", r.now);
  r.Drain();
  CHECK(r.cancel_all);
  CHECK(r.cancels.empty());
  std::vector<uint64_t> plans;
  for (const auto& [id, o] : r.q.orders()) plans.push_back(o.plan_id);
  for (uint64_t plan : plans) r.Cancelled(plan);
  CHECK(r.OpenOrders() == 0);
  r.Eval();
  CHECK(r.places.size() == 2);
  CHECK_FALSE(r.q.killed());
}

// ---- safety pulls ----------------------------------------------------------------------------

TEST_CASE("quotes are pulled when the book is unsafe and come back when it heals") {
  Params p;
  p.max_book_age_ms = 10'000;
  p.max_market_spread = 200'000;
  p.repeat_guard_ms = 0;  // the same quotes come back at once
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  auto pulled_then_healed = [&](auto&& spoil, auto&& heal, std::string_view reason) {
    spoil();
    r.Eval();
    CHECK(r.cancels.size() == 2);
    CHECK(r.places.empty());
    CHECK(r.q.PullReason(r.inst, r.now).starts_with(reason));
    r.ConfirmCancels();
    r.Eval();
    CHECK(r.places.empty());  // nothing while unsafe
    heal();
    r.Eval();
    CHECK(r.places.size() == 2);
    r.AcceptAll();
  };
  SECTION("stale status") {
    pulled_then_healed([&] { r.q.SetStale(r.yes, true); }, [&] { r.q.SetStale(r.yes, false); }, "book is stale");
  }
  SECTION("stale book view") {
    pulled_then_healed(
        [&] {
          Top t = Rig::Book(490'000, 510'000);
          t.stale = true;
          r.q.OnBook(r.yes, t, r.now);
        },
        [&] { r.SetBooks(490'000, 510'000); }, "book is stale");
  }
  SECTION("crossed") {
    pulled_then_healed([&] { r.SetBook(r.yes, 520'000, 510'000); }, [&] { r.SetBooks(490'000, 510'000); },
                       "book is crossed");
  }
  SECTION("locked") {
    pulled_then_healed([&] { r.SetBook(r.yes, 500'000, 500'000); }, [&] { r.SetBooks(490'000, 510'000); },
                       "book is crossed");
  }
  SECTION("one side empty") {
    pulled_then_healed([&] { r.SetBook(r.yes, 490'000, 0); }, [&] { r.SetBooks(490'000, 510'000); },
                       "no reference price");
  }
  SECTION("spread too wide") {
    pulled_then_healed([&] { r.SetBook(r.yes, 300'000, 510'000); }, [&] { r.SetBooks(490'000, 510'000); },
                       "market spread");
  }
  SECTION("silent book") {
    pulled_then_healed([&] { r.now += 10'001; }, [&] { r.SetBooks(490'000, 510'000); }, "no book update");
  }
  SECTION("host paused") {
    pulled_then_healed([&] { r.q.SetPaused(true, r.now); }, [&] { r.q.SetPaused(false, r.now); }, "host paused");
  }
}

TEST_CASE("after a resync, quoting waits for the fresh book") {
  Params p;
  p.repeat_guard_ms = 0;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.q.SetStale(r.yes, true);
  r.Eval();
  r.ConfirmCancels();
  r.q.OnResynced(r.yes);  // the status comes before the new book
  r.Eval();
  CHECK(r.places.empty());
  CHECK(r.q.PullReason(r.inst, r.now) == "no book yet");
  r.SetBooks(540'000, 560'000);
  r.Eval();
  REQUIRE(r.Find(Slot::kBid));
  CHECK(r.Find(Slot::kBid)->price == 530'000);  // from the new book, not the old one
}

TEST_CASE("a second evaluation while cancels are in flight waits instead of placing smaller quotes") {
  Params p;
  p.max_position = 20 * U;
  p.size_skew = false;
  p.min_requote_ms = 0;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.SetBooks(500'000, 520'000);
  r.Eval();  // cancels both, places both again (20 worst each way: fits)
  CHECK(r.cancels.size() == 2);
  CHECK(r.places.size() == 2);
  r.SetBooks(510'000, 530'000);
  r.Eval();  // the new ones are replaced too, but the first cancels are still in flight
  CHECK(r.cancels.size() == 2);
  CHECK(r.places.empty());
  r.Eval();  // and again: nothing smaller squeezed in
  CHECK(r.places.empty());
  CHECK(r.q.PositionWorst(r.inst).long_side <= 20 * U);
}

TEST_CASE("a closed market is pulled for good") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.q.SetClosed(r.yes);
  r.Eval();
  CHECK(r.cancels.size() == 2);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  CHECK(r.places.empty());
  CHECK(r.q.PullReason(r.inst, r.now) == "market closed");
}

TEST_CASE("a stale complement book drops only the complement legs") {
  Rig r;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  r.AcceptAll();
  r.q.SetStale(r.no, true);
  r.Eval();
  REQUIRE(r.cancels.size() == 1);
  CHECK(r.q.order_by_plan(r.cancels[0].plan_id)->slot == Slot::kAskComplement);
  CHECK(r.places.empty());
}

TEST_CASE("while the complement book is unusable, held complement is not replaced by buying") {
  Params p;
  p.size_skew = false;
  Rig r(p);
  r.SetBooks(490'000, 510'000);
  r.q.OnFill(0, r.no, Side::kBuy, 480'000, 10 * U, 0, r.now);
  r.Eval();
  r.AcceptAll();
  REQUIRE(r.Find(Slot::kBidComplement));
  CHECK(r.Find(Slot::kBid) == nullptr);
  r.SetBook(r.no, 480'000, 470'000);  // the complement's book crosses for a moment
  r.Eval();
  REQUIRE(r.cancels.size() == 2);  // both orders on the complement
  for (const auto& c : r.cancels) CHECK(IsComplementSlot(r.q.order_by_plan(c.plan_id)->slot));
  CHECK(r.places.empty());  // no BUY yes in place of the held no
  r.ConfirmCancels();
  r.now += 1'000;
  r.SetBooks(490'000, 510'000);
  r.Eval();
  REQUIRE(r.places.size() == 2);
  CHECK(r.Find(Slot::kBidComplement) != nullptr);
  CHECK(r.Find(Slot::kAskComplement) != nullptr);
}

TEST_CASE("quotes are pulled for good pull_before_close_ms before the market's end time") {
  Params p;
  p.pull_before_close_ms = 60'000;
  p.repeat_guard_ms = 0;
  Rig r(p);
  const int64_t end = r.now + 100'000;  // the catalog's endDate
  r.q.SetEndTime(r.yes, end);
  r.SetBooks(490'000, 510'000);
  r.Eval();
  CHECK(r.places.size() == 2);  // 100 s before the end: quoting
  r.AcceptAll();
  r.now = end - 60'001;  // one ms before the threshold: still quoting
  r.SetBooks(490'000, 510'000);
  r.Eval();
  CHECK(r.q.PullReason(r.inst, r.now).empty());
  r.AcceptAll();
  const size_t open = r.q.orders().size();
  REQUIRE(open == 2);
  const size_t notes = r.notes.size();
  r.now = end - 60'000;  // exactly at the threshold: everything is cancelled
  r.Eval();
  CHECK(r.cancels.size() == open);
  CHECK(r.places.empty());
  CHECK(r.q.PullReason(r.inst, r.now).starts_with("market closes at "));
  REQUIRE(r.notes.size() == notes + 1);  // logged once, at info
  CHECK_FALSE(r.notes.back().warn);
  CHECK(r.notes.back().text.find("quoting no more") != std::string::npos);
  r.ConfirmCancels();
  // Fresh books, timers, even an end time moved later: no quote ever again.
  r.q.SetEndTime(r.yes, end + 10'000'000);
  for (int i = 0; i < 5; ++i) {
    r.now += 1'000;
    r.SetBooks(490'000, 510'000);
    r.Eval();
    CHECK(r.places.empty());
  }
  CHECK(r.notes.size() == notes + 1);
  CHECK(r.q.orders().empty());
}

TEST_CASE("pull_before_close_ms = 0 or an unknown end time never pulls") {
  SECTION("disabled") {
    Params p;
    p.pull_before_close_ms = 0;
    Rig r(p);
    r.q.SetEndTime(r.yes, r.now - 1);  // already past: still quoted (the host's closed status pulls)
    r.SetBooks(490'000, 510'000);
    r.Eval();
    CHECK(r.places.size() == 2);
  }
  SECTION("no end time") {
    Rig r;
    CHECK(r.q.params().pull_before_close_ms == 3'600'000);  // default: 1 h
    r.SetBooks(490'000, 510'000);
    r.Eval();
    CHECK(r.places.size() == 2);
  }
  SECTION("validation") {
    Params p;
    p.pull_before_close_ms = -1;
    CHECK(Validate(p) == "pull_before_close_ms must not be negative");
  }
}

TEST_CASE("pulls are logged once per change of reason") {
  Rig r;
  r.Eval();  // no book yet: quiet
  CHECK(r.notes.empty());
  r.SetBooks(490'000, 510'000);
  r.Eval();
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0].text.starts_with("quoting m/yes around mid 0.5"));
  r.q.SetStale(r.yes, true);
  r.Eval();
  r.Eval();
  REQUIRE(r.notes.size() == 2);
  CHECK(r.notes[1].warn);
  CHECK(r.notes[1].text == "pulling quotes on m/yes: book is stale");
  CHECK(r.q.stats().pulls == 1);
}

// ---- adversarial random sequences ---------------------------------------------------------------

// Random books, decisions, fills (partial, in any order, including on orders being
// cancelled), lost and late cancels: after every step the caps hold in the worst
// case, positions never go negative, and every order was placed on the grid,
// inside [tick, 1 − tick] and (for its own book) not crossing.
void RandomRun(uint32_t seed, Params p) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  Quoter q(p);
  const TokenId yes = q.AddToken("m", "yes");
  const TokenId no = q.AddToken("m", "no");
  const TokenId other = q.AddToken("m2", "yes");
  const uint32_t inst = q.AddInstrument(yes);
  REQUIRE(q.SetComplement(inst, no));
  const uint32_t inst2 = q.AddInstrument(other);
  int64_t now = 0;
  uint64_t next_plan = 1;
  std::map<TokenId, Top> books;
  int64_t mid = 500'000;
  std::set<uint64_t> lost_cancels;

  int64_t peak_position = 0, peak_exposure = 0;
  auto check = [&] {
    for (uint32_t i : {inst, inst2}) {
      const auto w = q.PositionWorst(i);
      REQUIRE(w.long_side <= p.max_position);
      REQUIRE(w.short_side <= p.max_position);
      peak_position = std::max({peak_position, w.long_side, w.short_side});
    }
    peak_exposure = std::max(peak_exposure, q.TotalExposure());
    REQUIRE(q.MarketExposure("m") <= p.max_market_exposure);
    REQUIRE(q.MarketExposure("m2") <= p.max_market_exposure);
    REQUIRE(q.TotalExposure() <= p.max_total_exposure);
    REQUIRE(static_cast<int64_t>(q.orders().size()) <= p.max_open_orders);
    for (const auto& t : q.tokens()) REQUIRE(t.position >= 0);
  };
  auto drain = [&] {
    Outbox& out = q.outbox();
    for (const PlaceAction& a : out.places) {
      const int64_t tick = q.TickOf(a.token);
      REQUIRE(a.price >= tick);
      REQUIRE(a.price <= kOne - tick);
      REQUIRE(a.price % tick == 0);
      REQUIRE(a.size >= p.min_order_size);
      REQUIRE(a.size % p.lot_size == 0);
      const Top& b = books[a.token];
      if (a.side == Side::kBuy && b.ask > 0) REQUIRE(a.price < b.ask);
      if (a.side == Side::kSell && b.bid > 0) REQUIRE(a.price > b.bid);
      REQUIRE_FALSE(q.killed());
      q.OnSubmitted(a.local_id, next_plan++);
    }
    for (const CancelAction& c : out.cancels) {
      REQUIRE(q.order_by_plan(c.plan_id) != nullptr);
      if (pick(5) == 0) lost_cancels.insert(c.plan_id);
    }
    out.clear();
  };

  for (int step = 0; step < 3000; ++step) {
    now += pick(400);
    const int64_t what = pick(100);
    if (what < 25) {  // a book moves (mirror books, sometimes broken)
      mid = std::clamp<int64_t>(mid + (pick(7) - 3) * 10'000, 50'000, 950'000);
      const int64_t half = (1 + pick(3)) * 10'000;
      Top t = Rig::Book(mid - half, mid + half, (1 + pick(200)) * U, (1 + pick(200)) * U);
      if (pick(30) == 0) std::swap(t.bid, t.ask);  // crossed
      if (pick(30) == 0) t.stale = true;
      const TokenId tok = pick(3) == 0 ? other : yes;
      q.OnBook(tok, t, now);
      books[tok] = t;
      if (tok == yes) {
        Top n = Rig::Book(kOne - t.ask, kOne - t.bid, t.ask_size, t.bid_size);
        n.stale = pick(20) == 0;
        q.OnBook(no, n, now);
        books[no] = n;
      }
      q.Evaluate(tok == other ? inst2 : inst, now, 1 + pick(8));
    } else if (what < 35) {
      q.EvaluateAll(now, 1 + pick(8));
    } else if (what < 55) {  // the host decides on undecided plans
      for (const auto& [id, o] : std::map<uint64_t, Quoter::Order>(q.orders())) {
        if (o.decided || o.plan_id == 0) continue;
        if (pick(10) == 0) {
          q.OnPlanRejected(o.plan_id, pick(2) ? "duplicate_plan: again" : "max_open_orders: full", now);
        } else {
          q.OnPlanAccepted(o.plan_id);
          if (pick(4) != 0) q.OnAcked(o.plan_id);
        }
      }
    } else if (what < 80) {  // fills on any open order, cancelling or not, decided or not
      std::vector<Quoter::Order> open;
      for (const auto& [id, o] : q.orders()) {
        if (o.plan_id != 0 && o.remaining() > 0) open.push_back(o);
      }
      if (!open.empty()) {
        const Quoter::Order& o = open[static_cast<size_t>(pick(static_cast<int64_t>(open.size())))];
        const int64_t lots = o.remaining() / p.lot_size;
        const int64_t size = (1 + pick(lots)) * p.lot_size;
        // At our limit or better.
        const int64_t price = o.side == Side::kBuy ? std::max<int64_t>(o.price - pick(2) * 10'000, 10'000)
                                                   : std::min<int64_t>(o.price + pick(2) * 10'000, 990'000);
        const int64_t fee = FeeMicros(price, size, p.fee_rate_bps);
        const int64_t cum = o.filled + size;
        if (pick(2) == 0) {  // either order of reports
          q.OnFill(o.plan_id, o.token, o.side, price, size, fee, now);
          q.OnProgress(o.plan_id, cum, now);
        } else {
          q.OnProgress(o.plan_id, cum, now);
          q.OnFill(o.plan_id, o.token, o.side, price, size, fee, now);
        }
        if (cum >= o.size) q.OnClosed(o.plan_id, false, "", now);
      }
    } else if (what < 95) {  // cancels land (except lost ones), some orders die at the venue
      for (const auto& [id, o] : std::map<uint64_t, Quoter::Order>(q.orders())) {
        if (o.state == Quoter::OrderState::kCancelling && !lost_cancels.count(o.plan_id) && pick(2) == 0) {
          q.OnClosed(o.plan_id, false, "cancelled", now);
        } else if (o.plan_id != 0 && pick(200) == 0) {
          q.OnClosed(o.plan_id, true, "venue rejected", now);
        }
      }
      if (pick(10) == 0) lost_cancels.clear();  // the retries get through
    } else {
      q.SetPaused(pick(4) == 0, now);
    }
    drain();
    check();
  }
  // The sequence exercised what it was meant to: the caps were reached.
  CHECK(q.stats().fills > 20);
  CHECK(q.stats().cancels > 20);
  CHECK(q.stats().deferred > 0);
  CHECK(peak_exposure > std::min(p.max_market_exposure, p.max_total_exposure) * 8 / 10);
  CHECK(peak_position > p.max_position / 2);
  UNSCOPED_INFO("seed " << seed << ": peak position " << Dec(peak_position) << " of " << Dec(p.max_position)
                        << ", peak exposure " << Dec(peak_exposure) << " (caps " << Dec(p.max_market_exposure) << "/"
                        << Dec(p.max_total_exposure) << ")"
                        << ", fills " << q.stats().fills << ", deferred " << q.stats().deferred);
}

TEST_CASE("caps hold in the worst case under random adversarial sequences") {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    Params p;
    p.max_position = (10 + (seed % 4) * 10) * U;
    p.max_market_exposure = (5 + seed % 3 * 5) * U;
    p.max_total_exposure = 12 * U;
    p.levels = 1 + seed % 3;
    p.size_increment = 2 * U;
    p.min_requote_ms = seed % 2 ? 0 : 500;
    p.fill_delay_ms = seed % 3 == 0 ? 0 : 300;
    p.replace_mode = seed % 2 ? ReplaceMode::kReplace : ReplaceMode::kCancelFirst;
    p.hanging_orders = seed % 4 == 1;
    p.max_open_orders = 12;
    p.kill_max_rejects = 0;
    p.reject_backoff_ms = 100;
    p.ask_mode = seed % 5 == 0 ? AskMode::kInventory : AskMode::kComplement;
    INFO("seed " << seed);
    RandomRun(seed, p);
  }
}

TEST_CASE("the same inputs give the same decisions") {
  auto run = [] {
    Params p;
    p.levels = 2;
    Rig r(p);
    std::vector<std::string> log;
    for (int i = 0; i < 50; ++i) {
      r.now += 700;
      const int64_t mid = 400'000 + (i * 37 % 11) * 10'000;
      r.SetBooks(mid - 10'000, mid + 10'000);
      r.Eval();
      for (const auto& a : r.places) log.push_back("P" + a.reason);
      for (const auto& c : r.cancels) log.push_back("C" + std::to_string(c.plan_id) + c.reason);
      r.AcceptAll();
      r.ConfirmCancels();
      if (i % 7 == 3 && !r.q.orders().empty()) r.Fill(r.q.orders().begin()->second.plan_id, 5 * U);
    }
    return log;
  };
  const auto a = run();
  CHECK(a.size() > 20);
  CHECK(a == run());
}

}  // namespace
}  // namespace polyhost::spread

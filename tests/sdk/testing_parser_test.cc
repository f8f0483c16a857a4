// The parts of <polyhost/sdk/testing.hpp> that need no polyhost binary: exact
// decimals and the canonical-JSONL parser.
#include <catch2/catch.hpp>

#include <polyhost/sdk/testing.hpp>

using namespace polyhost::sdk;
using namespace polyhost::sdk::testing;

TEST_CASE("micros() reads canonical decimals exactly") {
  CHECK(micros("0") == 0);
  CHECK(micros("0.45") == 450'000);
  CHECK(micros("0.5") == 500'000);
  CHECK(micros("100") == 100'000'000);
  CHECK(micros("5.99") == 5'990'000);
  CHECK(micros("94.01") == 94'010'000);
  CHECK(micros("0.000001") == 1);
  CHECK(micros("-0.25") == -250'000);
  CHECK(micros("9223372036854") == 9'223'372'036'854'000'000);
  CHECK_THROWS_AS(micros(""), std::invalid_argument);
  CHECK_THROWS_AS(micros("."), std::invalid_argument);
  CHECK_THROWS_AS(micros("1."), std::invalid_argument);
  CHECK_THROWS_AS(micros(".5"), std::invalid_argument);
  CHECK_THROWS_AS(micros("0.0000001"), std::invalid_argument);
  CHECK_THROWS_AS(micros("1e3"), std::invalid_argument);
  CHECK_THROWS_AS(micros("99999999999999"), std::invalid_argument);
}

TEST_CASE("parse_records() reads every canonical record type") {
  const FeedResult r = parse_records(
      R"({"type":"plan","ts_ms":1763007590634,"plan_id":7,"plugin":"dutchbook","tag":"dutchbook:event:900001","legs":[{"market":"m1","asset_id":"a1","side":"BUY","price":"0.35","size":"100","tif":"FOK"},{"market":"m2","asset_id":"a2","side":"SELL","price":"0.16","size":"5.99","tif":"GTC"}],"decision":"accepted"})"
      "\n"
      R"({"type":"order","ts_ms":1763007590634,"plan_id":7,"leg":1,"order_id":3,"state":"partially_filled","filled":"5.99","remaining":"94.01"})"
      "\n"
      R"({"type":"fill","ts_ms":1763007590635,"plan_id":7,"leg":1,"order_id":3,"price":"0.31","size":"5.99","fee":"0.000123","maker":true})"
      "\n"
      R"({"type":"order","ts_ms":1763007590636,"plan_id":7,"leg":1,"order_id":3,"state":"cancelled","filled":"5.99","remaining":"94.01","reason":"IOC \"rest\" \\ cancelled\u00e9\n"})"
      "\n"
      R"({"type":"plan","ts_ms":1,"plan_id":8,"plugin":"x","tag":"","legs":[],"decision":"rejected","reject":"empty_plan","reason":"no legs"})"
      "\n\n"
      R"({"type":"heartbeat","ts_ms":2})"
      "\n");
  REQUIRE(r.plans.size() == 2);
  REQUIRE(r.orders.size() == 2);
  REQUIRE(r.fills.size() == 1);
  CHECK(r.lines.size() == 6);  // the unknown "heartbeat" is kept verbatim only

  const PlanRecord& p = r.plans[0];
  CHECK(p.ts_ms == 1763007590634);
  CHECK(p.plan_id == 7);
  CHECK(p.plugin == "dutchbook");
  CHECK(p.tag == "dutchbook:event:900001");
  CHECK(p.accepted);
  REQUIRE(p.legs.size() == 2);
  CHECK(p.legs[0].market == "m1");
  CHECK(p.legs[0].asset_id == "a1");
  CHECK(p.legs[0].side == Side::kBuy);
  CHECK(p.legs[0].tif == Tif::kFok);
  CHECK(p.legs[1].side == Side::kSell);
  CHECK(p.legs[1].tif == Tif::kGtc);
  CHECK(p.legs[1].size == 5'990'000);
  CHECK(p.legs[1].size_text == "5.99");
  CHECK_FALSE(r.plans[1].accepted);
  CHECK(r.plans[1].reject == "empty_plan");
  CHECK(r.plans[1].reason == "no legs");
  CHECK(r.plans[1].legs.empty());

  CHECK(r.orders[0].leg == 1);
  CHECK(r.orders[0].order_id == 3);
  CHECK(r.orders[0].filled == 5'990'000);
  CHECK(r.orders[0].remaining == 94'010'000);
  CHECK(r.orders[0].reason.empty());
  CHECK(r.orders[1].state == "cancelled");
  CHECK(r.orders[1].reason == "IOC \"rest\" \\ cancelled\xc3\xa9\n");
  CHECK(r.order_count() == 1);
  CHECK(r.final_orders().at(0).state == "cancelled");

  CHECK(r.fills[0].price == 310'000);
  CHECK(r.fills[0].fee == 123);
  CHECK(r.fills[0].fee_text == "0.000123");
  CHECK(r.fills[0].maker);
  CHECK(r.filled_size(7) == 5'990'000);
  CHECK(r.filled_size(7, 0) == 0);
  CHECK(r.find_plan(8) == &r.plans[1]);
  CHECK(r.find_plan(9) == nullptr);
}

TEST_CASE("parse_records() refuses what is not the canonical format, naming the line") {
  const auto fails_with = [](std::string_view text, std::string_view what) {
    try {
      parse_records(text);
    } catch (const std::runtime_error& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(what) != std::string::npos);
      return;
    }
    FAIL("no error for " << text);
  };
  fails_with(R"({"type":"fill","ts_ms":1.5})", "fractional JSON number");
  fails_with("{\"type\":\"order\"}\n{\"type\":", "line 1: order field 'ts_ms' is missing");
  fails_with("\n{\"type\":", "line 2, column 9: unexpected end of line");
  fails_with(R"({"type":"fill","ts_ms":1,"plan_id":1,"leg":0,"order_id":1,"price":0.5})", "fractional");
  fails_with(R"({"type":"fill","ts_ms":1,"plan_id":1,"leg":0,"order_id":1,"price":"0.1234567","size":"1","fee":"0","maker":false})",
             "fill field 'price' not a canonical decimal");
  fails_with(R"({"type":"plan","ts_ms":1,"plan_id":1,"plugin":"p","legs":[{"market":"m","asset_id":"a","side":"HOLD","price":"0.5","size":"1","tif":"FOK"}],"decision":"accepted"})",
             "plan leg field 'side' is not BUY or SELL");
  fails_with(R"({"type":"plan","ts_ms":1,"plan_id":1,"plugin":"p","legs":[],"decision":"maybe"})",
             "plan field 'decision'");
  fails_with(R"({"type":"order","ts_ms":"1"})", "order field 'ts_ms' has the wrong type");
  fails_with(R"([1,2])", "not a JSON object");
  fails_with(R"({"type":"plan"} x)", "trailing characters");
  fails_with(R"({"type":"plan\u12"})", "bad \\u escape");
}

TEST_CASE("records print readably in test failures") {
  const FeedResult r = parse_records(
      R"({"type":"plan","ts_ms":1,"plan_id":2,"plugin":"dutchbook","tag":"t","legs":[{"market":"m","asset_id":"yes","side":"BUY","price":"0.45","size":"100","tif":"FOK"}],"decision":"rejected","reject":"crossed_book","reason":"book is crossed"})");
  std::ostringstream s;
  s << r.plans.at(0);
  CHECK(s.str() == "plan 2 (dutchbook, t) rejected crossed_book: book is crossed\n  BUY 100 @ 0.45 FOK m/yes");
}

TEST_CASE("BookView::From uses the ABI 1.1 id lengths and falls back to strlen for a 1.0 view") {
  const ph_level bids[] = {{450000, 10'000000}};
  ph_book_view v{};
  v.struct_size = sizeof(ph_book_view);
  v.asset = {"0xmarket", "123456"};
  v.market_len = 8;
  v.asset_id_len = 3;  // the host's length wins over the terminator
  v.bids = bids;
  v.bid_count = 1;
  BookView b = BookView::From(v);
  CHECK(b.asset.market == "0xmarket");
  CHECK(b.asset.asset_id == "123");
  CHECK(b.best_bid() == 450000);
  CHECK(b.asks.empty());
  CHECK(b.raw == &v);

  v.struct_size = offsetof(ph_book_view, market_len);  // what a 1.0 host passes
  b = BookView::From(v);
  CHECK(b.asset.asset_id == "123456");
}

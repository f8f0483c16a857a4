#include "ingest/feed_parser.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

namespace polyhost {
namespace {

// A parsed line with the padded copy of its bytes it was parsed from (as
// LineReader provides them): the views of `parsed` may point into those bytes,
// which stay where they are when the Result is moved.
struct Result {
  std::unique_ptr<std::string> line;
  bool ok;
  ParsedLine parsed;
  ParseError error;
};

Result ParseLine(FeedParser& p, const std::string& s, FeedFormat f = FeedFormat::kAuto) {
  Result r;
  r.line = std::make_unique<std::string>(s + std::string(FeedParser::kPadding, '\0'));
  r.ok = p.Parse(r.line->data(), s.size(), f, &r.parsed, &r.error);
  return r;
}

TEST_CASE("format P book with unsorted object levels") {
  FeedParser p;
  auto r = ParseLine(p, R"({"event_type":"book","market":"0xm","asset_id":"123","timestamp":"1703875200000",)"
                        R"("bids":[{"price":"0.48","size":"500.0"},{"price":"0.50","size":"200"}],"asks":[{"price":"0.53","size":"4"}]})");
  REQUIRE(r.ok);
  REQUIRE(r.parsed.events.size() == 1);
  const FeedEvent& e = r.parsed.events[0];
  CHECK(e.type == EventType::kBook);
  CHECK(e.market == "0xm");
  CHECK(e.asset_id == "123");
  CHECK(e.ts_ms == 1703875200000);
  REQUIRE(r.parsed.bids(e).size() == 2);
  CHECK(r.parsed.bids(e)[0] == Level{480000, 500000000});
  CHECK(r.parsed.asks(e)[0] == Level{530000, 4000000});
  CHECK(r.parsed.format == FeedFormat::kP);
}

TEST_CASE("a book without event_type is recognised by its shape") {
  FeedParser p;
  auto r = ParseLine(p, R"({"market":"m","asset_id":"1","bids":[],"asks":[{"price":"0.5","size":"1"}]})");
  REQUIRE(r.ok);
  CHECK(r.parsed.events[0].type == EventType::kBook);
}

TEST_CASE("the three price_change shapes") {
  FeedParser p;
  SECTION("current: price_changes with per-item asset and best levels") {
    auto r = ParseLine(p, R"({"event_type":"price_change","market":"m","price_changes":[)"
                          R"({"asset_id":"a","price":"0.51","side":"BUY","size":"150.0","hash":"h","best_bid":"0.51","best_ask":""},)"
                          R"({"asset_id":"b","price":"0.49","side":"SELL","size":"0","best_bid":"0","best_ask":"0.49"}],"timestamp":"5"})");
    REQUIRE(r.ok);
    auto items = r.parsed.items(r.parsed.events[0]);
    REQUIRE(items.size() == 2);
    CHECK(items[0].asset_id == "a");
    CHECK(items[0].side == Side::kBid);
    CHECK(items[0].price == 510000);
    CHECK(items[0].has_best_bid);
    CHECK_FALSE(items[0].has_best_ask);  // "" is absent
    CHECK(items[1].side == Side::kAsk);
    CHECK(items[1].size == 0);
    CHECK(items[1].best_bid == 0);
  }
  SECTION("2024-2025: asset_id + changes") {
    auto r = ParseLine(p, R"({"event_type":"price_change","market":"m","asset_id":"a","changes":[{"price":"0.58","side":"BUY","size":"33"}]})");
    REQUIRE(r.ok);
    auto items = r.parsed.items(r.parsed.events[0]);
    REQUIRE(items.size() == 1);
    CHECK(items[0].asset_id == "a");
    CHECK(items[0].size == 33000000);
  }
  SECTION("oldest flat shape") {
    auto r = ParseLine(p, R"({"event_type":"price_change","market":"m","asset_id":"a","price":"0.57","side":"BUY","size":"0"})");
    REQUIRE(r.ok);
    auto items = r.parsed.items(r.parsed.events[0]);
    REQUIRE(items.size() == 1);
    CHECK(items[0].price == 570000);
  }
}

TEST_CASE("arrays, envelopes and text frames") {
  FeedParser p;
  auto r = ParseLine(p, R"({"recv_ts_ms":1703875201042,"frame":[{"event_type":"last_trade_price","market":"m","asset_id":"a","price":"0.5","size":"2","side":"SELL"},{"event_type":"new_market","market":"m"}]})");
  REQUIRE(r.ok);
  CHECK(r.parsed.recv_ts_ms == 1703875201042);
  REQUIRE(r.parsed.events.size() == 2);
  CHECK(r.parsed.events[0].type == EventType::kLastTradePrice);
  CHECK(r.parsed.events[0].value == 500000);
  CHECK(r.parsed.events[0].side == Side::kAsk);
  CHECK(r.parsed.events[1].type == EventType::kNewMarket);

  auto pong = ParseLine(p, R"({"recv_ts_ms":1,"frame":"PONG"})");
  REQUIRE(pong.ok);
  CHECK(pong.parsed.kind == ParsedLine::Kind::kTextFrame);
  CHECK(ParseLine(p, "\"PONG\"").parsed.kind == ParsedLine::Kind::kTextFrame);
  CHECK(ParseLine(p, "PONG").parsed.kind == ParsedLine::Kind::kTextFrame);
  CHECK(ParseLine(p, "  \r").parsed.kind == ParsedLine::Kind::kEmpty);
}

TEST_CASE("tick size, best_bid_ask and unknown events") {
  FeedParser p;
  auto t = ParseLine(p, R"({"market":"m","asset_id":"a","new_tick_size":"0.001","old_tick_size":"0.01"})");
  REQUIRE(t.ok);
  CHECK(t.parsed.events[0].type == EventType::kTickSizeChange);
  CHECK(t.parsed.events[0].value == 1000);
  auto b = ParseLine(p, R"({"event_type":"best_bid_ask","market":"m","asset_id":"a","best_bid":"0.73","best_ask":"0.77"})");
  REQUIRE(b.ok);
  CHECK(b.parsed.events[0].value == 730000);
  CHECK(b.parsed.events[0].value2 == 770000);
  auto u = ParseLine(p, R"({"event_type":"something_new","x":1})");
  REQUIRE(u.ok);
  CHECK(u.parsed.events[0].type == EventType::kUnknown);
  CHECK(u.parsed.events[0].type_name == "something_new");
}

TEST_CASE("format S snapshot and delta") {
  FeedParser p;
  auto s = ParseLine(p, R"({"type":"snapshot","market":"mkt-1","asset_id":"yes","seq":1,"ts_ms":1700000000000,"bids":[["0.48","100"],["0.47","20"]],"asks":[["0.52","80"]]})");
  REQUIRE(s.ok);
  CHECK(s.parsed.format == FeedFormat::kS);
  const FeedEvent& e = s.parsed.events[0];
  CHECK(e.type == EventType::kSnapshot);
  CHECK(e.seq == 1);
  CHECK(s.parsed.bids(e).size() == 2);
  auto d = ParseLine(p, R"({"type":"delta","asset_id":"yes","seq":2,"ts_ms":1,"side":"ask","price":"0.52","size":"0"})");
  REQUIRE(d.ok);
  CHECK(d.parsed.events[0].type == EventType::kDelta);
  CHECK(d.parsed.events[0].market.empty());
  CHECK(d.parsed.items(d.parsed.events[0])[0].side == Side::kAsk);
}

TEST_CASE("malformed lines name the field and reason") {
  FeedParser p;
  auto bad_price = ParseLine(p, R"({"event_type":"book","market":"m","asset_id":"a","bids":[{"price":"0.5","size":"1"},{"price":"0.1234567","size":"1"}],"asks":[]})");
  CHECK_FALSE(bad_price.ok);
  CHECK(bad_price.error.ToString() == "field 'bids[1].price': more than 6 fractional digits");

  auto neg = ParseLine(p, R"({"type":"delta","asset_id":"a","seq":2,"side":"bid","price":"0.5","size":"-1"})");
  CHECK_FALSE(neg.ok);
  CHECK(neg.error.field == "size");

  auto json = ParseLine(p, R"({"event_type":"book",)");
  CHECK_FALSE(json.ok);
  CHECK_THAT(json.error.reason, Catch::StartsWith("invalid JSON"));

  auto side = ParseLine(p, R"({"event_type":"price_change","market":"m","price_changes":[{"asset_id":"a","price":"0.5","side":"HOLD","size":"1"}]})");
  CHECK_FALSE(side.ok);
  CHECK(side.error.field == "price_changes[0].side");

  auto exp = ParseLine(p, R"({"frame":{"event_type":"book","asset_id":"a","bids":[{"price":"1e-2","size":"1"}],"asks":[]}})");
  CHECK_FALSE(exp.ok);
  CHECK(exp.error.ToString() == "field 'frame.bids[0].price': exponent notation not allowed");

  auto s_only = ParseLine(p, R"({"event_type":"book"})", FeedFormat::kS);
  CHECK_FALSE(s_only.ok);

  CHECK_FALSE(ParseLine(p, "\xff\xfe{}").ok);           // invalid UTF-8 / JSON
  CHECK_FALSE(ParseLine(p, "[1,2]").ok);                // array of non-objects
  CHECK_FALSE(ParseLine(p, "42").ok);
}

TEST_CASE("a 10 MB line parses without trouble") {
  FeedParser p;
  std::string s = R"({"event_type":"book","market":"m","asset_id":"a","bids":[)";
  for (int i = 0; i < 200000; ++i) {
    if (i) s += ',';
    s += R"({"price":"0.)" + std::to_string(100000 + i % 800000).substr(0, 6) + R"(","size":"1"})";
  }
  s += R"(],"asks":[],"pad":")" + std::string(4 << 20, 'x') + "\"}";
  REQUIRE(s.size() > (8u << 20));
  auto r = ParseLine(p, s);
  REQUIRE(r.ok);
  CHECK(r.parsed.bids(r.parsed.events[0]).size() == 200000);
}

}  // namespace
}  // namespace polyhost

#include "replay/book_engine.h"

#include <catch2/catch.hpp>

#include <string>

#include "store/levels_json.h"

namespace polyhost {
namespace {

class Feed {
 public:
  explicit Feed(std::string default_market = {}) : engine(std::move(default_market)) {}
  void Line(const std::string& s) {
    std::string buf = s + std::string(FeedParser::kPadding, '\0');
    ParseError err;
    REQUIRE(parser.Parse(buf.data(), s.size(), FeedFormat::kAuto, &parsed, &err));
    engine.Apply(parsed, ++line_no, &batch);
  }
  const AssetState& Asset(const std::string& m, const std::string& a) {
    int64_t k = engine.Find(m, a);
    REQUIRE(k >= 0);
    return engine.asset(static_cast<uint32_t>(k));
  }
  BookEngine engine;
  FeedParser parser;
  ParsedLine parsed;
  WriteBatch batch;
  int64_t line_no = 0;
};

TEST_CASE("a price_change before any book is a break and is not applied") {
  Feed f;
  f.Line(R"({"event_type":"price_change","market":"m","asset_id":"a","changes":[{"price":"0.5","side":"BUY","size":"1"}]})");
  CHECK(f.engine.counters().continuity_breaks == 1);
  CHECK(f.engine.counters().ignored_changes == 1);
  CHECK(f.Asset("m", "a").stale);
  CHECK(f.Asset("m", "a").book.empty());
  CHECK(f.batch.events.empty());
  f.Line(R"({"event_type":"book","market":"m","asset_id":"a","bids":[{"price":"0.4","size":"1"}],"asks":[]})");
  CHECK_FALSE(f.Asset("m", "a").stale);
  CHECK(f.batch.events.size() == 1);
  CHECK(f.batch.new_assets.size() == 1);
}

TEST_CASE("best_bid/best_ask are checked after all changes of the event") {
  Feed f;
  f.Line(R"({"event_type":"book","market":"m","asset_id":"a","bids":[{"price":"0.5","size":"1"}],"asks":[{"price":"0.6","size":"1"}]})");
  // Two changes; the first alone would disagree with best_bid 0.52, the pair agrees.
  f.Line(R"({"event_type":"price_change","market":"m","price_changes":[)"
         R"({"asset_id":"a","price":"0.51","side":"BUY","size":"1","best_bid":"0.52","best_ask":"0.6"},)"
         R"({"asset_id":"a","price":"0.52","side":"BUY","size":"1","best_bid":"0.52","best_ask":"0.6"}]})");
  CHECK_FALSE(f.Asset("m", "a").stale);
  CHECK(f.Asset("m", "a").book.best_bid() == 520000);
  f.Line(R"({"event_type":"price_change","market":"m","price_changes":[{"asset_id":"a","price":"0.6","side":"SELL","size":"0","best_bid":"0.52","best_ask":"0.61"}]})");
  // The ask side is now empty ("0"), the venue says 0.61: drift, stale, change kept.
  CHECK(f.Asset("m", "a").stale);
  CHECK(f.Asset("m", "a").book.asks().empty());
  CHECK(f.engine.counters().continuity_breaks == 1);
  // Still stale: a second disagreement is not another break.
  f.Line(R"({"event_type":"best_bid_ask","market":"m","asset_id":"a","best_bid":"0.1","best_ask":"0.9"})");
  CHECK(f.engine.counters().continuity_breaks == 1);
  CHECK(f.engine.counters().drift_checks_failed == 2);
}

TEST_CASE("format S seq gap: stale, deltas ignored until the next snapshot") {
  Feed f("mkt");
  f.Line(R"({"type":"snapshot","asset_id":"yes","seq":1,"bids":[["0.4","10"]],"asks":[["0.6","10"]]})");
  f.Line(R"({"type":"delta","asset_id":"yes","seq":2,"side":"bid","price":"0.41","size":"5"})");
  f.Line(R"({"type":"delta","asset_id":"yes","seq":4,"side":"bid","price":"0.42","size":"5"})");
  f.Line(R"({"type":"delta","asset_id":"yes","seq":5,"side":"bid","price":"0.43","size":"5"})");
  const AssetState& a = f.Asset("mkt", "yes");
  CHECK(a.stale);
  CHECK(a.book.best_bid() == 410000);
  CHECK(f.engine.counters().continuity_breaks == 1);
  f.Line(R"({"type":"snapshot","asset_id":"yes","seq":9,"bids":[["0.3","1"]],"asks":[]})");
  f.Line(R"({"type":"delta","asset_id":"yes","seq":10,"side":"ask","price":"0.7","size":"5"})");
  CHECK_FALSE(a.stale);
  CHECK(a.book.best_ask() == 700000);
}

TEST_CASE("the same asset id in two format S markets is two books") {
  Feed f;
  f.Line(R"({"type":"snapshot","market":"m1","asset_id":"yes","seq":1,"bids":[["0.4","10"]],"asks":[]})");
  f.Line(R"({"type":"snapshot","market":"m2","asset_id":"yes","seq":1,"bids":[["0.3","10"]],"asks":[]})");
  CHECK(f.Asset("m1", "yes").book.best_bid() == 400000);
  CHECK(f.Asset("m2", "yes").book.best_bid() == 300000);
  CHECK(f.engine.asset_count() == 2);
}

TEST_CASE("touched lists each changed asset once per line; status rows only for changed assets") {
  Feed f;
  f.Line(R"([{"event_type":"book","market":"m","asset_id":"a","bids":[],"asks":[]},{"event_type":"book","market":"m","asset_id":"b","bids":[],"asks":[]}])");
  CHECK(f.engine.touched().size() == 2);
  f.Line(R"({"event_type":"price_change","market":"m","price_changes":[{"asset_id":"a","price":"0.5","side":"BUY","size":"1"},{"asset_id":"a","price":"0.4","side":"BUY","size":"1"}]})");
  CHECK(f.engine.touched().size() == 1);
  WriteBatch status;
  f.engine.CollectStatus(&status);
  CHECK(status.status.size() == 2);
  status.status.clear();
  f.engine.CollectStatus(&status);
  CHECK(status.status.empty());
}

TEST_CASE("periodic snapshots: a book is snapshotted once its changes since the last one reach its level count") {
  Feed f;
  // Book "a": 3 levels. Book "b": 1 level.
  f.Line(R"({"type":"snapshot","market":"m","asset_id":"a","seq":1,"bids":[["0.4","10"],["0.3","10"]],"asks":[["0.6","10"]]})");
  f.Line(R"({"type":"snapshot","market":"m","asset_id":"b","seq":1,"bids":[["0.2","10"]],"asks":[]})");
  const uint32_t a = static_cast<uint32_t>(f.engine.Find("m", "a"));
  const uint32_t b = static_cast<uint32_t>(f.engine.Find("m", "b"));
  WriteBatch batch;
  // Never snapshotted: the book's own event counts (1 change for 3 levels: not yet; b: 1 for 1).
  CHECK(f.engine.CollectChangedSnapshots(1000, &batch) == 1);
  REQUIRE(batch.snapshots.size() == 1);
  CHECK(batch.snapshots[0].asset_key == b);
  // Two more changes of "a" (3 in all, 3 levels): now it is due; "b" did not change.
  f.Line(R"({"type":"delta","market":"m","asset_id":"a","seq":2,"side":"bid","price":"0.4","size":"5"})");
  f.Line(R"({"type":"delta","market":"m","asset_id":"a","seq":3,"side":"bid","price":"0.4","size":"6"})");
  CHECK(f.engine.CollectChangedSnapshots(2000, &batch) == 1);
  REQUIRE(batch.snapshots.size() == 2);
  CHECK(batch.snapshots[1].asset_key == a);
  CHECK(batch.snapshots[1].seq == f.engine.asset(a).seq);
  CHECK(batch.snapshots[1].levels_json == EncodeLevelsJson(f.engine.asset(a).book));
  // Nothing changed since: nothing is due.
  CHECK(f.engine.CollectChangedSnapshots(3000, &batch) == 0);
  // persist_snapshot_now takes every book regardless, and counts as their last snapshot.
  f.Line(R"({"type":"delta","market":"m","asset_id":"a","seq":4,"side":"ask","price":"0.7","size":"1"})");
  f.engine.CollectSnapshots(4000, &batch);
  CHECK(batch.snapshots.size() == 4);
  CHECK(f.engine.CollectChangedSnapshots(5000, &batch) == 0);
}

}  // namespace
}  // namespace polyhost

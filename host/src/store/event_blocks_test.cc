#include "store/event_blocks.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace polyhost {
namespace {

EventRow Level(int64_t line, uint32_t item, Side side, int64_t price, int64_t size) {
  EventRow e{};
  e.asset_key = 7;
  e.line = line;
  e.item = item;
  e.ts_ms = 1700000000000 + line;
  e.recv_ts_ms = 1700000000100 + line;
  e.seq = line * 10 + item;
  e.kind = EventKind::kLevel;
  e.side = side;
  e.price = price;
  e.size = size;
  return e;
}

TEST_CASE("event_blocks: every kind round-trips through the text form", "[store][event_blocks]") {
  EventRow book = Level(1, 0, Side::kBid, 0, 0);
  book.kind = EventKind::kBook;
  book.levels_json = R"({"bids":[["0.5","200"]],"asks":[["0.52","80"]],"tick":"0.01"})";
  EventRow tick = Level(2, 0, Side::kBid, 0, 0);
  tick.kind = EventKind::kTick;
  tick.price = 1000;
  const EventRow bid = Level(3, 0, Side::kBid, 500000, 200000000);
  const EventRow ask = Level(3, 1, Side::kAsk, 999999, 0);
  const EventRow big = Level(INT64_MAX / 20, 4000000000u, Side::kAsk, INT64_MAX, INT64_MAX);

  BlockText block;
  const BlockBase base = BlockBaseOf(11, book);
  AppendEventToBlock(base, 11, book, &block);
  AppendEventToBlock(base, 12, tick, &block);
  AppendEventToBlock(base, 13, bid, &block);
  AppendEventToBlock(base, 15, ask, &block);
  AppendEventToBlock(base, INT64_MAX, big, &block);
  EndEventBlock(&block);
  const std::string text(block.view());
  // Offsets from the first event: [0,0,0,0,0,0,1,...], then the tick one line later.
  CHECK(text.substr(0, 47) == R"([[0,0,0,0,0,0,1,null,null,null,{"bids":[["0.5",)");
  CHECK(text.find("],[1,1,0,1,1,10,3,null,1000]") != std::string::npos);

  std::vector<BlockEvent> got;
  std::string error;
  REQUIRE(DecodeEventBlock(base, text, &got, &error));
  REQUIRE(got.size() == 5);
  CHECK(got[0].id == 11);
  CHECK(got[0].kind == EventKind::kBook);
  CHECK(got[0].levels_json == book.levels_json);
  CHECK(got[1].kind == EventKind::kTick);
  CHECK(got[1].price == 1000);
  const EventRow* want[] = {&bid, &ask, &big};
  const int64_t ids[] = {13, 15, INT64_MAX};
  for (int i = 0; i < 3; ++i) {
    const BlockEvent& e = got[2 + i];
    CHECK(e.id == ids[i]);
    CHECK(e.line == want[i]->line);
    CHECK(e.item == want[i]->item);
    CHECK(e.ts_ms == want[i]->ts_ms);
    CHECK(e.recv_ts_ms == want[i]->recv_ts_ms);
    CHECK(e.seq == want[i]->seq);
    CHECK(e.kind == EventKind::kLevel);
    CHECK(e.side == want[i]->side);
    CHECK(e.price == want[i]->price);
    CHECK(e.size == want[i]->size);
  }
}

TEST_CASE("event_blocks: an empty block and explicit trailing nulls decode", "[store][event_blocks]") {
  BlockText empty_block;
  EndEventBlock(&empty_block);
  const std::string empty(empty_block.view());
  CHECK(empty == "[]");
  std::vector<BlockEvent> got;
  std::string error;
  REQUIRE(DecodeEventBlock(BlockBase{}, empty, &got, &error));
  CHECK(got.empty());
  // As migration 5 writes them (json_array with every column), around a base.
  const BlockBase base{100, 1000, 5000, 6000, 70};
  REQUIRE(DecodeEventBlock(base, "[[0,0,0,0,0,0,3,null,10000,null,null],[6,2,0,-12,13,4,2,1,20,30,null]]", &got,
                           &error));
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == 100);
  CHECK(got[0].line == 1000);
  CHECK(got[1].id == 106);
  CHECK(got[1].line == 1002);
  CHECK(got[1].ts_ms == 4988);
  CHECK(got[1].recv_ts_ms == 6013);
  CHECK(got[1].seq == 74);
  CHECK(got[0].kind == EventKind::kTick);
  CHECK(got[0].price == 10000);
  CHECK(got[1].side == Side::kAsk);
  CHECK(got[1].size == 30);
}

TEST_CASE("event_blocks: a block larger than the buffer's first allocation grows and keeps every event",
          "[store][event_blocks]") {
  BlockText block;
  const EventRow first = Level(1, 0, Side::kBid, 1, 1);
  const BlockBase base = BlockBaseOf(1000, first);
  for (int i = 0; i < 5000; ++i) AppendEventToBlock(base, 1000 + i, Level(1 + i, 0, Side::kAsk, 10 + i, 20 + i), &block);
  EndEventBlock(&block);
  std::vector<BlockEvent> got;
  std::string error;
  REQUIRE(DecodeEventBlock(base, block.view(), &got, &error));
  REQUIRE(got.size() == 5000);
  CHECK(got[4999].id == 5999);
  CHECK(got[4999].line == 5000);
  CHECK(got[4999].price == 5009);
  CHECK(got[4999].size == 5019);
}

TEST_CASE("event_blocks: malformed blocks are refused with the reason", "[store][event_blocks]") {
  const std::pair<const char*, const char*> cases[] = {
      {"[[1,2", "malformed JSON"},
      {"{}", "not a JSON array"},
      {"[5]", "event 0 is not an array"},
      {"[[1,2,3,4,5,6]]", "kind must be an integer"},
      {"[[1,2,3,4,5,6,\"2\",0,1,1]]", "kind must be an integer"},
      {"[[1,2,3,4,5,6,2,0,1]]", "(level) needs side 0 or 1, price and size"},
      {"[[1,2,3,4,5,6,2,2,1,1]]", "(level) needs side 0 or 1, price and size"},
      {"[[1,2,3,4,5,6,2,0,1.5,1]]", "price must be an integer"},
      {"[[1,2,3,4,5,6,3]]", "(tick) needs price"},
      {"[[1,2,3,4,5,6,1,null,null,null,\"x\"]]", "(book) needs a levels object"},
      {"[[1,2,3,4,5,6,9]]", "unknown kind 9"},
      {"[[1,2,-3,4,5,6,2,0,1,1]]", "item out of range"},
      {"[[1,2,3,4,5,6,2,0,1,1],[1,2,3,4,5,6,2,0,1,18446744073709551615]]", "event 1: size must be an integer"},
  };
  for (const auto& [text, reason] : cases) {
    INFO(text);
    std::vector<BlockEvent> got;
    std::string error;
    CHECK_FALSE(DecodeEventBlock(BlockBase{}, text, &got, &error));
    CHECK(error.find(reason) != std::string::npos);
  }
}

}  // namespace
}  // namespace polyhost

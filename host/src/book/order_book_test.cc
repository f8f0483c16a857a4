#include "book/order_book.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>

namespace polyhost {
namespace {


std::vector<Level> L(std::initializer_list<std::pair<int64_t, int64_t>> xs) {
  std::vector<Level> v;
  for (auto [p, s] : xs) v.push_back({p, s});
  return v;
}

TEST_CASE("snapshot sorts best-first, drops zero sizes, later duplicate wins") {
  OrderBook b;
  auto bids = L({{480000, 500}, {490000, 350}, {500000, 200}, {470000, 0}, {490000, 351}});
  auto asks = L({{530000, 400}, {520000, 250}, {510000, 150}});
  b.ApplySnapshot(bids, asks);
  REQUIRE(b.bids().size() == 3);
  CHECK(b.bids()[0] == Level{500000, 200});
  CHECK(b.bids()[1] == Level{490000, 351});
  CHECK(b.bids()[2] == Level{480000, 500});
  CHECK(b.asks()[0] == Level{510000, 150});
  CHECK(b.asks()[2] == Level{530000, 400});
  CHECK(b.best_bid() == 500000);
  CHECK(b.best_ask() == 510000);
  CHECK_FALSE(b.crossed());
}

TEST_CASE("level updates insert, replace and remove") {
  OrderBook b;
  b.ApplySnapshot(L({{500000, 200}}), L({{520000, 250}}));
  b.ApplyLevel(Side::kBid, 510000, 10);
  CHECK(b.best_bid() == 510000);
  b.ApplyLevel(Side::kBid, 510000, 0);
  CHECK(b.best_bid() == 500000);
  b.ApplyLevel(Side::kAsk, 530000, 5);
  b.ApplyLevel(Side::kAsk, 520000, 7);
  CHECK(b.asks()[0] == Level{520000, 7});
  CHECK(b.asks()[1] == Level{530000, 5});
  b.ApplyLevel(Side::kAsk, 999000, 0);  // removing an absent level is a no-op
  CHECK(b.asks().size() == 2);
  b.ApplyLevel(Side::kBid, 520000, 1);
  CHECK(b.crossed());
}

TEST_CASE("empty sides report 0 like the venue") {
  OrderBook b;
  CHECK(b.best_bid() == 0);
  CHECK(b.best_ask() == 0);
  CHECK(b.empty());
  CHECK_FALSE(b.crossed());
  b.set_tick_size(10000);
  CHECK(b.tick_size() == 10000);
}

// The book model: price -> size per side, best first.
using BidModel = std::map<int64_t, int64_t, std::greater<>>;
using AskModel = std::map<int64_t, int64_t>;

void RequireBookEquals(const OrderBook& b, const BidModel& bids, const AskModel& asks) {
  REQUIRE(b.bids().size() == bids.size());
  REQUIRE(b.asks().size() == asks.size());
  size_t i = 0;
  for (auto [p, s] : bids) REQUIRE(b.bids()[i++] == Level{p, s});
  i = 0;
  for (auto [p, s] : asks) REQUIRE(b.asks()[i++] == Level{p, s});
}

TEST_CASE("random updates match a std::map model") {
  std::mt19937 rng(7);
  OrderBook b;
  BidModel bids;
  AskModel asks;
  for (int i = 0; i < 200000; ++i) {
    bool bid = rng() & 1;
    int64_t price = static_cast<int64_t>(rng() % 1000) * 1000;
    int64_t size = (rng() % 4 == 0) ? 0 : static_cast<int64_t>(rng() % 1000000);
    b.ApplyLevel(bid ? Side::kBid : Side::kAsk, price, size);
    if (bid) {
      if (size == 0) bids.erase(price); else bids[price] = size;
    } else {
      if (size == 0) asks.erase(price); else asks[price] = size;
    }
  }
  RequireBookEquals(b, bids, asks);
}

TEST_CASE("snapshots in any order match a std::map model (sorted either way, shuffled, repeats, zeros)") {
  std::mt19937 rng(11);
  OrderBook b;
  for (int round = 0; round < 3000; ++round) {
    std::vector<Level> bids, asks;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      bids.push_back({static_cast<int64_t>(rng() % 40) * 10000, (rng() % 5 == 0) ? 0 : static_cast<int64_t>(rng() % 900 + 1)});
      asks.push_back({static_cast<int64_t>(rng() % 40) * 10000, (rng() % 5 == 0) ? 0 : static_cast<int64_t>(rng() % 900 + 1)});
    }
    // A third of the rounds as the venue sends them (worst-first, distinct
    // prices), a third best-first, the rest as drawn.
    auto by_price = [](const Level& x, const Level& y) { return x.price < y.price; };
    auto same_price = [](const Level& x, const Level& y) { return x.price == y.price; };
    if (round % 3 != 2) {
      for (auto* side : {&bids, &asks}) {
        std::sort(side->begin(), side->end(), by_price);
        side->erase(std::unique(side->begin(), side->end(), same_price), side->end());
      }
      std::reverse(asks.begin(), asks.end());  // asks descending: worst-first
      if (round % 3 == 1) {
        std::reverse(bids.begin(), bids.end());
        std::reverse(asks.begin(), asks.end());
      }
    }
    BidModel want_bids;
    AskModel want_asks;
    for (const Level& l : bids) want_bids[l.price] = l.size;  // the later entry wins
    for (const Level& l : asks) want_asks[l.price] = l.size;
    std::erase_if(want_bids, [](const auto& kv) { return kv.second <= 0; });
    std::erase_if(want_asks, [](const auto& kv) { return kv.second <= 0; });
    b.ApplySnapshot(bids, asks);
    RequireBookEquals(b, want_bids, want_asks);
  }
}

}  // namespace
}  // namespace polyhost

// The alternative book structure measured against the production OrderBook
// (host/src/book/order_book.h) in book_bench.cc: a flat tick-indexed array.
//
// Prices are 0..1 on the finest tick the generator and the bench assume, 0.001
// (1000 micro-units), so each side is 1001 int64 size slots indexed by
// price / 1000, plus a 1001-bit occupancy bitmap so the next best level after a
// removal is found with a count-leading/trailing-zeros scan instead of a walk,
// and the best index maintained on every update. A price off that grid (the
// venue also has 0.0001-tick markets) is rejected: this is a benchmark
// structure, not a drop-in replacement. bench/ only.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

#include "book/order_book.h"

namespace polyhost::bench {

class FlatBook {
 public:
  static constexpr int kSlots = 1001;           // prices 0.000 .. 1.000
  static constexpr int64_t kTickMicros = 1000;  // 0.001
  static constexpr int kWords = (kSlots + 63) / 64;

  FlatBook() { Clear(); }

  // Returns false (and changes nothing) for a price off the 0.001 grid.
  bool ApplyLevel(Side side, int64_t price, int64_t size) {
    if (price < 0 || price > kMicros || price % kTickMicros != 0) return false;
    const int i = static_cast<int>(price / kTickMicros);
    if (side == Side::kBid) {
      Set(bids_, i, size);
      if (size > 0) {
        if (i > best_bid_) best_bid_ = i;
      } else if (i == best_bid_) {
        best_bid_ = HighestBelow(bids_.bits, i);
      }
    } else {
      Set(asks_, i, size);
      if (size > 0) {
        if (i < best_ask_) best_ask_ = i;
      } else if (i == best_ask_) {
        best_ask_ = LowestAbove(asks_.bits, i);
      }
    }
    return true;
  }

  // Same contract as OrderBook::ApplySnapshot: any order, later duplicate wins,
  // zero sizes dropped. Only occupied slots are cleared (not all 16 KB).
  void ApplySnapshot(std::span<const Level> bids, std::span<const Level> asks) {
    ClearSide(bids_);
    ClearSide(asks_);
    best_bid_ = -1;
    best_ask_ = kSlots;
    for (const Level& l : bids) ApplyLevel(Side::kBid, l.price, l.size);
    for (const Level& l : asks) ApplyLevel(Side::kAsk, l.price, l.size);
  }

  int64_t best_bid() const { return best_bid_ < 0 ? 0 : best_bid_ * kTickMicros; }
  int64_t best_ask() const { return best_ask_ >= kSlots ? 0 : best_ask_ * kTickMicros; }
  int level_count(Side side) const { return side == Side::kBid ? bids_.count : asks_.count; }

  // Visits levels best-first (what plugins need; the sorted vector hands out a span).
  template <class F>
  void ForEachLevel(Side side, F&& f) const {
    if (side == Side::kBid) {
      for (int i = best_bid_; i >= 0; i = HighestBelow(bids_.bits, i)) f(Level{i * kTickMicros, bids_.size[i]});
    } else {
      for (int i = best_ask_; i < kSlots; i = LowestAbove(asks_.bits, i)) f(Level{i * kTickMicros, asks_.size[i]});
    }
  }

  void Clear() {
    std::memset(&bids_, 0, sizeof bids_);
    std::memset(&asks_, 0, sizeof asks_);
    best_bid_ = -1;
    best_ask_ = kSlots;
  }

 private:
  static constexpr int64_t kMicros = 1'000'000;

  struct SideArray {
    int64_t size[kSlots];
    uint64_t bits[kWords];
    int32_t count;
  };

  static void Set(SideArray& s, int i, int64_t size) {
    const uint64_t mask = uint64_t{1} << (i & 63);
    const bool had = (s.bits[i >> 6] & mask) != 0;
    if (size > 0) {
      s.size[i] = size;
      if (!had) s.bits[i >> 6] |= mask, ++s.count;
    } else if (had) {
      s.size[i] = 0;
      s.bits[i >> 6] &= ~mask;
      --s.count;
    }
  }

  static void ClearSide(SideArray& s) {
    for (int w = 0; w < kWords; ++w) {
      uint64_t b = s.bits[w];
      while (b != 0) {
        s.size[w * 64 + std::countr_zero(b)] = 0;
        b &= b - 1;
      }
      s.bits[w] = 0;
    }
    s.count = 0;
  }

  // Highest occupied index < i, or -1.
  static int HighestBelow(const uint64_t* bits, int i) {
    if (i <= 0) return -1;
    int w = (i - 1) >> 6;
    uint64_t b = bits[w] & (~uint64_t{0} >> (63 - ((i - 1) & 63)));
    while (true) {
      if (b != 0) return w * 64 + 63 - std::countl_zero(b);
      if (--w < 0) return -1;
      b = bits[w];
    }
  }

  // Lowest occupied index > i, or kSlots.
  static int LowestAbove(const uint64_t* bits, int i) {
    if (i + 1 >= kSlots) return kSlots;
    int w = (i + 1) >> 6;
    uint64_t b = bits[w] & (~uint64_t{0} << ((i + 1) & 63));
    while (true) {
      if (b != 0) return w * 64 + std::countr_zero(b);
      if (++w >= kWords) return kSlots;
      b = bits[w];
    }
  }

  SideArray bids_;
  SideArray asks_;
  int32_t best_bid_ = -1;     // index, -1 = no bids
  int32_t best_ask_ = kSlots; // index, kSlots = no asks
};

}  // namespace polyhost::bench

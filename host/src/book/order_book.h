// An exact L2 order book for one outcome token.
//
// Levels are kept best-first in two sorted vectors (bids descending, asks
// ascending). Polymarket books are shallow (tens to a few hundred levels) and
// nearly every update touches the top, so a binary search plus a short memmove
// beats node-based maps, and the best-first arrays can be handed to plugins as
// zero-copy views. bench/book_bench.cc measures this against a flat
// tick-indexed array (docs/performance.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace polyhost {

enum class Side : uint8_t { kBid = 0, kAsk = 1 };

struct Level {
  int64_t price;  // micro-units
  int64_t size;   // micro-units
  friend bool operator==(const Level&, const Level&) = default;
};

class OrderBook {
 public:
  // Replaces the whole book. Levels may come in any order (the venue sends bids
  // ascending and asks descending); zero sizes are dropped; for a price listed
  // twice the later entry wins.
  void ApplySnapshot(std::span<const Level> bids, std::span<const Level> asks);

  // Sets the absolute size of one level; size 0 removes it.
  void ApplyLevel(Side side, int64_t price, int64_t size);

  // Best-first views; valid until the next mutation.
  std::span<const Level> bids() const { return bids_; }
  std::span<const Level> asks() const { return asks_; }
  std::span<const Level> levels(Side side) const { return side == Side::kBid ? bids() : asks(); }

  // Best price of a side, or 0 when that side is empty (the venue's convention:
  // best_bid "0" means no bids).
  int64_t best_bid() const { return bids_.empty() ? 0 : bids_.front().price; }
  int64_t best_ask() const { return asks_.empty() ? 0 : asks_.front().price; }

  // True when both sides are present and best bid >= best ask.
  bool crossed() const {
    return !bids_.empty() && !asks_.empty() && bids_.front().price >= asks_.front().price;
  }

  // Tick size in micro-units; 0 means unknown (no tick_size_change seen).
  int64_t tick_size() const { return tick_size_; }
  void set_tick_size(int64_t tick) { tick_size_ = tick; }

  bool empty() const { return bids_.empty() && asks_.empty(); }
  void Clear();

 private:
  std::vector<Level> bids_;  // descending by price
  std::vector<Level> asks_;  // ascending by price
  int64_t tick_size_ = 0;
};

}  // namespace polyhost

#include "book/order_book.h"

#include <algorithm>

namespace polyhost {
namespace {

// Sorts best-first, keeps the last entry for a repeated price, drops zero sizes.
template <class BetterThan>
void BuildSide(std::span<const Level> in, std::vector<Level>& out, BetterThan better) {
  // The venue sends each side strictly worst-first (bids ascending, asks
  // descending): then the book is the reversed copy, without a sort (and
  // stable_sort's temporary buffer). Strictly ordered input has no repeated price.
  bool worst_first = true, best_first = true;
  for (size_t i = 1; i < in.size(); ++i) {
    worst_first = worst_first && better(in[i].price, in[i - 1].price);
    best_first = best_first && better(in[i - 1].price, in[i].price);
  }
  if (worst_first) {
    out.assign(in.rbegin(), in.rend());
  } else if (best_first) {
    out.assign(in.begin(), in.end());
  } else {
    out.assign(in.begin(), in.end());
    // Stable so that among equal prices the original order is kept; then keep the last.
    std::stable_sort(out.begin(), out.end(),
                     [&](const Level& a, const Level& b) { return better(a.price, b.price); });
    size_t w = 0;
    for (size_t r = 0; r < out.size(); ++r) {
      if (w > 0 && out[w - 1].price == out[r].price) {
        out[w - 1] = out[r];
      } else {
        out[w++] = out[r];
      }
    }
    out.resize(w);
  }
  std::erase_if(out, [](const Level& l) { return l.size <= 0; });
}

template <class BetterThan>
void SetLevel(std::vector<Level>& side, int64_t price, int64_t size, BetterThan better) {
  // Updates cluster at the top of the book: scan linearly for the first few levels,
  // then fall back to binary search.
  auto it = side.begin();
  const auto end = side.end();
  int steps = 0;
  while (it != end && better(it->price, price) && ++steps < 8) ++it;
  if (it != end && better(it->price, price)) {
    it = std::lower_bound(it, end, price,
                          [&](const Level& l, int64_t p) { return better(l.price, p); });
  }
  if (it != end && it->price == price) {
    if (size > 0) {
      it->size = size;
    } else {
      side.erase(it);
    }
  } else if (size > 0) {
    side.insert(it, Level{price, size});
  }
}

}  // namespace

void OrderBook::ApplySnapshot(std::span<const Level> bids, std::span<const Level> asks) {
  BuildSide(bids, bids_, [](int64_t a, int64_t b) { return a > b; });
  BuildSide(asks, asks_, [](int64_t a, int64_t b) { return a < b; });
}

void OrderBook::ApplyLevel(Side side, int64_t price, int64_t size) {
  if (side == Side::kBid) {
    SetLevel(bids_, price, size, [](int64_t a, int64_t b) { return a > b; });
  } else {
    SetLevel(asks_, price, size, [](int64_t a, int64_t b) { return a < b; });
  }
}

void OrderBook::Clear() {
  bids_.clear();
  asks_.clear();
}

}  // namespace polyhost

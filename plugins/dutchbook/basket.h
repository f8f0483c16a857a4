// Dutch-book basket sizing: buy one of every outcome when the asks (plus fees)
// sum below 1, sized by walking all legs' ask levels together.
//
// Header-only and free of host types: the plugin links nothing from the host
// (ABI rule 4), and the unit tests use it directly. All amounts are exact int64
// micro-units; products use 128 bits.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace polyhost::dutchbook {

inline constexpr int64_t kOne = 1'000'000;  // 1.0 in micro-units

struct AskLevel {
  int64_t price;
  int64_t size;
};

struct BasketParams {
  int64_t fee_rate_bps = 0;            // fee = rate · p · (1 − p) · size, per leg
  int64_t edge_threshold_micros = 0;   // require Σ(ask + fee) per unit < 1 − threshold
  int64_t min_profit_micros = 20'000;  // 0.02 USDC for the whole basket
  int64_t max_size_micros = 100'000'000;        // at most this many of each outcome
  int64_t max_cost_micros = 100'000'000;        // at most this much USDC for the basket
  int64_t lot_micros = 10'000;         // sizes are multiples of this (0.01 token)
};

struct BasketLeg {
  int64_t limit_price;  // worst ask price taken on this leg (the order's limit)
};

struct Basket {
  int64_t size = 0;          // tokens of each outcome, micro-units
  int64_t cost_micros = 0;   // Σ over legs of price · size, rounded up
  int64_t fees_micros = 0;   // Σ fees, rounded up
  int64_t profit_micros = 0; // size · 1 − cost − fees (each token set pays out 1)
  int64_t best_sum = 0;      // Σ best asks (the detected edge is 1 − best_sum)
  std::vector<BasketLeg> legs;
  bool tradable() const { return size > 0; }
};

// Fee for `size` at `price`, rounded up (conservative).
inline int64_t BasketFee(int64_t price, int64_t size, int64_t rate_bps) {
  if (rate_bps <= 0 || size <= 0) return 0;
  const __int128 num = static_cast<__int128>(size) * price * (kOne - price) * rate_bps;
  const __int128 den = static_cast<__int128>(kOne) * kOne * 10'000;
  return static_cast<int64_t>(num / den + (num % den != 0 ? 1 : 0));
}

inline int64_t CostUp(int64_t price, int64_t size) {
  const __int128 p = static_cast<__int128>(price) * size;
  return static_cast<int64_t>(p / kOne + (p % kOne != 0 ? 1 : 0));
}

// asks[i] is outcome i's ask side, best (lowest) first. Returns an empty basket
// (size 0) when there is no edge, a leg has no asks, or the best size is under
// min_profit. Walks levels: each step buys the largest quantity available on
// every leg at the current prices, while the marginal unit (Σ price + Σ fee per
// token) stays below 1 − threshold; the total is then capped and rounded to lots.
inline Basket SizeBasket(std::span<const std::span<const AskLevel>> asks, const BasketParams& params) {
  Basket out;
  const size_t n = asks.size();
  if (n < 2) return out;
  for (const auto& side : asks) {
    if (side.empty()) return out;
    out.best_sum += side.front().price;
  }
  std::vector<size_t> level(n, 0);
  std::vector<int64_t> used(n, 0);  // taken from the current level of each leg
  int64_t size = 0;
  const int64_t bar = kOne - params.edge_threshold_micros;
  for (;;) {
    // Marginal cost of one whole token of every outcome at the current levels.
    __int128 unit = 0;
    int64_t step = INT64_MAX;
    bool exhausted = false;
    for (size_t i = 0; i < n; ++i) {
      if (level[i] >= asks[i].size()) {
        exhausted = true;
        break;
      }
      const AskLevel& l = asks[i][level[i]];
      unit += l.price;
      unit += BasketFee(l.price, kOne, params.fee_rate_bps);
      step = std::min(step, l.size - used[i]);
    }
    if (exhausted || unit >= bar) break;
    step = std::min(step, params.max_size_micros - size);
    if (step <= 0) break;
    size += step;
    for (size_t i = 0; i < n; ++i) {
      used[i] += step;
      if (used[i] == asks[i][level[i]].size) {
        ++level[i];
        used[i] = 0;
      }
    }
  }
  size -= size % std::max<int64_t>(params.lot_micros, 1);
  // Cost and fees of `size` tokens walked again exactly; shrink to the cost cap.
  auto price_basket = [&](int64_t s, Basket* b) {
    b->size = s;
    b->cost_micros = 0;
    b->fees_micros = 0;
    b->legs.assign(n, BasketLeg{0});
    for (size_t i = 0; i < n; ++i) {
      int64_t left = s;
      for (const AskLevel& l : asks[i]) {
        if (left == 0) break;
        const int64_t take = std::min(left, l.size);
        b->cost_micros += CostUp(l.price, take);
        b->fees_micros += BasketFee(l.price, take, params.fee_rate_bps);
        b->legs[i].limit_price = l.price;
        left -= take;
      }
    }
    b->profit_micros = CostUp(kOne, s) - b->cost_micros - b->fees_micros;
  };
  while (size > 0) {
    price_basket(size, &out);
    if (out.cost_micros + out.fees_micros <= params.max_cost_micros) break;
    // Scale down proportionally, then by lots, until under the cap.
    const __int128 scaled = static_cast<__int128>(size) * params.max_cost_micros / (out.cost_micros + out.fees_micros);
    int64_t next = static_cast<int64_t>(scaled);
    next -= next % std::max<int64_t>(params.lot_micros, 1);
    size = next < size ? next : size - std::max<int64_t>(params.lot_micros, 1);
  }
  if (size <= 0 || out.profit_micros < params.min_profit_micros || out.profit_micros <= 0) {
    const int64_t best_sum = out.best_sum;
    out = Basket{};
    out.best_sum = best_sum;
  }
  return out;
}

}  // namespace polyhost::dutchbook

// makerAmount / takerAmount from price, size (or amount), side and tick size,
// with the official clients' rounding rules (clob-client-v2 getOrderRawAmounts /
// getMarketOrderRawAmounts, py-clob-client-v2 get_order_amounts), computed in
// exact integer micro-units — no floating point. See docs/relayer.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "signing/eip712.h"

namespace polyhost::signing {

// The rounding row for a tick size (price / size / amount decimals).
struct RoundConfig {
  int64_t tick_micros = 0;
  int price_decimals = 0;
  int size_decimals = 2;
  int amount_decimals = 0;
};
// Known ticks: 0.1, 0.01, 0.005, 0.0025, 0.001, 0.0001 (in micro-units 100000,
// 10000, 5000, 2500, 1000, 100). std::nullopt for anything else.
std::optional<RoundConfig> RoundConfigForTick(int64_t tick_micros);
// Same from text ("0.01"); nullopt for an unknown or malformed tick.
std::optional<RoundConfig> RoundConfigForTick(std::string_view tick);

struct RawAmounts {
  uint64_t maker_amount = 0;  // 6-decimal integer units
  uint64_t taker_amount = 0;
};

// Parses a non-negative decimal ("21.04", ".5", "100") and truncates it to
// `decimals` fractional digits (round down), returning micro-units; any number
// of input digits is accepted. Throws SigningError when malformed or too large.
int64_t ParseTruncated(std::string_view text, int decimals);

// Limit order: `price_micros` must lie on the tick, strictly inside (0, 1);
// `size_micros` (shares) is rounded down to 2 decimals. BUY: maker = notional,
// taker = shares; SELL: maker = shares, taker = notional. Throws SigningError
// for an off-tick or out-of-range price (the venue would reject it).
RawAmounts LimitOrderAmounts(OrderSide side, int64_t price_micros, int64_t size_micros, const RoundConfig& rc);
// From text; the size may carry any number of decimals (truncated to 2).
RawAmounts LimitOrderAmounts(OrderSide side, std::string_view price, std::string_view size, std::string_view tick);

// Market order (V2): price rounded down to the price decimals; amount rounded
// down to 2 decimals (BUY: collateral to spend; SELL: shares). BUY: maker = amount,
// taker = amount / price; SELL: maker = amount, taker = amount × price; the
// computed side rounded up at (amount decimals + 4) then down to amount decimals.
RawAmounts MarketOrderAmounts(OrderSide side, int64_t price_micros, int64_t amount_micros, const RoundConfig& rc);
RawAmounts MarketOrderAmounts(OrderSide side, std::string_view price, std::string_view amount, std::string_view tick);

}  // namespace polyhost::signing

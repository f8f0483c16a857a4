#include "signing/order_amounts.h"

#include "core/decimal.h"

namespace polyhost::signing {
namespace {

using i128 = __int128;

i128 Pow10(int n) {
  i128 v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// The value num/den units as 6-decimal integer units, by the clients' rule:
// round up at (dec + 4) decimals, then down to dec decimals (dec <= 6).
uint64_t RoundUpThenDown(i128 num, i128 den, int dec) {
  const i128 scale = Pow10(dec + 4);
  const i128 t = (num * scale + den - 1) / den;  // ceil at dec+4 decimals
  const i128 r = t / 10000;                       // floor at dec decimals
  const i128 micros = r * Pow10(6 - dec);
  if (micros < 0 || micros > static_cast<i128>(INT64_MAX)) throw SigningError("amount out of range");
  return static_cast<uint64_t>(micros);
}

int64_t FloorTo(int64_t micros, int decimals) {
  const int64_t unit = static_cast<int64_t>(Pow10(6 - decimals));
  return micros / unit * unit;
}

void CheckPrice(int64_t price, const RoundConfig& rc) {
  if (price <= 0 || price >= kMicrosPerUnit) {
    throw SigningError("price " + FormatDecimal(price) + " is outside (0, 1)");
  }
  if (price % rc.tick_micros != 0) {
    throw SigningError("price " + FormatDecimal(price) + " is not on the tick " + FormatDecimal(rc.tick_micros) +
                       " (the venue rejects off-tick prices)");
  }
}

RoundConfig RequireTick(std::string_view tick) {
  auto rc = RoundConfigForTick(tick);
  if (!rc) throw SigningError("unknown tick size '" + std::string(tick) + "' (0.1, 0.01, 0.005, 0.0025, 0.001, 0.0001)");
  return *rc;
}

int64_t ParsePrice(std::string_view text) {
  int64_t v = 0;
  const DecimalError err = ParseDecimal(text, &v);
  if (err != DecimalError::kOk) throw SigningError("bad price '" + std::string(text) + "': " + DecimalErrorText(err));
  return v;
}

}  // namespace

std::optional<RoundConfig> RoundConfigForTick(int64_t tick) {
  switch (tick) {
    case 100000: return RoundConfig{tick, 1, 2, 3};
    case 10000: return RoundConfig{tick, 2, 2, 4};
    case 5000: return RoundConfig{tick, 3, 2, 5};
    case 2500: return RoundConfig{tick, 4, 2, 6};
    case 1000: return RoundConfig{tick, 3, 2, 5};
    case 100: return RoundConfig{tick, 4, 2, 6};
    default: return std::nullopt;
  }
}

std::optional<RoundConfig> RoundConfigForTick(std::string_view tick) {
  int64_t v = 0;
  if (ParseDecimal(tick, &v) != DecimalError::kOk) return std::nullopt;
  return RoundConfigForTick(v);
}

int64_t ParseTruncated(std::string_view text, int decimals) {
  if (decimals < 0 || decimals > 6) throw SigningError("decimals must be 0..6");
  const std::string orig(text);
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  int64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool seen_point = false, any_digit = false;
  for (char c : text) {
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') throw SigningError("not a non-negative decimal: '" + orig + "'");
    any_digit = true;
    if (!seen_point) {
      if (whole > (INT64_MAX / kMicrosPerUnit - 9) / 10) throw SigningError("number too large: '" + orig + "'");
      whole = whole * 10 + (c - '0');
    } else if (frac_digits < decimals) {
      frac = frac * 10 + (c - '0');
      ++frac_digits;
    }
  }
  if (!any_digit) throw SigningError("not a number: '" + orig + "'");
  while (frac_digits < 6) {
    frac *= 10;
    ++frac_digits;
  }
  return whole * kMicrosPerUnit + frac;
}

RawAmounts LimitOrderAmounts(OrderSide side, int64_t price, int64_t size, const RoundConfig& rc) {
  CheckPrice(price, rc);
  if (size < 0) throw SigningError("negative size");
  const int64_t shares = FloorTo(size, rc.size_decimals);
  const uint64_t notional = RoundUpThenDown(static_cast<i128>(shares) * price, Pow10(12), rc.amount_decimals);
  if (side == OrderSide::kBuy) return {notional, static_cast<uint64_t>(shares)};
  return {static_cast<uint64_t>(shares), notional};
}

RawAmounts LimitOrderAmounts(OrderSide side, std::string_view price, std::string_view size, std::string_view tick) {
  return LimitOrderAmounts(side, ParsePrice(price), ParseTruncated(size, 2), RequireTick(tick));
}

RawAmounts MarketOrderAmounts(OrderSide side, int64_t price, int64_t amount, const RoundConfig& rc) {
  price = FloorTo(price, rc.price_decimals);
  if (price <= 0 || price >= kMicrosPerUnit) throw SigningError("price " + FormatDecimal(price) + " is outside (0, 1)");
  if (amount < 0) throw SigningError("negative amount");
  const int64_t a = FloorTo(amount, 2);
  if (side == OrderSide::kBuy) {
    // shares = amount / price
    return {static_cast<uint64_t>(a), RoundUpThenDown(static_cast<i128>(a), static_cast<i128>(price), rc.amount_decimals)};
  }
  return {static_cast<uint64_t>(a), RoundUpThenDown(static_cast<i128>(a) * price, Pow10(12), rc.amount_decimals)};
}

RawAmounts MarketOrderAmounts(OrderSide side, std::string_view price, std::string_view amount, std::string_view tick) {
  const RoundConfig rc = RequireTick(tick);
  // The price is rounded down to its decimals, so accept any number of input digits.
  return MarketOrderAmounts(side, ParseTruncated(price, rc.price_decimals), ParseTruncated(amount, 2), rc);
}

}  // namespace polyhost::signing

// Builds, signs and serialises Polymarket CLOB V2 orders (POST /order), and the
// order-book summary hash. Pure functions of their inputs: the caller supplies
// the clock and the salt seed, so everything is reproducible in tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signing/eip712.h"
#include "signing/order_amounts.h"

namespace polyhost::signing {

// Largest salt: the venue reads it as a JSON number, so it must fit a double exactly.
inline constexpr uint64_t kMaxSalt = (uint64_t{1} << 53) - 1;
// A salt in [0, 2^53 − 1]: deterministic from `seed` when given (tests, dry runs
// you want to reproduce), otherwise from std::random_device.
uint64_t MakeSalt(std::optional<uint64_t> seed = std::nullopt);

struct LimitOrderParams {
  std::string token_id;          // outcome token id (decimal)
  OrderSide side = OrderSide::kBuy;
  std::string price;             // e.g. "0.56"; must be on the tick
  std::string size;              // shares, e.g. "21.04" (rounded down to 2 decimals)
  std::string tick_size = "0.01";
  bool neg_risk = false;
  SignatureType signature_type = SignatureType::kEoa;
  std::optional<Address> funder;  // maker when set (proxy / Safe); else the signer
  uint64_t timestamp_ms = 0;
  uint64_t salt = 0;              // <= kMaxSalt
  uint64_t expiration_s = 0;      // 0 = none (GTC)
  Hash32 metadata{};
  Hash32 builder{};
};

struct SignedOrder {
  OrderV2 order;
  uint64_t expiration_s = 0;
  std::string signature;  // 0x-hex
  Hash32 digest{};        // EIP-712 order hash (the venue's order id)
};

// Amounts by the official rounding rules, then the EIP-712 signature by `key`.
// `domain` carries the exchange version and verifying contract (use
// PolygonV2Domain(neg_risk) or values from configuration). Throws SigningError.
SignedOrder BuildLimitOrder(const PrivateKey& key, const ExchangeDomain& domain, const LimitOrderParams& params);

// The compact JSON the CLOB expects for POST /order:
// {"order":{salt,maker,signer,tokenId,makerAmount,takerAmount,side,signatureType,
//  expiration,timestamp,metadata,builder,signature},"owner":API_KEY,"orderType":TYPE}
// (salt as a number, side "BUY"/"SELL", addresses lower-case, amounts as strings).
std::string OrderJson(const SignedOrder& order);
std::string PostOrderBody(const SignedOrder& order, std::string_view owner_api_key, std::string_view order_type);

// --- order-book summary hash (py-clob-client generate_orderbook_summary_hash) ---
struct BookSummaryLevel {
  std::string price, size;
};
struct BookSummary {
  std::string market, asset_id, timestamp;
  std::vector<BookSummaryLevel> bids, asks;
  std::string min_order_size, tick_size;
  bool neg_risk = false;
  std::string last_trade_price;
};
std::string BookSummaryPreimage(const BookSummary& book);
std::string BookSummaryHash(const BookSummary& book);  // SHA-1, lower-case hex

}  // namespace polyhost::signing

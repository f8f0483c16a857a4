#include "signing/order_builder.h"

#include <random>

#include "core/json_text.h"

namespace polyhost::signing {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void AppendLevels(std::string& out, const std::vector<BookSummaryLevel>& levels) {
  out += '[';
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i) out += ',';
    out += "{\"price\":";
    AppendJsonQuoted(out, levels[i].price);
    out += ",\"size\":";
    AppendJsonQuoted(out, levels[i].size);
    out += '}';
  }
  out += ']';
}

}  // namespace

uint64_t MakeSalt(std::optional<uint64_t> seed) {
  if (seed) return SplitMix64(*seed) & kMaxSalt;
  std::random_device rd;
  const uint64_t hi = rd(), lo = rd();
  return ((hi << 32) ^ lo) & kMaxSalt;
}

SignedOrder BuildLimitOrder(const PrivateKey& key, const ExchangeDomain& domain, const LimitOrderParams& p) {
  if (p.salt > kMaxSalt) throw SigningError("salt must be below 2^53");
  if (p.token_id.empty()) throw SigningError("missing token id");
  (void)Uint256FromDecimal(p.token_id);  // validates
  if (p.signature_type == SignatureType::kPoly1271 && !p.funder) {
    throw SigningError("POLY_1271 orders need the deposit-wallet address as funder");
  }
  if ((p.signature_type == SignatureType::kPolyProxy || p.signature_type == SignatureType::kPolyGnosisSafe) &&
      !p.funder) {
    throw SigningError("proxy / Safe signature types need the funder address");
  }
  const RawAmounts amounts = LimitOrderAmounts(p.side, p.price, p.size, p.tick_size);
  if (amounts.maker_amount == 0 || amounts.taker_amount == 0) {
    throw SigningError("order size rounds to zero (sizes are rounded down to 2 decimals)");
  }
  SignedOrder s;
  OrderV2& o = s.order;
  o.salt = p.salt;
  o.maker = p.funder ? *p.funder : key.address();
  o.signer = p.signature_type == SignatureType::kPoly1271 ? o.maker : key.address();
  o.token_id = p.token_id;
  o.maker_amount = amounts.maker_amount;
  o.taker_amount = amounts.taker_amount;
  o.side = p.side;
  o.signature_type = p.signature_type;
  o.timestamp_ms = p.timestamp_ms;
  o.metadata = p.metadata;
  o.builder = p.builder;
  s.expiration_s = p.expiration_s;
  s.digest = OrderDigest(domain, o);
  s.signature = SignOrder(key, domain, o);
  return s;
}

std::string OrderJson(const SignedOrder& s) {
  const OrderV2& o = s.order;
  std::string out;
  out.reserve(512 + s.signature.size());
  out += "{\"salt\":" + std::to_string(o.salt);
  out += ",\"maker\":\"" + LowerAddress(o.maker) + '"';
  out += ",\"signer\":\"" + LowerAddress(o.signer) + '"';
  out += ",\"tokenId\":";
  AppendJsonQuoted(out, o.token_id);
  out += ",\"makerAmount\":\"" + std::to_string(o.maker_amount) + '"';
  out += ",\"takerAmount\":\"" + std::to_string(o.taker_amount) + '"';
  out += ",\"side\":\"" + std::string(OrderSideName(o.side)) + '"';
  out += ",\"signatureType\":" + std::to_string(static_cast<int>(o.signature_type));
  out += ",\"expiration\":\"" + std::to_string(s.expiration_s) + '"';
  out += ",\"timestamp\":\"" + std::to_string(o.timestamp_ms) + '"';
  out += ",\"metadata\":\"" + ToHex0x(o.metadata) + '"';
  out += ",\"builder\":\"" + ToHex0x(o.builder) + '"';
  out += ",\"signature\":\"" + s.signature + "\"}";
  return out;
}

std::string PostOrderBody(const SignedOrder& order, std::string_view owner_api_key, std::string_view order_type) {
  std::string out = "{\"order\":" + OrderJson(order) + ",\"owner\":";
  AppendJsonQuoted(out, owner_api_key);
  out += ",\"orderType\":";
  AppendJsonQuoted(out, order_type);
  out += '}';
  return out;
}

std::string BookSummaryPreimage(const BookSummary& b) {
  std::string out = "{\"market\":";
  AppendJsonQuoted(out, b.market);
  out += ",\"asset_id\":";
  AppendJsonQuoted(out, b.asset_id);
  out += ",\"timestamp\":";
  AppendJsonQuoted(out, b.timestamp);
  out += ",\"hash\":\"\",\"bids\":";
  AppendLevels(out, b.bids);
  out += ",\"asks\":";
  AppendLevels(out, b.asks);
  out += ",\"min_order_size\":";
  AppendJsonQuoted(out, b.min_order_size);
  out += ",\"tick_size\":";
  AppendJsonQuoted(out, b.tick_size);
  out += ",\"neg_risk\":";
  out += b.neg_risk ? "true" : "false";
  out += ",\"last_trade_price\":";
  AppendJsonQuoted(out, b.last_trade_price);
  out += '}';
  return out;
}

std::string BookSummaryHash(const BookSummary& book) { return Sha1Hex(BookSummaryPreimage(book)); }

}  // namespace polyhost::signing

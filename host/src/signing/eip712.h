// EIP-712 typed-data hashing for the Polymarket CLOB: the order V2 struct of the
// CTF Exchange (and Neg Risk CTF Exchange), the POLY_1271 (ERC-7739) wrapping for
// deposit wallets, and the L1 ClobAuth message. See docs/relayer.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "signing/crypto.h"

namespace polyhost::signing {

inline constexpr std::string_view kExchangeDomainName = "Polymarket CTF Exchange";
inline constexpr std::string_view kOrderTypeString =
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,uint256 takerAmount,"
    "uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,bytes32 builder)";
inline constexpr std::string_view kDomainTypeString =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

// Polygon mainnet defaults (V2 exchanges, live since 2026-04-28). Callers should
// take these from configuration; they are defaults, not the only values.
inline constexpr uint64_t kPolygonChainId = 137;
inline constexpr std::string_view kExchangeVersionV2 = "2";
inline constexpr std::string_view kCtfExchangeV2 = "0xE111180000d2663C0091e4f400237545B87B996B";
inline constexpr std::string_view kNegRiskCtfExchangeV2 = "0xe2222d279d744050d28e00520010520000310F59";

enum class OrderSide : uint8_t { kBuy = 0, kSell = 1 };
const char* OrderSideName(OrderSide side);  // "BUY" / "SELL"

enum class SignatureType : uint8_t { kEoa = 0, kPolyProxy = 1, kPolyGnosisSafe = 2, kPoly1271 = 3 };

// The exchange's EIP-712 domain.
struct ExchangeDomain {
  std::string version = std::string(kExchangeVersionV2);
  uint64_t chain_id = kPolygonChainId;
  Address verifying_contract{};
};
// The V2 mainnet domain for the regular (neg_risk = false) or the neg-risk exchange.
ExchangeDomain PolygonV2Domain(bool neg_risk);
Hash32 DomainSeparator(const ExchangeDomain& domain);

// The signed V2 order, field for field (11 fields, in the type-string order).
struct OrderV2 {
  uint64_t salt = 0;             // < 2^53 (sent as a JSON number)
  Address maker{};               // funder: EOA, proxy, Safe or deposit wallet
  Address signer{};              // the EOA whose key signs (POLY_1271: the wallet)
  std::string token_id;          // decimal, up to 78 digits
  uint64_t maker_amount = 0;     // 6-decimal integer units
  uint64_t taker_amount = 0;
  OrderSide side = OrderSide::kBuy;
  SignatureType signature_type = SignatureType::kEoa;
  uint64_t timestamp_ms = 0;     // order creation time, milliseconds
  Hash32 metadata{};
  Hash32 builder{};
};

Hash32 OrderTypeHash();  // keccak256(kOrderTypeString)
Hash32 OrderStructHash(const OrderV2& order);
// keccak256(0x1901 ‖ domainSeparator ‖ structHash): the venue's order hash / id.
Hash32 OrderDigest(const ExchangeDomain& domain, const OrderV2& order);

// POLY_1271: the digest the EOA actually signs (ERC-7739 TypedDataSign nesting).
Hash32 Poly1271SignDigest(const ExchangeDomain& domain, const OrderV2& order);

// The order's signature as sent ("0x" + hex): 65 bytes for EOA / proxy / Safe;
// for POLY_1271 the wrapped 317-byte form.
std::string SignOrder(const PrivateKey& key, const ExchangeDomain& domain, const OrderV2& order);

// --- L1: ClobAuth ------------------------------------------------------------------
inline constexpr std::string_view kClobAuthMessage = "This message attests that I control the given wallet";
Hash32 ClobAuthDomainSeparator(uint64_t chain_id);
Hash32 ClobAuthStructHash(const Address& address, std::string_view timestamp, uint64_t nonce);
Hash32 ClobAuthDigest(uint64_t chain_id, const Address& address, std::string_view timestamp, uint64_t nonce);
// "0x" + 65-byte hex: the POLY_SIGNATURE of L1 requests (address = the key's address).
std::string SignClobAuth(const PrivateKey& key, uint64_t chain_id, std::string_view timestamp, uint64_t nonce);

}  // namespace polyhost::signing

#include "signing/eip712.h"

#include <cstring>

namespace polyhost::signing {
namespace {

class Encoder {
 public:
  void Word(const Hash32& w) { buf_.insert(buf_.end(), w.begin(), w.end()); }
  void U64(uint64_t v) { Word(Uint256FromU64(v)); }
  void Addr(const Address& a) { Word(AddressWord(a)); }
  void Str(std::string_view s) { Word(Keccak256(s)); }
  Hash32 Hash() const { return Keccak256(buf_); }

 private:
  Bytes buf_;
};

Hash32 TypedDataDigest(const Hash32& domain_separator, const Hash32& struct_hash) {
  uint8_t buf[66];
  buf[0] = 0x19;
  buf[1] = 0x01;
  std::memcpy(buf + 2, domain_separator.data(), 32);
  std::memcpy(buf + 34, struct_hash.data(), 32);
  return Keccak256(buf, sizeof buf);
}

}  // namespace

const char* OrderSideName(OrderSide side) { return side == OrderSide::kBuy ? "BUY" : "SELL"; }

ExchangeDomain PolygonV2Domain(bool neg_risk) {
  ExchangeDomain d;
  d.verifying_contract = AddressFromHex(neg_risk ? kNegRiskCtfExchangeV2 : kCtfExchangeV2);
  return d;
}

Hash32 DomainSeparator(const ExchangeDomain& domain) {
  Encoder e;
  e.Word(Keccak256(kDomainTypeString));
  e.Str(kExchangeDomainName);
  e.Str(domain.version);
  e.U64(domain.chain_id);
  e.Addr(domain.verifying_contract);
  return e.Hash();
}

Hash32 OrderTypeHash() { return Keccak256(kOrderTypeString); }

Hash32 OrderStructHash(const OrderV2& o) {
  Encoder e;
  e.Word(OrderTypeHash());
  e.U64(o.salt);
  e.Addr(o.maker);
  e.Addr(o.signer);
  e.Word(Uint256FromDecimal(o.token_id));
  e.U64(o.maker_amount);
  e.U64(o.taker_amount);
  e.U64(static_cast<uint64_t>(o.side));
  e.U64(static_cast<uint64_t>(o.signature_type));
  e.U64(o.timestamp_ms);
  e.Word(o.metadata);
  e.Word(o.builder);
  return e.Hash();
}

Hash32 OrderDigest(const ExchangeDomain& domain, const OrderV2& order) {
  return TypedDataDigest(DomainSeparator(domain), OrderStructHash(order));
}

Hash32 Poly1271SignDigest(const ExchangeDomain& domain, const OrderV2& order) {
  static const std::string kTdsType =
      std::string("TypedDataSign(Order contents,string name,string version,uint256 chainId,"
                  "address verifyingContract,bytes32 salt)") +
      std::string(kOrderTypeString);
  Encoder e;
  e.Word(Keccak256(kTdsType));
  e.Word(OrderStructHash(order));
  e.Str("DepositWallet");
  e.Str("1");
  e.U64(domain.chain_id);
  e.Addr(order.maker);
  e.Word(Hash32{});
  return TypedDataDigest(DomainSeparator(domain), e.Hash());
}

std::string SignOrder(const PrivateKey& key, const ExchangeDomain& domain, const OrderV2& order) {
  if (order.signature_type != SignatureType::kPoly1271) {
    return ToHex0x(key.Sign(OrderDigest(domain, order)));
  }
  const auto inner = key.Sign(Poly1271SignDigest(domain, order));
  Bytes out(inner.begin(), inner.end());
  const Hash32 ds = DomainSeparator(domain), sh = OrderStructHash(order);
  out.insert(out.end(), ds.begin(), ds.end());
  out.insert(out.end(), sh.begin(), sh.end());
  out.insert(out.end(), kOrderTypeString.begin(), kOrderTypeString.end());
  out.push_back(static_cast<uint8_t>(kOrderTypeString.size() >> 8));
  out.push_back(static_cast<uint8_t>(kOrderTypeString.size() & 0xff));
  return ToHex0x(out);
}

Hash32 ClobAuthDomainSeparator(uint64_t chain_id) {
  Encoder e;
  e.Word(Keccak256("EIP712Domain(string name,string version,uint256 chainId)"));
  e.Str("ClobAuthDomain");
  e.Str("1");
  e.U64(chain_id);
  return e.Hash();
}

Hash32 ClobAuthStructHash(const Address& address, std::string_view timestamp, uint64_t nonce) {
  Encoder e;
  e.Word(Keccak256("ClobAuth(address address,string timestamp,uint256 nonce,string message)"));
  e.Addr(address);
  e.Str(timestamp);
  e.U64(nonce);
  e.Str(kClobAuthMessage);
  return e.Hash();
}

Hash32 ClobAuthDigest(uint64_t chain_id, const Address& address, std::string_view timestamp, uint64_t nonce) {
  return TypedDataDigest(ClobAuthDomainSeparator(chain_id), ClobAuthStructHash(address, timestamp, nonce));
}

std::string SignClobAuth(const PrivateKey& key, uint64_t chain_id, std::string_view timestamp, uint64_t nonce) {
  return ToHex0x(key.Sign(ClobAuthDigest(chain_id, key.address(), timestamp, nonce)));
}

}  // namespace polyhost::signing

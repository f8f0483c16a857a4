#include "signing/crypto.h"

#include <cryptopp/keccak.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <cstring>

namespace polyhost::signing {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One context for the process: signing and verification; immutable after creation
// (randomisation is optional and skipped), so it is safe to share across threads.
const secp256k1_context* Context() {
  static const secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
  return ctx;
}

Address AddressFromPubkey(const secp256k1_pubkey& pub) {
  uint8_t raw[65];
  size_t len = sizeof raw;
  secp256k1_ec_pubkey_serialize(Context(), raw, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  const Hash32 h = Keccak256(raw + 1, 64);
  Address a;
  std::memcpy(a.data(), h.data() + 12, 20);
  return a;
}

}  // namespace

std::string ToHex0x(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 + 2 * size);
  out += "0x";
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

Bytes FromHex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.size() % 2 != 0) throw SigningError("hex string has an odd number of digits");
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw SigningError("not a hex string");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

Hash32 Bytes32FromHex(std::string_view hex) {
  const Bytes b = FromHex(hex);
  if (b.size() != 32) throw SigningError("bytes32 value must be 32 bytes (64 hex digits)");
  Hash32 h;
  std::memcpy(h.data(), b.data(), 32);
  return h;
}

Address AddressFromHex(std::string_view hex) {
  const Bytes b = FromHex(hex);
  if (b.size() != 20) throw SigningError("address must be 20 bytes (0x + 40 hex digits)");
  Address a;
  std::memcpy(a.data(), b.data(), 20);
  return a;
}

Hash32 Uint256FromDecimal(std::string_view decimal) {
  if (decimal.empty()) throw SigningError("empty uint256");
  Hash32 w{};
  for (char c : decimal) {
    if (c < '0' || c > '9') throw SigningError("uint256 must be a decimal integer");
    unsigned carry = static_cast<unsigned>(c - '0');
    for (int i = 31; i >= 0; --i) {
      const unsigned v = w[i] * 10u + carry;
      w[i] = static_cast<uint8_t>(v & 0xff);
      carry = v >> 8;
    }
    if (carry != 0) throw SigningError("uint256 overflow");
  }
  return w;
}

Hash32 Uint256FromU64(uint64_t v) {
  Hash32 w{};
  for (int i = 31; i >= 24; --i) {
    w[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return w;
}

Hash32 AddressWord(const Address& a) {
  Hash32 w{};
  std::memcpy(w.data() + 12, a.data(), 20);
  return w;
}

Hash32 Keccak256(const uint8_t* data, size_t size) {
  CryptoPP::Keccak_256 k;
  k.Update(data, size);
  Hash32 h;
  k.Final(h.data());
  return h;
}

std::string Sha1Hex(std::string_view data) {
  uint8_t md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return ToHex0x(md, sizeof md).substr(2);
}

std::string ChecksumAddress(const Address& a) {
  std::string lower = ToHex0x(a).substr(2);
  const Hash32 h = Keccak256(lower);
  std::string out = "0x";
  for (size_t i = 0; i < lower.size(); ++i) {
    const int nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 15);
    char c = lower[i];
    if (c >= 'a' && c <= 'f' && nibble >= 8) c = static_cast<char>(c - 'a' + 'A');
    out += c;
  }
  return out;
}

PrivateKey PrivateKey::FromHex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.size() != 64) throw SigningError("private key must be 64 hex digits (0x optional)");
  PrivateKey k;
  for (size_t i = 0; i < 32; ++i) {
    const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw SigningError("private key is not hex");
    k.secret_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  secp256k1_pubkey pub;
  if (!secp256k1_ec_seckey_verify(Context(), k.secret_.data()) ||
      !secp256k1_ec_pubkey_create(Context(), &pub, k.secret_.data())) {
    throw SigningError("private key is not a valid secp256k1 secret");
  }
  k.address_ = AddressFromPubkey(pub);
  return k;
}

PrivateKey::~PrivateKey() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

std::array<uint8_t, 65> PrivateKey::Sign(const Hash32& digest) const {
  secp256k1_ecdsa_recoverable_signature sig;
  // nullptr nonce function = secp256k1_nonce_function_rfc6979; the result is low-s.
  if (!secp256k1_ecdsa_sign_recoverable(Context(), &sig, digest.data(), secret_.data(), nullptr, nullptr)) {
    throw SigningError("secp256k1 signing failed");
  }
  std::array<uint8_t, 65> out{};
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(Context(), out.data(), &recid, &sig);
  out[64] = static_cast<uint8_t>(27 + recid);
  return out;
}

Address RecoverAddress(const Hash32& digest, const std::array<uint8_t, 65>& signature) {
  int v = signature[64];
  if (v >= 27) v -= 27;
  if (v < 0 || v > 3) throw SigningError("bad recovery id");
  secp256k1_ecdsa_recoverable_signature sig;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(Context(), &sig, signature.data(), v)) {
    throw SigningError("bad signature");
  }
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(Context(), &pub, &sig, digest.data())) throw SigningError("recovery failed");
  return AddressFromPubkey(pub);
}

std::string Base64UrlEncode(const uint8_t* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

Bytes Base64AnyDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s += '=';
  size_t pad = 0;
  if (!s.empty() && s.back() == '=') ++pad;
  if (s.size() >= 2 && s[s.size() - 2] == '=') ++pad;
  Bytes out(3 * s.size() / 4 + 1);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) throw SigningError("not valid base64");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Hash32 HmacSha256(const Bytes& key, std::string_view message) {
  Hash32 out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len) ||
      len != out.size()) {
    throw SigningError("HMAC-SHA256 failed");
  }
  return out;
}

}  // namespace polyhost::signing

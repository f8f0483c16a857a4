// Cryptographic primitives for Polymarket order signing: Keccak-256 (Crypto++),
// secp256k1 recoverable ECDSA with RFC 6979 nonces (libsecp256k1), Ethereum
// addresses, 256-bit big-endian words, hex, base64 and HMAC-SHA256 (OpenSSL).
//
// All functions are thread-safe. Private keys live in PrivateKey, which wipes
// its bytes on destruction and never formats itself.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace polyhost::signing {

using Bytes = std::vector<uint8_t>;
using Hash32 = std::array<uint8_t, 32>;   // a Keccak-256 output or a 256-bit word
using Address = std::array<uint8_t, 20>;  // an Ethereum address

// Thrown for malformed inputs (bad hex, bad key, out-of-range numbers).
class SigningError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --- hex -------------------------------------------------------------------
// "0x" + lower-case hex.
std::string ToHex0x(const uint8_t* data, size_t size);
template <size_t N>
std::string ToHex0x(const std::array<uint8_t, N>& a) { return ToHex0x(a.data(), N); }
inline std::string ToHex0x(const Bytes& b) { return ToHex0x(b.data(), b.size()); }
// Hex with or without "0x", either case; throws SigningError on odd length or a non-hex digit.
Bytes FromHex(std::string_view hex);
// Exactly 32 bytes (bytes32 fields) / 20 bytes (addresses); throws otherwise.
Hash32 Bytes32FromHex(std::string_view hex);
Address AddressFromHex(std::string_view hex);

// --- 256-bit words ----------------------------------------------------------
// A non-negative decimal string (up to 2^256 − 1) as a big-endian 32-byte word.
Hash32 Uint256FromDecimal(std::string_view decimal);
Hash32 Uint256FromU64(uint64_t v);
Hash32 AddressWord(const Address& a);  // left-padded to 32 bytes

// --- hashes -----------------------------------------------------------------
Hash32 Keccak256(const uint8_t* data, size_t size);
inline Hash32 Keccak256(std::string_view s) {
  return Keccak256(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline Hash32 Keccak256(const Bytes& b) { return Keccak256(b.data(), b.size()); }
// SHA-1 as 40 lower-case hex digits (the CLOB's order-book summary hash).
std::string Sha1Hex(std::string_view data);

// --- addresses ----------------------------------------------------------------
// EIP-55 mixed-case checksum form, "0x" + 40 hex digits.
std::string ChecksumAddress(const Address& a);
// "0x" + 40 lower-case hex digits.
inline std::string LowerAddress(const Address& a) { return ToHex0x(a); }

// --- keys and signatures -----------------------------------------------------
class PrivateKey {
 public:
  // 64 hex digits, "0x" optional; throws SigningError (without echoing the key)
  // when malformed or not a valid secp256k1 secret.
  static PrivateKey FromHex(std::string_view hex);
  PrivateKey(const PrivateKey&) = default;
  PrivateKey& operator=(const PrivateKey&) = default;
  ~PrivateKey();

  const Address& address() const { return address_; }
  // 65 bytes r ‖ s ‖ v over a 32-byte digest: RFC 6979 nonce, low s, v = 27 + recovery id.
  std::array<uint8_t, 65> Sign(const Hash32& digest) const;

 private:
  PrivateKey() = default;
  std::array<uint8_t, 32> secret_{};
  Address address_{};
};

// Recovers the signer's address from a 65-byte signature (v = 27/28 or 0/1); for checks.
Address RecoverAddress(const Hash32& digest, const std::array<uint8_t, 65>& signature);

// --- base64 / HMAC -------------------------------------------------------------
// URL-safe base64 ('-', '_') with '=' padding, like Python's urlsafe_b64encode.
std::string Base64UrlEncode(const uint8_t* data, size_t size);
// Decodes standard or URL-safe base64, padding optional; throws SigningError.
Bytes Base64AnyDecode(std::string_view text);
Hash32 HmacSha256(const Bytes& key, std::string_view message);

}  // namespace polyhost::signing

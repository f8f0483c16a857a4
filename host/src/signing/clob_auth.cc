#include "signing/clob_auth.h"

#include "signing/eip712.h"

namespace polyhost::signing {

std::string L2Signature(std::string_view secret, std::string_view timestamp, std::string_view method,
                        std::string_view request_path, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + method.size() + request_path.size() + body.size());
  message.append(timestamp).append(method).append(request_path).append(body);
  const Hash32 mac = HmacSha256(Base64AnyDecode(secret), message);
  return Base64UrlEncode(mac.data(), mac.size());
}

Headers L2Headers(std::string_view address, const ApiCredentials& creds, std::string_view timestamp,
                  std::string_view method, std::string_view request_path, std::string_view body) {
  return {
      {"POLY_ADDRESS", std::string(address)},
      {"POLY_SIGNATURE", L2Signature(creds.secret, timestamp, method, request_path, body)},
      {"POLY_TIMESTAMP", std::string(timestamp)},
      {"POLY_API_KEY", creds.api_key},
      {"POLY_PASSPHRASE", creds.passphrase},
  };
}

Headers L1Headers(const PrivateKey& key, uint64_t chain_id, std::string_view timestamp, uint64_t nonce) {
  return {
      {"POLY_ADDRESS", ChecksumAddress(key.address())},
      {"POLY_SIGNATURE", SignClobAuth(key, chain_id, timestamp, nonce)},
      {"POLY_TIMESTAMP", std::string(timestamp)},
      {"POLY_NONCE", std::to_string(nonce)},
  };
}

bool IsSecretHeader(std::string_view name) { return name == "POLY_API_KEY" || name == "POLY_PASSPHRASE"; }

std::string Masked(std::string_view value) {
  return value.empty() ? "<not set>" : "<masked>";
}

}  // namespace polyhost::signing

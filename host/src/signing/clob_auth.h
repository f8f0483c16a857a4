// CLOB API authentication headers.
//  L1 (create / derive API credentials): an EIP-712 ClobAuth signature by the key.
//  L2 (every trading request): HMAC-SHA256 with the API secret over
//     timestamp + METHOD + requestPath + body.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signing/crypto.h"

namespace polyhost::signing {

// API credentials from L1 create/derive. All three are secrets: never log them.
struct ApiCredentials {
  std::string api_key;
  std::string secret;      // base64 (URL-safe or standard)
  std::string passphrase;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// urlsafe_b64(HMAC_SHA256(b64decode(secret), timestamp + method + request_path + body)).
// `request_path` without the query string; an empty body appends nothing. The
// body must be the exact bytes sent.
std::string L2Signature(std::string_view secret, std::string_view timestamp, std::string_view method,
                        std::string_view request_path, std::string_view body);

// POLY_ADDRESS, POLY_SIGNATURE, POLY_TIMESTAMP, POLY_API_KEY, POLY_PASSPHRASE.
// `address` is the signer's address as the venue knows it (EIP-55 form).
Headers L2Headers(std::string_view address, const ApiCredentials& creds, std::string_view timestamp,
                  std::string_view method, std::string_view request_path, std::string_view body);

// POLY_ADDRESS, POLY_SIGNATURE (ClobAuth), POLY_TIMESTAMP (seconds, as signed), POLY_NONCE.
Headers L1Headers(const PrivateKey& key, uint64_t chain_id, std::string_view timestamp, uint64_t nonce);

// True for the header names whose values are secrets (POLY_API_KEY, POLY_PASSPHRASE).
bool IsSecretHeader(std::string_view name);
// "<masked: N chars>"-style placeholder that shows neither the value nor a prefix of it.
std::string Masked(std::string_view value);

}  // namespace polyhost::signing

// The Polymarket CLOB REST API, authenticated with L2 HMAC headers: the
// requests the real relayer makes (version, post order, cancel, cancel-all,
// open orders), each behind its endpoint's client-side rate limit.
//
// Retries: only idempotent requests (GET, cancels) are retried, with
// exponential backoff, on transport failures, 429 and 5xx. POST /order is sent
// once: after a transport failure its outcome is unknown and must not be
// guessed by sending it again.
//
// Secrets: the API key, secret and passphrase go into request headers and the
// order body only; errors and logs name the endpoint and status, never them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "exec/rate_limiter.h"
#include "net/http_client.h"
#include "signing/clob_auth.h"

namespace polyhost {

// The request could not be completed (transport, or an unusable response).
class ClobError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClobClientOptions {
  std::string base_url = "https://clob.polymarket.com";  // no path
  signing::ApiCredentials creds;
  std::string address;  // POLY_ADDRESS: the signer, EIP-55
  net::HttpClientOptions http;
  std::chrono::milliseconds timeout{10000};
  int max_attempts = 3;                       // idempotent requests
  std::chrono::milliseconds backoff{250};     // first retry delay, doubled each time
  RateLimitTable rate_limits = PolymarketClobRateLimits();
  // Unix seconds for POLY_TIMESTAMP (default: the system clock).
  std::function<int64_t()> unix_seconds;
  // Sleeps for backoff and rate limiting (tests substitute a fake).
  RateLimiter::Sleep sleep;
};

struct ClobResponse {
  int status = 0;
  std::string body;
  bool ok() const { return status >= 200 && status < 300; }
};

// A venue error reduced to a stable code and the venue's own message.
struct VenueError {
  std::string code;     // e.g. insufficient_balance_allowance, invalid_tick, below_min_size
  std::string message;  // the venue's text (no secrets: it is the response body's error field)
  std::string Reason() const { return code + ": " + message; }
};

// Classifies an error response or an unsuccessful POST /order result.
VenueError MapVenueError(int status, std::string_view body);

struct PostOrderResult {
  bool success = false;
  std::string order_id;  // the venue's id (the order hash)
  std::string status;    // live | matched | delayed | unmatched
  VenueError error;      // when !success
};
PostOrderResult ParsePostOrderResponse(const ClobResponse& response);

struct CancelResult {
  std::vector<std::string> canceled;
  std::vector<std::pair<std::string, std::string>> not_canceled;  // id, reason
};
CancelResult ParseCancelResponse(const ClobResponse& response);

struct OpenOrder {
  std::string id, market, asset_id, side, price, original_size, size_matched, status;
};

class ClobClient {
 public:
  explicit ClobClient(ClobClientOptions options);

  // GET /version -> {"version": N}. Throws ClobError.
  int GetVersion();
  // POST /order with the exact body (PostOrderBody). Not retried. Throws ClobError
  // on a transport failure (outcome unknown).
  ClobResponse PostOrder(const std::string& body);
  // DELETE /order {"orderID": id}. Retried.
  ClobResponse CancelOrder(std::string_view order_id);
  // DELETE /cancel-all. Retried.
  ClobResponse CancelAll();
  // GET /data/orders, following next_cursor to the end. Throws ClobError.
  std::vector<OpenOrder> GetOpenOrders(std::string_view market = {}, std::string_view asset_id = {});
  // L1: POST /auth/api-key (create = true: new credentials) or GET
  // /auth/derive-api-key (the existing ones for `nonce`), signed with the key's
  // ClobAuth EIP-712 signature. Throws ClobError naming the endpoint and status,
  // never the credentials.
  signing::ApiCredentials CreateOrDeriveApiKey(const signing::PrivateKey& key, uint64_t chain_id, uint64_t nonce,
                                               bool create);

  const ClobClientOptions& options() const { return options_; }

 private:
  // The authentication headers of one attempt, given its POLY_TIMESTAMP; empty
  // for a public endpoint.
  using Signer = std::function<signing::Headers(const std::string& timestamp)>;
  // `path` is signed without its query; `query` ("a=b&c=d") is appended to the URL.
  ClobResponse Send(std::string_view method, std::string_view path, std::string_view query, std::string body,
                    bool authenticated, bool idempotent);
  ClobResponse SendSigned(std::string_view method, std::string_view path, std::string_view query, std::string body,
                          const Signer& signer, bool idempotent);

  ClobClientOptions options_;
  net::HttpClient http_;
  RateLimiter limiter_;
};

}  // namespace polyhost

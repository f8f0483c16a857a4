// Client-side rate limits for the CLOB: token buckets per endpoint.
//
// Each published limit "N requests per W" becomes a bucket holding at most N
// tokens that refills continuously at N / W; an endpoint may have several (the
// venue's burst and sustained limits). Acquire() waits until every bucket of the
// endpoint has a token and takes one from each, so a burst of orders is spread
// out instead of being throttled or refused by the venue. Integer arithmetic
// only (token units scaled by the window in nanoseconds).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace polyhost {

struct RateLimit {
  int64_t requests = 0;
  std::chrono::nanoseconds window{0};
};

// Endpoint key ("POST /order") -> its limits.
using RateLimitTable = std::map<std::string, std::vector<RateLimit>, std::less<>>;

// The venue's published Cloudflare limits for the endpoints the real relayer
// uses (docs.polymarket.com/api-reference/rate-limits; numbers in docs/relayer.md).
RateLimitTable PolymarketClobRateLimits();

// Parses overrides "POST /order=5/1s, DELETE /order=3000/10s;30000/10m" (units
// ms, s, m) over `base`: each named endpoint's limits are replaced. Throws
// std::invalid_argument naming the bad entry.
RateLimitTable ParseRateLimits(std::string_view text, RateLimitTable base);

class RateLimiter {
 public:
  using Clock = std::function<int64_t()>;        // monotonic nanoseconds
  using Sleep = std::function<void(int64_t)>;    // sleeps that many nanoseconds

  explicit RateLimiter(RateLimitTable limits, Clock clock = {}, Sleep sleep = {});

  // Waits (via Sleep) until the endpoint may be called, then records the call.
  // Endpoints without limits pass at once. Returns the nanoseconds waited.
  // Thread-safe; waiting callers hold the lock, so they go in arrival order.
  int64_t Acquire(std::string_view endpoint);

 private:
  struct Bucket {
    RateLimit limit;
    __int128 units = 0;  // tokens × window_ns
    int64_t last_ns = 0;
  };
  void Refill(Bucket& b, int64_t now) const;

  Clock clock_;
  Sleep sleep_;
  std::mutex mu_;
  std::map<std::string, std::vector<Bucket>, std::less<>> buckets_;
};

}  // namespace polyhost

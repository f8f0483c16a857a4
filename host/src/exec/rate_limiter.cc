#include "exec/rate_limiter.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <thread>

namespace polyhost {
namespace {

using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "5/1s", "36000/10m", "100/500ms"
RateLimit ParseOne(std::string_view text, std::string_view entry) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("rate limit '" + std::string(entry) + "': " + why +
                                 " (expected e.g. \"POST /order=3500/10s;36000/10m\")");
  };
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) throw bad("missing '/'");
  std::string_view count = Trim(text.substr(0, slash));
  std::string_view window = Trim(text.substr(slash + 1));
  int64_t n = 0;
  auto [p, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (ec != std::errc() || p != count.data() + count.size() || n <= 0) throw bad("request count must be a positive integer");
  int64_t w = 0;
  auto [q, ec2] = std::from_chars(window.data(), window.data() + window.size(), w);
  if (ec2 != std::errc() || w <= 0) throw bad("window must be a positive number with a unit");
  std::string_view unit = window.substr(static_cast<size_t>(q - window.data()));
  nanoseconds ns;
  if (unit == "ms") ns = std::chrono::milliseconds(w);
  else if (unit == "s") ns = seconds(w);
  else if (unit == "m") ns = minutes(w);
  else throw bad("window unit must be ms, s or m");
  return RateLimit{n, ns};
}

}  // namespace

RateLimitTable PolymarketClobRateLimits() {
  // Burst (per 10 s) and sustained (per 10 min) limits where the venue publishes both.
  return {
      {"POST /order", {{3500, seconds(10)}, {36000, minutes(10)}}},
      {"DELETE /order", {{3000, seconds(10)}, {30000, minutes(10)}}},
      {"DELETE /cancel-all", {{250, seconds(10)}, {6000, minutes(10)}}},
      {"GET /data/orders", {{500, seconds(10)}}},
      {"GET /version", {{9000, seconds(10)}}},  // the CLOB's general limit
  };
}

RateLimitTable ParseRateLimits(std::string_view text, RateLimitTable base) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = Trim(text.substr(start, end - start));
    start = end + 1;
    if (entry.empty()) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument("rate limit '" + std::string(entry) +
                                  "': expected ENDPOINT=N/WINDOW, e.g. \"POST /order=3500/10s\"");
    }
    std::string endpoint(Trim(entry.substr(0, eq)));
    if (endpoint.find(' ') == std::string::npos || endpoint.find('/') == std::string::npos) {
      throw std::invalid_argument("rate limit '" + std::string(entry) + "': endpoint must be METHOD /path");
    }
    std::vector<RateLimit> limits;
    std::string_view rest = entry.substr(eq + 1);
    size_t s = 0;
    while (s <= rest.size()) {
      size_t e = rest.find(';', s);
      if (e == std::string_view::npos) e = rest.size();
      limits.push_back(ParseOne(rest.substr(s, e - s), entry));
      s = e + 1;
    }
    base[endpoint] = std::move(limits);
  }
  return base;
}

RateLimiter::RateLimiter(RateLimitTable limits, Clock clock, Sleep sleep)
    : clock_(clock ? std::move(clock)
                   : Clock([] {
                       return static_cast<int64_t>(std::chrono::duration_cast<nanoseconds>(
                                                       std::chrono::steady_clock::now().time_since_epoch())
                                                       .count());
                     })),
      sleep_(sleep ? std::move(sleep) : Sleep([](int64_t ns) { std::this_thread::sleep_for(nanoseconds(ns)); })) {
  const int64_t now = clock_();
  for (auto& [endpoint, list] : limits) {
    std::vector<Bucket>& buckets = buckets_[endpoint];
    for (const RateLimit& l : list) {
      if (l.requests <= 0 || l.window.count() <= 0) continue;
      // Start full: the venue's window has seen nothing from us yet.
      buckets.push_back(Bucket{l, static_cast<__int128>(l.requests) * l.window.count(), now});
    }
  }
}

void RateLimiter::Refill(Bucket& b, int64_t now) const {
  if (now <= b.last_ns) return;
  const __int128 cap = static_cast<__int128>(b.limit.requests) * b.limit.window.count();
  b.units = std::min(cap, b.units + static_cast<__int128>(now - b.last_ns) * b.limit.requests);
  b.last_ns = now;
}

int64_t RateLimiter::Acquire(std::string_view endpoint) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(endpoint);
  if (it == buckets_.end() || it->second.empty()) return 0;
  int64_t waited = 0;
  while (true) {
    const int64_t now = clock_();
    int64_t wait = 0;
    for (Bucket& b : it->second) {
      Refill(b, now);
      const __int128 one = b.limit.window.count();
      if (b.units < one) {
        // Units arrive at `requests` per ns; round up so the token is whole.
        const __int128 missing = one - b.units;
        wait = std::max(wait, static_cast<int64_t>((missing + b.limit.requests - 1) / b.limit.requests));
      }
    }
    if (wait == 0) break;
    sleep_(wait);
    waited += wait;
  }
  for (Bucket& b : it->second) b.units -= b.limit.window.count();
  return waited;
}

}  // namespace polyhost

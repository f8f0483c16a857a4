#include "exec/rate_limiter.h"

#include <catch2/catch.hpp>

namespace polyhost {
namespace {

using std::chrono::seconds;

// A clock that only moves when the limiter sleeps.
struct FakeTime {
  int64_t now = 1'000'000'000;
  std::vector<int64_t> sleeps;
  RateLimiter Make(RateLimitTable t) {
    return RateLimiter(std::move(t), [this] { return now; }, [this](int64_t ns) {
      sleeps.push_back(ns);
      now += ns;
    });
  }
};

TEST_CASE("a token bucket allows its burst at once, then spaces calls at the refill rate") {
  FakeTime t;
  RateLimiter limiter = t.Make({{"POST /order", {{5, seconds(1)}}}});
  for (int i = 0; i < 5; ++i) CHECK(limiter.Acquire("POST /order") == 0);
  // Refill: 5 per second -> one token every 200 ms.
  CHECK(limiter.Acquire("POST /order") == 200'000'000);
  CHECK(limiter.Acquire("POST /order") == 200'000'000);
  // Idle time refills, capped at the burst.
  t.now += 10'000'000'000;
  for (int i = 0; i < 5; ++i) CHECK(limiter.Acquire("POST /order") == 0);
  CHECK(limiter.Acquire("POST /order") > 0);
  // Unlimited endpoints pass.
  CHECK(limiter.Acquire("GET /other") == 0);
}

TEST_CASE("an endpoint with burst and sustained limits obeys the tighter one") {
  FakeTime t;
  // 10 per second burst, but only 12 per minute sustained.
  RateLimiter limiter = t.Make({{"DELETE /order", {{10, seconds(1)}, {12, seconds(60)}}}});
  int64_t start = t.now;
  for (int i = 0; i < 12; ++i) limiter.Acquire("DELETE /order");
  CHECK(t.now - start < 1'000'000'000);  // 12 tokens: 10 burst + refills within ~0.2 s
  limiter.Acquire("DELETE /order");
  // The 13th needs a sustained token: 60 s / 12 = 5 s after the bucket emptied.
  CHECK(t.now - start >= 4'800'000'000);
  // Over any window the count never exceeds the sustained limit plus its burst.
}

TEST_CASE("over 10 simulated seconds the venue's POST /order burst limit holds") {
  FakeTime t;
  RateLimiter limiter = t.Make(PolymarketClobRateLimits());
  const int64_t start = t.now;
  int sent = 0;
  while (t.now - start < 10'000'000'000) {
    limiter.Acquire("POST /order");
    ++sent;
  }
  // 3,500 at once plus 350 per second refill for 10 s, within rounding.
  CHECK(sent >= 3500);
  CHECK(sent <= 3500 + 3500 + 1);
}

TEST_CASE("rate limit overrides parse and replace endpoints; bad entries are named") {
  RateLimitTable t = ParseRateLimits("POST /order=5/1s, DELETE /order=3/500ms;100/10m", PolymarketClobRateLimits());
  REQUIRE(t["POST /order"].size() == 1);
  CHECK(t["POST /order"][0].requests == 5);
  CHECK(t["POST /order"][0].window == seconds(1));
  REQUIRE(t["DELETE /order"].size() == 2);
  CHECK(t["DELETE /order"][0].window == std::chrono::milliseconds(500));
  CHECK(t["DELETE /order"][1].window == std::chrono::minutes(10));
  CHECK(t["DELETE /cancel-all"][0].requests == 250);  // untouched
  CHECK(ParseRateLimits("", {}).empty());
  CHECK_THROWS_WITH(ParseRateLimits("POST /order=5", {}), Catch::Contains("'POST /order=5'"));
  CHECK_THROWS_WITH(ParseRateLimits("POST /order=5/1h", {}), Catch::Contains("unit"));
  CHECK_THROWS_WITH(ParseRateLimits("POST /order=x/1s", {}), Catch::Contains("positive integer"));
  CHECK_THROWS_WITH(ParseRateLimits("order=1/1s", {}), Catch::Contains("METHOD /path"));
}

}  // namespace
}  // namespace polyhost

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "catalog/gamma_client.h"

namespace polyhost {
namespace {

namespace json = boost::json;

json::object Market(int i, const std::string& end_date) {
  json::array tokens{std::to_string(500 + 2 * i), std::to_string(501 + 2 * i)};
  return json::object{{"conditionId", "0x" + std::to_string(1000 + i)},
                      {"question", "Q" + std::to_string(i)},
                      {"slug", "q-" + std::to_string(i)},
                      {"outcomes", "[\"Yes\",\"No\"]"},
                      {"clobTokenIds", json::serialize(tokens)},
                      {"orderPriceMinTickSize", 0.01},
                      {"endDate", end_date}};
}

// Serves /markets like the venue: sorted by endDate, end_date_min filter, limit
// and offset, refusing offsets past `cap`.
struct FakeGamma {
  std::vector<json::object> markets;
  int64_t cap = 100;
  std::vector<std::string> urls;
  bool Get(const std::string& url, std::string* body, std::string* error) {
    urls.push_back(url);
    std::map<std::string, std::string> q;
    const std::string query = url.substr(url.find('?') + 1);
    size_t start = 0;
    while (start < query.size()) {
      size_t amp = query.find('&', start);
      std::string kv = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      q[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
    const int64_t limit = std::stoll(q["limit"]), offset = std::stoll(q["offset"]);
    if (limit > 100 || offset > cap) {
      *error = "HTTP 422";
      return false;
    }
    std::string min = q.count("end_date_min") ? q["end_date_min"] : "";
    // The client percent-encodes the ISO time; only ':' needs decoding here.
    size_t p;
    while ((p = min.find("%3A")) != std::string::npos) min.replace(p, 3, ":");
    json::array page;
    int64_t skipped = 0;
    for (const auto& m : markets) {
      if (std::string(m.at("endDate").as_string()) < min) continue;
      if (skipped++ < offset) continue;
      if (static_cast<int64_t>(page.size()) == limit) break;
      page.push_back(m);
    }
    *body = json::serialize(page);
    return true;
  }
};

}  // namespace

TEST_CASE("GammaMarketsUrl pages by endDate with the venue's limit") {
  GammaFetchOptions o;
  o.gamma_url = "https://gamma.test/";
  o.page_limit = 500;
  CHECK(GammaMarketsUrl(o, 200, "") == "https://gamma.test/markets?limit=100&offset=200&order=endDate&ascending=true");
  o.active_only = true;
  CHECK(GammaMarketsUrl(o, 0, "2026-01-02T03:00:00Z") ==
        "https://gamma.test/markets?limit=100&offset=0&order=endDate&ascending=true&active=true&closed=false"
        "&end_date_min=2026-01-02T03%3A00%3A00Z");
}

TEST_CASE("FetchGammaMarkets crosses the offset cap in endDate windows, dedups, and skips malformed markets") {
  FakeGamma g;
  for (int i = 0; i < 345; ++i) {
    char date[32];
    std::snprintf(date, sizeof date, "2026-%02d-%02dT%02d:00:00Z", 1 + i / 28 % 12, 1 + i % 28, i % 24);
    g.markets.push_back(Market(i, date));
  }
  std::sort(g.markets.begin(), g.markets.end(), [](const json::object& a, const json::object& b) {
    return a.at("endDate").as_string() < b.at("endDate").as_string();
  });
  g.markets[17]["clobTokenIds"] = "[\"1\"]";  // two outcomes, one token
  GammaFetchOptions o;
  o.gamma_url = "http://gamma.test";
  o.offset_cap = 100;
  std::vector<std::string> warnings;
  o.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  o.get = [&](const std::string& url, std::string* body, std::string* error) { return g.Get(url, body, error); };
  GammaFetchResult r = FetchGammaMarkets(o);
  CHECK(r.markets.size() == 344);
  CHECK(r.skipped >= 1);
  CHECK(r.windows >= 2);
  REQUIRE_FALSE(warnings.empty());
  CHECK(warnings[0].find("clobTokenIds") != std::string::npos);
  std::set<std::string> ids;
  for (const GammaMarket& m : r.markets) ids.insert(m.spec.market);
  CHECK(ids.size() == 344);
  CHECK(r.markets[0].slug.starts_with("q-"));
  CHECK(r.markets[0].spec.tick_size_micros == 10000);
  for (const std::string& url : g.urls) CHECK(url.find("offset=200") == std::string::npos);
}

TEST_CASE("FetchGammaMarkets fails clearly when the first page cannot be fetched") {
  GammaFetchOptions o;
  o.gamma_url = "http://gamma.test";
  o.get = [](const std::string&, std::string*, std::string* error) {
    *error = "HTTP 503 Service Unavailable";
    return false;
  };
  CHECK_THROWS_WITH(FetchGammaMarkets(o), Catch::Contains("HTTP 503"));
  o.get = [](const std::string&, std::string* body, std::string*) {
    *body = "{\"error\":\"x\"}";
    return true;
  };
  CHECK_THROWS_WITH(FetchGammaMarkets(o), Catch::Contains("expected a JSON array"));
}

}  // namespace polyhost

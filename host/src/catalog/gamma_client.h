// Pages through the Gamma market list (GET {gamma_url}/markets) for
// `polyhost refresh-markets` and the service's periodic refresh.
//
// Pages hold at most 100 markets (the venue's limit). The venue also refuses
// offsets past a cap, so the list is read in windows ordered by endDate: when
// the next offset would pass `offset_cap` (or the venue refuses it), a new
// window starts at offset 0 with end_date_min = the last endDate seen. Markets
// are deduplicated by condition id across windows. The JSON-encoded `outcomes`
// and `clobTokenIds` strings (and numbers such as orderPriceMinTickSize) are
// parsed exactly by MarketCatalog::ParseGammaMarkets; a malformed market is
// skipped with a warning naming the page and the field, never silently.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "catalog/market_catalog.h"

namespace polyhost {

struct GammaMarket {
  MarketSpec spec;
  std::string slug;
};

struct GammaFetchOptions {
  std::string gamma_url;      // e.g. https://gamma-api.polymarket.com
  bool active_only = false;   // active=true&closed=false
  int64_t page_limit = 100;   // 1..100
  int64_t offset_cap = 10000; // the venue refuses larger offsets
  int64_t max_markets = 0;    // stop after this many; 0 = all
  // GET url -> body (2xx) or error text.
  std::function<bool(const std::string& url, std::string* body, std::string* error)> get;
  std::function<void(const std::string&)> on_warning;
  std::function<void(int64_t pages, int64_t markets)> on_page;
};

struct GammaFetchResult {
  std::vector<GammaMarket> markets;
  int64_t pages = 0;
  int64_t windows = 1;
  int64_t skipped = 0;  // malformed markets
};

class GammaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws GammaError when a page cannot be fetched or is not a JSON array.
GammaFetchResult FetchGammaMarkets(const GammaFetchOptions& options);

// "{gamma_url}/markets?limit=L&offset=O&order=endDate&ascending=true[&active=true&closed=false][&end_date_min=T]"
std::string GammaMarketsUrl(const GammaFetchOptions& options, int64_t offset, const std::string& end_date_min);

}  // namespace polyhost

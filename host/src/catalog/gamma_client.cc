#include "catalog/gamma_client.h"

#include <boost/json.hpp>

#include <algorithm>
#include <unordered_set>

#include "core/url_encode.h"

namespace polyhost {

namespace json = boost::json;

std::string GammaMarketsUrl(const GammaFetchOptions& options, int64_t offset, const std::string& end_date_min) {
  std::string url = options.gamma_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/markets?limit=" + std::to_string(std::clamp<int64_t>(options.page_limit, 1, 100)) +
         "&offset=" + std::to_string(offset) + "&order=endDate&ascending=true";
  if (options.active_only) url += "&active=true&closed=false";
  if (!end_date_min.empty()) url += "&end_date_min=" + UrlEncode(end_date_min);
  return url;
}

GammaFetchResult FetchGammaMarkets(const GammaFetchOptions& options) {
  if (!options.get) throw GammaError("no HTTP client");
  const int64_t limit = std::clamp<int64_t>(options.page_limit, 1, 100);
  GammaFetchResult result;
  std::unordered_set<std::string> seen;
  std::string window_start;      // end_date_min of the current window ("" = none)
  std::string last_end_date;     // the last endDate seen in this window
  int64_t offset = 0;
  int64_t new_in_window = 0;
  auto warn = [&](const std::string& m) {
    if (options.on_warning) options.on_warning(m);
  };
  for (;;) {
    const bool past_cap = offset > options.offset_cap;
    std::string body, error;
    const std::string url = GammaMarketsUrl(options, offset, window_start);
    bool ok = !past_cap && options.get(url, &body, &error);
    if (!ok) {
      // Past the venue's offset cap (known, or refused): continue in a new window.
      if (offset == 0) throw GammaError("GET " + url + ": " + error);
      if (last_end_date.empty() || new_in_window == 0 || last_end_date == window_start) {
        warn("gamma: cannot page past offset " + std::to_string(offset) + (past_cap ? "" : " (" + error + ")") +
             ": more markets share endDate '" + last_end_date + "' than one window holds; the rest are not listed");
        break;
      }
      window_start = last_end_date;
      offset = 0;
      new_in_window = 0;
      ++result.windows;
      continue;
    }
    ++result.pages;
    json::error_code ec;
    json::value page = json::parse(body, ec);
    if (ec || !page.is_array()) {
      throw GammaError("GET " + url + ": expected a JSON array of markets" + (ec ? ": " + ec.message() : ""));
    }
    const json::array& items = page.get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      const json::value& item = items[i];
      const json::object* obj = item.if_object();
      if (obj != nullptr) {
        if (const json::value* end = obj->if_contains("endDate"); end != nullptr && end->is_string()) {
          last_end_date = std::string(end->get_string());
        }
      }
      GammaMarket m;
      try {
        std::vector<MarketSpec> one =
            MarketCatalog::ParseGammaMarkets(json::serialize(item), "gamma page " + std::to_string(result.pages) +
                                                                        " (offset " + std::to_string(offset) + ")");
        m.spec = std::move(one.at(0));
      } catch (const CatalogError& e) {
        ++result.skipped;
        warn(std::string("gamma: skipped a market: ") + e.what());
        continue;
      }
      if (obj != nullptr) {
        if (const json::value* slug = obj->if_contains("slug"); slug != nullptr && slug->is_string()) {
          m.slug = std::string(slug->get_string());
        }
      }
      if (!seen.insert(m.spec.market).second) continue;
      ++new_in_window;
      result.markets.push_back(std::move(m));
      if (options.max_markets > 0 && static_cast<int64_t>(result.markets.size()) >= options.max_markets) {
        return result;
      }
    }
    if (options.on_page) options.on_page(result.pages, static_cast<int64_t>(result.markets.size()));
    if (static_cast<int64_t>(items.size()) < limit) break;  // the last page
    offset += limit;
  }
  return result;
}

}  // namespace polyhost

#include "run/service.h"

#include <algorithm>
#include <unordered_set>

namespace polyhost {

ServiceFeed PlanServiceFeed(const std::vector<MarketEntry>& markets, const std::string& default_ws_url,
                            const std::function<std::vector<std::string>(const std::string& market)>& catalog_tokens) {
  ServiceFeed out;
  std::unordered_set<std::string> seen;  // a token belongs to one market
  bool all_budgeted = true;
  bool any_subscribed = false;
  for (const MarketEntry& m : markets) {
    const std::string url = m.ws_url.empty() ? default_ws_url : m.ws_url;
    std::vector<std::string> tokens = {m.outcome_yes_id};
    if (!m.outcome_no_id.empty()) tokens.push_back(m.outcome_no_id);
    if (catalog_tokens) {
      for (std::string& t : catalog_tokens(m.market_id)) {
        if (std::find(tokens.begin(), tokens.end(), t) == tokens.end()) tokens.push_back(std::move(t));
      }
    }
    if (tokens.size() == 1) {
      out.warnings.push_back("market " + m.market_id + " (line " + std::to_string(m.line) +
                             "): only its YES token is known (no outcome_no_id, not in the stored catalog)");
    }
    std::vector<LiveAsset>& list = m.subscribe ? out.assets : out.on_demand;
    for (const std::string& t : tokens) {
      if (!seen.insert(t).second) {
        out.warnings.push_back("market " + m.market_id + ": token " + t + " is already another market's; skipped");
        continue;
      }
      list.push_back({m.market_id, t, url});
    }
    if (!m.subscribe) {
      if (m.max_messages > 0) {
        out.warnings.push_back("market " + m.market_id + ": max_messages is ignored with subscribe = false");
      }
      continue;
    }
    any_subscribed = true;
    if (std::find(out.urls.begin(), out.urls.end(), url) == out.urls.end()) out.urls.push_back(url);
    if (m.max_messages > 0) {
      out.budgets[m.market_id] = m.max_messages;
    } else {
      all_budgeted = false;
    }
  }
  out.end_when_budgets_spent = any_subscribed && all_budgeted;
  return out;
}

}  // namespace polyhost

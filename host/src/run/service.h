// `polyhost run-service`: how the [[markets]] entries become one live feed.
//
// Every market's tokens go to ONE LiveSource (one book engine, one plugin host,
// one risk gate and relayer, so the notional caps hold over all markets): a
// market with its own ws_url gets that URL's feed, the others share
// [polymarket] ws_url's; each feed shards at 500 assets per connection.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "live/live_source.h"

namespace polyhost {

struct ServiceFeed {
  std::vector<LiveAsset> assets;     // subscribed at start (subscribe = true)
  std::vector<LiveAsset> on_demand;  // subscribe = false: subscribed when a plugin asks
  std::map<std::string, int64_t> budgets;  // market -> max_messages (> 0, subscribed markets)
  bool end_when_budgets_spent = false;     // every subscribed market has a budget
  std::vector<std::string> urls;     // distinct websocket URLs, first use first
  std::vector<std::string> warnings;
};

// A market's tokens: outcome_yes_id, outcome_no_id when given, then the tokens of
// market_id in the stored catalog (catalog_tokens may return none).
ServiceFeed PlanServiceFeed(const std::vector<MarketEntry>& markets, const std::string& default_ws_url,
                            const std::function<std::vector<std::string>(const std::string& market)>& catalog_tokens);

}  // namespace polyhost

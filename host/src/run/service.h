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

// Which plugins the service loads and which markets each may follow. `base` is
// [service] plugins (or the [strategy] defaults): names or .so paths. A
// [[markets]] entry with `plugins` gives its market to those plugins only; an
// entry without the key to every plugin. So a plugin is restricted (it gets an
// entry in `markets`) when some entry lists plugins without it; it may then
// follow the markets of the entries that list it or list none. Loaded: base,
// then every listed name not in it, first use first.
struct ServicePlugins {
  std::vector<std::string> plugins;                         // to load, in order
  std::map<std::string, std::vector<std::string>> markets;  // instance name -> allowed markets
  std::vector<std::string> errors;  // "<file>:<line>: markets[i]: 'plugins': unknown plugin 'x' ..."
};
// The instance name of a plugin spec: "dir/libspread.so" -> "spread".
std::string PluginInstanceName(const std::string& spec);
// `known(name)`: whether a listed name (not in base) can be loaded; `file` names
// the config in errors.
ServicePlugins PlanServicePlugins(const std::vector<MarketEntry>& markets, const std::vector<std::string>& base,
                                  const std::string& file, const std::function<bool(const std::string&)>& known);

}  // namespace polyhost

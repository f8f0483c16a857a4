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

std::string PluginInstanceName(const std::string& spec) {
  std::string name = spec;
  if (auto slash = name.find_last_of('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (name.starts_with("lib")) name = name.substr(3);
  if (name.ends_with(".so")) name.resize(name.size() - 3);
  return name;
}

ServicePlugins PlanServicePlugins(const std::vector<MarketEntry>& markets, const std::vector<std::string>& base,
                                  const std::string& file, const std::function<bool(const std::string&)>& known) {
  ServicePlugins out;
  out.plugins = base;  // as given (a name twice fails at load, as without lists)
  std::vector<std::string> names;  // instance names of out.plugins
  for (const std::string& spec : base) {
    if (std::find(names.begin(), names.end(), PluginInstanceName(spec)) == names.end()) {
      names.push_back(PluginInstanceName(spec));
    }
  }
  bool any_list = false;
  for (size_t i = 0; i < markets.size(); ++i) {
    const MarketEntry& m = markets[i];
    if (!m.plugins) continue;
    any_list = true;
    for (const std::string& spec : *m.plugins) {
      const std::string name = PluginInstanceName(spec);
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      if (known && !known(spec)) {
        out.errors.push_back(file + ":" + std::to_string(m.line) + ": markets[" + std::to_string(i) +
                             "]: 'plugins': unknown plugin '" + spec +
                             "' (not in [service] plugins and not found in the plugin directories)");
        continue;
      }
      out.plugins.push_back(spec);
      names.push_back(name);
    }
  }
  if (!any_list) return out;
  for (const std::string& name : names) {
    std::vector<std::string> allowed;
    bool restricted = false;
    for (const MarketEntry& m : markets) {
      const bool listed = !m.plugins || std::any_of(m.plugins->begin(), m.plugins->end(), [&](const std::string& s) {
        return PluginInstanceName(s) == name;
      });
      if (listed) {
        allowed.push_back(m.market_id);
      } else {
        restricted = true;
      }
    }
    if (restricted) out.markets[name] = std::move(allowed);
  }
  return out;
}

}  // namespace polyhost

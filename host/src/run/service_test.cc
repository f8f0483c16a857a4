#include "run/service.h"

#include <catch2/catch.hpp>

namespace polyhost {
namespace {

MarketEntry Entry(std::string market, std::string yes, std::string no = "", std::string url = "", int64_t max = 0,
                  bool subscribe = true) {
  MarketEntry m;
  m.market_id = std::move(market);
  m.outcome_yes_id = std::move(yes);
  m.outcome_no_id = std::move(no);
  m.ws_url = std::move(url);
  m.max_messages = max;
  m.subscribe = subscribe;
  return m;
}

TEST_CASE("PlanServiceFeed: tokens, URLs, budgets and on-demand markets") {
  const std::vector<MarketEntry> markets = {Entry("0xa", "1", "2", "", 5), Entry("0xb", "3", "", "ws://other/ws", 7),
                                            Entry("0xc", "5", "6", "ws://third/ws", 0, false)};
  const ServiceFeed f = PlanServiceFeed(markets, "ws://default/ws", [](const std::string& market) {
    return market == "0xb" ? std::vector<std::string>{"3", "4"} : std::vector<std::string>{};
  });
  REQUIRE(f.assets.size() == 4);
  CHECK(f.assets[0].asset_id == "1");
  CHECK(f.assets[0].ws_url == "ws://default/ws");
  CHECK(f.assets[1].asset_id == "2");
  CHECK(f.assets[2].market == "0xb");
  CHECK(f.assets[2].asset_id == "3");
  CHECK(f.assets[3].asset_id == "4");  // from the catalog
  CHECK(f.assets[3].ws_url == "ws://other/ws");
  REQUIRE(f.on_demand.size() == 2);
  CHECK(f.on_demand[0].ws_url == "ws://third/ws");
  CHECK(f.urls == std::vector<std::string>{"ws://default/ws", "ws://other/ws"});
  CHECK(f.budgets == std::map<std::string, int64_t>{{"0xa", 5}, {"0xb", 7}});
  CHECK(f.end_when_budgets_spent);
  CHECK(f.warnings.empty());
}

TEST_CASE("PlanServiceFeed: one market without a budget keeps the service running, lone YES tokens warn") {
  const ServiceFeed f =
      PlanServiceFeed({Entry("0xa", "1", "2", "", 5), Entry("0xb", "3")}, "ws://d/ws", nullptr);
  CHECK_FALSE(f.end_when_budgets_spent);
  REQUIRE(f.warnings.size() == 1);
  CHECK(f.warnings[0].find("0xb") != std::string::npos);
  const ServiceFeed dup = PlanServiceFeed({Entry("0xa", "1", "2"), Entry("0xb", "2", "3")}, "ws://d/ws", nullptr);
  CHECK(dup.assets.size() == 3);
  CHECK_FALSE(dup.warnings.empty());
}

TEST_CASE("PlanServicePlugins: per-market plugin lists restrict the others and load the listed ones") {
  const auto known = [](const std::string& name) { return name == "dutchbook" || name.ends_with(".so"); };
  std::vector<MarketEntry> markets = {Entry("0xa", "1"), Entry("0xb", "2"), Entry("0xc", "3")};
  // No lists: the base plugins, unrestricted.
  ServicePlugins none = PlanServicePlugins(markets, {"spread"}, "s.toml", known);
  CHECK(none.plugins == std::vector<std::string>{"spread"});
  CHECK(none.markets.empty());
  CHECK(none.errors.empty());

  markets[1].plugins = std::vector<std::string>{"dutchbook"};
  markets[2].plugins = std::vector<std::string>{"spread", "/p/libextra.so"};
  markets[2].line = 9;
  ServicePlugins p = PlanServicePlugins(markets, {"spread"}, "s.toml", known);
  CHECK(p.errors.empty());
  CHECK(p.plugins == std::vector<std::string>{"spread", "dutchbook", "/p/libextra.so"});
  CHECK(p.markets.at("spread") == std::vector<std::string>{"0xa", "0xc"});
  CHECK(p.markets.at("dutchbook") == std::vector<std::string>{"0xa", "0xb"});
  CHECK(p.markets.at("extra") == std::vector<std::string>{"0xa", "0xc"});

  // A plugin no entry leaves out stays unrestricted.
  markets[1].plugins = std::vector<std::string>{"dutchbook", "spread"};
  markets[2].plugins = std::vector<std::string>{"spread"};
  p = PlanServicePlugins(markets, {"spread"}, "s.toml", known);
  CHECK(p.markets.count("spread") == 0);
  CHECK(p.markets.at("dutchbook") == std::vector<std::string>{"0xa", "0xb"});

  markets[2].plugins = std::vector<std::string>{"nosuch"};
  p = PlanServicePlugins(markets, {"spread"}, "s.toml", known);
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].starts_with("s.toml:9: markets[2]: 'plugins': unknown plugin 'nosuch'"));
  CHECK(PluginInstanceName("/a/b/libspread.so") == "spread");
}

}  // namespace
}  // namespace polyhost

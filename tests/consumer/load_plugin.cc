// consumer_load_plugin PLUGIN.so: loads the example strategy built against the
// installed SDK with the host's loader, activates it, feeds it one book and
// checks the plan it proposes. Exit status 0 on success.
#include <cstdio>
#include <string>
#include <vector>

#include "book/order_book.h"
#include "plugin/plugin_host.h"

int main(int argc, char** argv) {
  using namespace polyhost;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
    return 2;
  }
  PluginHostOptions options;
  options.log = [](const PluginLogLine& l) {
    std::printf("[%s] %.*s: %.*s\n", PluginLogLevelName(l.level), int(l.plugin.size()), l.plugin.data(),
                int(l.message.size()), l.message.data());
  };
  PluginHost host(options);
  PluginConfig config{{"market", {PluginValueKind::kString, "0xexample"}},
                      {"asset_id", {PluginValueKind::kString, "yes"}},
                      {"min_spread", {PluginValueKind::kFloat, "0.03"}},
                      {"size", {PluginValueKind::kInteger, "5"}}};
  PluginLoadResult loaded = host.Load(argv[1], config);
  if (!loaded.ok) {
    std::fprintf(stderr, "FAIL: %s\n", loaded.error.c_str());
    return 1;
  }
  host.ActivateAll();
  OrderBook book;
  const std::vector<Level> bids{{400000, 10'000000}};
  const std::vector<Level> asks{{450000, 10'000000}};
  book.ApplySnapshot(bids, asks);
  book.set_tick_size(10000);
  host.DispatchBook(host.InternAsset("0xexample", "yes"), book, BookMeta{});
  const std::vector<Plan> plans = host.DrainPlans();
  const PluginInfo info = host.ListPlugins().at(0);
  std::printf("%s %s (%s) ABI %s state %s from %s\n", info.name.c_str(), info.version.c_str(),
              info.display_name.c_str(), info.abi_version.c_str(), PluginStateName(info.state), info.path.c_str());
  bool ok = info.state == PluginState::kActive && plans.size() == 1 && plans[0].legs.size() == 1 &&
            plans[0].legs[0].price == 410000 && plans[0].legs[0].size == 5'000000 &&
            plans[0].legs[0].side == Side::kBid && plans[0].client_tag == "improve-bid";
  host.Shutdown();
  if (!ok) {
    std::fprintf(stderr, "FAIL: expected one plan buying 5 at 0.41 from an active plugin (got %zu plans)\n",
                 plans.size());
    return 1;
  }
  std::printf("OK\n");
  return 0;
}

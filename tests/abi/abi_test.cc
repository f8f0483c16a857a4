// Real shared-object plugins through the real loader: version negotiation, the
// frozen v1 plugin, a newer minor, misbehaving plugins next to a good one, the
// C++ layer, name lookup and loader errors. Plugins are built by
// tests/abi/CMakeLists.txt into POLYHOST_ABI_PLUGIN_DIR.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "book/order_book.h"
#include "plugin/plugin_host.h"

namespace polyhost {
namespace {

namespace fs = std::filesystem;

const fs::path kPluginDir = POLYHOST_ABI_PLUGIN_DIR;

std::string PluginPath(const std::string& name) { return (kPluginDir / (name + ".so")).string(); }

// Everything the host reports, recorded.
struct Recorder {
  std::vector<std::string> logs;
  std::map<std::string, int64_t> metrics;  // "plugin/name" -> counter total or last gauge value
  int64_t clock = 1'700'000'000'000;

  PluginHostOptions Options() {
    PluginHostOptions options;
    options.search_dirs = {kPluginDir};
    options.log = [this](const PluginLogLine& l) {
      logs.push_back(std::string(PluginLogLevelName(l.level)) + " " + std::string(l.plugin) + ": " +
                     std::string(l.message));
    };
    options.metric = [this](std::string_view plugin, std::string_view name, PluginMetricKind kind, int64_t v) {
      int64_t& m = metrics[std::string(plugin) + "/" + std::string(name)];
      m = kind == PluginMetricKind::kCounter ? m + v : v;
    };
    options.clock = [this] { return clock; };
    return options;
  }
  bool Logged(std::string_view text) const {
    for (const auto& l : logs) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
  int64_t Metric(const std::string& key) const {
    auto it = metrics.find(key);
    return it == metrics.end() ? -999 : it->second;
  }
};

OrderBook Book(std::vector<Level> bids, std::vector<Level> asks, int64_t tick = 10000) {
  OrderBook b;
  b.ApplySnapshot(bids, asks);
  b.set_tick_size(tick);
  return b;
}

BookMeta Meta(int64_t seq, bool stale = false) {
  BookMeta m;
  m.seq = seq;
  m.resync_count = 1;
  m.ts_ms = 1'700'000'000'500;
  m.stale = stale;
  return m;
}

PluginState StateOf(const PluginHost& host, size_t index) { return host.ListPlugins().at(index).state; }

TEST_CASE("the frozen v1 plugin keeps loading and sees exactly what the host sends") {
  Recorder rec;
  PluginHost host(rec.Options());
  OrderBook book = Book({{450000, 10'000000}, {440000, 2'500000}}, {{480000, 4'000000}, {490000, 1}});
  host.SetBookProvider([&](std::string_view market, std::string_view asset_id, BookRef* out) {
    if (market != "0xmarket" || asset_id != "123") return false;
    out->book = &book;
    out->meta = Meta(41);
    return true;
  });
  PluginConfig config{{"market", {PluginValueKind::kString, "0xmarket"}},
                      {"asset_id", {PluginValueKind::kString, "123"}},
                      {"edge", {PluginValueKind::kFloat, "0.02"}},
                      {"max_size", {PluginValueKind::kInteger, "3000000"}},
                      {"enabled", {PluginValueKind::kBool, "true"}}};
  PluginLoadResult r = host.Load(PluginPath("v1_frozen"), config);
  REQUIRE(r.ok);
  const PluginInfo info = host.ListPlugins()[0];
  CHECK(info.name == "v1_frozen");
  CHECK(info.id == "v1_frozen");
  CHECK(info.version == "1.0.0");
  CHECK(info.abi_version == "1.0.0");
  CHECK(info.path == fs::absolute(PluginPath("v1_frozen")).string());
  CHECK(rec.Logged("info v1_frozen: v1_frozen: init edge 20000"));
  host.ActivateAll();
  REQUIRE(StateOf(host, 0) == PluginState::kActive);

  const uint32_t asset = host.InternAsset("0xmarket", "123");
  host.DispatchBook(asset, book, Meta(41, true));
  CHECK(StateOf(host, 0) == PluginState::kActive);
  CHECK(rec.Metric("v1_frozen/books") == 1);
  CHECK(rec.Metric("v1_frozen/seq") == 41);
  CHECK(rec.Metric("v1_frozen/resyncs") == 1);
  CHECK(rec.Metric("v1_frozen/ts_ms") == 1'700'000'000'500);
  CHECK(rec.Metric("v1_frozen/tick") == 10000);
  CHECK(rec.Metric("v1_frozen/stale") == 1);
  CHECK(rec.Metric("v1_frozen/levels") == 4);
  CHECK(rec.Metric("v1_frozen/bid_sizes") == 12'500000);
  CHECK(rec.Metric("v1_frozen/get_book_same") == 1);
  CHECK(rec.Metric("v1_frozen/last_plan") == 1);

  std::vector<Plan> plans = host.DrainPlans();
  REQUIRE(plans.size() == 1);
  const Plan& p = plans[0];
  CHECK(p.plan_id == 1);
  CHECK(p.plugin == "v1_frozen");
  CHECK(p.client_tag == "frozen-1");
  CHECK(p.reason == "v1 frozen: spread wide enough");
  REQUIRE(p.legs.size() == 2);
  CHECK(p.legs[0].market == "0xmarket");
  CHECK(p.legs[0].asset_id == "123");
  CHECK(p.legs[0].side == Side::kBid);
  CHECK(p.legs[0].price == 460000);
  CHECK(p.legs[0].size == 3'000000);
  CHECK(p.legs[0].tif == TimeInForce::kIoc);
  CHECK(p.legs[1].side == Side::kAsk);
  CHECK(p.legs[1].price == 470000);
  CHECK(p.legs[1].tif == TimeInForce::kGtc);

  // Narrow spread: no plan.
  OrderBook narrow = Book({{450000, 1}}, {{460000, 1}});
  host.DispatchBook(asset, narrow, Meta(42));
  CHECK(rec.Metric("v1_frozen/books") == 2);
  CHECK(rec.Metric("v1_frozen/stale") == 0);
  CHECK(host.DrainPlans().empty());

  TradePrint trade;
  trade.taker_side = Side::kAsk;
  trade.price = 455000;
  trade.size = 7;
  host.DispatchTrade(asset, trade);
  CHECK(rec.Metric("v1_frozen/trade_price") == 455000);
  CHECK(rec.Metric("v1_frozen/trade_side") == PH_SIDE_SELL);

  host.DispatchStatus(asset, AssetStatusKind::kResynced, Meta(43));
  CHECK(rec.Metric("v1_frozen/status") == PH_ASSET_RESYNCED);

  PluginOrderUpdate update;
  update.plan_id = p.plan_id;
  update.event = PluginOrderEvent::kAcked;
  update.leg_index = 1;
  update.order_id = "0xorder";
  update.dry_run = true;
  update.reason = "resting";
  host.DispatchOrderUpdate(update);
  CHECK(rec.Metric("v1_frozen/updates") == 1);
  CHECK(rec.Metric("v1_frozen/update_kind") == PH_ORDER_ACKED);
  CHECK(rec.Metric("v1_frozen/update_plan") == 1);
  CHECK(rec.Metric("v1_frozen/update_leg_price") == 470000);
  CHECK(rec.Metric("v1_frozen/update_dry_run") == 1);
  CHECK(rec.Logged("info v1_frozen: resting"));

  PluginFill fill;
  fill.plan_id = p.plan_id;
  fill.leg_index = 0;
  fill.order_id = "0xorder0";
  fill.price = 460000;
  fill.size = 1'500000;
  fill.fee_micros = 12;
  fill.maker = true;
  host.DispatchFill(fill);
  CHECK(rec.Metric("v1_frozen/fill_size") == 1'500000);
  CHECK(rec.Metric("v1_frozen/fill_fee") == 12);
  CHECK(rec.Metric("v1_frozen/fill_maker") == 1);

  REQUIRE(host.NextTimerMs() == rec.clock + 1000);
  host.DispatchTimers(rec.clock + 999);
  CHECK(rec.Metric("v1_frozen/timers") == -999);
  host.DispatchTimers(rec.clock + 1000);
  CHECK(rec.Metric("v1_frozen/timers") == 1);
  CHECK(rec.Metric("v1_frozen/timer_now") == rec.clock + 1000);

  host.DeactivateAll();
  auto cancels = host.DrainCancels();
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0].plugin == "v1_frozen");
  CHECK(cancels[0].scope == PluginCancelRequest::Scope::kAll);
  CHECK(cancels[0].reason == "v1_frozen deactivated");
  CHECK(StateOf(host, 0) == PluginState::kInactive);
}

TEST_CASE("the frozen v1 plugin reports a missing config key as a failed init") {
  Recorder rec;
  PluginHost host(rec.Options());
  PluginLoadResult r = host.Load(PluginPath("v1_frozen"));
  CHECK_FALSE(r.ok);
  CHECK(r.error == "init returned PH_ERR_CONFIG (-13)");
  CHECK(rec.Logged("error v1_frozen: v1_frozen: market and asset_id are required"));
  CHECK(rec.Logged("error v1_frozen: plugin 'v1_frozen' disabled: init returned PH_ERR_CONFIG (-13)"));
}

TEST_CASE("a plugin built for ABI major 2 is refused with a message naming both versions") {
  Recorder rec;
  PluginHost host(rec.Options());
  PluginLoadResult r = host.Load("abi_v2");  // by name, through the search dirs
  CHECK_FALSE(r.ok);
  CHECK(r.error.rfind("plugin 'abi_v2' (ABI 2.0.0) is not compatible with this host (ABI 1.1.0)", 0) == 0);
  CHECK(rec.Logged("error abi_v2: plugin 'abi_v2' (ABI 2.0.0) is not compatible with this host (ABI 1.1.0)"));
  const PluginInfo info = host.ListPlugins()[0];
  CHECK(info.state == PluginState::kFailed);
  CHECK(info.abi_version == "2.0.0");
  CHECK(info.failure == r.error);
  CHECK(info.path == fs::absolute(PluginPath("abi_v2")).string());
}

TEST_CASE("a plugin built for a newer minor loads and both sides use only the 1.0 part") {
  Recorder rec;
  PluginHost host(rec.Options());
  PluginLoadResult r = host.Load(PluginPath("minor_newer"));
  REQUIRE(r.ok);
  CHECK(host.ListPlugins()[0].abi_version == "1.7.0");
  CHECK(rec.Logged("was built for ABI 1.7.0, newer than this host's 1.1.0"));
  CHECK(rec.Metric("minor_newer/host_struct_size") == static_cast<int64_t>(sizeof(ph_host)));
  CHECK(rec.Metric("minor_newer/future_service") == 0);
  CHECK(rec.Metric("minor_newer/host_has_log") == 1);
  OrderBook book = Book({{450000, 1}}, {{460000, 1}});
  host.SetBookProvider([&](std::string_view, std::string_view, BookRef* out) {
    out->book = &book;
    return true;
  });
  host.ActivateAll();
  host.DispatchBook(host.InternAsset("m", "yes"), book, Meta(1));
  CHECK(StateOf(host, 0) == PluginState::kActive);
  CHECK(rec.Metric("minor_newer/view_struct_size") == static_cast<int64_t>(sizeof(ph_book_view)));
  CHECK(rec.Metric("minor_newer/view_tail_untouched") == 1);
  auto plans = host.DrainPlans();
  REQUIRE(plans.size() == 1);
  REQUIRE(plans[0].legs.size() == 2);
  CHECK(plans[0].client_tag == "newer");
  CHECK(plans[0].legs[1].side == Side::kAsk);
  CHECK(plans[0].legs[1].price == 700000);
  CHECK(plans[0].legs[1].size == 2'000000);
}

TEST_CASE("throwing and erroring and flooding plugins are disabled while a good one keeps receiving books") {
  Recorder rec;
  PluginHostOptions options = rec.Options();
  options.max_pending_plans = 16;
  PluginHost host(options);
  REQUIRE(host.Load("good").ok);
  REQUIRE(host.Load("throws").ok);
  REQUIRE(host.Load("returns_error").ok);
  REQUIRE(host.Load("sink_flood").ok);
  host.ActivateAll();
  const uint32_t yes = host.InternAsset("m", "yes");
  OrderBook book = Book({{450000, 1}}, {{460000, 2'000000}, {470000, 3'000000}});
  for (int i = 0; i < 5; ++i) {
    host.DispatchBook(yes, book, Meta(i));
    host.DrainPlans();
  }
  const auto list = host.ListPlugins();
  REQUIRE(list.size() == 4);
  CHECK(list[0].state == PluginState::kActive);
  CHECK(list[0].display_name == "Good citizen");
  CHECK(list[0].vendor == "polyhost tests");
  CHECK(list[1].state == PluginState::kFailed);
  CHECK(list[1].failure == "on_book returned PH_ERR_EXCEPTION (-10)");
  CHECK(list[2].state == PluginState::kFailed);
  CHECK(list[2].failure == "on_book returned PH_ERR_PLUGIN (-1042)");
  CHECK(list[3].state == PluginState::kFailed);
  CHECK(list[3].failure ==
        "plan sink overflow: more than 16 plans submitted before the host drained them (in on_book)");

  CHECK(rec.Logged("error throws: on_book: uncaught exception: exploding on purpose"));
  CHECK(rec.Logged("error throws: plugin 'throws' disabled: on_book returned PH_ERR_EXCEPTION (-10)"));
  CHECK(rec.Logged("warn returns_error: returns_error: refusing this book on purpose"));
  CHECK(rec.Logged("error returns_error: plugin 'returns_error' disabled: on_book returned PH_ERR_PLUGIN (-1042)"));
  CHECK(rec.Logged("error sink_flood: plugin 'sink_flood' disabled: plan sink overflow"));
  CHECK(rec.Logged("16 undrained plan(s) dropped; cancellation of its open orders requested"));

  CHECK(rec.Metric("good/books") == 5);
  CHECK(rec.Metric("good/ask_depth") == 5'000000);
  CHECK(rec.Metric("good/best_ask") == 460000);
  CHECK(host.SubscribedAssets().size() == 1);
  auto cancels = host.DrainCancels();
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0].plugin == "sink_flood");
}

TEST_CASE("a no-op plugin written with the C++ layer runs its whole lifecycle") {
  Recorder rec;
  {
    PluginHost host(rec.Options());
    PluginLoadResult r = host.Load("noop", {{"market", {PluginValueKind::kString, "mkt"}}});
    REQUIRE(r.ok);
    CHECK(host.ListPlugins()[0].display_name == "No-op strategy");
    host.ActivateAll();
    OrderBook book = Book({{420000, 1}}, {});
    host.DispatchBook(host.InternAsset("mkt", "yes"), book, Meta(1));
    host.DispatchBook(host.InternAsset("mkt", "no"), book, Meta(1));
    CHECK(rec.Metric("noop/books") == 1);
    CHECK(rec.Metric("noop/best_bid") == 420000);
  }
  CHECK(rec.Logged("info noop: noop: active on mkt"));
  CHECK(rec.Logged("info noop: noop: inactive"));
}

TEST_CASE("one library can serve two instances under different names") {
  Recorder rec;
  PluginHost host(rec.Options());
  REQUIRE(host.Load("noop", {{"asset_id", {PluginValueKind::kString, "a"}}}, "noop_a").ok);
  REQUIRE(host.Load("noop", {{"asset_id", {PluginValueKind::kString, "b"}}}, "noop_b").ok);
  CHECK_FALSE(host.Load("noop", {}, "noop_a").ok);
  host.ActivateAll();
  OrderBook book = Book({{420000, 1}}, {});
  host.DispatchBook(host.InternAsset("m", "a"), book, Meta(1));
  host.DispatchBook(host.InternAsset("m", "b"), book, Meta(1));
  host.DispatchBook(host.InternAsset("m", "b"), book, Meta(2));
  CHECK(rec.Metric("noop_a/books") == 1);
  CHECK(rec.Metric("noop_b/books") == 2);
}

TEST_CASE("plugins are found by name as name.so or libname.so or name/name.so") {
  const fs::path root = fs::temp_directory_path() / ("ph_abi_dirs_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "first");
  fs::create_directories(root / "second" / "nested");
  fs::copy_file(PluginPath("noop"), root / "first" / "libprefixed.so");
  fs::copy_file(PluginPath("noop"), root / "second" / "nested" / "nested.so");
  fs::copy_file(PluginPath("noop"), root / "second" / "plain.so");
  Recorder rec;
  PluginHostOptions options = rec.Options();
  options.search_dirs = {root / "first", root / "second"};
  {
    PluginHost host(options);
    CHECK(host.Load("prefixed").ok);
    CHECK(host.Load("nested").ok);
    CHECK(host.Load("plain").ok);
    const auto list = host.ListPlugins();
    CHECK(list[0].path == (root / "first" / "libprefixed.so").string());
    CHECK(list[1].path == (root / "second" / "nested" / "nested.so").string());
    CHECK(list[2].name == "plain");
    PluginLoadResult missing = host.Load("missing");
    CHECK_FALSE(missing.ok);
    CHECK(missing.error.find("plugin 'missing' not found; looked for: " + (root / "first" / "missing.so").string()) ==
          0);
    // By path, the instance name is the file name without "lib" and ".so".
    PluginLoadResult by_path = host.Load((root / "first" / "libprefixed.so").string());
    CHECK_FALSE(by_path.ok);  // "prefixed" is already loaded
    CHECK(by_path.error == "plugin 'prefixed': a plugin with this name is already loaded");
  }
  fs::remove_all(root);
}

TEST_CASE("libraries that are not usable plugins are refused with the reason") {
  Recorder rec;
  PluginHost host(rec.Options());
  PluginLoadResult r = host.Load("no_entry");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("does not export 'polyhost_plugin_entry'") != std::string::npos);
  r = host.Load("undefined_symbol");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("could not be loaded from") != std::string::npos);
  CHECK(r.error.find("undefined symbol: polyhost_test_symbol_that_does_not_exist") != std::string::npos);
  CHECK(host.ListPlugins().size() == 2);
  CHECK(rec.Logged("error no_entry: plugin 'no_entry'"));
}

}  // namespace
}  // namespace polyhost

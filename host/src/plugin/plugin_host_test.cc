// PluginHost with in-process plugins (LoadEntry): lifecycle, dispatch, the
// host-services table, the plan sink and failure handling. Loading real shared
// objects is tested in tests/abi/.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "plugin/plugin_host.h"
#include "polyhost/sdk/sdk.hpp"

namespace polyhost {
namespace {

// ---- a configurable C-ABI plugin living in the test binary ----------------------

struct Fake {
  ph_plugin table{};
  const ph_host* host = nullptr;
  std::vector<std::string> calls;
  std::function<ph_result(Fake&)> init, activate, deactivate;
  std::function<ph_result(Fake&, const ph_book_view&)> on_book;
  std::function<ph_result(Fake&, const ph_trade&)> on_trade;
  std::function<ph_result(Fake&, const ph_order_update&)> on_order_update;
  std::function<ph_result(Fake&, const ph_fill&)> on_fill;
  std::function<ph_result(Fake&, int64_t)> on_timer;
  std::function<ph_result(Fake&, const ph_status_event&)> on_status;
  bool destroyed = false;
  ph_plugin_descriptor desc{sizeof(ph_plugin_descriptor), 0, "fake", "Fake plugin", "1.2.3", "tests", nullptr};
  ph_plugin_entry entry{};

  // Host services, as a plugin would call them.
  ph_result Subscribe(const char* m, const char* a) const { return host->subscribe(host, m, a); }
  ph_result Submit(std::vector<ph_plan_leg> legs, const char* tag = "t", uint64_t* id = nullptr) const {
    ph_plan plan{};
    plan.struct_size = sizeof(plan);
    plan.leg_count = static_cast<uint32_t>(legs.size());
    plan.leg_struct_size = sizeof(ph_plan_leg);
    plan.client_tag = tag;
    plan.legs = legs.data();
    plan.reason = "because";
    return host->submit_plan(host, &plan, id);
  }
};

Fake& F(const ph_plugin* p) { return *static_cast<Fake*>(p->plugin_data); }

ph_result Call(Fake& f, const char* name, const std::function<ph_result(Fake&)>& fn) {
  f.calls.emplace_back(name);
  return fn ? fn(f) : PH_OK;
}

const ph_plugin* FakeCreate(const ph_host* host);
Fake* g_next = nullptr;

const ph_plugin* FakeCreate(const ph_host* host) {
  Fake& f = *g_next;
  f.host = host;
  f.calls.emplace_back("create");
  ph_plugin& t = f.table;
  t.struct_size = sizeof(ph_plugin);
  t.desc = &f.desc;
  t.plugin_data = &f;
  t.init = [](const ph_plugin* p) { return Call(F(p), "init", F(p).init); };
  t.activate = [](const ph_plugin* p) { return Call(F(p), "activate", F(p).activate); };
  t.deactivate = [](const ph_plugin* p) { return Call(F(p), "deactivate", F(p).deactivate); };
  t.destroy = [](const ph_plugin* p) {
    F(p).calls.emplace_back("destroy");
    F(p).destroyed = true;
  };
  t.on_book = [](const ph_plugin* p, const ph_book_view* v) {
    Fake& f = F(p);
    f.calls.emplace_back("on_book");
    return f.on_book ? f.on_book(f, *v) : PH_OK;
  };
  t.on_trade = [](const ph_plugin* p, const ph_trade* v) {
    Fake& f = F(p);
    f.calls.emplace_back("on_trade");
    return f.on_trade ? f.on_trade(f, *v) : PH_OK;
  };
  t.on_order_update = [](const ph_plugin* p, const ph_order_update* v) {
    Fake& f = F(p);
    f.calls.emplace_back("on_order_update");
    return f.on_order_update ? f.on_order_update(f, *v) : PH_OK;
  };
  t.on_fill = [](const ph_plugin* p, const ph_fill* v) {
    Fake& f = F(p);
    f.calls.emplace_back("on_fill");
    return f.on_fill ? f.on_fill(f, *v) : PH_OK;
  };
  t.on_timer = [](const ph_plugin* p, int64_t now) {
    Fake& f = F(p);
    f.calls.emplace_back("on_timer");
    return f.on_timer ? f.on_timer(f, now) : PH_OK;
  };
  t.on_status = [](const ph_plugin* p, const ph_status_event* v) {
    Fake& f = F(p);
    f.calls.emplace_back("on_status");
    return f.on_status ? f.on_status(f, *v) : PH_OK;
  };
  return &t;
}

PluginLoadResult LoadFake(PluginHost& host, Fake& f, const std::string& name, PluginConfig config = {}) {
  g_next = &f;
  f.entry = {sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &f.desc, &FakeCreate};
  return host.LoadEntry(name, &f.entry, std::move(config));
}

struct Logs {
  std::vector<std::string> lines;
  PluginLogSink Sink() {
    return [this](const PluginLogLine& l) {
      lines.push_back(std::string(PluginLogLevelName(l.level)) + " " + std::string(l.plugin) + ": " +
                      std::string(l.message));
    };
  }
  bool Has(std::string_view text) const {
    for (const auto& l : lines) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

OrderBook Book(std::vector<Level> bids, std::vector<Level> asks) {
  OrderBook b;
  b.ApplySnapshot(bids, asks);
  return b;
}

ph_plan_leg Leg(const char* asset, int64_t price, int64_t size, ph_side side = PH_SIDE_BUY, ph_tif tif = PH_TIF_IOC) {
  ph_plan_leg l{};
  l.asset = {"m", asset};
  l.side = side;
  l.tif = tif;
  l.price = price;
  l.size = size;
  return l;
}

size_t Count(const std::vector<std::string>& calls, std::string_view name) {
  return static_cast<size_t>(std::count(calls.begin(), calls.end(), name));
}

PluginHostOptions Quiet() {
  PluginHostOptions options;
  options.log = [](const PluginLogLine&) {};
  return options;
}

PluginHostOptions Options(Logs& logs) {
  PluginHostOptions options;
  options.log = logs.Sink();
  return options;
}

BookMeta Meta(int64_t seq, int64_t resync_count, int64_t ts_ms, bool stale, int64_t event_ns = 0) {
  BookMeta m;
  m.seq = seq;
  m.resync_count = resync_count;
  m.ts_ms = ts_ms;
  m.stale = stale;
  m.event_ns = event_ns;
  return m;
}

PluginOrderUpdate Update(int64_t plan_id, PluginOrderEvent event, std::optional<uint32_t> leg = std::nullopt,
                         std::string order_id = {}, std::string reason = {}) {
  PluginOrderUpdate u;
  u.plan_id = plan_id;
  u.event = event;
  u.leg_index = leg;
  u.order_id = std::move(order_id);
  u.reason = std::move(reason);
  return u;
}

// ---- tests ------------------------------------------------------------------------

TEST_CASE("entry checks name both ABI versions and accept a newer minor") {
  ph_plugin_descriptor d{sizeof(d), 0, "x", "X", "1", nullptr, nullptr};
  ph_plugin_entry e{sizeof(e), {2, 0, 0}, &d, &FakeCreate};
  CHECK(CheckPluginEntry(&e, "x").rfind(
            "plugin 'x' (ABI 2.0.0) is not compatible with this host (ABI 1.1.0)", 0) == 0);
  e.abi_version = {0, 9, 0};
  CHECK(CheckPluginEntry(&e, "x").find("(ABI 0.9.0) is not compatible") != std::string::npos);
  e.abi_version = {1, 7, 3};
  CHECK(CheckPluginEntry(&e, "x").empty());
  e.abi_version = POLYHOST_ABI_VERSION_INIT;
  CHECK(CheckPluginEntry(&e, "x").empty());
  CHECK_FALSE(CheckPluginEntry(nullptr, "x").empty());
  ph_plugin_entry small = e;
  small.struct_size = 8;
  CHECK(CheckPluginEntry(&small, "x").find("too small") != std::string::npos);
  small.struct_size = 20;
  CHECK(CheckPluginEntry(&small, "x").find("smaller than the ABI 1.0 entry") != std::string::npos);
  ph_plugin_entry no_desc = e;
  no_desc.descriptor = nullptr;
  CHECK(CheckPluginEntry(&no_desc, "x").find("descriptor is null") != std::string::npos);
  ph_plugin_descriptor no_id = d;
  no_id.id = "";
  ph_plugin_entry bad_desc = e;
  bad_desc.descriptor = &no_id;
  CHECK(CheckPluginEntry(&bad_desc, "x").find("non-empty id") != std::string::npos);
  ph_plugin_entry no_create = e;
  no_create.create = nullptr;
  CHECK(CheckPluginEntry(&no_create, "x").find("create is null") != std::string::npos);
  CHECK(FormatAbiVersion({1, 2, 3}) == "1.2.3");
  CHECK(ph_version_compare({1, 2, 3}, {1, 10, 0}) < 0);
  CHECK(ph_version_is_compatible({1, 0, 0}, {1, 9, 9}));
  CHECK(POLYHOST_ABI_VERSION_IS_COMPATIBLE(e.abi_version));
}

TEST_CASE("plugin files are found in each search dir in three layouts and in dir order") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("ph_find_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "a");
  fs::create_directories(root / "b" / "nested");
  std::ofstream(root / "b" / "libfoo.so") << "x";
  std::ofstream(root / "b" / "nested" / "nested.so") << "x";
  std::ofstream(root / "a" / "bar.so") << "x";
  std::ofstream(root / "b" / "bar.so") << "x";
  const std::vector<fs::path> dirs{root / "a", root / "b"};
  std::vector<std::string> tried;
  CHECK(FindPluginFile("foo", dirs, &tried) == root / "b" / "libfoo.so");
  CHECK(tried.size() == 5);  // a/foo.so a/libfoo.so a/foo/foo.so b/foo.so b/libfoo.so
  CHECK(FindPluginFile("nested", dirs) == root / "b" / "nested" / "nested.so");
  CHECK(FindPluginFile("bar", dirs) == root / "a" / "bar.so");
  tried.clear();
  CHECK_FALSE(FindPluginFile("nope", dirs, &tried));
  CHECK(tried.size() == 6);

  Logs logs;
  PluginHostOptions options;
  options.search_dirs = dirs;
  options.log = logs.Sink();
  PluginHost host(options);
  PluginLoadResult r = host.Load("nope");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("plugin 'nope' not found; looked for: ") == 0);
  CHECK(r.error.find((root / "b" / "nope" / "nope.so").string()) != std::string::npos);
  r = host.Load("bar");  // a text file, not a shared object
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("could not be loaded from") != std::string::npos);
  CHECK(host.Load("bad name!").error.find("not a valid plugin name") != std::string::npos);
  CHECK(host.Load(root.string() + "/missing.so").error.find("file not found") != std::string::npos);
  auto list = host.ListPlugins();
  REQUIRE(list.size() == 4);
  CHECK(list[0].state == PluginState::kFailed);
  CHECK(logs.Has("plugin 'nope' not found"));
  fs::remove_all(root);
}

TEST_CASE("the lifecycle runs create then init then activate then callbacks then deactivate then destroy") {
  Logs logs;
  Fake f;
  {
    PluginHostOptions options;
    options.log = logs.Sink();
    options.host_version = "9.9.9";
    PluginHost host(options);
    f.init = [](Fake& p) {
      CHECK(std::string(p.host->plugin_name) == "alpha");
      CHECK(std::string(p.host->host_name) == "polyhost");
      CHECK(std::string(p.host->host_version) == "9.9.9");
      CHECK(p.host->abi_version.major == POLYHOST_ABI_VERSION_MAJOR);
      CHECK(p.host->struct_size == sizeof(ph_host));
      return p.Subscribe("m", "yes");
    };
    PluginLoadResult r = LoadFake(host, f, "alpha");
    REQUIRE(r.ok);
    CHECK(host.ListPlugins()[0].state == PluginState::kInitialized);
    const uint32_t yes = host.InternAsset("m", "yes");
    OrderBook book = Book({{400000, 1}}, {{600000, 1}});
    host.DispatchBook(yes, book, {});  // not active yet: nothing delivered
    host.ActivateAll();
    CHECK(host.ListPlugins()[0].state == PluginState::kActive);
    host.DispatchBook(yes, book, {});
    host.DeactivateAll();
    host.DispatchBook(yes, book, {});
    CHECK(host.ListPlugins()[0].state == PluginState::kInactive);
    CHECK(host.Activate(0));
    const PluginInfo info = host.ListPlugins()[0];
    CHECK(info.name == "alpha");
    CHECK(info.id == "fake");
    CHECK(info.display_name == "Fake plugin");
    CHECK(info.version == "1.2.3");
    CHECK(info.vendor == "tests");
    CHECK(info.abi_version == "1.1.0");
    CHECK(info.path == "(built-in)");
    CHECK(info.subscriptions == 1);
    CHECK(logs.Has("plugin 'alpha' loaded: Fake plugin 1.2.3 (id fake, ABI 1.1.0)"));
  }
  CHECK(f.calls == std::vector<std::string>{"create", "init", "activate", "on_book", "deactivate", "activate",
                                            "deactivate", "destroy"});
}

TEST_CASE("names must be unique among live plugins") {
  Fake a, b;
  Logs logs;
  PluginHostOptions options;
  options.log = logs.Sink();
  PluginHost host(options);
  REQUIRE(LoadFake(host, a, "same").ok);
  PluginLoadResult r = LoadFake(host, b, "same");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("already loaded") != std::string::npos);
  CHECK(b.calls.empty());
}

TEST_CASE("config values are read by type from the plugin's own section") {
  Fake f;
  PluginConfig config{
      {"name", {PluginValueKind::kString, "spread-1"}},
      {"count", {PluginValueKind::kInteger, "42"}},
      {"neg", {PluginValueKind::kInteger, "-7"}},
      {"quoted_int", {PluginValueKind::kString, "+12"}},
      {"edge", {PluginValueKind::kFloat, "0.02"}},
      {"edge_text", {PluginValueKind::kString, "0.015"}},
      {"whole", {PluginValueKind::kInteger, "5"}},
      {"too_fine", {PluginValueKind::kFloat, "0.0000001"}},
      {"on", {PluginValueKind::kBool, "true"}},
      {"off_text", {PluginValueKind::kString, "false"}},
      {"list", {PluginValueKind::kOther, "[1, 2]"}},
      {"limits.max", {PluginValueKind::kInteger, "3"}},
  };
  PluginHost host(Quiet());
  f.init = [](Fake& p) {
    const ph_host* h = p.host;
    const char* s = nullptr;
    int64_t i = 0;
    int32_t b = -1;
    CHECK(h->config_get_string(h, "name", &s) == PH_OK);
    CHECK(std::string(s) == "spread-1");
    CHECK(h->config_get_string(h, "count", &s) == PH_OK);
    CHECK(std::string(s) == "42");
    CHECK(h->config_get_string(h, "list", &s) == PH_OK);
    CHECK(std::string(s) == "[1, 2]");
    CHECK(h->config_get_string(h, "missing", &s) == PH_ERR_NOT_FOUND);
    CHECK(h->config_get_string(h, nullptr, &s) == PH_ERR_INVALID_ARGUMENT);
    CHECK(h->config_get_string(h, "name", nullptr) == PH_ERR_INVALID_ARGUMENT);

    CHECK(h->config_get_int(h, "count", &i) == PH_OK);
    CHECK(i == 42);
    CHECK(h->config_get_int(h, "neg", &i) == PH_OK);
    CHECK(i == -7);
    CHECK(h->config_get_int(h, "quoted_int", &i) == PH_OK);
    CHECK(i == 12);
    CHECK(h->config_get_int(h, "limits.max", &i) == PH_OK);
    CHECK(i == 3);
    i = 99;
    CHECK(h->config_get_int(h, "edge", &i) == PH_ERR_WRONG_TYPE);
    CHECK(h->config_get_int(h, "name", &i) == PH_ERR_WRONG_TYPE);
    CHECK(h->config_get_int(h, "on", &i) == PH_ERR_WRONG_TYPE);
    CHECK(i == 99);
    CHECK(h->config_get_int(h, "missing", &i) == PH_ERR_NOT_FOUND);

    CHECK(h->config_get_micros(h, "edge", &i) == PH_OK);
    CHECK(i == 20000);
    CHECK(h->config_get_micros(h, "edge_text", &i) == PH_OK);
    CHECK(i == 15000);
    CHECK(h->config_get_micros(h, "whole", &i) == PH_OK);
    CHECK(i == 5000000);
    CHECK(h->config_get_micros(h, "neg", &i) == PH_OK);
    CHECK(i == -7000000);
    CHECK(h->config_get_micros(h, "too_fine", &i) == PH_ERR_WRONG_TYPE);
    CHECK(h->config_get_micros(h, "on", &i) == PH_ERR_WRONG_TYPE);
    CHECK(h->config_get_micros(h, "name", &i) == PH_ERR_WRONG_TYPE);

    CHECK(h->config_get_bool(h, "on", &b) == PH_OK);
    CHECK(b == 1);
    CHECK(h->config_get_bool(h, "off_text", &b) == PH_OK);
    CHECK(b == 0);
    CHECK(h->config_get_bool(h, "count", &b) == PH_ERR_WRONG_TYPE);
    CHECK(h->config_get_bool(h, "name", &b) == PH_ERR_WRONG_TYPE);
    CHECK(h->config_get_bool(h, "missing", &b) == PH_ERR_NOT_FOUND);
    return PH_OK;
  };
  REQUIRE(LoadFake(host, f, "cfg", config).ok);
}

TEST_CASE("books reach subscribers only as zero-copy views with their meta-data") {
  Fake a, b;
  PluginHost host(Quiet());
  const ph_level* seen_bids = nullptr;
  ph_book_view seen{};
  a.init = [](Fake& p) { return p.Subscribe("m", "yes"); };
  a.on_book = [&](Fake&, const ph_book_view& v) {
    seen = v;
    seen_bids = v.bids;
    return PH_OK;
  };
  b.init = [](Fake& p) { return p.Subscribe("m", "no"); };
  REQUIRE(LoadFake(host, a, "a").ok);
  REQUIRE(LoadFake(host, b, "b").ok);
  host.ActivateAll();
  const uint32_t yes = host.InternAsset("m", "yes");
  const uint32_t other = host.InternAsset("m", "other");
  CHECK(host.FindAsset("m", "yes") == yes);
  CHECK_FALSE(host.FindAsset("x", "yes"));
  CHECK(host.HasSubscribers(yes));
  CHECK_FALSE(host.HasSubscribers(other));
  OrderBook book = Book({{450000, 10'000000}, {440000, 5'000000}}, {{470000, 3'000000}});
  book.set_tick_size(10000);
  host.DispatchBook(yes, book, Meta(7, 2, 1700000000123, true));
  host.DispatchBook(other, book, {});
  CHECK(Count(a.calls, "on_book") == 1);
  CHECK(Count(b.calls, "on_book") == 0);
  CHECK(seen_bids == reinterpret_cast<const ph_level*>(book.bids().data()));  // zero-copy
  CHECK(seen.struct_size == sizeof(ph_book_view));
  CHECK(std::string(seen.asset.market) == "m");
  CHECK(std::string(seen.asset.asset_id) == "yes");
  CHECK(seen.bid_count == 2);
  CHECK(seen.ask_count == 1);
  CHECK(seen.asks[0].price == 470000);
  CHECK(seen.bids[1].size == 5'000000);
  CHECK(seen.seq == 7);
  CHECK(seen.resync_count == 2);
  CHECK(seen.ts_ms == 1700000000123);
  CHECK(seen.tick_size == 10000);
  CHECK((seen.flags & PH_BOOK_FLAG_STALE) != 0);
  CHECK(seen.reserved0 == 0);
  CHECK(seen.reserved1 == 0);
  CHECK(seen.market_len == 1);    // ABI 1.1
  CHECK(seen.asset_id_len == 3);

  OrderBook empty;
  host.DispatchBook(yes, empty, {});
  CHECK(seen.bids == nullptr);
  CHECK(seen.bid_count == 0);
  CHECK(seen.flags == 0);

  const auto subs = host.SubscribedAssets();
  REQUIRE(subs.size() == 2);
  CHECK(subs[0] == AssetKey{"m", "yes"});
  CHECK(subs[1] == AssetKey{"m", "no"});
}

TEST_CASE("subscriptions change safely during a dispatch") {
  Fake a, b, c;
  PluginHost host(Quiet());
  for (Fake* f : {&a, &b, &c}) f->init = [](Fake& p) { return p.Subscribe("m", "yes"); };
  // a unsubscribes b's asset for itself, then subscribes another; b unsubscribes.
  a.on_book = [](Fake& p, const ph_book_view&) {
    CHECK(p.host->unsubscribe(p.host, "m", "yes") == PH_OK);
    CHECK(p.host->unsubscribe(p.host, "m", "yes") == PH_ERR_NOT_SUBSCRIBED);
    CHECK(p.host->unsubscribe(p.host, "m", "never") == PH_ERR_NOT_SUBSCRIBED);
    CHECK(p.Subscribe("m", "yes") == PH_OK);  // again: starts with the next frame
    CHECK(p.Subscribe("m", "yes") == PH_OK);  // twice is fine
    return PH_OK;
  };
  b.on_book = [](Fake& p, const ph_book_view&) { return p.host->unsubscribe(p.host, "m", "yes"); };
  REQUIRE(LoadFake(host, a, "a").ok);
  REQUIRE(LoadFake(host, b, "b").ok);
  REQUIRE(LoadFake(host, c, "c").ok);
  host.ActivateAll();
  const uint64_t generation = host.subscription_generation();
  const uint32_t yes = host.InternAsset("m", "yes");
  OrderBook book = Book({{450000, 1}}, {});
  host.DispatchBook(yes, book, {});
  CHECK(Count(a.calls, "on_book") == 1);
  CHECK(Count(b.calls, "on_book") == 1);
  CHECK(Count(c.calls, "on_book") == 1);
  CHECK(host.subscription_generation() > generation);
  host.DispatchBook(yes, book, {});
  CHECK(Count(a.calls, "on_book") == 2);
  CHECK(Count(b.calls, "on_book") == 1);
  CHECK(Count(c.calls, "on_book") == 2);
  CHECK(host.ListPlugins()[1].subscriptions == 0);
}

TEST_CASE("the wildcard subscription delivers every asset once and reads any book") {
  Fake all, named, bad;
  PluginHost host(Quiet());
  OrderBook later_book = Book({{300000, 1}}, {{310000, 4}});
  host.SetBookProvider([&](std::string_view market, std::string_view asset_id, BookRef* out) {
    if (market != "m2" || asset_id != "later") return false;
    out->book = &later_book;
    out->meta.stale = true;
    return true;
  });
  std::vector<std::string> seen;
  all.init = [](Fake& p) {
    CHECK(p.Subscribe(PH_SUBSCRIBE_ALL, PH_SUBSCRIBE_ALL) == PH_OK);
    CHECK(p.Subscribe("*", "*") == PH_OK);     // twice is fine
    CHECK(p.Subscribe("m", "yes") == PH_OK);   // also by name: still delivered once
    return PH_OK;
  };
  all.on_book = [&](Fake& p, const ph_book_view& v) {
    seen.push_back(std::string(v.asset.market) + "/" + v.asset.asset_id);
    // Any asset's book, even one no event has named yet.
    const ph_host* h = p.host;
    ph_book_view other{};
    other.struct_size = sizeof(other);
    CHECK(h->get_book(h, "m2", "later", &other) == PH_OK);
    CHECK(std::string(other.asset.asset_id) == "later");
    CHECK(other.asks[0].size == 4);
    CHECK((other.flags & PH_BOOK_FLAG_STALE) != 0);
    CHECK(h->get_book(h, "m2", "unknown", &other) == PH_ERR_NOT_FOUND);
    return PH_OK;
  };
  named.init = [](Fake& p) { return p.Subscribe("m", "yes"); };
  bad.init = [](Fake& p) {
    CHECK(p.Subscribe("*", "yes") == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.Subscribe("m", "*") == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.host->unsubscribe(p.host, "*", "*") == PH_ERR_NOT_SUBSCRIBED);
    return PH_OK;
  };
  const uint64_t generation = host.subscription_generation();
  REQUIRE(LoadFake(host, all, "all").ok);
  REQUIRE(LoadFake(host, named, "named").ok);
  REQUIRE(LoadFake(host, bad, "bad").ok);
  host.ActivateAll();
  CHECK(host.WantsAllAssets());
  CHECK(host.subscription_generation() > generation);
  CHECK(host.ListPlugins()[0].subscriptions == 2);
  // Named subscriptions are listed; the wildcard is not an asset.
  REQUIRE(host.SubscribedAssets().size() == 1);

  const uint32_t yes = host.InternAsset("m", "yes");
  const uint32_t no = host.InternAsset("m", "no");
  CHECK(host.HasSubscribers(no));
  OrderBook book = Book({{450000, 1}}, {});
  host.DispatchBook(yes, book, {});
  host.DispatchBook(no, book, {});
  host.DispatchTrade(no, TradePrint{});
  CHECK(seen == std::vector<std::string>{"m/yes", "m/no"});
  CHECK(Count(named.calls, "on_book") == 1);
  CHECK(Count(all.calls, "on_trade") == 1);
  CHECK(Count(bad.calls, "on_book") == 0);

  // Unsubscribing the wildcard during a dispatch keeps the by-name subscription.
  all.on_book = [&](Fake& p, const ph_book_view& v) {
    seen.push_back(std::string(v.asset.asset_id));
    // The first call removes it; by the by-name delivery of "yes" it is gone.
    CHECK(p.host->unsubscribe(p.host, "*", "*") == (seen.size() == 1 ? PH_OK : PH_ERR_NOT_SUBSCRIBED));
    return PH_OK;
  };
  seen.clear();
  host.DispatchBook(no, book, {});
  host.DispatchBook(no, book, {});
  host.DispatchBook(yes, book, {});
  CHECK(seen == std::vector<std::string>{"no", "yes"});
  CHECK_FALSE(host.WantsAllAssets());
  CHECK_FALSE(host.HasSubscribers(no));
  CHECK(host.HasSubscribers(yes));

  // A disabled plugin's wildcard goes with it.
  all.on_book = [](Fake& p, const ph_book_view&) { return p.Subscribe("*", "*"); };
  host.DispatchBook(yes, book, {});
  CHECK(host.WantsAllAssets());
  host.Disable(0, "test");
  CHECK_FALSE(host.WantsAllAssets());
}

TEST_CASE("a plugin restricted to markets subscribes only to their assets, by name and by wildcard") {
  Fake named, wild, any;
  Logs logs;
  PluginHost host(Options(logs));
  OrderBook b_book = Book({{200000, 1}}, {});
  host.SetBookProvider([&](std::string_view, std::string_view, BookRef* out) {
    out->book = &b_book;
    return true;
  });
  host.RestrictMarkets("named", {"a"});
  host.RestrictMarkets("wild", {"b", "a", "b"});
  const uint32_t a_yes = host.InternAsset("a", "yes");
  const uint32_t b_yes = host.InternAsset("b", "yes");
  const uint32_t c_yes = host.InternAsset("c", "yes");
  std::vector<std::string> seen_named, seen_wild, seen_any;
  const auto recorder = [](std::vector<std::string>& seen) {
    return [&seen](Fake&, const ph_book_view& v) {
      seen.push_back(std::string(v.asset.market) + "/" + v.asset.asset_id);
      return PH_OK;
    };
  };
  named.on_book = recorder(seen_named);
  wild.on_book = recorder(seen_wild);
  any.on_book = recorder(seen_any);
  named.init = [](Fake& p) {
    CHECK(p.Subscribe("a", "yes") == PH_OK);
    CHECK(p.Subscribe("c", "yes") == PH_OK);  // not its market: ignored, still PH_OK
    CHECK(p.host->unsubscribe(p.host, "c", "yes") == PH_ERR_NOT_SUBSCRIBED);
    return PH_OK;
  };
  wild.init = [](Fake& p) {
    CHECK(p.Subscribe("*", "*") == PH_OK);
    CHECK(p.Subscribe("*", "*") == PH_OK);
    CHECK(p.Subscribe("a", "yes") == PH_OK);  // also by name: kept when the wildcard goes
    return PH_OK;
  };
  any.init = [](Fake& p) {
    CHECK(p.Subscribe("*", "*") == PH_OK);
    return p.Subscribe("c", "yes");
  };
  REQUIRE(LoadFake(host, named, "named").ok);
  REQUIRE(LoadFake(host, wild, "wild").ok);
  REQUIRE(LoadFake(host, any, "any").ok);
  host.ActivateAll();
  CHECK(logs.Has("subscribe c/yes ignored"));
  CHECK(host.ListPlugins()[0].subscriptions == 1);
  CHECK(host.ListPlugins()[1].subscriptions == 2);  // "a/yes" by name and the wildcard
  CHECK(host.ListPlugins()[2].subscriptions == 2);

  // Assets learnt later: the restricted wildcard gets those of its markets.
  const uint32_t b_no = host.InternAsset("b", "no");
  const uint32_t c_no = host.InternAsset("c", "no");
  CHECK(host.HasSubscribers(c_no));  // the unrestricted wildcard still wants everything
  OrderBook book = Book({{450000, 1}}, {});
  for (uint32_t key : {a_yes, b_yes, c_yes, b_no, c_no}) host.DispatchBook(key, book, {});
  CHECK(seen_named == std::vector<std::string>{"a/yes"});
  CHECK(seen_wild == std::vector<std::string>{"a/yes", "b/yes", "b/no"});
  CHECK(seen_any == std::vector<std::string>{"a/yes", "b/yes", "c/yes", "b/no", "c/no"});

  // get_book: the restricted wildcard reads its markets' books only.
  wild.on_book = [](Fake& p, const ph_book_view&) {
    ph_book_view v{};
    v.struct_size = sizeof(v);
    CHECK(p.host->get_book(p.host, "b", "later", &v) == PH_OK);
    CHECK(p.host->get_book(p.host, "c", "yes", &v) == PH_ERR_NOT_SUBSCRIBED);
    // Dropping the wildcard keeps the by-name subscription only.
    CHECK(p.host->unsubscribe(p.host, "b", "yes") == PH_ERR_NOT_SUBSCRIBED);  // only by wildcard
    CHECK(p.host->unsubscribe(p.host, "*", "*") == PH_OK);
    CHECK(p.host->unsubscribe(p.host, "*", "*") == PH_ERR_NOT_SUBSCRIBED);
    return PH_OK;
  };
  host.DispatchBook(b_yes, book, {});
  CHECK(wild.calls.back() == "on_book");
  CHECK(host.ListPlugins()[1].subscriptions == 1);
  seen_wild.clear();
  wild.on_book = recorder(seen_wild);
  host.InternAsset("b", "newer");
  for (uint32_t key : {a_yes, b_yes, b_no}) host.DispatchBook(key, book, {});
  CHECK(seen_wild == std::vector<std::string>{"a/yes"});
  CHECK(host.SubscribedAssets().size() == 2);  // a/yes and c/yes by name; the wildcard is not listed
}

TEST_CASE("plans are validated and copied out of plugin memory and drained in order") {
  Fake f;
  Logs logs;
  PluginHostOptions options;
  options.log = logs.Sink();
  options.max_legs = 3;
  PluginHost host(options);
  uint64_t first = 0, second = 0;
  f.init = [](Fake& p) { return p.Subscribe("m", "yes"); };
  f.on_book = [&](Fake& p, const ph_book_view&) {
    // Strings in a buffer the plugin overwrites right after submitting.
    char market[16] = "mkt";
    char asset[16] = "yes";
    char tag[16] = "arb-1";
    ph_plan_leg legs[2] = {Leg("yes", 480000, 10'000000), Leg("no", 500000, 10'000000, PH_SIDE_SELL, PH_TIF_FOK)};
    legs[0].asset = {market, asset};
    ph_plan plan{sizeof(ph_plan), 2, sizeof(ph_plan_leg), 0, tag, legs, "sum of asks below 1"};
    CHECK(p.host->submit_plan(p.host, &plan, &first) == PH_OK);
    std::strcpy(market, "XXX");
    std::strcpy(asset, "ZZZ");
    std::strcpy(tag, "overwritten");
    CHECK(p.Submit({Leg("yes", 1, 1)}, nullptr, &second) == PH_OK);

    // Shape errors: nothing queued, a log line says why.
    CHECK(p.Submit({}) == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.Submit({Leg("a", 1, 1), Leg("b", 1, 1), Leg("c", 1, 1), Leg("d", 1, 1)}) == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.Submit({Leg("a", 0, 1)}) == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.Submit({Leg("a", 1000000, 1)}) == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.Submit({Leg("a", 500000, 0)}) == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.Submit({Leg("a", 500000, 1, 0)}) == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.Submit({Leg("a", 500000, 1, PH_SIDE_BUY, 9)}) == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.Submit({Leg("", 500000, 1)}) == PH_ERR_INVALID_ARGUMENT);
    CHECK(p.host->submit_plan(p.host, nullptr, nullptr) == PH_ERR_INVALID_ARGUMENT);
    ph_plan_leg leg = Leg("a", 500000, 1);
    ph_plan small{sizeof(ph_plan), 1, 8, 0, "t", &leg, nullptr};
    CHECK(p.host->submit_plan(p.host, &small, nullptr) == PH_ERR_INVALID_ARGUMENT);
    small.leg_struct_size = sizeof(ph_plan_leg);
    small.struct_size = 8;
    CHECK(p.host->submit_plan(p.host, &small, nullptr) == PH_ERR_INVALID_ARGUMENT);
    return PH_OK;
  };
  REQUIRE(LoadFake(host, f, "arb").ok);
  host.ActivateAll();
  OrderBook book = Book({{450000, 1}}, {});
  host.DispatchBook(host.InternAsset("m", "yes"), book, Meta(0, 0, 0, false, 12345));
  CHECK(host.ListPlugins()[0].state == PluginState::kActive);
  CHECK(first == 1);
  CHECK(second == 2);
  CHECK(host.pending_plans() == 2);
  std::vector<Plan> plans = host.DrainPlans();
  CHECK(host.pending_plans() == 0);
  REQUIRE(plans.size() == 2);
  const Plan& p = plans[0];
  CHECK(p.plan_id == 1);
  CHECK(p.plugin == "arb");
  CHECK(p.client_tag == "arb-1");
  CHECK(p.reason == "sum of asks below 1");
  CHECK(p.book_event_ns == 12345);
  CHECK(p.planned_ns > 0);
  REQUIRE(p.legs.size() == 2);
  CHECK(p.legs[0].market == "mkt");
  CHECK(p.legs[0].asset_id == "yes");
  CHECK(p.legs[0].side == Side::kBid);
  CHECK(p.legs[0].price == 480000);
  CHECK(p.legs[0].size == 10'000000);
  CHECK(p.legs[0].tif == TimeInForce::kIoc);
  CHECK(p.legs[1].side == Side::kAsk);
  CHECK(p.legs[1].tif == TimeInForce::kFok);
  CHECK(plans[1].client_tag.empty());
  CHECK(logs.Has("plan 't' refused at submit: 4 legs; 1 to 3 are allowed"));
  CHECK(logs.Has("leg 0: price 0 micros is outside (0, 1000000)"));
  CHECK(logs.Has("leg 0: side 0 is not PH_SIDE_BUY or PH_SIDE_SELL"));
  CHECK(logs.Has("leg_struct_size 8 is smaller"));
}

TEST_CASE("legs are read with the plan's stride so newer plugins may send longer legs") {
  Fake f;
  struct LegV2 {
    ph_plan_leg v1;
    int64_t expiration_ms;  // a field a later minor might append
  };
  PluginHost host(Quiet());
  f.init = [](Fake& p) {
    LegV2 legs[2] = {{Leg("yes", 400000, 1), 111}, {Leg("no", 500000, 2, PH_SIDE_SELL), 222}};
    ph_plan plan{sizeof(ph_plan), 2, sizeof(LegV2), 0, "v2", &legs[0].v1, nullptr};
    return p.host->submit_plan(p.host, &plan, nullptr);
  };
  REQUIRE(LoadFake(host, f, "v2").ok);
  auto plans = host.DrainPlans();
  REQUIRE(plans.size() == 1);
  REQUIRE(plans[0].legs.size() == 2);
  CHECK(plans[0].legs[1].asset_id == "no");
  CHECK(plans[0].legs[1].price == 500000);
  CHECK(plans[0].legs[1].size == 2);
  CHECK(plans[0].legs[1].side == Side::kAsk);
}

TEST_CASE("overflowing the plan sink disables the plugin while the others keep receiving books") {
  Fake flood, good;
  Logs logs;
  PluginHostOptions options;
  options.log = logs.Sink();
  options.max_pending_plans = 3;
  PluginHost host(options);
  flood.init = good.init = [](Fake& p) { return p.Subscribe("m", "yes"); };
  int accepted = 0;
  ph_result last = PH_OK;
  flood.on_book = [&](Fake& p, const ph_book_view&) {
    for (int i = 0; i < 10; ++i) {
      last = p.Submit({Leg("yes", 400000, 1)});
      if (last != PH_OK) break;
      ++accepted;
    }
    return PH_OK;  // ignores the error: the host disables it anyway
  };
  REQUIRE(LoadFake(host, flood, "flood").ok);
  REQUIRE(LoadFake(host, good, "good").ok);
  host.ActivateAll();
  const uint32_t yes = host.InternAsset("m", "yes");
  OrderBook book = Book({{450000, 1}}, {});
  host.DispatchBook(yes, book, {});
  CHECK(accepted == 3);
  CHECK(last == PH_ERR_SINK_FULL);
  auto list = host.ListPlugins();
  CHECK(list[0].state == PluginState::kFailed);
  CHECK(list[0].failure.find("plan sink overflow: more than 3 plans") != std::string::npos);
  CHECK(list[0].failure.find("(in on_book)") != std::string::npos);
  CHECK(list[1].state == PluginState::kActive);
  CHECK(flood.destroyed);
  CHECK(Count(flood.calls, "deactivate") == 0);
  CHECK(host.pending_plans() == 0);  // its undrained plans were dropped
  auto cancels = host.DrainCancels();
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0].plugin == "flood");
  CHECK(cancels[0].scope == PluginCancelRequest::Scope::kAll);
  CHECK(logs.Has("error flood: plugin 'flood' disabled: plan sink overflow"));
  CHECK(logs.Has("3 undrained plan(s) dropped"));
  host.DispatchBook(yes, book, {});
  CHECK(Count(flood.calls, "on_book") == 1);
  CHECK(Count(good.calls, "on_book") == 2);
  CHECK(host.SubscribedAssets().size() == 1);
}

TEST_CASE("draining resets the sink") {
  Fake f;
  PluginHostOptions options;
  options.log = [](const PluginLogLine&) {};
  options.max_pending_plans = 2;
  PluginHost host(options);
  f.init = [](Fake& p) { return p.Subscribe("m", "yes"); };
  f.on_book = [](Fake& p, const ph_book_view&) {
    CHECK(p.Submit({Leg("yes", 400000, 1)}) == PH_OK);
    CHECK(p.Submit({Leg("yes", 400000, 1)}) == PH_OK);
    return PH_OK;
  };
  REQUIRE(LoadFake(host, f, "f").ok);
  host.ActivateAll();
  const uint32_t yes = host.InternAsset("m", "yes");
  OrderBook book = Book({{450000, 1}}, {});
  for (int i = 0; i < 5; ++i) {
    host.DispatchBook(yes, book, {});
    CHECK(host.DrainPlans().size() == 2);
  }
  CHECK(host.ListPlugins()[0].state == PluginState::kActive);
  CHECK(host.ListPlugins()[0].plans_submitted == 10);
}

TEST_CASE("an error result or a positive result or an exception disables only that plugin") {
  Fake err, garbage, thrower, good;
  Logs logs;
  PluginHost host(Options(logs));
  for (Fake* f : {&err, &garbage, &thrower, &good}) f->init = [](Fake& p) { return p.Subscribe("m", "yes"); };
  err.on_book = [](Fake&, const ph_book_view&) { return PH_ERR_INVALID_ARGUMENT; };
  garbage.on_book = [](Fake&, const ph_book_view&) { return 7; };
  thrower.on_book = [](Fake&, const ph_book_view&) -> ph_result { throw std::runtime_error("boom"); };
  REQUIRE(LoadFake(host, err, "err").ok);
  REQUIRE(LoadFake(host, garbage, "garbage").ok);
  REQUIRE(LoadFake(host, thrower, "thrower").ok);
  REQUIRE(LoadFake(host, good, "good").ok);
  host.ActivateAll();
  const uint32_t yes = host.InternAsset("m", "yes");
  OrderBook book = Book({{450000, 1}}, {});
  host.DispatchBook(yes, book, {});
  host.DispatchBook(yes, book, {});
  auto list = host.ListPlugins();
  CHECK(list[0].failure == "on_book returned PH_ERR_INVALID_ARGUMENT (-2)");
  CHECK(list[1].failure == "on_book returned an invalid result code 7 (results are 0 or negative)");
  CHECK(list[2].failure == "on_book let a C++ exception escape into the host: boom");
  CHECK(list[3].state == PluginState::kActive);
  CHECK(Count(good.calls, "on_book") == 2);
  for (Fake* f : {&err, &garbage, &thrower}) {
    CHECK(Count(f->calls, "on_book") == 1);
    CHECK(f->destroyed);
  }
  CHECK(logs.Has("plugin 'err' disabled: on_book returned PH_ERR_INVALID_ARGUMENT (-2)"));
  CHECK(host.DrainCancels().empty());  // none of them ever traded
}

TEST_CASE("a failing init or activate or a NULL create leaves the plugin failed and destroyed") {
  Fake bad_init, bad_activate;
  Logs logs;
  PluginHost host(Options(logs));
  bad_init.init = [](Fake&) { return static_cast<ph_result>(PH_ERR_CONFIG); };
  bad_activate.activate = [](Fake&) { return static_cast<ph_result>(-1001); };
  PluginLoadResult r = LoadFake(host, bad_init, "bad_init");
  CHECK_FALSE(r.ok);
  CHECK(r.error == "init returned PH_ERR_CONFIG (-13)");
  CHECK(bad_init.calls == std::vector<std::string>{"create", "init", "destroy"});
  REQUIRE(LoadFake(host, bad_activate, "bad_activate").ok);
  CHECK_FALSE(host.Activate(1));
  CHECK(host.ListPlugins()[1].failure == "activate returned PH_ERR_PLUGIN (-1001)");
  CHECK(bad_activate.destroyed);

  static const ph_plugin_descriptor desc{sizeof(desc), 0, "null", "Null", "1", nullptr, nullptr};
  static const ph_plugin_entry null_entry{sizeof(null_entry), POLYHOST_ABI_VERSION_INIT, &desc,
                                          [](const ph_host*) -> const ph_plugin* { return nullptr; }};
  r = host.LoadEntry("null", &null_entry);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("create returned NULL") != std::string::npos);

  static const ph_plugin_entry v2_entry{sizeof(v2_entry), {2, 1, 0}, &desc,
                                        [](const ph_host*) -> const ph_plugin* {
                                          FAIL("create must not be called for another major");
                                          return nullptr;
                                        }};
  r = host.LoadEntry("v2", &v2_entry);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("plugin 'v2' (ABI 2.1.0) is not compatible with this host (ABI 1.1.0)") == 0);
  CHECK(host.ListPlugins()[3].abi_version == "2.1.0");
  CHECK(logs.Has("plugin 'v2' (ABI 2.1.0) is not compatible with this host (ABI 1.1.0)"));
}

TEST_CASE("strategy-thread services refuse calls from outside a callback") {
  Fake f;
  PluginHost host(Quiet());
  ph_result from_thread = PH_OK;
  f.init = [&](Fake& p) {
    // Another thread, while the plugin is inside init: refused.
    std::thread([&] { from_thread = p.host->set_timer(p.host, 5); }).join();
    return p.host->set_timer(p.host, 5);  // the calling thread, inside the call: fine
  };
  REQUIRE(LoadFake(host, f, "f").ok);
  CHECK(from_thread == PH_ERR_WRONG_STATE);
  const ph_host* h = f.host;
  CHECK(h->subscribe(h, "m", "a") == PH_ERR_WRONG_STATE);
  CHECK(h->unsubscribe(h, "m", "a") == PH_ERR_WRONG_STATE);
  CHECK(f.Submit({Leg("a", 1, 1)}) == PH_ERR_WRONG_STATE);
  CHECK(h->set_timer(h, 10) == PH_ERR_WRONG_STATE);
  ph_book_view v{};
  v.struct_size = sizeof(v);
  CHECK(h->get_book(h, "m", "a", &v) == PH_ERR_WRONG_STATE);
  ph_cancel_request c{};
  c.struct_size = sizeof(c);
  c.scope = PH_CANCEL_ALL;
  CHECK(h->cancel_orders(h, &c) == PH_ERR_WRONG_STATE);
  // any-thread services work anywhere
  CHECK(h->now_ms(h) > 0);
  h->log(h, PH_LOG_INFO, "hello");
  CHECK(h->metric(h, "x", PH_METRIC_GAUGE, 1) == PH_OK);
  const char* s = nullptr;
  CHECK(h->config_get_string(h, "x", &s) == PH_ERR_NOT_FOUND);
}

TEST_CASE("during on_book the call scope is the called plugin's, and nobody's after the dispatch") {
  // DispatchBook sets the scope per call and restores it once at the end (and
  // before handling a failure): one subscriber (the inline path), several (the
  // loop, with a plugin that throws between two that call services), and a
  // plugin with both a name and the wildcard subscription (called once).
  Fake solo, thrower, second, wild;
  PluginHost host(Quiet());
  std::vector<std::string> seen;
  auto timer = [&seen](Fake& p, const ph_book_view& v) {
    seen.push_back(std::string(v.asset.asset_id) + ":" + ph_result_name(p.host->set_timer(p.host, 5)));
    return PH_OK;
  };
  solo.init = [](Fake& p) { return p.Subscribe("m", "solo"); };
  thrower.init = second.init = [](Fake& p) { return p.Subscribe("m", "pair"); };
  wild.init = [](Fake& p) {
    const ph_result rc = p.Subscribe("m", "pair");
    return rc != PH_OK ? rc : p.Subscribe(PH_SUBSCRIBE_ALL, PH_SUBSCRIBE_ALL);
  };
  solo.on_book = second.on_book = wild.on_book = timer;
  thrower.on_book = [](Fake&, const ph_book_view&) -> ph_result { throw std::runtime_error("boom"); };
  REQUIRE(LoadFake(host, solo, "solo").ok);
  REQUIRE(LoadFake(host, thrower, "thrower").ok);
  REQUIRE(LoadFake(host, second, "second").ok);
  host.ActivateAll();
  const OrderBook book = Book({{450000, 1}}, {});
  host.DispatchBook(host.InternAsset("m", "solo"), book, {});
  host.DispatchBook(host.InternAsset("m", "pair"), book, {});
  CHECK(seen == std::vector<std::string>{"solo:PH_OK", "pair:PH_OK"});
  CHECK(host.ListPlugins()[1].state == PluginState::kFailed);
  for (Fake* f : {&solo, &second}) CHECK(f->host->set_timer(f->host, 5) == PH_ERR_WRONG_STATE);

  REQUIRE(LoadFake(host, wild, "wild").ok);
  host.ActivateAll();
  seen.clear();
  host.DispatchBook(host.InternAsset("m", "pair"), book, {});
  host.DispatchBook(host.InternAsset("m", "solo"), book, {});
  CHECK(seen == std::vector<std::string>{"pair:PH_OK", "pair:PH_OK", "solo:PH_OK", "solo:PH_OK"});
  CHECK(Count(wild.calls, "on_book") == 2);
  CHECK(wild.host->set_timer(wild.host, 5) == PH_ERR_WRONG_STATE);
}

TEST_CASE("a lone subscriber is called directly, and every change of who may be called is seen at once") {
  // DispatchBook calls an asset's only subscriber without a loop (AssetHot::lone,
  // a pointer into the host's slot array); each case below changes what that
  // pointer must say, and the next dispatch must follow.
  Fake solo, wild, late;
  std::vector<std::unique_ptr<Fake>> others;  // declared before the host, which calls them until it ends
  Logs logs;
  PluginHost host(Options(logs));
  std::vector<std::string> seen;
  solo.init = [](Fake& p) { return p.Subscribe("m", "x"); };
  solo.on_book = [&seen](Fake&, const ph_book_view& v) {
    seen.push_back(std::string(v.asset.asset_id, v.asset_id_len) + " seq " + std::to_string(v.seq) + " ts " +
                   std::to_string(v.ts_ms) + " tick " + std::to_string(v.tick_size) + " bids " +
                   std::to_string(v.bid_count) + (v.asks == nullptr ? " no asks" : " asks") +
                   ((v.flags & PH_BOOK_FLAG_STALE) != 0 ? " stale" : ""));
    return PH_OK;
  };
  REQUIRE(LoadFake(host, solo, "solo").ok);
  const uint32_t x = host.InternAsset("m", "x");
  OrderBook book = Book({{450000, 1}, {440000, 2}}, {});
  book.set_tick_size(1000);
  host.DispatchBook(x, book, Meta(7, 0, 1700, false));  // initialized, not active: nothing
  CHECK(seen.empty());
  host.ActivateAll();
  host.DispatchBook(x, book, Meta(8, 0, 1701, true));
  CHECK(seen == std::vector<std::string>{"x seq 8 ts 1701 tick 1000 bids 2 no asks stale"});
  host.Deactivate(0);
  host.DispatchBook(x, book, Meta(9, 0, 1702, false));
  CHECK(seen.size() == 1);
  CHECK(host.Activate(0));
  host.DispatchBook(x, book, Meta(10, 0, 1703, false));
  CHECK(seen.size() == 2);

  // Enough plugins to make the host's slot array move: the lone pointer follows it.
  for (int i = 0; i < 40; ++i) {
    others.push_back(std::make_unique<Fake>());
    others.back()->init = [](Fake& p) { return p.Subscribe("m", "other"); };
    REQUIRE(LoadFake(host, *others.back(), "other" + std::to_string(i)).ok);
  }
  host.ActivateAll();
  const uint64_t before = host.ListPlugins()[0].callbacks;
  host.DispatchBook(x, book, Meta(11, 0, 1704, false));
  CHECK(seen.size() == 3);
  CHECK(host.ListPlugins()[0].callbacks == before + 1);  // counted in the live slot, not a stale copy

  // A wildcard subscriber: the general path, each plugin once; after it leaves,
  // the direct call again.
  wild.init = [](Fake& p) { return p.Subscribe(PH_SUBSCRIBE_ALL, PH_SUBSCRIBE_ALL); };
  REQUIRE(LoadFake(host, wild, "wild").ok);
  host.ActivateAll();
  host.DispatchBook(x, book, Meta(12, 0, 1705, false));
  CHECK(seen.size() == 4);
  CHECK(Count(wild.calls, "on_book") == 1);
  CHECK(wild.host->unsubscribe(wild.host, PH_SUBSCRIBE_ALL, PH_SUBSCRIBE_ALL) == PH_ERR_WRONG_STATE);  // not in a call
  host.Disable(host.ListPlugins().size() - 1, "test");
  host.DispatchBook(x, book, Meta(13, 0, 1706, false));
  CHECK(seen.size() == 5);
  CHECK(Count(wild.calls, "on_book") == 1);

  // Unsubscribing inside its own call: no more books, nothing else disturbed.
  solo.on_book = [](Fake& p, const ph_book_view&) { return p.host->unsubscribe(p.host, "m", "x"); };
  host.DispatchBook(x, book, Meta(14, 0, 1707, false));
  host.DispatchBook(x, book, Meta(15, 0, 1708, false));
  CHECK(Count(solo.calls, "on_book") == 6);
  CHECK(host.ListPlugins()[0].state == PluginState::kActive);
  CHECK_FALSE(host.HasSubscribers(x));

  // A lone subscriber that returns an error is disabled, and not called again.
  CHECK(solo.Subscribe("m", "x") == PH_ERR_WRONG_STATE);  // services only from inside a call
  late.init = [](Fake& p) { return p.Subscribe("m", "x"); };
  late.on_book = [](Fake&, const ph_book_view&) { return PH_ERR_FAILED; };
  REQUIRE(LoadFake(host, late, "late").ok);
  host.ActivateAll();
  host.DispatchBook(x, book, Meta(16, 0, 1709, false));
  host.DispatchBook(x, book, Meta(17, 0, 1710, false));
  CHECK(Count(late.calls, "on_book") == 1);
  CHECK(host.ListPlugins().back().state == PluginState::kFailed);
  CHECK(logs.Has("plugin 'late' disabled: on_book returned"));
}

TEST_CASE("more subscribers than the inline list holds are all called, in subscription order") {
  std::vector<std::unique_ptr<Fake>> fakes;  // before the host, which calls them until it ends
  std::vector<int> order;
  PluginHost host(Quiet());
  for (int i = 0; i < 13; ++i) {
    fakes.push_back(std::make_unique<Fake>());
    Fake& f = *fakes.back();
    f.init = [](Fake& p) { return p.Subscribe("m", "crowded"); };
    f.on_book = [&order, i](Fake&, const ph_book_view&) {
      order.push_back(i);
      return PH_OK;
    };
    std::string name = "f";  // not "f" + to_string(i): GCC 12 warns -Wrestrict on it (a false positive)
    name += std::to_string(i);
    REQUIRE(LoadFake(host, f, name).ok);
  }
  host.ActivateAll();
  const uint32_t crowded = host.InternAsset("m", "crowded");
  const OrderBook book = Book({{450000, 1}}, {{460000, 1}});
  host.DispatchBook(crowded, book, {});
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  // One among the first six (what AssetHot holds inline) and one after them
  // drop out during a dispatch.
  fakes[2]->on_book = fakes[10]->on_book = [](Fake& p, const ph_book_view&) {
    return p.host->unsubscribe(p.host, "m", "crowded");
  };
  order.clear();
  host.DispatchBook(crowded, book, {});
  host.DispatchBook(crowded, book, {});
  CHECK(order == std::vector<int>{0, 1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 0, 1, 3, 4, 5, 6, 7, 8, 9, 11, 12});
  CHECK(Count(fakes[2]->calls, "on_book") == 2);
  CHECK(Count(fakes[10]->calls, "on_book") == 2);
}

TEST_CASE("metrics and log lines are attributed to the plugin") {
  Fake f;
  Logs logs;
  std::vector<std::string> metrics;
  PluginHostOptions options;
  options.log = logs.Sink();
  options.max_log_bytes = 10;
  options.metric = [&](std::string_view plugin, std::string_view name, PluginMetricKind kind, int64_t value) {
    metrics.push_back(std::string(plugin) + "/" + std::string(name) + "/" +
                      (kind == PluginMetricKind::kCounter ? "c" : "g") + "/" + std::to_string(value));
  };
  PluginHost host(options);
  REQUIRE(LoadFake(host, f, "obs").ok);
  const ph_host* h = f.host;
  h->log(h, PH_LOG_WARN, "short");
  h->log(h, PH_LOG_ERROR, "0123456789abcdef");
  h->log(h, PH_LOG_INFO, nullptr);
  CHECK(logs.Has("warn obs: short"));
  CHECK(logs.Has("error obs: 0123456789... [truncated, 16 bytes]"));
  CHECK(h->metric(h, "books_seen", PH_METRIC_COUNTER, 2) == PH_OK);
  CHECK(h->metric(h, "edge", PH_METRIC_GAUGE, -5) == PH_OK);
  CHECK(h->metric(h, "Bad-Name", PH_METRIC_GAUGE, 1) == PH_ERR_INVALID_ARGUMENT);
  CHECK(h->metric(h, "c", PH_METRIC_COUNTER, -1) == PH_ERR_INVALID_ARGUMENT);
  CHECK(h->metric(h, "c", 77, 1) == PH_ERR_INVALID_ARGUMENT);
  CHECK(metrics == std::vector<std::string>{"obs/books_seen/c/2", "obs/edge/g/-5"});
  CHECK(host.PluginNameOf(h) == "obs");
  CHECK(host.PluginNameOf(nullptr).empty());
}

TEST_CASE("timers fire at the requested interval of host clock") {
  Fake f;
  int64_t clock = 1000;
  PluginHostOptions options;
  options.log = [](const PluginLogLine&) {};
  options.clock = [&] { return clock; };
  PluginHost host(options);
  std::vector<int64_t> fired;
  f.activate = [](Fake& p) { return p.host->set_timer(p.host, 100); };
  f.on_timer = [&](Fake& p, int64_t now) -> ph_result {
    fired.push_back(now);
    if (fired.size() == 3) return p.host->set_timer(p.host, 0);
    return PH_OK;
  };
  REQUIRE(LoadFake(host, f, "t").ok);
  CHECK_FALSE(host.NextTimerMs());
  host.ActivateAll();
  CHECK(host.NextTimerMs() == 1100);
  host.DispatchTimers(1050);
  CHECK(fired.empty());
  host.DispatchTimers(1100);
  host.DispatchTimers(1150);
  host.DispatchTimers(1250);  // late: next is 1350, not 1300
  host.DispatchTimers(1300);
  host.DispatchTimers(1350);
  host.DispatchTimers(5000);
  CHECK(fired == std::vector<int64_t>{1100, 1250, 1350});
  CHECK_FALSE(host.NextTimerMs());
}

TEST_CASE("get_book reads subscribed books through the provider") {
  Fake f;
  PluginHost host(Quiet());
  OrderBook yes_book = Book({{450000, 1}}, {{460000, 2}});
  host.SetBookProvider([&](std::string_view market, std::string_view asset_id, BookRef* out) {
    if (market != "m" || asset_id != "yes") return false;
    out->book = &yes_book;
    out->meta.seq = 3;
    return true;
  });
  f.init = [&](Fake& p) {
    const ph_host* h = p.host;
    ph_book_view v{};
    v.struct_size = sizeof(v);
    CHECK(h->get_book(h, "m", "yes", &v) == PH_ERR_NOT_SUBSCRIBED);
    CHECK(p.Subscribe("m", "yes") == PH_OK);
    CHECK(p.Subscribe("m", "no") == PH_OK);
    CHECK(h->get_book(h, "m", "yes", &v) == PH_OK);
    CHECK(v.struct_size == sizeof(v));
    CHECK(v.bids == reinterpret_cast<const ph_level*>(yes_book.bids().data()));
    CHECK(v.asks[0].size == 2);
    CHECK(v.seq == 3);
    CHECK(h->get_book(h, "m", "no", &v) == PH_ERR_NOT_FOUND);
    CHECK(h->get_book(h, "m", "yes", nullptr) == PH_ERR_INVALID_ARGUMENT);
    v.struct_size = 8;  // smaller than any 1.x view
    CHECK(h->get_book(h, "m", "yes", &v) == PH_ERR_INVALID_ARGUMENT);
    // A newer plugin's larger view: the host fills what it knows and says so.
    struct Bigger {
      ph_book_view v1;
      int64_t future;
    } big{};
    big.v1.struct_size = sizeof(big);
    big.future = 42;
    CHECK(h->get_book(h, "m", "yes", &big.v1) == PH_OK);
    CHECK(big.v1.struct_size == sizeof(ph_book_view));
    CHECK(big.future == 42);
    return PH_OK;
  };
  REQUIRE(LoadFake(host, f, "reader").ok);
}

TEST_CASE("order updates and fills go to the plugin that submitted the plan") {
  Fake a, b;
  int64_t clock = 5000;
  PluginHostOptions options;
  options.log = [](const PluginLogLine&) {};
  options.clock = [&] { return clock; };
  PluginHost host(options);
  std::vector<ph_order_update> updates;
  std::vector<std::string> texts;
  std::vector<ph_fill> fills;
  a.init = [](Fake& p) {
    ph_plan_leg legs[2] = {Leg("yes", 480000, 10), Leg("no", 490000, 20, PH_SIDE_SELL)};
    ph_plan plan{sizeof(ph_plan), 2, sizeof(ph_plan_leg), 0, "tag-a", legs, nullptr};
    return p.host->submit_plan(p.host, &plan, nullptr);
  };
  a.on_order_update = [&](Fake&, const ph_order_update& u) {
    updates.push_back(u);
    texts.push_back(std::string(u.client_tag) + "|" + (u.asset.asset_id ? u.asset.asset_id : "-") + "|" +
                    (u.order_id ? u.order_id : "-") + "|" + (u.reason ? u.reason : "-"));
    return PH_OK;
  };
  a.on_fill = [&](Fake&, const ph_fill& f) {
    fills.push_back(f);
    texts.push_back(std::string("fill ") + f.client_tag + "|" + f.asset.asset_id + "|" + f.order_id + "|" +
                    (f.trade_id ? f.trade_id : "-"));
    return PH_OK;
  };
  b.init = [](Fake& p) { return p.Submit({Leg("x", 100000, 1)}, "tag-b"); };
  REQUIRE(LoadFake(host, a, "a").ok);
  REQUIRE(LoadFake(host, b, "b").ok);
  host.ActivateAll();
  auto plans = host.DrainPlans();
  REQUIRE(plans.size() == 2);
  PluginOrderUpdate accepted = Update(plans[0].plan_id, PluginOrderEvent::kPlanAccepted);
  accepted.dry_run = true;
  host.DispatchOrderUpdate(accepted);
  PluginOrderUpdate acked = Update(plans[0].plan_id, PluginOrderEvent::kAcked, 1, "0xabc");
  acked.ts_ms = 777;
  host.DispatchOrderUpdate(acked);
  PluginFill fill;
  fill.plan_id = plans[0].plan_id;
  fill.leg_index = 1;
  fill.order_id = "0xabc";
  fill.price = 490000;
  fill.size = 5;
  fill.fee_micros = 3;
  fill.maker = true;
  host.DispatchFill(fill);
  host.DispatchOrderUpdate(Update(plans[0].plan_id, PluginOrderEvent::kAcked, 9));  // no such leg: dropped
  host.DispatchOrderUpdate(Update(plans[1].plan_id, PluginOrderEvent::kPlanRejected, std::nullopt, {},
                                  "max_open_orders"));
  host.DispatchOrderUpdate(Update(999, PluginOrderEvent::kAcked));  // unknown plan: dropped
  REQUIRE(updates.size() == 2);
  CHECK(updates[0].kind == PH_ORDER_PLAN_ACCEPTED);
  CHECK(updates[0].leg_index == PH_LEG_ALL);
  CHECK(updates[0].asset.market == nullptr);
  CHECK((updates[0].flags & PH_ORDER_FLAG_DRY_RUN) != 0);
  CHECK(updates[0].ts_ms == 5000);
  CHECK(updates[1].kind == PH_ORDER_ACKED);
  CHECK(updates[1].leg_index == 1);
  CHECK(updates[1].side == PH_SIDE_SELL);
  CHECK(updates[1].price == 490000);
  CHECK(updates[1].size == 20);
  CHECK(updates[1].ts_ms == 777);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].side == PH_SIDE_SELL);
  CHECK(fills[0].flags == PH_FILL_FLAG_MAKER);
  CHECK(fills[0].fee == 3);
  CHECK(texts == std::vector<std::string>{"tag-a|-|-|-", "tag-a|no|0xabc|-", "fill tag-a|no|0xabc|-"});
  CHECK(Count(b.calls, "on_order_update") == 1);  // the rejection, routed to b
}

TEST_CASE("cancel requests name the plugin and only its own plans") {
  Fake a, b;
  PluginHost host(Quiet());
  uint64_t a_plan = 0;
  a.init = [&](Fake& p) { return p.Submit({Leg("yes", 400000, 1)}, "t", &a_plan); };
  b.init = [&](Fake& p) {
    const ph_host* h = p.host;
    ph_cancel_request c{};
    c.struct_size = sizeof(c);
    c.scope = PH_CANCEL_PLAN;
    c.plan_id = a_plan;
    CHECK(h->cancel_orders(h, &c) == PH_ERR_NOT_FOUND);  // not b's plan
    c.scope = PH_CANCEL_ASSET;
    c.asset = {"m", "yes"};
    c.reason = "requote";
    CHECK(h->cancel_orders(h, &c) == PH_OK);
    c.scope = PH_CANCEL_ORDER;
    CHECK(h->cancel_orders(h, &c) == PH_ERR_INVALID_ARGUMENT);  // no order id
    c.order_id = "0x1";
    CHECK(h->cancel_orders(h, &c) == PH_OK);
    c.scope = 0;
    CHECK(h->cancel_orders(h, &c) == PH_ERR_INVALID_ARGUMENT);
    c.scope = PH_CANCEL_ALL;
    c.struct_size = 4;
    CHECK(h->cancel_orders(h, &c) == PH_ERR_INVALID_ARGUMENT);
    return PH_OK;
  };
  REQUIRE(LoadFake(host, a, "a").ok);
  REQUIRE(LoadFake(host, b, "b").ok);
  auto cancels = host.DrainCancels();
  REQUIRE(cancels.size() == 2);
  CHECK(cancels[0].plugin == "b");
  CHECK(cancels[0].scope == PluginCancelRequest::Scope::kAsset);
  CHECK(cancels[0].asset_id == "yes");
  CHECK(cancels[0].reason == "requote");
  CHECK(cancels[1].scope == PluginCancelRequest::Scope::kOrder);
  CHECK(cancels[1].order_id == "0x1");
}

TEST_CASE("host extensions are looked up by id") {
  Fake f;
  static const int table = 7;
  PluginHost host(Quiet());
  host.RegisterExtension(PH_EXT_CONTROL, &table);
  REQUIRE(LoadFake(host, f, "f").ok);
  CHECK(f.host->get_extension(f.host, "polyhost.control/1") == &table);
  CHECK(f.host->get_extension(f.host, "polyhost.control/2") == nullptr);
  CHECK(f.host->get_extension(f.host, nullptr) == nullptr);
}

TEST_CASE("Disable from the host stops a plugin and Shutdown destroys the rest once") {
  Logs logs;
  Fake a, b;
  {
    PluginHost host(Options(logs));
    REQUIRE(LoadFake(host, a, "a").ok);
    REQUIRE(LoadFake(host, b, "b").ok);
    host.ActivateAll();
    host.Disable(0, "kill switch");
    CHECK(host.ListPlugins()[0].failure == "kill switch");
    CHECK(a.destroyed);
    host.Shutdown();
    CHECK(host.ListPlugins()[1].state == PluginState::kUnloaded);
    host.Shutdown();
  }
  CHECK(Count(a.calls, "destroy") == 1);
  CHECK(Count(b.calls, "destroy") == 1);
  CHECK(b.calls == std::vector<std::string>{"create", "init", "activate", "deactivate", "destroy"});
}

// ---- the C++ SDK layer, in process ----------------------------------------------

struct SdkCounters {
  int books = 0;
  int64_t best_ask = 0;
  std::string market;
  std::vector<std::string> events;
};
SdkCounters g_sdk;

class SdkStrategy : public sdk::Strategy {
 public:
  explicit SdkStrategy(sdk::Host host) : Strategy(host) { g_sdk.events.push_back("ctor"); }
  ~SdkStrategy() override { g_sdk.events.push_back("dtor"); }

 private:
  void init() override {
    market_ = host().require_string("market");
    edge_ = host().config_micros("edge", 10000);
    host().subscribe(market_, "yes");
    g_sdk.events.push_back("init edge=" + std::to_string(edge_));
  }
  void on_book(const sdk::BookView& book) override {
    ++g_sdk.books;
    g_sdk.best_ask = book.best_ask();
    g_sdk.market = std::string(book.asset.market);
    if (book.asks.empty()) throw sdk::Error(-1005, "no asks");
    if (book.best_ask() > 900000) throw std::logic_error("ask too high");
    host().submit(sdk::Plan("tag").buy(market_, "yes", book.best_ask(), 5 * sdk::kMicros, sdk::Tif::kIoc));
  }
  std::string market_;
  int64_t edge_ = 0;
};

const ph_plugin_descriptor kSdkDescriptor{sizeof(ph_plugin_descriptor), 0, "sdk", "SDK", "0.0.1", nullptr, nullptr};
const ph_plugin_entry kSdkEntry{sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &kSdkDescriptor,
                                [](const ph_host* h) {
                                  return sdk::detail::Glue<SdkStrategy>::Create(h, &kSdkDescriptor);
                                }};

TEST_CASE("the C++ layer maps hooks and turns exceptions into error codes") {
  Logs logs;
  for (int variant = 0; variant < 3; ++variant) {
    g_sdk = {};
    {
      PluginHost host(Options(logs));
      PluginLoadResult r = host.LoadEntry("sdk", &kSdkEntry,
                                          {{"market", {PluginValueKind::kString, "m"}},
                                           {"edge", {PluginValueKind::kFloat, "0.03"}}});
      REQUIRE(r.ok);
      host.ActivateAll();
      const uint32_t yes = host.InternAsset("m", "yes");
      OrderBook good = Book({{450000, 1}}, {{470000, 1}});
      host.DispatchBook(yes, good, {});
      CHECK(g_sdk.best_ask == 470000);
      CHECK(g_sdk.market == "m");
      auto plans = host.DrainPlans();
      REQUIRE(plans.size() == 1);
      CHECK(plans[0].legs[0].price == 470000);
      CHECK(plans[0].legs[0].size == 5'000000);
      CHECK(plans[0].legs[0].tif == TimeInForce::kIoc);
      if (variant == 1) {
        OrderBook no_asks = Book({{450000, 1}}, {});
        host.DispatchBook(yes, no_asks, {});
        CHECK(host.ListPlugins()[0].failure == "on_book returned PH_ERR_PLUGIN (-1005)");
        CHECK(logs.Has("error sdk: on_book: no asks"));
      } else if (variant == 2) {
        OrderBook high = Book({{450000, 1}}, {{950000, 1}});
        host.DispatchBook(yes, high, {});
        CHECK(host.ListPlugins()[0].failure == "on_book returned PH_ERR_EXCEPTION (-10)");
        CHECK(logs.Has("error sdk: on_book: uncaught exception: ask too high"));
      }
    }
    CHECK(g_sdk.events == std::vector<std::string>{"ctor", "init edge=30000", "dtor"});
  }

  // A missing required key fails init with PH_ERR_CONFIG and a readable reason.
  g_sdk = {};
  PluginHost host(Options(logs));
  PluginLoadResult r = host.LoadEntry("sdk", &kSdkEntry);
  CHECK_FALSE(r.ok);
  CHECK(r.error == "init returned PH_ERR_CONFIG (-13)");
  CHECK(logs.Has("error sdk: init: config key 'plugin.sdk.market' is required"));
  CHECK(g_sdk.events == std::vector<std::string>{"ctor", "dtor"});

  r = host.LoadEntry("sdk2", &kSdkEntry, {{"market", {PluginValueKind::kString, "m"}},
                                          {"edge", {PluginValueKind::kString, "lots"}}});
  CHECK_FALSE(r.ok);
  CHECK(logs.Has("init: config key 'plugin.sdk2.edge' must be a decimal"));
}

// ---- the C++ SDK's zero-copy book hook (on_book_ref) ------------------------------

struct RefRecord {
  int refs = 0;   // on_book_ref calls
  int books = 0;  // on_book calls
  std::string market, asset_id;
  int64_t seq = 0, resync_count = 0, ts_ms = 0, tick = 0, best_bid = 0, best_ask = 0, view_best_ask = 0;
  size_t bids = 0, asks = 0;
  bool stale = false;
  bool raw_set = false;
};
RefRecord g_ref;

void RecordRef(const sdk::BookViewRef& book) {
  ++g_ref.refs;
  g_ref.market = std::string(book.asset().market);
  g_ref.asset_id = std::string(book.asset().asset_id);
  g_ref.seq = book.seq();
  g_ref.resync_count = book.resync_count();
  g_ref.ts_ms = book.ts_ms();
  g_ref.tick = book.tick_size();
  g_ref.best_bid = book.best_bid();
  g_ref.best_ask = book.best_ask();
  g_ref.bids = book.bids().size();
  g_ref.asks = book.asks().size();
  g_ref.stale = book.stale();
  g_ref.raw_set = book.raw() != nullptr;
  g_ref.view_best_ask = book.view().best_ask();
}

// Overrides on_book_ref privately (the glue cannot name it) and on_book too:
// only on_book_ref is called.
class RefStrategy : public sdk::Strategy {
  void init() override { host().subscribe("m", "yes"); }
  void on_book_ref(sdk::BookViewRef book) override {
    RecordRef(book);
    if (book.asks().empty()) throw sdk::Error(-1005, "no asks");
  }
  void on_book(const sdk::BookView& /*book*/) override { ++g_ref.books; }
};

// Forwards to Strategy::on_book_ref, which builds the BookView for on_book.
class ForwardingRefStrategy : public sdk::Strategy {
  void init() override { host().subscribe("m", "yes"); }
  void on_book_ref(sdk::BookViewRef book) override {
    ++g_ref.refs;
    Strategy::on_book_ref(book);
  }
  void on_book(const sdk::BookView& book) override {
    ++g_ref.books;
    g_ref.best_ask = book.best_ask();
    g_ref.raw_set = book.raw != nullptr;
  }
};

class PublicRefStrategy : public sdk::Strategy {
 public:
  void on_book_ref(sdk::BookViewRef /*book*/) override {}
};
class RefBase : public sdk::Strategy {
  void on_book_ref(sdk::BookViewRef /*book*/) override {}
};
class RefDerived : public RefBase {};

// The glue calls on_book directly only for strategies that keep Strategy's on_book_ref.
static_assert(!sdk::detail::OverridesOnBookRef<SdkStrategy>());
static_assert(!sdk::detail::OverridesOnBookRef<sdk::Strategy>());
static_assert(sdk::detail::OverridesOnBookRef<RefStrategy>());          // private override
static_assert(sdk::detail::OverridesOnBookRef<PublicRefStrategy>());    // public override
static_assert(sdk::detail::OverridesOnBookRef<RefDerived>());           // inherited override
static_assert(sdk::detail::OverridesOnBookRef<ForwardingRefStrategy>());

template <class T>
const ph_plugin_entry* RefEntry() {
  static const ph_plugin_descriptor descriptor{sizeof(ph_plugin_descriptor), 0, "ref", "Ref", "0.0.1", nullptr, nullptr};
  static const ph_plugin_entry entry{sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &descriptor,
                                     [](const ph_host* h) { return sdk::detail::Glue<T>::Create(h, &descriptor); }};
  return &entry;
}

// A host running one SDK strategy T as "ref", subscribed to asset "yes" of market "m".
template <class T>
struct RefRig {
  Logs logs;
  PluginHost host{Options(logs)};
  uint32_t yes = 0;
  RefRig() {
    g_ref = {};
    REQUIRE(host.LoadEntry("ref", RefEntry<T>()).ok);
    host.ActivateAll();
    yes = host.InternAsset("m", "yes");
  }
};

TEST_CASE("the C++ layer's on_book_ref receives the host's view in place, and on_book is then not called") {
  RefRig<RefStrategy> rig;
  PluginHost& host = rig.host;
  const uint32_t yes = rig.yes;
  OrderBook book = Book({{450000, 1}, {440000, 2}}, {{470000, 3}});
  book.set_tick_size(10000);
  BookMeta meta;
  meta.seq = 7;
  meta.resync_count = 2;
  meta.ts_ms = 1700000000123;
  meta.stale = true;
  host.DispatchBook(yes, book, meta);
  CHECK(g_ref.refs == 1);
  CHECK(g_ref.books == 0);
  CHECK(g_ref.market == "m");
  CHECK(g_ref.asset_id == "yes");
  CHECK(g_ref.seq == 7);
  CHECK(g_ref.resync_count == 2);
  CHECK(g_ref.ts_ms == 1700000000123);
  CHECK(g_ref.tick == 10000);
  CHECK(g_ref.bids == 2);
  CHECK(g_ref.asks == 1);
  CHECK(g_ref.best_bid == 450000);
  CHECK(g_ref.best_ask == 470000);
  CHECK(g_ref.view_best_ask == 470000);
  CHECK(g_ref.stale);
  CHECK(g_ref.raw_set);

  // An exception out of on_book_ref is an error code, as out of on_book.
  OrderBook no_asks = Book({{450000, 1}}, {});
  host.DispatchBook(yes, no_asks, {});
  CHECK(g_ref.refs == 2);
  CHECK(g_ref.best_ask == 0);
  CHECK(host.ListPlugins()[0].failure == "on_book returned PH_ERR_PLUGIN (-1005)");
  CHECK(rig.logs.Has("error ref: on_book: no asks"));
}

TEST_CASE("the C++ layer's Strategy::on_book_ref makes the BookView and calls on_book") {
  RefRig<ForwardingRefStrategy> rig;
  OrderBook book = Book({{450000, 1}}, {{470000, 3}});
  rig.host.DispatchBook(rig.yes, book, {});
  CHECK(g_ref.refs == 1);
  CHECK(g_ref.books == 1);
  CHECK(g_ref.best_ask == 470000);
  CHECK(g_ref.raw_set);
}

TEST_CASE("BookViewRef reads what BookView::From copies, ids measured for an ABI 1.0 view") {
  const ph_level bids[2] = {{450000, 3}, {440000, 4}};
  ph_book_view v{};
  v.struct_size = sizeof(ph_book_view);
  v.flags = 0;
  v.asset = {"mkt", "token"};
  v.seq = 9;
  v.resync_count = 1;
  v.ts_ms = 55;
  v.tick_size = 1000;
  v.bids = bids;
  v.bid_count = 2;
  v.asks = nullptr;
  v.ask_count = 0;
  v.market_len = 3;
  v.asset_id_len = 5;
  const sdk::BookViewRef r(v);
  const sdk::BookView b = sdk::BookView::From(v);
  CHECK(r.asset() == b.asset);
  CHECK(r.asset().market == "mkt");
  CHECK(r.bids().data() == b.bids.data());
  CHECK(r.bids().size() == 2);
  CHECK(r.asks().empty());
  CHECK(r.best_bid() == 450000);
  CHECK(r.best_ask() == 0);
  CHECK_FALSE(r.empty());
  CHECK_FALSE(r.stale());
  CHECK(r.seq() == b.seq);
  CHECK(r.resync_count() == b.resync_count);
  CHECK(r.ts_ms() == b.ts_ms);
  CHECK(r.tick_size() == b.tick_size);
  CHECK(r.raw() == &v);
  CHECK(r.view().raw == &v);
  CHECK(r.view().bids.size() == 2);

  // A 1.0 host's view ends before the lengths: the ids are measured.
  v.struct_size = offsetof(ph_book_view, market_len);
  v.market_len = 99;  // beyond struct_size: never read
  CHECK(r.asset().market == "mkt");
  CHECK(r.asset().asset_id == "token");
  v.bids = nullptr;  // a NULL array is empty whatever its count says
  CHECK(r.bids().empty());
  CHECK(r.empty());
}

}  // namespace
}  // namespace polyhost

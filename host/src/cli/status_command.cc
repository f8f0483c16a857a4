// polyhost status [--verbose] [--json]  and  polyhost status-top [--limit N]
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <span>

#include "cli/command.h"
#include "core/decimal.h"

namespace polyhost {
namespace {

struct StatusFlags {
  CommonFlags common;
  bool verbose = false;
  bool json = false;
  int limit = 10;
  std::string order = "recent";
};

// Token ids are up to 78 digits: show the head and tail unless --verbose.
std::string ShortId(const std::string& id, bool verbose) {
  if (verbose || id.size() <= 16) return id;
  return id.substr(0, 8) + "…" + id.substr(id.size() - 6);
}

std::string PriceOrDash(int64_t micros) { return micros == 0 ? "-" : FormatDecimal(micros); }

// Quote depth: the size resting on the best kDepthLevels price levels of each side,
// from the book rebuilt out of the database (latest snapshot plus later events).
constexpr size_t kDepthLevels = 5;

struct Depth {
  int64_t bid_size = 0;
  int64_t ask_size = 0;
  size_t bid_levels = 0;  // all levels on the side
  size_t ask_levels = 0;
};

int64_t TopSize(std::span<const Level> levels) {
  int64_t total = 0;
  for (size_t i = 0; i < levels.size() && i < kDepthLevels; ++i) total += levels[i].size;
  return total;
}

std::vector<Depth> LoadDepths(Store& store, const std::vector<AssetStatus>& rows) {
  std::vector<Depth> out;
  out.reserve(rows.size());
  for (const AssetStatus& a : rows) {
    Depth d;
    if (std::optional<StoredBook> b = store.LoadBook(a.market, a.asset_id)) {
      d.bid_size = TopSize(b->book.bids());
      d.ask_size = TopSize(b->book.asks());
      d.bid_levels = b->book.bids().size();
      d.ask_levels = b->book.asks().size();
    }
    out.push_back(d);
  }
  return out;
}

boost::json::object AssetJson(const AssetStatus& a) {
  boost::json::object o;
  o["market"] = a.market;
  o["asset_id"] = a.asset_id;
  o["last_update_ts_ms"] = a.last_update_ts_ms;
  o["seq"] = a.seq;
  o["best_bid"] = a.best_bid == 0 ? boost::json::value(nullptr) : boost::json::value(FormatDecimal(a.best_bid));
  o["best_ask"] = a.best_ask == 0 ? boost::json::value(nullptr) : boost::json::value(FormatDecimal(a.best_ask));
  o["stale"] = a.stale;
  o["events"] = a.events;
  o["continuity_breaks"] = a.continuity_breaks;
  return o;
}

void PrintTable(const std::vector<AssetStatus>& rows, bool verbose, const std::vector<Depth>* depths = nullptr) {
  std::printf("%-20s %-24s %-25s %9s %9s %9s %10s %7s %s\n", "market", "asset", "last update (UTC)", "bid", "ask",
              "spread", "events", "breaks", "state");
  for (size_t i = 0; i < rows.size(); ++i) {
    const AssetStatus& a = rows[i];
    const std::string spread = (a.best_bid != 0 && a.best_ask != 0) ? FormatDecimal(a.best_ask - a.best_bid) : "-";
    std::printf("%-20s %-24s %-25s %9s %9s %9s %10lld %7lld %s\n", ShortId(a.market, verbose).c_str(),
                ShortId(a.asset_id, verbose).c_str(), FormatTimestampMs(a.last_update_ts_ms).c_str(),
                PriceOrDash(a.best_bid).c_str(), PriceOrDash(a.best_ask).c_str(), spread.c_str(),
                static_cast<long long>(a.events), static_cast<long long>(a.continuity_breaks),
                a.stale ? "STALE" : "ok");
    if (depths != nullptr) {
      const Depth& d = (*depths)[i];
      std::printf("    depth (top %zu levels): bid %s on %zu levels, ask %s on %zu levels\n", kDepthLevels,
                  FormatDecimal(d.bid_size).c_str(), d.bid_levels, FormatDecimal(d.ask_size).c_str(), d.ask_levels);
    }
  }
}

std::string Micros(int64_t us) { return us < 0 ? "-" : std::to_string(us) + " us"; }

// Engine timings (exec_audit) and live quotes (open orders).
void PrintEngine(Store& store) {
  const ExecTimings t = store.ExecutionTimings();
  std::printf("\nengine: %lld plans (%lld accepted); event->plan p50 %s p99 %s; plan->ack p50 %s p99 %s\n",
              static_cast<long long>(t.plans), static_cast<long long>(t.accepted),
              Micros(t.event_to_plan_p50_us).c_str(), Micros(t.event_to_plan_p99_us).c_str(),
              Micros(t.plan_to_ack_p50_us).c_str(), Micros(t.plan_to_ack_p99_us).c_str());
  const std::vector<OpenOrderRow> quotes = store.OpenOrders();
  std::printf("open orders (quotes): %zu\n", quotes.size());
  for (const OpenOrderRow& q : quotes) {
    std::printf("  %-12s %-20s %-24s %-4s %10s x %-12s filled %s\n", q.plugin.c_str(), ShortId(q.market, false).c_str(),
                ShortId(q.asset_id, false).c_str(), q.side == Side::kBid ? "buy" : "sell",
                FormatDecimal(q.price).c_str(), FormatDecimal(q.size).c_str(), FormatDecimal(q.filled).c_str());
  }
}

boost::json::object EngineJson(Store& store) {
  const ExecTimings t = store.ExecutionTimings();
  boost::json::object e;
  e["plans"] = t.plans;
  e["accepted"] = t.accepted;
  e["event_to_plan_p50_us"] = t.event_to_plan_p50_us;
  e["event_to_plan_p99_us"] = t.event_to_plan_p99_us;
  e["plan_to_ack_p50_us"] = t.plan_to_ack_p50_us;
  e["plan_to_ack_p99_us"] = t.plan_to_ack_p99_us;
  boost::json::array quotes;
  for (const OpenOrderRow& q : store.OpenOrders()) {
    quotes.push_back({{"plugin", q.plugin}, {"market", q.market}, {"asset_id", q.asset_id},
                      {"side", q.side == Side::kBid ? "BUY" : "SELL"}, {"price", FormatDecimal(q.price)},
                      {"size", FormatDecimal(q.size)}, {"filled", FormatDecimal(q.filled)}});
  }
  e["open_orders"] = std::move(quotes);
  return e;
}

}  // namespace

void AddStatusCommands(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* status = app.add_subcommand("status", "Per market and asset: last update, best bid/ask, events, stale flag");
  status->add_flag("--verbose,-v", flags->verbose,
                   "full ids, quote depth (top 5 levels), engine timings (event->plan, plan->ack p50/p99), open orders");
  status->add_flag("--json", flags->json, "machine-readable output");
  AddCommonFlags(status, &flags->common);
  registry.Add(status, [flags]() -> int {
    LoadedConfig loaded = LoadConfigFor(flags->common);
    auto store = OpenStore(loaded.config, /*read_only=*/true);
    std::vector<AssetStatus> rows = store->Status();
    int64_t stale = std::count_if(rows.begin(), rows.end(), [](const AssetStatus& a) { return a.stale; });
    if (flags->json) {
      boost::json::array assets;
      std::vector<Depth> depths;
      if (flags->verbose) depths = LoadDepths(*store, rows);
      for (size_t i = 0; i < rows.size(); ++i) {
        boost::json::object a = AssetJson(rows[i]);
        if (flags->verbose) {
          a["spread"] = rows[i].best_bid != 0 && rows[i].best_ask != 0
                            ? boost::json::value(FormatDecimal(rows[i].best_ask - rows[i].best_bid))
                            : boost::json::value(nullptr);
          a["bid_depth"] = FormatDecimal(depths[i].bid_size);
          a["ask_depth"] = FormatDecimal(depths[i].ask_size);
          a["bid_levels"] = static_cast<int64_t>(depths[i].bid_levels);
          a["ask_levels"] = static_cast<int64_t>(depths[i].ask_levels);
        }
        assets.push_back(std::move(a));
      }
      boost::json::object o;
      o["assets"] = std::move(assets);
      o["asset_count"] = static_cast<int64_t>(rows.size());
      o["stale_count"] = stale;
      if (flags->verbose) o["engine"] = EngineJson(*store);
      std::cout << boost::json::serialize(o) << "\n";
      return 0;
    }
    std::map<std::string, int> markets;
    for (const AssetStatus& a : rows) ++markets[a.market];
    std::printf("%zu markets, %zu assets, %lld stale\n", markets.size(), rows.size(), static_cast<long long>(stale));
    if (!rows.empty()) {
      std::vector<Depth> depths;
      if (flags->verbose) depths = LoadDepths(*store, rows);
      PrintTable(rows, flags->verbose, flags->verbose ? &depths : nullptr);
    }
    if (flags->verbose) PrintEngine(*store);
    return 0;
  });

  auto top = std::make_shared<StatusFlags>();
  CLI::App* status_top = app.add_subcommand("status-top", "The most active or most recently updated assets");
  status_top->add_option("--limit,-n", top->limit, "how many rows")->check(CLI::PositiveNumber);
  status_top->add_option("--by", top->order, "recent|events")->check(CLI::IsMember({"recent", "events"}));
  status_top->add_flag("--json", top->json, "machine-readable output");
  AddCommonFlags(status_top, &top->common);
  registry.Add(status_top, [top]() -> int {
    LoadedConfig loaded = LoadConfigFor(top->common);
    auto store = OpenStore(loaded.config, /*read_only=*/true);
    std::vector<AssetStatus> rows = store->Status();
    if (top->order == "events") {
      std::stable_sort(rows.begin(), rows.end(), [](const AssetStatus& a, const AssetStatus& b) { return a.events > b.events; });
    } else {
      std::stable_sort(rows.begin(), rows.end(),
                       [](const AssetStatus& a, const AssetStatus& b) { return a.last_update_ts_ms > b.last_update_ts_ms; });
    }
    if (rows.size() > static_cast<size_t>(top->limit)) rows.resize(static_cast<size_t>(top->limit));
    if (top->json) {
      boost::json::array assets;
      for (const AssetStatus& a : rows) assets.push_back(AssetJson(a));
      std::cout << boost::json::serialize(assets) << "\n";
      return 0;
    }
    PrintTable(rows, false);
    return 0;
  });
}

}  // namespace polyhost

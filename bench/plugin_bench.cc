// Plugin-SDK benchmarks (docs/performance.md, "Plugins"):
//
//   dispatch      PluginHost::DispatchBook with 0, 1 and 4 no-op plugins (noop_plugins.h)
//                 over the feed's real dispatch sequence and final books: ns per
//                 dispatch per plugin, and operator new calls in the timed loop.
//   plan-latency  a plugin library (dutchbook.so) fed like `polyhost run` feeds it:
//                 book event -> plan submitted (Plan::planned_ns - book_event_ns)
//                 in ns, and the time of every DispatchBook to it.
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "bench_commands.h"
#include "bench_util.h"
#include "catalog/market_catalog.h"
#include "catalog/markets_extension.h"
#include "ingest/feed_parser.h"
#include "ingest/line_reader.h"
#include "noop_plugins.h"
#include "plugin/plugin_host.h"
#include "polyhost/abi/markets.h"
#include "replay/book_engine.h"

// Under callgrind, each configuration's timed loop becomes one profile dump
// named after it, so instructions per dispatch can be compared between code
// versions on a machine without hardware counters (this VM has none; timings on
// its 2 shared cores are noisy). The requests are a few no-op instructions
// outside the timed loops when not running under valgrind. Use:
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out
//       BUILD/bench/polyhost_bench dispatch FEED --repeat 1 --limit 100000   (one command)
//   grep -a '^totals:' /tmp/cg.out.N   (N = the row's number from 0, plus 1: Ir of that
//                                      configuration's timed loop; divide by dispatches per run)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define POLYHOST_BENCH_CALLGRIND 1
#endif

namespace polyhost::bench {
namespace {

constexpr double kDispatchTargetNs = 5.0;
constexpr size_t kMinDispatchesPerRun = 2'000'000;  // short runs, many repeats: see RunDispatch

// As host/src/run/run_session.cc's SteadyNs (the clock of BookMeta::event_ns).
int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Plugin loader lines at warn and above go to stderr; the rest is dropped.
void QuietLog(const PluginLogLine& line) {
  if (line.level < PluginLogLevel::kWarn) return;
  std::fprintf(stderr, "  [%s%s%.*s] %.*s\n", PluginLogLevelName(line.level), line.plugin.empty() ? "" : " ",
               static_cast<int>(line.plugin.size()), line.plugin.data(), static_cast<int>(line.message.size()),
               line.message.data());
}

// ---------------------------------------------------------------------------
// dispatch

struct DispatchConfig {
  const char* name;
  const ph_plugin_entry* entry;  // null: no plugin
  int plugins;
  bool wildcard;
};

struct DispatchResult {
  double best_ns_per_dispatch = 1e300;
  uint64_t allocations = 0;    // in the best run's timed loop (every run is checked below)
  uint64_t max_allocations = 0;
  uint64_t callbacks_ok = 1;   // 1: every plugin received every dispatch
};

}  // namespace

int RunDispatch(const Args& args) {
  {  // The allocation column is only meaningful if operator new is really counted.
    const uint64_t a0 = ThreadAllocations();
    std::vector<char> probe(64);
    DoNotOptimize(probe.data());
    if (ThreadAllocations() == a0) throw std::runtime_error("operator new is not counted (alloc_counter.cc)");
  }
  // The feed's books and the order in which `polyhost run` would dispatch them
  // (BookEngine::touched() of every line), built once, untimed.
  BookEngine engine;
  std::vector<uint32_t> sequence;
  {
    const auto t0 = Clock::now();
    LineReader reader(args.feed);
    FeedParser parser;
    ParsedLine parsed;
    ParseError error;
    std::string_view line;
    bool too_long = false;
    size_t lines = 0;
    while ((args.limit == 0 || lines < args.limit) && reader.Next(&line, &too_long)) {
      ++lines;
      if (!parser.Parse(line.data(), line.size(), FeedFormat::kAuto, &parsed, &error)) {
        engine.CountMalformed();
        continue;
      }
      engine.Apply(parsed, reader.line_number(), nullptr);
      for (uint32_t k : engine.touched()) sequence.push_back(k);
    }
    std::fprintf(stderr, "  %zu lines -> %zu book dispatches over %zu assets (%.1fs to build)\n", lines,
                 sequence.size(), engine.asset_count(), SecondsSince(t0));
  }
  if (sequence.empty()) throw std::runtime_error("the feed produced no book changes");
  const size_t assets = engine.asset_count();
  std::vector<const OrderBook*> books(assets);
  struct alignas(64) PaddedMeta : BookMeta {};  // one cache line each
  std::vector<PaddedMeta> metas(assets);
  size_t levels = 0;
  for (uint32_t k = 0; k < assets; ++k) {
    const AssetState& a = engine.asset(k);
    books[k] = &a.book;
    metas[k].seq = a.seq;
    metas[k].ts_ms = a.last_update_ts_ms;
    metas[k].stale = a.stale;
    metas[k].event_ns = 1;
    levels += a.book.bids().size() + a.book.asks().size();
  }
  std::fprintf(stderr, "  books: %.1f levels per side on average\n",
               static_cast<double>(levels) / static_cast<double>(2 * assets));
  const size_t passes = (kMinDispatchesPerRun + sequence.size() - 1) / sequence.size();
  const size_t per_run = passes * sequence.size();

  NoopSubscriptionSet& subs = NoopSubscriptions();
  subs.assets.clear();
  for (uint32_t k = 0; k < assets; ++k) subs.assets.emplace_back(engine.asset(k).market, engine.asset(k).asset_id);

  const DispatchConfig configs[] = {
      {"0 plugins (baseline: `HasSubscribers` is false, nothing called)", nullptr, 0, false},
      {"1 no-op plugin, plain C ABI, subscribed by name", NoopCEntry(), 1, false},
      {"4 no-op plugins, plain C ABI, subscribed by name", NoopCEntry(), 4, false},
      {"1 no-op plugin, C++ SDK (`Strategy`, `POLYHOST_PLUGIN` glue), by name", NoopSdkEntry(), 1, false},
      {"4 no-op plugins, C++ SDK, by name", NoopSdkEntry(), 4, false},
      {"4 no-op plugins, plain C ABI, wildcard `subscribe(\"*\", \"*\")`", NoopCEntry(), 4, true},
      {"1 no-op plugin, C++ SDK, zero-copy `on_book_ref`, by name", NoopSdkRefEntry(), 1, false},
      {"4 no-op plugins, C++ SDK, zero-copy `on_book_ref`, by name", NoopSdkRefEntry(), 4, false},
  };
  // Every configuration gets its own host, built up front; the timed runs then
  // go round-robin over the configurations (run 1 of each, run 2 of each, ...)
  // so that a burst of load from other processes on this shared machine hits
  // them alike, and the best run of each is reported.
  constexpr size_t kConfigs = std::size(configs);
  std::vector<std::unique_ptr<PluginHost>> hosts;
  std::vector<std::vector<uint32_t>> host_keys;
  std::vector<std::vector<uint64_t>> callbacks_before(kConfigs);
  for (const DispatchConfig& c : configs) {
    PluginHostOptions options;
    options.log = &QuietLog;
    auto host = std::make_unique<PluginHost>(std::move(options));
    std::vector<uint32_t> host_key(assets);
    for (uint32_t k = 0; k < assets; ++k) host_key[k] = host->InternAsset(engine.asset(k).market, engine.asset(k).asset_id);
    subs.wildcard = c.wildcard;
    for (int i = 0; i < c.plugins; ++i) {
      const PluginLoadResult r = host->LoadEntry("noop" + std::to_string(i), c.entry);
      if (!r.ok) throw std::runtime_error("cannot load the no-op plugin: " + r.error);
    }
    host->ActivateAll();
    for (const PluginInfo& info : host->ListPlugins()) callbacks_before[hosts.size()].push_back(info.callbacks);
    hosts.push_back(std::move(host));
    host_keys.push_back(std::move(host_key));
  }

  // In `polyhost run` DispatchBook follows BookEngine::Apply on the same book,
  // so the book is in cache: read it first in every configuration (the
  // 0-plugin baseline included), or its cache miss would be charged to the
  // plugins (the final books here are visited in feed order, cold).
  // Reading it right before the call is not enough: the view is built from
  // the same lines, so a dispatch with plugins waited for that miss (and the
  // meta's) while the baseline did not. They are prefetched a few dispatches
  // ahead, in every configuration, as Apply would have brought them in.
  // (`ahead` is the sequence shifted by kAhead, wrapping around: no bounds test.)
  constexpr size_t kAhead = 8;
  std::vector<uint32_t> ahead(sequence.size());
  for (size_t i = 0; i < sequence.size(); ++i) ahead[i] = sequence[(i + kAhead) % sequence.size()];
  uint64_t touched = 0;
  auto pass = [&](PluginHost& host, const std::vector<uint32_t>& host_key) {
    // Plain pointers and a local sum: the vectors' members would otherwise be
    // reloaded after every call (the call might have changed them).
    const uint32_t* const seq = sequence.data();
    const uint32_t* const next = ahead.data();
    const OrderBook* const* const book_of = books.data();
    const PaddedMeta* const meta_of = metas.data();
    const uint32_t* const key_of = host_key.data();
    const size_t n = sequence.size();
    uint64_t sum = 0;
    for (size_t i = 0; i < n; ++i) {
      const char* next_book = reinterpret_cast<const char*>(book_of[next[i]]);
      __builtin_prefetch(next_book);
      __builtin_prefetch(next_book + sizeof(OrderBook) - 1);  // it may straddle two lines
      __builtin_prefetch(&meta_of[next[i]]);                  // one line (PaddedMeta)
      const uint32_t k = seq[i];
      const OrderBook& book = *book_of[k];
      sum += book.bids().size() + book.asks().size() + static_cast<uint64_t>(book.tick_size());
      host.DispatchBook(key_of[k], book, meta_of[k]);
    }
    touched += sum;
  };
  for (size_t c = 0; c < kConfigs; ++c) pass(*hosts[c], host_keys[c]);  // warm-up: caches, branch predictors

  std::vector<DispatchResult> results(kConfigs);
  std::vector<std::vector<double>> all(kConfigs);
  for (int r = 0; r < args.repeat; ++r) {
    for (size_t c = 0; c < kConfigs; ++c) {
      DispatchResult& res = results[c];
      const uint64_t a0 = ThreadAllocations();
#ifdef POLYHOST_BENCH_CALLGRIND
      CALLGRIND_ZERO_STATS;
#endif
      const int64_t t0 = ThreadCpuNs();
      for (size_t p = 0; p < passes; ++p) pass(*hosts[c], host_keys[c]);
      const int64_t ns = ThreadCpuNs() - t0;
      const uint64_t allocs = ThreadAllocations() - a0;
#ifdef POLYHOST_BENCH_CALLGRIND
      // Dump "dispatch-config-<c>" (the row's number, from 0): its Ir divided by
      // the dispatches per run (last column) is instructions per dispatch.
      if (RUNNING_ON_VALGRIND) {
        const std::string dump = "dispatch-config-" + std::to_string(c);
        CALLGRIND_DUMP_STATS_AT(dump.c_str());
      }
#endif
      const double per = static_cast<double>(ns) / static_cast<double>(per_run);
      all[c].push_back(per);
      res.max_allocations = std::max(res.max_allocations, allocs);
      if (per < res.best_ns_per_dispatch) {
        res.best_ns_per_dispatch = per;
        res.allocations = allocs;
      }
    }
  }
  DoNotOptimize(touched);

  for (size_t c = 0; c < kConfigs; ++c) {
    // Every plugin must have been called once per dispatch.
    const uint64_t expected = (1 + static_cast<uint64_t>(args.repeat) * passes) * sequence.size();
    const std::vector<PluginInfo> infos = hosts[c]->ListPlugins();
    for (size_t i = 0; i < infos.size(); ++i) {
      if (infos[i].state != PluginState::kActive || infos[i].callbacks - callbacks_before[c][i] != expected) {
        std::fprintf(stderr, "  %s: plugin %s is %s with %" PRIu64 " on_book calls, expected %" PRIu64 "\n",
                     configs[c].name, infos[i].name.c_str(), PluginStateName(infos[i].state),
                     infos[i].callbacks - callbacks_before[c][i], expected);
        results[c].callbacks_ok = 0;
      }
    }
    std::fprintf(stderr, "  %-40.40s ns/dispatch per run:", configs[c].name);
    for (double v : all[c]) std::fprintf(stderr, " %.2f", v);
    std::fprintf(stderr, "  (allocations, worst run: %" PRIu64 ")\n", results[c].max_allocations);
  }
  hosts.clear();  // plugins are destroyed before the no-op subscription set changes

  const double base = results[0].best_ns_per_dispatch;
  int rc = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const DispatchConfig& c = configs[i];
    const DispatchResult& r = results[i];
    std::string per_plugin = "—", target = "—";
    if (c.plugins > 0) {
      const double pp = (r.best_ns_per_dispatch - base) / c.plugins;
      per_plugin = Fixed(pp, 2);
      const bool met = pp <= kDispatchTargetNs && r.max_allocations == 0;
      target = std::string("≤ 5 ns, 0 allocations — ") + (met ? "**met**" : "**missed**");
    }
    std::printf("| %s | %d | %s | %s | %s | %s | %s |\n", c.name, c.plugins, Fixed(r.best_ns_per_dispatch, 2).c_str(),
                per_plugin.c_str(), Group(static_cast<double>(r.max_allocations)).c_str(),
                Group(static_cast<double>(per_run)).c_str(), target.c_str());
    if (r.callbacks_ok == 0) rc = 1;
  }
  std::fflush(stdout);
  return rc;
}

// ---------------------------------------------------------------------------
// plan-latency

int RunPlanLatency(const Args& args) {
  if (args.plugin.empty()) throw std::runtime_error("plan-latency needs --plugin PATH (e.g. BUILD/plugins/dutchbook.so)");
  MarketCatalog catalog;
  if (!args.catalog.empty()) catalog.LoadGammaMarketsJson(args.catalog);
  MarketsExtension markets(catalog);
  int64_t now_ms = 0;
  PluginHostOptions options;
  options.log = &QuietLog;
  options.clock = [&now_ms] { return now_ms; };  // feed time, as `polyhost run`
  PluginHost host(std::move(options));
  host.RegisterExtension(PH_EXT_MARKETS, markets.table());
  BookEngine engine;
  host.SetBookProvider([&engine](std::string_view market, std::string_view asset_id, BookRef* out) {
    const int64_t k = engine.Find(market, asset_id);
    if (k < 0) return false;
    const AssetState& a = engine.asset(static_cast<uint32_t>(k));
    if (!a.has_book) return false;
    out->book = &a.book;
    out->meta.seq = a.seq;
    out->meta.ts_ms = a.last_update_ts_ms;
    out->meta.stale = a.stale;
    return true;
  });
  const PluginLoadResult loaded = host.Load(args.plugin);
  if (!loaded.ok) throw std::runtime_error("cannot load " + args.plugin + ": " + loaded.error);
  host.ActivateAll();
  const std::string name = host.ListPlugins()[loaded.index].name;

  // The `polyhost run` loop (host/src/run/run_session.cc, Session::OnLine) minus
  // the relayer, the risk gate and storage: the event time is taken right before
  // DispatchBook, as Session::Meta does, and the plan carries it.
  std::vector<int64_t> dispatch_ns, plan_ns, planning_dispatch_ns;
  std::vector<uint32_t> host_key;
  uint64_t allocations_in_dispatch = 0;
  int64_t plans = 0;
  LineReader reader(args.feed);
  FeedParser parser;
  ParsedLine parsed;
  ParseError error;
  std::string_view line;
  bool too_long = false;
  size_t lines = 0;
  const auto t0 = Clock::now();
  while ((args.limit == 0 || lines < args.limit) && reader.Next(&line, &too_long)) {
    ++lines;
    if (!parser.Parse(line.data(), line.size(), FeedFormat::kAuto, &parsed, &error)) {
      engine.CountMalformed();
      continue;
    }
    engine.Apply(parsed, reader.line_number(), nullptr);
    if (engine.last_ts_ms() > now_ms) now_ms = engine.last_ts_ms();
    if (host_key.size() < engine.asset_count()) host_key.resize(engine.asset_count(), UINT32_MAX);
    for (uint32_t key : engine.touched()) {
      const AssetState& a = engine.asset(key);
      if (host_key[key] == UINT32_MAX) {
        host_key[key] = host.InternAsset(a.market, a.asset_id);
        catalog.AddObservedAsset(a.market, a.asset_id);
      }
      if (!host.HasSubscribers(host_key[key])) continue;
      BookMeta meta;
      meta.seq = a.seq;
      meta.ts_ms = a.last_update_ts_ms;
      meta.stale = a.stale;
      const size_t pending = host.pending_plans();
      const uint64_t a0 = ThreadAllocations();
      meta.event_ns = SteadyNs();
      host.DispatchBook(host_key[key], a.book, meta);
      const int64_t ns = SteadyNs() - meta.event_ns;
      allocations_in_dispatch += ThreadAllocations() - a0;
      dispatch_ns.push_back(ns);
      if (host.pending_plans() > pending) planning_dispatch_ns.push_back(ns);
    }
    host.DispatchTimers(now_ms);
    for (const Plan& p : host.DrainPlans()) {
      ++plans;
      if (p.book_event_ns > 0 && p.planned_ns >= p.book_event_ns) plan_ns.push_back(p.planned_ns - p.book_event_ns);
      host.ForgetPlan(p.plan_id);
    }
    host.DrainCancels();
  }
  const double seconds = SecondsSince(t0);
  std::fprintf(stderr, "  %zu lines, %zu dispatches to %s, %" PRId64 " plans (%zu timed), %" PRIu64
                       " operator new calls inside DispatchBook (%.2f per dispatch), %.1fs\n",
               lines, dispatch_ns.size(), name.c_str(), plans, plan_ns.size(), allocations_in_dispatch,
               dispatch_ns.empty() ? 0.0 : static_cast<double>(allocations_in_dispatch) / dispatch_ns.size(), seconds);
  PrintLatencyRow("`" + name + "`: book event → plan submitted (`planned_ns − book_event_ns`), in-process",
                  ComputePercentiles(std::move(plan_ns)));
  PrintLatencyRow("`" + name + "`: one `DispatchBook` that submitted a plan (whole `on_book`), in-process",
                  ComputePercentiles(std::move(planning_dispatch_ns)));
  const double allocs_per_dispatch =
      dispatch_ns.empty() ? 0.0 : static_cast<double>(allocations_in_dispatch) / static_cast<double>(dispatch_ns.size());
  PrintLatencyRow("`" + name + "`: one `DispatchBook` (its `on_book`), every dispatched book, in-process; " +
                      Fixed(allocs_per_dispatch, 2) + " operator new calls per dispatch",
                  ComputePercentiles(std::move(dispatch_ns)));
  return plans > 0 ? 0 : 1;
}

}  // namespace polyhost::bench

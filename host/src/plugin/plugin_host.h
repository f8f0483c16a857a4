// Loads strategy plugins and talks to them through the C ABI of
// sdk/include/polyhost/abi (the contract: docs/abi.md).
//
// A PluginHost
//   - finds a plugin by path or by name in a list of directories, loads it with
//     Boost.DLL (RTLD_NOW | RTLD_LOCAL), reads `polyhost_plugin_entry`, refuses
//     another ABI major with a log line naming both versions;
//   - gives each instance its own host-services table (ph_host) whose C callbacks
//     land in this object through host_data;
//   - drives the lifecycle: create -> init (in Load) -> activate -> callbacks ->
//     deactivate -> destroy;
//   - dispatches books (zero-copy views over OrderBook's arrays), trades, status
//     changes, order updates, fills and timers to the plugins that want them;
//   - copies every submitted plan out of the plugin's memory into a bounded,
//     host-owned queue (DrainPlans) and cancel requests into another;
//   - checks every call into a plugin: an error result, a C++ exception reaching
//     the boundary, or a plan-sink overflow disables that plugin (log line, its
//     undrained plans dropped, a cancel-all queued for it, destroy called) while
//     the others continue.
//
// Thread: a PluginHost lives on the strategy thread; call every method there.
// The log, metric and clock callbacks in the options may be called from any
// thread (plugins may log from their own threads) and must be thread-safe.
// A segfault inside a plugin is fatal for the process: there is no isolation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "book/order_book.h"
#include "exec/plan.h"
#include "polyhost/abi/entry.h"

namespace polyhost {

// ---- configuration handed to a plugin ([plugin.<name>] keys) -------------------

enum class PluginValueKind : uint8_t { kString, kInteger, kFloat, kBool, kOther };

// One value: its kind and its text ("abc", "5", "0.02", "true", or TOML text for
// kOther). Mirrors config/config.h's PluginSetting (kDateTime/kArray -> kOther).
struct PluginConfigValue {
  PluginValueKind kind = PluginValueKind::kString;
  std::string text;
};
using PluginConfig = std::map<std::string, PluginConfigValue, std::less<>>;

// ---- what the host tells the loader --------------------------------------------

enum class PluginLogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError };
const char* PluginLogLevelName(PluginLogLevel level);

struct PluginLogLine {
  PluginLogLevel level = PluginLogLevel::kInfo;
  std::string_view plugin;   // the plugin concerned; empty for general loader lines
  bool from_plugin = false;  // true: the plugin's own host->log; false: the loader's
  std::string_view message;
};
using PluginLogSink = std::function<void(const PluginLogLine&)>;

enum class PluginMetricKind : uint8_t { kCounter, kGauge };
using PluginMetricSink =
    std::function<void(std::string_view plugin, std::string_view name, PluginMetricKind kind, int64_t value)>;

struct PluginHostOptions {
  // Where Load(name) looks, in order: <dir>/<name>.so, <dir>/lib<name>.so,
  // <dir>/<name>/<name>.so.
  std::vector<std::filesystem::path> search_dirs;
  // Plans one plugin may have in the queue between two DrainPlans(); one more is
  // PH_ERR_SINK_FULL and disables it.
  size_t max_pending_plans = 128;
  size_t max_legs = 16;  // per plan
  size_t max_log_bytes = 4096;  // longer plugin log lines are truncated
  std::string host_version = "dev";  // shown to plugins as ph_host.host_version
  PluginLogSink log;          // default: one line on stderr
  PluginMetricSink metric;    // default: dropped
  std::function<int64_t()> clock;  // ms since epoch; default: the system clock
  bool unload_libraries = true;    // dlclose on destruction (false keeps symbols for leak reports)
  // The plugin watchdog (plugin_watchdog.h, docs/reliability.md), 0 = off: a call
  // running past call_budget_ms gets its plugin disabled when it returns; one
  // running past call_hard_limit_ms ends the process (exit 1) with a message.
  int64_t call_budget_ms = 0;
  int64_t call_hard_limit_ms = 0;
};

// Meta-data of a book at dispatch time.
struct BookMeta {
  int64_t seq = 0;           // host sequence of the asset
  int64_t resync_count = 0;
  int64_t ts_ms = 0;         // venue timestamp of the last applied event
  bool stale = false;
  int64_t event_ns = 0;      // steady-clock ns of the frame; copied to Plan::book_event_ns
};

// How get_book reaches the host's books: fills *out and returns true, or false
// when the host has no book for that asset.
struct BookRef {
  const OrderBook* book = nullptr;
  BookMeta meta;
};
using BookProvider = std::function<bool(std::string_view market, std::string_view asset_id, BookRef* out)>;

struct TradePrint {
  std::optional<Side> taker_side;  // kBid = buy
  int64_t price = 0;
  int64_t size = 0;
  int64_t fee_rate_bps = 0;
  int64_t ts_ms = 0;
};

enum class AssetStatusKind : uint8_t { kStale, kResynced, kMarketClosed };

enum class PluginOrderEvent : uint8_t {
  kPlanAccepted, kPlanRejected, kAcked, kRejected, kPartiallyFilled, kFilled, kCancelled
};

// Routed to the plugin that submitted plan_id; side, asset, price and size are
// filled in from the plan the host recorded at submit time.
struct PluginOrderUpdate {
  int64_t plan_id = 0;
  PluginOrderEvent event = PluginOrderEvent::kPlanAccepted;
  std::optional<uint32_t> leg_index;  // nullopt: about the whole plan
  std::string order_id;               // empty until acked
  int64_t filled_size = 0;            // cumulative
  std::string reason;
  bool dry_run = false;
  int64_t ts_ms = 0;                  // 0: the host clock now
};

struct PluginFill {
  int64_t plan_id = 0;
  uint32_t leg_index = 0;
  std::string order_id;
  std::string trade_id;
  int64_t price = 0;
  int64_t size = 0;
  int64_t fee_micros = 0;
  bool maker = false;
  bool simulated = false;
  int64_t ts_ms = 0;  // 0: the host clock now
};

// A plugin's request to cancel some of its own orders (ph_cancel_request), or
// the loader's cancel-all for a plugin it disabled.
struct PluginCancelRequest {
  enum class Scope : uint8_t { kAll, kPlan, kAsset, kOrder };
  std::string plugin;
  Scope scope = Scope::kAll;
  int64_t plan_id = 0;   // kPlan
  std::string market;    // kAsset
  std::string asset_id;  // kAsset
  std::string order_id;  // kOrder
  std::string reason;
};

// ---- what the loader tells the host ---------------------------------------------

enum class PluginState : uint8_t {
  kInitialized,  // created and init() succeeded
  kActive,       // activate() succeeded: receives callbacks
  kInactive,     // deactivate() called
  kFailed,       // refused at load, or disabled after a failed call; see failure
  kUnloaded,     // destroyed by Shutdown()
};
const char* PluginStateName(PluginState state);

struct PluginInfo {
  std::string name;          // the name it was loaded as ([plugin.<name>])
  std::string id;            // descriptor id
  std::string display_name;  // descriptor name
  std::string version;       // the plugin's own version
  std::string vendor;
  std::string description;
  std::string abi_version;   // "1.0.0"; empty when unknown
  std::string path;
  PluginState state = PluginState::kFailed;
  std::string failure;       // why it failed; empty otherwise
  size_t subscriptions = 0;
  uint64_t plans_submitted = 0;
  uint64_t callbacks = 0;
};

struct PluginLoadResult {
  bool ok = false;
  size_t index = 0;   // into ListPlugins(); failed loads are listed too
  std::string error;  // the failure, also logged
};

struct AssetKey {
  std::string market;
  std::string asset_id;
  friend bool operator==(const AssetKey&, const AssetKey&) = default;
};

// "1.0.0"
std::string FormatAbiVersion(const ph_version& v);

// Returns "" when the entry can be used by this host, else why not. The version
// mismatch message is "plugin '<name>' (ABI 2.0.0) is not compatible with this
// host (ABI 1.0.0): ...".
std::string CheckPluginEntry(const ph_plugin_entry* entry, std::string_view name);

// The first existing <dir>/<name>.so, <dir>/lib<name>.so, <dir>/<name>/<name>.so
// over dirs in order; every candidate is appended to *tried when not null.
std::optional<std::filesystem::path> FindPluginFile(std::string_view name,
                                                    std::span<const std::filesystem::path> dirs,
                                                    std::vector<std::string>* tried = nullptr);

class PluginHost {
 public:
  explicit PluginHost(PluginHostOptions options = {});
  ~PluginHost();  // Shutdown(), then unloads the libraries
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // ---- setup (before Load) ----
  void SetBookProvider(BookProvider provider) { book_provider_ = std::move(provider); }
  // A host extension returned by ph_host.get_extension(id); `table` must outlive
  // this object. Register before loading plugins (get_extension is any-thread).
  void RegisterExtension(std::string id, const void* table);
  // Restricts the plugin instance `instance_name` (loaded later) to the assets of
  // `markets` (run-service's per-[[markets]] `plugins`). Enforced when it
  // subscribes, never on dispatch: a subscription by name to an asset of another
  // market is ignored (debug log, PH_OK), and its wildcard ("*", "*") becomes
  // subscriptions by name to every asset of these markets the host knows or
  // learns later (InternAsset). Without a call the plugin may subscribe to any
  // asset. An empty list allows no market.
  void RestrictMarkets(std::string instance_name, std::vector<std::string> markets);

  // ---- lifecycle ----
  // Loads, creates and initialises a plugin. `spec` is a path (it contains '/'
  // or ends in ".so") or a name looked up in options.search_dirs. The instance is
  // known as `instance_name`, by default the name (or, for a path, the file name
  // without "lib" and ".so"); it must be unique. On failure the plugin is still
  // listed (state kFailed) and the reason logged.
  PluginLoadResult Load(std::string_view spec, PluginConfig config = {}, std::string_view instance_name = {});
  // The same for an entry already in memory (a plugin linked into the host, or a
  // test double). `path` is only shown in ListPlugins().
  PluginLoadResult LoadEntry(std::string_view name, const ph_plugin_entry* entry, PluginConfig config = {},
                             std::string_view path = "(built-in)");
  // activate() every initialised/inactive plugin; deactivate() every active one.
  void ActivateAll();
  void DeactivateAll();
  bool Activate(size_t index);
  bool Deactivate(size_t index);
  // Disables a plugin on the host's initiative (operator command, kill switch).
  void Disable(size_t index, std::string reason);
  // Disables a plugin when its current call into it returns (the call's own
  // failure path: a host service it misused, a watchdog overrun). The first
  // reason wins. [strategy-thread]
  void FailOnReturn(size_t index, std::string reason);
  // Deactivates and destroys every instance (libraries stay loaded until the
  // destructor). Idempotent.
  void Shutdown();

  // ---- assets and subscriptions ----
  // A stable key for (market, asset_id), created on first use.
  uint32_t InternAsset(std::string_view market, std::string_view asset_id);
  std::optional<uint32_t> FindAsset(std::string_view market, std::string_view asset_id) const;
  const AssetKey& Asset(uint32_t key) const { return assets_[key]->key; }
  // True when at least one plugin wants this asset's events: one that
  // subscribed to it, or one with the wildcard subscription (see WantsAllAssets).
  bool HasSubscribers(uint32_t asset) const {
    return asset < hot_assets_.size() && (hot_assets_[asset].live > 0 || wildcard_live_ > 0);
  }
  // Every asset at least one plugin subscribes to by name, in key order. The
  // wildcard subscription is not listed here: check WantsAllAssets().
  std::vector<AssetKey> SubscribedAssets() const;
  // True when at least one plugin subscribed to every asset (subscribe("*", "*"),
  // PH_SUBSCRIBE_ALL): the run loop should then dispatch every asset it has,
  // not only SubscribedAssets(). Such a plugin receives on_book/on_trade/on_status
  // for every asset (after the asset's named subscribers; never twice when it also
  // subscribed by name) and may get_book any asset.
  bool WantsAllAssets() const { return wildcard_live_ > 0; }
  // Grows whenever the set of subscriptions changes.
  uint64_t subscription_generation() const { return subscription_generation_; }

  // ---- dispatch (only active plugins receive anything) ----
  // on_book for every subscriber of `asset`, in subscription order. The view
  // points straight into book.bids()/asks(): no copy, no allocation.
  void DispatchBook(uint32_t asset, const OrderBook& book, const BookMeta& meta);
  void DispatchTrade(uint32_t asset, const TradePrint& trade);
  void DispatchStatus(uint32_t asset, AssetStatusKind status, const BookMeta& meta);
  // To the plugin that submitted update.plan_id (dropped when unknown).
  void DispatchOrderUpdate(const PluginOrderUpdate& update);
  void DispatchFill(const PluginFill& fill);
  // on_timer for every plugin whose interval elapsed at now_ms (host clock).
  void DispatchTimers(int64_t now_ms);
  // The earliest pending timer deadline, if any.
  std::optional<int64_t> NextTimerMs() const;

  // ---- what the plugins asked for ----
  // Plans in submission order; resets every plugin's sink.
  std::vector<Plan> DrainPlans();
  std::vector<PluginCancelRequest> DrainCancels();
  size_t pending_plans() const { return plans_.size(); }
  // Forgets the routing record of a plan whose orders are all closed (plans
  // rejected by the gate are forgotten automatically).
  void ForgetPlan(int64_t plan_id);

  // ---- inspection ----
  std::vector<PluginInfo> ListPlugins() const;
  size_t plugin_count() const { return slots_.size(); }
  // The instance name behind a ph_host table this object handed out (for
  // extension implementations); empty when it is not one of ours.
  std::string_view PluginNameOf(const ph_host* host) const;

 private:
  struct Slot;
  struct Services;
  struct AssetEntry {
    AssetKey key;
    std::vector<uint32_t> subscribers;  // slot indexes, subscription order; kNoSlot = removed
  };
  // What DispatchBook reads, kept apart from AssetEntry and Slot: one book
  // update touches one cache line of its asset and a small array of slots.
  // The pointer chases through AssetEntry, its subscriber vector and Slot were
  // most of the dispatch cost (docs/performance.md). Derived data: SyncAsset
  // and SyncSlot rebuild them whenever subscriptions or plugin states change.
  struct SlotHot;
  static constexpr uint32_t kInlineSubscribers = 6;
  static constexpr uint32_t kSpilled = 0xFFFFFFFFu;  // AssetHot::count: read AssetEntry::subscribers
  struct alignas(64) AssetHot {
    const char* market = nullptr;    // AssetEntry::key strings (the entry never moves)
    const char* asset_id = nullptr;
    uint32_t market_len = 0;
    uint32_t asset_id_len = 0;
    // The subscriber DispatchBook calls without a loop: the one live named
    // subscriber when there is exactly one, it is active with an on_book, and
    // no wildcard subscriber is live; else null (the general path). Points into
    // hot_slots_; kept by SyncAsset, which SyncSlot and a change of
    // wildcard_live_ between 0 and not 0 call as well.
    SlotHot* lone = nullptr;
    uint32_t live = 0;               // named subscribers still subscribed
    uint32_t count = 0;              // entries of AssetEntry::subscribers, or kSpilled when more than fit
    uint32_t subscribers[kInlineSubscribers] = {};  // the first kInlineSubscribers of them
  };
  static_assert(sizeof(AssetHot) == 64, "one cache line per asset");
  struct SlotHot {
    decltype(ph_plugin::on_book) on_book = nullptr;  // null unless the plugin is active and has on_book
    const ph_plugin* plugin = nullptr;
    Slot* slot = nullptr;
    uint64_t callbacks = 0;        // calls into the plugin, any callback
    bool pending_failure = false;  // Slot::pending_failure is set
    bool named = false;            // Slot::subscriptions is not empty (the wildcard loop skips the lookup)
  };
  struct PlanRecord {
    uint32_t slot = 0;
    std::string client_tag;
    std::vector<PlanLeg> legs;
  };

  PluginLoadResult Instantiate(std::string name, std::string path, std::shared_ptr<void> library,
                               const ph_plugin_entry* entry, PluginConfig config);
  PluginLoadResult RefuseLoad(std::string name, std::string path, std::string error, const ph_version* abi);
  template <class Call>
  bool Invoke(Slot& slot, const char* what, Call&& call);
  void Fail(Slot& slot, std::string reason);
  void DestroyInstance(Slot& slot);
  void RemoveSubscription(Slot& slot, uint32_t asset);
  void RemoveSubscriptions(Slot& slot);
  void RemoveWildcard(Slot& slot);
  void AddSubscription(Slot& slot, uint32_t asset);
  void SubscribeMarketWildcard(Slot& slot);
  template <class Fn>
  void ForEachSubscriber(uint32_t asset, Fn&& fn);
  void Compact();
  bool Active(const Slot& slot) const;
  void SetState(Slot& slot, PluginState state);
  void SyncSlot(const Slot& slot);
  void SyncAsset(uint32_t key);
  void SyncAllAssets();  // wildcard_live_ changed between 0 and not 0, or hot_slots_ moved
  void RegisterThenDispatchBook(uint32_t asset, const OrderBook& book, const BookMeta& meta);
  void DispatchBookToAll(uint32_t asset, const OrderBook& book, const BookMeta& meta);
  void CallOnBook(SlotHot& slot, const ph_book_view& view, uint64_t outer);
  void CallBookSubscribers(uint32_t asset, const ph_book_view& view, uint64_t outer);
  void DisableIfOverBudget(Slot& slot);  // the watchdog flagged slot's on_book call
  bool FailThrown(Slot& slot, const char* what);
  bool FinishCall(Slot& slot, const char* what, ph_result rc);
  void Log(PluginLogLevel level, std::string_view plugin, std::string_view message, bool from_plugin = false) const;
  int64_t Now() const;
  static ph_book_view MakeView(const AssetHot& asset, const OrderBook& book, const BookMeta& meta);
  bool NameTaken(std::string_view name) const;

  PluginHostOptions options_;
  BookProvider book_provider_;
  std::map<std::string, const void*, std::less<>> extensions_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::unique_ptr<AssetEntry>> assets_;
  std::vector<AssetHot> hot_assets_;  // by asset key
  std::vector<SlotHot> hot_slots_;    // by slot index
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  // asset_id -> keys of the assets with that id (normally one)
  std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>> assets_by_id_;
  std::vector<uint32_t> dirty_assets_;  // with removed subscribers to compact
  // Slots subscribed to every asset, subscription order (kNoSlot = removed, compacted later).
  std::vector<uint32_t> wildcard_subscribers_;
  uint32_t wildcard_live_ = 0;
  bool wildcard_dirty_ = false;
  // RestrictMarkets: instance name -> allowed markets (sorted), applied at load.
  std::map<std::string, std::vector<std::string>, std::less<>> market_allow_lists_;
  // Restricted slots with the wildcard: InternAsset subscribes them to new assets
  // of their markets (cold path only; the hot dispatch never looks at it).
  std::vector<uint32_t> market_wildcard_slots_;
  int dispatch_depth_ = 0;
  uint64_t subscription_generation_ = 0;
  std::vector<Plan> plans_;
  std::vector<PluginCancelRequest> cancels_;
  std::unordered_map<int64_t, PlanRecord> plan_records_;
  int64_t next_plan_id_ = 1;
  int64_t current_event_ns_ = 0;
  std::unique_ptr<class PluginWatchdog> watchdog_;  // when options_ set a budget or hard limit
};

}  // namespace polyhost

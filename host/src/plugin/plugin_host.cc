#include "plugin/plugin_host.h"

#include <dlfcn.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>

#include <boost/dll/shared_library.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/decimal.h"
#include "plugin/plugin_watchdog.h"

namespace polyhost {

// The zero-copy book view relies on this: the host's levels ARE ph_level arrays.
static_assert(sizeof(Level) == sizeof(ph_level), "polyhost::Level must be layout-compatible with ph_level");
static_assert(alignof(Level) == alignof(ph_level), "polyhost::Level must be layout-compatible with ph_level");
static_assert(offsetof(Level, price) == offsetof(ph_level, price), "polyhost::Level.price offset");
static_assert(offsetof(Level, size) == offsetof(ph_level, size), "polyhost::Level.size offset");
static_assert(std::is_standard_layout_v<Level> && std::is_trivially_copyable_v<Level>);
static_assert(std::is_same_v<decltype(Level::price), decltype(ph_level::price)> &&
              std::is_same_v<decltype(Level::size), decltype(ph_level::size)>);

namespace {

constexpr uint32_t kNoSlot = 0xFFFFFFFFu;

// ABI 1.0 sizes (see plugin_loader.cc): the least a major-1 plugin may provide.
constexpr size_t kPluginV1Size = offsetof(ph_plugin, get_extension) + sizeof(ph_plugin::get_extension);
constexpr size_t kPlanV1Size = offsetof(ph_plan, reason) + sizeof(ph_plan::reason);
constexpr size_t kLegV1Size = offsetof(ph_plan_leg, size) + sizeof(ph_plan_leg::size);
constexpr size_t kBookViewV1Size = offsetof(ph_book_view, reserved1) + sizeof(ph_book_view::reserved1);
constexpr size_t kCancelV1Size = offsetof(ph_cancel_request, reason) + sizeof(ph_cancel_request::reason);

// The slot whose plugin this thread is currently executing, if any. [strategy-thread]
// host services check it: they are only valid from inside a call into that plugin.
// It is the watchdog's beacon (plugin_watchdog.h): one thread-local word says
// both, so a call into a plugin stores one word on entry and one on exit.
[[gnu::always_inline]] inline const void* InCallSlot() { return PluginCallSlot(); }

// Why the watchdog disabled a plugin (plugin_watchdog.h).
std::string OverBudgetReason(int64_t ms) {
  return "ran past its time budget (" + std::to_string(ms) + " ms or more; [plugins] call_budget_ms)";
}

// Records the slot being called for the length of one call into a plugin (calls
// nest): in the plugin watchdog's beacon (plugin_watchdog.h), a few relaxed
// stores, no clock. When the watchdog flagged the call as past its time budget,
// the plugin is disabled as the call returns: the failure is left pending
// (Slot::pending_failure), acted on by Invoke like any failure.
// (Templated on the slot type only because PluginHost::Slot is private.)
class CallScope {
 public:
  template <class SlotT>
  [[gnu::always_inline]] explicit CallScope(SlotT* slot) : slot_(slot), previous_(SavePluginCall()) {
    disable_ = [](const void* s, int64_t ms) {
      const SlotT* owner_slot = static_cast<const SlotT*>(s);
      owner_slot->owner->FailOnReturn(owner_slot->index, OverBudgetReason(ms));
    };
    NotePluginCallEnter(slot);
  }
  explicit CallScope(std::nullptr_t) : slot_(nullptr), previous_(SavePluginCall()) { NotePluginCallEnter(nullptr); }
  [[gnu::always_inline]] ~CallScope() {
    if (RestorePluginCall(previous_)) [[unlikely]] Overrun(slot_, disable_);
  }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  [[gnu::noinline]] static void Overrun(const void* slot, void (*disable)(const void*, int64_t)) {
    if (const int64_t ms = TakePluginCallOverrun(slot); ms > 0 && disable != nullptr) disable(slot, ms);
  }

  const void* slot_;
  void (*disable_)(const void* slot, int64_t elapsed_ms) = nullptr;
  uint64_t previous_;  // the beacon word of the enclosing call, put back as it was (RestorePluginCall)
};

bool Empty(const char* s) { return s == nullptr || *s == '\0'; }

// subscribe("*", "*") is the wildcard (PH_SUBSCRIBE_ALL); "*" in only one of the
// two is reserved and refused.
enum WildcardKind { kNotWildcard, kAll, kBadWildcard };
WildcardKind Wildcard(const char* market, const char* asset_id) {
  const bool m = std::strcmp(market, PH_SUBSCRIBE_ALL) == 0;
  const bool a = std::strcmp(asset_id, PH_SUBSCRIBE_ALL) == 0;
  if (m && a) return kAll;
  return m || a ? kBadWildcard : kNotWildcard;
}

std::string ResultText(ph_result rc) {
  if (rc > 0) return "an invalid result code " + std::to_string(rc) + " (results are 0 or negative)";
  return std::string(ph_result_name(rc)) + " (" + std::to_string(rc) + ")";
}

bool ParseInt(std::string_view text, int64_t* out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  *out = v;
  return true;
}

bool ValidMetricName(const char* name) {
  if (Empty(name)) return false;
  size_t n = 0;
  for (const char* p = name; *p != '\0'; ++p, ++n) {
    const char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    if (n >= 128) return false;
  }
  return true;
}

bool ValidPluginName(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

ph_side ToAbiSide(Side side) { return side == Side::kBid ? PH_SIDE_BUY : PH_SIDE_SELL; }

ph_order_update_kind ToAbiKind(PluginOrderEvent event) {
  switch (event) {
    case PluginOrderEvent::kPlanAccepted: return PH_ORDER_PLAN_ACCEPTED;
    case PluginOrderEvent::kPlanRejected: return PH_ORDER_PLAN_REJECTED;
    case PluginOrderEvent::kAcked: return PH_ORDER_ACKED;
    case PluginOrderEvent::kRejected: return PH_ORDER_REJECTED;
    case PluginOrderEvent::kPartiallyFilled: return PH_ORDER_PARTIALLY_FILLED;
    case PluginOrderEvent::kFilled: return PH_ORDER_FILLED;
    case PluginOrderEvent::kCancelled: return PH_ORDER_CANCELLED;
  }
  return PH_ORDER_PLAN_REJECTED;
}

ph_asset_status ToAbiStatus(AssetStatusKind status) {
  switch (status) {
    case AssetStatusKind::kStale: return PH_ASSET_STALE;
    case AssetStatusKind::kResynced: return PH_ASSET_RESYNCED;
    case AssetStatusKind::kMarketClosed: return PH_ASSET_MARKET_CLOSED;
  }
  return PH_ASSET_STALE;
}

const char* CStrOrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void DefaultLogSink(const PluginLogLine& line) {
  std::string text = "[plugin] ";
  text += PluginLogLevelName(line.level);
  text += ' ';
  if (!line.plugin.empty()) {
    text += line.plugin;
    text += line.from_plugin ? ": " : " (host): ";
  }
  text += line.message;
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
}

// The dynamic loader's own explanation (Boost.DLL drops it): undefined symbols,
// wrong architecture, missing dependencies.
std::string DlopenError(const std::filesystem::path& path) {
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle != nullptr) {
    ::dlclose(handle);
    return "unknown error";
  }
  const char* err = ::dlerror();
  return err != nullptr ? err : "unknown error";
}

// Libraries kept loaded for the life of the process (options.unload_libraries =
// false). Reachable from a global, so leak checkers do not report them.
void RetainForever(std::shared_ptr<void> library) {
  static std::mutex mutex;
  static auto* retained = new std::vector<std::shared_ptr<void>>();
  std::lock_guard<std::mutex> lock(mutex);
  retained->push_back(std::move(library));
}

}  // namespace

// ---- one loaded (or refused) plugin ---------------------------------------------

struct PluginHost::Slot {
  PluginHost* owner = nullptr;
  uint32_t index = 0;
  std::string name;
  std::string path;
  std::string id, display_name, version, vendor, description;
  std::optional<ph_version> abi;
  PluginState state = PluginState::kFailed;
  std::string failure;
  PluginConfig config;
  std::shared_ptr<void> library;  // keeps the shared object mapped
  ph_host table{};                // what this instance was given
  const ph_plugin* plugin = nullptr;
  ph_plugin fns{};                // the plugin's table as this host understands it (unknown tail dropped,
                                  // missing tail NULL)
  std::vector<uint32_t> subscriptions;  // asset keys, sorted
  bool wildcard = false;                // subscribed to every asset ("*", "*")
  // RestrictMarkets: the markets (sorted) this plugin may subscribe to; unset = any.
  std::optional<std::vector<std::string>> allowed_markets;
  bool market_wildcard = false;         // restricted wildcard: by name to every allowed asset
  std::vector<uint32_t> wildcard_keys;  // sorted: the subscriptions market_wildcard made (not asked by name)
  size_t pending_plans = 0;
  uint64_t plans_submitted = 0;
  int64_t timer_interval_ms = 0;
  int64_t next_timer_ms = 0;
  std::string pending_failure;  // set by a host service during a call; acted on when it returns

  bool Subscribed(uint32_t key) const { return std::binary_search(subscriptions.begin(), subscriptions.end(), key); }
  bool ByWildcard(uint32_t key) const { return std::binary_search(wildcard_keys.begin(), wildcard_keys.end(), key); }
  bool AllowsMarket(std::string_view market) const {
    return !allowed_markets ||
           std::binary_search(allowed_markets->begin(), allowed_markets->end(), market, std::less<>{});
  }
};

// ---- the host-services table: C callbacks into PluginHost -------------------------

struct PluginHost::Services {
  // Runs the body of a host service; no C++ exception may cross back into the
  // plugin, so they become result codes here.
  template <class Body>
  static ph_result Guarded(Body&& body) noexcept {
    try {
      return body();
    } catch (const std::bad_alloc&) {
      return PH_ERR_OUT_OF_MEMORY;
    } catch (...) {
      return PH_ERR_INTERNAL;
    }
  }

  static Slot* SlotOf(const ph_host* h) { return h != nullptr ? static_cast<Slot*>(h->host_data) : nullptr; }
  static bool InCall(const Slot* s) { return s != nullptr && InCallSlot() == s; }

  static void Log(const ph_host* h, ph_log_level level, const char* message) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr || message == nullptr) return;
    try {
      PluginLogLevel l = PluginLogLevel::kInfo;
      if (level <= PH_LOG_TRACE) l = PluginLogLevel::kTrace;
      else if (level == PH_LOG_DEBUG) l = PluginLogLevel::kDebug;
      else if (level == PH_LOG_INFO) l = PluginLogLevel::kInfo;
      else if (level == PH_LOG_WARN) l = PluginLogLevel::kWarn;
      else l = PluginLogLevel::kError;
      std::string_view text(message);
      std::string truncated;
      const size_t max = s->owner->options_.max_log_bytes;
      if (max > 0 && text.size() > max) {
        size_t n = max;
        while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
        truncated.assign(text.substr(0, n));
        truncated += "... [truncated, " + std::to_string(text.size()) + " bytes]";
        text = truncated;
      }
      s->owner->Log(l, s->name, text, /*from_plugin=*/true);
    } catch (...) {
    }
  }

  static int64_t NowMs(const ph_host* h) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr) return 0;
    try {
      return s->owner->Now();
    } catch (...) {
      return 0;
    }
  }

  static const PluginConfigValue* Find(const ph_host* h, const char* key) {
    Slot* s = SlotOf(h);
    if (s == nullptr || key == nullptr) return nullptr;
    auto it = s->config.find(std::string_view(key));
    return it == s->config.end() ? nullptr : &it->second;
  }

  static ph_result ConfigString(const ph_host* h, const char* key, const char** out) noexcept {
    if (SlotOf(h) == nullptr || key == nullptr || out == nullptr) return PH_ERR_INVALID_ARGUMENT;
    const PluginConfigValue* v = Find(h, key);
    if (v == nullptr) return PH_ERR_NOT_FOUND;
    *out = v->text.c_str();
    return PH_OK;
  }

  static ph_result ConfigInt(const ph_host* h, const char* key, int64_t* out) noexcept {
    if (SlotOf(h) == nullptr || key == nullptr || out == nullptr) return PH_ERR_INVALID_ARGUMENT;
    const PluginConfigValue* v = Find(h, key);
    if (v == nullptr) return PH_ERR_NOT_FOUND;
    if (v->kind != PluginValueKind::kInteger && v->kind != PluginValueKind::kString) return PH_ERR_WRONG_TYPE;
    return ParseInt(v->text, out) ? PH_OK : PH_ERR_WRONG_TYPE;
  }

  static ph_result ConfigMicros(const ph_host* h, const char* key, int64_t* out) noexcept {
    if (SlotOf(h) == nullptr || key == nullptr || out == nullptr) return PH_ERR_INVALID_ARGUMENT;
    const PluginConfigValue* v = Find(h, key);
    if (v == nullptr) return PH_ERR_NOT_FOUND;
    if (v->kind == PluginValueKind::kBool || v->kind == PluginValueKind::kOther) return PH_ERR_WRONG_TYPE;
    int64_t micros = 0;
    if (ParseDecimal(v->text, &micros, /*allow_negative=*/true) != DecimalError::kOk) return PH_ERR_WRONG_TYPE;
    *out = micros;
    return PH_OK;
  }

  static ph_result ConfigBool(const ph_host* h, const char* key, int32_t* out) noexcept {
    if (SlotOf(h) == nullptr || key == nullptr || out == nullptr) return PH_ERR_INVALID_ARGUMENT;
    const PluginConfigValue* v = Find(h, key);
    if (v == nullptr) return PH_ERR_NOT_FOUND;
    if (v->kind != PluginValueKind::kBool && v->kind != PluginValueKind::kString) return PH_ERR_WRONG_TYPE;
    if (v->text == "true") {
      *out = 1;
    } else if (v->text == "false") {
      *out = 0;
    } else {
      return PH_ERR_WRONG_TYPE;
    }
    return PH_OK;
  }

  static ph_result Metric(const ph_host* h, const char* name, ph_metric_kind kind, int64_t value) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr || !ValidMetricName(name)) return PH_ERR_INVALID_ARGUMENT;
    if (kind != PH_METRIC_COUNTER && kind != PH_METRIC_GAUGE) return PH_ERR_INVALID_ARGUMENT;
    if (kind == PH_METRIC_COUNTER && value < 0) return PH_ERR_INVALID_ARGUMENT;
    const PluginMetricSink& sink = s->owner->options_.metric;
    if (!sink) return PH_OK;
    return Guarded([&]() -> ph_result {
      sink(s->name, name, kind == PH_METRIC_COUNTER ? PluginMetricKind::kCounter : PluginMetricKind::kGauge, value);
      return PH_OK;
    });
  }

  static ph_result Subscribe(const ph_host* h, const char* market, const char* asset_id) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (!InCall(s)) return PH_ERR_WRONG_STATE;
    if (Empty(market) || Empty(asset_id)) return PH_ERR_INVALID_ARGUMENT;
    return Guarded([&]() -> ph_result {
      PluginHost& host = *s->owner;
      switch (Wildcard(market, asset_id)) {
        case kNotWildcard: break;
        case kBadWildcard: return PH_ERR_INVALID_ARGUMENT;
        case kAll:
          if (s->allowed_markets) {
            host.SubscribeMarketWildcard(*s);
            return PH_OK;
          }
          if (s->wildcard) return PH_OK;
          host.wildcard_subscribers_.push_back(s->index);
          s->wildcard = true;
          if (host.wildcard_live_++ == 0) host.SyncAllAssets();  // no asset has a lone subscriber now
          ++host.subscription_generation_;
          return PH_OK;
      }
      if (!s->AllowsMarket(market)) {
        host.Log(PluginLogLevel::kDebug, s->name,
                 std::string("subscribe ") + market + "/" + asset_id +
                     " ignored: the market is not one of this plugin's [[markets]]");
        return PH_OK;
      }
      const uint32_t key = host.InternAsset(market, asset_id);
      if (s->Subscribed(key)) {
        // Asked by name now: it stays when the wildcard goes.
        auto w = std::lower_bound(s->wildcard_keys.begin(), s->wildcard_keys.end(), key);
        if (w != s->wildcard_keys.end() && *w == key) s->wildcard_keys.erase(w);
        return PH_OK;
      }
      host.AddSubscription(*s, key);
      return PH_OK;
    });
  }

  static ph_result Unsubscribe(const ph_host* h, const char* market, const char* asset_id) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (!InCall(s)) return PH_ERR_WRONG_STATE;
    if (Empty(market) || Empty(asset_id)) return PH_ERR_INVALID_ARGUMENT;
    return Guarded([&]() -> ph_result {
      PluginHost& host = *s->owner;
      switch (Wildcard(market, asset_id)) {
        case kNotWildcard: break;
        case kBadWildcard: return PH_ERR_INVALID_ARGUMENT;
        case kAll:
          if (!s->wildcard && !s->market_wildcard) return PH_ERR_NOT_SUBSCRIBED;
          host.RemoveWildcard(*s);
          return PH_OK;
      }
      const std::optional<uint32_t> key = host.FindAsset(market, asset_id);
      if (!key || !s->Subscribed(*key) || s->ByWildcard(*key)) return PH_ERR_NOT_SUBSCRIBED;
      host.RemoveSubscription(*s, *key);
      return PH_OK;
    });
  }

  static ph_result GetBook(const ph_host* h, const char* market, const char* asset_id, ph_book_view* out) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (!InCall(s)) return PH_ERR_WRONG_STATE;
    if (Empty(market) || Empty(asset_id) || out == nullptr || out->struct_size < kBookViewV1Size) {
      return PH_ERR_INVALID_ARGUMENT;
    }
    return Guarded([&]() -> ph_result {
      PluginHost& host = *s->owner;
      std::optional<uint32_t> key = host.FindAsset(market, asset_id);
      // The wildcard subscription reads any asset, even one no event named yet.
      const bool any = s->wildcard || (s->market_wildcard && s->AllowsMarket(market));
      if (!any && (!key || !s->Subscribed(*key))) return PH_ERR_NOT_SUBSCRIBED;
      if (!host.book_provider_) return PH_ERR_NOT_FOUND;
      BookRef ref;
      if (!host.book_provider_(market, asset_id, &ref) || ref.book == nullptr) return PH_ERR_NOT_FOUND;
      if (!key) key = host.InternAsset(market, asset_id);  // the view's strings live in the asset entry
      const ph_book_view view = MakeView(host.hot_assets_[*key], *ref.book, ref.meta);
      const uint32_t n = std::min<uint32_t>(out->struct_size, sizeof(view));
      std::memcpy(static_cast<void*>(out), &view, n);
      out->struct_size = n;
      return PH_OK;
    });
  }

  static ph_result SubmitPlan(const ph_host* h, const ph_plan* plan, uint64_t* out_plan_id) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (!InCall(s)) return PH_ERR_WRONG_STATE;
    return Guarded([&]() -> ph_result {
      PluginHost& host = *s->owner;
      auto refuse = [&](const std::string& why) {
        std::string tag = plan != nullptr && plan->client_tag != nullptr ? plan->client_tag : "";
        host.Log(PluginLogLevel::kWarn, s->name,
                 "plugin '" + s->name + "': plan '" + tag + "' refused at submit: " + why);
        return PH_ERR_INVALID_ARGUMENT;
      };
      if (plan == nullptr) return refuse("the plan is a null pointer");
      if (plan->struct_size < kPlanV1Size) {
        return refuse("struct_size " + std::to_string(plan->struct_size) + " is smaller than the ABI 1.0 ph_plan (" +
                      std::to_string(kPlanV1Size) + ")");
      }
      if (plan->leg_count == 0 || plan->leg_count > host.options_.max_legs) {
        return refuse(std::to_string(plan->leg_count) + " legs; 1 to " + std::to_string(host.options_.max_legs) +
                      " are allowed");
      }
      if (plan->legs == nullptr) return refuse("legs is a null pointer");
      if (plan->leg_struct_size < kLegV1Size) {
        return refuse("leg_struct_size " + std::to_string(plan->leg_struct_size) +
                      " is smaller than the ABI 1.0 ph_plan_leg (" + std::to_string(kLegV1Size) + ")");
      }
      Plan copy;
      copy.legs.reserve(plan->leg_count);
      const auto* base = reinterpret_cast<const unsigned char*>(plan->legs);
      for (uint32_t i = 0; i < plan->leg_count; ++i) {
        ph_plan_leg leg{};
        std::memcpy(&leg, base + static_cast<size_t>(i) * plan->leg_struct_size, kLegV1Size);
        const std::string where = "leg " + std::to_string(i) + ": ";
        if (Empty(leg.asset.market) || Empty(leg.asset.asset_id)) return refuse(where + "market and asset_id are required");
        if (leg.side != PH_SIDE_BUY && leg.side != PH_SIDE_SELL) {
          return refuse(where + "side " + std::to_string(leg.side) + " is not PH_SIDE_BUY or PH_SIDE_SELL");
        }
        TimeInForce tif;
        switch (leg.tif) {
          case PH_TIF_GTC: tif = TimeInForce::kGtc; break;
          case PH_TIF_IOC: tif = TimeInForce::kIoc; break;
          case PH_TIF_FOK: tif = TimeInForce::kFok; break;
          default: return refuse(where + "tif " + std::to_string(leg.tif) + " is not GTC, IOC or FOK");
        }
        if (leg.price <= 0 || leg.price >= kMicrosPerUnit) {
          return refuse(where + "price " + std::to_string(leg.price) + " micros is outside (0, 1000000)");
        }
        if (leg.size <= 0) return refuse(where + "size " + std::to_string(leg.size) + " micros must be positive");
        copy.legs.push_back(PlanLeg{leg.asset.market, leg.asset.asset_id,
                                    leg.side == PH_SIDE_BUY ? Side::kBid : Side::kAsk, leg.price, leg.size, tif});
      }
      if (s->pending_plans >= host.options_.max_pending_plans) {
        if (s->pending_failure.empty()) {
          host.hot_slots_[s->index].pending_failure = true;
          s->pending_failure = "plan sink overflow: more than " + std::to_string(host.options_.max_pending_plans) +
                               " plans submitted before the host drained them";
        }
        return PH_ERR_SINK_FULL;
      }
      copy.plan_id = host.next_plan_id_++;
      copy.plugin = s->name;
      if (plan->client_tag != nullptr) copy.client_tag = plan->client_tag;
      if (plan->reason != nullptr) copy.reason = plan->reason;
      copy.book_event_ns = host.current_event_ns_;
      copy.planned_ns = SteadyNowNs();
      host.plan_records_[copy.plan_id] = PlanRecord{s->index, copy.client_tag, copy.legs};
      const int64_t id = copy.plan_id;
      host.plans_.push_back(std::move(copy));
      ++s->pending_plans;
      ++s->plans_submitted;
      if (out_plan_id != nullptr) *out_plan_id = static_cast<uint64_t>(id);
      return PH_OK;
    });
  }

  static ph_result CancelOrders(const ph_host* h, const ph_cancel_request* req) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (!InCall(s)) return PH_ERR_WRONG_STATE;
    if (req == nullptr || req->struct_size < kCancelV1Size) return PH_ERR_INVALID_ARGUMENT;
    return Guarded([&]() -> ph_result {
      PluginHost& host = *s->owner;
      PluginCancelRequest c;
      c.plugin = s->name;
      if (req->reason != nullptr) c.reason = req->reason;
      switch (req->scope) {
        case PH_CANCEL_ALL:
          c.scope = PluginCancelRequest::Scope::kAll;
          break;
        case PH_CANCEL_PLAN: {
          const int64_t id = static_cast<int64_t>(req->plan_id);
          auto it = host.plan_records_.find(id);
          if (it == host.plan_records_.end() || it->second.slot != s->index) return PH_ERR_NOT_FOUND;
          c.scope = PluginCancelRequest::Scope::kPlan;
          c.plan_id = id;
          break;
        }
        case PH_CANCEL_ASSET:
          if (Empty(req->asset.market) || Empty(req->asset.asset_id)) return PH_ERR_INVALID_ARGUMENT;
          c.scope = PluginCancelRequest::Scope::kAsset;
          c.market = req->asset.market;
          c.asset_id = req->asset.asset_id;
          break;
        case PH_CANCEL_ORDER:
          if (Empty(req->order_id)) return PH_ERR_INVALID_ARGUMENT;
          c.scope = PluginCancelRequest::Scope::kOrder;
          c.order_id = req->order_id;
          break;
        default:
          return PH_ERR_INVALID_ARGUMENT;
      }
      host.cancels_.push_back(std::move(c));
      return PH_OK;
    });
  }

  static ph_result SetTimer(const ph_host* h, int64_t interval_ms) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (!InCall(s)) return PH_ERR_WRONG_STATE;
    if (interval_ms < 0) return PH_ERR_INVALID_ARGUMENT;
    try {
      s->timer_interval_ms = interval_ms;
      s->next_timer_ms = interval_ms > 0 ? s->owner->Now() + interval_ms : 0;
      return PH_OK;
    } catch (...) {
      return PH_ERR_INTERNAL;
    }
  }

  static const void* GetExtension(const ph_host* h, const char* id) noexcept {
    Slot* s = SlotOf(h);
    if (s == nullptr || id == nullptr) return nullptr;
    const auto& extensions = s->owner->extensions_;
    auto it = extensions.find(std::string_view(id));
    return it == extensions.end() ? nullptr : it->second;
  }
};

// ---- PluginHost -------------------------------------------------------------------

PluginHost::PluginHost(PluginHostOptions options) : options_(std::move(options)) {
  if (!options_.log) options_.log = DefaultLogSink;
  if (options_.call_budget_ms > 0 || options_.call_hard_limit_ms > 0) {
    PluginWatchdogOptions w;
    w.budget_ms = options_.call_budget_ms;
    w.hard_limit_ms = options_.call_hard_limit_ms;
    // From the watchdog thread, while the plugin is inside a call: its name does not change then.
    w.describe = [](const void* slot) { return "'" + static_cast<const Slot*>(slot)->name + "'"; };
    w.on_overrun = [this](const std::string& plugin, int64_t elapsed_ms) {
      Log(PluginLogLevel::kWarn, "",
          "plugin " + plugin + " has been in one call for " + std::to_string(elapsed_ms) + " ms, past its budget of " +
              std::to_string(options_.call_budget_ms) +
              " ms ([plugins] call_budget_ms); it is disabled when the call returns");
    };
    watchdog_ = std::make_unique<PluginWatchdog>(std::move(w));
  }
}

PluginHost::~PluginHost() {
  watchdog_.reset();  // before any slot goes away: the watchdog reads slots
  Shutdown();
  for (auto& slot : slots_) {
    if (slot->library && !options_.unload_libraries) RetainForever(std::move(slot->library));
  }
  slots_.clear();  // unloads the libraries (after every instance was destroyed)
}

void PluginHost::RegisterExtension(std::string id, const void* table) { extensions_[std::move(id)] = table; }

void PluginHost::Log(PluginLogLevel level, std::string_view plugin, std::string_view message,
                     bool from_plugin) const {
  try {
    options_.log(PluginLogLine{level, plugin, from_plugin, message});
  } catch (...) {
  }
}

int64_t PluginHost::Now() const { return options_.clock ? options_.clock() : SystemNowMs(); }

bool PluginHost::NameTaken(std::string_view name) const {
  return std::any_of(slots_.begin(), slots_.end(), [&](const auto& s) {
    return s->name == name && s->state != PluginState::kFailed && s->state != PluginState::kUnloaded;
  });
}

PluginLoadResult PluginHost::RefuseLoad(std::string name, std::string path, std::string error,
                                        const ph_version* abi) {
  auto slot = std::make_unique<Slot>();
  slot->owner = this;
  slot->index = static_cast<uint32_t>(slots_.size());
  slot->name = std::move(name);
  slot->path = std::move(path);
  if (abi != nullptr) slot->abi = *abi;
  slot->state = PluginState::kFailed;
  slot->failure = error;
  Log(PluginLogLevel::kError, slot->name, error);
  const size_t index = slot->index;
  slots_.push_back(std::move(slot));
  SyncSlot(*slots_.back());
  return {false, index, std::move(error)};
}

PluginLoadResult PluginHost::Load(std::string_view spec, PluginConfig config, std::string_view instance_name) {
  namespace fs = std::filesystem;
  const bool is_path = spec.find('/') != std::string_view::npos ||
                       (spec.size() > 3 && spec.substr(spec.size() - 3) == ".so");
  fs::path path;
  std::string name(instance_name);
  if (is_path) {
    path = fs::path(spec);
    if (name.empty()) {
      name = path.stem().string();
      if (name.size() > 3 && name.rfind("lib", 0) == 0) name.erase(0, 3);
    }
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return RefuseLoad(name, path.string(), "plugin '" + name + "': file not found: " + path.string(), nullptr);
    }
  } else {
    if (name.empty()) name = std::string(spec);
    if (!ValidPluginName(spec)) {
      return RefuseLoad(name, "", "plugin '" + std::string(spec) + "': not a valid plugin name (letters, digits, '_', '-', '.')",
                        nullptr);
    }
    std::vector<std::string> tried;
    std::optional<fs::path> found = FindPluginFile(spec, options_.search_dirs, &tried);
    if (!found) {
      std::string error = "plugin '" + std::string(spec) + "' not found";
      if (tried.empty()) {
        error += ": no plugin directories are configured ([plugins] dirs)";
      } else {
        error += "; looked for:";
        for (const std::string& t : tried) error += " " + t;
      }
      return RefuseLoad(name, "", error, nullptr);
    }
    path = *found;
  }
  std::error_code abs_ec;
  const fs::path absolute = fs::absolute(path, abs_ec);
  if (!abs_ec) path = absolute;
  if (NameTaken(name)) {
    return RefuseLoad(name, path.string(), "plugin '" + name + "': a plugin with this name is already loaded", nullptr);
  }

  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  library->load(boost::dll::fs::path(path.string()),
                boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !library->is_loaded()) {
    return RefuseLoad(name, path.string(),
                      "plugin '" + name + "' could not be loaded from " + path.string() + ": " + DlopenError(path),
                      nullptr);
  }
  if (!library->has(POLYHOST_PLUGIN_ENTRY_SYMBOL)) {
    return RefuseLoad(name, path.string(),
                      "plugin '" + name + "' (" + path.string() + ") does not export '" POLYHOST_PLUGIN_ENTRY_SYMBOL
                      "': build it with POLYHOST_PLUGIN(...) or define it with POLYHOST_PLUGIN_EXPORT",
                      nullptr);
  }
  const ph_plugin_entry* entry = &library->get<const ph_plugin_entry>(POLYHOST_PLUGIN_ENTRY_SYMBOL);
  return Instantiate(std::move(name), path.string(), std::move(library), entry, std::move(config));
}

PluginLoadResult PluginHost::LoadEntry(std::string_view name, const ph_plugin_entry* entry, PluginConfig config,
                                       std::string_view path) {
  if (name.empty()) return RefuseLoad("", std::string(path), "a plugin needs a name", nullptr);
  if (NameTaken(name)) {
    return RefuseLoad(std::string(name), std::string(path),
                      "plugin '" + std::string(name) + "': a plugin with this name is already loaded", nullptr);
  }
  return Instantiate(std::string(name), std::string(path), nullptr, entry, std::move(config));
}

PluginLoadResult PluginHost::Instantiate(std::string name, std::string path, std::shared_ptr<void> library,
                                         const ph_plugin_entry* entry, PluginConfig config) {
  std::string error = CheckPluginEntry(entry, name);
  if (!error.empty()) {
    const bool version_readable =
        entry != nullptr && entry->struct_size >= offsetof(ph_plugin_entry, abi_version) + sizeof(ph_version);
    PluginLoadResult r = RefuseLoad(std::move(name), std::move(path), std::move(error),
                                    version_readable ? &entry->abi_version : nullptr);
    slots_.back()->library = std::move(library);
    return r;
  }
  auto owned = std::make_unique<Slot>();
  Slot& s = *owned;
  s.owner = this;
  s.index = static_cast<uint32_t>(slots_.size());
  s.name = std::move(name);
  s.path = std::move(path);
  const ph_plugin_descriptor& d = *entry->descriptor;
  s.id = d.id;
  s.display_name = d.name;
  s.version = d.version;
  if (d.vendor != nullptr) s.vendor = d.vendor;
  if (d.description != nullptr) s.description = d.description;
  s.abi = entry->abi_version;
  s.config = std::move(config);
  s.library = std::move(library);
  if (auto allowed = market_allow_lists_.find(s.name); allowed != market_allow_lists_.end()) {
    s.allowed_markets = allowed->second;
  }
  s.state = PluginState::kInitialized;  // tentatively, while create and init run

  ph_host& t = s.table;
  t.struct_size = sizeof(ph_host);
  t.abi_version = POLYHOST_ABI_VERSION_INIT;
  t.host_data = &s;
  t.host_name = "polyhost";
  t.host_version = options_.host_version.c_str();
  t.plugin_name = s.name.c_str();
  t.log = &Services::Log;
  t.now_ms = &Services::NowMs;
  t.config_get_string = &Services::ConfigString;
  t.config_get_int = &Services::ConfigInt;
  t.config_get_micros = &Services::ConfigMicros;
  t.config_get_bool = &Services::ConfigBool;
  t.metric = &Services::Metric;
  t.subscribe = &Services::Subscribe;
  t.unsubscribe = &Services::Unsubscribe;
  t.get_book = &Services::GetBook;
  t.submit_plan = &Services::SubmitPlan;
  t.cancel_orders = &Services::CancelOrders;
  t.set_timer = &Services::SetTimer;
  t.get_extension = &Services::GetExtension;
  slots_.push_back(std::move(owned));
  SyncSlot(s);

  const ph_version host_abi = POLYHOST_ABI_VERSION_INIT;
  if (ph_version_compare(entry->abi_version, host_abi) > 0 && entry->abi_version.minor > host_abi.minor) {
    Log(PluginLogLevel::kInfo, s.name,
        "plugin '" + s.name + "' was built for ABI " + FormatAbiVersion(entry->abi_version) +
            ", newer than this host's " + FormatAbiVersion(host_abi) + "; features added after " +
            FormatAbiVersion(host_abi) + " are unavailable to it");
  }

  auto load_failed = [&](std::string why) {
    SetState(s, PluginState::kFailed);
    s.failure = "plugin '" + s.name + "' not loaded: " + why;
    Log(PluginLogLevel::kError, s.name, s.failure);
    return PluginLoadResult{false, s.index, s.failure};
  };

  const ph_plugin* p = nullptr;
  std::string thrown;
  {
    CallScope scope(&s);
    try {
      p = entry->create(&s.table);
    } catch (const std::exception& e) {
      thrown = e.what();
    } catch (...) {
      thrown = "(unknown type)";
    }
  }
  if (!thrown.empty()) return load_failed("create let a C++ exception escape into the host: " + thrown);
  if (p == nullptr) return load_failed("create returned NULL (the plugin's log lines may say why)");
  if (p->struct_size < offsetof(ph_plugin, destroy) + sizeof(ph_plugin::destroy) || p->destroy == nullptr) {
    return load_failed("create returned a ph_plugin without destroy (struct_size " + std::to_string(p->struct_size) +
                       "); the instance is leaked");
  }
  s.plugin = p;
  if (p->struct_size < kPluginV1Size || p->desc == nullptr) {
    std::string why = p->struct_size < kPluginV1Size
                          ? "create returned a ph_plugin of struct_size " + std::to_string(p->struct_size) +
                                ", smaller than the ABI 1.0 table (" + std::to_string(kPluginV1Size) + ")"
                          : "create returned a ph_plugin without desc";
    PluginLoadResult r = load_failed(std::move(why));
    s.fns.destroy = p->destroy;
    DestroyInstance(s);
    return r;
  }
  std::memcpy(static_cast<void*>(&s.fns), p, std::min<size_t>(p->struct_size, sizeof(ph_plugin)));
  s.fns.struct_size = std::min<uint32_t>(p->struct_size, sizeof(ph_plugin));

  if (!Invoke(s, "init", [&] { return s.fns.init != nullptr ? s.fns.init(p) : PH_OK; })) {
    return {false, s.index, s.failure};
  }
  Log(PluginLogLevel::kInfo, s.name,
      "plugin '" + s.name + "' loaded: " + s.display_name + " " + s.version + " (id " + s.id + ", ABI " +
          FormatAbiVersion(*s.abi) + ") from " + s.path);
  return {true, s.index, {}};
}

// The fast path stays small enough to inline into every dispatch loop; failures
// go to the out-of-line FailThrown / FinishCall.
template <class Call>
inline bool PluginHost::Invoke(Slot& slot, const char* what, Call&& call) {
  ph_result rc = PH_OK;
  try {
    CallScope scope(&slot);
    rc = call();
  } catch (...) {
    return FailThrown(slot, what);
  }
  SlotHot& hot = hot_slots_[slot.index];
  ++hot.callbacks;
  if (rc == PH_OK && !hot.pending_failure) [[likely]] {
    return true;
  }
  return FinishCall(slot, what, rc);
}

// Called from Invoke's catch (...) block: `throw;` re-raises the exception
// being handled so its message can be read.
[[gnu::noinline]] bool PluginHost::FailThrown(Slot& slot, const char* what) {
  ++hot_slots_[slot.index].callbacks;
  std::string thrown;
  try {
    throw;
  } catch (const std::exception& e) {
    thrown = e.what();
    if (thrown.empty()) thrown = "(no message)";
  } catch (...) {
    thrown = "(unknown type)";
  }
  if (!slot.pending_failure.empty()) return FinishCall(slot, what, PH_OK);
  Fail(slot, std::string(what) + " let a C++ exception escape into the host: " + thrown);
  return false;
}

// A call returned an error, or a host service asked for the plugin to be disabled.
[[gnu::noinline]] bool PluginHost::FinishCall(Slot& slot, const char* what, ph_result rc) {
  if (!slot.pending_failure.empty()) {
    std::string reason = std::move(slot.pending_failure);
    slot.pending_failure.clear();
    hot_slots_[slot.index].pending_failure = false;
    Fail(slot, reason + " (in " + what + ")");
    return false;
  }
  if (rc != PH_OK) {
    Fail(slot, std::string(what) + " returned " + ResultText(rc));
    return false;
  }
  return true;
}

void PluginHost::Fail(Slot& s, std::string reason) {
  if (s.state == PluginState::kFailed || s.state == PluginState::kUnloaded) return;
  SetState(s, PluginState::kFailed);
  s.failure = reason;
  s.timer_interval_ms = 0;
  RemoveSubscriptions(s);
  const size_t dropped = std::erase_if(plans_, [&](const Plan& p) { return p.plugin == s.name; });
  s.pending_plans = 0;
  std::string line = "plugin '" + s.name + "' disabled: " + reason;
  if (dropped > 0) line += "; " + std::to_string(dropped) + " undrained plan(s) dropped";
  if (s.plans_submitted > 0) {
    PluginCancelRequest c;
    c.plugin = s.name;
    c.scope = PluginCancelRequest::Scope::kAll;
    c.reason = "plugin disabled: " + reason;
    cancels_.push_back(std::move(c));
    line += "; cancellation of its open orders requested";
  }
  Log(PluginLogLevel::kError, s.name, line);
  DestroyInstance(s);
}

void PluginHost::DestroyInstance(Slot& s) {
  if (s.plugin == nullptr) return;
  const ph_plugin* p = s.plugin;
  s.plugin = nullptr;
  SyncSlot(s);
  if (s.fns.destroy == nullptr) return;
  CallScope scope(nullptr);  // from destroy only any-thread services work
  try {
    s.fns.destroy(p);
  } catch (const std::exception& e) {
    Log(PluginLogLevel::kError, s.name, "plugin '" + s.name + "': destroy let a C++ exception escape: " + e.what());
  } catch (...) {
    Log(PluginLogLevel::kError, s.name, "plugin '" + s.name + "': destroy let a C++ exception escape");
  }
}

inline bool PluginHost::Active(const Slot& s) const {
  return s.state == PluginState::kActive && s.plugin != nullptr;
}

void PluginHost::SetState(Slot& s, PluginState state) {
  s.state = state;
  SyncSlot(s);
}

void PluginHost::SyncSlot(const Slot& s) {
  const SlotHot* const before = hot_slots_.data();
  if (hot_slots_.size() <= s.index) hot_slots_.resize(s.index + 1);
  SlotHot& h = hot_slots_[s.index];  // callbacks and pending_failure carry over
  const bool could_call = h.on_book != nullptr;
  h.on_book = Active(s) ? s.fns.on_book : nullptr;
  h.plugin = s.plugin;
  h.slot = const_cast<Slot*>(&s);
  h.named = !s.subscriptions.empty();
  // AssetHot::lone points into hot_slots_ and names only slots that can be called.
  if (hot_slots_.data() != before) {
    SyncAllAssets();
  } else if (could_call != (h.on_book != nullptr)) {
    for (uint32_t key : s.subscriptions) SyncAsset(key);
  }
}

bool PluginHost::Activate(size_t index) {
  if (index >= slots_.size()) return false;
  Slot& s = *slots_[index];
  if ((s.state != PluginState::kInitialized && s.state != PluginState::kInactive) || s.plugin == nullptr) return false;
  if (!Invoke(s, "activate", [&] { return s.fns.activate != nullptr ? s.fns.activate(s.plugin) : PH_OK; })) {
    return false;
  }
  SetState(s, PluginState::kActive);
  return true;
}

bool PluginHost::Deactivate(size_t index) {
  if (index >= slots_.size()) return false;
  Slot& s = *slots_[index];
  if (!Active(s)) return false;
  SetState(s, PluginState::kInactive);
  return Invoke(s, "deactivate", [&] { return s.fns.deactivate != nullptr ? s.fns.deactivate(s.plugin) : PH_OK; });
}

void PluginHost::ActivateAll() {
  for (size_t i = 0; i < slots_.size(); ++i) Activate(i);
}

void PluginHost::DeactivateAll() {
  for (size_t i = 0; i < slots_.size(); ++i) Deactivate(i);
}

void PluginHost::Disable(size_t index, std::string reason) {
  if (index >= slots_.size()) return;
  Slot& s = *slots_[index];
  if (InCallSlot() == &s) return FailOnReturn(index, std::move(reason));  // from inside its own callback
  Fail(s, std::move(reason));
}

void PluginHost::FailOnReturn(size_t index, std::string reason) {
  Slot& s = *slots_[index];
  if (s.pending_failure.empty()) {  // the first reason wins
    s.pending_failure = std::move(reason);
    hot_slots_[s.index].pending_failure = true;
  }
}

void PluginHost::Shutdown() {
  for (size_t i = 0; i < slots_.size(); ++i) Deactivate(i);
  for (auto& slot : slots_) {
    Slot& s = *slot;
    if (s.state == PluginState::kFailed || s.state == PluginState::kUnloaded) continue;
    RemoveSubscriptions(s);
    s.timer_interval_ms = 0;
    DestroyInstance(s);
    SetState(s, PluginState::kUnloaded);
  }
}

// ---- assets and subscriptions -----------------------------------------------------

uint32_t PluginHost::InternAsset(std::string_view market, std::string_view asset_id) {
  if (std::optional<uint32_t> key = FindAsset(market, asset_id)) return *key;
  const auto key = static_cast<uint32_t>(assets_.size());
  auto entry = std::make_unique<AssetEntry>();
  entry->key = AssetKey{std::string(market), std::string(asset_id)};
  AssetHot hot;
  hot.market = entry->key.market.c_str();
  hot.asset_id = entry->key.asset_id.c_str();
  hot.market_len = static_cast<uint32_t>(entry->key.market.size());
  hot.asset_id_len = static_cast<uint32_t>(entry->key.asset_id.size());
  hot_assets_.push_back(hot);
  assets_.push_back(std::move(entry));
  auto it = assets_by_id_.find(asset_id);
  if (it == assets_by_id_.end()) it = assets_by_id_.emplace(std::string(asset_id), std::vector<uint32_t>{}).first;
  it->second.push_back(key);
  // Restricted plugins with the wildcard get the new asset of their markets by name.
  for (uint32_t index : market_wildcard_slots_) {
    Slot& s = *slots_[index];
    if (!s.AllowsMarket(market)) continue;
    AddSubscription(s, key);
    s.wildcard_keys.push_back(key);  // the newest key: stays sorted
  }
  return key;
}

void PluginHost::RestrictMarkets(std::string instance_name, std::vector<std::string> markets) {
  std::sort(markets.begin(), markets.end());
  markets.erase(std::unique(markets.begin(), markets.end()), markets.end());
  for (const auto& slot : slots_) {
    if (slot->name == instance_name) slot->allowed_markets = markets;  // from its next subscription on
  }
  market_allow_lists_[std::move(instance_name)] = std::move(markets);
}

void PluginHost::AddSubscription(Slot& s, uint32_t key) {
  auto pos = std::lower_bound(s.subscriptions.begin(), s.subscriptions.end(), key);
  if (pos != s.subscriptions.end() && *pos == key) return;
  s.subscriptions.insert(pos, key);
  hot_slots_[s.index].named = true;
  assets_[key]->subscribers.push_back(s.index);
  ++hot_assets_[key].live;
  SyncAsset(key);
  ++subscription_generation_;
}

void PluginHost::SubscribeMarketWildcard(Slot& s) {
  if (s.market_wildcard) return;
  s.market_wildcard = true;
  market_wildcard_slots_.push_back(s.index);
  for (uint32_t key = 0; key < assets_.size(); ++key) {
    if (s.Subscribed(key) || !s.AllowsMarket(assets_[key]->key.market)) continue;
    AddSubscription(s, key);
    s.wildcard_keys.push_back(key);  // ascending keys: stays sorted
  }
  ++subscription_generation_;
}

std::optional<uint32_t> PluginHost::FindAsset(std::string_view market, std::string_view asset_id) const {
  auto it = assets_by_id_.find(asset_id);
  if (it == assets_by_id_.end()) return std::nullopt;
  for (uint32_t key : it->second) {
    if (assets_[key]->key.market == market) return key;
  }
  return std::nullopt;
}

std::vector<AssetKey> PluginHost::SubscribedAssets() const {
  std::vector<AssetKey> out;
  for (size_t key = 0; key < assets_.size(); ++key) {
    if (hot_assets_[key].live > 0) out.push_back(assets_[key]->key);
  }
  return out;
}

void PluginHost::RemoveSubscription(Slot& s, uint32_t key) {
  auto pos = std::lower_bound(s.subscriptions.begin(), s.subscriptions.end(), key);
  if (pos == s.subscriptions.end() || *pos != key) return;
  s.subscriptions.erase(pos);
  hot_slots_[s.index].named = !s.subscriptions.empty();
  if (auto w = std::lower_bound(s.wildcard_keys.begin(), s.wildcard_keys.end(), key);
      w != s.wildcard_keys.end() && *w == key) {
    s.wildcard_keys.erase(w);
  }
  AssetEntry& a = *assets_[key];
  auto sub = std::find(a.subscribers.begin(), a.subscribers.end(), s.index);
  if (sub != a.subscribers.end()) {
    *sub = kNoSlot;  // a dispatch may be iterating: compacted afterwards
    --hot_assets_[key].live;
    SyncAsset(key);
    dirty_assets_.push_back(key);
  }
  ++subscription_generation_;
  if (dispatch_depth_ == 0) Compact();
}

void PluginHost::RemoveSubscriptions(Slot& s) {
  while (!s.subscriptions.empty()) RemoveSubscription(s, s.subscriptions.back());
  RemoveWildcard(s);
}

void PluginHost::RemoveWildcard(Slot& s) {
  if (s.market_wildcard) {
    s.market_wildcard = false;
    std::erase(market_wildcard_slots_, s.index);
    std::vector<uint32_t> keys;
    keys.swap(s.wildcard_keys);
    for (auto k = keys.rbegin(); k != keys.rend(); ++k) RemoveSubscription(s, *k);
    ++subscription_generation_;
  }
  if (!s.wildcard) return;
  s.wildcard = false;
  auto sub = std::find(wildcard_subscribers_.begin(), wildcard_subscribers_.end(), s.index);
  if (sub != wildcard_subscribers_.end()) {
    *sub = kNoSlot;  // a dispatch may be iterating: compacted afterwards
    if (--wildcard_live_ == 0) SyncAllAssets();
    wildcard_dirty_ = true;
  }
  ++subscription_generation_;
  if (dispatch_depth_ == 0) Compact();
}

void PluginHost::Compact() {
  for (uint32_t key : dirty_assets_) {
    std::erase(assets_[key]->subscribers, kNoSlot);
    SyncAsset(key);
  }
  dirty_assets_.clear();
  if (wildcard_dirty_) {
    std::erase(wildcard_subscribers_, kNoSlot);
    wildcard_dirty_ = false;
  }
}

// ---- dispatch -----------------------------------------------------------------------

void PluginHost::SyncAsset(uint32_t key) {
  AssetHot& h = hot_assets_[key];
  const std::vector<uint32_t>& subs = assets_[key]->subscribers;
  // The inline copy always mirrors the first entries, so a dispatch that took
  // its count before a spill still reads current values.
  const size_t n = std::min<size_t>(subs.size(), kInlineSubscribers);
  std::copy_n(subs.begin(), n, h.subscribers);
  h.count = subs.size() <= kInlineSubscribers ? static_cast<uint32_t>(subs.size()) : kSpilled;
  h.lone = nullptr;
  if (h.live == 1 && wildcard_live_ == 0) {  // the one entry that is not a removed one, if it can be called
    for (uint32_t index : subs) {
      if (index != kNoSlot && hot_slots_[index].on_book != nullptr) h.lone = &hot_slots_[index];
    }
  }
}

void PluginHost::SyncAllAssets() {
  for (uint32_t key = 0; key < hot_assets_.size(); ++key) SyncAsset(key);
}

namespace {

// Writes two adjacent uint32_t fields of an ABI struct with one 64-bit store.
inline void StoreU32Pair(uint32_t* first, uint32_t a, uint32_t b) {
  const uint64_t v = std::endian::native == std::endian::little ? (uint64_t{b} << 32) | a : (uint64_t{a} << 32) | b;
  std::memcpy(first, &v, sizeof v);
}

// Writes two adjacent int64_t fields of an ABI struct with one 16-byte store
// where the target has one. Why it matters: a reader that loads both with one
// 16-byte load (GCC vectorizes the SDK's BookView::From that way) can take
// them from the store buffer only when one store covers the whole load; two
// 8-byte stores make that load wait until they reach the cache (a
// store-forwarding stall on every book update).
inline void StoreI64Pair(int64_t* first, int64_t a, int64_t b) {
#if defined(__SSE2__)
  _mm_storeu_si128(reinterpret_cast<__m128i*>(first), _mm_set_epi64x(b, a));
#else
  first[0] = a;
  first[1] = b;
#endif
}

// A side's level count for the view, computed in 32 bits (a side of 2^28
// levels is far beyond any book): 32-bit arithmetic leaves the upper half
// zero, so the count/reserved pair is stored without masking it first.
inline uint32_t LevelCount(std::span<const Level> side) {
  return static_cast<uint32_t>(side.size_bytes()) / static_cast<uint32_t>(sizeof(Level));
}

}  // namespace

inline ph_book_view PluginHost::MakeView(const AssetHot& a, const OrderBook& book, const BookMeta& meta) {
  // A view is built on every book update and its stores are a measurable part
  // of a dispatch (docs/performance.md), so every byte is written exactly once
  // and the 32-bit pairs (struct_size/flags, count/reserved, the id lengths)
  // with one store each: no clearing first, no separate stores of the zeros.
  static_assert(sizeof(ph_book_view) == offsetof(ph_book_view, asset_id_len) + sizeof(uint32_t),
                "ph_book_view grew: MakeView must write the new fields (nothing clears the view)");
  static_assert(offsetof(ph_book_view, tick_size) == offsetof(ph_book_view, ts_ms) + 8);
  static_assert(offsetof(ph_book_view, flags) == offsetof(ph_book_view, struct_size) + 4 &&
                offsetof(ph_book_view, reserved0) == offsetof(ph_book_view, bid_count) + 4 &&
                offsetof(ph_book_view, reserved1) == offsetof(ph_book_view, ask_count) + 4 &&
                offsetof(ph_book_view, asset_id_len) == offsetof(ph_book_view, market_len) + 4);
  static_assert(PH_BOOK_FLAG_STALE == 1u, "flags is written as the stale bool");
  ph_book_view v;
  // Two 32-bit stores: an immediate and the bool as it is (no shift and or).
  v.struct_size = sizeof(ph_book_view);
  v.flags = static_cast<uint32_t>(meta.stale);
  v.asset.market = a.market;
  v.asset.asset_id = a.asset_id;
  v.seq = meta.seq;
  v.resync_count = meta.resync_count;
  StoreI64Pair(&v.ts_ms, meta.ts_ms, book.tick_size());
  const std::span<const Level> bids = book.bids();
  const std::span<const Level> asks = book.asks();
  v.bids = bids.empty() ? nullptr : reinterpret_cast<const ph_level*>(bids.data());
  StoreU32Pair(&v.bid_count, LevelCount(bids), 0);  // reserved0 = 0
  v.asks = asks.empty() ? nullptr : reinterpret_cast<const ph_level*>(asks.data());
  StoreU32Pair(&v.ask_count, LevelCount(asks), 0);  // reserved1 = 0
  StoreU32Pair(&v.market_len, a.market_len, a.asset_id_len);
  return v;
}

// Calls fn(slot) for every active subscriber of `asset` that has the callback.
template <class Fn>
void PluginHost::ForEachSubscriber(uint32_t asset, Fn&& fn) {
  AssetEntry& a = *assets_[asset];
  ++dispatch_depth_;
  const size_t n = a.subscribers.size();  // plugins subscribing now start with the next event
  for (size_t i = 0; i < n; ++i) {
    const uint32_t index = a.subscribers[i];
    if (index == kNoSlot) continue;
    Slot& s = *slots_[index];
    if (Active(s)) fn(s);
  }
  // Then every plugin subscribed to all assets, unless it was just called by name.
  const size_t w = wildcard_subscribers_.size();
  for (size_t i = 0; i < w; ++i) {
    const uint32_t index = wildcard_subscribers_[i];
    if (index == kNoSlot) continue;
    Slot& s = *slots_[index];
    if (Active(s) && !s.Subscribed(asset)) fn(s);
  }
  if (--dispatch_depth_ == 0) Compact();
}

// Invoke's work for on_book, reading only the plugin's SlotHot (hot_slots_
// does not grow during a dispatch: plugins are loaded between events), whose
// on_book the caller checked is not null. The caller read the thread's beacon
// word (`outer`, SavePluginCall) and registered the thread; the call records
// its slot on entry and puts `outer` back on exit, on every path out.
[[gnu::always_inline]] inline void PluginHost::CallOnBook(SlotHot& h, const ph_book_view& view, uint64_t outer) {
  ph_result rc;
  // "In the call", and the watchdog's beacon: relaxed stores, no clock.
  NoteRegisteredPluginCallEnter(h.slot);
  try {
    rc = h.on_book(h.plugin, &view);
  } catch (...) {
    RestorePluginCall(outer);
    FailThrown(*h.slot, "on_book");
    return;
  }
  // An overrun leaves the failure pending (FailOnReturn), acted on just below.
  if (RestorePluginCall(outer)) [[unlikely]] DisableIfOverBudget(*h.slot);
  ++h.callbacks;
  // One test for both: rc is PH_OK (0) and no failure is pending, or not.
  if ((static_cast<uint32_t>(rc) | static_cast<uint32_t>(h.pending_failure)) != 0) [[unlikely]] {
    FinishCall(*h.slot, "on_book", rc);
  }
}

// The first book dispatch on a thread that never called a plugin: register it
// with the watchdogs, then dispatch (a tail call from DispatchBook, so nothing
// stays live across the registration in the hot path). The general path serves
// any subscribers, and does not check the registration again (a thread that is
// ending cannot register: it is dispatched to, unwatched, rather than looping).
[[gnu::noinline, gnu::cold]] void PluginHost::RegisterThenDispatchBook(uint32_t asset, const OrderBook& book,
                                                                      const BookMeta& meta) {
  RegisterPluginCallThread();
  DispatchBookToAll(asset, book, meta);
}

void PluginHost::DispatchBook(uint32_t asset, const OrderBook& book, const BookMeta& meta) {
  if (asset >= hot_assets_.size()) return;
  const AssetHot& a = hot_assets_[asset];
  // `lone` is tested first: it implies HasSubscribers, so the common case
  // skips that test (callers such as the run loop test it before calling).
  SlotHot* const lone = a.lone;
  if (lone == nullptr) [[unlikely]] {
    if (a.live == 0 && wildcard_live_ == 0) return;
    // Several subscribers, a wildcard one, or none that can be called.
    if (!PluginCallThreadRegistered()) [[unlikely]] return RegisterThenDispatchBook(asset, book, meta);
    return DispatchBookToAll(asset, book, meta);
  }
  if (!PluginCallThreadRegistered()) [[unlikely]] return RegisterThenDispatchBook(asset, book, meta);
  // The common case (one named subscriber that can be called, no wildcard):
  // one call, no loop, and no dispatch_depth_: nothing is iterated after the
  // call, so a subscription the plugin drops during it may be compacted at
  // once. Few values are live across the call: a short prologue, no spills.
  const ph_book_view view = MakeView(a, book, meta);
  current_event_ns_ = meta.event_ns;
  CallOnBook(*lone, view, SavePluginCall());
  current_event_ns_ = 0;
}

[[gnu::noinline]] void PluginHost::DisableIfOverBudget(Slot& slot) {
  if (const int64_t ms = TakePluginCallOverrun(&slot); ms > 0) FailOnReturn(slot.index, OverBudgetReason(ms));
}

// DispatchBook's general case: every named subscriber, then the wildcard ones.
// Out of line, so that DispatchBook's one-subscriber path keeps few registers.
[[gnu::noinline]] void PluginHost::DispatchBookToAll(uint32_t asset, const OrderBook& book, const BookMeta& meta) {
  // One view for every subscriber: it is const in the ABI (a plugin that casts
  // the const away and writes to it breaks the contract, like any other wild
  // write), and a copy per plugin was a third of the dispatch cost.
  const ph_book_view view = MakeView(hot_assets_[asset], book, meta);
  current_event_ns_ = meta.event_ns;
  ++dispatch_depth_;
  CallBookSubscribers(asset, view, SavePluginCall());
  if (--dispatch_depth_ == 0 && (!dirty_assets_.empty() || wildcard_dirty_)) [[unlikely]] Compact();
  current_event_ns_ = 0;
}

// Every subscriber of `asset` in order, then the wildcard ones.
[[gnu::always_inline]] inline void PluginHost::CallBookSubscribers(uint32_t asset, const ph_book_view& view,
                                                                    uint64_t outer) {
  // Plugins subscribing during this dispatch start with the next event: the
  // count is taken once. Entries are re-read (by index: a subscription made
  // meanwhile may grow hot_assets_) so an unsubscription takes effect at once.
  const uint32_t n = hot_assets_[asset].count;
  if (n != kSpilled) [[likely]] {
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t index = hot_assets_[asset].subscribers[i];
      if (index != kNoSlot && hot_slots_[index].on_book != nullptr) CallOnBook(hot_slots_[index], view, outer);
    }
  } else {
    const size_t spilled = assets_[asset]->subscribers.size();
    for (size_t i = 0; i < spilled; ++i) {
      const uint32_t index = assets_[asset]->subscribers[i];
      if (index != kNoSlot && hot_slots_[index].on_book != nullptr) CallOnBook(hot_slots_[index], view, outer);
    }
  }
  // Then every plugin subscribed to all assets, unless it was just called by
  // name (SlotHot::named: only a plugin with named subscriptions needs the
  // lookup in its Slot).
  if (wildcard_live_ == 0) return;  // every entry is kNoSlot
  const size_t w = wildcard_subscribers_.size();
  for (size_t i = 0; i < w; ++i) {
    const uint32_t index = wildcard_subscribers_[i];
    if (index == kNoSlot) continue;
    SlotHot& h = hot_slots_[index];
    if (h.on_book != nullptr && (!h.named || !h.slot->Subscribed(asset))) CallOnBook(h, view, outer);
  }
}

void PluginHost::DispatchTrade(uint32_t asset, const TradePrint& trade) {
  if (!HasSubscribers(asset)) return;
  const AssetEntry& a = *assets_[asset];
  ph_trade t{};
  t.struct_size = sizeof(ph_trade);
  t.side = trade.taker_side ? ToAbiSide(*trade.taker_side) : 0;
  t.asset = {a.key.market.c_str(), a.key.asset_id.c_str()};
  t.price = trade.price;
  t.size = trade.size;
  t.fee_rate_bps = trade.fee_rate_bps;
  t.ts_ms = trade.ts_ms;
  ForEachSubscriber(asset, [&](Slot& s) {
    if (s.fns.on_trade == nullptr) return;
    const ph_trade copy = t;
    Invoke(s, "on_trade", [&] { return s.fns.on_trade(s.plugin, &copy); });
  });
}

void PluginHost::DispatchStatus(uint32_t asset, AssetStatusKind status, const BookMeta& meta) {
  if (!HasSubscribers(asset)) return;
  const AssetEntry& a = *assets_[asset];
  ph_status_event e{};
  e.struct_size = sizeof(ph_status_event);
  e.status = ToAbiStatus(status);
  e.asset = {a.key.market.c_str(), a.key.asset_id.c_str()};
  e.seq = meta.seq;
  e.resync_count = meta.resync_count;
  e.ts_ms = meta.ts_ms;
  ForEachSubscriber(asset, [&](Slot& s) {
    if (s.fns.on_status == nullptr) return;
    const ph_status_event copy = e;
    Invoke(s, "on_status", [&] { return s.fns.on_status(s.plugin, &copy); });
  });
}

void PluginHost::DispatchOrderUpdate(const PluginOrderUpdate& update) {
  auto it = plan_records_.find(update.plan_id);
  if (it == plan_records_.end()) return;
  const PlanRecord& rec = it->second;
  Slot& s = *slots_[rec.slot];
  const bool forget = update.event == PluginOrderEvent::kPlanRejected;
  if (Active(s) && s.fns.on_order_update != nullptr) {
    ph_order_update u{};
    u.struct_size = sizeof(ph_order_update);
    u.kind = ToAbiKind(update.event);
    u.plan_id = static_cast<uint64_t>(update.plan_id);
    u.client_tag = rec.client_tag.c_str();
    u.leg_index = PH_LEG_ALL;
    if (update.leg_index) {
      if (*update.leg_index >= rec.legs.size()) {
        Log(PluginLogLevel::kWarn, s.name,
            "order update for plan " + std::to_string(update.plan_id) + " names leg " +
                std::to_string(*update.leg_index) + " of " + std::to_string(rec.legs.size()) + "; dropped");
        return;
      }
      const PlanLeg& leg = rec.legs[*update.leg_index];
      u.leg_index = *update.leg_index;
      u.side = ToAbiSide(leg.side);
      u.asset = {leg.market.c_str(), leg.asset_id.c_str()};
      u.price = leg.price;
      u.size = leg.size;
    }
    u.order_id = CStrOrNull(update.order_id);
    u.filled_size = update.filled_size;
    u.ts_ms = update.ts_ms != 0 ? update.ts_ms : Now();
    u.reason = CStrOrNull(update.reason);
    u.flags = update.dry_run ? PH_ORDER_FLAG_DRY_RUN : 0u;
    ++dispatch_depth_;
    Invoke(s, "on_order_update", [&] { return s.fns.on_order_update(s.plugin, &u); });
    if (--dispatch_depth_ == 0) Compact();
  }
  if (forget) plan_records_.erase(update.plan_id);  // `it` may be stale: the callback may have submitted plans
}

void PluginHost::DispatchFill(const PluginFill& fill) {
  auto it = plan_records_.find(fill.plan_id);
  if (it == plan_records_.end()) return;
  const PlanRecord& rec = it->second;
  Slot& s = *slots_[rec.slot];
  if (!Active(s) || s.fns.on_fill == nullptr) return;
  if (fill.leg_index >= rec.legs.size()) {
    Log(PluginLogLevel::kWarn, s.name,
        "fill for plan " + std::to_string(fill.plan_id) + " names leg " + std::to_string(fill.leg_index) + " of " +
            std::to_string(rec.legs.size()) + "; dropped");
    return;
  }
  const PlanLeg& leg = rec.legs[fill.leg_index];
  ph_fill f{};
  f.struct_size = sizeof(ph_fill);
  f.side = ToAbiSide(leg.side);
  f.plan_id = static_cast<uint64_t>(fill.plan_id);
  f.client_tag = rec.client_tag.c_str();
  f.leg_index = fill.leg_index;
  f.flags = (fill.maker ? PH_FILL_FLAG_MAKER : 0u) | (fill.simulated ? PH_FILL_FLAG_SIMULATED : 0u);
  f.asset = {leg.market.c_str(), leg.asset_id.c_str()};
  f.order_id = fill.order_id.c_str();
  f.trade_id = CStrOrNull(fill.trade_id);
  f.price = fill.price;
  f.size = fill.size;
  f.fee = fill.fee_micros;
  f.ts_ms = fill.ts_ms != 0 ? fill.ts_ms : Now();
  ++dispatch_depth_;
  Invoke(s, "on_fill", [&] { return s.fns.on_fill(s.plugin, &f); });
  if (--dispatch_depth_ == 0) Compact();
}

void PluginHost::DispatchTimers(int64_t now_ms) {
  ++dispatch_depth_;
  for (auto& slot : slots_) {
    Slot& s = *slot;
    if (!Active(s) || s.timer_interval_ms <= 0 || s.next_timer_ms > now_ms) continue;
    s.next_timer_ms = now_ms + s.timer_interval_ms;  // before the call: set_timer inside it wins
    if (s.fns.on_timer == nullptr) continue;
    Invoke(s, "on_timer", [&] { return s.fns.on_timer(s.plugin, now_ms); });
  }
  if (--dispatch_depth_ == 0) Compact();
}

std::optional<int64_t> PluginHost::NextTimerMs() const {
  std::optional<int64_t> next;
  for (const auto& slot : slots_) {
    if (!Active(*slot) || slot->timer_interval_ms <= 0) continue;
    if (!next || slot->next_timer_ms < *next) next = slot->next_timer_ms;
  }
  return next;
}

std::vector<Plan> PluginHost::DrainPlans() {
  std::vector<Plan> out;
  out.swap(plans_);
  for (auto& slot : slots_) slot->pending_plans = 0;
  return out;
}

std::vector<PluginCancelRequest> PluginHost::DrainCancels() {
  std::vector<PluginCancelRequest> out;
  out.swap(cancels_);
  return out;
}

void PluginHost::ForgetPlan(int64_t plan_id) { plan_records_.erase(plan_id); }

std::vector<PluginInfo> PluginHost::ListPlugins() const {
  std::vector<PluginInfo> out;
  out.reserve(slots_.size());
  for (const auto& slot : slots_) {
    const Slot& s = *slot;
    PluginInfo info;
    info.name = s.name;
    info.id = s.id;
    info.display_name = s.display_name;
    info.version = s.version;
    info.vendor = s.vendor;
    info.description = s.description;
    if (s.abi) info.abi_version = FormatAbiVersion(*s.abi);
    info.path = s.path;
    info.state = s.state;
    info.failure = s.failure;
    info.subscriptions = s.subscriptions.size() - s.wildcard_keys.size() + (s.wildcard || s.market_wildcard ? 1 : 0);
    info.plans_submitted = s.plans_submitted;
    info.callbacks = hot_slots_[s.index].callbacks;
    out.push_back(std::move(info));
  }
  return out;
}

std::string_view PluginHost::PluginNameOf(const ph_host* host) const {
  for (const auto& slot : slots_) {
    if (&slot->table == host) return slot->name;
  }
  return {};
}

}  // namespace polyhost

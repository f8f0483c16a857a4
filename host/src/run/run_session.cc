#include "run/run_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <stdexcept>
#include <unordered_map>

#include "catalog/market_catalog.h"
#include "catalog/markets_extension.h"
#include "core/decimal.h"
#include "core/json_text.h"
#include "live/live_source.h"
#include "obs/logging.h"
#include "plugin/control_extension.h"
#include "plugin/http_extension.h"
#include "run/run_control.h"

namespace polyhost {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}


// "market/asset_id": positions and marks are per book, and format S reuses asset
// ids ("yes") across markets.
std::string AssetLabel(std::string_view market, std::string_view asset_id) {
  std::string s(market);
  s += '/';
  s += asset_id;
  return s;
}

std::string Dec(int64_t v) { return "\"" + FormatDecimal(v) + "\""; }

std::string LegsJson(const Plan& plan) {
  std::string out = "[";
  for (size_t i = 0; i < plan.legs.size(); ++i) {
    const PlanLeg& l = plan.legs[i];
    if (i > 0) out += ',';
    out += "{\"market\":" + JsonQuoted(l.market) + ",\"asset_id\":" + JsonQuoted(l.asset_id) + ",\"side\":\"" +
           (l.side == Side::kBid ? "BUY" : "SELL") + "\",\"price\":" + Dec(l.price) + ",\"size\":" + Dec(l.size) +
           ",\"tif\":\"" + TimeInForceName(l.tif) + "\"}";
  }
  return out + "]";
}

PluginConfig ToPluginConfig(const PluginSection* section) {
  PluginConfig out;
  if (section == nullptr) return out;
  for (const auto& [key, setting] : *section) {
    PluginConfigValue v;
    v.text = setting.text;
    switch (setting.type) {
      case PluginValueType::kString: v.kind = PluginValueKind::kString; break;
      case PluginValueType::kInteger: v.kind = PluginValueKind::kInteger; break;
      case PluginValueType::kFloat: v.kind = PluginValueKind::kFloat; break;
      case PluginValueType::kBool: v.kind = PluginValueKind::kBool; break;
      default: v.kind = PluginValueKind::kOther; break;
    }
    out.emplace(key, std::move(v));
  }
  return out;
}

PluginOrderEvent ToPluginEvent(OrderState s) {
  switch (s) {
    case OrderState::kAcked: return PluginOrderEvent::kAcked;
    case OrderState::kRejected: return PluginOrderEvent::kRejected;
    case OrderState::kPartiallyFilled: return PluginOrderEvent::kPartiallyFilled;
    case OrderState::kFilled: return PluginOrderEvent::kFilled;
    case OrderState::kCancelled: return PluginOrderEvent::kCancelled;
  }
  return PluginOrderEvent::kRejected;
}

// The run loop. One instance per RunFeed call.
class Session final : public RelayerListener, public RunControlTarget {
 public:
  explicit Session(const RunOptions& options)
      : options_(options), gate_(options.limits), relayer_(MakeSessionRelayer()) {
    relayer_->SetListener(this);
    for (const std::string& plugin : options.kill_switch) gate_.SetKillSwitch(plugin, true);
    PluginHostOptions host_options;
    for (const std::string& d : options.plugin_dirs) host_options.search_dirs.emplace_back(d);
    host_options.clock = [this] { return now_ms_.load(std::memory_order_relaxed); };  // feed time: replays are deterministic
    host_options.host_version = "0.1.0";
    if (options.config != nullptr) {  // the plugin watchdog (plugin_watchdog.h, docs/reliability.md)
      host_options.call_budget_ms = options.config->plugins.call_budget_ms;
      host_options.call_hard_limit_ms = options.config->plugins.call_hard_limit_ms;
    }
    host_options.log = [this](const PluginLogLine& line) {
      // Error lines are rare (a failing plugin is disabled): counting them here
      // keeps the dispatch path untouched.
      if (line.level == PluginLogLevel::kError && !line.plugin.empty()) {
        // Service plugins (tgbot) log from their own threads too.
        std::lock_guard lock(plugin_errors_mu_);
        ++plugin_errors_[std::string(line.plugin)];
      }
      Warn(line);
    };
    host_ = std::make_unique<PluginHost>(std::move(host_options));
    // Market metadata for plugins ("polyhost.markets/1"): the catalog file when
    // given, plus every market the feed shows (binary markets group themselves).
    if (!options.catalog_path.empty()) catalog_.LoadGammaMarketsJson(options.catalog_path);
    host_->RegisterExtension(PH_EXT_MARKETS, markets_ext_.table());
    // Service plugins (tgbot): live answers and host-decided actions
    // (run/run_control.h), and HTTP for their outside APIs.
    host_->RegisterExtension(PH_EXT_CONTROL, control_ext_.table());
    host_->RegisterExtension(PH_EXT_HTTP, http_ext_.table());
    control_.BindToThisThread();
    host_->SetBookProvider([this](std::string_view market, std::string_view asset_id, BookRef* out) {
      if (engine_ == nullptr) return false;
      int64_t k = engine_->Find(market, asset_id);
      if (k < 0) return false;
      const AssetState& a = engine_->asset(static_cast<uint32_t>(k));
      if (!a.has_book) return false;
      out->book = &a.book;
      out->meta = Meta(a);
      return true;
    });
  }

  RunSummary Run() {
    for (const std::string& spec : options_.plugins) {
      std::string name = spec;
      if (auto slash = name.find_last_of('/'); slash != std::string::npos) name = name.substr(slash + 1);
      if (name.starts_with("lib")) name = name.substr(3);
      if (name.ends_with(".so")) name.resize(name.size() - 3);
      if (auto allowed = options_.plugin_markets.find(name); allowed != options_.plugin_markets.end()) {
        host_->RestrictMarkets(name, allowed->second);
      }
      PluginLoadResult r =
          host_->Load(spec, options_.config != nullptr ? PluginConfigFor(*options_.config, name) : PluginConfig{});
      if (!r.ok) throw std::runtime_error("cannot load plugin '" + spec + "': " + r.error);
    }
    ApplyKillSwitches();
    if (pause_.all() || !pause_.plugins().empty()) {
      spdlog::warn("run: paused by {}: {} (resume with the bot's /resume, or edit the file)", pause_.path(),
                   pause_.all() ? std::string("every plugin") : JoinNames(pause_.plugins()));
    }
    host_->ActivateAll();
    for (const PluginInfo& info : host_->ListPlugins()) StatsFor(info.name);

    BookEngine engine(options_.default_market);
    engine_ = &engine;
    ReplayOptions ro;
    ro.path = options_.feed_path;
    ro.format = options_.format;
    ro.strict = options_.strict;
    ro.store = options_.store;
    if (options_.config != nullptr) {
      ro.snapshot_interval_ms = options_.config->ingestion.snapshot_interval_ms;
      ro.prune_keep_ms = options_.config->ingestion.prune_keep_ms;
    }
    ro.on_warning = options_.on_warning;
    ro.on_progress = options_.on_progress;
    ro.stop = options_.stop;
    if (options_.on_live_stats) {
      ro.on_progress = [this, &engine](int64_t done, int64_t total) {
        if (options_.on_progress) options_.on_progress(done, total);
        PublishLiveStats(engine, false);
      };
    }
    ro.on_line = [this](const BookEngine& e, const ParsedLine& line, int64_t line_no) { OnLineSampled(e, line); };
    ro.on_batch = [this](WriteBatch* batch) { FlushRecords(batch); };

    RunSummary summary;
    if (options_.live != nullptr) {
      // polyhost run --ws: the live source drives the same hooks as a replay.
      LiveOptions lo = *options_.live;
      lo.store = options_.store;
      if (options_.config != nullptr) lo.snapshot_interval_ms = options_.config->ingestion.snapshot_interval_ms;
      if (options_.on_warning) lo.on_warning = options_.on_warning;
      lo.on_line = ro.on_line;
      lo.on_batch = ro.on_batch;
      if (options_.on_live_stats) {
        lo.on_tick = [this, &engine](const LiveSummary& feed) { PublishLiveStats(engine, false, &feed); };
      }
      {
        // Control calls are served on idle live feeds too, and reconnects feed the alerts.
        auto stats_tick = std::move(lo.on_tick);
        lo.on_tick = [this, stats_tick](const LiveSummary& feed) {
          reconnects_ = feed.ws.reconnects;
          if (stats_tick) stats_tick(feed);
          if (control_.pending()) control_.Service();
        };
      }
      // The end of the feed (stop signal, --max-messages, market budgets): cancel
      // what is open before the last batch, which records the cancels.
      lo.on_stop = [this] { CancelOpenOrdersAtStop(); };
      LiveSource source(std::move(lo));
      live_source_ = &source;
      for (const LiveAsset& a : options_.live->assets) live_assets_.insert(a.asset_id);
      SyncLiveSubscriptions();  // what plugins subscribed to in init/activate
      summary.replay = ToReplaySummary(source.Run(engine));
      live_source_ = nullptr;
      summary.orders_cancelled_at_stop = cancelled_at_stop_;
    } else {
      summary.replay = Replay(ro, engine);
    }
    if (options_.on_live_stats) PublishLiveStats(engine, true);
    if (options_.hold_until != nullptr) Hold();
    // Mark positions at mid with the final books (0 when a side is empty).
    for (uint32_t k = 0; k < engine.asset_count(); ++k) {
      const AssetState& a = engine.asset(k);
      if (a.book.best_bid() != 0 && a.book.best_ask() != 0) {
        last_mid_[AssetLabel(a.market, a.asset_id)] = (a.book.best_bid() + a.book.best_ask()) / 2;
      }
    }
    for (auto& [name, st] : stats_) {
      st.inventory_value_micros = 0;
      for (const auto& [asset, qty] : st.positions) {
        int64_t mid = MidOf(asset);
        st.inventory_value_micros += static_cast<int64_t>(static_cast<__int128>(qty) * mid / kMicrosPerUnit);
      }
    }
    control_.Close();  // before the plugins' threads are joined: nobody waits for this thread any more
    host_->Shutdown();
    summary.plugins = host_->ListPlugins();
    for (const PluginInfo& info : summary.plugins) summary.stats.push_back(StatsFor(info.name));
    summary.plans = plans_;
    summary.orders = next_order_id_ - 1;
    summary.fills = fills_;
    engine_ = nullptr;
    return summary;
  }

  // RelayerListener
  void OnOrderUpdate(const OrderUpdate& u) override {
    auto it = orders_.find(u.order_id);
    if (it == orders_.end()) return;
    OpenOrder& o = it->second;
    if (u.state == OrderState::kRejected && persist_) {
      // The venue (or the relayer's own checks) refused an order the gate
      // accepted: audited with its reason. "venue_rejected" is not a plan
      // decision, so plan counts stay per plan.
      pending_audits_.push_back(AuditRow{o.row.plan_id, o.plugin, "venue_rejected",
                                         "leg " + std::to_string(o.leg_index) + ": " + u.reason, "[]", -1, -1,
                                         now_ms_});
    }
    const int64_t remaining_before = o.remaining;
    o.remaining = u.remaining;
    o.filled = u.filled;
    ReleaseExposure(o, remaining_before - o.remaining, u.state);
    PluginOrderUpdate pu;
    pu.plan_id = o.plan_id;
    pu.event = ToPluginEvent(u.state);
    pu.leg_index = o.leg_index;
    pu.order_id = std::to_string(u.order_id);
    pu.filled_size = u.filled;
    pu.reason = u.reason;
    pu.dry_run = options_.dry_run;
    pu.ts_ms = now_ms_;
    if (u.state == OrderState::kAcked && o.ack_us < 0) o.ack_us = (SteadyNs() - o.planned_ns) / 1000;
    Record("{\"type\":\"order\",\"ts_ms\":" + std::to_string(now_ms_) + ",\"plan_id\":" + std::to_string(o.plan_id) +
           ",\"leg\":" + std::to_string(o.leg_index) + ",\"order_id\":" + std::to_string(u.order_id) +
           ",\"state\":\"" + OrderStateName(u.state) + "\",\"filled\":" + Dec(u.filled) +
           ",\"remaining\":" + Dec(u.remaining) + (u.reason.empty() ? "" : ",\"reason\":" + JsonQuoted(u.reason)) + "}");
    OrderRow row = o.row;
    row.status = OrderStateName(u.state);
    row.filled = u.filled;
    row.error = u.state == OrderState::kRejected ? u.reason : "";
    row.ts_ms = now_ms_;
    if (persist_) pending_orders_.push_back(std::move(row));
    host_->DispatchOrderUpdate(pu);
    if (u.state == OrderState::kFilled || u.state == OrderState::kCancelled || u.state == OrderState::kRejected) {
      PluginRunStats& st = StatsFor(o.plugin);
      if (u.state == OrderState::kFilled) ++st.orders_filled;
      if (u.state == OrderState::kCancelled) ++st.orders_cancelled;
      if (u.state == OrderState::kRejected) ++st.orders_rejected;
      const int64_t plan_id = o.plan_id;
      orders_.erase(it);
      if (--open_legs_[plan_id] == 0) {
        open_legs_.erase(plan_id);
        host_->ForgetPlan(plan_id);
      }
    }
  }

  void OnFill(const Fill& f) override {
    auto it = orders_.find(f.order_id);
    if (it == orders_.end()) return;
    const OpenOrder& o = it->second;
    PluginRunStats& st = StatsFor(o.plugin);
    ++fills_;
    ++st.fills;
    st.filled_size += f.size;
    st.fees_micros += f.fee_micros;
    const int64_t notional = static_cast<int64_t>(static_cast<__int128>(f.price) * f.size / kMicrosPerUnit);
    if (o.side == Side::kBid) {
      st.cash_micros -= notional;
      st.positions[AssetLabel(o.market, o.row_asset_id)] += f.size;
    } else {
      st.cash_micros += notional;
      st.positions[AssetLabel(o.market, o.row_asset_id)] -= f.size;
    }
    st.cash_micros -= f.fee_micros;
    positions_.AddFill(o.plugin, o.market, o.row_asset_id, o.side == Side::kBid, f.price, f.size, f.fee_micros);
    Record("{\"type\":\"fill\",\"ts_ms\":" + std::to_string(now_ms_) + ",\"plan_id\":" + std::to_string(o.plan_id) +
           ",\"leg\":" + std::to_string(o.leg_index) + ",\"order_id\":" + std::to_string(f.order_id) +
           ",\"price\":" + Dec(f.price) + ",\"size\":" + Dec(f.size) + ",\"fee\":" + Dec(f.fee_micros) +
           ",\"maker\":" + (f.maker ? "true" : "false") + "}");
    if (persist_) pending_fills_.push_back(FillRow{o.row.plan_id, o.leg_index, f.price, f.size, f.fee_micros, now_ms_});
    PluginFill pf;
    pf.plan_id = o.plan_id;
    pf.leg_index = o.leg_index;
    pf.order_id = std::to_string(f.order_id);
    pf.trade_id = std::to_string(fills_);
    pf.price = f.price;
    pf.size = f.size;
    pf.fee_micros = f.fee_micros;
    pf.maker = f.maker;
    pf.simulated = true;
    pf.ts_ms = now_ms_;
    host_->DispatchFill(pf);
  }

 private:
  struct OpenOrder {
    int64_t plan_id = 0;
    uint32_t leg_index = 0;
    std::string plugin;
    std::string market;
    std::string row_asset_id;
    Side side = Side::kBid;
    int64_t price = 0;
    int64_t remaining = 0;
    int64_t filled = 0;
    int64_t planned_ns = 0;
    int64_t ack_us = -1;
    OrderRow row;
  };

  std::unique_ptr<Relayer> MakeSessionRelayer() {
    if (options_.relayer != "real") return MakeRelayer(options_.relayer, options_.paper);
    RealRelayerOptions real = options_.real;
    real.dry_run = options_.dry_run;
    // Tick size from the live book, else the catalog; neg-risk from the catalog.
    real.market_params = [this](std::string_view market, std::string_view asset_id) {
      MarketParams p;
      if (engine_ != nullptr) {
        int64_t k = engine_->Find(market, asset_id);
        if (k >= 0 && engine_->asset(static_cast<uint32_t>(k)).has_book) {
          p.tick_micros = engine_->asset(static_cast<uint32_t>(k)).book.tick_size();
        }
      }
      if (auto m = catalog_.FindMarket(market)) {
        if (p.tick_micros == 0) p.tick_micros = m->tick_size_micros;
        p.neg_risk = m->neg_risk;
      }
      return p;
    };
    return MakeRelayer("real", options_.paper, &real);
  }

  static BookMeta Meta(const AssetState& a) {
    BookMeta m;
    m.seq = a.seq;
    m.ts_ms = a.last_update_ts_ms;
    m.stale = a.stale;
    m.event_ns = SteadyNs();
    return m;
  }

  int64_t MidOf(const std::string& asset_id) const {
    auto it = last_mid_.find(asset_id);
    return it == last_mid_.end() ? 0 : it->second;
  }

  PluginRunStats& StatsFor(const std::string& plugin) {
    auto [it, inserted] = stats_.try_emplace(plugin);
    if (inserted) it->second.name = plugin;
    return it->second;
  }

  // ---- polyhost.control/1 (RunControlTarget), on the strategy thread ------------------

  static void ControlAuditLine(int level, const std::string& line) {
    static const std::shared_ptr<spdlog::logger> log = obs::ModuleLogger("plugin");
    log->log(level == 0 ? spdlog::level::debug : level == 1 ? spdlog::level::info : spdlog::level::warn, "{}", line);
  }

  static std::string JoinNames(const std::set<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
  }

  // The gate's kill switches = [risk] kill_switch + the pause file.
  void ApplyKillSwitches() {
    for (const PluginInfo& info : host_->ListPlugins()) {
      const bool by_config = std::find(options_.kill_switch.begin(), options_.kill_switch.end(), info.name) !=
                             options_.kill_switch.end();
      gate_.SetKillSwitch(info.name, by_config || pause_.IsPaused(info.name));
    }
  }

  // One exec_audit row per control action (decision "control"; docs/plugins/tgbot.md).
  void ControlAudit(const ControlCaller& caller, const std::string& what) {
    const std::string text = what + " (asked by plugin '" + caller.plugin + "': " + caller.reason + ")";
    obs::LogWith(RunLog(), spdlog::level::info, "control", {{"plugin", caller.plugin}, {"action", text}});
    if (persist_) {
      pending_audits_.push_back(AuditRow{options_.run_id + ":control:" + std::to_string(++control_actions_),
                                         caller.plugin, "control", text, "[]", -1, -1, now_ms_});
    }
  }

  RunControlView View() override {
    RunControlView v;
    v.ts_ms = now_ms_;
    v.dry_run = options_.dry_run;
    v.feed = options_.live != nullptr ? "ws" : "replay";
    v.finished = feed_finished_;
    v.plugins = host_->ListPlugins();
    for (const PluginInfo& p : v.plugins) {
      if (gate_.killed(p.name)) v.paused.insert(p.name);
    }
    v.paused_all = pause_.all();
    if (engine_ != nullptr) {
      for (uint32_t k = 0; k < engine_->asset_count(); ++k) {
        const AssetState& a = engine_->asset(k);
        AssetStatus s;
        s.market = a.market;
        s.asset_id = a.asset_id;
        s.last_update_ts_ms = a.last_update_ts_ms;
        s.seq = a.seq;
        s.best_bid = a.book.best_bid();
        s.best_ask = a.book.best_ask();
        s.stale = a.stale;
        v.assets.push_back(std::move(s));
        if (auto m = catalog_.FindMarket(a.market); m && !m->question.empty()) {
          v.names.question[a.market] = std::string(m->question);
        }
        if (auto o = catalog_.FindOutcome(a.market, a.asset_id); o && !o->outcome.empty()) {
          v.names.outcome[a.market + "/" + a.asset_id] = std::string(o->outcome);
        }
      }
      const EngineCounters& c = engine_->counters();
      v.lines = c.lines;
      v.events = c.events;
      v.malformed = c.malformed;
      v.continuity_breaks = c.continuity_breaks;
    }
    for (const auto& [id, o] : orders_) {
      v.orders.push_back(OpenOrderRow{o.plugin, o.market, o.row_asset_id, o.side, o.price, o.row.size, o.filled,
                                      o.filled > 0 ? "partially_filled" : "open"});
    }
    v.open_notional = exposure_.total_notional_micros;
    v.plans = plans_;
    for (const auto& [name, st] : stats_) {
      v.plans_accepted += st.accepted;
      v.plans_rejected += st.rejected;
    }
    v.orders_total = next_order_id_ - 1;
    v.fills = fills_;
    v.reconnects = reconnects_;
    v.positions = positions_;
    v.positions.Mark([this](std::string_view market, std::string_view asset_id) -> int64_t {
      if (engine_ == nullptr) return 0;
      const int64_t k = engine_->Find(market, asset_id);
      if (k < 0) return 0;
      const OrderBook& b = engine_->asset(static_cast<uint32_t>(k)).book;
      return b.best_bid() != 0 && b.best_ask() != 0 ? (b.best_bid() + b.best_ask()) / 2 : 0;
    });
    return v;
  }

  std::optional<StoredBook> FindBook(const std::string& market, const std::string& outcome,
                                     std::string* name) override {
    if (engine_ == nullptr) return std::nullopt;
    std::string asset_id = outcome;
    if (engine_->Find(market, asset_id) < 0) {
      // An outcome name ("Yes"): the catalog knows the token.
      if (auto m = catalog_.FindMarket(market)) {
        for (uint32_t i = 0; i < m->outcome_count; ++i) {
          auto o = catalog_.OutcomeAt(market, i);
          if (o && o->outcome.size() == outcome.size() &&
              std::equal(o->outcome.begin(), o->outcome.end(), outcome.begin(),
                         [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
            asset_id = std::string(o->asset_id);
          }
        }
      }
    }
    const int64_t k = engine_->Find(market, asset_id);
    if (k < 0) return std::nullopt;
    const AssetState& a = engine_->asset(static_cast<uint32_t>(k));
    if (!a.has_book) return std::nullopt;
    if (auto o = catalog_.FindOutcome(market, asset_id)) *name = std::string(o->outcome);
    return StoredBook{a.market, a.asset_id, a.seq, a.last_update_ts_ms, a.stale, a.book};
  }

  ph_result SetPaused(const std::string& plugin, bool paused, const ControlCaller& caller) override {
    const std::string verb = paused ? "pause" : "resume";
    const std::vector<PluginInfo> plugins = host_->ListPlugins();
    const bool known = plugin == "*" || std::any_of(plugins.begin(), plugins.end(),
                                                    [&](const PluginInfo& p) { return p.name == plugin; });
    if (!known) {
      ControlAudit(caller, "refused " + verb + " of '" + plugin + "': no such plugin in this run");
      return PH_ERR_NOT_FOUND;
    }
    const bool by_config =
        std::find(options_.kill_switch.begin(), options_.kill_switch.end(), plugin) != options_.kill_switch.end();
    if (!paused && by_config) {
      // The configuration's kill switch is the operator's, not the bot's to lift.
      ControlAudit(caller, "refused resume of '" + plugin + "': [risk] kill_switch lists it");
      return PH_ERR_WRONG_STATE;
    }
    try {
      pause_.Set(plugin, paused);
    } catch (const std::exception& e) {
      ControlAudit(caller, "failed " + verb + " of '" + plugin + "': " + e.what());
      return PH_ERR_FAILED;
    }
    ApplyKillSwitches();
    std::string kept_by_config;  // "/resume" of everything leaves the configuration's switches on
    if (plugin == "*" && !paused) {
      for (const std::string& k : options_.kill_switch) kept_by_config += (kept_by_config.empty() ? "" : ",") + k;
    }
    ControlAudit(caller, verb + " of " + (plugin == "*" ? std::string("every plugin") : "'" + plugin + "'") +
                             ": kill switch " + (paused ? "on" : "off") +
                             (kept_by_config.empty() ? "" : " except [risk] kill_switch " + kept_by_config) +
                             (pause_.path().empty() ? std::string(" (not kept: no pause file)")
                                                    : " (kept in " + pause_.path() + ")"));
    return PH_OK;
  }

  ph_result CancelAll(const ControlCaller& caller) override {
    std::vector<int64_t> ids;
    for (const auto& [id, o] : orders_) ids.push_back(id);
    ControlAudit(caller, "cancel-all: " + std::to_string(ids.size()) + " open order(s) sent to the " +
                             std::string(relayer_->name()) + " relayer for cancellation");
    for (int64_t id : ids) relayer_->Cancel(id);
    return PH_OK;
  }

  // run --hold: after the feed, keep the plugins (a bot) running and serve
  // control calls until the stop flag; records of their actions are written at once.
  void Hold() {
    feed_finished_ = true;
    spdlog::info("run: feed done; plugins keep running until SIGINT/SIGTERM (--hold)");
    while (!options_.hold_until->load()) {
      if (control_.pending()) control_.Service();
      if (persist_ && (!pending_audits_.empty() || !pending_orders_.empty() || !pending_fills_.empty())) {
        WriteBatch batch;
        FlushRecords(&batch);
        options_.store->Submit(std::move(batch));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (persist_) options_.store->Flush();
  }

  // Loader and plugin log lines go to the host log at their own level.
  static void Warn(const PluginLogLine& line) {
    static constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::trace, spdlog::level::debug,
                                                            spdlog::level::info, spdlog::level::warn,
                                                            spdlog::level::err};
    const auto level = kLevels[static_cast<size_t>(line.level)];
    static const std::shared_ptr<spdlog::logger> plugin_log = obs::ModuleLogger("plugin");
    if (line.plugin.empty()) {
      plugin_log->log(level, "{}", line.message);
    } else {
      obs::LogWith(*plugin_log, level, line.message, {{"plugin", std::string(line.plugin)}});
    }
  }

  // Structured log lines of the run (plans at debug, stale/resynced books at info).
  static spdlog::logger& RunLog() {
    static const std::shared_ptr<spdlog::logger> logger = obs::ModuleLogger("run");
    return *logger;
  }

  void PublishLiveStats(const BookEngine& engine, bool finished, const LiveSummary* feed = nullptr) {
    RunLiveStats live;
    live.feed = feed;
    live.counters = &engine.counters();
    live.assets = engine.asset_count();
    for (uint32_t k = 0; k < engine.asset_count(); ++k) live.stale_assets += engine.asset(k).stale ? 1 : 0;
    live.plugins = host_->ListPlugins();
    {
      std::lock_guard lock(plugin_errors_mu_);
      live.plugin_errors = plugin_errors_;
    }
    if (options_.store != nullptr) live.store = options_.store->stats();
    live.plans = plans_;
    live.orders = next_order_id_ - 1;
    live.fills = fills_;
    live.book_update = book_update_;
    live.finished = finished;
    options_.on_live_stats(live);
  }

  void Record(const std::string& line) {
    if (options_.on_record) options_.on_record(line);
  }

  // OnLine, timed for one line in kBookUpdateSampleEvery (two clock reads per
  // 64 lines keep the per-event path free of clock calls).
  void OnLineSampled(const BookEngine& engine, const ParsedLine& line) {
    if ((++lines_seen_ & (kBookUpdateSampleEvery - 1)) != 0) {
      OnLine(engine, line);
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    OnLine(engine, line);
    book_update_.Observe(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  }

  void OnLine(const BookEngine& engine, const ParsedLine& line) {
    if (engine.last_ts_ms() > now_ms_.load(std::memory_order_relaxed)) {
      now_ms_.store(engine.last_ts_ms(), std::memory_order_relaxed);
    }
    if (host_key_.size() < engine.asset_count()) host_key_.resize(engine.asset_count(), UINT32_MAX);
    if (was_stale_.size() < engine.asset_count()) was_stale_.resize(engine.asset_count(), 0);
    for (uint32_t key : engine.touched()) {
      const AssetState& a = engine.asset(key);
      if (host_key_[key] == UINT32_MAX) {
        host_key_[key] = host_->InternAsset(a.market, a.asset_id);
        catalog_.AddObservedAsset(a.market, a.asset_id);
      }
      const OrderBook& book = a.book;
      relayer_->OnBook(a.market, a.asset_id, book);
      const BookMeta meta = Meta(a);
      if (was_stale_[key] && !a.stale) {
        host_->DispatchStatus(host_key_[key], AssetStatusKind::kResynced, meta);
        obs::LogWith(RunLog(), spdlog::level::info, "book resynced",
                     {{"market", a.market}, {"asset", a.asset_id}, {"seq", std::to_string(a.seq)}});
      }
      if (host_->HasSubscribers(host_key_[key])) host_->DispatchBook(host_key_[key], book, meta);
    }
    // Continuity changes that did not touch the book (drift) are reported too.
    for (uint32_t key = 0; key < engine.asset_count(); ++key) {
      const bool stale = engine.asset(key).stale;
      if (stale && !was_stale_[key]) {
        const AssetState& a = engine.asset(key);
        if (host_key_[key] == UINT32_MAX) host_key_[key] = host_->InternAsset(a.market, a.asset_id);
        host_->DispatchStatus(host_key_[key], AssetStatusKind::kStale, Meta(a));
        obs::LogWith(RunLog(), spdlog::level::info, "book stale",
                     {{"market", a.market}, {"asset", a.asset_id}, {"seq", std::to_string(a.seq)}});
      }
      was_stale_[key] = stale ? 1 : 0;
    }
    for (const FeedEvent& ev : line.events) {
      if (ev.type != EventType::kLastTradePrice || !ev.has_value || !ev.has_value2) continue;
      const std::string_view market = ev.market.empty() ? std::string_view(options_.default_market) : ev.market;
      relayer_->OnTrade(market, ev.asset_id, ev.value, ev.value2);
      int64_t k = engine.Find(market, ev.asset_id);
      if (k < 0) continue;
      if (host_key_[static_cast<size_t>(k)] == UINT32_MAX) continue;
      TradePrint t;
      t.taker_side = ev.side;
      t.price = ev.value;
      t.size = ev.value2;
      t.ts_ms = ev.ts_ms;
      host_->DispatchTrade(host_key_[static_cast<size_t>(k)], t);
    }
    host_->DispatchTimers(now_ms_);
    ExecutePlans(engine);
    for (const PluginCancelRequest& c : host_->DrainCancels()) Cancel(c);
    if (live_source_ != nullptr) SyncLiveSubscriptions();
    if (control_.pending()) control_.Service();  // one relaxed load per line when nobody asks
  }

  void ExecutePlans(const BookEngine& engine) {
    for (Plan& plan : host_->DrainPlans()) {
      ++plans_;
      PluginRunStats& st = StatsFor(plan.plugin);
      ++st.plans;
      std::vector<LegMarket> legs;
      legs.reserve(plan.legs.size());
      for (const PlanLeg& leg : plan.legs) {
        LegMarket m;
        int64_t k = engine.Find(leg.market, leg.asset_id);
        if (k >= 0) {
          const AssetState& a = engine.asset(static_cast<uint32_t>(k));
          if (a.has_book) {
            m.book = &a.book;
            m.stale = a.stale;
            m.tick_micros = a.book.tick_size();
          }
          if (auto market = catalog_.FindMarket(leg.market)) {
            if (m.tick_micros == 0) m.tick_micros = market->tick_size_micros;
            m.min_order_size_micros = market->min_order_size_micros;
          }
        }
        legs.push_back(m);
      }
      const Decision d = gate_.Check(plan, legs, exposure_, now_ms_ * 1'000'000);
      const std::string db_plan_id = options_.run_id + ":" + std::to_string(plan.plan_id);
      const std::string legs_json = LegsJson(plan);
      const int64_t event_to_plan_us =
          plan.book_event_ns > 0 && plan.planned_ns >= plan.book_event_ns ? (plan.planned_ns - plan.book_event_ns) / 1000 : -1;
      Record("{\"type\":\"plan\",\"ts_ms\":" + std::to_string(now_ms_) + ",\"plan_id\":" + std::to_string(plan.plan_id) +
             ",\"plugin\":" + JsonQuoted(plan.plugin) + ",\"tag\":" + JsonQuoted(plan.client_tag) +
             ",\"legs\":" + legs_json + ",\"decision\":\"" + (d.accepted() ? "accepted" : "rejected") + "\"" +
             (d.accepted() ? "" : ",\"reject\":\"" + std::string(RejectCodeName(d.code)) + "\",\"reason\":" + JsonQuoted(d.reason)) +
             "}");
      AuditRow audit{db_plan_id, plan.plugin, d.accepted() ? "accepted" : "rejected",
                     d.accepted() ? plan.reason : std::string(RejectCodeName(d.code)) + ": " + d.reason,
                     legs_json, event_to_plan_us, -1, now_ms_};
      PluginOrderUpdate pu;
      pu.plan_id = plan.plan_id;
      pu.dry_run = options_.dry_run;
      pu.ts_ms = now_ms_;
      if (RunLog().should_log(spdlog::level::debug)) {
        obs::LogWith(RunLog(), spdlog::level::debug, d.accepted() ? "plan accepted" : "plan rejected",
                     {{"plugin", plan.plugin},
                      {"plan_id", db_plan_id},
                      {"market", plan.legs.empty() ? std::string() : plan.legs.front().market},
                      {"asset", plan.legs.empty() ? std::string() : plan.legs.front().asset_id},
                      {"legs", std::to_string(plan.legs.size())},
                      {"reason", d.accepted() ? std::string() : std::string(RejectCodeName(d.code))},
                      {"detail", d.accepted() ? plan.reason : d.reason}});
      }
      if (!d.accepted()) {
        ++st.rejected;
        ++st.rejects_by_reason[RejectCodeName(d.code)];
        if (persist_) pending_audits_.push_back(std::move(audit));
        pu.event = PluginOrderEvent::kPlanRejected;
        pu.reason = std::string(RejectCodeName(d.code)) + ": " + d.reason;
        host_->DispatchOrderUpdate(pu);
        continue;
      }
      ++st.accepted;
      pu.event = PluginOrderEvent::kPlanAccepted;
      host_->DispatchOrderUpdate(pu);
      open_legs_[plan.plan_id] = static_cast<int64_t>(plan.legs.size());
      // An index, not a pointer: Submit below may append (venue rejects) and
      // reallocate pending_audits_.
      std::optional<size_t> accepted_audit;
      if (persist_) {
        pending_audits_.push_back(std::move(audit));
        accepted_audit = pending_audits_.size() - 1;
      }
      for (uint32_t i = 0; i < plan.legs.size(); ++i) {
        const PlanLeg& leg = plan.legs[i];
        const int64_t order_id = next_order_id_++;
        ++st.orders;
        OpenOrder o;
        o.plan_id = plan.plan_id;
        o.leg_index = i;
        o.plugin = plan.plugin;
        o.market = leg.market;
        o.row_asset_id = leg.asset_id;
        o.side = leg.side;
        o.price = leg.price;
        o.remaining = leg.size;
        o.planned_ns = plan.planned_ns;
        int64_t k = engine.Find(leg.market, leg.asset_id);
        o.row = OrderRow{db_plan_id, i, plan.plugin, static_cast<uint32_t>(k), leg.side, leg.price, leg.size,
                         TimeInForceName(leg.tif), "new", std::string(relayer_->name()), options_.dry_run, 0, "",
                         now_ms_};
        const int64_t notional = NotionalMicros(leg.price, leg.size);
        exposure_.market_notional_micros[leg.market] += notional;
        exposure_.total_notional_micros += notional;
        ++exposure_.open_orders;
        orders_.emplace(order_id, std::move(o));
        relayer_->Submit(Order{order_id, plan.plan_id, plan.plugin, leg});
      }
      // plan_to_ack: the slowest leg's ack (simulated relayers ack synchronously).
      int64_t ack = -1;
      for (const auto& [id, o] : orders_) {
        if (o.plan_id == plan.plan_id && o.ack_us > ack) ack = o.ack_us;
      }
      if (ack < 0) ack = (SteadyNs() - plan.planned_ns) / 1000;
      if (accepted_audit && *accepted_audit < pending_audits_.size()) {
        pending_audits_[*accepted_audit].plan_to_ack_us = ack;
      }
    }
  }

  // Open exposure shrinks as orders fill or close (fills become positions, which
  // the caps do not count: a Dutch book's filled basket is settled risk-free).
  void ReleaseExposure(const OpenOrder& o, int64_t filled_now, OrderState state) {
    int64_t released = filled_now > 0 ? NotionalMicros(o.price, filled_now) : 0;
    const bool closed = state == OrderState::kFilled || state == OrderState::kCancelled || state == OrderState::kRejected;
    if (closed) {
      released += NotionalMicros(o.price, o.remaining);
      --exposure_.open_orders;
    }
    if (released == 0) return;
    auto it = exposure_.market_notional_micros.find(o.market);
    if (it != exposure_.market_notional_micros.end()) it->second = std::max<int64_t>(0, it->second - released);
    exposure_.total_notional_micros = std::max<int64_t>(0, exposure_.total_notional_micros - released);
  }

  // Live runs: an asset a plugin subscribes to by name (at any time) is subscribed
  // on the feed too; one the feed got only that way is unsubscribed again when no
  // plugin wants it. The wildcard subscription adds nothing (the venue has no
  // "every asset" channel). Cheap when nothing changed: one generation compare.
  void SyncLiveSubscriptions() {
    if (host_->subscription_generation() == live_generation_) return;
    live_generation_ = host_->subscription_generation();
    std::vector<LiveAsset> add;
    std::set<std::string> wanted;
    for (const AssetKey& k : host_->SubscribedAssets()) {
      if (k.asset_id.empty() || k.asset_id == PH_SUBSCRIBE_ALL) continue;
      wanted.insert(k.asset_id);
      if (live_assets_.count(k.asset_id) != 0 || !dynamic_assets_.insert(k.asset_id).second) continue;
      add.push_back({k.market, k.asset_id, ""});
    }
    std::vector<std::string> drop;
    for (auto it = dynamic_assets_.begin(); it != dynamic_assets_.end();) {
      if (wanted.count(*it) != 0) {
        ++it;
        continue;
      }
      drop.push_back(*it);
      it = dynamic_assets_.erase(it);
    }
    if (!add.empty()) {
      obs::LogWith(RunLog(), spdlog::level::info, "plugins subscribed: adding to the live feed",
                   {{"assets", std::to_string(add.size())}, {"first", add.front().asset_id}});
      live_source_->Subscribe(add);
    }
    if (!drop.empty()) live_source_->Unsubscribe(drop);
  }

  // Intake has stopped: nothing follows the books any more, so no order the run
  // placed may stay open (at the venue, for the real relayer).
  void CancelOpenOrdersAtStop() {
    std::vector<int64_t> ids;
    for (const auto& [id, o] : orders_) ids.push_back(id);
    if (ids.empty()) return;
    obs::LogWith(RunLog(), spdlog::level::info, "live feed stopped: cancelling open orders",
                 {{"orders", std::to_string(ids.size())}, {"relayer", std::string(relayer_->name())}});
    for (int64_t id : ids) relayer_->Cancel(id);
    cancelled_at_stop_ = static_cast<int64_t>(ids.size());
  }

  void Cancel(const PluginCancelRequest& c) {
    std::vector<int64_t> ids;
    for (const auto& [id, o] : orders_) {
      if (o.plugin != c.plugin) continue;
      bool match = c.scope == PluginCancelRequest::Scope::kAll ||
                   (c.scope == PluginCancelRequest::Scope::kPlan && o.plan_id == c.plan_id) ||
                   (c.scope == PluginCancelRequest::Scope::kAsset && o.market == c.market && o.row_asset_id == c.asset_id) ||
                   (c.scope == PluginCancelRequest::Scope::kOrder && std::to_string(id) == c.order_id);
      if (match) ids.push_back(id);
    }
    for (int64_t id : ids) relayer_->Cancel(id);
  }

  void FlushRecords(WriteBatch* batch) {
    batch->audits.insert(batch->audits.end(), std::make_move_iterator(pending_audits_.begin()),
                         std::make_move_iterator(pending_audits_.end()));
    batch->orders.insert(batch->orders.end(), std::make_move_iterator(pending_orders_.begin()),
                         std::make_move_iterator(pending_orders_.end()));
    batch->fills.insert(batch->fills.end(), std::make_move_iterator(pending_fills_.begin()),
                        std::make_move_iterator(pending_fills_.end()));
    pending_audits_.clear();
    pending_orders_.clear();
    pending_fills_.clear();
  }

  const RunOptions& options_;
  const bool persist_ = options_.store != nullptr;
  MarketCatalog catalog_;
  MarketsExtension markets_ext_{catalog_};
  RiskGate gate_;
  std::unique_ptr<Relayer> relayer_;
  // Before host_: the host's log callback writes it, also while the host is destroyed.
  std::mutex plugin_errors_mu_;  // the log callback is [any-thread]
  std::map<std::string, int64_t> plugin_errors_;  // error-level log lines per plugin (metrics)
  // polyhost.control/1 and polyhost.http/1, before host_ (the plugins use them
  // until the host is destroyed). pause_: the pause file, read at start.
  PauseState pause_{options_.pause_file};
  RunControl control_{*this};
  ControlExtension control_ext_{control_, &ControlAuditLine};
  HttpExtension http_ext_{[](const std::string& line) { ControlAuditLine(0, line); }};
  PositionBook positions_;  // per plugin and token, from the fills (control "positions", "pnl")
  int64_t reconnects_ = 0;  // websocket reconnects so far (run --ws)
  int64_t control_actions_ = 0;
  bool feed_finished_ = false;
  std::unique_ptr<PluginHost> host_;
  const BookEngine* engine_ = nullptr;
  // Live runs (SyncLiveSubscriptions, CancelOpenOrdersAtStop).
  LiveSource* live_source_ = nullptr;
  uint64_t live_generation_ = 0;
  std::set<std::string> live_assets_;     // the feed's own assets (never unsubscribed here)
  std::set<std::string> dynamic_assets_;  // added because a plugin subscribed
  int64_t cancelled_at_stop_ = 0;
  // Feed time. Written by the strategy thread only; the host clock (now_ms in the
  // ABI, callable from any thread: tgbot's threads) reads it, hence atomic.
  // Relaxed: a reader needs a recent value, not an ordering with other data.
  std::atomic<int64_t> now_ms_{0};
  std::vector<uint32_t> host_key_;  // engine key -> plugin-host key
  std::vector<uint8_t> was_stale_;
  std::unordered_map<std::string, int64_t> last_mid_;
  Exposure exposure_;
  std::map<int64_t, OpenOrder> orders_;  // open orders by order id
  std::map<int64_t, int64_t> open_legs_;  // plan id -> legs still open
  std::map<std::string, PluginRunStats> stats_;
  int64_t next_order_id_ = 1;
  int64_t plans_ = 0;
  int64_t fills_ = 0;
  int64_t lines_seen_ = 0;            // for OnLineSampled
  LatencyHistogramNs book_update_;    // polyhost_book_update_seconds
  std::vector<AuditRow> pending_audits_;
  std::vector<OrderRow> pending_orders_;
  std::vector<FillRow> pending_fills_;
};

}  // namespace

RunSummary RunFeed(const RunOptions& options) {
  Session session(options);
  return session.Run();
}

PluginConfig PluginConfigFor(const Config& config, const std::string& name) {
  auto it = config.plugin_sections.find(name);
  return ToPluginConfig(it == config.plugin_sections.end() ? nullptr : &it->second);
}

}  // namespace polyhost

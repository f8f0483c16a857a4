// Run options from the configuration and the run summary's output, shared by the
// run commands (run_command.cc) and run-service (run_service_command.cc).
#include "cli/run_options.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/relayer_options.h"
#include "core/decimal.h"

namespace polyhost {

// The plugins [strategy] enables, when --plugins is not given.
std::vector<std::string> DefaultPlugins(const Config& config) {
  std::vector<std::string> out;
  if (config.strategy.dutchbook) out.push_back("dutchbook");
  if (config.strategy.spread) out.push_back("spread");
  return out;
}

// [plugins] dirs, then the plugin folders that sit beside this executable: the
// build tree (build/<preset>/plugins) and an installed prefix (lib/polyhost/plugins),
// so the shipped plugins are found from any working directory.
std::vector<std::string> PluginDirs(const Config& config) {
  std::vector<std::string> dirs = config.plugins.dirs;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path base = exe.parent_path().parent_path();
    dirs.push_back((base / "plugins").string());
    dirs.push_back((base / "lib" / "polyhost" / "plugins").string());
  }
  return dirs;
}

RunOptions RunOptionsFromConfig(const Config& config, const std::string& relayer_flag) {
  RunOptions o;
  o.plugin_dirs = PluginDirs(config);
  o.config = &config;
  o.relayer = relayer_flag.empty() ? config.relayer.type : relayer_flag;
  o.paper.taker_fee_bps = config.relayer.paper_taker_fee_bps;
  o.paper.maker_fee_bps = config.relayer.paper_maker_fee_bps;
  o.limits.max_order_notional_micros = config.risk.max_order_notional_micros;
  o.limits.max_market_notional_micros = config.risk.max_market_notional_micros;
  o.limits.max_total_notional_micros = config.risk.max_total_notional_micros;
  o.limits.max_open_orders = static_cast<int32_t>(config.risk.max_open_orders);
  o.limits.duplicate_window_ns = config.risk.duplicate_window_ms * 1'000'000;
  o.kill_switch = config.risk.kill_switch;
  o.dry_run = config.relayer.dry_run;
  if (o.relayer == "real") o.real = RealRelayerOptionsFromConfig(config);
  o.run_id = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  o.on_warning = [](const std::string& m) { spdlog::warn("{}", m); };
  return o;
}

void PrintRunSummary(const RunSummary& s) {
  const auto& c = s.replay.counters;
  std::printf("run: %lld lines, %lld events, %lld assets (%lld stale), %lld malformed, %.3f s (%.0f lines/s)\n",
              static_cast<long long>(c.lines), static_cast<long long>(c.events), static_cast<long long>(s.replay.assets),
              static_cast<long long>(s.replay.stale_assets), static_cast<long long>(c.malformed), s.replay.seconds,
              s.replay.seconds > 0 ? static_cast<double>(c.lines) / s.replay.seconds : 0.0);
  if (s.replay.stopped) {
    std::printf("stopped by a signal after line %lld (a rerun resumes there)\n",
                static_cast<long long>(s.replay.stopped_at_line));
  }
  std::printf("plans %lld, orders %lld, fills %lld\n", static_cast<long long>(s.plans),
              static_cast<long long>(s.orders), static_cast<long long>(s.fills));
  std::printf("%-14s %-8s %7s %8s %8s %7s %6s %12s %10s %12s\n", "plugin", "state", "plans", "accepted", "rejected",
              "orders", "fills", "volume", "fees", "pnl (mid)");
  for (size_t i = 0; i < s.plugins.size(); ++i) {
    const PluginInfo& info = s.plugins[i];
    const PluginRunStats& st = s.stats[i];
    std::printf("%-14s %-8s %7lld %8lld %8lld %7lld %6lld %12s %10s %12s\n", info.name.c_str(),
                info.failure.empty() ? "ok" : "DISABLED", static_cast<long long>(st.plans),
                static_cast<long long>(st.accepted), static_cast<long long>(st.rejected),
                static_cast<long long>(st.orders), static_cast<long long>(st.fills),
                FormatDecimal(st.filled_size).c_str(), FormatDecimal(st.fees_micros).c_str(),
                FormatDecimal(st.pnl_micros()).c_str());
    if (!info.failure.empty()) std::printf("  %s: %s\n", info.name.c_str(), info.failure.c_str());
    for (const auto& [reason, n] : st.rejects_by_reason) {
      std::printf("  rejected %-22s %lld\n", reason.c_str(), static_cast<long long>(n));
    }
  }
}

boost::json::object RunSummaryJson(const RunSummary& s) {
  boost::json::object o;
  o["lines"] = s.replay.counters.lines;
  o["events"] = s.replay.counters.events;
  o["malformed"] = s.replay.counters.malformed;
  o["stopped"] = s.replay.stopped;
  if (s.replay.stopped) o["stopped_at_line"] = s.replay.stopped_at_line;
  o["plans"] = s.plans;
  o["orders"] = s.orders;
  o["fills"] = s.fills;
  boost::json::array plugins;
  for (size_t i = 0; i < s.plugins.size(); ++i) {
    const PluginRunStats& st = s.stats[i];
    boost::json::object p;
    p["name"] = s.plugins[i].name;
    p["state"] = PluginStateName(s.plugins[i].state);
    p["failure"] = s.plugins[i].failure;
    p["plans"] = st.plans;
    p["accepted"] = st.accepted;
    p["rejected"] = st.rejected;
    boost::json::object reasons;
    for (const auto& [r, n] : st.rejects_by_reason) reasons[r] = n;
    p["rejects_by_reason"] = std::move(reasons);
    p["orders"] = st.orders;
    p["orders_filled"] = st.orders_filled;
    p["orders_cancelled"] = st.orders_cancelled;
    p["orders_rejected"] = st.orders_rejected;
    p["fills"] = st.fills;
    p["volume"] = FormatDecimal(st.filled_size);
    p["fees"] = FormatDecimal(st.fees_micros);
    p["cash"] = FormatDecimal(st.cash_micros);
    p["pnl_at_mid"] = FormatDecimal(st.pnl_micros());
    plugins.push_back(std::move(p));
  }
  o["plugins"] = std::move(plugins);
  return o;
}

}  // namespace polyhost

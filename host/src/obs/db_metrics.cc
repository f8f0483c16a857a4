#include "obs/db_metrics.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <tuple>

#include "store/db_reader.h"

namespace polyhost::obs {
namespace {

constexpr double kMicro = 1e-6;


PluginMetrics& PluginRow(std::map<std::string, PluginMetrics>& plugins, const std::string& name) {
  PluginMetrics& p = plugins[name];
  p.plugin = name;
  return p;
}

}  // namespace

DbMetrics ReadDbMetrics(const DbUrl& url) {
  const std::unique_ptr<DbReader> reader = DbReader::Open(url, "metrics");
  DbReader& db = *reader;
  if (!db.HasTable("schema_version") || !db.HasTable("market_status")) {
    throw std::runtime_error(url.redacted + " is not a polyhost database (no market_status table)");
  }
  DbMetrics m;
  m.schema_version = static_cast<int>(db.Int("SELECT coalesce(max(version), 0) FROM schema_version"));
  m.db_size_bytes = db.SizeBytes();
  // max - min + 1 instead of count(*): O(1) on a table of hundreds of millions of rows.
  // (SQLite stores events in blocks from schema version 5: the same from their ids.)
  m.event_rows = db.HasTable("orderbook_event_blocks")
                     ? db.Int("SELECT coalesce((SELECT max(last_id) FROM orderbook_event_blocks) -"
                              " (SELECT min(first_id) FROM orderbook_event_blocks) + 1, 0)")
                     : db.Int("SELECT coalesce(max(id) - min(id) + 1, 0) FROM orderbook_events");
  m.snapshot_rows = db.Int("SELECT count(*) FROM orderbook_snapshots");
  db.Query("SELECT count(*), coalesce(sum(committed_line), 0) FROM sources", [&](const DbRow& r) {
    m.sources = r.Int(0);
    m.committed_lines = r.Int(1);
  });
  std::map<std::pair<std::string, std::string>, int64_t> mid;
  db.Query("SELECT o.market, o.asset_id, s.events, s.continuity_breaks, s.stale, s.last_update_ts_ms, s.best_bid, "
           "s.best_ask FROM market_status s JOIN outcomes o ON o.id = s.outcome_id",
           [&](const DbRow& row) {
             MarketMetrics r;
             r.market = row.Text(0);
             r.asset_id = row.Text(1);
             r.events = row.Int(2);
             r.continuity_breaks = row.Int(3);
             r.stale = row.Int(4) != 0;
             r.last_update_ts_ms = row.Int(5);
             r.best_bid = row.Int(6);
             r.best_ask = row.Int(7);
             if (r.best_bid != 0 && r.best_ask != 0) mid[{r.market, r.asset_id}] = (r.best_bid + r.best_ask) / 2;
             m.markets.push_back(std::move(r));
           });
  // Sorted here, bytewise, so both backends list markets in the same order
  // whatever PostgreSQL's collation.
  std::sort(m.markets.begin(), m.markets.end(), [](const MarketMetrics& a, const MarketMetrics& b) {
    return std::tie(a.market, a.asset_id) < std::tie(b.market, b.asset_id);
  });
  if (!db.HasTable("exec_audit")) return m;  // schema v1: market data only

  std::map<std::string, PluginMetrics> plugins;
  db.Query("SELECT plugin, decision, reason, count(*) FROM exec_audit GROUP BY plugin, decision, reason",
           [&](const DbRow& row) {
             PluginMetrics& p = PluginRow(plugins, row.Text(0));
             const std::string decision = row.Text(1);
             const int64_t n = row.Int(3);
             p.plans_by_decision[decision] += n;
             // The reason code ("crossed_book"), not its free-text detail: labels must
             // have few values.
             std::string reason = row.Text(2);
             reason.resize(std::min(reason.find(':'), reason.size()));
             if (decision == "rejected") p.rejects_by_reason[reason.empty() ? "unknown" : reason] += n;
           });
  m.event_to_plan.bounds = m.plan_to_ack.bounds = LatencyBucketsSeconds();
  m.event_to_plan.bucket_counts.assign(m.event_to_plan.bounds.size() + 1, 0);
  m.plan_to_ack.bucket_counts.assign(m.plan_to_ack.bounds.size() + 1, 0);
  db.Query("SELECT event_to_plan_us, plan_to_ack_us FROM exec_audit "
           "WHERE event_to_plan_us IS NOT NULL OR plan_to_ack_us IS NOT NULL",
           [&](const DbRow& row) {
             if (!row.IsNull(0)) m.event_to_plan.Observe(static_cast<double>(row.Int(0)) * kMicro);
             if (!row.IsNull(1)) m.plan_to_ack.Observe(static_cast<double>(row.Int(1)) * kMicro);
           });
  db.Query("SELECT plugin, status, count(*) FROM orders GROUP BY plugin, status", [&](const DbRow& row) {
    PluginRow(plugins, row.Text(0)).orders_by_status[row.Text(1)] += row.Int(2);
  });
  db.Query("SELECT r.plugin, o.market, o.asset_id, r.side, f.price_micros, f.size_micros, f.fee_micros "
           "FROM fills f JOIN orders r ON r.id = f.order_id JOIN outcomes o ON o.id = r.outcome_id",
           [&](const DbRow& row) {
             PluginMetrics& p = PluginRow(plugins, row.Text(0));
             const bool buy = row.Int(3) == 0;
             const int64_t price = row.Int(4);
             const int64_t size = row.Int(5);
             const int64_t fee = row.Int(6);
             const auto notional = static_cast<int64_t>(static_cast<__int128>(price) * size / 1'000'000);
             ++p.fills;
             p.filled_size += size;
             p.fees += fee;
             p.cash += (buy ? -notional : notional) - fee;
             p.inventory[{row.Text(1), row.Text(2)}] += buy ? size : -size;
           });
  for (auto& [name, p] : plugins) {
    for (const auto& [asset, qty] : p.inventory) {
      auto it = mid.find(asset);
      if (it != mid.end()) p.inventory_value += static_cast<int64_t>(static_cast<__int128>(qty) * it->second / 1'000'000);
    }
    m.plugins.push_back(std::move(p));
  }
  return m;
}

DbMetrics ReadDbMetrics(const std::string& sqlite_path) {
  DbUrl url;
  url.backend = DbUrl::Backend::kSqlite;
  url.path = url.redacted = sqlite_path;
  return ReadDbMetrics(url);
}

void AddDbMetrics(MetricsBuilder& out, const DbMetrics& m, int64_t now_ms) {
  out.Gauge("polyhost_db_schema_version", "Schema version of the database.", {}, m.schema_version);
  out.Gauge("polyhost_db_size_bytes", "Size of the database file plus its write-ahead log.", {},
            static_cast<double>(m.db_size_bytes));
  out.Gauge("polyhost_db_event_rows", "Order book event rows kept (shrinks after prune).", {},
            static_cast<double>(m.event_rows));
  out.Gauge("polyhost_db_snapshot_rows", "Order book snapshot rows kept.", {}, static_cast<double>(m.snapshot_rows));
  out.Gauge("polyhost_db_sources", "Feed files and live sessions recorded.", {}, static_cast<double>(m.sources));
  out.Gauge("polyhost_db_committed_lines", "Feed lines committed, summed over sources.", {},
            static_cast<double>(m.committed_lines));

  int64_t stale = 0;
  for (const MarketMetrics& r : m.markets) {
    const MetricLabels l = {{"market", r.market}, {"asset", r.asset_id}};
    stale += r.stale ? 1 : 0;
    out.Counter("polyhost_market_events_total", "Book events applied, per market and asset.", l,
                static_cast<double>(r.events));
    out.Counter("polyhost_market_continuity_breaks_total",
                "Times an asset's book went stale (sequence gap, drift, missing snapshot).", l,
                static_cast<double>(r.continuity_breaks));
    out.Gauge("polyhost_market_stale", "1 while the asset's book is stale (waiting for a snapshot).", l,
              r.stale ? 1 : 0);
    out.Gauge("polyhost_market_last_update_timestamp_seconds", "Venue time of the asset's last book update.", l,
              static_cast<double>(r.last_update_ts_ms) / 1000.0);
    out.Gauge("polyhost_market_seconds_since_update", "Wall-clock seconds since the asset's last book update.", l,
              r.last_update_ts_ms > 0 ? static_cast<double>(now_ms - r.last_update_ts_ms) / 1000.0 : 0.0);
    if (r.best_bid != 0) {
      out.Gauge("polyhost_market_best_bid_usdc", "Best bid price (USDC per share).", l, r.best_bid * kMicro);
    }
    if (r.best_ask != 0) {
      out.Gauge("polyhost_market_best_ask_usdc", "Best ask price (USDC per share).", l, r.best_ask * kMicro);
    }
  }
  out.Gauge("polyhost_assets", "Assets with a stored book status.", {}, static_cast<double>(m.markets.size()));
  out.Gauge("polyhost_stale_assets", "Assets whose book is stale.", {}, static_cast<double>(stale));

  for (const PluginMetrics& p : m.plugins) {
    const MetricLabels l = {{"plugin", p.plugin}};
    for (const auto& [decision, n] : p.plans_by_decision) {
      out.Counter("polyhost_plans_total", "Plans decided by the risk gate, per plugin and decision.",
                  {{"plugin", p.plugin}, {"decision", decision}}, static_cast<double>(n));
    }
    for (const auto& [reason, n] : p.rejects_by_reason) {
      out.Counter("polyhost_plan_rejects_total", "Plans rejected by the risk gate, per plugin and reason.",
                  {{"plugin", p.plugin}, {"reason", reason}}, static_cast<double>(n));
    }
    for (const auto& [status, n] : p.orders_by_status) {
      out.Gauge("polyhost_orders_by_status", "Orders per plugin by their current status.",
                {{"plugin", p.plugin}, {"status", status}}, static_cast<double>(n));
    }
    int64_t orders = 0, refused = 0;
    for (const auto& [status, n] : p.orders_by_status) {
      orders += n;
      if (status == "rejected") refused += n;
    }
    out.Counter("polyhost_orders_total", "Orders created, per plugin.", l, static_cast<double>(orders));
    out.Counter("polyhost_order_rejects_total", "Orders refused by the relayer, per plugin.", l,
                static_cast<double>(refused));
    out.Counter("polyhost_fills_total", "Fills, per plugin.", l, static_cast<double>(p.fills));
    out.Counter("polyhost_filled_shares_total", "Shares filled, per plugin.", l, p.filled_size * kMicro);
    out.Counter("polyhost_fees_usdc_total", "Fees paid, per plugin (USDC).", l, p.fees * kMicro);
    for (const auto& [asset, qty] : p.inventory) {
      out.Gauge("polyhost_inventory_shares", "Position per plugin and asset (shares; negative = short).",
                {{"plugin", p.plugin}, {"market", asset.first}, {"asset", asset.second}}, qty * kMicro);
    }
    out.Gauge("polyhost_pnl_usdc", "PnL per plugin: cash plus positions at the latest mid (USDC).", l,
              p.pnl() * kMicro);
  }
  if (m.event_to_plan.count() > 0 || !m.plugins.empty()) {
    out.Histogram("polyhost_event_to_plan_seconds", "Book event to plan latency (exec_audit).", {}, m.event_to_plan);
    out.Histogram("polyhost_plan_to_ack_seconds", "Plan to relayer acknowledgement latency (exec_audit).", {},
                  m.plan_to_ack);
  }
}

}  // namespace polyhost::obs

// Metrics derived from a polyhost database (SQLite or PostgreSQL), for processes that did not do
// the work themselves (polyhost metrics, metrics-export, metrics-serve) and for
// the run's own scrape endpoint. Everything here is what the database already
// records: market_status (per-asset events, continuity breaks, staleness, best
// bid/ask), exec_audit (plans by plugin and decision, reject reasons, timings),
// orders and fills (per-plugin orders, fills, inventory, PnL at mid), and the
// database's size. Reads run on their own read-only connection (store/db_reader.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "obs/metrics.h"
#include "store/db_url.h"

namespace polyhost::obs {

struct MarketMetrics {
  std::string market;
  std::string asset_id;
  int64_t events = 0;
  int64_t continuity_breaks = 0;
  bool stale = false;
  int64_t last_update_ts_ms = 0;
  int64_t best_bid = 0;  // micro-units; 0 = none
  int64_t best_ask = 0;
};

struct PluginMetrics {
  std::string plugin;
  std::map<std::string, int64_t> plans_by_decision;  // accepted | rejected
  std::map<std::string, int64_t> rejects_by_reason;  // by reason code (the text before the first ":")
  std::map<std::string, int64_t> orders_by_status;   // the order's current status
  int64_t fills = 0;
  int64_t filled_size = 0;   // micro-shares
  int64_t fees = 0;          // micro-USDC
  int64_t cash = 0;          // micro-USDC: − buys + sells − fees
  int64_t inventory_value = 0;  // micro-USDC: positions at the latest mid
  std::map<std::pair<std::string, std::string>, int64_t> inventory;  // (market, asset) -> micro-shares
  int64_t pnl() const { return cash + inventory_value; }
};

struct DbMetrics {
  int schema_version = 0;
  int64_t db_size_bytes = 0;
  int64_t event_rows = 0;      // orderbook_events rows (max id - min id + 1: exact unless pruned in the middle)
  int64_t snapshot_rows = 0;
  int64_t sources = 0;
  int64_t committed_lines = 0;  // summed over sources
  std::vector<MarketMetrics> markets;
  std::vector<PluginMetrics> plugins;
  HistogramData event_to_plan;  // seconds
  HistogramData plan_to_ack;    // seconds
};

// Reads the metrics of a database (SQLite file or PostgreSQL). Throws
// std::runtime_error naming the database (password redacted) when it cannot be
// opened or is not a polyhost database.
DbMetrics ReadDbMetrics(const DbUrl& url);
// The same for a SQLite file.
DbMetrics ReadDbMetrics(const std::string& sqlite_path);

// Adds the database-derived metrics (names in docs/operations.md). now_ms is the
// wall clock used for "seconds since update".
void AddDbMetrics(MetricsBuilder& out, const DbMetrics& m, int64_t now_ms);

}  // namespace polyhost::obs

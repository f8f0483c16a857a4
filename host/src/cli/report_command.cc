// polyhost report [--db-url URL] [--plugin NAME] [--json] [--html FILE] [--horizon-s N]
//
// Per plugin: PnL (realised by average cost, unrealised at the latest mid),
// inventory per asset, fills, fees, quote uptime, spread captured by paired
// buys/sells, and adverse selection (the mid N seconds after each fill). Reads the
// database (SQLite or PostgreSQL) through its own read-only connection
// (store/db_reader.h; docs/paper-trading.md).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/command.h"
#include "core/decimal.h"
#include "store/db_url.h"
#include "store/levels_json.h"
#include "store/db_reader.h"

namespace polyhost {
namespace {

constexpr int64_t kOne = 1'000'000;

struct ReportFlags {
  CommonFlags common;
  std::string plugin;
  std::string html;
  bool json = false;
  int64_t horizon_s = 10;
};

// ---- reading ----------------------------------------------------------------------------------


struct OrderRow {
  int64_t id, outcome_id, side, price, size, filled, created, updated;
  std::string plugin, status;
};
struct FillRow {
  int64_t id, order_id, price, size, fee, ts;
};
struct MidPoint {
  int64_t ts, mid2;  // mid2 = best_bid + best_ask (twice the mid, exact); 0 = no mid
};

// Rebuilds each outcome's book from orderbook_events and records (ts, mid) at every change.
std::map<int64_t, std::vector<MidPoint>> MidHistory(DbReader& db, const std::set<int64_t>& outcomes) {
  std::map<int64_t, std::vector<MidPoint>> out;
  std::map<int64_t, std::pair<std::map<int64_t, int64_t>, std::map<int64_t, int64_t>>> books;
  if (outcomes.empty()) return out;
  // Only the outcomes asked for (on SQLite the events view then reads only their blocks).
  std::string in;
  for (int64_t id : outcomes) in += (in.empty() ? "" : ",") + std::to_string(id);
  db.Query("SELECT outcome_id, ts_ms, kind, side, price, size, levels_json FROM orderbook_events"
           " WHERE outcome_id IN (" + in + ") ORDER BY id",
           [&](const DbRow& st) {
             const int64_t oid = st.Int(0);
             if (!outcomes.contains(oid)) return;
             auto& [bids, asks] = books[oid];
             const int64_t kind = st.Int(2);
             if (kind == 1) {
               std::vector<Level> b, a;
               if (!DecodeLevelsJson(st.Text(6), &b, &a)) return;
               bids.clear();
               asks.clear();
               for (const Level& l : b) if (l.size > 0) bids[l.price] = l.size;
               for (const Level& l : a) if (l.size > 0) asks[l.price] = l.size;
             } else if (kind == 2) {
               auto& side = st.Int(3) == 0 ? bids : asks;
               const int64_t price = st.Int(4), size = st.Int(5);
               if (size == 0) side.erase(price); else side[price] = size;
             } else {
               return;
             }
             const int64_t mid2 = bids.empty() || asks.empty() ? 0 : bids.rbegin()->first + asks.begin()->first;
             auto& v = out[oid];
             if (v.empty() || v.back().mid2 != mid2) v.push_back({st.Int(1), mid2});
           });
  return out;
}

// The mid in force at `ts` (the last change at or before it), 0 when none.
int64_t MidAt(const std::vector<MidPoint>& h, int64_t ts) {
  auto it = std::upper_bound(h.begin(), h.end(), ts, [](int64_t t, const MidPoint& p) { return t < p.ts; });
  return it == h.begin() ? 0 : std::prev(it)->mid2;
}

// ---- computing --------------------------------------------------------------------------------

int64_t FloorDiv(__int128 a, int64_t b) {
  __int128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return static_cast<int64_t>(q);
}

struct AssetReport {
  std::string market, asset_id;
  int64_t fills = 0, buy_size = 0, sell_size = 0, fees = 0, cash = 0, inventory = 0, mid2 = 0;
  __int128 basis2 = 0;     // cost of the open position, micro² (signed with the position)
  __int128 realised2 = 0;  // micro²
  int64_t unrealised = 0;
  __int128 captured2 = 0;  // spread captured by FIFO-paired buys and sells, micro²
  int64_t matched = 0;
  std::vector<std::pair<int64_t, int64_t>> open_buys, open_sells;  // FIFO (price, size) for pairing
};

struct Point {
  int64_t ts;
  double v;
};

struct PluginReport {
  std::string plugin;
  int64_t orders = 0, fills = 0, buy_size = 0, sell_size = 0, fees = 0, cash = 0;
  int64_t realised = 0, unrealised = 0, total = 0, captured = 0, matched = 0;
  double uptime = 0;
  int64_t window_start = 0, window_end = 0;
  int64_t markout_fills = 0, markout_size = 0;
  __int128 markout2 = 0, mid_move2x = 0;  // Σ sign·(mid_after − price)·size (micro², mid in 2x units → /2)
  std::map<int64_t, AssetReport> assets;
  std::vector<Point> pnl_curve;
  std::map<int64_t, std::vector<Point>> inventory_curve;
};

void ApplyFill(AssetReport& a, bool buy, int64_t price, int64_t size) {
  int64_t left = size;
  // Reduce an opposite position first (realising PnL at average cost), then open.
  if (a.inventory != 0 && ((a.inventory > 0) != buy)) {
    const int64_t pos = a.inventory > 0 ? a.inventory : -a.inventory;
    const int64_t q = std::min(pos, left);
    const __int128 portion = a.basis2 * q / pos;  // signed like the position
    const __int128 proceeds = static_cast<__int128>(price) * q * (a.inventory > 0 ? 1 : -1);
    a.realised2 += proceeds - portion;
    a.basis2 -= portion;
    a.inventory += buy ? q : -q;
    left -= q;
    if (a.inventory == 0) a.basis2 = 0;
  }
  if (left > 0) {
    a.basis2 += static_cast<__int128>(price) * left * (buy ? 1 : -1);
    a.inventory += buy ? left : -left;
  }
  // FIFO pairing for spread captured.
  auto& mine = buy ? a.open_buys : a.open_sells;
  auto& other = buy ? a.open_sells : a.open_buys;
  left = size;
  while (left > 0 && !other.empty()) {
    auto& [p, s] = other.front();
    const int64_t q = std::min(s, left);
    a.captured2 += static_cast<__int128>(buy ? p - price : price - p) * q;
    a.matched += q;
    s -= q;
    left -= q;
    if (s == 0) other.erase(other.begin());
  }
  if (left > 0) mine.emplace_back(price, left);
}

// Union of [start, end) intervals clipped to the window, as a share of it.
double Uptime(std::vector<std::pair<int64_t, int64_t>> iv, int64_t start, int64_t end) {
  if (end <= start) return 0;
  std::sort(iv.begin(), iv.end());
  int64_t covered = 0, cur_s = 0, cur_e = -1;
  for (auto [s, e] : iv) {
    s = std::max(s, start);
    e = std::min(e, end);
    if (e <= s) continue;
    if (s > cur_e) {
      if (cur_e > cur_s) covered += cur_e - cur_s;
      cur_s = s;
      cur_e = e;
    } else {
      cur_e = std::max(cur_e, e);
    }
  }
  if (cur_e > cur_s) covered += cur_e - cur_s;
  return static_cast<double>(covered) / static_cast<double>(end - start);
}

bool Terminal(const std::string& s) { return s == "filled" || s == "cancelled" || s == "rejected"; }

// ---- output -----------------------------------------------------------------------------------

std::string Dec(int64_t micros) { return FormatDecimal(micros); }

std::string JsonStr(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') { o += '\\'; o += c; }
    else if (static_cast<unsigned char>(c) < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); o += b; }
    else o += c;
  }
  return o + "\"";
}

std::string Html(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;"; else if (c == '>') o += "&gt;"; else if (c == '&') o += "&amp;"; else if (c == '"') o += "&quot;"; else o += c;
  }
  return o;
}

struct Series {
  std::string label, color;
  std::vector<Point> pts;
  bool step = true;
};
struct Segment {
  int64_t t0, t1;
  double v;
  std::string color;
};

// One inline SVG line chart (step lines and horizontal segments), no scripts.
std::string Svg(const std::string& title, const std::vector<Series>& series, const std::vector<Segment>& segs,
                int64_t t0, int64_t t1) {
  const double W = 900, H = 260, L = 70, R = 20, T = 28, B = 30;
  double lo = 1e300, hi = -1e300;
  for (const auto& s : series) for (const auto& p : s.pts) { lo = std::min(lo, p.v); hi = std::max(hi, p.v); }
  for (const auto& g : segs) { lo = std::min(lo, g.v); hi = std::max(hi, g.v); }
  if (lo > hi) { lo = 0; hi = 1; }
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const double pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  if (t1 <= t0) t1 = t0 + 1;
  auto X = [&](int64_t t) { return L + (W - L - R) * static_cast<double>(t - t0) / static_cast<double>(t1 - t0); };
  auto Y = [&](double v) { return T + (H - T - B) * (1 - (v - lo) / (hi - lo)); };
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << "<svg class=\"chart\" width=\"" << W << "\" height=\"" << H
    << "\" viewBox=\"0 0 " << W << ' ' << H << "\">\n<title>" << Html(title) << "</title>\n"
    << "<text x=\"" << L << "\" y=\"18\" font-size=\"14\" font-weight=\"bold\">" << Html(title) << "</text>\n"
    << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
    << "\" fill=\"none\" stroke=\"#999\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4;
    char b[64];
    std::snprintf(b, sizeof b, "%.4g", v);
    o << "<text x=\"" << L - 4 << "\" y=\"" << Y(v) + 4 << "\" font-size=\"10\" text-anchor=\"end\">" << b
      << "</text><line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << Y(v) << "\" y2=\"" << Y(v)
      << "\" stroke=\"#eee\"/>\n";
  }
  o << "<text x=\"" << L << "\" y=\"" << H - 8 << "\" font-size=\"10\">" << Html(FormatTimestampMs(t0))
    << "</text><text x=\"" << W - R << "\" y=\"" << H - 8 << "\" font-size=\"10\" text-anchor=\"end\">"
    << Html(FormatTimestampMs(t1)) << "</text>\n";
  for (const auto& g : segs) {
    o << "<line x1=\"" << X(g.t0) << "\" x2=\"" << std::max(X(g.t1), X(g.t0) + 1) << "\" y1=\"" << Y(g.v)
      << "\" y2=\"" << Y(g.v) << "\" stroke=\"" << g.color << "\" stroke-width=\"2\" opacity=\"0.6\"/>\n";
  }
  double lx = L + 8;
  for (const auto& s : series) {
    if (s.pts.empty()) continue;
    o << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.5\" points=\"";
    for (size_t i = 0; i < s.pts.size(); ++i) {
      if (s.step && i > 0) o << X(s.pts[i].ts) << ',' << Y(s.pts[i - 1].v) << ' ';
      o << X(s.pts[i].ts) << ',' << Y(s.pts[i].v) << ' ';
    }
    if (s.step) o << X(t1) << ',' << Y(s.pts.back().v);
    o << "\"/>\n<text x=\"" << lx << "\" y=\"" << T + 14 << "\" font-size=\"11\" fill=\"" << s.color << "\">"
      << Html(s.label) << "</text>\n";
    lx += 10 + 7 * static_cast<double>(s.label.size());
  }
  o << "</svg>\n";
  return o.str();
}

const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

int RunReport(const ReportFlags& flags) {
  LoadedConfig loaded = LoadConfigFor(flags.common);
  DbUrl url;
  try {
    url = ParseDbUrl(loaded.config.db.url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--db-url / [db] url: ") + e.what());
  }
  if (url.backend == DbUrl::Backend::kSqlite && url.path == ":memory:") {
    throw UsageError("report needs a database file, not :memory:");
  }
  // The file path on SQLite (as before), the URL without its password on PostgreSQL.
  const std::string db_name = url.backend == DbUrl::Backend::kSqlite ? url.path : url.redacted;
  const std::unique_ptr<DbReader> reader = DbReader::Open(url, "report");
  DbReader& db = *reader;
  if (!db.HasTable("orders") || !db.HasTable("fills")) {
    throw std::runtime_error("database " + url.redacted + " has no execution tables (schema version < 2)");
  }
  const int64_t horizon_ms = flags.horizon_s * 1000;

  std::map<int64_t, std::pair<std::string, std::string>> outcomes;
  db.Query("SELECT id, market, asset_id FROM outcomes", [&](const DbRow& st) {
    outcomes[st.Int(0)] = {st.Text(1), st.Text(2)};
  });
  std::map<int64_t, int64_t> status_mid2;
  int64_t last_market_ts = 0;
  db.Query("SELECT outcome_id, best_bid, best_ask, last_update_ts_ms FROM market_status", [&](const DbRow& st) {
    const int64_t bb = st.Int(1), ba = st.Int(2);
    status_mid2[st.Int(0)] = bb > 0 && ba > 0 ? bb + ba : 0;
    last_market_ts = std::max<int64_t>(last_market_ts, st.Int(3));
  });
  std::map<int64_t, OrderRow> orders;
  db.Query("SELECT id, outcome_id, side, price_micros, size_micros, filled_size_micros, created_ts_ms, "
           "updated_ts_ms, plugin, status FROM orders ORDER BY id",
           [&](const DbRow& st) {
             OrderRow o{st.Int(0), st.Int(1), st.Int(2), st.Int(3), st.Int(4), st.Int(5), st.Int(6), st.Int(7),
                        st.Text(8), st.Text(9)};
             if (flags.plugin.empty() || o.plugin == flags.plugin) orders[o.id] = o;
           });
  std::vector<FillRow> fills;
  db.Query("SELECT id, order_id, price_micros, size_micros, fee_micros, ts_ms FROM fills ORDER BY ts_ms, id",
           [&](const DbRow& st) {
             FillRow f{st.Int(0), st.Int(1), st.Int(2), st.Int(3), st.Int(4), st.Int(5)};
             if (orders.contains(f.order_id)) fills.push_back(f);
           });
  std::set<int64_t> traded;
  int64_t t_start = INT64_MAX, t_end = last_market_ts;
  for (const auto& [id, o] : orders) {
    traded.insert(o.outcome_id);
    t_start = std::min(t_start, o.created);
    t_end = std::max(t_end, o.updated);
  }
  for (const FillRow& f : fills) t_end = std::max(t_end, f.ts);
  if (t_start == INT64_MAX) t_start = t_end;
  const auto mids = MidHistory(db, traded);
  static const std::vector<MidPoint> kNoMids;
  auto mids_of = [&](int64_t oid) -> const std::vector<MidPoint>& {
    auto it = mids.find(oid);
    return it == mids.end() ? kNoMids : it->second;
  };

  std::map<std::string, PluginReport> reports;
  for (const auto& [id, o] : orders) {
    PluginReport& r = reports[o.plugin];
    r.plugin = o.plugin;
    ++r.orders;
  }
  for (auto& [name, r] : reports) {
    std::vector<std::pair<int64_t, int64_t>> iv;
    for (const auto& [id, o] : orders) {
      if (o.plugin != name) continue;
      iv.emplace_back(o.created, Terminal(o.status) ? o.updated : t_end);
      if (!r.assets.contains(o.outcome_id)) {
        AssetReport& a = r.assets[o.outcome_id];
        a.market = outcomes[o.outcome_id].first;
        a.asset_id = outcomes[o.outcome_id].second;
      }
    }
    r.window_start = t_start;
    r.window_end = t_end;
    r.uptime = Uptime(iv, t_start, t_end);
  }
  // Fills in time order: positions, cash, PnL curve, markouts.
  for (const FillRow& f : fills) {
    const OrderRow& o = orders.at(f.order_id);
    PluginReport& r = reports[o.plugin];
    AssetReport& a = r.assets[o.outcome_id];
    const bool buy = o.side == 0;
    const __int128 value = static_cast<__int128>(f.price) * f.size;
    // Cash: a buy pays the notional rounded up, a sell receives it rounded down.
    const int64_t notional = buy ? -FloorDiv(-value, kOne) : FloorDiv(value, kOne);
    a.cash += buy ? -notional : notional;
    a.fees += f.fee;
    ++a.fills;
    (buy ? a.buy_size : a.sell_size) += f.size;
    ApplyFill(a, buy, f.price, f.size);
    r.inventory_curve[o.outcome_id].push_back({f.ts, static_cast<double>(a.inventory) / kOne});
    // Markout: the mid horizon_ms after the fill, against the fill price.
    const auto& h = mids_of(o.outcome_id);
    if (!h.empty() && f.ts + horizon_ms <= t_end) {
      const int64_t after2 = MidAt(h, f.ts + horizon_ms), at2 = MidAt(h, f.ts);
      if (after2 > 0 && at2 > 0) {
        const int sign = buy ? 1 : -1;
        r.markout2 += static_cast<__int128>(sign) * (after2 - 2 * f.price) * f.size;
        r.mid_move2x += static_cast<__int128>(sign) * (after2 - at2) * f.size;
        r.markout_size += f.size;
        ++r.markout_fills;
      }
    }
    // Mark to market of the plugin right after this fill.
    double pnl = 0;
    for (auto& [oid, x] : r.assets) {
      const int64_t m2 = MidAt(mids_of(oid), f.ts);
      pnl += static_cast<double>(x.cash - x.fees) / kOne +
             static_cast<double>(x.inventory) / kOne * static_cast<double>(m2) / 2 / kOne;
    }
    r.pnl_curve.push_back({f.ts, pnl});
  }
  for (auto& [name, r] : reports) {
    for (auto& [oid, a] : r.assets) {
      a.mid2 = status_mid2.contains(oid) ? status_mid2[oid] : 0;
      if (a.mid2 == 0) a.mid2 = mids_of(oid).empty() ? 0 : mids_of(oid).back().mid2;
      // Unrealised: the open position at the mid against its average cost.
      a.unrealised = FloorDiv(static_cast<__int128>(a.inventory) * a.mid2 - 2 * a.basis2, 2 * kOne);
      r.fills += a.fills;
      r.buy_size += a.buy_size;
      r.sell_size += a.sell_size;
      r.fees += a.fees;
      r.cash += a.cash;
      r.realised += FloorDiv(a.realised2, kOne);
      r.unrealised += a.unrealised;
      r.matched += a.matched;
      r.captured += FloorDiv(a.captured2, kOne);
    }
    r.total = r.realised + r.unrealised - r.fees;
  }

  if (flags.json) {
    std::ostringstream o;
    o << "{\"db\":" << JsonStr(db_name) << ",\"horizon_s\":" << flags.horizon_s << ",\"plugins\":[";
    bool first = true;
    for (const auto& [name, r] : reports) {
      o << (first ? "" : ",") << "{\"plugin\":" << JsonStr(name) << ",\"orders\":" << r.orders
        << ",\"fills\":" << r.fills << ",\"buy_size_micros\":" << r.buy_size << ",\"sell_size_micros\":"
        << r.sell_size << ",\"cash_micros\":" << r.cash << ",\"fees_micros\":" << r.fees
        << ",\"realised_pnl_micros\":" << r.realised << ",\"unrealised_pnl_micros\":" << r.unrealised
        << ",\"total_pnl_micros\":" << r.total << ",\"quote_uptime\":" << r.uptime
        << ",\"window_start_ms\":" << r.window_start << ",\"window_end_ms\":" << r.window_end
        << ",\"spread_captured_micros\":" << r.captured << ",\"matched_size_micros\":" << r.matched
        << ",\"adverse_selection\":{\"fills_measured\":" << r.markout_fills << ",\"size_micros\":" << r.markout_size
        << ",\"markout_micros\":" << FloorDiv(r.markout2, 2 * kOne) << ",\"mid_move_micros\":"
        << FloorDiv(r.mid_move2x, 2 * kOne) << "},\"assets\":[";
      bool f2 = true;
      for (const auto& [oid, a] : r.assets) {
        o << (f2 ? "" : ",") << "{\"market\":" << JsonStr(a.market) << ",\"asset_id\":" << JsonStr(a.asset_id)
          << ",\"fills\":" << a.fills << ",\"buy_size_micros\":" << a.buy_size << ",\"sell_size_micros\":"
          << a.sell_size << ",\"inventory_micros\":" << a.inventory << ",\"cash_micros\":" << a.cash
          << ",\"fees_micros\":" << a.fees << ",\"mid_x2_micros\":" << a.mid2 << ",\"realised_pnl_micros\":"
          << FloorDiv(a.realised2, kOne) << ",\"unrealised_pnl_micros\":" << a.unrealised
          << ",\"spread_captured_micros\":" << FloorDiv(a.captured2, kOne) << ",\"matched_size_micros\":"
          << a.matched << "}";
        f2 = false;
      }
      o << "]}";
      first = false;
    }
    o << "]}\n";
    std::cout << o.str();
  } else {
    if (reports.empty()) std::cout << "no orders" << (flags.plugin.empty() ? "" : " for plugin " + flags.plugin) << "\n";
    for (const auto& [name, r] : reports) {
      std::cout << "plugin " << name << ": " << r.orders << " orders, " << r.fills << " fills, fees " << Dec(r.fees)
                << "\n  PnL " << Dec(r.total) << " (realised " << Dec(r.realised) << ", unrealised at mid "
                << Dec(r.unrealised) << ", fees " << Dec(r.fees) << ")\n  quote uptime "
                << static_cast<int>(r.uptime * 1000) / 10.0 << "%, spread captured " << Dec(r.captured) << " on "
                << Dec(r.matched) << " paired\n  adverse selection (" << flags.horizon_s << " s, "
                << r.markout_fills << " fills): markout " << Dec(FloorDiv(r.markout2, 2 * kOne)) << ", mid move "
                << Dec(FloorDiv(r.mid_move2x, 2 * kOne)) << "\n";
      for (const auto& [oid, a] : r.assets) {
        std::cout << "  " << a.market << "/" << a.asset_id << ": inventory " << Dec(a.inventory) << ", bought "
                  << Dec(a.buy_size) << ", sold " << Dec(a.sell_size) << ", mid "
                  << (a.mid2 > 0 ? Dec(a.mid2 / 2) : std::string("-")) << "\n";
      }
    }
  }

  if (!flags.html.empty()) {
    std::ostringstream h;
    h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>polyhost report</title>\n<style>"
         "body{font-family:sans-serif;margin:20px}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
         "padding:3px 8px;text-align:right}th{background:#f4f4f4}</style></head><body>\n"
      << "<h1>polyhost report</h1>\n<p>" << Html(db_name) << ", " << Html(FormatTimestampMs(t_start)) << " to "
      << Html(FormatTimestampMs(t_end)) << "</p>\n";
    for (const auto& [name, r] : reports) {
      h << "<h2>" << Html(name) << "</h2>\n<table><tr><th>orders</th><th>fills</th><th>PnL</th><th>realised</th>"
        << "<th>unrealised</th><th>fees</th><th>quote uptime</th><th>spread captured</th><th>markout ("
        << flags.horizon_s << " s)</th></tr><tr><td>" << r.orders << "</td><td>" << r.fills << "</td><td>"
        << Dec(r.total) << "</td><td>" << Dec(r.realised) << "</td><td>" << Dec(r.unrealised) << "</td><td>"
        << Dec(r.fees) << "</td><td>" << static_cast<int>(r.uptime * 1000) / 10.0 << "%</td><td>"
        << Dec(r.captured) << "</td><td>" << Dec(FloorDiv(r.markout2, 2 * kOne)) << "</td></tr></table>\n";
      h << "<table><tr><th>asset</th><th>inventory</th><th>bought</th><th>sold</th><th>mid</th></tr>\n";
      for (const auto& [oid, a] : r.assets) {
        h << "<tr><td>" << Html(a.market + "/" + a.asset_id) << "</td><td>" << Dec(a.inventory) << "</td><td>"
          << Dec(a.buy_size) << "</td><td>" << Dec(a.sell_size) << "</td><td>"
          << (a.mid2 > 0 ? Dec(a.mid2 / 2) : std::string("-")) << "</td></tr>\n";
      }
      h << "</table>\n";
      h << Svg("PnL over time (USDC, marked at mid)", {{"PnL", kColors[0], r.pnl_curve, true}}, {}, t_start, t_end);
      std::vector<Series> inv;
      size_t c = 0;
      for (const auto& [oid, pts] : r.inventory_curve) {
        std::vector<Point> p{{t_start, 0}};
        p.insert(p.end(), pts.begin(), pts.end());
        inv.push_back({r.assets.at(oid).market + "/" + r.assets.at(oid).asset_id, kColors[c++ % 6], p, true});
      }
      h << Svg("Inventory over time (tokens)", inv, {}, t_start, t_end);
      for (const auto& [oid, a] : r.assets) {
        std::vector<Point> mid;
        for (const MidPoint& m : mids_of(oid)) {
          if (m.mid2 > 0) mid.push_back({m.ts, static_cast<double>(m.mid2) / 2 / kOne});
        }
        std::vector<Segment> segs;
        for (const auto& [id, o] : orders) {
          if (o.plugin != name || o.outcome_id != oid) continue;
          segs.push_back({o.created, Terminal(o.status) ? o.updated : t_end, static_cast<double>(o.price) / kOne,
                          o.side == 0 ? "#2ca02c" : "#d62728"});
        }
        h << Svg("Quotes vs mid: " + a.market + "/" + a.asset_id + " (bids green, asks red)",
                 {{"mid", "#333", mid, true}}, segs, t_start, t_end);
      }
    }
    h << "</body></html>\n";
    std::ofstream out(flags.html, std::ios::binary);
    out << h.str();
    if (!out) throw std::runtime_error("cannot write " + flags.html);
  }
  return 0;
}

}  // namespace

void AddReportCommand(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand("report", "PnL, inventory, fills, quote uptime, spread captured, adverse selection");
  AddCommonFlags(cmd, &flags->common);
  cmd->add_option("--plugin", flags->plugin, "only this plugin's orders");
  cmd->add_flag("--json", flags->json, "machine-readable output (micro-unit integers)");
  cmd->add_option("--html", flags->html, "also write a self-contained HTML page with charts to FILE");
  cmd->add_option("--horizon-s", flags->horizon_s, "adverse selection: mid this many seconds after each fill")
      ->check(CLI::PositiveNumber);
  registry.Add(cmd, [flags] { return RunReport(*flags); });
}

}  // namespace polyhost

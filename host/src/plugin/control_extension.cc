#include "plugin/control_extension.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "core/decimal.h"
#include "store/db_url.h"
#include "store/sqlite_reader.h"
#include "store/store.h"

namespace polyhost {

namespace json = boost::json;

namespace {

constexpr uint64_t kMagic = 0x70686374726c3031ull;  // "phctrl01"
constexpr size_t kStatusV1 = offsetof(ph_control_status, open_notional) + sizeof(ph_control_status::open_notional);
constexpr int kDebug = 0, kInfo = 1, kWarn = 2;

static_assert(std::is_standard_layout_v<ControlExtension::Block>);
static_assert(offsetof(ControlExtension::Block, table) == 0);

ControlExtension* ExtensionOf(const ph_host* host) {
  if (host == nullptr || host->get_extension == nullptr) return nullptr;
  const void* t = host->get_extension(host, PH_EXT_CONTROL);
  if (t == nullptr) return nullptr;
  const auto* block = static_cast<const ControlExtension::Block*>(t);
  return block->magic == kMagic ? block->self : nullptr;
}

std::string PluginOf(const ph_host* host) {
  return host != nullptr && host->plugin_name != nullptr ? host->plugin_name : "?";
}

std::string Text(const char* s) { return s != nullptr ? s : ""; }

json::value Dec(int64_t micros) { return json::value(FormatDecimal(micros)); }
json::value Price(int64_t micros) { return micros > 0 ? Dec(micros) : json::value(nullptr); }

ph_result Request(const ph_host* host, const char* what, const char* plugin, const char* reason, bool paused) {
  ControlExtension* ext = ExtensionOf(host);
  if (ext == nullptr) return PH_ERR_INTERNAL;
  const std::string target = plugin == nullptr || *plugin == '\0' ? "*" : plugin;
  ph_result rc = PH_ERR_INTERNAL;
  try {
    rc = ext->backend().Pause(target, paused, ControlCaller{PluginOf(host), Text(reason)});
  } catch (const std::exception& e) {
    ext->Audit(kWarn, std::string("control: ") + what + " failed: " + e.what());
    rc = PH_ERR_FAILED;
  }
  ext->Audit(kInfo, "control: plugin '" + PluginOf(host) + "' requests " + what + " of " +
                        (target == "*" ? std::string("every plugin") : "'" + target + "'") + " (reason: " +
                        Text(reason) + ") -> " + ph_result_name(rc));
  return rc;
}

extern "C" {

ph_result CtlGetStatus(const ph_host* host, ph_control_status* out) noexcept {
  ControlExtension* ext = ExtensionOf(host);
  if (ext == nullptr) return PH_ERR_INTERNAL;
  if (out == nullptr || out->struct_size < kStatusV1) return PH_ERR_INVALID_ARGUMENT;
  try {
    ph_control_status full{};
    ext->backend().Status(&full);
    full.struct_size = sizeof full;
    const size_t n = std::min<size_t>(out->struct_size, sizeof full);
    std::memcpy(static_cast<void*>(out), &full, n);
    out->struct_size = static_cast<uint32_t>(n);
    return PH_OK;
  } catch (const std::exception& e) {
    ext->Audit(kWarn, std::string("control: get_status failed: ") + e.what());
    return PH_ERR_FAILED;
  }
}

ph_result CtlPause(const ph_host* host, const char* reason) noexcept {
  return Request(host, "pause", "*", reason, true);
}
ph_result CtlResume(const ph_host* host, const char* reason) noexcept {
  return Request(host, "resume", "*", reason, false);
}
ph_result CtlPausePlugin(const ph_host* host, const char* plugin, const char* reason) noexcept {
  return Request(host, "pause", plugin, reason, true);
}
ph_result CtlResumePlugin(const ph_host* host, const char* plugin, const char* reason) noexcept {
  return Request(host, "resume", plugin, reason, false);
}

ph_result CtlCancelAll(const ph_host* host, const char* reason) noexcept {
  ControlExtension* ext = ExtensionOf(host);
  if (ext == nullptr) return PH_ERR_INTERNAL;
  ph_result rc = PH_ERR_INTERNAL;
  try {
    rc = ext->backend().CancelAll(ControlCaller{PluginOf(host), Text(reason)});
  } catch (const std::exception& e) {
    ext->Audit(kWarn, std::string("control: cancel-all failed: ") + e.what());
    rc = PH_ERR_FAILED;
  }
  ext->Audit(kInfo, "control: plugin '" + PluginOf(host) + "' requests cancel-all (reason: " + Text(reason) +
                        ") -> " + ph_result_name(rc));
  return rc;
}

ph_result CtlQuery(const ph_host* host, const char* topic, const char* args_json, char* out, size_t out_cap,
                   size_t* out_len) noexcept {
  ControlExtension* ext = ExtensionOf(host);
  if (ext == nullptr) return PH_ERR_INTERNAL;
  if (out_len != nullptr) *out_len = 0;
  if (topic == nullptr || out_len == nullptr || (out == nullptr && out_cap > 0)) return PH_ERR_INVALID_ARGUMENT;
  const std::string_view args = args_json != nullptr ? args_json : "";
  ControlAnswer answer;
  try {
    if (!args.empty()) {
      boost::system::error_code ec;
      json::value v = json::parse(args, ec);
      if (ec || !v.is_object()) return PH_ERR_INVALID_ARGUMENT;
    }
    answer = ext->backend().Query(topic, args);
  } catch (const std::exception& e) {
    ext->Audit(kWarn, std::string("control: query '") + topic + "' failed: " + e.what());
    answer = ControlAnswer::Error(PH_ERR_FAILED, e.what());
  }
  ext->Audit(kDebug, "control: plugin '" + PluginOf(host) + "' queries " + topic + " -> " +
                         ph_result_name(answer.rc));
  *out_len = answer.json.size();
  if (out_cap <= answer.json.size()) {
    if (out_cap > 0) out[0] = '\0';
    return PH_ERR_INVALID_ARGUMENT;
  }
  std::memcpy(out, answer.json.data(), answer.json.size());
  out[answer.json.size()] = '\0';
  return answer.rc;
}

}  // extern "C"

}  // namespace

std::string DefaultPauseFile(const std::string& db_url) {
  const DbUrl url = ParseDbUrl(db_url);
  if (url.backend != DbUrl::Backend::kSqlite || url.path == ":memory:") return {};
  return url.path + ".control.json";
}

ControlAnswer ControlAnswer::Error(ph_result rc, std::string_view why) {
  json::object o;
  o["error"] = why;
  return {rc, json::serialize(o)};
}

// ---- PauseState ----------------------------------------------------------------------

PauseState::PauseState(std::string path) : path_(std::move(path)) {
  if (path_.empty() || !std::filesystem::exists(path_)) return;
  std::ifstream in(path_);
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(ss.str(), ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) throw std::runtime_error(path_ + ": not a JSON object (expected {\"all\":..,\"plugins\":[..]})");
  if (const json::value* all = o->if_contains("all")) {
    if (!all->is_bool()) throw std::runtime_error(path_ + ": field 'all' must be true or false");
    all_ = all->as_bool();
  }
  if (const json::value* list = o->if_contains("plugins")) {
    if (!list->is_array()) throw std::runtime_error(path_ + ": field 'plugins' must be an array of names");
    for (const json::value& p : list->as_array()) {
      if (!p.is_string()) throw std::runtime_error(path_ + ": field 'plugins' must be an array of names");
      plugins_.emplace(p.as_string());
    }
  }
}

bool PauseState::all() const {
  std::lock_guard lock(mu_);
  return all_;
}

bool PauseState::IsPaused(std::string_view plugin) const {
  std::lock_guard lock(mu_);
  return all_ || plugins_.count(std::string(plugin)) > 0;
}

std::set<std::string> PauseState::plugins() const {
  std::lock_guard lock(mu_);
  return plugins_;
}

void PauseState::Set(std::string_view plugin, bool paused) {
  std::lock_guard lock(mu_);
  if (plugin == "*") {
    all_ = paused;
    if (!paused) plugins_.clear();  // "resume everything"
  } else if (paused) {
    plugins_.emplace(plugin);
  } else {
    plugins_.erase(std::string(plugin));
  }
  Save();
}

void PauseState::Save() const {
  if (path_.empty()) return;
  json::object o;
  o["all"] = all_;
  json::array list;
  for (const std::string& p : plugins_) list.emplace_back(p);
  o["plugins"] = std::move(list);
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json::serialize(o) << '\n';
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);  // atomic: a crash leaves the old or the new file
  if (ec) throw std::runtime_error("cannot replace " + path_ + ": " + ec.message());
}

// ---- DbControlBackend ---------------------------------------------------------------

DbControlBackend::DbControlBackend(Store& store, PauseState& pause, bool dry_run, std::function<int64_t()> clock,
                                   std::string sqlite_path)
    : store_(store), pause_(pause), dry_run_(dry_run), clock_(std::move(clock)), sqlite_path_(std::move(sqlite_path)) {}

void DbControlBackend::Status(ph_control_status* out) {
  std::lock_guard lock(mu_);
  out->flags = (pause_.all() ? PH_CONTROL_PAUSED : 0u) | (dry_run_ ? PH_CONTROL_DRY_RUN : 0u);
  for (const AssetStatus& a : store_.Status()) {
    if (a.stale) out->flags |= PH_CONTROL_STALE;
  }
  out->ts_ms = clock_ ? clock_() : 0;
  out->plugins_active = 0;  // nothing runs offline
  out->plugins_failed = 0;
  const std::vector<OpenOrderRow> open = store_.OpenOrders();
  out->open_orders = static_cast<int64_t>(open.size());
  __int128 notional = 0;
  for (const OpenOrderRow& o : open) notional += static_cast<__int128>(o.price) * (o.size - o.filled) / 1'000'000;
  out->open_notional = static_cast<int64_t>(notional);
  const ExecTimings t = store_.ExecutionTimings();
  out->plans_accepted = t.accepted;
  out->plans_rejected = t.plans - t.accepted;
}

ControlAnswer DbControlBackend::Query(std::string_view topic, std::string_view args_json) {
  if (topic == "status") {
    ph_control_status s{};
    Status(&s);
    std::lock_guard lock(mu_);
    return StatusAnswer(s, "offline", pause_.plugins(), store_.Status(), nullptr);
  }
  if (topic == "markets") return Markets();
  if (topic == "book") return Book(args_json);
  if (topic == "orders") return Orders();
  if (topic == "plugins") return Plugins();
  if (topic == "metrics") return Metrics();
  if (topic == "positions") return Positions();
  if (topic == "pnl") return Pnl();
  return ControlAnswer::Error(PH_ERR_NOT_FOUND, "unknown topic '" + std::string(topic) + "'");
}

ControlAnswer StatusAnswer(const ph_control_status& s, std::string_view mode, const std::set<std::string>& paused_plugins,
                           const std::vector<AssetStatus>& assets, const RunStatusCounters* run) {
  int64_t stale = 0, last_ms = 0;
  for (const AssetStatus& a : assets) {
    stale += a.stale ? 1 : 0;
    last_ms = std::max(last_ms, a.last_update_ts_ms);
  }
  json::object o;
  o["mode"] = mode;
  o["paused"] = (s.flags & PH_CONTROL_PAUSED) != 0;
  o["dry_run"] = (s.flags & PH_CONTROL_DRY_RUN) != 0;
  json::array paused;
  for (const std::string& p : paused_plugins) paused.emplace_back(p);
  o["paused_plugins"] = std::move(paused);
  o["plugins_active"] = s.plugins_active;
  o["plugins_failed"] = s.plugins_failed;
  o["open_orders"] = s.open_orders;
  o["open_notional"] = Dec(s.open_notional);
  if (run != nullptr) o["plans"] = run->plans;
  o["plans_accepted"] = s.plans_accepted;
  o["plans_rejected"] = s.plans_rejected;
  if (run != nullptr) {
    o["orders"] = run->orders;
    o["fills"] = run->fills;
    o["reconnects"] = run->reconnects;
  }
  o["assets"] = static_cast<int64_t>(assets.size());
  o["stale_assets"] = stale;
  o["last_update_ms"] = last_ms;
  if (run != nullptr) o["ts_ms"] = run->ts_ms;
  return {PH_OK, json::serialize(o)};
}

ControlAnswer MarketsAnswer(const std::vector<AssetStatus>& assets, const ControlNames& names) {
  json::array markets;
  std::map<std::string, size_t> index;
  for (const AssetStatus& a : assets) {
    auto [it, fresh] = index.emplace(a.market, markets.size());
    if (fresh) {
      json::object m;
      m["market"] = a.market;
      auto q = names.question.find(a.market);
      m["question"] = q != names.question.end() && !q->second.empty() ? json::value(q->second) : json::value(nullptr);
      m["outcomes"] = json::array();
      markets.emplace_back(std::move(m));
    }
    json::object out;
    out["asset_id"] = a.asset_id;
    auto n = names.outcome.find(a.market + "/" + a.asset_id);
    out["outcome"] = n != names.outcome.end() && !n->second.empty() ? json::value(n->second) : json::value(nullptr);
    out["best_bid"] = Price(a.best_bid);
    out["best_ask"] = Price(a.best_ask);
    out["stale"] = a.stale;
    markets[it->second].as_object()["outcomes"].as_array().emplace_back(std::move(out));
  }
  json::object o;
  o["markets"] = std::move(markets);
  return {PH_OK, json::serialize(o)};
}

std::optional<BookArgs> ParseBookArgs(std::string_view args_json, ControlAnswer* error) {
  json::object args;
  if (!args_json.empty()) args = json::parse(args_json).as_object();
  const json::string* market = args.contains("market") ? args["market"].if_string() : nullptr;
  const json::string* outcome = args.contains("outcome") ? args["outcome"].if_string() : nullptr;
  if (market == nullptr || outcome == nullptr) {
    *error = ControlAnswer::Error(PH_ERR_INVALID_ARGUMENT, "book needs \"market\" and \"outcome\"");
    return std::nullopt;
  }
  BookArgs out{std::string(*market), std::string(*outcome), 5};
  if (args.contains("depth") && args["depth"].is_int64()) out.depth = std::clamp<int64_t>(args["depth"].as_int64(), 1, 50);
  return out;
}

ControlAnswer BookAnswer(const StoredBook& book, std::string_view outcome, int64_t depth) {
  json::object o;
  o["market"] = book.market;
  o["asset_id"] = book.asset_id;
  o["outcome"] = outcome.empty() ? json::value(nullptr) : json::value(outcome);
  o["seq"] = book.seq;
  o["ts_ms"] = book.ts_ms;
  o["stale"] = book.stale;
  auto levels = [&](std::span<const Level> side) {
    json::array a;
    for (size_t i = 0; i < side.size() && static_cast<int64_t>(i) < depth; ++i) {
      a.emplace_back(json::array{Dec(side[i].price), Dec(side[i].size)});
    }
    return a;
  };
  o["bids"] = levels(book.book.bids());
  o["asks"] = levels(book.book.asks());
  o["bid_levels"] = book.book.bids().size();
  o["ask_levels"] = book.book.asks().size();
  return {PH_OK, json::serialize(o)};
}

ControlAnswer OrdersAnswer(const std::vector<OpenOrderRow>& rows) {
  json::array orders;
  for (const OpenOrderRow& r : rows) {
    json::object o;
    o["plugin"] = r.plugin;
    o["market"] = r.market;
    o["asset_id"] = r.asset_id;
    o["side"] = r.side == Side::kBid ? "BUY" : "SELL";
    o["price"] = Dec(r.price);
    o["size"] = Dec(r.size);
    o["filled"] = Dec(r.filled);
    o["status"] = r.status;
    orders.emplace_back(std::move(o));
  }
  json::object o;
  o["orders"] = std::move(orders);
  return {PH_OK, json::serialize(o)};
}

namespace {
int64_t MulDiv(int64_t a, int64_t b) {  // a * b / 1e6, exact intermediate
  return static_cast<int64_t>(static_cast<__int128>(a) * b / 1'000'000);
}
}  // namespace

void PositionBook::AddFill(const std::string& plugin, std::string_view market, std::string_view asset_id, bool buy,
                           int64_t price, int64_t size, int64_t fee) {
  Entry& e = by_plugin[plugin][std::string(market) + "/" + std::string(asset_id)];
  e.market = market;
  e.asset_id = asset_id;
  const int64_t notional = MulDiv(price, size);
  ControlPnl& p = pnl[plugin];
  p.plugin = plugin;
  ++p.fills;
  p.fees += fee;
  if (buy) {
    e.size += size;
    e.bought += size;
    e.bought_cost += notional;
    p.realised -= notional + fee;
  } else {
    e.size -= size;
    e.sold += size;
    e.sold_proceeds += notional;
    p.realised += notional - fee;
  }
}

void PositionBook::Mark(const std::function<int64_t(std::string_view, std::string_view)>& mid) {
  for (auto& [plugin, entries] : by_plugin) {
    ControlPnl& p = pnl[plugin];
    p.inventory_value = 0;
    for (const auto& [key, e] : entries) {
      const int64_t m = mid(e.market, e.asset_id);
      if (m > 0) p.inventory_value += MulDiv(e.size, m);
    }
  }
}

std::vector<ControlPosition> PositionBook::Positions() const {
  std::vector<ControlPosition> out;
  for (const auto& [plugin, entries] : by_plugin) {
    for (const auto& [key, e] : entries) {
      if (e.size == 0) continue;
      ControlPosition p{plugin, e.market, e.asset_id, e.size, 0};
      // The mean price of the side that built the position.
      if (e.size > 0 && e.bought > 0) p.avg_price = static_cast<int64_t>(static_cast<__int128>(e.bought_cost) * 1'000'000 / e.bought);
      if (e.size < 0 && e.sold > 0) p.avg_price = static_cast<int64_t>(static_cast<__int128>(e.sold_proceeds) * 1'000'000 / e.sold);
      out.push_back(std::move(p));
    }
  }
  return out;
}

ControlAnswer PositionsAnswer(const std::vector<ControlPosition>& positions, std::string_view source) {
  json::array list;
  for (const ControlPosition& p : positions) {
    json::object o;
    o["plugin"] = p.plugin;
    o["market"] = p.market;
    o["asset_id"] = p.asset_id;
    o["size"] = Dec(p.size);
    o["avg_price"] = Price(p.avg_price);
    list.emplace_back(std::move(o));
  }
  json::object o;
  o["source"] = source;
  o["positions"] = std::move(list);
  return {PH_OK, json::serialize(o)};
}

ControlAnswer PnlAnswer(const std::map<std::string, ControlPnl>& pnl, std::string_view source) {
  json::array list;
  for (const auto& [name, p] : pnl) {
    json::object o;
    o["plugin"] = name;
    o["total"] = Dec(p.realised + p.inventory_value);
    o["realised"] = Dec(p.realised);
    o["fees"] = Dec(p.fees);
    o["inventory_value"] = Dec(p.inventory_value);
    o["fills"] = p.fills;
    list.emplace_back(std::move(o));
  }
  json::object o;
  o["source"] = source;
  o["marked_at"] = "mid";
  o["plugins"] = std::move(list);
  return {PH_OK, json::serialize(o)};
}

ControlAnswer DbControlBackend::Markets() {
  std::lock_guard lock(mu_);
  ControlNames names;
  try {
    for (const MarketRecord& m : store_.ListMarkets("")) {
      names.question[m.condition_id] = m.question;
      for (size_t i = 0; i < m.asset_ids.size() && i < m.outcomes.size(); ++i) {
        names.outcome[m.condition_id + "/" + m.asset_ids[i]] = m.outcomes[i];
      }
    }
  } catch (const StoreError&) {
    // A backend without the catalog: ids only.
  }
  return MarketsAnswer(store_.Status(), names);
}

ControlAnswer DbControlBackend::Book(std::string_view args_json) {
  ControlAnswer error;
  std::optional<BookArgs> args = ParseBookArgs(args_json, &error);
  if (!args) return error;
  std::lock_guard lock(mu_);
  // The outcome is a token id, or a name from the catalog.
  std::string asset_id = args->outcome;
  std::string name;
  try {
    for (const MarketRecord& m : store_.ListMarkets(args->market)) {
      if (m.condition_id != args->market) continue;
      for (size_t i = 0; i < m.asset_ids.size() && i < m.outcomes.size(); ++i) {
        if (m.asset_ids[i] == args->outcome) name = m.outcomes[i];
        if (!m.outcomes[i].empty() && m.outcomes[i].size() == args->outcome.size() &&
            std::equal(m.outcomes[i].begin(), m.outcomes[i].end(), args->outcome.begin(),
                       [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
          asset_id = m.asset_ids[i];
          name = m.outcomes[i];
        }
      }
    }
  } catch (const StoreError&) {
  }
  std::optional<StoredBook> book = store_.LoadBook(args->market, asset_id);
  if (!book) {
    return ControlAnswer::Error(PH_ERR_NOT_FOUND, "no book for market '" + args->market + "' outcome '" +
                                                      args->outcome + "'");
  }
  return BookAnswer(*book, name, args->depth);
}

ControlAnswer DbControlBackend::Orders() {
  std::lock_guard lock(mu_);
  return OrdersAnswer(store_.OpenOrders());
}

// Positions and PnL from the stored fills: the same arithmetic as a run's
// (PositionBook), marked at the stored books' mids.
PositionBook FillsFromDb(const std::string& path) {
  SqliteReader db(path, "tgbot");
  PositionBook book;
  if (!db.HasTable("orders") || !db.HasTable("fills")) return book;
  db.Query("SELECT o.plugin, oc.market, oc.asset_id, o.side, f.price_micros, f.size_micros, f.fee_micros "
           "FROM fills f JOIN orders o ON o.id = f.order_id JOIN outcomes oc ON oc.id = o.outcome_id "
           "ORDER BY f.ts_ms, f.id",
           [&](sqlite3_stmt* st) {
             book.AddFill(SqliteReader::Text(st, 0), SqliteReader::Text(st, 1), SqliteReader::Text(st, 2),
                          sqlite3_column_int(st, 3) == 0, sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
                          sqlite3_column_int64(st, 6));
           });
  std::map<std::string, int64_t, std::less<>> mids;
  db.Query("SELECT oc.market, oc.asset_id, s.best_bid, s.best_ask FROM market_status s "
           "JOIN outcomes oc ON oc.id = s.outcome_id",
           [&](sqlite3_stmt* st) {
             const int64_t bid = sqlite3_column_int64(st, 2), ask = sqlite3_column_int64(st, 3);
             if (bid > 0 && ask > 0) mids[SqliteReader::Text(st, 0) + "/" + SqliteReader::Text(st, 1)] = (bid + ask) / 2;
           });
  book.Mark([&](std::string_view market, std::string_view asset) {
    auto it = mids.find(std::string(market) + "/" + std::string(asset));
    return it == mids.end() ? int64_t{0} : it->second;
  });
  return book;
}

ControlAnswer DbControlBackend::Positions() {
  if (sqlite_path_.empty()) {
    return ControlAnswer::Error(PH_ERR_UNSUPPORTED, "positions offline need a SQLite database file");
  }
  std::lock_guard lock(mu_);
  return PositionsAnswer(FillsFromDb(sqlite_path_).Positions(), "store");
}

ControlAnswer DbControlBackend::Pnl() {
  if (sqlite_path_.empty()) return ControlAnswer::Error(PH_ERR_UNSUPPORTED, "pnl offline needs a SQLite database file");
  std::lock_guard lock(mu_);
  return PnlAnswer(FillsFromDb(sqlite_path_).pnl, "store");
}

ControlAnswer DbControlBackend::Plugins() {
  std::lock_guard lock(mu_);
  // Offline nothing is loaded but the caller: list the plugins the store and
  // the pause file know, with their pause flag.
  std::set<std::string> names = pause_.plugins();
  for (const OpenOrderRow& r : store_.OpenOrders()) names.insert(r.plugin);
  json::array list;
  for (const std::string& n : names) {
    json::object p;
    p["name"] = n;
    p["state"] = "not loaded";
    p["paused"] = pause_.IsPaused(n);
    list.emplace_back(std::move(p));
  }
  json::object o;
  o["paused_all"] = pause_.all();
  o["plugins"] = std::move(list);
  return {PH_OK, json::serialize(o)};
}

ControlAnswer DbControlBackend::Metrics() {
  std::lock_guard lock(mu_);
  int64_t assets = 0, stale = 0, events = 0, breaks = 0;
  for (const AssetStatus& a : store_.Status()) {
    ++assets;
    stale += a.stale ? 1 : 0;
    events += a.events;
    breaks += a.continuity_breaks;
  }
  const ExecTimings t = store_.ExecutionTimings();
  json::object m;
  m["assets"] = assets;
  m["stale_assets"] = stale;
  m["events"] = events;
  m["continuity_breaks"] = breaks;
  m["plans"] = t.plans;
  m["plans_accepted"] = t.accepted;
  m["event_to_plan_p50_us"] = t.event_to_plan_p50_us;
  m["event_to_plan_p99_us"] = t.event_to_plan_p99_us;
  m["plan_to_ack_p50_us"] = t.plan_to_ack_p50_us;
  m["plan_to_ack_p99_us"] = t.plan_to_ack_p99_us;
  json::object o;
  o["source"] = "store";
  o["metrics"] = std::move(m);
  return {PH_OK, json::serialize(o)};
}

ph_result DbControlBackend::Pause(std::string_view plugin, bool paused, const ControlCaller&) {
  pause_.Set(plugin, paused);
  return PH_OK;
}

ph_result DbControlBackend::CancelAll(const ControlCaller&) {
  return PH_ERR_UNSUPPORTED;  // offline: no orders are working, nothing to cancel
}

// ---- ControlExtension ---------------------------------------------------------------

ControlExtension::ControlExtension(ControlBackend& backend, AuditLog log)
    : block_{}, backend_(backend), log_(std::move(log)) {
  block_.table.struct_size = sizeof(ph_control_ext);
  block_.table.get_status = &CtlGetStatus;
  block_.table.request_pause = &CtlPause;
  block_.table.request_resume = &CtlResume;
  block_.table.request_cancel_all = &CtlCancelAll;
  block_.table.query = &CtlQuery;
  block_.table.request_pause_plugin = &CtlPausePlugin;
  block_.table.request_resume_plugin = &CtlResumePlugin;
  block_.magic = kMagic;
  block_.self = this;
}

}  // namespace polyhost

// spread: a market maker that quotes bids and asks on Polymarket outcome tokens.
//
// The quoting logic lives in quoter.h (host-free, unit-tested); this file is the
// glue to the plugin ABI: it reads [plugin.<name>] into Params, finds the tokens
// and their complements (config map, or the host's "polyhost.markets/1"
// catalog), turns book views, trades, status changes, order updates and fills
// into Quoter inputs, and the Quoter's outbox into plans (one single-leg GTC plan
// per order, so every order can be cancelled on its own with cancel_plan) and
// cancels. Configuration, model and safety rules: docs/plugins/spread.md.
//
// Everything runs on the host's strategy thread; the clock is host().now_ms()
// (feed time in replays), so replays are deterministic.
#include <polyhost/sdk/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quoter.h"

namespace {

using namespace polyhost::sdk;
namespace sp = polyhost::spread;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

// A list of strings from a config value: TOML array text (["a", "b"], as the host
// passes arrays) or a plain comma-separated string ("a, b"). nullopt when the
// array text is malformed.
std::optional<std::vector<std::string>> ParseStringList(std::string_view text) {
  std::vector<std::string> out;
  const std::string t = Trim(text);
  if (t.empty()) return out;
  if (t.front() != '[') {
    size_t start = 0;
    while (start <= t.size()) {
      const size_t comma = t.find(',', start);
      std::string item = Trim(std::string_view(t).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (!item.empty()) out.push_back(std::move(item));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  size_t i = 1;
  auto skip = [&] {
    while (i < t.size() && (std::isspace(static_cast<unsigned char>(t[i])) || t[i] == ',')) ++i;
  };
  for (;;) {
    skip();
    if (i >= t.size()) return std::nullopt;
    if (t[i] == ']') return i + 1 == t.size() ? std::optional(out) : std::nullopt;
    const char quote = t[i];
    if (quote != '"' && quote != '\'') return std::nullopt;
    ++i;
    std::string item;
    while (i < t.size() && t[i] != quote) {
      if (quote == '"' && t[i] == '\\' && i + 1 < t.size()) ++i;
      item += t[i++];
    }
    if (i >= t.size()) return std::nullopt;
    ++i;
    out.push_back(std::move(item));
  }
}

class Spread final : public Strategy {
 public:
  explicit Spread(Host host) : Strategy(host) {}

 private:
  // ---- configuration ----------------------------------------------------------------

  [[noreturn]] void Bad(std::string_view key, std::string_view why) const {
    throw Error(PH_ERR_CONFIG, "config key 'plugin." + std::string(host().plugin_name()) + "." + std::string(key) +
                                   "' " + std::string(why));
  }

  sp::Params ReadParams() const {
    const Host& h = host();
    sp::Params p;
    const std::string ref = Lower(h.config_string("reference", "mid"));
    if (ref == "mid") {
      p.reference = sp::Reference::kMid;
    } else if (ref == "microprice") {
      p.reference = sp::Reference::kMicroprice;
    } else if (ref == "last_trade") {
      p.reference = sp::Reference::kLastTrade;
    } else {
      Bad("reference", "must be \"mid\", \"microprice\" or \"last_trade\"");
    }
    p.half_spread_ticks = h.config_int("half_spread_ticks", p.half_spread_ticks);
    p.half_spread = h.config_micros("half_spread", p.half_spread);
    p.min_spread = h.config_micros("min_spread", p.min_spread);
    p.levels = h.config_int("levels", p.levels);
    p.level_spacing_ticks = h.config_int("level_spacing_ticks", p.level_spacing_ticks);
    p.order_size = h.config_micros("order_size", p.order_size);
    p.size_increment = h.config_micros("size_increment", p.size_increment);
    p.lot_size = h.config_micros("lot_size", p.lot_size);
    p.min_order_size = h.config_micros("min_order_size", p.min_order_size);
    p.tick_size = h.config_micros("tick_size", p.tick_size);
    p.allow_cross = h.config_bool("allow_cross", p.allow_cross);
    const std::string ask = Lower(h.config_string("ask_mode", "complement"));
    if (ask == "complement") {
      p.ask_mode = sp::AskMode::kComplement;
    } else if (ask == "inventory") {
      p.ask_mode = sp::AskMode::kInventory;
    } else if (ask == "sell") {
      p.ask_mode = sp::AskMode::kSell;
    } else {
      Bad("ask_mode", "must be \"complement\", \"inventory\" or \"sell\"");
    }
    p.target_position = h.config_micros("target_position", p.target_position);
    p.max_position = h.config_micros("max_position", p.max_position);
    p.inventory_range = h.config_micros("inventory_range", p.inventory_range);
    p.size_skew = h.config_bool("size_skew", p.size_skew);
    p.price_skew_ticks = h.config_int("price_skew_ticks", p.price_skew_ticks);
    p.max_order_notional = h.config_micros("max_order_notional_usdc", p.max_order_notional);
    p.max_market_exposure = h.config_micros("max_market_exposure_usdc", p.max_market_exposure);
    p.max_total_exposure = h.config_micros("max_total_exposure_usdc", p.max_total_exposure);
    p.fee_rate_bps = h.config_int("fee_rate_bps", p.fee_rate_bps);
    p.max_open_orders = h.config_int("max_open_orders", p.max_open_orders);
    p.max_plans_in_flight = h.config_int("max_plans_in_flight", p.max_plans_in_flight);
    p.min_requote_ms = h.config_int("min_requote_ms", p.min_requote_ms);
    p.max_order_age_ms = h.config_int("max_order_age_ms", p.max_order_age_ms);
    p.price_tolerance = h.config_micros("price_tolerance", p.price_tolerance);
    p.size_tolerance_bps = h.config_int("size_tolerance_bps", p.size_tolerance_bps);
    const std::string mode = Lower(h.config_string("replace_mode", "replace"));
    if (mode == "replace") {
      p.replace_mode = sp::ReplaceMode::kReplace;
    } else if (mode == "cancel_first") {
      p.replace_mode = sp::ReplaceMode::kCancelFirst;
    } else {
      Bad("replace_mode", "must be \"replace\" or \"cancel_first\" (the venue has no amend)");
    }
    p.fill_delay_ms = h.config_int("fill_delay_ms", p.fill_delay_ms);
    p.hanging_orders = h.config_bool("hanging_orders", p.hanging_orders);
    p.hanging_cancel_distance = h.config_micros("hanging_cancel_distance", p.hanging_cancel_distance);
    p.hanging_max_age_ms = h.config_int("hanging_max_age_ms", p.hanging_max_age_ms);
    p.reject_backoff_ms = h.config_int("reject_backoff_ms", p.reject_backoff_ms);
    p.cancel_retry_ms = h.config_int("cancel_retry_ms", p.cancel_retry_ms);
    p.repeat_guard_ms = h.config_int("repeat_guard_ms", p.repeat_guard_ms);
    p.max_book_age_ms = h.config_int("max_book_age_ms", p.max_book_age_ms);
    p.max_market_spread = h.config_micros("max_market_spread", p.max_market_spread);
    p.kill_max_loss = h.config_micros("kill_max_loss_usdc", p.kill_max_loss);
    p.kill_max_rejects = h.config_int("kill_max_rejects", p.kill_max_rejects);
    p.pull_before_close_ms = h.config_int("pull_before_close_ms", p.pull_before_close_ms);
    const std::string problem = sp::Validate(p);
    if (!problem.empty()) {
      const std::string key = problem.substr(0, problem.find(' '));
      Bad(key, problem.substr(key.size() + 1));
    }
    return p;
  }

  // ---- lifecycle ------------------------------------------------------------------------

  void init() override {
    quoter_ = sp::Quoter(ReadParams());
    const Host& h = host();
    refresh_ms_ = h.config_int("refresh_ms", 500);
    max_plans_per_event_ = h.config_int("max_plans_per_event", 24);
    max_instruments_ = h.config_int("max_instruments", 10);
    if (refresh_ms_ < 10) Bad("refresh_ms", "must be at least 10");
    if (max_plans_per_event_ < 1 || max_plans_per_event_ > 100) Bad("max_plans_per_event", "must be in [1, 100]");
    if (max_instruments_ < 1) Bad("max_instruments", "must be at least 1");

    markets_ = h.extension<ph_markets_ext>(PH_EXT_MARKETS);
    if (markets_ != nullptr && markets_->struct_size < sizeof(ph_markets_ext)) markets_ = nullptr;
    control_ = h.extension<ph_control_ext>(PH_EXT_CONTROL);
    if (control_ != nullptr && control_->struct_size < sizeof(ph_control_ext)) control_ = nullptr;

    const std::optional<std::string> assets = h.find_string("assets");
    const std::optional<std::string> markets = h.find_string("markets");
    if (assets && markets) Bad("markets", "cannot be combined with 'assets'");
    if (!assets && !markets) {
      Bad("assets", "is required: the tokens to quote, [\"<market>/<asset_id>\", ...] (or markets = \"all\")");
    }
    if (markets && Lower(Trim(*markets)) == "all") {
      all_ = true;
      h.subscribe(PH_SUBSCRIBE_ALL, PH_SUBSCRIBE_ALL);
      h.warn("markets = \"all\": quoting every asset the host has, up to max_instruments " +
             std::to_string(max_instruments_));
    } else if (markets) {
      auto list = ParseStringList(*markets);
      if (!list || list->empty()) Bad("markets", "must be \"all\" or a list of market (condition) ids");
      if (markets_ == nullptr) {
        Bad("markets", "needs the host's " PH_EXT_MARKETS " catalog to find each market's tokens; list them in 'assets'");
      }
      for (const std::string& m : *list) AddMarket(m);
    } else {
      auto list = ParseStringList(*assets);
      if (!list || list->empty()) Bad("assets", "must be a list of \"<market>/<asset_id>\" strings");
      for (const std::string& a : *list) {
        const size_t slash = a.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == a.size()) {
          Bad("assets", "entry '" + a + "' is not \"<market>/<asset_id>\"");
        }
        AddAsset(a.substr(0, slash), a.substr(slash + 1));
      }
    }
    if (quoter_.instruments().size() > static_cast<size_t>(max_instruments_)) {
      Bad("max_instruments", "is " + std::to_string(max_instruments_) + " but " +
                                 std::to_string(quoter_.instruments().size()) + " tokens are configured");
    }
    const sp::Params& p = quoter_.params();
    h.info("spread: " + std::to_string(quoter_.instruments().size()) + " token(s), reference " +
           sp::ReferenceName(p.reference) + ", half spread " +
           (p.half_spread > 0 ? sp::Dec(p.half_spread) : std::to_string(p.half_spread_ticks) + " ticks") + ", " +
           std::to_string(p.levels) + " level(s) of " + sp::Dec(p.order_size) + " (+" + sp::Dec(p.size_increment) +
           "), max position " + sp::Dec(p.max_position) + ", exposure caps " + sp::Dec(p.max_market_exposure) + "/" +
           sp::Dec(p.max_total_exposure) + " USDC per market/overall");
    Flush();
  }

  void activate() override {
    host().set_timer(refresh_ms_);
    Flush();
  }

  void deactivate() override {
    quoter_.Stop("plugin deactivated", host().now_ms());
    Flush();
    host().set_timer(0);
  }

  // ---- instruments ------------------------------------------------------------------

  // Registers a token with the catalog's numbers (tick, minimum size, closed).
  sp::TokenId Token(std::string_view market, std::string_view asset_id) {
    if (auto t = quoter_.FindToken(market, asset_id)) return *t;
    const sp::TokenId t = quoter_.AddToken(market, asset_id);
    if (markets_ != nullptr) {
      const std::string m(market);
      ph_market_info info{};
      info.struct_size = sizeof(info);
      if (markets_->get_market(host().raw(), m.c_str(), &info) == PH_OK) {
        quoter_.SetTokenMeta(t, info.tick_size, info.min_order_size);
        if (PH_STRUCT_HAS(&info, ph_market_info, end_time_ms)) quoter_.SetEndTime(t, info.end_time_ms);
        if ((info.flags & PH_MARKET_CLOSED) != 0) quoter_.SetClosed(t);
      }
    }
    return t;
  }

  // The complement of (market, asset_id) from the config map, else the catalog.
  std::optional<std::string> ComplementOf(const std::string& market, const std::string& asset_id) const {
    if (auto c = host().find_string("complement." + market + "/" + asset_id)) return Trim(*c);
    if (markets_ == nullptr) return std::nullopt;
    ph_outcome_info info{};
    info.struct_size = sizeof(info);
    if (markets_->get_outcome(host().raw(), market.c_str(), asset_id.c_str(), &info) != PH_OK) return std::nullopt;
    if (info.complement_asset_id == nullptr || *info.complement_asset_id == '\0') return std::nullopt;
    return std::string(info.complement_asset_id);
  }

  uint32_t AddAsset(const std::string& market, const std::string& asset_id) {
    const uint32_t inst = quoter_.AddInstrument(Token(market, asset_id));
    if (!all_) host().subscribe(market, asset_id);
    if (auto c = ComplementOf(market, asset_id)) {
      if (*c == asset_id || c->empty()) Bad("complement." + market + "/" + asset_id, "must name the other token");
      if (!quoter_.SetComplement(inst, Token(market, *c))) {
        host().warn(market + "/" + asset_id + ": complement " + *c +
                    " conflicts with another pairing; quoting without complement awareness");
      } else if (!all_) {
        host().subscribe(market, *c);
      }
    } else if (markets_ != nullptr) {
      host().info(market + "/" + asset_id + ": complement token not known yet; taken from the " PH_EXT_MARKETS
                  " catalog once it is (until then asks are limited to tokens held)");
    } else if (quoter_.params().ask_mode == sp::AskMode::kComplement) {
      host().warn(market + "/" + asset_id +
                  ": no complement token known (set complement.\"<market>/<asset_id>\" or run with the " PH_EXT_MARKETS
                  " catalog); asks are limited to tokens held");
    }
    return inst;
  }

  // Complements the catalog learned since (a feed showing a market's second token).
  void ResolveComplements() {
    for (uint32_t i = 0; i < quoter_.instruments().size(); ++i) {
      if (quoter_.instruments()[i].complement != sp::kNoToken) continue;
      const auto& tok = quoter_.tokens()[quoter_.instruments()[i].token];
      const std::string market = tok.market, asset_id = tok.asset_id;
      auto c = ComplementOf(market, asset_id);
      if (!c || *c == asset_id) continue;
      if (quoter_.SetComplement(i, Token(market, *c))) {
        if (!all_) host().subscribe(market, *c);
        host().info(market + "/" + asset_id + ": complement is " + *c);
      }
    }
  }

  // A market from `markets = [...]`: its first outcome is quoted.
  void AddMarket(const std::string& market) {
    ph_outcome_info info{};
    info.struct_size = sizeof(info);
    if (markets_->get_outcome_at(host().raw(), market.c_str(), 0, &info) != PH_OK || info.asset_id == nullptr) {
      Bad("markets", "market '" + market + "' is not in the host's catalog");
    }
    AddAsset(market, info.asset_id);
  }

  // markets = "all": a token seen for the first time. With the catalog, a binary
  // market is quoted on its first outcome (the other is its complement).
  void Discover(std::string_view market, std::string_view asset_id) {
    const std::string m(market), a(asset_id);
    std::string primary = a;
    if (markets_ != nullptr) {
      ph_outcome_info info{};
      info.struct_size = sizeof(info);
      if (markets_->get_outcome(host().raw(), m.c_str(), a.c_str(), &info) == PH_OK && info.index != 0 &&
          info.complement_asset_id != nullptr && *info.complement_asset_id != '\0') {
        primary = info.complement_asset_id;
      }
    }
    Token(m, a);
    if (quoter_.FindToken(m, primary) && IsInstrument(*quoter_.FindToken(m, primary))) return;
    if (quoter_.instruments().size() >= static_cast<size_t>(max_instruments_)) {
      if (!warned_full_) host().warn("max_instruments " + std::to_string(max_instruments_) + " reached; " + m + "/" + a + " and later tokens are not quoted");
      warned_full_ = true;
      return;
    }
    AddAsset(m, primary);
  }

  bool IsInstrument(sp::TokenId t) const {
    for (const auto& ins : quoter_.instruments()) {
      if (ins.token == t) return true;
    }
    return false;
  }

  // Evaluates every instrument that quotes or uses token t.
  void EvaluateToken(sp::TokenId t, int64_t now) {
    const auto& list = quoter_.instruments();
    for (uint32_t i = 0; i < list.size(); ++i) {
      if (list[i].token == t || list[i].complement == t) quoter_.Evaluate(i, now, Budget());
    }
  }

  size_t Budget() const {
    const int64_t used = plans_this_event_ + static_cast<int64_t>(quoter_.outbox().places.size());
    return used >= max_plans_per_event_ ? 0 : static_cast<size_t>(max_plans_per_event_ - used);
  }

  void CheckHost(int64_t now) {
    if (control_ != nullptr) {
      ph_control_status st{};
      st.struct_size = sizeof(st);
      if (control_->get_status(host().raw(), &st) == PH_OK) quoter_.SetPaused((st.flags & PH_CONTROL_PAUSED) != 0, now);
    }
    if (markets_ != nullptr) {
      const uint64_t gen = markets_->generation(host().raw());
      if (gen != catalog_generation_) {
        catalog_generation_ = gen;
        for (sp::TokenId t = 0; t < quoter_.tokens().size(); ++t) {
          const auto& tok = quoter_.tokens()[t];
          ph_market_info info{};
          info.struct_size = sizeof(info);
          if (markets_->get_market(host().raw(), tok.market.c_str(), &info) != PH_OK) continue;
          quoter_.SetTokenMeta(t, info.tick_size, info.min_order_size);
          if (PH_STRUCT_HAS(&info, ph_market_info, end_time_ms)) quoter_.SetEndTime(t, info.end_time_ms);
          if ((info.flags & PH_MARKET_CLOSED) != 0 && !tok.closed) quoter_.SetClosed(t);
        }
        ResolveComplements();
      }
    }
  }

  // ---- market data ------------------------------------------------------------------

  void on_book(const BookView& book) override {
    plans_this_event_ = 0;
    const int64_t now = host().now_ms();
    std::optional<sp::TokenId> t = quoter_.FindToken(book.asset.market, book.asset.asset_id);
    if (!t && all_) {
      Discover(book.asset.market, book.asset.asset_id);
      t = quoter_.FindToken(book.asset.market, book.asset.asset_id);
    }
    if (!t) return;
    sp::Top top;
    top.stale = book.stale;
    top.tick = book.tick_size;
    if (!book.bids.empty()) {
      top.bid = book.bids.front().price;
      top.bid_size = book.bids.front().size;
    }
    if (!book.asks.empty()) {
      top.ask = book.asks.front().price;
      top.ask_size = book.asks.front().size;
    }
    quoter_.OnBook(*t, top, now);
    CheckHost(now);
    EvaluateToken(*t, now);
    Flush();
  }

  void on_trade(const Trade& trade) override {
    plans_this_event_ = 0;
    auto t = quoter_.FindToken(trade.asset.market, trade.asset.asset_id);
    if (!t) return;
    quoter_.OnTrade(*t, trade.price);
    if (quoter_.params().reference == sp::Reference::kLastTrade) EvaluateToken(*t, host().now_ms());
    Flush();
  }

  void on_status(const StatusEvent& e) override {
    plans_this_event_ = 0;
    auto t = quoter_.FindToken(e.asset.market, e.asset.asset_id);
    if (!t) return;
    const int64_t now = host().now_ms();
    switch (e.status) {
      case AssetStatus::kStale:
        quoter_.SetStale(*t, true);
        break;
      case AssetStatus::kResynced:
        quoter_.OnResynced(*t);
        break;
      case AssetStatus::kMarketClosed:
        quoter_.SetClosed(*t);
        break;
    }
    EvaluateToken(*t, now);
    Flush();
  }

  void on_timer(int64_t now) override {
    plans_this_event_ = 0;
    CheckHost(now);
    quoter_.EvaluateAll(now, Budget());
    Flush();
    host().gauge("open_orders", static_cast<int64_t>(quoter_.orders().size()));
    host().gauge("total_exposure_micros", quoter_.TotalExposure());
    host().gauge("pnl_at_mid_micros", quoter_.MarkedPnl());
  }

  // ---- our orders -------------------------------------------------------------------

  void on_order_update(const OrderUpdate& u) override {
    const int64_t now = host().now_ms();
    switch (u.kind) {
      case OrderEvent::kPlanAccepted:
        quoter_.OnPlanAccepted(u.plan_id);
        break;
      case OrderEvent::kPlanRejected:
        host().warn("plan " + std::to_string(u.plan_id) + " (" + std::string(u.client_tag) +
                    ") rejected: " + std::string(u.reason));
        host().counter("plans_rejected");
        quoter_.OnPlanRejected(u.plan_id, u.reason, now);
        break;
      case OrderEvent::kAcked:
        quoter_.OnAcked(u.plan_id);
        break;
      case OrderEvent::kPartiallyFilled:
        quoter_.OnProgress(u.plan_id, u.filled_size, now);
        break;
      case OrderEvent::kFilled:
      case OrderEvent::kCancelled:
        quoter_.OnProgress(u.plan_id, u.filled_size, now);
        quoter_.OnClosed(u.plan_id, false, u.reason, now);
        break;
      case OrderEvent::kRejected:
        host().warn("order of plan " + std::to_string(u.plan_id) + " (" + std::string(u.client_tag) +
                    ") rejected by the venue: " + std::string(u.reason));
        quoter_.OnClosed(u.plan_id, true, u.reason, now);
        break;
    }
    Flush();
  }

  void on_fill(const Fill& f) override {
    const sp::TokenId t = Token(f.asset.market, f.asset.asset_id);
    const sp::Side side = f.side == Side::kBuy ? sp::Side::kBuy : sp::Side::kSell;
    quoter_.OnFill(f.plan_id, t, side, f.price, f.size, f.fee, host().now_ms());
    host().counter("fills");
    host().counter("filled_micros", f.size);
    Flush();
  }

  // ---- the outbox -------------------------------------------------------------------

  void Flush() {
    sp::Outbox& out = quoter_.outbox();
    for (const sp::Note& n : out.notes) {
      if (n.warn) {
        host().warn(n.text);
      } else {
        host().info(n.text);
      }
    }
    if (out.cancel_all) {
      host().cancel_all(out.cancel_all_reason);
      host().counter("cancel_all");
    }
    const ph_host* h = host().raw();
    for (const sp::CancelAction& c : out.cancels) {
      ph_cancel_request req{};
      req.struct_size = sizeof(req);
      req.scope = PH_CANCEL_PLAN;
      req.plan_id = c.plan_id;
      req.reason = c.reason.c_str();
      const ph_result rc = h->cancel_orders(h, &req);
      if (rc != PH_OK && rc != PH_ERR_NOT_FOUND) {
        throw Error(rc, "cancel of plan " + std::to_string(c.plan_id) + " failed: " + ph_result_name(rc));
      }
    }
    if (!out.cancels.empty()) host().counter("cancels", static_cast<int64_t>(out.cancels.size()));
    bool stop = false;
    for (const sp::PlaceAction& a : out.places) {
      if (stop) {
        quoter_.OnSubmitFailed(a.local_id, host().now_ms());
        continue;
      }
      const auto& tok = quoter_.tokens()[a.token];
      const auto& quoted = quoter_.tokens()[quoter_.instruments()[a.instrument].token];
      Plan plan("spread:" + quoted.asset_id + ":" + sp::SlotName(a.slot) + std::to_string(a.level), a.reason);
      if (a.side == sp::Side::kBuy) {
        plan.buy(tok.market, tok.asset_id, a.price, a.size, Tif::kGtc);
      } else {
        plan.sell(tok.market, tok.asset_id, a.price, a.size, Tif::kGtc);
      }
      uint64_t plan_id = 0;
      const ph_result rc = host().try_submit(plan, &plan_id);
      if (rc == PH_OK) {
        quoter_.OnSubmitted(a.local_id, plan_id);
        ++plans_this_event_;
        host().counter("quotes_placed");
        continue;
      }
      host().warn("submit_plan '" + plan.client_tag + "' failed: " + ph_result_name(rc));
      quoter_.OnSubmitFailed(a.local_id, host().now_ms());
      if (rc == PH_ERR_SINK_FULL) stop = true;  // the host disables us after this hook; stop adding
    }
    out.clear();
  }

  sp::Quoter quoter_;
  const ph_markets_ext* markets_ = nullptr;
  const ph_control_ext* control_ = nullptr;
  uint64_t catalog_generation_ = 0;
  bool all_ = false;
  bool warned_full_ = false;
  int64_t refresh_ms_ = 500;
  int64_t max_plans_per_event_ = 24;
  int64_t max_instruments_ = 10;
  int64_t plans_this_event_ = 0;
};

}  // namespace

POLYHOST_PLUGIN_DESCRIBED(Spread, "spread", "Spread market maker", "1.0.0", "polyhost",
                          "quotes bids and asks around a reference price with inventory skew and worst-case caps");

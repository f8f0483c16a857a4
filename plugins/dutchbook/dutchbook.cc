// DutchBook: buy one token of every outcome of a group when their asks, plus
// fees, cost less than the 1 USDC the group pays out.
//
//   binary market         buy YES and NO when ask(YES) + ask(NO) + fees < 1 - threshold
//   neg-risk event        buy every market's YES when Σ asks + fees < 1 - threshold
//
// Groups come from the host's "polyhost.markets/1" extension (the Gamma catalog,
// plus markets the host only saw in a feed); without it, markets whose books
// showed exactly two assets are traded as binary markets. Sizing walks the ask
// levels of all legs together (basket.h). Every leg is FOK (or IOC), so a plan
// either fills as a whole basket per leg or leaves nothing resting. One plan per
// group per cooldown. Configuration and metrics: docs/plugins/dutchbook.md.
//
// Everything runs on the host's strategy thread; the clock is host().now_ms()
// (feed time in replays), so replays are deterministic.
#include <polyhost/sdk/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "basket.h"

namespace {

using namespace polyhost::sdk;
namespace db = polyhost::dutchbook;

// Canonical decimal text of micro-units: 480000 -> "0.48", 5000000 -> "5".
std::string Dec(int64_t micros) {
  std::string out;
  if (micros < 0) {
    out += '-';
    micros = micros == INT64_MIN ? INT64_MAX : -micros;
  }
  out += std::to_string(micros / kMicros);
  int64_t frac = micros % kMicros;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 6 - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class DutchBook final : public Strategy {
 public:
  explicit DutchBook(Host host) : Strategy(host) {}

 private:
  struct Config {
    int64_t min_profit = 20'000;     // micro-USDC per basket
    int64_t threshold = 0;           // per token set: Σ(ask + fee) < 1 - threshold
    int64_t fee_rate_bps = 0;
    int64_t max_size = 100 * kMicros;
    int64_t max_cost = 100 * kMicros;
    int64_t lot = 10'000;
    int64_t cooldown_ms = 5'000;
    Tif tif = Tif::kFok;
    bool subscribe_all = true;
    bool binary_markets = true;
    bool neg_risk_events = true;
    int64_t max_legs = 16;
  };

  struct Leg {
    std::string market;
    std::string asset_id;
    int64_t min_order_size = 0;  // micro-units; 0 = unknown
  };

  struct Group {
    std::string id;
    bool binary = true;
    bool usable = false;  // tradable kind with 2..max_legs legs
    std::vector<Leg> legs;
    uint64_t generation = 0;  // extension generation it was read at
    int64_t cooldown_until = INT64_MIN;
    std::vector<int64_t> signature;  // the opportunity last reported; empty = none
  };

  struct AssetGroups {
    uint64_t generation = 0;
    std::vector<size_t> groups;  // into groups_
  };

  struct Pending {
    std::string group;
    int64_t profit = 0;
    uint32_t legs = 0;
  };
  // An accepted basket whose legs are still working: a basket is whole only when
  // every leg fills; any other mix leaves a naked position worth a warning.
  struct OpenBasket {
    std::string group;
    uint32_t legs = 0;
    uint32_t closed = 0;
    uint32_t filled = 0;   // legs filled completely
    uint32_t partial = 0;  // legs that ended with some but not all filled
  };

  // ---- lifecycle ----------------------------------------------------------------

  void init() override {
    ReadConfig();
    markets_ = host().extension<ph_markets_ext>(PH_EXT_MARKETS);
    if (markets_ != nullptr && markets_->struct_size < sizeof(ph_markets_ext)) markets_ = nullptr;  // too old
    if (markets_ == nullptr) {
      host().warn("the host offers no " PH_EXT_MARKETS
                  " catalog: only binary markets are traded, recognised by their two assets in the feed");
    }
    if (cfg_.subscribe_all) {
      host().subscribe(PH_SUBSCRIBE_ALL, PH_SUBSCRIBE_ALL);
    } else {
      if (markets_ == nullptr) {
        throw Error(PH_ERR_CONFIG, "subscribe_all = false needs the host's " PH_EXT_MARKETS " catalog");
      }
      const uint32_t n = markets_->group_count(host().raw());
      size_t subscribed = 0;
      for (uint32_t i = 0; i < n; ++i) {
        const size_t g = LoadGroup(i, markets_->generation(host().raw()));
        if (g == kNone || !groups_[g]->usable) continue;
        for (const Leg& leg : groups_[g]->legs) host().subscribe(leg.market, leg.asset_id);
        subscribed += groups_[g]->legs.size();
      }
      host().info("subscribed to the " + std::to_string(subscribed) + " legs of the catalog's groups");
    }
    host().info("dutchbook: min_profit " + Dec(cfg_.min_profit) + " USDC, threshold " + Dec(cfg_.threshold) +
                ", fee_rate_bps " + std::to_string(cfg_.fee_rate_bps) + ", max_size " + Dec(cfg_.max_size) +
                ", max_cost " + Dec(cfg_.max_cost) + " USDC, cooldown " + std::to_string(cfg_.cooldown_ms) +
                " ms, legs " + (cfg_.tif == Tif::kFok ? "FOK" : "IOC"));
  }

  void ReadConfig() {
    const Host& h = host();
    cfg_.min_profit = h.config_micros("min_profit_usdc", cfg_.min_profit);
    cfg_.threshold = h.config_micros("threshold", cfg_.threshold);
    cfg_.fee_rate_bps = h.config_int("fee_rate_bps", cfg_.fee_rate_bps);
    cfg_.max_size = h.config_micros("max_size", cfg_.max_size);
    cfg_.max_cost = h.config_micros("max_cost_usdc", cfg_.max_cost);
    cfg_.lot = h.config_micros("lot_size", cfg_.lot);
    cfg_.cooldown_ms = h.config_int("cooldown_ms", cfg_.cooldown_ms);
    cfg_.subscribe_all = h.config_bool("subscribe_all", cfg_.subscribe_all);
    cfg_.binary_markets = h.config_bool("binary_markets", cfg_.binary_markets);
    cfg_.neg_risk_events = h.config_bool("neg_risk_events", cfg_.neg_risk_events);
    cfg_.max_legs = h.config_int("max_legs", cfg_.max_legs);
    const std::string tif = Lower(h.config_string("leg_tif", "FOK"));
    auto bad = [&](std::string_view key, std::string_view why) {
      throw Error(PH_ERR_CONFIG,
                  "config key 'plugin." + std::string(h.plugin_name()) + "." + std::string(key) + "' " + std::string(why));
    };
    if (tif == "fok") {
      cfg_.tif = Tif::kFok;
    } else if (tif == "ioc") {
      cfg_.tif = Tif::kIoc;
    } else {
      bad("leg_tif", "must be \"FOK\" or \"IOC\" (a resting GTC leg could be left naked)");
    }
    if (cfg_.min_profit < 0) bad("min_profit_usdc", "must not be negative");
    if (cfg_.threshold < 0 || cfg_.threshold >= kMicros) bad("threshold", "must be in [0, 1)");
    if (cfg_.fee_rate_bps < 0 || cfg_.fee_rate_bps > 10'000) bad("fee_rate_bps", "must be in [0, 10000]");
    if (cfg_.max_size <= 0) bad("max_size", "must be positive");
    if (cfg_.max_cost <= 0) bad("max_cost_usdc", "must be positive");
    if (cfg_.lot <= 0) bad("lot_size", "must be positive");
    if (cfg_.cooldown_ms < 0) bad("cooldown_ms", "must not be negative");
    if (cfg_.max_legs < 2 || cfg_.max_legs > 64) bad("max_legs", "must be in [2, 64]");
    params_.fee_rate_bps = cfg_.fee_rate_bps;
    params_.edge_threshold_micros = cfg_.threshold;
    params_.min_profit_micros = 0;  // detection sizes every edge; min_profit is applied after
    params_.max_size_micros = cfg_.max_size;
    params_.max_cost_micros = cfg_.max_cost;
    params_.lot_micros = cfg_.lot;
  }

  // ---- groups ---------------------------------------------------------------------

  static constexpr size_t kNone = SIZE_MAX;

  // Reads (or refreshes) the extension's group `index`; returns its slot in groups_.
  size_t LoadGroup(uint32_t index, uint64_t generation) {
    auto it = by_ext_index_.find(index);
    size_t slot = kNone;
    if (it != by_ext_index_.end()) {
      slot = it->second;
      if (groups_[slot]->generation == generation) return slot;
    }
    const ph_host* h = host().raw();
    ph_market_group info{};
    info.struct_size = sizeof(info);
    legs_buf_.resize(std::max<size_t>(legs_buf_.size(), 8));
    ph_result rc = markets_->get_group(h, index, &info, legs_buf_.data(), static_cast<uint32_t>(legs_buf_.size()));
    if (rc == PH_OK && info.leg_count > legs_buf_.size()) {
      legs_buf_.resize(info.leg_count);
      info.struct_size = sizeof(info);
      rc = markets_->get_group(h, index, &info, legs_buf_.data(), static_cast<uint32_t>(legs_buf_.size()));
    }
    if (slot == kNone) {
      slot = groups_.size();
      groups_.push_back(std::make_unique<Group>());
      by_ext_index_.emplace(index, slot);
    }
    Group& g = *groups_[slot];
    g.generation = generation;
    if (rc != PH_OK) {  // dissolved
      g.usable = false;
      g.legs.clear();
      g.signature.clear();
      return slot;
    }
    g.id = info.id != nullptr ? info.id : "group:" + std::to_string(index);
    g.binary = info.kind == PH_GROUP_BINARY;
    std::vector<Leg> legs;
    const size_t n = std::min<size_t>(info.leg_count, legs_buf_.size());
    for (size_t i = 0; i < n; ++i) {
      Leg leg{legs_buf_[i].market != nullptr ? legs_buf_[i].market : "",
              legs_buf_[i].asset_id != nullptr ? legs_buf_[i].asset_id : "", 0};
      ph_market_info m{};
      m.struct_size = sizeof(m);
      if (markets_->get_market(h, leg.market.c_str(), &m) == PH_OK) leg.min_order_size = m.min_order_size;
      legs.push_back(std::move(leg));
    }
    const bool same = legs.size() == g.legs.size() &&
                      std::equal(legs.begin(), legs.end(), g.legs.begin(), [](const Leg& a, const Leg& b) {
                        return a.market == b.market && a.asset_id == b.asset_id;
                      });
    if (!same) g.signature.clear();
    g.legs = std::move(legs);
    const bool wanted = info.kind == PH_GROUP_BINARY        ? cfg_.binary_markets
                        : info.kind == PH_GROUP_NEG_RISK_EVENT ? cfg_.neg_risk_events
                                                               : false;
    g.usable = wanted && g.legs.size() >= 2 && g.legs.size() <= static_cast<size_t>(cfg_.max_legs);
    if (wanted && g.legs.size() > static_cast<size_t>(cfg_.max_legs)) {
      host().warn("group " + g.id + " has " + std::to_string(g.legs.size()) + " legs, more than max_legs " +
                  std::to_string(cfg_.max_legs) + "; not traded");
    }
    return slot;
  }

  // The groups the asset is a leg of (cached per extension generation).
  const std::vector<size_t>& GroupsOf(std::string_view market, std::string_view asset_id) {
    key_.assign(market);
    key_ += '\x1f';
    key_ += asset_id;
    if (markets_ == nullptr) return ObservedGroupsOf(market, asset_id);
    const ph_host* h = host().raw();
    const uint64_t generation = markets_->generation(h);
    auto it = asset_groups_.find(key_);
    if (it != asset_groups_.end() && it->second.generation == generation) return it->second.groups;
    if (it == asset_groups_.end()) it = asset_groups_.emplace(key_, AssetGroups{}).first;
    AssetGroups& entry = it->second;
    entry.generation = generation;
    entry.groups.clear();
    const std::string m(market), a(asset_id);
    uint32_t indexes[8];
    uint32_t count = 0;
    if (markets_->find_groups(h, m.c_str(), a.c_str(), indexes, 8, &count) == PH_OK) {
      for (uint32_t i = 0; i < std::min<uint32_t>(count, 8); ++i) entry.groups.push_back(LoadGroup(indexes[i], generation));
    }
    return entry.groups;
  }

  // Without the extension: a market whose feed showed exactly two assets.
  const std::vector<size_t>& ObservedGroupsOf(std::string_view market, std::string_view asset_id) {
    auto it = asset_groups_.find(key_);
    if (it != asset_groups_.end()) return it->second.groups;
    it = asset_groups_.emplace(key_, AssetGroups{}).first;
    std::vector<std::string>& assets = observed_[std::string(market)];
    assets.emplace_back(asset_id);
    const std::string id = "market:" + std::string(market);
    auto g = observed_group_.find(id);
    if (assets.size() == 2) {
      const size_t slot = groups_.size();
      groups_.push_back(std::make_unique<Group>());
      Group& group = *groups_[slot];
      group.id = id;
      group.legs = {{std::string(market), assets[0], 0}, {std::string(market), assets[1], 0}};
      group.usable = cfg_.binary_markets;
      observed_group_.emplace(id, slot);
      for (const std::string& a : assets) asset_groups_[std::string(market) + '\x1f' + a].groups = {slot};
    } else if (g != observed_group_.end()) {  // a third asset: not a binary market after all
      groups_[g->second]->usable = false;
      groups_[g->second]->signature.clear();
    }
    return asset_groups_[key_].groups;
  }

  // ---- the strategy ---------------------------------------------------------------

  void on_book(const BookView& book) override {
    const std::vector<size_t>& groups = GroupsOf(book.asset.market, book.asset.asset_id);
    for (size_t i = 0; i < groups.size(); ++i) {
      if (groups[i] != kNone) Evaluate(*groups_[groups[i]], book);
    }
  }

  // A leg's current book: the one being delivered, or the host's.
  bool LegBook(const Leg& leg, const BookView& current, BookView* out) {
    if (leg.asset_id == current.asset.asset_id && leg.market == current.asset.market) {
      *out = current;
      return true;
    }
    const ph_host* h = host().raw();
    ph_book_view v{};
    v.struct_size = sizeof(v);
    if (h->get_book(h, leg.market.c_str(), leg.asset_id.c_str(), &v) != PH_OK) return false;
    *out = BookView::From(v);
    out->raw = nullptr;
    return true;
  }

  void Evaluate(Group& g, const BookView& current) {
    if (!g.usable) return;
    const size_t n = g.legs.size();
    books_.resize(n);
    int64_t sum = 0, unit = 0, max_size = INT64_MAX;
    for (size_t i = 0; i < n; ++i) {
      if (!LegBook(g.legs[i], current, &books_[i]) || books_[i].asks.empty()) {
        g.signature.clear();
        return;
      }
      if (books_[i].stale) {
        if (!g.signature.empty()) host().debug("group " + g.id + ": leg " + g.legs[i].asset_id + " is stale; skipped");
        host().counter("skipped_stale");
        g.signature.clear();
        return;
      }
      const Level& best = books_[i].asks.front();
      sum += best.price;
      unit += best.price + db::BasketFee(best.price, kMicros, cfg_.fee_rate_bps);
      max_size = std::min(max_size, best.size);
    }
    if (unit >= kMicros - cfg_.threshold) {  // no edge at the best asks
      g.signature.clear();
      return;
    }

    // An opportunity. Report it once while it stays the same.
    signature_.clear();
    for (size_t i = 0; i < n; ++i) signature_.push_back(books_[i].asks.front().price);
    signature_.push_back(max_size);
    const bool fresh = signature_ != g.signature;
    if (fresh) {
      g.signature = signature_;
      host().counter("opportunities");
      std::string line = "opportunity " + g.id + " sum=" + Dec(sum) + " fees=" + Dec(unit - sum) +
                         " edge=" + Dec(kMicros - unit) + " max_size=" + Dec(max_size) + " legs=";
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) line += ',';
        line += g.legs[i].asset_id + "@" + Dec(books_[i].asks.front().price);
      }
      host().debug(line);
    }

    // Size it: walk the asks of every leg together, within the caps.
    const db::Basket basket = Size(n, sum);
    if (fresh) host().counter("detected_edge_micros", std::max<int64_t>(basket.profit_micros, 0));
    const int64_t now = host().now_ms();
    if (cfg_.cooldown_ms > 0 && now < g.cooldown_until) {
      if (fresh) host().counter("skipped_cooldown");
      return;
    }
    if (!basket.tradable() || basket.profit_micros < cfg_.min_profit || basket.profit_micros <= 0) {
      if (fresh) {
        host().counter("skipped_small");
        host().debug("group " + g.id + ": expected profit " + Dec(basket.profit_micros) + " is under min_profit_usdc " +
                     Dec(cfg_.min_profit));
      }
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      if (g.legs[i].min_order_size > basket.size) {
        if (fresh) {
          host().counter("skipped_min_size");
          host().debug("group " + g.id + ": size " + Dec(basket.size) + " is under the minimum order " +
                       Dec(g.legs[i].min_order_size) + " of " + g.legs[i].asset_id);
        }
        return;
      }
    }

    Plan plan("dutchbook:" + g.id);
    std::string limits;
    for (size_t i = 0; i < n; ++i) {
      plan.buy(g.legs[i].market, g.legs[i].asset_id, basket.legs[i].limit_price, basket.size, cfg_.tif);
      if (i > 0) limits += ',';
      limits += Dec(basket.legs[i].limit_price);
    }
    plan.reason = "dutch book " + g.id + ": best asks sum " + Dec(sum) + ", " + std::to_string(n) + " legs x " +
                  Dec(basket.size) + " for " + Dec(basket.cost_micros) + " + fees " + Dec(basket.fees_micros) +
                  ", expected profit " + Dec(basket.profit_micros) + " USDC";
    uint64_t plan_id = 0;
    const ph_result rc = host().try_submit(plan, &plan_id);
    if (rc != PH_OK) {
      host().warn("group " + g.id + ": submit_plan failed: " + ph_result_name(rc));
      if (rc == PH_ERR_SINK_FULL) throw Error(rc, "plan sink full");
      return;
    }
    g.cooldown_until = now + cfg_.cooldown_ms;
    pending_[plan_id] = Pending{g.id, basket.profit_micros, static_cast<uint32_t>(n)};
    while (pending_.size() > 4096) pending_.erase(pending_.begin());  // decisions the host never sent
    host().counter("plans_submitted");
    host().debug("plan " + std::to_string(plan_id) + " " + g.id + ": buy " + std::to_string(n) + " legs x " +
                Dec(basket.size) + " at limits " + limits + ", cost " + Dec(basket.cost_micros) + " + fees " +
                Dec(basket.fees_micros) + ", expected profit " + Dec(basket.profit_micros) + " USDC");
  }

  db::Basket Size(size_t n, int64_t sum) {
    asks_.resize(n);
    spans_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      // Only levels that could still be part of an edge: p + Σ other best asks < 1 - threshold.
      const int64_t cutoff = kMicros - cfg_.threshold - (sum - books_[i].asks.front().price);
      asks_[i].clear();
      for (const Level& l : books_[i].asks) {
        if (l.price >= cutoff) break;
        asks_[i].push_back({l.price, l.size});
      }
      spans_[i] = std::span<const db::AskLevel>(asks_[i]);
    }
    return db::SizeBasket(std::span<const std::span<const db::AskLevel>>(spans_.data(), n), params_);
  }

  void on_order_update(const OrderUpdate& u) override {
    switch (u.kind) {
      case OrderEvent::kPlanAccepted: {
        auto it = pending_.find(u.plan_id);
        host().counter("plans_accepted");
        if (it != pending_.end()) {
          host().counter("executed_edge_micros", std::max<int64_t>(it->second.profit, 0));
          host().info("plan " + std::to_string(u.plan_id) + " " + it->second.group + " accepted" +
                      (u.dry_run ? " (dry run)" : "") + "; expected profit " + Dec(it->second.profit) + " USDC");
          open_[u.plan_id] = OpenBasket{it->second.group, it->second.legs, 0, 0, 0};
          while (open_.size() > 4096) open_.erase(open_.begin());
          pending_.erase(it);
        }
        break;
      }
      case OrderEvent::kPlanRejected: {
        auto it = pending_.find(u.plan_id);
        host().counter("plans_rejected");
        host().warn("plan " + std::to_string(u.plan_id) + (it != pending_.end() ? " " + it->second.group : "") +
                    " rejected: " + std::string(u.reason));
        if (it != pending_.end()) pending_.erase(it);
        break;
      }
      case OrderEvent::kRejected:
      case OrderEvent::kCancelled:
        if (!u.whole_plan() && u.filled_size < u.size) {
          host().counter("legs_unfilled");
          host().debug("plan " + std::to_string(u.plan_id) + " leg " + std::to_string(u.leg_index) + " (" +
                       std::string(u.asset.asset_id) + ") filled " + Dec(u.filled_size) + " of " + Dec(u.size) + ": " +
                       std::string(u.reason));
          CloseLeg(u.plan_id, u.filled_size > 0 ? LegEnd::kPartial : LegEnd::kNone);
        }
        break;
      case OrderEvent::kFilled:
        host().counter("legs_filled");
        if (!u.whole_plan()) CloseLeg(u.plan_id, LegEnd::kFilled);
        break;
      default:
        break;
    }
  }

  enum class LegEnd { kFilled, kPartial, kNone };

  // Counts a leg that is done; when the whole basket is, says how it ended.
  void CloseLeg(uint64_t plan_id, LegEnd end) {
    auto it = open_.find(plan_id);
    if (it == open_.end()) return;
    OpenBasket& b = it->second;
    ++b.closed;
    if (end == LegEnd::kFilled) ++b.filled;
    if (end == LegEnd::kPartial) ++b.partial;
    if (b.closed < b.legs) return;
    const std::string what = "plan " + std::to_string(plan_id) + " " + b.group + ": ";
    if (b.filled == b.legs) {
      host().counter("baskets_complete");
      host().info(what + "basket complete (" + std::to_string(b.legs) + " legs filled)");
    } else if (b.filled == 0 && b.partial == 0) {
      host().counter("baskets_unfilled");
      host().info(what + "no leg filled; nothing bought");
    } else {
      host().counter("baskets_incomplete");
      host().warn(what + "basket INCOMPLETE: " + std::to_string(b.filled) + " of " + std::to_string(b.legs) +
                  " legs filled, " + std::to_string(b.partial) + " partly: the position is not hedged");
    }
    open_.erase(it);
  }

  Config cfg_;
  db::BasketParams params_;
  const ph_markets_ext* markets_ = nullptr;
  std::vector<std::unique_ptr<Group>> groups_;
  std::unordered_map<uint32_t, size_t> by_ext_index_;
  std::unordered_map<std::string, AssetGroups> asset_groups_;  // "market\x1f asset" -> groups
  std::unordered_map<std::string, std::vector<std::string>> observed_;  // no extension: market -> assets
  std::unordered_map<std::string, size_t> observed_group_;
  std::map<uint64_t, Pending> pending_;  // plans awaiting the host's decision
  std::map<uint64_t, OpenBasket> open_;  // accepted plans with legs still working
  // Scratch, reused across calls (no allocation on the hot path once warm).
  std::string key_;
  std::vector<ph_asset_ref> legs_buf_;
  std::vector<BookView> books_;
  std::vector<int64_t> signature_;
  std::vector<std::vector<db::AskLevel>> asks_;
  std::vector<std::span<const db::AskLevel>> spans_;
};

}  // namespace

POLYHOST_PLUGIN_DESCRIBED(DutchBook, "dutchbook", "Dutch book", "1.0.0", "polyhost",
                          "buys every outcome of a market or neg-risk event when the asks sum below 1");

#include "exec/risk_gate.h"

#include "core/decimal.h"

namespace polyhost {

const char* RejectCodeName(RejectCode code) {
  switch (code) {
    case RejectCode::kNone: return "accepted";
    case RejectCode::kEmptyPlan: return "empty_plan";
    case RejectCode::kTooManyLegs: return "too_many_legs";
    case RejectCode::kKillSwitch: return "kill_switch";
    case RejectCode::kBadSize: return "bad_size";
    case RejectCode::kPriceRange: return "price_out_of_range";
    case RejectCode::kTickMisaligned: return "tick_misaligned";
    case RejectCode::kBelowMinSize: return "below_min_size";
    case RejectCode::kUnknownAsset: return "unknown_asset";
    case RejectCode::kStaleBook: return "stale_book";
    case RejectCode::kCrossedBook: return "crossed_book";
    case RejectCode::kOrderNotional: return "max_order_notional";
    case RejectCode::kMarketNotional: return "max_market_notional";
    case RejectCode::kTotalNotional: return "max_total_notional";
    case RejectCode::kOpenOrders: return "max_open_orders";
    case RejectCode::kDuplicate: return "duplicate_plan";
  }
  return "unknown";
}

namespace {

Decision Reject(RejectCode code, std::string reason) { return Decision{code, std::move(reason)}; }

std::string LegName(size_t i, const PlanLeg& leg) {
  return "leg " + std::to_string(i) + " (" + (leg.side == Side::kBid ? "buy " : "sell ") + FormatDecimal(leg.size) +
         " @ " + FormatDecimal(leg.price) + ")";
}

}  // namespace

void RiskGate::SetKillSwitch(const std::string& plugin, bool on) {
  if (on) {
    killed_.insert(plugin);
  } else {
    killed_.erase(plugin);
  }
}

uint64_t RiskGate::Fingerprint(const Plan& plan) {
  // FNV-1a over the plugin and every leg's identity, side, price and size.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  mix(plan.plugin.data(), plan.plugin.size());
  for (const PlanLeg& l : plan.legs) {
    mix(l.market.data(), l.market.size());
    mix(l.asset_id.data(), l.asset_id.size());
    mix(&l.side, sizeof l.side);
    mix(&l.price, sizeof l.price);
    mix(&l.size, sizeof l.size);
  }
  return h;
}

Decision RiskGate::Check(const Plan& plan, std::span<const LegMarket> legs, const Exposure& exposure,
                         int64_t now_ns) {
  if (plan.legs.empty()) return Reject(RejectCode::kEmptyPlan, "plan has no legs");
  if (plan.legs.size() > static_cast<size_t>(limits_.max_legs)) {
    return Reject(RejectCode::kTooManyLegs, std::to_string(plan.legs.size()) + " legs > max " +
                                                std::to_string(limits_.max_legs));
  }
  if (killed(plan.plugin)) return Reject(RejectCode::kKillSwitch, "kill switch is on for plugin " + plan.plugin);
  if (static_cast<int64_t>(exposure.open_orders) + static_cast<int64_t>(plan.legs.size()) > limits_.max_open_orders) {
    return Reject(RejectCode::kOpenOrders, std::to_string(exposure.open_orders) + " open + " +
                                               std::to_string(plan.legs.size()) + " new > max " +
                                               std::to_string(limits_.max_open_orders));
  }
  int64_t plan_notional = 0;
  std::map<std::string_view, int64_t> per_market;
  for (size_t i = 0; i < plan.legs.size(); ++i) {
    const PlanLeg& leg = plan.legs[i];
    const LegMarket& m = legs[i];
    if (leg.size <= 0) return Reject(RejectCode::kBadSize, LegName(i, leg) + ": size must be positive");
    const int64_t tick = m.tick_micros > 0 ? m.tick_micros : limits_.default_tick_micros;
    if (leg.price < tick || leg.price > kMicrosPerUnit - tick) {
      return Reject(RejectCode::kPriceRange, LegName(i, leg) + ": price outside [" + FormatDecimal(tick) + ", " +
                                                 FormatDecimal(kMicrosPerUnit - tick) + "]");
    }
    if (leg.price % tick != 0) {
      return Reject(RejectCode::kTickMisaligned, LegName(i, leg) + ": price not a multiple of tick " + FormatDecimal(tick));
    }
    const int64_t min_size = m.min_order_size_micros > 0 ? m.min_order_size_micros : limits_.default_min_order_size_micros;
    if (leg.size < min_size) {
      return Reject(RejectCode::kBelowMinSize, LegName(i, leg) + ": size below the minimum " + FormatDecimal(min_size));
    }
    if (m.book == nullptr) return Reject(RejectCode::kUnknownAsset, LegName(i, leg) + ": no book for asset " + leg.asset_id);
    if (m.stale) return Reject(RejectCode::kStaleBook, LegName(i, leg) + ": book is stale");
    if (m.book->crossed()) return Reject(RejectCode::kCrossedBook, LegName(i, leg) + ": book is crossed");
    const int64_t notional = NotionalMicros(leg.price, leg.size);
    if (notional > limits_.max_order_notional_micros) {
      return Reject(RejectCode::kOrderNotional, LegName(i, leg) + ": notional " + FormatDecimal(notional) +
                                                    " > max " + FormatDecimal(limits_.max_order_notional_micros));
    }
    plan_notional += notional;
    per_market[leg.market] += notional;
  }
  for (const auto& [market, add] : per_market) {
    auto it = exposure.market_notional_micros.find(market);
    const int64_t open = it == exposure.market_notional_micros.end() ? 0 : it->second;
    if (open + add > limits_.max_market_notional_micros) {
      return Reject(RejectCode::kMarketNotional, "market " + std::string(market) + ": open " + FormatDecimal(open) +
                                                     " + new " + FormatDecimal(add) + " > max " +
                                                     FormatDecimal(limits_.max_market_notional_micros));
    }
  }
  if (exposure.total_notional_micros + plan_notional > limits_.max_total_notional_micros) {
    return Reject(RejectCode::kTotalNotional, "open " + FormatDecimal(exposure.total_notional_micros) + " + new " +
                                                  FormatDecimal(plan_notional) + " > max " +
                                                  FormatDecimal(limits_.max_total_notional_micros));
  }
  const uint64_t fp = Fingerprint(plan);
  auto it = recent_.find(fp);
  if (it != recent_.end() && now_ns - it->second < limits_.duplicate_window_ns) {
    return Reject(RejectCode::kDuplicate, "same legs as a plan accepted " +
                                              std::to_string((now_ns - it->second) / 1'000'000) + " ms ago");
  }
  recent_[fp] = now_ns;
  if (recent_.size() > 4096) {
    std::erase_if(recent_, [&](const auto& kv) { return now_ns - kv.second >= limits_.duplicate_window_ns; });
  }
  return {};
}

}  // namespace polyhost

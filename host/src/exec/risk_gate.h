// The risk gate: every plan passes here before any relayer sees it.
//
// Checks are ordered cheapest-first and the first failure decides; a rejection
// always carries a machine-readable code and a human reason naming the leg.
// Amounts are exact micro-units; notional uses 128-bit products.
//
// Thread: strategy thread only.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <unordered_map>

#include "book/order_book.h"
#include "exec/plan.h"

namespace polyhost {

struct RiskLimits {
  int64_t max_order_notional_micros = 100'000'000;    // 100 USDC per order
  int64_t max_market_notional_micros = 500'000'000;   // 500 USDC open per market
  int64_t max_total_notional_micros = 2'000'000'000;  // 2000 USDC open overall
  int32_t max_open_orders = 50;
  int32_t max_legs = 16;
  int64_t default_tick_micros = 10'000;               // 0.01 when the market's is unknown
  int64_t default_min_order_size_micros = 5'000'000;  // 5 tokens, the venue's usual minimum
  int64_t duplicate_window_ns = 1'000'000'000;        // same plan again within 1 s is dropped
};

// What the gate needs to know about the asset of one leg.
struct LegMarket {
  const OrderBook* book = nullptr;  // null: asset unknown to the host
  bool stale = false;
  int64_t tick_micros = 0;          // 0: use the default
  int64_t min_order_size_micros = 0;
};

// Open exposure the host is tracking (open orders + not yet settled fills).
struct Exposure {
  std::map<std::string, int64_t, std::less<>> market_notional_micros;
  int64_t total_notional_micros = 0;
  int32_t open_orders = 0;
};

enum class RejectCode : uint8_t {
  kNone = 0,
  kEmptyPlan,
  kTooManyLegs,
  kKillSwitch,
  kBadSize,
  kPriceRange,
  kTickMisaligned,
  kBelowMinSize,
  kUnknownAsset,
  kStaleBook,
  kCrossedBook,
  kOrderNotional,
  kMarketNotional,
  kTotalNotional,
  kOpenOrders,
  kDuplicate,
};
const char* RejectCodeName(RejectCode code);

struct Decision {
  RejectCode code = RejectCode::kNone;
  std::string reason;  // empty when accepted
  bool accepted() const { return code == RejectCode::kNone; }
};

class RiskGate {
 public:
  explicit RiskGate(RiskLimits limits = {}) : limits_(limits) {}

  // legs[i] describes plan.legs[i]. now_ns is a steady-clock time for the
  // duplicate window. An accepted plan is remembered for duplicate suppression.
  Decision Check(const Plan& plan, std::span<const LegMarket> legs, const Exposure& exposure, int64_t now_ns);

  void SetKillSwitch(const std::string& plugin, bool on);
  bool killed(const std::string& plugin) const { return killed_.count(plugin) != 0; }
  const RiskLimits& limits() const { return limits_; }

 private:
  static uint64_t Fingerprint(const Plan& plan);

  RiskLimits limits_;
  std::set<std::string, std::less<>> killed_;
  std::unordered_map<uint64_t, int64_t> recent_;  // plan fingerprint -> last accepted ns
};

}  // namespace polyhost

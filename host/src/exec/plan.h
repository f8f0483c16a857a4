// What a strategy proposes and what the host decides about it.
//
// A Plan is the host-owned copy of what a plugin put into its plan sink: legs
// with exact micro-unit prices and sizes. The host gates it (risk_gate.h),
// turns accepted legs into orders for the relayer, and records every decision.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "book/order_book.h"

namespace polyhost {

enum class TimeInForce : uint8_t {
  kGtc = 0,  // rests on the book until filled or cancelled
  kIoc = 1,  // fills what it can now, the rest is cancelled
  kFok = 2,  // fills completely now, or not at all
};
const char* TimeInForceName(TimeInForce tif);

struct PlanLeg {
  std::string market;
  std::string asset_id;
  Side side = Side::kBid;  // kBid = buy, kAsk = sell
  int64_t price = 0;       // micro-units, limit price
  int64_t size = 0;        // micro-units of outcome tokens
  TimeInForce tif = TimeInForce::kGtc;
};

struct Plan {
  int64_t plan_id = 0;      // assigned by the host, unique per run
  std::string plugin;       // plugin name
  std::string client_tag;   // the plugin's own label
  std::string reason;       // why the plugin wants it (free text, logged)
  std::vector<PlanLeg> legs;
  int64_t book_event_ns = 0;  // steady-clock time of the book event that led to it
  int64_t planned_ns = 0;     // steady-clock time the plan was submitted
};

// Notional of size at price, in micro-USDC: price * size / 1e6, exact, rounded up
// (a cap must never be exceeded through rounding).
int64_t NotionalMicros(int64_t price, int64_t size);

}  // namespace polyhost

// Where accepted orders go. Three implementations share this interface:
// `fake` (acknowledges, fills nothing unless told), `paper` (simulated fills
// against the replayed book) and, in its own issue, `real` (signed CLOB orders).
//
// Thread: strategy thread. Simulated relayers report synchronously through the
// listener, inside Submit()/OnBook()/OnTrade().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "book/order_book.h"
#include "exec/plan.h"

namespace polyhost {

struct Order {
  int64_t order_id = 0;  // host-assigned
  int64_t plan_id = 0;
  std::string plugin;
  PlanLeg leg;
};

enum class OrderState : uint8_t { kAcked, kRejected, kPartiallyFilled, kFilled, kCancelled };
const char* OrderStateName(OrderState state);

struct OrderUpdate {
  int64_t order_id = 0;
  OrderState state = OrderState::kAcked;
  int64_t filled = 0;     // cumulative filled size, micro-units
  int64_t remaining = 0;  // open size left
  std::string reason;     // for rejects and cancels
};

struct Fill {
  int64_t order_id = 0;
  int64_t price = 0;
  int64_t size = 0;
  int64_t fee_micros = 0;
  bool maker = false;  // true when a resting order was filled
};

class RelayerListener {
 public:
  virtual ~RelayerListener() = default;
  virtual void OnOrderUpdate(const OrderUpdate& update) = 0;
  virtual void OnFill(const Fill& fill) = 0;
};

class Relayer {
 public:
  virtual ~Relayer() = default;
  virtual std::string_view name() const = 0;
  virtual void SetListener(RelayerListener* listener) { listener_ = listener; }
  virtual void Submit(const Order& order) = 0;
  virtual void Cancel(int64_t order_id) = 0;
  // Market data, for simulated relayers. `book` must outlive the relayer (the
  // book engine's books do): paper keeps a pointer rather than a copy.
  virtual void OnBook(std::string_view market, std::string_view asset_id, const OrderBook& book) {}
  virtual void OnTrade(std::string_view market, std::string_view asset_id, int64_t price, int64_t size) {}

 protected:
  RelayerListener* listener_ = nullptr;
};

// Fee in micro-USDC for `size` at `price`: rate_bps/1e4 · p · (1 − p) · size,
// rounded up. The venue charges fees proportional to p·(1−p).
int64_t FeeMicros(int64_t price, int64_t size, int64_t fee_rate_bps);

// fake: every order is acknowledged and rests; nothing fills unless FillForTest().
std::unique_ptr<Relayer> MakeFakeRelayer();

struct PaperOptions {
  int64_t taker_fee_bps = 0;
  int64_t maker_fee_bps = 0;
  // Remember what simulated fills took from a book level until the book changes
  // that level, so the same liquidity is not used twice. false: every order sees
  // the replayed level in full (the earlier, optimistic behaviour).
  bool remember_taken_liquidity = true;
};
// paper: marketable orders take the book's liquidity level by level (IOC/FOK
// semantics honoured, partial fills), and a level taken is remembered until the
// book changes it. Resting orders join the back of the queue at their price:
// decreases of that level and prints at that price work through the queue ahead
// first; prints through the price and opposite-side liquidity crossing it fill
// at once. Fees per PaperOptions. See docs/paper-trading.md.
std::unique_ptr<Relayer> MakePaperRelayer(PaperOptions options = {});

struct RealRelayerOptions;  // exec/real_relayer.h

// Builds the relayer named by [relayer] type: "fake", "paper" or "real" (the
// signed CLOB relayer, exec/real_relayer.h, which needs `real`). Throws
// std::runtime_error for an unknown type or when the real relayer cannot start.
std::unique_ptr<Relayer> MakeRelayer(std::string_view type, PaperOptions options = {},
                                     const RealRelayerOptions* real = nullptr);

}  // namespace polyhost

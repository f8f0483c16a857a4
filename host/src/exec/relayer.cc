#include "exec/relayer.h"

#include <map>
#include <stdexcept>
#include <vector>

#include "core/decimal.h"

namespace polyhost {

const char* OrderStateName(OrderState state) {
  switch (state) {
    case OrderState::kAcked: return "acked";
    case OrderState::kRejected: return "rejected";
    case OrderState::kPartiallyFilled: return "partially_filled";
    case OrderState::kFilled: return "filled";
    case OrderState::kCancelled: return "cancelled";
  }
  return "?";
}

int64_t FeeMicros(int64_t price, int64_t size, int64_t fee_rate_bps) {
  if (fee_rate_bps <= 0) return 0;
  const __int128 num = static_cast<__int128>(size) * price * (kMicrosPerUnit - price) * fee_rate_bps;
  const __int128 den = static_cast<__int128>(kMicrosPerUnit) * kMicrosPerUnit * 10'000;
  __int128 q = num / den;
  if (num % den != 0) ++q;
  return static_cast<int64_t>(q);
}

namespace {

class FakeRelayer final : public Relayer {
 public:
  std::string_view name() const override { return "fake"; }
  void Submit(const Order& order) override {
    if (listener_ != nullptr) listener_->OnOrderUpdate({order.order_id, OrderState::kAcked, 0, order.leg.size, {}});
    if (order.leg.tif != TimeInForce::kGtc) {
      // Nothing fills here, so an IOC/FOK order ends at once, unfilled.
      if (listener_ != nullptr) {
        listener_->OnOrderUpdate({order.order_id, OrderState::kCancelled, 0, order.leg.size,
                                  std::string(TimeInForceName(order.leg.tif)) + ": not filled (fake relayer)"});
      }
      return;
    }
    open_[order.order_id] = order.leg.size;
  }
  void Cancel(int64_t order_id) override {
    auto it = open_.find(order_id);
    if (it == open_.end()) return;
    int64_t remaining = it->second;
    open_.erase(it);
    if (listener_ != nullptr) listener_->OnOrderUpdate({order_id, OrderState::kCancelled, 0, remaining, "cancelled"});
  }

 private:
  std::map<int64_t, int64_t> open_;
};

class PaperRelayer final : public Relayer {
 public:
  explicit PaperRelayer(PaperOptions options) : options_(options) {}
  std::string_view name() const override { return "paper"; }

  void Submit(const Order& order) override {
    Resting r{order, 0};
    auto bit = books_.find(BookKey(order.leg.market, order.leg.asset_id));
    // Marketable part: walk the opposite side while it crosses our limit.
    std::vector<Level> takes;
    int64_t available = 0;
    if (bit != books_.end()) {
      const OrderBook& book = *bit->second;
      auto levels = order.leg.side == Side::kBid ? book.asks() : book.bids();
      for (const Level& l : levels) {
        const bool crosses = order.leg.side == Side::kBid ? l.price <= order.leg.price : l.price >= order.leg.price;
        if (!crosses || available >= order.leg.size) break;
        const int64_t take = std::min(l.size, order.leg.size - available);
        takes.push_back({l.price, take});
        available += take;
      }
    }
    if (order.leg.tif == TimeInForce::kFok && available < order.leg.size) {
      Report({order.order_id, OrderState::kCancelled, 0, order.leg.size,
              "FOK: only " + FormatDecimal(available) + " of " + FormatDecimal(order.leg.size) + " available"});
      return;
    }
    Report({order.order_id, OrderState::kAcked, 0, order.leg.size, {}});
    for (const Level& t : takes) FillOrder(r, t.price, t.size, /*maker=*/false);
    const int64_t remaining = order.leg.size - r.filled;
    if (remaining == 0) return;
    if (order.leg.tif != TimeInForce::kGtc) {
      Report({order.order_id, OrderState::kCancelled, r.filled, remaining, "IOC remainder cancelled"});
      return;
    }
    resting_[order.order_id] = r;
  }

  void Cancel(int64_t order_id) override {
    auto it = resting_.find(order_id);
    if (it == resting_.end()) return;
    const Resting& r = it->second;
    Report({order_id, OrderState::kCancelled, r.filled, r.order.leg.size - r.filled, "cancelled"});
    resting_.erase(it);
  }

  void OnBook(std::string_view market, std::string_view asset_id, const OrderBook& book) override {
    const std::string& key = BookKey(market, asset_id);
    auto slot = books_.find(key);
    if (slot == books_.end()) {
      books_.emplace(key, &book);
    } else {
      slot->second = &book;
    }
    if (resting_.empty()) return;
    // A resting order fills when the opposite side has come through its price.
    for (auto it = resting_.begin(); it != resting_.end();) {
      Resting& r = it->second;
      if (r.order.leg.asset_id != asset_id || r.order.leg.market != market) {
        ++it;
        continue;
      }
      auto levels = r.order.leg.side == Side::kBid ? book.asks() : book.bids();
      for (const Level& l : levels) {
        const bool crosses = r.order.leg.side == Side::kBid ? l.price <= r.order.leg.price : l.price >= r.order.leg.price;
        const int64_t remaining = r.order.leg.size - r.filled;
        if (!crosses || remaining == 0) break;
        FillOrder(r, r.order.leg.price, std::min(l.size, remaining), /*maker=*/true);
      }
      it = r.filled == r.order.leg.size ? resting_.erase(it) : std::next(it);
    }
  }

  void OnTrade(std::string_view market, std::string_view asset_id, int64_t price, int64_t size) override {
    // A print at or through our price trades volume that was ahead of or at us:
    // credit it to resting orders in order id (time) priority.
    int64_t volume = size;
    for (auto it = resting_.begin(); it != resting_.end() && volume > 0;) {
      Resting& r = it->second;
      const bool hit = r.order.leg.asset_id == asset_id && r.order.leg.market == market &&
                       (r.order.leg.side == Side::kBid ? price <= r.order.leg.price : price >= r.order.leg.price);
      if (!hit) {
        ++it;
        continue;
      }
      const int64_t take = std::min(volume, r.order.leg.size - r.filled);
      FillOrder(r, r.order.leg.price, take, /*maker=*/true);
      volume -= take;
      it = r.filled == r.order.leg.size ? resting_.erase(it) : std::next(it);
    }
  }

 private:
  struct Resting {
    Order order;
    int64_t filled;
  };

  // (market, asset_id) as one map key; reuses a scratch string.
  const std::string& BookKey(std::string_view market, std::string_view asset_id) {
    scratch_.assign(market);
    scratch_ += '\x1f';
    scratch_ += asset_id;
    return scratch_;
  }

  void Report(const OrderUpdate& u) {
    if (listener_ != nullptr) listener_->OnOrderUpdate(u);
  }

  void FillOrder(Resting& r, int64_t price, int64_t size, bool maker) {
    if (size <= 0) return;
    r.filled += size;
    const int64_t fee = FeeMicros(price, size, maker ? options_.maker_fee_bps : options_.taker_fee_bps);
    if (listener_ != nullptr) {
      listener_->OnFill({r.order.order_id, price, size, fee, maker});
      const int64_t remaining = r.order.leg.size - r.filled;
      listener_->OnOrderUpdate({r.order.order_id, remaining == 0 ? OrderState::kFilled : OrderState::kPartiallyFilled,
                                r.filled, remaining, {}});
    }
  }

  PaperOptions options_;
  // The host's live books (owned by the book engine, stable for the run).
  std::map<std::string, const OrderBook*, std::less<>> books_;
  std::map<int64_t, Resting> resting_;  // by order id: time priority
  std::string scratch_;
};

}  // namespace

std::unique_ptr<Relayer> MakeFakeRelayer() { return std::make_unique<FakeRelayer>(); }
std::unique_ptr<Relayer> MakePaperRelayer(PaperOptions options) { return std::make_unique<PaperRelayer>(options); }

std::unique_ptr<Relayer> MakeRelayer(std::string_view type, PaperOptions options) {
  if (type == "fake") return MakeFakeRelayer();
  if (type == "paper") return MakePaperRelayer(options);
  if (type == "real") {
    throw std::runtime_error(
        "[relayer] type = \"real\": the signed CLOB relayer is not available in this build yet (issue #9); "
        "nothing was sent. Use \"fake\" or \"paper\".");
  }
  throw std::runtime_error("[relayer] type must be fake, paper or real (got '" + std::string(type) + "')");
}

}  // namespace polyhost

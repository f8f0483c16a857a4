#include "exec/relayer.h"

#include <algorithm>
#include <map>
#include <span>
#include <stdexcept>
#include <vector>

#include "core/decimal.h"
#include "exec/real_relayer.h"

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
    const PlanLeg& leg = order.leg;
    Resting r{order, 0, 0, 0, 0, 0};
    BookState* bs = FindBook(leg.market, leg.asset_id);
    // Marketable part: walk the opposite side while it crosses our limit, taking
    // only what earlier simulated takes have left of each level.
    struct Take {
      int64_t price, size, level_size;
    };
    std::vector<Take> takes;
    int64_t available = 0;
    if (bs != nullptr) {
      const Side opposite = leg.side == Side::kBid ? Side::kAsk : Side::kBid;
      for (const Level& l : bs->book->levels(opposite)) {
        if (!Crosses(leg.side, leg.price, l.price) || available >= leg.size) break;
        const int64_t free = l.size - Consumed(*bs, opposite, l);
        if (free <= 0) continue;
        const int64_t take = std::min(free, leg.size - available);
        takes.push_back({l.price, take, l.size});
        available += take;
      }
    }
    if (leg.tif == TimeInForce::kFok && available < leg.size) {
      Report({order.order_id, OrderState::kCancelled, 0, leg.size,
              "FOK: only " + FormatDecimal(available) + " of " + FormatDecimal(leg.size) + " available"});
      return;
    }
    Report({order.order_id, OrderState::kAcked, 0, leg.size, {}});
    const Side opposite = leg.side == Side::kBid ? Side::kAsk : Side::kBid;
    for (const Take& t : takes) {
      Consume(*bs, opposite, {t.price, t.level_size}, t.size);
      FillOrder(r, t.price, t.size, /*maker=*/false);
    }
    const int64_t remaining = leg.size - r.filled;
    if (remaining == 0) return;
    if (leg.tif != TimeInForce::kGtc) {
      Report({order.order_id, OrderState::kCancelled, r.filled, remaining, "IOC remainder cancelled"});
      return;
    }
    // The rest joins the back of the queue at its price: everything the book
    // shows there on our side is ahead of us.
    r.level_seen = bs != nullptr ? LevelSize(bs->book->levels(leg.side), leg.price) : 0;
    r.queue_ahead = r.level_seen;
    r.seq = ++seq_;
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
    if (slot == books_.end()) slot = books_.emplace(key, BookState{}).first;
    BookState& bs = slot->second;
    bs.book = &book;
    // Forget consumption of levels the book has changed since.
    for (auto it = bs.consumed.begin(); it != bs.consumed.end();) {
      const int64_t now = LevelSize(book.levels(it->first.first), it->first.second);
      it = now != it->second.level_size ? bs.consumed.erase(it) : std::next(it);
    }
    if (resting_.empty()) return;
    std::vector<Resting*> mine[2];
    for (auto& [id, r] : resting_) {
      if (r.order.leg.asset_id != asset_id || r.order.leg.market != market) continue;
      // Queue: a decrease of our level is taken from ahead of us (cancels or
      // fills of orders placed earlier), net of what trade prints already took.
      const int64_t now = LevelSize(book.levels(r.order.leg.side), r.order.leg.price);
      if (now < r.level_seen) {
        int64_t gone = r.level_seen - now;
        const int64_t explained = std::min(gone, r.trade_credit);
        r.trade_credit -= explained;
        gone -= explained;
        r.queue_ahead = std::max<int64_t>(0, r.queue_ahead - gone);
      }
      r.queue_ahead = std::min(r.queue_ahead, now);
      r.level_seen = now;
      mine[static_cast<int>(r.order.leg.side)].push_back(&r);
    }
    // The opposite side at or through our price fills us at our price, best
    // price first, then time; each crossing level is used once until it changes.
    for (int s = 0; s < 2; ++s) {
      SortByPriority(mine[s]);
      const Side opposite = s == 0 ? Side::kAsk : Side::kBid;
      for (Resting* r : mine[s]) {
        for (const Level& l : book.levels(opposite)) {
          const int64_t remaining = r->order.leg.size - r->filled;
          if (!Crosses(r->order.leg.side, r->order.leg.price, l.price) || remaining == 0) break;
          const int64_t take = std::min(l.size - Consumed(bs, opposite, l), remaining);
          if (take <= 0) continue;
          Consume(bs, opposite, l, take);
          FillOrder(*r, r->order.leg.price, take, /*maker=*/true);
        }
      }
    }
    EraseFilled();
  }

  void OnTrade(std::string_view market, std::string_view asset_id, int64_t price, int64_t size) override {
    if (size <= 0 || resting_.empty()) return;
    // A print at `price` is matched against resting orders on both sides that it
    // reaches: bids at or above it, asks at or below it (the venue's print carries
    // no side here, so both are considered, each with the full print size).
    for (int s = 0; s < 2; ++s) {
      const Side side = static_cast<Side>(s);
      std::vector<Resting*> hit;
      for (auto& [id, r] : resting_) {
        if (r.order.leg.side != side || r.order.leg.asset_id != asset_id || r.order.leg.market != market) continue;
        if (Crosses(side, r.order.leg.price, price)) hit.push_back(&r);
      }
      if (hit.empty()) continue;
      SortByPriority(hit);
      int64_t volume = size;
      int64_t own_at_price = 0;  // taken at the print price by our earlier orders
      for (Resting* r : hit) {
        const int64_t remaining = r->order.leg.size - r->filled;
        if (r->order.leg.price != price) {
          // Through our price: we were better than the print, so it reached us first.
          const int64_t take = std::min(volume, remaining);
          FillOrder(*r, r->order.leg.price, take, /*maker=*/true);
          volume -= take;
          continue;
        }
        // At our price: the queue ahead trades first, only the excess reaches us.
        const int64_t ahead_used = std::min(r->queue_ahead, volume);
        const int64_t reach = std::max<int64_t>(0, volume - r->queue_ahead - own_at_price);
        r->queue_ahead -= ahead_used;
        // The book will show this print as a decrease of our level: do not count it twice.
        r->trade_credit += volume;
        const int64_t take = std::min(reach, remaining);
        FillOrder(*r, r->order.leg.price, take, /*maker=*/true);
        own_at_price += take;
      }
    }
    EraseFilled();
  }

 private:
  struct Resting {
    Order order;
    int64_t filled;
    int64_t queue_ahead;   // volume at our price on our side ahead of us
    int64_t level_seen;    // the book's size at our price when last looked at
    int64_t trade_credit;  // printed at our price, not yet seen leaving the book
    int64_t seq;           // time priority
  };
  struct ConsumedLevel {
    int64_t level_size;  // the level's size when we took from it
    int64_t taken;
  };
  struct BookState {
    const OrderBook* book = nullptr;
    std::map<std::pair<Side, int64_t>, ConsumedLevel> consumed;
  };

  static bool Crosses(Side side, int64_t limit, int64_t price) {
    return side == Side::kBid ? price <= limit : price >= limit;
  }

  static int64_t LevelSize(std::span<const Level> levels, int64_t price) {
    for (const Level& l : levels) {
      if (l.price == price) return l.size;
    }
    return 0;
  }

  // Best price first (highest bid, lowest ask), then time.
  static void SortByPriority(std::vector<Resting*>& v) {
    std::sort(v.begin(), v.end(), [](const Resting* a, const Resting* b) {
      if (a->order.leg.price != b->order.leg.price) {
        return a->order.leg.side == Side::kBid ? a->order.leg.price > b->order.leg.price
                                               : a->order.leg.price < b->order.leg.price;
      }
      return a->seq < b->seq;
    });
  }

  int64_t Consumed(const BookState& bs, Side side, const Level& l) const {
    if (!options_.remember_taken_liquidity) return 0;
    auto it = bs.consumed.find({side, l.price});
    if (it == bs.consumed.end() || it->second.level_size != l.size) return 0;
    return it->second.taken;
  }

  void Consume(BookState& bs, Side side, const Level& l, int64_t size) const {
    if (!options_.remember_taken_liquidity) return;
    ConsumedLevel& c = bs.consumed[{side, l.price}];
    if (c.level_size != l.size) c = {l.size, 0};
    c.taken += size;
  }

  BookState* FindBook(std::string_view market, std::string_view asset_id) {
    auto it = books_.find(BookKey(market, asset_id));
    return it == books_.end() || it->second.book == nullptr ? nullptr : &it->second;
  }

  void EraseFilled() {
    std::erase_if(resting_, [](const auto& kv) { return kv.second.filled == kv.second.order.leg.size; });
  }

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
  // The host's live books (owned by the book engine, stable for the run) and
  // what our simulated takes have consumed of their levels.
  std::map<std::string, BookState, std::less<>> books_;
  std::map<int64_t, Resting> resting_;  // by order id
  int64_t seq_ = 0;
  std::string scratch_;
};

}  // namespace

std::unique_ptr<Relayer> MakeFakeRelayer() { return std::make_unique<FakeRelayer>(); }
std::unique_ptr<Relayer> MakePaperRelayer(PaperOptions options) { return std::make_unique<PaperRelayer>(options); }

std::unique_ptr<Relayer> MakeRelayer(std::string_view type, PaperOptions options, const RealRelayerOptions* real) {
  if (type == "fake") return MakeFakeRelayer();
  if (type == "paper") return MakePaperRelayer(options);
  if (type == "real") {
    if (real == nullptr) {
      throw std::runtime_error("[relayer] type = \"real\" needs its [relayer] settings (key, credentials, "
                               "exchange); this caller did not pass them. Nothing was sent.");
    }
    return MakeRealRelayer(*real);
  }
  throw std::runtime_error("[relayer] type must be fake, paper or real (got '" + std::string(type) + "')");
}

}  // namespace polyhost

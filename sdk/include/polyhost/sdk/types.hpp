// polyhost C++ SDK: value types over the C ABI (header-only, C++20).
//
// Views (BookView, BookViewRef, Trade, OrderUpdate, Fill, StatusEvent) borrow the host's
// memory: like the C structs they wrap, they are valid only during the callback
// that received them. Plan and Leg own their strings and are copied by the host
// at submit time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "polyhost/abi/polyhost.h"

namespace polyhost::sdk {

// One price level, best-first in BookView::bids / asks. Micro-units.
using Level = ::ph_level;

// Prices and sizes are int64 micro-units: 1.0 == kMicros.
inline constexpr int64_t kMicros = 1'000'000;

// The error type of the SDK. Throwing it (or any exception) out of a Strategy
// hook makes the SDK return code() (PH_ERR_EXCEPTION for other exceptions) to the
// host, which logs what() and disables the plugin. Exceptions never cross the ABI.
class Error : public std::runtime_error {
 public:
  Error(ph_result code, const std::string& what)
      : std::runtime_error(what), code_(code < 0 ? code : PH_ERR_FAILED) {}
  ph_result code() const noexcept { return code_; }

 private:
  ph_result code_;
};

enum class Side : int32_t { kBuy = PH_SIDE_BUY, kSell = PH_SIDE_SELL };
enum class Tif : int32_t { kGtc = PH_TIF_GTC, kIoc = PH_TIF_IOC, kFok = PH_TIF_FOK };
enum class LogLevel : int32_t {
  kTrace = PH_LOG_TRACE,
  kDebug = PH_LOG_DEBUG,
  kInfo = PH_LOG_INFO,
  kWarn = PH_LOG_WARN,
  kError = PH_LOG_ERROR,
};
enum class AssetStatus : int32_t {
  kStale = PH_ASSET_STALE,
  kResynced = PH_ASSET_RESYNCED,
  kMarketClosed = PH_ASSET_MARKET_CLOSED,
};
enum class OrderEvent : int32_t {
  kPlanAccepted = PH_ORDER_PLAN_ACCEPTED,
  kPlanRejected = PH_ORDER_PLAN_REJECTED,
  kAcked = PH_ORDER_ACKED,
  kRejected = PH_ORDER_REJECTED,
  kPartiallyFilled = PH_ORDER_PARTIALLY_FILLED,
  kFilled = PH_ORDER_FILLED,
  kCancelled = PH_ORDER_CANCELLED,
};

namespace detail {
inline std::string_view Str(const char* s) noexcept { return s != nullptr ? std::string_view(s) : std::string_view(); }
}  // namespace detail

// A borrowed (market, asset_id) pair.
struct AssetRef {
  std::string_view market;
  std::string_view asset_id;
  friend bool operator==(const AssetRef&, const AssetRef&) = default;
};

namespace detail {
// The ids of a view without lengths (from an ABI 1.0 host): strlen each. Out
// of line: BookView::From runs on every book update and this is the rare case.
#if defined(__GNUC__)
[[gnu::noinline, gnu::cold]]
#endif
inline AssetRef MeasureAsset(const ph_asset_ref& a) noexcept {
  return {Str(a.market), Str(a.asset_id)};
}

// One side of a view as a span: a NULL array is empty whatever its count says.
// The count comes in by value, read whether or not it is used, so the choice
// is a conditional move rather than a branch around the load.
inline std::span<const Level> Levels(const ph_level* levels, uint32_t count) noexcept {
  return {levels, levels != nullptr ? count : 0u};
}

// The view's ids: with the lengths of an ABI 1.1 host, measured otherwise.
inline AssetRef AssetOf(const ph_book_view& v) noexcept {
  constexpr uint32_t kLengthsEnd = offsetof(ph_book_view, asset_id_len) + sizeof(v.asset_id_len);
  const bool lengths = v.struct_size >= kLengthsEnd && v.market_len != 0 && v.asset_id_len != 0;
  return lengths ? AssetRef{std::string_view(v.asset.market, v.market_len),
                            std::string_view(v.asset.asset_id, v.asset_id_len)}
                 : MeasureAsset(v.asset);
}
}  // namespace detail

// A read-only, zero-copy book: valid only during the callback.
struct BookView {
  AssetRef asset;
  std::span<const Level> bids;  // best (highest) first
  std::span<const Level> asks;  // best (lowest) first
  int64_t seq = 0;
  int64_t resync_count = 0;
  int64_t ts_ms = 0;
  int64_t tick_size = 0;  // micro-units; 0 = unknown
  bool stale = false;
  const ph_book_view* raw = nullptr;

  // 0 when that side is empty (the venue's convention).
  int64_t best_bid() const noexcept { return bids.empty() ? 0 : bids.front().price; }
  int64_t best_ask() const noexcept { return asks.empty() ? 0 : asks.front().price; }
  bool empty() const noexcept { return bids.empty() && asks.empty(); }

  static BookView From(const ph_book_view& v) noexcept {
    // Runs for every book update, so it is kept short: built in one expression
    // (default-constructing then assigning made the compiler clear the whole
    // struct first, a `rep stos` on every update), no branches on the level
    // arrays (a NULL array has count 0), and the id lengths of an ABI 1.1
    // host instead of strlen; measuring the ids for an older host is out of
    // line so the common path keeps few values live (docs/performance.md).
    return BookView{
        detail::AssetOf(v),
        detail::Levels(v.bids, v.bid_count),
        detail::Levels(v.asks, v.ask_count),
        v.seq,
        v.resync_count,
        v.ts_ms,
        v.tick_size,
        (v.flags & PH_BOOK_FLAG_STALE) != 0,
        &v};
  }
};

// A zero-copy book: a handle on the host's ph_book_view, read through
// accessors. What Strategy::on_book_ref receives: BookView copies the view
// into its data members (112 bytes) on every update, this reads the host's
// view in place (docs/plugin-guide.md, "Zero-copy books"). Valid only during
// the callback, like BookView; copying the handle is free but does not make it
// live longer. view() makes the BookView where one is wanted (to keep in a
// container during the callback, or for code written for BookView).
class BookViewRef {
 public:
  explicit BookViewRef(const ph_book_view& v) noexcept : v_(&v) {}

  AssetRef asset() const noexcept { return detail::AssetOf(*v_); }
  std::span<const Level> bids() const noexcept { return detail::Levels(v_->bids, v_->bid_count); }  // best first
  std::span<const Level> asks() const noexcept { return detail::Levels(v_->asks, v_->ask_count); }  // best first
  int64_t seq() const noexcept { return v_->seq; }
  int64_t resync_count() const noexcept { return v_->resync_count; }
  int64_t ts_ms() const noexcept { return v_->ts_ms; }
  int64_t tick_size() const noexcept { return v_->tick_size; }  // micro-units; 0 = unknown
  bool stale() const noexcept { return (v_->flags & PH_BOOK_FLAG_STALE) != 0; }
  const ph_book_view* raw() const noexcept { return v_; }

  // 0 when that side is empty (the venue's convention).
  int64_t best_bid() const noexcept { return bids().empty() ? 0 : v_->bids[0].price; }
  int64_t best_ask() const noexcept { return asks().empty() ? 0 : v_->asks[0].price; }
  bool empty() const noexcept { return bids().empty() && asks().empty(); }

  // The same book as a BookView (a copy of the fields; the levels are not copied).
  BookView view() const noexcept { return BookView::From(*v_); }

 private:
  const ph_book_view* v_;
};

struct Trade {
  AssetRef asset;
  Side side{};  // the taker's side; Side{0} when unknown
  int64_t price = 0;
  int64_t size = 0;
  int64_t fee_rate_bps = 0;
  int64_t ts_ms = 0;
  const ph_trade* raw = nullptr;

  static Trade From(const ph_trade& t) noexcept {
    return {{detail::Str(t.asset.market), detail::Str(t.asset.asset_id)}, Side{t.side}, t.price, t.size,
            t.fee_rate_bps, t.ts_ms, &t};
  }
};

struct StatusEvent {
  AssetRef asset;
  AssetStatus status{};
  int64_t seq = 0;
  int64_t resync_count = 0;
  int64_t ts_ms = 0;
  const ph_status_event* raw = nullptr;

  static StatusEvent From(const ph_status_event& e) noexcept {
    return {{detail::Str(e.asset.market), detail::Str(e.asset.asset_id)}, AssetStatus{e.status}, e.seq,
            e.resync_count, e.ts_ms, &e};
  }
};

struct OrderUpdate {
  OrderEvent kind{};
  uint64_t plan_id = 0;
  std::string_view client_tag;
  uint32_t leg_index = PH_LEG_ALL;  // PH_LEG_ALL: about the whole plan
  Side side{};
  AssetRef asset;
  std::string_view order_id;  // empty until acked
  int64_t price = 0;
  int64_t size = 0;
  int64_t filled_size = 0;
  int64_t ts_ms = 0;
  std::string_view reason;
  bool dry_run = false;
  const ph_order_update* raw = nullptr;

  bool whole_plan() const noexcept { return leg_index == PH_LEG_ALL; }

  static OrderUpdate From(const ph_order_update& u) noexcept {
    OrderUpdate o;
    o.kind = OrderEvent{u.kind};
    o.plan_id = u.plan_id;
    o.client_tag = detail::Str(u.client_tag);
    o.leg_index = u.leg_index;
    o.side = Side{u.side};
    o.asset = {detail::Str(u.asset.market), detail::Str(u.asset.asset_id)};
    o.order_id = detail::Str(u.order_id);
    o.price = u.price;
    o.size = u.size;
    o.filled_size = u.filled_size;
    o.ts_ms = u.ts_ms;
    o.reason = detail::Str(u.reason);
    o.dry_run = (u.flags & PH_ORDER_FLAG_DRY_RUN) != 0;
    o.raw = &u;
    return o;
  }
};

struct Fill {
  uint64_t plan_id = 0;
  std::string_view client_tag;
  uint32_t leg_index = 0;
  Side side{};
  AssetRef asset;
  std::string_view order_id;
  std::string_view trade_id;
  int64_t price = 0;
  int64_t size = 0;
  int64_t fee = 0;
  int64_t ts_ms = 0;
  bool maker = false;
  bool simulated = false;
  const ph_fill* raw = nullptr;

  static Fill From(const ph_fill& f) noexcept {
    Fill o;
    o.plan_id = f.plan_id;
    o.client_tag = detail::Str(f.client_tag);
    o.leg_index = f.leg_index;
    o.side = Side{f.side};
    o.asset = {detail::Str(f.asset.market), detail::Str(f.asset.asset_id)};
    o.order_id = detail::Str(f.order_id);
    o.trade_id = detail::Str(f.trade_id);
    o.price = f.price;
    o.size = f.size;
    o.fee = f.fee;
    o.ts_ms = f.ts_ms;
    o.maker = (f.flags & PH_FILL_FLAG_MAKER) != 0;
    o.simulated = (f.flags & PH_FILL_FLAG_SIMULATED) != 0;
    o.raw = &f;
    return o;
  }
};

// One order of a plan (owned strings).
struct Leg {
  std::string market;
  std::string asset_id;
  Side side = Side::kBuy;
  int64_t price = 0;  // micro-units, 0 < price < kMicros
  int64_t size = 0;   // micro-units of outcome tokens
  Tif tif = Tif::kGtc;
};

// What a strategy proposes (see Host::submit). Builder style:
//   host().submit(Plan("arb").buy(m, yes, 480000, 10 * kMicros, Tif::kFok)
//                            .buy(m, no, 500000, 10 * kMicros, Tif::kFok));
struct Plan {
  std::string client_tag;
  std::vector<Leg> legs;
  std::string reason;

  Plan() = default;
  explicit Plan(std::string tag, std::string why = {}) : client_tag(std::move(tag)), reason(std::move(why)) {}

  Plan& add(Leg leg) {
    legs.push_back(std::move(leg));
    return *this;
  }
  Plan& buy(std::string_view market, std::string_view asset_id, int64_t price, int64_t size, Tif tif = Tif::kGtc) {
    return add({std::string(market), std::string(asset_id), Side::kBuy, price, size, tif});
  }
  Plan& sell(std::string_view market, std::string_view asset_id, int64_t price, int64_t size, Tif tif = Tif::kGtc) {
    return add({std::string(market), std::string(asset_id), Side::kSell, price, size, tif});
  }
  Plan& because(std::string why) {
    reason = std::move(why);
    return *this;
  }
};

}  // namespace polyhost::sdk

// The spread market maker's quoting logic, free of the host: a Quoter is fed book
// tops, trades, status changes, order updates and fills, and decides which quotes
// to place and which to cancel. spread.cc only translates between it and the
// plugin ABI, so everything that matters is unit-testable (quoter_test.cc).
//
// Model (docs/plugins/spread.md has the long version):
//   - An instrument is one outcome token T that we quote, with its complement C
//     (the other token of a binary market) when known.
//   - Reference price: mid, microprice or last trade of T, shifted by an optional
//     inventory price skew. bid0 = floor_tick(ref − half_spread),
//     ask0 = ceil_tick(ref + half_spread), widened to min_spread, kept inside
//     [tick, 1 − tick] and (unless allow_cross) strictly inside the book. Further
//     levels step outwards by level_spacing_ticks with size_increment more size.
//   - Sizes are skewed by inventory: r = (position − target) / range in [−1, 1];
//     bid size × (1 − r), ask size × (1 + r).
//   - Polymarket cannot sell what it does not hold. Every quote is therefore
//     built from four kinds of order ("slots"): a bid is a BUY of T, or a SELL of
//     held C at 1 − bid; an ask is a SELL of held T, or a BUY of C at 1 − ask.
//     Held tokens are used first (ask_mode = complement); ask_mode = inventory
//     only sells held T; ask_mode = sell sells T regardless (paper only).
//   - Caps are checked in the worst case: every open order (including ones whose
//     cancel is in flight, and plans not yet decided) is assumed to fill if that
//     is worse. Position: T − C plus every open order that increases it must stay
//     ≤ max_position (and the same for the short direction). Exposure: the most
//     USDC a market's tokens can lose at resolution (YES + NO pairs net out) must
//     stay ≤ max_market_exposure, and the sum over markets ≤ max_total_exposure.
//     A fill only moves an order's worst case into the position, so caps that
//     held at placement keep holding whatever fills arrive, in any order. Quotes
//     are sized as if the instrument's own orders were gone; one that does not
//     fit beside orders whose cancel is in flight waits, it is never shrunk.
//   - Quotes are pulled (every order cancelled, nothing placed) when the book is
//     stale, crossed or silent, the market closed or is about to close (within
//     pull_before_close_ms of the catalog's end time; latched), the reference is
//     missing, the host is paused, or the kill switch tripped (latched).
//
// All prices and sizes are int64 micro-units (1e-6); products use 128 bits.
// Thread: single-threaded (the host's strategy thread).
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <compare>
#include <cstdlib>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace polyhost::spread {

inline constexpr int64_t kOne = 1'000'000;  // 1 USDC, 1 token, price 1.0

using TokenId = uint32_t;
inline constexpr TokenId kNoToken = UINT32_MAX;

enum class Side : uint8_t { kBuy = 1, kSell = 2 };
enum class Reference : uint8_t { kMid, kMicroprice, kLastTrade };
enum class AskMode : uint8_t { kSell, kInventory, kComplement };
enum class ReplaceMode : uint8_t { kReplace, kCancelFirst };

// Which half of a quote an order implements, in the quoted token's terms.
enum class Slot : uint8_t {
  kBid,            // BUY T at the bid
  kBidComplement,  // SELL held C at 1 − bid (buying T, the other way round)
  kAsk,            // SELL held T at the ask
  kAskComplement,  // BUY C at 1 − ask (being short T without holding it)
};
inline constexpr bool IsBidSlot(Slot s) { return s == Slot::kBid || s == Slot::kBidComplement; }
inline constexpr bool IsComplementSlot(Slot s) { return s == Slot::kBidComplement || s == Slot::kAskComplement; }
inline constexpr const char* SlotName(Slot s) {
  switch (s) {
    case Slot::kBid: return "bid";
    case Slot::kBidComplement: return "bidc";
    case Slot::kAsk: return "ask";
    case Slot::kAskComplement: return "askc";
  }
  return "?";
}
inline constexpr const char* ReferenceName(Reference r) {
  switch (r) {
    case Reference::kMid: return "mid";
    case Reference::kMicroprice: return "microprice";
    case Reference::kLastTrade: return "last_trade";
  }
  return "?";
}

// ---- exact integer helpers ---------------------------------------------------------

// price × size / 1e6 rounded up (what a buy costs) or down (what a sell returns).
inline int64_t MulCeil(int64_t a, int64_t b) {
  const __int128 n = static_cast<__int128>(a) * b;
  __int128 q = n / kOne;
  if (n % kOne > 0) ++q;
  return static_cast<int64_t>(q);
}
inline int64_t MulFloor(int64_t a, int64_t b) {
  const __int128 n = static_cast<__int128>(a) * b;
  __int128 q = n / kOne;
  if (n % kOne < 0) --q;
  return static_cast<int64_t>(q);
}
// The venue's fee for `size` at `price`: rate_bps/1e4 · p · (1 − p) · size, rounded up.
inline int64_t FeeMicros(int64_t price, int64_t size, int64_t fee_rate_bps) {
  if (fee_rate_bps <= 0 || size <= 0 || price <= 0 || price >= kOne) return 0;
  const __int128 num = static_cast<__int128>(size) * price * (kOne - price) * fee_rate_bps;
  const __int128 den = static_cast<__int128>(kOne) * kOne * 10'000;
  __int128 q = num / den;
  if (num % den != 0) ++q;
  return static_cast<int64_t>(q);
}
inline int64_t FloorTo(int64_t v, int64_t step) {
  if (step <= 0) return v;
  int64_t q = v / step;
  if (v % step != 0 && v < 0) --q;
  return q * step;
}
inline int64_t CeilTo(int64_t v, int64_t step) {
  if (step <= 0) return v;
  int64_t q = v / step;
  if (v % step != 0 && v > 0) ++q;
  return q * step;
}

// Canonical decimal text of micro-units: 480000 -> "0.48", -5000000 -> "-5".
inline std::string Dec(int64_t micros) {
  std::string out;
  uint64_t u = static_cast<uint64_t>(micros);
  if (micros < 0) {
    out += '-';
    u = 0 - u;
  }
  out += std::to_string(u / kOne);
  uint64_t frac = u % kOne;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 6 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  return out;
}

// ---- configuration -------------------------------------------------------------------

struct Params {
  // Quoting
  Reference reference = Reference::kMid;
  int64_t half_spread_ticks = 2;      // used when half_spread is 0
  int64_t half_spread = 0;            // price; > 0 overrides half_spread_ticks
  int64_t min_spread = 0;             // price between our best bid and best ask (at least one tick)
  int64_t levels = 1;                 // quote levels per side (1..10)
  int64_t level_spacing_ticks = 1;    // between levels
  int64_t order_size = 10 * kOne;     // tokens at level 0
  int64_t size_increment = 0;         // tokens added per further level
  int64_t lot_size = 10'000;          // sizes are multiples of this (0.01 token)
  int64_t min_order_size = 5 * kOne;  // smaller orders are not sent (venue minimum)
  int64_t tick_size = 10'000;         // when neither the book nor the catalog says
  bool allow_cross = false;           // false: bids stay below the best ask, asks above the best bid
  AskMode ask_mode = AskMode::kComplement;
  // Inventory
  int64_t target_position = 0;        // tokens of T − C to aim at
  int64_t max_position = 50 * kOne;   // |T − C| incl. open orders, worst case
  int64_t inventory_range = 0;        // tokens for full skew; 0 = max_position
  bool size_skew = true;
  int64_t price_skew_ticks = 0;       // ref moves by −r × this many ticks
  // Caps (micro-USDC; 0 = no cap for max_order_notional)
  int64_t max_order_notional = 0;
  int64_t max_market_exposure = 50 * kOne;
  int64_t max_total_exposure = 200 * kOne;
  int64_t fee_rate_bps = 0;           // fees reserved in the caps
  int64_t max_open_orders = 40;
  int64_t max_plans_in_flight = 64;   // submitted but not yet decided by the host
  // Refresh
  int64_t min_requote_ms = 1'000;     // an order younger than this is not replaced
  int64_t max_order_age_ms = 0;       // replace older orders even within tolerance; 0 = never
  int64_t price_tolerance = 0;        // replace when the price moved by more than this
  int64_t size_tolerance_bps = 1'000; // ... or the size by more than this fraction
  ReplaceMode replace_mode = ReplaceMode::kReplace;
  int64_t fill_delay_ms = 1'000;      // no new orders on an instrument this long after a fill
  bool hanging_orders = false;
  int64_t hanging_cancel_distance = 50'000;  // price from the reference; 0 = never
  int64_t hanging_max_age_ms = 0;     // 0 = never
  int64_t reject_backoff_ms = 1'000;  // after a rejected plan, no new orders on that instrument
  int64_t cancel_retry_ms = 5'000;    // re-send a cancel that was not confirmed
  int64_t repeat_guard_ms = 1'000;    // an identical order (token, side, price, size) waits this long
                                      // after the last one (the host drops duplicates within 1 s)
  // Safety
  int64_t max_book_age_ms = 0;        // pull when the book has not changed for this long; 0 = off
  int64_t max_market_spread = 0;      // pull when best ask − best bid exceeds this; 0 = off
  int64_t kill_max_loss = 0;          // micro-USDC of loss (marked at mid) that trips the kill switch; 0 = off
  int64_t kill_max_rejects = 20;      // consecutive rejected plans that trip it; 0 = off
  int64_t pull_before_close_ms = 3'600'000;  // pull for good this long before the market's end time; 0 = off
};

// "" when usable, else what is wrong (one problem, naming the key).
inline std::string Validate(const Params& p) {
  auto pos = [](int64_t v) { return v > 0; };
  if (p.half_spread < 0 || p.half_spread >= kOne / 2) return "half_spread must be in [0, 0.5)";
  if (p.half_spread == 0 && (p.half_spread_ticks < 0 || p.half_spread_ticks > 1000))
    return "half_spread_ticks must be in [0, 1000]";
  if (p.min_spread < 0 || p.min_spread >= kOne) return "min_spread must be in [0, 1)";
  if (p.levels < 1 || p.levels > 10) return "levels must be in [1, 10]";
  if (p.level_spacing_ticks < 1 || p.level_spacing_ticks > 100) return "level_spacing_ticks must be in [1, 100]";
  if (!pos(p.lot_size)) return "lot_size must be positive";
  if (!pos(p.order_size)) return "order_size must be positive";
  if (p.size_increment < 0) return "size_increment must not be negative";
  if (p.min_order_size < 0) return "min_order_size must not be negative";
  if (!pos(p.tick_size) || p.tick_size >= kOne / 2 || kOne % p.tick_size != 0)
    return "tick_size must be positive, below 0.5 and divide 1";
  if (p.max_position < 0) return "max_position must not be negative";
  if (p.target_position < -p.max_position || p.target_position > p.max_position)
    return "target_position must be within [-max_position, max_position]";
  if (p.inventory_range < 0) return "inventory_range must not be negative";
  if (p.price_skew_ticks < 0 || p.price_skew_ticks > 1000) return "price_skew_ticks must be in [0, 1000]";
  if (p.max_order_notional < 0) return "max_order_notional_usdc must not be negative";
  if (p.max_market_exposure < 0) return "max_market_exposure_usdc must not be negative";
  if (p.max_total_exposure < 0) return "max_total_exposure_usdc must not be negative";
  if (p.fee_rate_bps < 0 || p.fee_rate_bps > 10'000) return "fee_rate_bps must be in [0, 10000]";
  if (p.max_open_orders < 1) return "max_open_orders must be at least 1";
  if (p.max_plans_in_flight < 1) return "max_plans_in_flight must be at least 1";
  if (p.min_requote_ms < 0) return "min_requote_ms must not be negative";
  if (p.max_order_age_ms < 0) return "max_order_age_ms must not be negative";
  if (p.fill_delay_ms < 0) return "fill_delay_ms must not be negative";
  if (p.hanging_max_age_ms < 0) return "hanging_max_age_ms must not be negative";
  if (p.reject_backoff_ms < 0) return "reject_backoff_ms must not be negative";
  if (p.max_book_age_ms < 0) return "max_book_age_ms must not be negative";
  if (p.repeat_guard_ms < 0) return "repeat_guard_ms must not be negative";
  if (p.cancel_retry_ms < 1) return "cancel_retry_ms must be at least 1";
  if (p.price_tolerance < 0 || p.price_tolerance >= kOne) return "price_tolerance must be in [0, 1)";
  if (p.size_tolerance_bps < 0 || p.size_tolerance_bps > 10'000) return "size_tolerance_bps must be in [0, 10000]";
  if (p.hanging_cancel_distance < 0) return "hanging_cancel_distance must not be negative";
  if (p.max_market_spread < 0) return "max_market_spread must not be negative";
  if (p.kill_max_loss < 0) return "kill_max_loss_usdc must not be negative";
  if (p.kill_max_rejects < 0) return "kill_max_rejects must not be negative";
  if (p.pull_before_close_ms < 0) return "pull_before_close_ms must not be negative";
  return "";
}

// ---- inputs ---------------------------------------------------------------------------

// What the quoter keeps of a book: its top and its health.
struct Top {
  bool known = false;       // a book was seen
  bool stale = false;       // the host flagged it (continuity lost)
  int64_t tick = 0;         // 0 = unknown
  int64_t bid = 0, bid_size = 0;  // 0 = empty side
  int64_t ask = 0, ask_size = 0;
  int64_t updated_ms = 0;   // host clock when it last changed
  bool crossed() const { return bid > 0 && ask > 0 && bid >= ask; }
  bool two_sided() const { return bid > 0 && ask > 0; }
};

inline std::optional<int64_t> ReferencePrice(const Top& t, Reference r, int64_t last_trade) {
  if (r == Reference::kLastTrade && last_trade > 0 && last_trade < kOne) return last_trade;
  if (!t.two_sided()) return std::nullopt;
  if (r == Reference::kMicroprice && t.bid_size > 0 && t.ask_size > 0) {
    // Weighted toward the side with less size: bid·ask_size + ask·bid_size over the sizes.
    const __int128 num = static_cast<__int128>(t.bid) * t.ask_size + static_cast<__int128>(t.ask) * t.bid_size;
    return static_cast<int64_t>(num / (static_cast<__int128>(t.bid_size) + t.ask_size));
  }
  return (t.bid + t.ask) / 2;
}

// ---- outputs --------------------------------------------------------------------------

struct PlaceAction {
  uint64_t local_id = 0;  // pass to OnSubmitted / OnSubmitFailed
  uint32_t instrument = 0;
  TokenId token = kNoToken;
  Side side = Side::kBuy;
  Slot slot = Slot::kBid;
  uint32_t level = 0;
  int64_t price = 0;
  int64_t size = 0;
  std::string reason;
};

struct CancelAction {
  uint64_t plan_id = 0;
  std::string reason;
};

struct Note {
  bool warn = false;
  std::string text;
};

// What the quoter wants done, in order: cancel_all first, then cancels, then
// places. Drained by the caller after every input.
struct Outbox {
  bool cancel_all = false;
  std::string cancel_all_reason;
  std::vector<CancelAction> cancels;
  std::vector<PlaceAction> places;
  std::vector<Note> notes;
  bool empty() const { return !cancel_all && cancels.empty() && places.empty() && notes.empty(); }
  void clear() {
    cancel_all = false;
    cancel_all_reason.clear();
    cancels.clear();
    places.clear();
    notes.clear();
  }
};

struct Stats {
  int64_t placed = 0;
  int64_t cancels = 0;
  int64_t pulls = 0;           // times an instrument went from quoting to pulled
  int64_t fills = 0;
  int64_t filled_size = 0;
  int64_t rejected = 0;
  int64_t deferred = 0;        // placements postponed (caps with cancels in flight, budget)
};

// ---- the quoter -----------------------------------------------------------------------

class Quoter {
 public:
  enum class OrderState : uint8_t { kPending, kLive, kCancelling };

  struct Order {
    uint64_t local_id = 0;
    uint64_t plan_id = 0;  // 0 until OnSubmitted
    uint32_t instrument = 0;
    TokenId token = kNoToken;
    Side side = Side::kBuy;
    Slot slot = Slot::kBid;
    uint32_t level = 0;
    int64_t price = 0;
    int64_t size = 0;
    // Filled size already in the position: the larger of what on_fill reported and
    // what the order updates' cumulative figure said (whichever came first).
    int64_t filled = 0;
    // Part of `filled` known only from an order update so far: booked at the limit
    // price with an estimated fee, corrected when its on_fill arrives.
    int64_t synthetic = 0;
    int64_t synthetic_fee = 0;
    OrderState state = OrderState::kPending;
    bool decided = false;  // the host accepted the plan
    bool hanging = false;
    int64_t placed_ms = 0;
    int64_t cancel_ms = 0;
    int64_t remaining() const { return std::max<int64_t>(0, size - filled); }
  };

  // Selects every open order (the "actual" state, as opposed to Ladder's target).
  struct AllOrders {
    bool operator()(const Order&) const { return true; }
  };
  static AllOrders All() { return {}; }

  struct Token {
    std::string market;
    std::string asset_id;
    uint32_t market_id = 0;  // index of `market` in markets_: compared instead of the string
    uint32_t group = 0;
    Top top;
    int64_t last_trade = 0;
    int64_t position = 0;   // tokens held (negative only with ask_mode = sell)
    int64_t net_cost = 0;   // USDC paid for them: buys + fees − sells
    int64_t tick = 0;       // from the catalog; 0 = unknown
    int64_t min_order_size = 0;
    bool closed = false;
    int64_t end_time_ms = 0;  // when the market stops trading (catalog); 0 = unknown
    bool closing = false;     // within pull_before_close_ms of end_time_ms: latched, never quoted again
    bool mark_known = false;
    int64_t mark = 0;       // last mid, for the loss kill switch
  };

  struct Instrument {
    TokenId token = kNoToken;
    TokenId complement = kNoToken;
    bool pulled = true;
    std::string pull_reason = "not started";
    int64_t hold_until = INT64_MIN;     // fill delay
    int64_t backoff_until = INT64_MIN;  // after a rejection
  };

  explicit Quoter(Params params = {}) : p_(params) {}

  const Params& params() const { return p_; }

  // ---- universe ----
  TokenId AddToken(std::string_view market, std::string_view asset_id) {
    if (std::optional<TokenId> known = FindToken(market, asset_id)) return *known;
    const TokenId id = static_cast<TokenId>(tokens_.size());
    Token t;
    t.market = std::string(market);
    t.asset_id = std::string(asset_id);
    auto m = markets_.find(market);
    if (m == markets_.end()) m = markets_.emplace(std::string(market), static_cast<uint32_t>(markets_.size())).first;
    t.market_id = m->second;
    t.group = static_cast<uint32_t>(groups_.size());
    tokens_.push_back(std::move(t));
    groups_.push_back(Group{id, kNoToken, true});
    auto ids = tokens_by_asset_.find(asset_id);
    if (ids == tokens_by_asset_.end()) ids = tokens_by_asset_.emplace(std::string(asset_id), std::vector<TokenId>{}).first;
    ids->second.push_back(id);
    return id;
  }
  std::optional<TokenId> FindToken(std::string_view market, std::string_view asset_id) const {
    // Looked up on every book update: by asset id without building a key string.
    auto it = tokens_by_asset_.find(asset_id);
    if (it == tokens_by_asset_.end()) return std::nullopt;
    for (TokenId id : it->second) {
      if (tokens_[id].market == market) return id;
    }
    return std::nullopt;
  }
  uint32_t AddInstrument(TokenId token) {
    for (uint32_t i = 0; i < instruments_.size(); ++i) {
      if (instruments_[i].token == token) return i;
    }
    Instrument ins;
    ins.token = token;
    instruments_.push_back(ins);
    return static_cast<uint32_t>(instruments_.size() - 1);
  }
  // Declares C the complement of the instrument's token (the other token of the same
  // binary market): YES + NO pays exactly 1. False when it conflicts with what is
  // known (another complement, another market, the token itself).
  bool SetComplement(uint32_t inst, TokenId c) {
    Instrument& ins = instruments_.at(inst);
    const TokenId t = ins.token;
    if (c == t || c >= tokens_.size()) return false;
    if (ins.complement == c) return true;
    if (ins.complement != kNoToken) return false;
    if (tokens_[t].market != tokens_[c].market) return false;
    Group& gt = groups_[tokens_[t].group];
    Group& gc = groups_[tokens_[c].group];
    if (gt.b == c && gt.a == t) {  // already paired the other way
      ins.complement = c;
      return true;
    }
    if (gt.b != kNoToken || gc.b != kNoToken) return false;  // one of them is paired elsewhere
    gc.live = false;
    gt.b = c;
    tokens_[c].group = tokens_[t].group;
    ins.complement = c;
    return true;
  }
  void SetTokenMeta(TokenId t, int64_t tick, int64_t min_order_size) {
    tokens_.at(t).tick = tick;
    tokens_.at(t).min_order_size = min_order_size;
  }

  // ---- market data ----
  void OnBook(TokenId t, const Top& top, int64_t now) {
    Token& tok = tokens_.at(t);
    tok.top = top;
    tok.top.known = true;
    tok.top.updated_ms = now;
    if (top.two_sided() && !top.crossed()) {
      tok.mark = (top.bid + top.ask) / 2;
      tok.mark_known = true;
      CheckLoss();
    }
  }
  void OnTrade(TokenId t, int64_t price) {
    if (price > 0 && price < kOne) tokens_.at(t).last_trade = price;
  }
  void SetStale(TokenId t, bool stale) { tokens_.at(t).top.stale = stale; }
  // A fresh snapshot replaced a stale book: the old top is worthless, so quoting
  // waits for the new book (OnBook) rather than trusting what was kept.
  void OnResynced(TokenId t) {
    tokens_.at(t).top.stale = false;
    tokens_.at(t).top.known = false;
  }
  void SetClosed(TokenId t) { tokens_.at(t).closed = true; }
  // The market's end time from the catalog (Unix ms; 0 = unknown). Quotes are
  // pulled for good once now >= end_time_ms − pull_before_close_ms.
  // Once closing (latched) the end time is kept, so the pull is logged once.
  void SetEndTime(TokenId t, int64_t end_time_ms) {
    if (!tokens_.at(t).closing) tokens_.at(t).end_time_ms = end_time_ms;
  }
  // The host is paused (polyhost.control/1): pull everything until resumed.
  void SetPaused(bool paused, int64_t now) {
    if (paused == paused_) return;
    paused_ = paused;
    Notice(true, paused ? "host paused: pulling every quote" : "host resumed: quoting again");
    if (paused) {
      for (uint32_t i = 0; i < instruments_.size(); ++i) Pull(i, "host paused", now);
    }
  }

  // ---- the kill switch (latched) ----
  void Kill(std::string_view reason) {
    if (killed_) return;
    killed_ = true;
    kill_reason_ = std::string(reason);
    out_.cancel_all = true;
    out_.cancel_all_reason = "kill switch: " + kill_reason_;
    for (auto& [id, o] : orders_) {
      if (o.state != OrderState::kCancelling) {
        o.state = OrderState::kCancelling;
        o.cancel_ms = last_now_;
      }
    }
    for (Instrument& ins : instruments_) {
      ins.pulled = true;
      ins.pull_reason = "kill switch";
    }
    Notice(true, "kill switch tripped: " + kill_reason_ + "; every order cancelled, quoting stopped");
  }
  bool killed() const { return killed_; }

  // Cancels every order (one cancel-all) without latching: the plugin is being
  // deactivated. The next Evaluate quotes again.
  void Stop(std::string_view reason, int64_t now) {
    out_.cancel_all = true;
    out_.cancel_all_reason = std::string(reason);
    for (auto& [id, o] : orders_) {
      if (o.state != OrderState::kCancelling) {
        o.state = OrderState::kCancelling;
        o.cancel_ms = now;
      }
    }
    for (Instrument& ins : instruments_) {
      ins.pulled = true;
      ins.pull_reason = std::string(reason);
    }
  }
  const std::string& kill_reason() const { return kill_reason_; }

  // ---- our orders, as the host reports them ----
  void OnSubmitted(uint64_t local_id, uint64_t plan_id) {
    auto it = orders_.find(local_id);
    if (it == orders_.end()) return;
    it->second.plan_id = plan_id;
    by_plan_[plan_id] = local_id;
  }
  // submit_plan refused it: it never existed.
  void OnSubmitFailed(uint64_t local_id, int64_t now) {
    auto it = orders_.find(local_id);
    if (it == orders_.end()) return;
    instruments_[it->second.instrument].backoff_until = now + p_.reject_backoff_ms;
    orders_.erase(it);
  }
  void OnPlanAccepted(uint64_t plan_id) {
    consecutive_rejects_ = 0;
    if (Order* o = ByPlan(plan_id)) o->decided = true;
  }
  void OnPlanRejected(uint64_t plan_id, std::string_view reason, int64_t now) {
    last_now_ = std::max(last_now_, now);
    ++stats_.rejected;
    if (Order* o = ByPlan(plan_id)) {
      instruments_[o->instrument].backoff_until = now + p_.reject_backoff_ms;
      Erase(plan_id);
    }
    if (reason.starts_with("kill_switch")) {
      Kill("the host's kill switch is on (" + std::string(reason) + ")");
      return;
    }
    if (reason.starts_with("duplicate_plan")) return;  // benign: the same quote again too soon
    ++consecutive_rejects_;
    if (p_.kill_max_rejects > 0 && consecutive_rejects_ >= p_.kill_max_rejects) {
      Kill(std::to_string(consecutive_rejects_) + " plans rejected in a row, the last: " + std::string(reason));
    }
  }
  void OnAcked(uint64_t plan_id) {
    if (Order* o = ByPlan(plan_id)) {
      o->decided = true;
      if (o->state == OrderState::kPending) o->state = OrderState::kLive;
    }
  }
  // PARTIALLY_FILLED / FILLED / CANCELLED carry the cumulative filled size. When it
  // is ahead of the fills reported so far, the difference goes into the position
  // now (at the limit price, the worst case) so the caps never lose sight of it.
  void OnProgress(uint64_t plan_id, int64_t cumulative_filled, int64_t now) {
    Order* o = ByPlan(plan_id);
    if (o == nullptr) return;
    const int64_t cum = std::min(cumulative_filled, o->size);
    if (cum <= o->filled) return;
    const int64_t d = cum - o->filled;
    const int64_t fee = FeeMicros(o->price, d, p_.fee_rate_bps);
    Book(o->token, o->side, o->price, d, fee);
    o->synthetic += d;
    o->synthetic_fee += fee;
    o->filled = cum;
    AfterFill(*o, now);
  }
  // FILLED, CANCELLED or the venue's REJECTED: the order is gone.
  void OnClosed(uint64_t plan_id, bool venue_rejected, std::string_view reason, int64_t now) {
    Order* o = ByPlan(plan_id);
    if (o == nullptr) return;
    if (venue_rejected) {
      ++stats_.rejected;
      instruments_[o->instrument].backoff_until = now + p_.reject_backoff_ms;
      ++consecutive_rejects_;
      if (p_.kill_max_rejects > 0 && consecutive_rejects_ >= p_.kill_max_rejects) {
        Erase(plan_id);
        Kill(std::to_string(consecutive_rejects_) + " orders rejected in a row, the last: " + std::string(reason));
        return;
      }
    }
    Erase(plan_id);
  }
  // An execution. plan_id may be unknown (an order from before, a forgotten one):
  // the position still moves. A fill that an order update already booked only
  // corrects the price and fee.
  void OnFill(uint64_t plan_id, TokenId t, Side side, int64_t price, int64_t size, int64_t fee, int64_t now) {
    last_now_ = std::max(last_now_, now);
    if (size <= 0 || t >= tokens_.size()) return;
    ++stats_.fills;
    stats_.filled_size += size;
    Order* o = ByPlan(plan_id);
    Lagging* lag = nullptr;
    if (o == nullptr) {
      auto it = lagging_.find(plan_id);
      if (it != lagging_.end()) lag = &it->second;
    }
    int64_t* synthetic = o != nullptr ? &o->synthetic : lag != nullptr ? &lag->synthetic : nullptr;
    int64_t* synthetic_fee = o != nullptr ? &o->synthetic_fee : lag != nullptr ? &lag->synthetic_fee : nullptr;
    const int64_t limit = o != nullptr ? o->price : lag != nullptr ? lag->price : price;
    int64_t rest = size;
    if (synthetic != nullptr && *synthetic > 0) {
      // Already booked at the limit: correct the cost to the real price and fee.
      const int64_t m = std::min(size, *synthetic);
      const int64_t est = static_cast<int64_t>(static_cast<__int128>(*synthetic_fee) * m / *synthetic);
      Token& tok = tokens_[t];
      tok.net_cost += Cost(side, price, m) - Cost(side, limit, m) - est;
      *synthetic -= m;
      *synthetic_fee -= est;
      rest -= m;
    }
    Book(t, side, price, rest, fee);
    if (lag != nullptr && lag->synthetic == 0) lagging_.erase(plan_id);
    if (o == nullptr) {
      CheckLoss();
      return;
    }
    o->filled = std::min(o->size, o->filled + rest);
    AfterFill(*o, now);
  }

  // ---- decisions ----
  // Re-quotes one instrument: pulls it when unsafe, otherwise cancels what is no
  // longer wanted and places what is missing, at most `budget` new orders.
  void Evaluate(uint32_t inst, int64_t now, size_t budget = SIZE_MAX) {
    last_now_ = std::max(last_now_, now);
    if (killed_) return;
    Instrument& ins = instruments_.at(inst);
    if (Token& tk = tokens_[ins.token]; !tk.closing && ClosingSoon(tk, now)) tk.closing = true;
    std::string why = PullReason(inst, now);
    if (!why.empty()) {
      Pull(inst, why, now);
      return;
    }
    RetryCancels(inst, now);
    const Token& t = tokens_[ins.token];
    const int64_t ref = *ReferencePrice(t.top, p_.reference, t.last_trade);
    if (ins.pulled) {
      ins.pulled = false;
      ins.pull_reason.clear();
      Notice(false, "quoting " + t.market + "/" + t.asset_id + " around " + ReferenceName(p_.reference) + " " + Dec(ref));
    }

    // Hanging orders live on their own until too far or too old.
    for (auto& [id, o] : orders_) {
      if (o.instrument != inst || !o.hanging || o.state == OrderState::kCancelling) continue;
      const int64_t equiv = IsComplementSlot(o.slot) ? kOne - o.price : o.price;
      const bool far = p_.hanging_cancel_distance > 0 && std::abs(equiv - ref) > p_.hanging_cancel_distance;
      const bool old = p_.hanging_max_age_ms > 0 && now - o.placed_ms >= p_.hanging_max_age_ms;
      if (far || old) CancelOrder(o, far ? "hanging order too far from the reference" : "hanging order too old", now);
    }

    std::vector<Desired> want = Ladder(inst, ref);
    const int64_t adj = AdjustedReference(inst, ref);

    // Keep, replace or drop every order of ours in a slot.
    std::vector<bool> satisfied(want.size(), false);
    for (auto& [id, o] : orders_) {
      if (o.instrument != inst || o.hanging || o.state == OrderState::kCancelling) continue;
      size_t k = 0;
      while (k < want.size() && !(want[k].slot == o.slot && want[k].level == o.level)) ++k;
      if (k == want.size() || satisfied[k]) {
        CancelOrder(o, "no longer wanted", now);
        continue;
      }
      const Desired& d = want[k];
      const int64_t dp = std::abs(o.price - d.price);
      const int64_t ds = std::abs(o.remaining() - d.size);
      const bool in_tolerance = dp <= p_.price_tolerance &&
                                static_cast<__int128>(ds) * 10'000 <= static_cast<__int128>(d.size) * p_.size_tolerance_bps;
      const bool too_old = p_.max_order_age_ms > 0 && now - o.placed_ms >= p_.max_order_age_ms;
      if (in_tolerance && !too_old) {
        satisfied[k] = true;
        continue;
      }
      // A quote on the wrong side of the reference is replaced at once; otherwise
      // an order younger than min_requote_ms stays.
      const int64_t equiv = IsComplementSlot(o.slot) ? kOne - o.price : o.price;
      const bool wrong_side = IsBidSlot(o.slot) ? equiv >= adj : equiv <= adj;
      if (!wrong_side && now - o.placed_ms < p_.min_requote_ms) {
        satisfied[k] = true;
        continue;
      }
      CancelOrder(o, "requote " + std::string(SlotName(o.slot)) + " L" + std::to_string(o.level) + " " + Dec(o.price) +
                         " x " + Dec(o.remaining()) + " -> " + Dec(d.price) + " x " + Dec(d.size),
                  now);
    }

    // Place what is missing, each checked against the caps with everything open.
    if (now < ins.hold_until || now < ins.backoff_until) return;
    for (size_t k = 0; k < want.size(); ++k) {
      if (satisfied[k]) continue;
      const Desired& d = want[k];
      if (p_.replace_mode == ReplaceMode::kCancelFirst && SlotCancelling(inst, d.slot, d.level)) {
        ++stats_.deferred;
        continue;
      }
      if (budget == 0 || InFlight() >= p_.max_plans_in_flight) {
        ++stats_.deferred;
        continue;
      }
      if (RecentlyPlaced(d, now)) {
        ++stats_.deferred;
        continue;
      }
      const int64_t fits = MaxSize(inst, d.token, d.side, d.price, d.size, All(), {});
      if (fits < d.size) {  // caps are busy with orders whose cancel is in flight: wait for them
        ++stats_.deferred;
        continue;
      }
      Place(inst, d, ref, now);
      --budget;
    }
  }

  void EvaluateAll(int64_t now, size_t budget = SIZE_MAX) {
    for (uint32_t i = 0; i < instruments_.size(); ++i) {
      const size_t before = out_.places.size();
      Evaluate(i, now, budget);
      const size_t used = out_.places.size() - before;
      budget = budget > used ? budget - used : 0;
    }
  }

  // Cancels every order of the instrument (including hanging ones).
  void Pull(uint32_t inst, std::string_view reason, int64_t now) {
    Instrument& ins = instruments_.at(inst);
    if (!ins.pulled || ins.pull_reason != reason) {
      const Token& t = tokens_[ins.token];
      if (!ins.pulled) ++stats_.pulls;
      if (!(ins.pulled && ins.pull_reason == "not started" && reason == "no book yet")) {
        // Closing is expected, not a fault: logged once at info.
        Notice(!ins.pulled && !t.closing, "pulling quotes on " + t.market + "/" + t.asset_id + ": " + std::string(reason));
      }
      ins.pulled = true;
      ins.pull_reason = std::string(reason);
    }
    for (auto& [id, o] : orders_) {
      if (o.instrument != inst) continue;
      if (o.state == OrderState::kCancelling) {
        if (now - o.cancel_ms >= p_.cancel_retry_ms) CancelOrder(o, "retry: " + std::string(reason), now, true);
        continue;
      }
      CancelOrder(o, std::string(reason), now);
    }
  }

  // ---- what the caller drains ----
  Outbox& outbox() { return out_; }
  const Outbox& outbox() const { return out_; }

  // ---- inspection (tests, metrics, logs) ----
  const Stats& stats() const { return stats_; }
  const std::vector<Token>& tokens() const { return tokens_; }
  const std::vector<Instrument>& instruments() const { return instruments_; }
  const std::map<uint64_t, Order>& orders() const { return orders_; }
  const Order* order_by_plan(uint64_t plan_id) const {
    auto it = by_plan_.find(plan_id);
    if (it == by_plan_.end()) return nullptr;
    auto o = orders_.find(it->second);
    return o == orders_.end() ? nullptr : &o->second;
  }
  int64_t InFlight() const {
    int64_t n = 0;
    for (const auto& [id, o] : orders_) n += o.decided ? 0 : 1;
    return n;
  }
  // Worst-case position of an instrument, counting every open order.
  struct Worst {
    int64_t long_side = 0;   // T − C if every order that raises it fills
    int64_t short_side = 0;  // C − T if every order that lowers T − C fills
  };
  Worst PositionWorst(uint32_t inst) const { return WorstOf(inst, All(), {}); }
  int64_t EffectivePosition(uint32_t inst) const {
    const Instrument& ins = instruments_.at(inst);
    return tokens_[ins.token].position - (ins.complement != kNoToken ? tokens_[ins.complement].position : 0);
  }
  // Worst-case loss at resolution of one market's tokens, counting every open order.
  int64_t MarketExposure(std::string_view market) const { return MarketExposureOf(market, All(), {}); }
  int64_t TotalExposure() const { return TotalExposureOf(All(), {}); }
  // Cash + positions at the last mid: what the loss kill switch watches.
  int64_t MarkedPnl() const {
    int64_t pnl = 0;
    for (const Token& t : tokens_) {
      pnl -= t.net_cost;
      if (t.position != 0) pnl += MulFloor(t.position, t.mark_known ? t.mark : 0);
    }
    return pnl;
  }
  int64_t TickOf(TokenId t) const {
    const Token& tok = tokens_.at(t);
    if (tok.top.tick > 0) return tok.top.tick;
    if (tok.tick > 0) return tok.tick;
    return p_.tick_size;
  }
  // The market ends within pull_before_close_ms (its end time is known).
  bool ClosingSoon(const Token& t, int64_t now) const {
    return p_.pull_before_close_ms > 0 && t.end_time_ms > 0 && now >= t.end_time_ms - p_.pull_before_close_ms;
  }
  int64_t MinSizeOf(TokenId t) const { return std::max(p_.min_order_size, tokens_.at(t).min_order_size); }
  // The reason the instrument is not quoted right now, "" when it may quote.
  std::string PullReason(uint32_t inst, int64_t now) const {
    if (killed_) return "kill switch";
    if (paused_) return "host paused";
    const Instrument& ins = instruments_.at(inst);
    const Token& t = tokens_[ins.token];
    if (t.closed) return "market closed";
    if (t.closing || ClosingSoon(t, now)) {
      return "market closes at " + std::to_string(t.end_time_ms) + " ms (pull_before_close_ms " +
             std::to_string(p_.pull_before_close_ms) + "): quoting no more";
    }
    if (!t.top.known) return "no book yet";
    if (t.top.stale) return "book is stale";
    if (p_.max_book_age_ms > 0 && now - t.top.updated_ms > p_.max_book_age_ms) {
      return "no book update for " + std::to_string(now - t.top.updated_ms) + " ms";
    }
    if (t.top.crossed()) return "book is crossed (bid " + Dec(t.top.bid) + " >= ask " + Dec(t.top.ask) + ")";
    if (p_.max_market_spread > 0 && t.top.two_sided() && t.top.ask - t.top.bid > p_.max_market_spread) {
      return "market spread " + Dec(t.top.ask - t.top.bid) + " wider than max_market_spread " + Dec(p_.max_market_spread);
    }
    if (!ReferencePrice(t.top, p_.reference, t.last_trade)) return "no reference price (a side of the book is empty)";
    return "";
  }

  // An order not (yet) in orders_: Ladder's plan, or a candidate being checked.
  struct Virtual {
    TokenId token = kNoToken;
    Side side = Side::kBuy;
    int64_t price = 0;
    int64_t remaining = 0;
  };

  // Inventory skew ratio in micro-units, −1e6 .. 1e6: (position − target) / range.
  int64_t SkewRatio(uint32_t inst) const {
    const int64_t range = p_.inventory_range > 0 ? p_.inventory_range : p_.max_position;
    if (range <= 0) return 0;
    const __int128 x = static_cast<__int128>(EffectivePosition(inst) - p_.target_position) * kOne / range;
    return static_cast<int64_t>(std::clamp<__int128>(x, -kOne, kOne));
  }
  // The reference after the inventory price skew: ref − r × price_skew_ticks ticks.
  int64_t AdjustedReference(uint32_t inst, int64_t ref) const {
    const int64_t tick = TickOf(instruments_.at(inst).token);
    return ref - static_cast<int64_t>(static_cast<__int128>(SkewRatio(inst)) * p_.price_skew_ticks * tick / kOne);
  }

  // One quote the instrument wants, in its order's own terms.
  struct Desired {
    Slot slot = Slot::kBid;
    uint32_t level = 0;
    TokenId token = kNoToken;
    Side side = Side::kBuy;
    int64_t price = 0;
    int64_t size = 0;
  };

  // The quotes the instrument wants around `ref`, sized within the caps as if its
  // own orders were gone (hanging orders and other instruments' orders still
  // count). Evaluate places one only when it fits with everything that is really
  // open, including orders whose cancel is in flight; otherwise it waits, so a
  // quote is never placed smaller than wanted just because a cancel is pending.
  std::vector<Desired> Ladder(uint32_t inst, int64_t ref) const {
    std::vector<Desired> out;
    const Instrument& ins = instruments_.at(inst);
    const Token& t = tokens_[ins.token];
    const int64_t tick = TickOf(ins.token);
    const TokenId c = ins.complement;
    // Complement legs need a known complement and a healthy book for it.
    const bool pair = p_.ask_mode == AskMode::kComplement && c != kNoToken;
    const bool use_c = pair && !tokens_[c].closed && tokens_[c].top.known && !tokens_[c].top.stale &&
                       !tokens_[c].top.crossed();

    const int64_t r = SkewRatio(inst);
    const int64_t adj = AdjustedReference(inst, ref);
    const int64_t hs = p_.half_spread > 0 ? p_.half_spread : p_.half_spread_ticks * tick;
    int64_t bid0 = FloorTo(adj - hs, tick);
    int64_t ask0 = CeilTo(adj + hs, tick);
    const int64_t min_sp = std::max(CeilTo(p_.min_spread, tick), tick);
    if (ask0 - bid0 < min_sp) {
      const int64_t d = (min_sp - (ask0 - bid0)) / tick;  // whole ticks: both are on the grid
      bid0 -= (d / 2) * tick;
      ask0 += (d - d / 2) * tick;
    }
    if (!p_.allow_cross) {
      if (t.top.ask > 0) bid0 = std::min(bid0, FloorTo(t.top.ask - tick, tick));
      if (t.top.bid > 0) ask0 = std::max(ask0, CeilTo(t.top.bid + tick, tick));
    }
    bid0 = std::min(bid0, kOne - tick);
    ask0 = std::max(ask0, tick);

    // The "target" state: every open order except this instrument's own quotes.
    auto target = [inst](const Order& o) { return !(o.instrument == inst && !o.hanging); };
    std::vector<Virtual> extra;
    const int64_t skew_bid = p_.size_skew ? kOne - r : kOne;
    const int64_t skew_ask = p_.size_skew ? kOne + r : kOne;
    const int64_t spacing = p_.level_spacing_ticks * tick;

    auto add = [&](Slot slot, uint32_t level, TokenId token, Side side, int64_t price, int64_t want) {
      if (want <= 0) return;
      const int64_t size = MaxSize(inst, token, side, price, want, target, extra);
      if (size <= 0) return;
      out.push_back({slot, level, token, side, price, size});
      extra.push_back({token, side, price, size});
    };

    for (uint32_t i = 0; i < static_cast<uint32_t>(p_.levels); ++i) {
      const int64_t base = p_.order_size + static_cast<int64_t>(i) * p_.size_increment;
      // Bid level i.
      const int64_t bid = bid0 - static_cast<int64_t>(i) * spacing;
      if (bid >= tick) {
        int64_t size = FloorTo(MulFloor(base, skew_bid), p_.lot_size);
        if (size > 0) {
          // Sell held complement first, at 1 − bid, never crossing C's book. While
          // C's book is unusable that part waits: it is not bought as T instead
          // (which would flip the order back and forth with every flicker of C).
          int64_t covered = 0;
          if (pair) {
            covered = std::min(size, FloorTo(Available(c, target, extra), p_.lot_size));
            if (covered < MinSizeOf(c)) covered = 0;
            int64_t q = kOne - bid;
            const Top& ct = tokens_[c].top;
            if (!p_.allow_cross && ct.bid > 0) q = std::max(q, CeilTo(ct.bid + tick, tick));
            if (covered > 0 && use_c && q <= kOne - tick) {
              const size_t before = out.size();
              add(Slot::kBidComplement, i, c, Side::kSell, q, covered);
              covered = out.size() > before ? out.back().size : 0;
            }
          }
          add(Slot::kBid, i, ins.token, Side::kBuy, bid, size - covered);
        }
      }
      // Ask level i.
      const int64_t ask = ask0 + static_cast<int64_t>(i) * spacing;
      if (ask <= kOne - tick) {
        int64_t size = FloorTo(MulFloor(base, skew_ask), p_.lot_size);
        if (size > 0) {
          if (p_.ask_mode == AskMode::kSell) {
            add(Slot::kAsk, i, ins.token, Side::kSell, ask, size);
          } else {
            int64_t covered = std::min(size, FloorTo(Available(ins.token, target, extra), p_.lot_size));
            if (covered < MinSizeOf(ins.token)) covered = 0;
            if (covered > 0) {
              const size_t before = out.size();
              add(Slot::kAsk, i, ins.token, Side::kSell, ask, covered);
              covered = out.size() > before ? out.back().size : 0;
            }
            if (use_c && size - covered > 0) {
              // Short the rest by buying the complement at 1 − ask.
              int64_t q = kOne - ask;
              const Top& ct = tokens_[c].top;
              if (!p_.allow_cross && ct.ask > 0) q = std::min(q, FloorTo(ct.ask - tick, tick));
              if (q >= tick) add(Slot::kAskComplement, i, c, Side::kBuy, q, size - covered);
            }
          }
        }
      }
    }
    return out;
  }

  // The largest size ≤ want (a multiple of lot_size, at least the minimum order
  // size, else 0) that keeps every cap in the worst case, with the orders
  // `include` selects plus `extra` already open.
  template <class Include>
  int64_t MaxSize(uint32_t inst, TokenId token, Side side, int64_t price, int64_t want, Include&& include,
                  const std::vector<Virtual>& extra) const {
    const int64_t min_size = std::max<int64_t>(MinSizeOf(token), 1);
    int64_t size = FloorTo(want, p_.lot_size);
    if (size < min_size) return 0;
    if (price <= 0 || price >= kOne) return 0;
    // Open orders.
    int64_t open = static_cast<int64_t>(extra.size());
    for (const auto& [id, o] : orders_) open += include(o) ? 1 : 0;
    if (open + 1 > p_.max_open_orders) return 0;
    // Sells need tokens, unless ask_mode = sell lets them go short.
    if (side == Side::kSell && !(p_.ask_mode == AskMode::kSell && token == instruments_[inst].token)) {
      size = std::min(size, FloorTo(Available(token, include, extra), p_.lot_size));
    }
    // Position, in the direction this order moves the instrument.
    const Instrument& ins = instruments_[inst];
    const Worst w = WorstOf(inst, include, extra);
    const bool raises = (token == ins.token) == (side == Side::kBuy);
    const int64_t cur = raises ? w.long_side : w.short_side;
    if (token == ins.token || token == ins.complement) {
      const int64_t room = p_.max_position - cur;
      size = std::min(size, FloorTo(std::max<int64_t>(room, 0), p_.lot_size));
    }
    // One order's notional.
    if (p_.max_order_notional > 0) {
      const int64_t unit = price + (side == Side::kBuy ? UnitFee(price) : 0);
      size = std::min(size, FloorTo(static_cast<int64_t>(static_cast<__int128>(p_.max_order_notional) * kOne / unit),
                                    p_.lot_size));
      while (size > 0 && MulCeil(price, size) + (side == Side::kBuy ? FeeMicros(price, size, p_.fee_rate_bps) : 0) >
                             p_.max_order_notional) {
        size -= p_.lot_size;
      }
    }
    if (size < min_size) return 0;
    // Exposure: monotone in size, so search the largest number of lots that fits.
    // The new order changes only its token's group, so the sums are taken once
    // and each candidate size re-evaluates that one group.
    const uint32_t market = tokens_[token].market_id;
    const std::vector<OutcomeLoss>& loss = GroupLosses(include, extra);
    int64_t m0 = 0, t0 = 0;
    for (uint32_t g = 0; g < groups_.size(); ++g) {
      if (!groups_[g].live) continue;
      t0 += WorstLoss(loss[g]);
      if (InMarket(g, market)) m0 += WorstLoss(loss[g]);
    }
    const uint32_t g = tokens_[token].group;
    const bool counted = groups_[g].live && InMarket(g, market);
    const OutcomeLoss before = loss[g];
    auto fits = [&](int64_t s) {
      int64_t m1 = m0;
      if (counted) {
        OutcomeLoss after = before;
        AddOrderLoss(groups_[g], token, side, price, s, after);
        m1 += WorstLoss(after) - WorstLoss(before);
      }
      const int64_t t1 = t0 - m0 + m1;
      const bool market_ok = m1 <= p_.max_market_exposure || m1 <= m0;
      const bool total_ok = t1 <= p_.max_total_exposure || t1 <= t0;
      return market_ok && total_ok;
    };
    if (!fits(size)) {
      int64_t lo = 0, hi = size / p_.lot_size;  // fits(lo · lot) is true for lo = 0
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo + 1) / 2;
        if (fits(mid * p_.lot_size)) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      size = lo * p_.lot_size;
    }
    return size >= min_size ? size : 0;
  }

 private:
  // Tokens that pay out together: a binary pair (exactly one of a, b pays 1) or a
  // single token (pays 1 or 0).
  // A closed order whose fills an order update reported before on_fill did.
  struct Lagging {
    int64_t price = 0;
    int64_t synthetic = 0;
    int64_t synthetic_fee = 0;
  };

  struct Group {
    TokenId a = kNoToken;
    TokenId b = kNoToken;
    bool live = true;
  };


  Order* ByPlan(uint64_t plan_id) {
    auto it = by_plan_.find(plan_id);
    if (it == by_plan_.end()) return nullptr;
    auto o = orders_.find(it->second);
    return o == orders_.end() ? nullptr : &o->second;
  }
  void Erase(uint64_t plan_id) {
    auto it = by_plan_.find(plan_id);
    if (it == by_plan_.end()) return;
    auto o = orders_.find(it->second);
    if (o != orders_.end()) {
      if (o->second.synthetic > 0) {  // its fills are still to come: keep what corrects them
        lagging_[plan_id] = {o->second.price, o->second.synthetic, o->second.synthetic_fee};
        while (lagging_.size() > 4096) lagging_.erase(lagging_.begin());
      }
      orders_.erase(o);
    }
    by_plan_.erase(it);
  }

  // What a fill adds to the USDC paid: a buy costs price × size rounded up, a sell
  // returns it rounded down.
  static int64_t Cost(Side side, int64_t price, int64_t size) {
    return side == Side::kBuy ? MulCeil(price, size) : -MulFloor(price, size);
  }
  void Book(TokenId t, Side side, int64_t price, int64_t size, int64_t fee) {
    Token& tok = tokens_[t];
    if (size > 0) tok.position += side == Side::kBuy ? size : -size;
    tok.net_cost += (size > 0 ? Cost(side, price, size) : 0) + fee;
  }
  // A fill of one of our orders: the fill delay, hanging orders, the loss check.
  void AfterFill(const Order& o, int64_t now) {
    Instrument& ins = instruments_[o.instrument];
    if (p_.fill_delay_ms > 0) ins.hold_until = std::max(ins.hold_until, now + p_.fill_delay_ms);
    if (p_.hanging_orders && !o.hanging) {
      const bool bid = IsBidSlot(o.slot);
      for (auto& [id, other] : orders_) {
        if (other.instrument != o.instrument || other.hanging || other.state == OrderState::kCancelling) continue;
        if (IsBidSlot(other.slot) != bid && other.remaining() > 0) other.hanging = true;
      }
    }
    CheckLoss();
  }

  void Notice(bool warn, std::string text) { out_.notes.push_back({warn, std::move(text)}); }

  int64_t UnitFee(int64_t price) const { return FeeMicros(price, kOne, p_.fee_rate_bps); }

  // Worst-case loss of a group at resolution: max over its outcomes of what was
  // paid minus what pays out, counting each open order when it makes things
  // worse. Kept per outcome (outcome 0: a pays and b does not; 1: b pays, or a
  // does not) so an order can be added to it later.
  using OutcomeLoss = std::array<int64_t, 2>;
  static int64_t WorstLoss(const OutcomeLoss& l) { return std::max<int64_t>({0, l[0], l[1]}); }

  // What one order of token t adds to group grp's loss per outcome.
  void AddOrderLoss(const Group& grp, TokenId t, Side side, int64_t price, int64_t rem, OutcomeLoss& loss) const {
    if (rem <= 0 || (t != grp.a && t != grp.b)) return;
    for (int o = 0; o < 2; ++o) {
      const bool wins = o == 0 ? t == grp.a : t == grp.b;
      int64_t c = 0;
      if (side == Side::kBuy) {
        c = MulCeil(price, rem) + FeeMicros(price, rem, p_.fee_rate_bps) - (wins ? rem : 0);
      } else {
        c = (wins ? rem : 0) - MulFloor(price, rem);
      }
      if (c > 0) loss[static_cast<size_t>(o)] += c;
    }
  }

  // Every group's loss per outcome, in one pass over the orders (a live
  // group's tokens are exactly those whose Token::group it is). Asking each
  // group separately walked every order once per group, per candidate size:
  // most of a dutchbook+spread run's time.
  template <class Include>
  const std::vector<OutcomeLoss>& GroupLosses(Include&& include, const std::vector<Virtual>& extra) const {
    std::vector<OutcomeLoss>& loss = group_loss_scratch_;
    loss.assign(groups_.size(), OutcomeLoss{0, 0});
    for (uint32_t g = 0; g < groups_.size(); ++g) {
      const Group& grp = groups_[g];
      if (!grp.live) continue;
      for (TokenId t : {grp.a, grp.b}) {
        if (t == kNoToken) continue;
        const Token& tok = tokens_[t];
        loss[g][0] += tok.net_cost - (t == grp.a ? tok.position : 0);
        loss[g][1] += tok.net_cost - (t == grp.b ? tok.position : 0);
      }
    }
    auto add = [&](TokenId t, Side side, int64_t price, int64_t rem) {
      const uint32_t g = tokens_[t].group;
      if (groups_[g].live) AddOrderLoss(groups_[g], t, side, price, rem, loss[g]);
    };
    for (const auto& [id, o] : orders_) {
      if (include(o)) add(o.token, o.side, o.price, o.remaining());
    }
    for (const Virtual& v : extra) add(v.token, v.side, v.price, v.remaining);
    return loss;
  }

  bool InMarket(uint32_t g, uint32_t market_id) const { return tokens_[groups_[g].a].market_id == market_id; }

  template <class Include>
  int64_t MarketExposureOf(std::string_view market, Include&& include, const std::vector<Virtual>& extra) const {
    auto m = markets_.find(market);
    if (m == markets_.end()) return 0;
    const std::vector<OutcomeLoss>& loss = GroupLosses(include, extra);
    int64_t sum = 0;
    for (uint32_t g = 0; g < groups_.size(); ++g) {
      if (groups_[g].live && InMarket(g, m->second)) sum += WorstLoss(loss[g]);
    }
    return sum;
  }
  template <class Include>
  int64_t TotalExposureOf(Include&& include, const std::vector<Virtual>& extra) const {
    const std::vector<OutcomeLoss>& loss = GroupLosses(include, extra);
    int64_t sum = 0;
    for (uint32_t g = 0; g < groups_.size(); ++g) {
      if (groups_[g].live) sum += WorstLoss(loss[g]);
    }
    return sum;
  }

  template <class Include>
  Worst WorstOf(uint32_t inst, Include&& include, const std::vector<Virtual>& extra) const {
    const Instrument& ins = instruments_.at(inst);
    const TokenId t = ins.token, c = ins.complement;
    const int64_t eff = tokens_[t].position - (c != kNoToken ? tokens_[c].position : 0);
    Worst w{eff, -eff};
    auto add = [&](TokenId tok, Side side, int64_t rem) {
      if (rem <= 0) return;
      if (tok == t) (side == Side::kBuy ? w.long_side : w.short_side) += rem;
      if (c != kNoToken && tok == c) (side == Side::kBuy ? w.short_side : w.long_side) += rem;
    };
    for (const auto& [id, o] : orders_) {
      if (include(o)) add(o.token, o.side, o.remaining());
    }
    for (const Virtual& v : extra) add(v.token, v.side, v.remaining);
    return w;
  }

  // Held tokens not already offered by an open sell.
  template <class Include>
  int64_t Available(TokenId t, Include&& include, const std::vector<Virtual>& extra) const {
    int64_t avail = tokens_[t].position;
    for (const auto& [id, o] : orders_) {
      if (o.token == t && o.side == Side::kSell && include(o)) avail -= o.remaining();
    }
    for (const Virtual& v : extra) {
      if (v.token == t && v.side == Side::kSell) avail -= v.remaining;
    }
    return std::max<int64_t>(avail, 0);
  }

  bool SlotCancelling(uint32_t inst, Slot slot, uint32_t level) const {
    for (const auto& [id, o] : orders_) {
      if (o.instrument == inst && !o.hanging && o.slot == slot && o.level == level &&
          o.state == OrderState::kCancelling) {
        return true;
      }
    }
    return false;
  }

  void CancelOrder(Order& o, std::string reason, int64_t now, bool retry = false) {
    if (o.plan_id == 0) return;  // never submitted
    if (o.state == OrderState::kCancelling && !retry) return;
    o.state = OrderState::kCancelling;
    o.cancel_ms = now;
    ++stats_.cancels;
    out_.cancels.push_back({o.plan_id, std::move(reason)});
  }

  void RetryCancels(uint32_t inst, int64_t now) {
    for (auto& [id, o] : orders_) {
      if (o.instrument == inst && o.state == OrderState::kCancelling && now - o.cancel_ms >= p_.cancel_retry_ms) {
        CancelOrder(o, "retry: cancel not confirmed", now, true);
      }
    }
  }

  // The same order was placed less than repeat_guard_ms ago.
  bool RecentlyPlaced(const Desired& d, int64_t now) const {
    if (p_.repeat_guard_ms <= 0) return false;
    auto it = recent_.find(RepeatKey{d.token, d.side, d.price, d.size});
    return it != recent_.end() && now - it->second < p_.repeat_guard_ms;
  }

  void Place(uint32_t inst, const Desired& d, int64_t ref, int64_t now) {
    if (p_.repeat_guard_ms > 0) {
      recent_[RepeatKey{d.token, d.side, d.price, d.size}] = now;
      if (recent_.size() > 512) std::erase_if(recent_, [&](const auto& kv) { return now - kv.second >= p_.repeat_guard_ms; });
    }
    Order o;
    o.local_id = next_local_++;
    o.instrument = inst;
    o.token = d.token;
    o.side = d.side;
    o.slot = d.slot;
    o.level = d.level;
    o.price = d.price;
    o.size = d.size;
    o.placed_ms = now;
    orders_.emplace(o.local_id, o);
    ++stats_.placed;
    const Instrument& ins = instruments_[inst];
    PlaceAction a;
    a.local_id = o.local_id;
    a.instrument = inst;
    a.token = d.token;
    a.side = d.side;
    a.slot = d.slot;
    a.level = d.level;
    a.price = d.price;
    a.size = d.size;
    a.reason = std::string(SlotName(d.slot)) + " L" + std::to_string(d.level) + " " +
               (d.side == Side::kBuy ? "buy " : "sell ") + Dec(d.size) + " " + tokens_[d.token].asset_id + " @ " +
               Dec(d.price) + " around " + ReferenceName(p_.reference) + " " + Dec(ref) + ", position " +
               Dec(EffectivePosition(inst)) + " of " + tokens_[ins.token].asset_id;
    out_.places.push_back(std::move(a));
  }

  void CheckLoss() {
    if (p_.kill_max_loss <= 0 || killed_) return;
    const int64_t pnl = MarkedPnl();
    if (pnl < -p_.kill_max_loss) Kill("loss " + Dec(-pnl) + " USDC at mid exceeds kill_max_loss_usdc " + Dec(p_.kill_max_loss));
  }

  Params p_;
  std::vector<Token> tokens_;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const noexcept { return std::hash<std::string_view>{}(v); }
  };
  using StringMap = std::unordered_map<std::string, std::vector<TokenId>, StringHash, std::equal_to<>>;
  StringMap tokens_by_asset_;  // asset id -> tokens with that id (normally one)
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> markets_;  // market -> Token::market_id
  std::vector<Group> groups_;
  mutable std::vector<OutcomeLoss> group_loss_scratch_;  // GroupLosses' result, reused
  std::vector<Instrument> instruments_;
  std::map<uint64_t, Order> orders_;  // by local id: placement order, deterministic
  std::unordered_map<uint64_t, uint64_t> by_plan_;
  std::map<uint64_t, Lagging> lagging_;  // by plan id
  struct RepeatKey {
    TokenId token;
    Side side;
    int64_t price;
    int64_t size;
    auto operator<=>(const RepeatKey&) const = default;
  };
  std::map<RepeatKey, int64_t> recent_;  // last placement time of each distinct order
  uint64_t next_local_ = 1;
  bool killed_ = false;
  std::string kill_reason_;
  bool paused_ = false;
  int64_t consecutive_rejects_ = 0;
  int64_t last_now_ = 0;
  Outbox out_;
  Stats stats_;
};

}  // namespace polyhost::spread

// The meaning of a few field values, shared by the two paths of FeedParser (the
// simdjson DOM walk in feed_parser.cc and the fast scanner in fast_scan.cc), so
// that both read a line identically.
#pragma once

#include <string_view>

#include "book/order_book.h"
#include "ingest/feed_parser.h"

namespace polyhost::feed_fields {

inline EventType EventTypeFromName(std::string_view name) {
  if (name == "book") return EventType::kBook;
  if (name == "price_change") return EventType::kPriceChange;
  if (name == "tick_size_change") return EventType::kTickSizeChange;
  if (name == "last_trade_price") return EventType::kLastTradePrice;
  if (name == "best_bid_ask") return EventType::kBestBidAsk;
  if (name == "new_market") return EventType::kNewMarket;
  if (name == "market_resolved") return EventType::kMarketResolved;
  return EventType::kUnknown;
}

// BUY/buy/bid and SELL/sell/ask. False for anything else.
inline bool SideFromName(std::string_view s, Side* side) {
  if (s == "BUY" || s == "buy" || s == "bid") {
    *side = Side::kBid;
    return true;
  }
  if (s == "SELL" || s == "sell" || s == "ask") {
    *side = Side::kAsk;
    return true;
  }
  return false;
}

// Which fields a format P event object carries, for inferring its type.
struct PresentFields {
  bool bids = false, asks = false, changes = false, price_changes = false;
  bool price = false, size = false, side = false;
  bool best_bid = false, best_ask = false, new_tick = false;
  bool asset_id = false;  // present and not empty
};

// Older captures and REST answers omit event_type: the type follows from the shape.
inline EventType InferEventType(const PresentFields& f) {
  if (f.bids && f.asks) return EventType::kBook;
  if (f.price_changes || f.changes) return EventType::kPriceChange;
  if (f.new_tick) return EventType::kTickSizeChange;
  if (f.price && f.size && f.side && f.asset_id) return EventType::kPriceChange;  // the oldest flat shape
  if (f.best_bid && f.best_ask) return EventType::kBestBidAsk;
  return EventType::kUnknown;
}

}  // namespace polyhost::feed_fields

// Parses one line of a recorded or live Polymarket feed into normalized events.
//
// Both line formats of docs/recordings.md are accepted and auto-detected per
// line: format P (raw market-channel frames, arrays of events, and
// {"recv_ts_ms","frame"} envelopes, with all three historical price_change
// shapes) and format S (generic snapshot/delta lines). A line is parsed and
// validated completely before anything is handed on, so a malformed line is
// rejected whole and never half-applied.
//
// Thread: one FeedParser per thread. Everything in a ParsedLine (string views
// included) is valid until the next Parse() on the same parser, and while the
// caller's line bytes are unchanged: views may point into them (text frames,
// and lines the fast scanner reads in place, fast_scan.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "book/order_book.h"

namespace polyhost {

enum class FeedFormat : uint8_t { kAuto, kP, kS };

// Event types, in the order of the summary table. kSnapshot/kDelta are format S.
enum class EventType : uint8_t {
  kBook,
  kPriceChange,
  kTickSizeChange,
  kLastTradePrice,
  kBestBidAsk,
  kNewMarket,
  kMarketResolved,
  kUnknown,
  kSnapshot,
  kDelta,
};
inline constexpr int kEventTypeCount = 10;
const char* EventTypeName(EventType type);

// One level change of a price_change event (or a format S delta).
struct ChangeItem {
  std::string_view asset_id;
  Side side;
  int64_t price;
  int64_t size;       // absolute; 0 removes the level
  int64_t best_bid;   // venue's view after the whole event; valid if has_best_bid
  int64_t best_ask;
  bool has_best_bid;
  bool has_best_ask;
  friend bool operator==(const ChangeItem&, const ChangeItem&) = default;  // views compare by content
};

struct FeedEvent {
  EventType type;
  std::string_view market;
  std::string_view asset_id;     // empty for price_change (per item) and catalog events
  std::string_view type_name;    // the raw event_type (for kUnknown)
  int64_t ts_ms = 0;             // venue timestamp, 0 when absent
  int64_t seq = 0;               // format S only
  // kBook / kSnapshot: ranges into ParsedLine::levels.
  uint32_t bids_begin = 0, bids_count = 0, asks_begin = 0, asks_count = 0;
  // kPriceChange / kDelta: range into ParsedLine::changes.
  uint32_t changes_begin = 0, changes_count = 0;
  // kTickSizeChange: value = new tick, value2 = old tick.
  // kLastTradePrice: value = price, value2 = size, side.
  // kBestBidAsk: value = best bid, value2 = best ask (0 = empty side), has_* flags.
  int64_t value = 0, value2 = 0;
  bool has_value = false, has_value2 = false;
  Side side = Side::kBid;
  friend bool operator==(const FeedEvent&, const FeedEvent&) = default;
};

struct ParsedLine {
  enum class Kind : uint8_t { kEmpty, kTextFrame, kEvents };
  Kind kind = Kind::kEmpty;
  FeedFormat format = FeedFormat::kAuto;  // the detected format
  int64_t recv_ts_ms = 0;                 // from an envelope, 0 when absent
  std::string_view text;                  // kTextFrame: "PONG", "NO NEW ASSETS", ...
  std::vector<FeedEvent> events;
  std::vector<Level> levels;
  std::vector<ChangeItem> changes;

  std::span<const Level> bids(const FeedEvent& e) const { return {levels.data() + e.bids_begin, e.bids_count}; }
  std::span<const Level> asks(const FeedEvent& e) const { return {levels.data() + e.asks_begin, e.asks_count}; }
  std::span<const ChangeItem> items(const FeedEvent& e) const {
    return {changes.data() + e.changes_begin, e.changes_count};
  }
  // Back to an empty format P line of events, keeping the vectors' capacity: the
  // state Parse() starts each line from.
  void Clear() {
    kind = Kind::kEvents;
    format = FeedFormat::kP;
    recv_ts_ms = 0;
    text = {};
    events.clear();
    levels.clear();
    changes.clear();
  }
  // Same content (string views by their text): how the tests and the fuzz
  // harness check that the fast scanner and the DOM path agree.
  friend bool operator==(const ParsedLine&, const ParsedLine&) = default;
};

// Why a line was rejected: the JSON path of the field and a reason.
struct ParseError {
  std::string field;   // e.g. "price_changes[1].price"; empty for whole-line errors
  std::string reason;  // e.g. "more than 6 fractional digits"
  std::string ToString() const;
};

class FeedParser {
 public:
  FeedParser();
  ~FeedParser();
  FeedParser(const FeedParser&) = delete;
  FeedParser& operator=(const FeedParser&) = delete;

  // Bytes that must be readable (any value) after the end of every line passed
  // to Parse(); LineReader guarantees it.
  static constexpr size_t kPadding = 64;

  // Parses one line (without its newline). `data` must have kPadding readable
  // bytes after data+len (LineReader leaves the line's newline first, which
  // saves the fast scanner a copy). Returns false and fills *error on a
  // malformed line.
  bool Parse(const char* data, size_t len, FeedFormat format, ParsedLine* out, ParseError* error);

  // Whether Parse() tries the fast scanner (fast_scan.h) before simdjson; on by
  // default. Off, every line takes the DOM path: for the differential tests and
  // for benchmarks that compare the two.
  void set_fast_scan(bool enabled);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace polyhost

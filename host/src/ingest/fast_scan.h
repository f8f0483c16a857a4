// A special-purpose scanner for the common line shapes of format P, tried by
// FeedParser::Parse before simdjson.
//
// The simdjson DOM parse alone costs about 410 ns for a typical 688-byte feed
// line, most of the budget of the 2 M lines/s target (docs/performance.md, "The
// targets"): a parser that tokenizes every byte cannot reach it. This scanner
// walks the bytes once, in the shapes the venue and the generator actually send
// (an event object or an array of them, optionally in a {"recv_ts_ms","frame"}
// envelope; book, price_change in all three shapes, tick_size_change,
// last_trade_price, best_bid_ask), checks strings with 16 bytes at a time and
// skips the fields the host ignores (the 40-character hash, fee_rate_bps,
// spread) without building anything for them.
//
// It is all or nothing: whenever a line is not exactly such a shape (whitespace
// between tokens, escapes or non-ASCII bytes in strings, numbers where strings
// are expected, duplicate keys, an unknown key with a non-string value, a value
// the DOM path would reject, ...) it declines and the DOM path parses the line,
// so errors and every edge case stay exactly as before. An accepted line fills
// ParsedLine exactly as the DOM path does (fast_scan_test.cc checks this on every
// recorded line and on mutated variants).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ingest/feed_parser.h"

namespace polyhost {

class FastScanner {
 public:
  // Tries the line (data, len), which has FeedParser::kPadding readable bytes
  // after it, on a cleared *out (ParsedLine::Clear()). Returns true when *out is
  // filled exactly as the DOM path would fill it; false ("not mine") leaves *out
  // in an unspecified state for the caller to reset. The string views of an
  // accepted line stay valid until the next Scan() while the caller's bytes
  // (data, len + 1) are unchanged: they point into the caller's buffer when the
  // byte after the line is a control byte (scanned in place), into a copy
  // otherwise.
  bool Scan(const char* data, size_t len, FeedFormat format, ParsedLine* out);

  // For each key (fast_scan.cc's Key), the key that followed it last time: the
  // guess tried first for the next one.
  using KeyOrder = std::array<uint8_t, 32>;

  // An event's scalar fields whose meaning depends on its type, read after its
  // object. Scratch kept across events: a field is read only when the event
  // had it, so nothing is cleared per event (that zeroing was ~1.5% of parse +
  // book).
  struct EventScalars {
    std::string_view price, size, side, best_bid, best_ask, new_tick, old_tick;
  };

 private:
  KeyOrder key_after_{};  // all 0 (event_type) to start: any guess is checked
  EventScalars scalars_;
  // A copy of the last line, NUL-terminated, when the caller's byte after the
  // line could not serve as the sentinel.
  std::vector<char> copy_;
};

}  // namespace polyhost

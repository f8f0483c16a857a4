// libFuzzer harness: FeedParser::Parse (ingest/feed_parser.h) on arbitrary
// lines, in each format mode (auto, P, S), with the kPadding readable bytes the
// parser's contract asks for (LineReader's guarantee in the host).
//
// It also checks the ParsedLine invariants the book engine relies on: every
// level/change range stays inside its vector, so a malformed line can never make
// the host index out of bounds; and that the fast scanner (ingest/fast_scan.h)
// changes nothing: the parser with it gives the same result, events or error, as
// the DOM path alone.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ingest/feed_parser.h"

namespace {

void CheckRanges(const polyhost::ParsedLine& line) {
  for (const polyhost::FeedEvent& e : line.events) {
    if (uint64_t{e.bids_begin} + e.bids_count > line.levels.size()) std::abort();
    if (uint64_t{e.asks_begin} + e.asks_count > line.levels.size()) std::abort();
    if (uint64_t{e.changes_begin} + e.changes_count > line.changes.size()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Padding filled with '}' rather than zeros: the parser may read it but must
  // never take it for part of the line.
  std::vector<char> buffer(size + polyhost::FeedParser::kPadding, '}');
  if (size > 0) std::memcpy(buffer.data(), data, size);
  // Half the inputs end in a newline, as LineReader leaves them: the fast
  // scanner then reads the line in place instead of copying it.
  if (size > 0 && (data[size - 1] & 1) != 0) buffer[size] = '\n';
  // Both reused across inputs, as in the host: no state may leak between lines.
  static polyhost::FeedParser parser;
  static polyhost::FeedParser dom_parser;
  static polyhost::ParsedLine line, dom_line;
  dom_parser.set_fast_scan(false);
  for (polyhost::FeedFormat format :
       {polyhost::FeedFormat::kAuto, polyhost::FeedFormat::kP, polyhost::FeedFormat::kS}) {
    polyhost::ParseError error, dom_error;
    const bool ok = parser.Parse(buffer.data(), size, format, &line, &error);
    if (ok) {
      CheckRanges(line);
    } else if (error.reason.empty()) {
      std::abort();  // a rejected line must say why
    }
    const bool dom_ok = dom_parser.Parse(buffer.data(), size, format, &dom_line, &dom_error);
    if (ok != dom_ok) std::abort();
    if (ok && !(line == dom_line)) std::abort();
    if (!ok && (error.field != dom_error.field || error.reason != dom_error.reason)) std::abort();
  }
  return 0;
}

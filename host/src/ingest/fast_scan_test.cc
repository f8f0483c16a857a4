// Differential tests of the fast scanner (fast_scan.h) against FeedParser's DOM
// path: on every line of every recorded feed in the repository, on generated
// lines and on mutated variants of them, a line the scanner accepts must come out
// exactly as the DOM path parses it, and FeedParser with the scanner on must give
// the same result (events or error) as with it off.
#include "ingest/fast_scan.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/feed_parser.h"

namespace polyhost {
namespace {

namespace fs = std::filesystem;

// What the DOM path says about a line, the reference.
struct Outcome {
  bool ok = false;
  ParsedLine parsed;
  ParseError error;
};

class Differ {
 public:
  Differ() { dom_.set_fast_scan(false); }

  // Checks one line in each format mode; returns whether the scanner took it in
  // auto mode.
  bool Check(const std::string& line) {
    // Padding of '}' and '"' rather than zeros: the scanner may read it but must
    // never take it for part of the line. It starts with '}' (the scanner works
    // on a copy) or with the line's newline (it works in place).
    bool accepted_auto = false;
    for (const char after : {'}', '\n'}) {
      std::string buf = line + after;
      for (size_t i = 1; i < FeedParser::kPadding; ++i) buf += (i % 2 == 0) ? '}' : '"';
      const bool accepted = CheckPadded(line, buf);
      if (after == '}') {
        accepted_auto = accepted;
      } else {
        REQUIRE(accepted == accepted_auto);  // where the bytes are read makes no difference
      }
    }
    return accepted_auto;
  }

 private:
  bool CheckPadded(const std::string& line, const std::string& buf) {
    bool accepted_auto = false;
    for (FeedFormat format : {FeedFormat::kAuto, FeedFormat::kP, FeedFormat::kS}) {
      Outcome dom;
      dom.ok = dom_.Parse(buf.data(), line.size(), format, &dom.parsed, &dom.error);

      ParsedLine fast;
      fast.Clear();
      const bool accepted = scanner_.Scan(buf.data(), line.size(), format, &fast);
      if (format == FeedFormat::kAuto) accepted_auto = accepted;
      if (accepted) {
        INFO("line: " << Head(line) << " format " << static_cast<int>(format));
        REQUIRE(dom.ok);
        REQUIRE(Describe(fast) == Describe(dom.parsed));
        REQUIRE(fast == dom.parsed);
      }

      // The production path, one parser reused across lines as in the host.
      Outcome both;
      both.ok = both_.Parse(buf.data(), line.size(), format, &both.parsed, &both.error);
      INFO("line: " << Head(line) << " format " << static_cast<int>(format));
      REQUIRE(both.ok == dom.ok);
      if (dom.ok) {
        REQUIRE(both.parsed == dom.parsed);
      } else {
        REQUIRE(both.error.field == dom.error.field);
        REQUIRE(both.error.reason == dom.error.reason);
      }
    }
    return accepted_auto;
  }

  static std::string Head(const std::string& line) { return line.size() <= 300 ? line : line.substr(0, 300) + "..."; }

  // A readable dump, so that a mismatch shows where the two differ.
  static std::string Describe(const ParsedLine& p) {
    std::ostringstream s;
    s << "kind " << static_cast<int>(p.kind) << " format " << static_cast<int>(p.format) << " recv " << p.recv_ts_ms
      << " text '" << p.text << "'\n";
    for (const FeedEvent& e : p.events) {
      s << "event " << EventTypeName(e.type) << " '" << e.type_name << "' m=" << e.market << " a=" << e.asset_id
        << " ts=" << e.ts_ms << " seq=" << e.seq << " bids " << e.bids_begin << "+" << e.bids_count << " asks "
        << e.asks_begin << "+" << e.asks_count << " changes " << e.changes_begin << "+" << e.changes_count << " v "
        << e.value << "/" << e.has_value << " v2 " << e.value2 << "/" << e.has_value2 << " side "
        << static_cast<int>(e.side) << "\n";
    }
    for (const Level& l : p.levels) s << "level " << l.price << "x" << l.size << "\n";
    for (const ChangeItem& c : p.changes) {
      s << "change " << c.asset_id << " " << static_cast<int>(c.side) << " " << c.price << "x" << c.size << " bb "
        << c.best_bid << "/" << c.has_best_bid << " ba " << c.best_ask << "/" << c.has_best_ask << "\n";
    }
    return s.str();
  }

  FeedParser dom_;
  FeedParser both_;
  FastScanner scanner_;
};

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// Every feed-like file in the repository: recordings, test and plugin data, the
// fuzz seeds of the feed parser, the generated sample next to this test.
std::vector<fs::path> FeedFiles() {
  const fs::path root = POLYHOST_SOURCE_DIR;
  std::vector<fs::path> files;
  for (const char* dir : {"recordings", "tests", "plugins", "examples", "host/src/ingest/testdata"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const fs::path& p = entry.path();
      if (entry.is_regular_file() && (p.extension() == ".jsonl" || p.extension() == ".json") &&
          entry.file_size() < (8 << 20)) {
        files.push_back(p);
      }
    }
  }
  for (const auto& entry : fs::directory_iterator(root / "fuzz/seeds/feed_parser")) files.push_back(entry.path());
  return files;
}

// Lines written for the edges of the scanner: shapes it takes and ones it must
// hand over (and that the DOM path then accepts or rejects).
const std::vector<std::string>& EdgeLines() {
  static const std::vector<std::string> lines = {
      // Accepted shapes.
      R"({"event_type":"book","market":"m","asset_id":"1","timestamp":"5","hash":"h","bids":[{"price":"0.5","size":"1"}],"asks":[]})",
      R"({"asks":[{"price":"0.6","size":"2"},{"price":"0.7","size":"3"}],"asset_id":"1","bids":[{"price":"0.5","size":"1"}],"market":"m"})",
      R"({"market":"m","asset_id":"1","bids":[],"asks":[]})",
      R"([{"event_type":"book","market":"m","asset_id":"1","bids":[],"asks":[{"price":".5","size":"5."}]},{"event_type":"price_change","market":"m","price_changes":[]}])",
      R"({"event_type":"price_change","market":"m","price_changes":[{"asset_id":"a","price":"0.5","size":"0","side":"BUY","hash":"h","best_bid":"","best_ask":"0"}],"timestamp":""})",
      R"({"event_type":"price_change","market":"m","changes":[{"price":"0.58","side":"buy","size":"33","asset_id":"ignored"}],"asset_id":"late","timestamp":"7"})",
      R"({"event_type":"price_change","asset_id":"1","price":"0.5","side":"SELL","size":"2","best_bid":"0.4","best_ask":""})",
      R"({"asset_id":"1","price":"0.5","side":"ask","size":"2"})",
      R"({"event_type":"tick_size_change","asset_id":"1","new_tick_size":"0.001","old_tick_size":""})",
      R"({"asset_id":"1","new_tick_size":"0.01"})",
      R"({"event_type":"last_trade_price","asset_id":"1","fee_rate_bps":"0","price":"","size":"3","side":"bid","timestamp":"-4"})",
      R"({"event_type":"best_bid_ask","asset_id":"1","best_bid":"0.1","best_ask":"0.2","spread":"0.1"})",
      R"({"asset_id":"1","best_bid":"0","best_ask":"1"})",
      R"({"event_type":"something_new","market":"m"})",
      R"({"event_type":"new_market","market":"m","slug":"s"})",
      R"({})",
      R"([])",
      R"("PONG")",
      R"({"recv_ts_ms":1703875201042,"frame":"PONG"})",
      R"({"recv_ts_ms":0,"frame":[]})",
      R"({"recv_ts_ms":"17","frame":{"event_type":"book","asset_id":"1","bids":[],"asks":[],"type":"x","frame":"y"}})",
      R"({"frame":{"asset_id":"1","best_bid":"0","best_ask":"1"}})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"timestamp":1703875200000})",
      // Handed to the DOM path: accepted there.
      R"( {"event_type":"book","asset_id":"1","bids":[],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[]} )",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[]})" "\r",
      R"({"event_type": "book","asset_id":"1","bids":[],"asks":[]})",
      R"({"event_type":"book","asset_id":"1\u0032","bids":[],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[{"size":"1","price":"0.5"}],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[["0.5","1"]],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[{"price":0.5,"size":"1"}],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[{"price":"0.5","size":"1","x":1}],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"extra":{"a":[1,2]}})",
      R"({"event_type":"book","asset_id":"é","bids":[],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"timestamp":1.5e12})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"timestamp":null})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"timestamp":12345678901234567890})",
      R"({"event_type":"price_change","asset_id":"1","changes":[],"price_changes":[]})",
      R"({"event_type":"price_change","asset_id":"1","price":"0.5","side":"BUY","size":"2","best_bid":null})",
      R"({"event_type":"last_trade_price","asset_id":"1","price":5,"size":"1"})",
      R"({"frame":{"asset_id":"1","best_bid":"0","best_ask":"1"},"recv_ts_ms":5})",
      R"({"recv_ts_ms":5,"frame":{"asset_id":"1","best_bid":"0","best_ask":"1"},"x":"y"})",
      R"({"type":"snapshot","market":"m","asset_id":"yes","seq":1,"bids":[["0.48","100"]],"asks":[]})",
      R"({"market":"m","type":"delta","asset_id":"yes","seq":2,"side":"bid","price":"0.49","size":"20"})",
      R"({"x":"y","frame":{"asset_id":"1","best_bid":"0","best_ask":"1"}})",
      // Handed to the DOM path: rejected there.
      R"({"event_type":"book","bids":[],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[{"price":"1e-3","size":"1"}],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[{"price":"0.1234567","size":"1"}],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[{"price":"-0.5","size":"1"}],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[{"price":"","size":"1"}],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[{"price":"99999999999999","size":"1"}],"asks":[]})",
      R"({"event_type":"price_change","market":"m","price_changes":[{"asset_id":"","price":"0.5","size":"0","side":"BUY"}]})",
      R"({"event_type":"price_change","market":"m","price_changes":[{"asset_id":"a","price":"0.5","size":"0","side":"HOLD"}]})",
      R"({"event_type":"price_change","market":"m","price_changes":[{"asset_id":"a","price":"0.5","side":"BUY"}]})",
      R"({"event_type":"price_change","market":"m","changes":[{"price":"0.5","size":"0","side":"BUY"}]})",
      R"({"event_type":"tick_size_change","asset_id":"1","new_tick_size":"0"})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],"timestamp":"soon"})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[],})",
      R"({"event_type":"book","asset_id":"1","bids":[,],"asks":[]})",
      R"({"event_type":"book","asset_id":"1","bids":[],"asks":[]}})",
      R"([{"event_type":"book","asset_id":"1","bids":[],"asks":[]},])",
      R"([1])",
      R"({"recv_ts_ms":5,"frame":7})",
      R"({"recv_ts_ms":-5,"frame":[]})",
      R"({"recv_ts_ms":05,"frame":[]})",
      "{\"event_type\":\"book\",\"asset_id\":\"1\x01\",\"bids\":[],\"asks\":[]}",
      "{\"event_type\":\"book\",\"asset_id\":\"1\xff\",\"bids\":[],\"asks\":[]}",
  };
  return lines;
}

// Variants of a line that stay close to an accepted shape: cut short, one byte
// replaced, a byte dropped, a space, backslash or quote slipped in.
void ForEachMutation(const std::string& line, size_t max_positions, const std::function<void(const std::string&)>& f) {
  const size_t stride = std::max<size_t>(1, line.size() / max_positions);
  static const char kReplacements[] = {' ', '"', '\\', '0', '9', '.', 'x', '}', ']', ',', ':', '\x80', '\x01', '-', 'e'};
  for (size_t i = 0; i < line.size(); i += stride) {
    f(line.substr(0, i));
    for (char c : kReplacements) {
      if (line[i] == c) continue;
      std::string s = line;
      s[i] = c;
      f(s);
    }
    f(line.substr(0, i) + line.substr(i + 1));
    for (const char* insert : {" ", "\\", "\\n", "\"\""}) f(line.substr(0, i) + insert + line.substr(i));
  }
}

TEST_CASE("fast scan: every recorded and generated line parses as on the DOM path") {
  Differ differ;
  size_t lines = 0, accepted = 0, generated = 0, generated_accepted = 0;
  for (const fs::path& file : FeedFiles()) {
    const bool is_generated = file.filename() == "generated_p.jsonl";
    for (const std::string& line : ReadLines(file)) {
      const bool took = differ.Check(line);
      ++lines;
      accepted += took;
      if (is_generated) ++generated, generated_accepted += took;
    }
  }
  INFO(accepted << " of " << lines << " lines taken by the fast scanner");
  CHECK(lines > 1000);
  // The scanner exists for the common shapes: a generator change that moves them
  // out of its reach must show up here rather than as a silent slowdown.
  REQUIRE(generated >= 100);
  CHECK(generated_accepted == generated);
}

TEST_CASE("fast scan: edge lines parse as on the DOM path") {
  Differ differ;
  size_t accepted = 0;
  for (const std::string& line : EdgeLines()) accepted += differ.Check(line);
  // The first 23 lines are shapes the scanner is meant to take.
  CHECK(accepted >= 23);
  for (size_t i = 0; i < 23; ++i) {
    INFO(EdgeLines()[i]);
    FastScanner scanner;
    ParsedLine out;
    out.Clear();
    std::string buf = EdgeLines()[i] + std::string(FeedParser::kPadding, '\0');
    CHECK(scanner.Scan(buf.data(), EdgeLines()[i].size(), FeedFormat::kAuto, &out));
  }
}

TEST_CASE("fast scan: decimals of every short shape parse as on the DOM path") {
  // The word-at-a-time path takes 1-7 byte values; the rest goes to the digit
  // loops and ParseDecimal. Values around every boundary of both.
  const std::vector<std::string> values = {
      "0",       "7",       ".5",      "5.",       "1234567",  "123456.7", "12345678", "0.000001", "0.0000001",
      "00.10",   "1.2.3",   "1e5",     "-1",       "+1",       "1 ",       "",         ".",        "..",
      "9999999", "99.9999", "1.",      "12.3456",  "0.123456", "a1",       "1a",       "0x1",      "1\\u0030",
      "1/2",     "1:2",     "9.99999", "123.456",  ":",        "/",        "0.5\\\"", "1234567.", "1234.5678"};
  Differ differ;
  size_t accepted = 0;
  for (const std::string& a : values) {
    for (const std::string& b : {std::string("0.5"), std::string("2500.25")}) {
      accepted += differ.Check(R"({"event_type":"book","market":"m","asset_id":"1","bids":[{"price":")" + a +
                               R"(","size":")" + b + R"("}],"asks":[]})");
      accepted += differ.Check(R"({"event_type":"price_change","market":"m","price_changes":[{"asset_id":"a","price":")" +
                               b + R"(","size":")" + a + R"(","side":"BUY","best_bid":")" + a + R"(","best_ask":"0.6"}]})");
    }
  }
  CHECK(accepted >= 40);  // the valid ones were taken by the scanner
}

TEST_CASE("fast scan: mutated lines parse as on the DOM path") {
  Differ differ;
  std::vector<std::string> bases = EdgeLines();
  // A few of each generated shape (envelopes, arrays, every event type).
  const std::vector<std::string> generated =
      ReadLines(fs::path(POLYHOST_SOURCE_DIR) / "host/src/ingest/testdata/generated_p.jsonl");
  for (size_t i = 0; i < generated.size(); i += 8) bases.push_back(generated[i]);
  for (const char* file : {"recordings/polymarket/book_and_price_change.jsonl", "recordings/polymarket/changes_shape.jsonl",
                           "recordings/polymarket/misc_events.jsonl"}) {
    for (const std::string& line : ReadLines(fs::path(POLYHOST_SOURCE_DIR) / file)) bases.push_back(line);
  }
  size_t variants = 0;
  for (const std::string& base : bases) {
    ForEachMutation(base, 120, [&](const std::string& s) {
      differ.Check(s);
      ++variants;
    });
  }
  CHECK(variants > 100000);
}

}  // namespace
}  // namespace polyhost

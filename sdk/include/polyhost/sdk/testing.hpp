// polyhost C++ SDK: testing helpers for strategy plugins (header-only, C++20,
// POSIX). Not part of sdk.hpp: include it from tests only.
//
//   #include <catch2/catch.hpp>              // or any other test framework
//   #include <polyhost/sdk/testing.hpp>
//   using namespace polyhost::sdk::testing;
//
//   TEST_CASE("one basket on the handmade feed") {
//     FeedResult r = run_feed("testdata/feed.jsonl", {.config = "testdata/my.toml"});
//     REQUIRE(r.plans.size() == 1);
//     CHECK(r.plans[0].accepted);
//     CHECK(r.plans[0].legs[0].price == 450'000);        // micro-units
//     CHECK(r.plans[0].legs[0].price_text == "0.45");    // as written by the harness
//   }
//
// run_feed() runs the plugin under test through `polyhost harness`: one plugin,
// deterministically, on a recorded feed, with the paper relayer (see
// docs/execution.md). It captures the harness's canonical JSON lines and parses
// them into typed records. It needs the polyhost executable, not its libraries:
//
//   - the executable: RunFeedOptions::polyhost, else $POLYHOST_EXECUTABLE, else
//     `polyhost` on PATH;
//   - the plugin: RunFeedOptions::plugin (a .so path or a plugin name), else
//     $POLYHOST_PLUGIN_UNDER_TEST.
//
// polyhost_add_plugin_test() (CMake, from find_package(polyhost_sdk)) sets both
// variables for the test. Guide: docs/plugin-guide.md, "Testing your strategy".
//
// The format parsed here is the harness's canonical output, and only that: one
// JSON object per line, no insignificant whitespace, a "type" of "plan", "order"
// or "fill", integers for ids and feed timestamps, booleans, strings, and decimals
// always written as strings ("0.45") with at most 6 fraction digits. The only
// nested values are the plan's "legs", an array of flat objects. The parser here
// is a small self-contained one for that shape (it rejects fractional JSON
// numbers); it is not a general JSON library.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "polyhost/sdk/types.hpp"

extern char** environ;

namespace polyhost::sdk::testing {

// ---- records -----------------------------------------------------------------

// One leg of a plan, as the plugin proposed it.
struct LegRecord {
  std::string market;
  std::string asset_id;
  Side side = Side::kBuy;
  int64_t price = 0;  // micro-units: 450000 is 0.45
  std::string price_text;  // the canonical decimal: "0.45"
  int64_t size = 0;        // micro-units of tokens
  std::string size_text;
  Tif tif = Tif::kGtc;
};

// {"type":"plan",...}: a plan and the risk gate's decision on it.
struct PlanRecord {
  int64_t ts_ms = 0;  // feed time
  int64_t plan_id = 0;
  std::string plugin;
  std::string tag;  // the plan's client tag
  std::vector<LegRecord> legs;
  std::string decision;  // "accepted" or "rejected"
  bool accepted = false;
  std::string reject;  // the reject code when rejected, e.g. "crossed_book"
  std::string reason;  // the gate's text when rejected
};

// {"type":"order",...}: one update of the order sent for a leg of an accepted plan.
struct OrderRecord {
  int64_t ts_ms = 0;
  int64_t plan_id = 0;
  int leg = 0;  // index into the plan's legs
  int64_t order_id = 0;
  std::string state;  // acked, partially_filled, filled, cancelled, rejected
  int64_t filled = 0;
  std::string filled_text;
  int64_t remaining = 0;
  std::string remaining_text;
  std::string reason;  // set on some cancels and rejects
};

// {"type":"fill",...}: one execution by the paper relayer.
struct FillRecord {
  int64_t ts_ms = 0;
  int64_t plan_id = 0;
  int leg = 0;
  int64_t order_id = 0;
  int64_t price = 0;
  std::string price_text;
  int64_t size = 0;
  std::string size_text;
  int64_t fee = 0;  // micro-USDC
  std::string fee_text;
  bool maker = false;
};

// What run_feed() returns.
struct FeedResult {
  std::vector<PlanRecord> plans;  // in decision order
  // Every "order" record: one per update (acked, partially_filled, filled,
  // cancelled, rejected), so an order usually appears more than once. Count
  // orders with order_count(); final_orders() keeps the last update of each.
  std::vector<OrderRecord> orders;
  std::vector<FillRecord> fills;
  std::vector<std::string> lines;  // the canonical JSON lines, verbatim
  std::string sha256;              // of the output, as the harness printed it
  int exit_code = 0;               // 0 unless RunFeedOptions::check_exit is false
  std::string log;                 // the harness's stderr: host and plugin log lines
  std::string output;              // the harness's stdout: record count, sha256, --expect diff
  std::string disabled;            // why the plugin was disabled (or failed to load); "" if it ran

  // The plan with this id, or nullptr.
  const PlanRecord* find_plan(int64_t plan_id) const {
    for (const PlanRecord& p : plans) {
      if (p.plan_id == plan_id) return &p;
    }
    return nullptr;
  }
  size_t accepted_count() const {
    size_t n = 0;
    for (const PlanRecord& p : plans) {
      if (p.accepted) ++n;
    }
    return n;
  }
  size_t rejected_count() const { return plans.size() - accepted_count(); }
  // Plans rejected with this code ("crossed_book", "max_order_notional", ...).
  size_t rejected_count(std::string_view reject_code) const {
    size_t n = 0;
    for (const PlanRecord& p : plans) {
      if (!p.accepted && p.reject == reject_code) ++n;
    }
    return n;
  }
  // The fills of a plan, or of one of its legs (leg >= 0).
  std::vector<FillRecord> fills_for(int64_t plan_id, int leg = -1) const {
    std::vector<FillRecord> out;
    for (const FillRecord& f : fills) {
      if (f.plan_id == plan_id && (leg < 0 || f.leg == leg)) out.push_back(f);
    }
    return out;
  }
  // The number of distinct orders (order ids) sent.
  size_t order_count() const { return final_orders().size(); }
  // The last update of each order, in the order the orders were sent.
  std::vector<OrderRecord> final_orders() const {
    std::vector<OrderRecord> out;
    for (const OrderRecord& o : orders) {
      bool seen = false;
      for (OrderRecord& f : out) {
        if (f.order_id == o.order_id) {
          f = o;
          seen = true;
          break;
        }
      }
      if (!seen) out.push_back(o);
    }
    return out;
  }
  // The order updates of a plan, or of one of its legs (leg >= 0).
  std::vector<OrderRecord> orders_for(int64_t plan_id, int leg = -1) const {
    std::vector<OrderRecord> out;
    for (const OrderRecord& o : orders) {
      if (o.plan_id == plan_id && (leg < 0 || o.leg == leg)) out.push_back(o);
    }
    return out;
  }
  // Total filled size (micro-units) of a plan, or of one of its legs.
  int64_t filled_size(int64_t plan_id, int leg = -1) const {
    int64_t sum = 0;
    for (const FillRecord& f : fills) {
      if (f.plan_id == plan_id && (leg < 0 || f.leg == leg)) sum += f.size;
    }
    return sum;
  }
};

// ---- decimals ----------------------------------------------------------------

// "0.45" -> 450000. Exact: at most 6 fraction digits, an optional leading '-'.
// Throws std::invalid_argument on anything else.
inline int64_t micros(std::string_view decimal) {
  const std::string_view original = decimal;
  const auto fail = [&](const char* why) {
    throw std::invalid_argument("not a canonical decimal (" + std::string(why) + "): \"" + std::string(original) +
                                "\"");
  };
  bool negative = false;
  if (!decimal.empty() && decimal.front() == '-') {
    negative = true;
    decimal.remove_prefix(1);
  }
  const size_t dot = decimal.find('.');
  const std::string_view whole = decimal.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : decimal.substr(dot + 1);
  if (whole.empty()) fail("no integer part");
  if (dot != std::string_view::npos && frac.empty()) fail("empty fraction");
  if (frac.size() > 6) fail("more than 6 fraction digits");
  int64_t value = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') fail("not a digit");
    if (value > (INT64_MAX / 10 - 9) / kMicros) fail("out of range");
    value = value * 10 + (c - '0');
  }
  value *= kMicros;
  int64_t scale = kMicros / 10;
  for (char c : frac) {
    if (c < '0' || c > '9') fail("not a digit");
    value += (c - '0') * scale;
    scale /= 10;
  }
  return negative ? -value : value;
}

// ---- the canonical-JSONL parser ----------------------------------------------

namespace detail {

// A parsed value of the canonical format: null, bool, integer, string, array or
// object (members kept in order).
struct Value {
  enum class Kind { kNull, kBool, kInt, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;
  std::string string;
  std::vector<Value> items;        // kArray; kObject: the member values
  std::vector<std::string> keys;   // kObject: the member names

  const Value* find(std::string_view key) const {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

class Parser {
 public:
  Parser(std::string_view text, size_t line) : text_(text), line_(line) {}

  Value parse_document() {
    Value v = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("harness output line " + std::to_string(line_) + ", column " + std::to_string(pos_ + 1) +
                             ": " + why + ": " + std::string(text_.substr(0, 200)));
  }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n')) {
      ++pos_;
    }
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  bool eat_word(std::string_view w) {
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }

  Value parse_value(int depth) {
    if (depth > 8) fail("nested too deeply for the canonical format");
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end of line");
    Value v;
    const char c = text_[pos_];
    if (c == '{') {
      ++pos_;
      v.kind = Value::Kind::kObject;
      if (eat('}')) return v;
      do {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a member name");
        v.keys.push_back(parse_string());
        expect(':');
        v.items.push_back(parse_value(depth + 1));
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      ++pos_;
      v.kind = Value::Kind::kArray;
      if (eat(']')) return v;
      do {
        v.items.push_back(parse_value(depth + 1));
      } while (eat(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Value::Kind::kString;
      v.string = parse_string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Value::Kind::kInt;
      v.integer = parse_integer();
    } else if (eat_word("true")) {
      v.kind = Value::Kind::kBool;
      v.boolean = true;
    } else if (eat_word("false")) {
      v.kind = Value::Kind::kBool;
    } else if (eat_word("null")) {
      v.kind = Value::Kind::kNull;
    } else {
      fail("unexpected character");
    }
    return v;
  }

  int64_t parse_integer() {
    bool negative = false;
    if (text_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    const size_t start = pos_;
    uint64_t magnitude = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const uint64_t digit = static_cast<uint64_t>(text_[pos_] - '0');
      if (magnitude > (static_cast<uint64_t>(INT64_MAX) + 1 - digit) / 10) fail("integer out of range");
      magnitude = magnitude * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected digits");
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      fail("fractional JSON number (the canonical format writes decimals as strings)");
    }
    if (!negative && magnitude > static_cast<uint64_t>(INT64_MAX)) fail("integer out of range");
    return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= static_cast<unsigned>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<unsigned>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<unsigned>(h - 'A' + 10);
      } else {
        fail("bad \\u escape");
      }
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            const unsigned low = hex4();
            if (low < 0xDC00 || low >= 0xE000) fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }

  std::string_view text_;
  size_t line_;
  size_t pos_ = 0;
};

// Typed access to one record's members, with errors that name the line.
class Fields {
 public:
  Fields(const Value& object, size_t line, std::string_view type) : object_(object), line_(line), type_(type) {}

  const Value& get(std::string_view key, Value::Kind kind) const {
    const Value* v = object_.find(key);
    if (v == nullptr) fail(key, "is missing");
    if (v->kind != kind) fail(key, "has the wrong type");
    return *v;
  }
  int64_t integer(std::string_view key) const { return get(key, Value::Kind::kInt).integer; }
  bool boolean(std::string_view key) const { return get(key, Value::Kind::kBool).boolean; }
  const std::string& string(std::string_view key) const { return get(key, Value::Kind::kString).string; }
  std::string optional_string(std::string_view key) const {
    const Value* v = object_.find(key);
    return v != nullptr && v->kind == Value::Kind::kString ? v->string : std::string();
  }
  // A decimal string: its micro-units, and the text itself.
  int64_t decimal(std::string_view key, std::string* text) const {
    *text = string(key);
    try {
      return micros(*text);
    } catch (const std::invalid_argument& e) {
      fail(key, e.what());
    }
  }
  int index(std::string_view key) const {
    const int64_t v = integer(key);
    if (v < 0 || v > 1'000'000) fail(key, "is out of range");
    return static_cast<int>(v);
  }

  [[noreturn]] void fail(std::string_view key, std::string_view why) const {
    throw std::runtime_error("harness output line " + std::to_string(line_) + ": " + std::string(type_) + " field '" +
                             std::string(key) + "' " + std::string(why));
  }

 private:
  const Value& object_;
  size_t line_;
  std::string_view type_;
};

inline Side parse_side(const Fields& f, const std::string& s) {
  if (s == "BUY") return Side::kBuy;
  if (s == "SELL") return Side::kSell;
  f.fail("side", "is not BUY or SELL: " + s);
}

inline Tif parse_tif(const Fields& f, const std::string& s) {
  if (s == "GTC") return Tif::kGtc;
  if (s == "IOC") return Tif::kIoc;
  if (s == "FOK") return Tif::kFok;
  f.fail("tif", "is not GTC, IOC or FOK: " + s);
}

inline void add_record(FeedResult& out, std::string_view line, size_t line_no) {
  const Value v = Parser(line, line_no).parse_document();
  if (v.kind != Value::Kind::kObject) {
    throw std::runtime_error("harness output line " + std::to_string(line_no) + " is not a JSON object");
  }
  const Fields head(v, line_no, "record");
  const std::string& type = head.string("type");
  const Fields f(v, line_no, type);
  if (type == "plan") {
    PlanRecord p;
    p.ts_ms = f.integer("ts_ms");
    p.plan_id = f.integer("plan_id");
    p.plugin = f.string("plugin");
    p.tag = f.optional_string("tag");
    for (const Value& leg : f.get("legs", Value::Kind::kArray).items) {
      if (leg.kind != Value::Kind::kObject) f.fail("legs", "holds a non-object");
      const Fields lf(leg, line_no, "plan leg");
      LegRecord l;
      l.market = lf.string("market");
      l.asset_id = lf.string("asset_id");
      l.side = parse_side(lf, lf.string("side"));
      l.price = lf.decimal("price", &l.price_text);
      l.size = lf.decimal("size", &l.size_text);
      l.tif = parse_tif(lf, lf.string("tif"));
      p.legs.push_back(std::move(l));
    }
    p.decision = f.string("decision");
    if (p.decision != "accepted" && p.decision != "rejected") f.fail("decision", "is not accepted or rejected");
    p.accepted = p.decision == "accepted";
    p.reject = f.optional_string("reject");
    p.reason = f.optional_string("reason");
    out.plans.push_back(std::move(p));
  } else if (type == "order") {
    OrderRecord o;
    o.ts_ms = f.integer("ts_ms");
    o.plan_id = f.integer("plan_id");
    o.leg = f.index("leg");
    o.order_id = f.integer("order_id");
    o.state = f.string("state");
    o.filled = f.decimal("filled", &o.filled_text);
    o.remaining = f.decimal("remaining", &o.remaining_text);
    o.reason = f.optional_string("reason");
    out.orders.push_back(std::move(o));
  } else if (type == "fill") {
    FillRecord r;
    r.ts_ms = f.integer("ts_ms");
    r.plan_id = f.integer("plan_id");
    r.leg = f.index("leg");
    r.order_id = f.integer("order_id");
    r.price = f.decimal("price", &r.price_text);
    r.size = f.decimal("size", &r.size_text);
    r.fee = f.decimal("fee", &r.fee_text);
    r.maker = f.boolean("maker");
    out.fills.push_back(std::move(r));
  }
  // Other record types (from a newer host) are kept in `lines` only.
}

}  // namespace detail

// Parses canonical harness output (e.g. a golden .jsonl file read into memory).
// Empty lines are skipped; anything malformed throws std::runtime_error naming
// the line.
inline FeedResult parse_records(std::string_view jsonl) {
  FeedResult out;
  size_t line_no = 0;
  while (!jsonl.empty()) {
    const size_t nl = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, nl);
    jsonl.remove_prefix(nl == std::string_view::npos ? jsonl.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    detail::add_record(out, line, line_no);
    out.lines.emplace_back(line);
  }
  return out;
}

// ---- running the harness -----------------------------------------------------

struct RunFeedOptions {
  // The polyhost executable. Empty: $POLYHOST_EXECUTABLE, else `polyhost` on PATH.
  std::string polyhost{};
  // The plugin: a path to its .so, or a name found in [plugins] dirs. Empty:
  // $POLYHOST_PLUGIN_UNDER_TEST.
  std::string plugin{};
  // A TOML file for --config (e.g. with a [plugin.<name>] section) ...
  std::string config{};
  // ... or its text, written to a temporary file. Not both.
  std::string config_toml{};
  std::string catalog{};  // --catalog: Gamma markets JSON (neg-risk events, ticks, minimum sizes)
  std::string market{};   // --market: the market of format S lines that carry none
  std::string expect{};   // --expect: a golden JSONL; a difference is an error (exit 1)
  std::string out{};      // also keep the JSONL output here (e.g. to write a golden file)
  std::string log_level = "info";  // --log-level; "" keeps the config's
  // Extra environment for the harness, e.g. {"POLYHOST_RISK_MAX_OPEN_ORDERS", "5"}.
  std::map<std::string, std::string> env{};
  // By default the harness sees none of the caller's POLYHOST_* variables, so a
  // developer's shell cannot change a test's result.
  bool inherit_polyhost_env = false;
  // The harness runs in a fresh temporary directory (so a stray
  // config/local.toml cannot change the result); relative paths above are
  // resolved against the caller's working directory first. Set to run it
  // elsewhere.
  std::string working_directory{};
  // Throw when the harness exits with a non-zero status. If false, return the
  // result with exit_code set (and whatever records it wrote).
  bool check_exit = true;
  // Throw when the host disabled the plugin during the run (a hook threw or
  // failed; see FeedResult::disabled). If true, return the result instead. A
  // plugin that fails to load or init makes the harness exit 1 (check_exit).
  bool allow_disabled = false;
};

namespace detail {

class TempDir {
 public:
  TempDir() {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string tmpl = (base / "polyhost-run-feed-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("run_feed: cannot create a temporary directory in " + base.string() + ": " +
                               std::strerror(errno));
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

inline std::string getenv_string(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

inline bool is_executable_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// The polyhost executable: an option, $POLYHOST_EXECUTABLE, or PATH.
inline std::filesystem::path find_polyhost(const RunFeedOptions& o) {
  std::string spec = o.polyhost;
  std::string from = "RunFeedOptions::polyhost";
  if (spec.empty()) {
    spec = getenv_string("POLYHOST_EXECUTABLE");
    from = "POLYHOST_EXECUTABLE";
  }
  if (spec.empty()) {
    spec = "polyhost";
    from = "";
  }
  if (spec.find('/') != std::string::npos) {
    const std::filesystem::path p = std::filesystem::absolute(spec);
    if (!is_executable_file(p)) {
      throw std::runtime_error("run_feed: the polyhost executable " + p.string() + " (from " + from +
                               ") does not exist or is not executable");
    }
    return p;
  }
  const std::string path = getenv_string("PATH");
  size_t start = 0;
  while (start <= path.size()) {
    const size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    const std::filesystem::path candidate = std::filesystem::path(dir) / spec;
    if (is_executable_file(candidate)) return std::filesystem::absolute(candidate);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  throw std::runtime_error("run_feed: cannot find the polyhost executable: '" + spec + "' is not on PATH" +
                           (from.empty() ? std::string("; set POLYHOST_EXECUTABLE or RunFeedOptions::polyhost")
                                         : " (from " + from + ")"));
}

inline std::string absolute_if_set(const std::string& p) {
  return p.empty() ? p : std::filesystem::absolute(p).string();
}

struct ProcessResult {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs exe with args in cwd with exactly env; stdin is /dev/null. fork + execve:
// between the two the child calls only async-signal-safe functions.
inline ProcessResult run_process(const std::filesystem::path& exe, const std::vector<std::string>& args,
                                 const std::vector<std::string>& env, const std::filesystem::path& cwd,
                                 const std::filesystem::path& scratch) {
  const std::filesystem::path out_path = scratch / "stdout.txt";
  const std::filesystem::path err_path = scratch / "stderr.txt";
  std::vector<char*> argv;
  std::string exe_str = exe.string();
  argv.push_back(exe_str.data());
  std::vector<std::string> args_copy = args;
  for (std::string& a : args_copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  std::vector<char*> envp;
  for (std::string& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwd_str = cwd.string();

  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int status_pipe[2] = {-1, -1};  // the child writes errno here if it cannot exec
  const auto close_all = [&] {
    for (int fd : {out_fd, err_fd, null_fd, status_pipe[0], status_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if (out_fd < 0 || err_fd < 0 || null_fd < 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    close_all();
    throw std::runtime_error(std::string("run_feed: cannot set up the harness's output files: ") + std::strerror(e));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    close_all();
    throw std::runtime_error(std::string("run_feed: fork failed: ") + std::strerror(e));
  }
  if (pid == 0) {
    int stage = 0;  // 0 chdir, 1 dup2, 2 execve
    if (::chdir(cwd_str.c_str()) == 0) {
      stage = 1;
      if (::dup2(null_fd, 0) >= 0 && ::dup2(out_fd, 1) >= 0 && ::dup2(err_fd, 2) >= 0) {
        stage = 2;
        ::execve(argv[0], argv.data(), envp.data());
      }
    }
    const int report[2] = {stage, errno};
    [[maybe_unused]] ssize_t n = ::write(status_pipe[1], report, sizeof report);
    ::_exit(127);
  }
  ::close(status_pipe[1]);
  status_pipe[1] = -1;
  int report[2] = {0, 0};
  ssize_t got;
  do {
    got = ::read(status_pipe[0], report, sizeof report);
  } while (got < 0 && errno == EINTR);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  close_all();
  if (got == static_cast<ssize_t>(sizeof report)) {
    const std::string what = report[0] == 0   ? "cannot enter the working directory " + cwd_str + " for "
                             : report[0] == 1 ? std::string("cannot redirect the output of ")
                                              : std::string("cannot run ");
    throw std::runtime_error("run_feed: " + what + exe_str + ": " + std::strerror(report[1]));
  }
  ProcessResult r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  } else {
    r.exit_code = -1;
  }
  r.stdout_text = read_file(out_path);
  r.stderr_text = read_file(err_path);
  return r;
}

inline std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@") ==
                        std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// "12 records, sha256 <64 hex>" -> the hex.
inline std::string find_sha256(const std::string& stdout_text) {
  const std::string key = "sha256 ";
  const size_t at = stdout_text.find(key);
  if (at == std::string::npos) return {};
  const size_t start = at + key.size();
  size_t end = start;
  while (end < stdout_text.size() && std::isxdigit(static_cast<unsigned char>(stdout_text[end])) != 0) ++end;
  return end - start == 64 ? stdout_text.substr(start, 64) : std::string();
}

// After the run the harness logs "warn: plugin <name> was disabled: <why>" for
// a plugin the host disabled (a hook threw or failed, the plan sink overflowed);
// hosts before the JSON-log change wrote "warning:". Plugins' own log lines
// start with "<level>: [<name>]", so they cannot match.
inline std::string find_disabled(const std::string& log) {
  const std::string_view key = " was disabled: ";
  size_t line_start = 0;
  while (line_start < log.size()) {
    size_t line_end = log.find('\n', line_start);
    if (line_end == std::string::npos) line_end = log.size();
    const std::string_view line(log.data() + line_start, line_end - line_start);
    const size_t at = line.find(key);
    const bool host_warning = line.starts_with("warn: plugin ") || line.starts_with("warning: plugin ");
    if (host_warning && at != std::string_view::npos) {
      return std::string(line.substr(at + key.size()));
    }
    line_start = line_end + 1;
  }
  return {};
}

}  // namespace detail

// Runs the plugin under test on feed_path with `polyhost harness` and returns its
// plans, orders and fills. Throws std::runtime_error, with the harness's stderr,
// when the executable or plugin cannot be found, when the harness fails
// (unless check_exit is false), when the plugin is disabled (unless
// allow_disabled), and when the output is not in the canonical format.
inline FeedResult run_feed(const std::filesystem::path& feed_path, const RunFeedOptions& options = {}) {
  const std::filesystem::path exe = detail::find_polyhost(options);
  std::string plugin = options.plugin.empty() ? detail::getenv_string("POLYHOST_PLUGIN_UNDER_TEST") : options.plugin;
  if (plugin.empty()) {
    throw std::runtime_error(
        "run_feed: no plugin to test: set RunFeedOptions::plugin or POLYHOST_PLUGIN_UNDER_TEST "
        "(polyhost_add_plugin_test() sets it)");
  }
  // A path (it has a '/' or ends in .so) is made absolute, as the harness runs elsewhere.
  if (plugin.find('/') != std::string::npos || (plugin.size() > 3 && plugin.ends_with(".so"))) {
    plugin = std::filesystem::absolute(plugin).string();
  }
  if (!options.config.empty() && !options.config_toml.empty()) {
    throw std::invalid_argument("run_feed: give RunFeedOptions::config or config_toml, not both");
  }
  const std::string feed = std::filesystem::absolute(feed_path).string();
  {
    std::error_code ec;
    if (!std::filesystem::exists(feed, ec)) throw std::runtime_error("run_feed: no such feed: " + feed);
  }

  detail::TempDir tmp;
  const std::string out = (tmp.path() / "out.jsonl").string();
  std::vector<std::string> args{"harness", "--plugin", plugin, "--feed", feed, "--out", out};
  std::string config = detail::absolute_if_set(options.config);
  if (!options.config_toml.empty()) {
    config = (tmp.path() / "config.toml").string();
    std::ofstream f(config, std::ios::binary);
    f << options.config_toml;
    if (!f) throw std::runtime_error("run_feed: cannot write " + config);
  }
  if (!config.empty()) args.insert(args.end(), {"--config", config});
  if (!options.catalog.empty()) args.insert(args.end(), {"--catalog", detail::absolute_if_set(options.catalog)});
  if (!options.market.empty()) args.insert(args.end(), {"--market", options.market});
  if (!options.expect.empty()) args.insert(args.end(), {"--expect", detail::absolute_if_set(options.expect)});
  if (!options.log_level.empty()) args.insert(args.end(), {"--log-level", options.log_level});

  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    if (options.env.count(std::string(name)) != 0) continue;
    if (name.starts_with("POLYHOST_") && !options.inherit_polyhost_env) continue;
    // Ours, not the host's: its config loader would warn about them.
    if (name == "POLYHOST_EXECUTABLE" || name == "POLYHOST_PLUGIN_UNDER_TEST") continue;
    env.emplace_back(entry);
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);

  std::filesystem::path cwd = tmp.path() / "cwd";
  if (options.working_directory.empty()) {
    std::filesystem::create_directory(cwd);
  } else {
    cwd = std::filesystem::absolute(options.working_directory);
  }

  const detail::ProcessResult p = detail::run_process(exe, args, env, cwd, tmp.path());
  std::string command = detail::shell_quote(exe.string());
  for (const std::string& a : args) command += " " + (a == out ? std::string("<temp>/out.jsonl") : detail::shell_quote(a));
  const auto failure = [&](const std::string& what) {
    std::string msg = "run_feed: " + what + "\n  command: " + command;
    if (!p.stderr_text.empty()) msg += "\n  stderr:\n" + p.stderr_text;
    if (!p.stdout_text.empty()) msg += "\n  stdout:\n" + p.stdout_text;
    return std::runtime_error(msg);
  };
  if (p.exit_code != 0 && options.check_exit) {
    throw failure("polyhost harness exited with status " + std::to_string(p.exit_code));
  }

  FeedResult result;
  {
    std::error_code ec;
    if (std::filesystem::exists(out, ec)) {
      const std::string text = detail::read_file(out);
      result = parse_records(text);
      if (!options.out.empty()) {
        std::ofstream f(options.out, std::ios::binary);
        f << text;
        if (!f) throw std::runtime_error("run_feed: cannot write " + options.out);
      }
    } else if (p.exit_code == 0) {
      throw failure("polyhost harness wrote no output file");
    }
  }
  result.exit_code = p.exit_code;
  result.log = p.stderr_text;
  result.output = p.stdout_text;
  result.sha256 = detail::find_sha256(p.stdout_text);
  result.disabled = detail::find_disabled(p.stderr_text);
  if (!result.disabled.empty() && !options.allow_disabled) {
    throw failure("the plugin was disabled: " + result.disabled);
  }
  return result;
}

// ---- printing (test frameworks use operator<< to show values) -----------------

inline std::ostream& operator<<(std::ostream& os, const LegRecord& l) {
  return os << (l.side == Side::kBuy ? "BUY " : "SELL ") << l.size_text << " @ " << l.price_text << " "
            << (l.tif == Tif::kGtc ? "GTC" : l.tif == Tif::kIoc ? "IOC" : "FOK") << " " << l.market << "/"
            << l.asset_id;
}

inline std::ostream& operator<<(std::ostream& os, const PlanRecord& p) {
  os << "plan " << p.plan_id << " (" << p.plugin << ", " << p.tag << ") " << p.decision;
  if (!p.accepted) os << " " << p.reject << ": " << p.reason;
  for (const LegRecord& l : p.legs) os << "\n  " << l;
  return os;
}

inline std::ostream& operator<<(std::ostream& os, const OrderRecord& o) {
  os << "order " << o.order_id << " (plan " << o.plan_id << " leg " << o.leg << ") " << o.state << " filled "
     << o.filled_text << " remaining " << o.remaining_text;
  if (!o.reason.empty()) os << " (" << o.reason << ")";
  return os;
}

inline std::ostream& operator<<(std::ostream& os, const FillRecord& f) {
  return os << "fill of order " << f.order_id << " (plan " << f.plan_id << " leg " << f.leg << ") " << f.size_text
            << " @ " << f.price_text << " fee " << f.fee_text << (f.maker ? " maker" : " taker");
}

}  // namespace polyhost::sdk::testing

#include "ingest/feed_parser.h"

#include <simdjson.h>

#include <charconv>

#include "core/decimal.h"
#include "ingest/fast_scan.h"
#include "ingest/feed_fields.h"

namespace polyhost {

static_assert(FeedParser::kPadding >= simdjson::SIMDJSON_PADDING);

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kBook: return "book";
    case EventType::kPriceChange: return "price_change";
    case EventType::kTickSizeChange: return "tick_size_change";
    case EventType::kLastTradePrice: return "last_trade_price";
    case EventType::kBestBidAsk: return "best_bid_ask";
    case EventType::kNewMarket: return "new_market";
    case EventType::kMarketResolved: return "market_resolved";
    case EventType::kUnknown: return "unknown";
    case EventType::kSnapshot: return "snapshot";
    case EventType::kDelta: return "delta";
  }
  return "unknown";
}

std::string ParseError::ToString() const {
  if (field.empty()) return reason;
  return "field '" + field + "': " + reason;
}

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Thrown inside the parser only, caught in Parse(): keeps the field-walking code
// linear. Never escapes this file.
struct Reject {
  std::string field;
  std::string reason;
};

// The JSON path of a field, e.g. "frame.price_changes[3].price". Kept as parts
// and only spelled out when a field is rejected: building the text for every
// field parsed cost a fifth of the parse time.
struct Field {
  Field(std::string_view n) : name(n) {}  // NOLINT: a plain name converts
  Field(const char* n) : name(n) {}       // NOLINT
  Field(const std::string& n) : name(n) {}  // NOLINT
  Field(std::string_view p, std::string_view n, size_t i = std::string_view::npos, std::string_view m = {},
        std::string_view suf = {})
      : prefix(p), name(n), index(i), member(m), suffix(suf) {}
  std::string_view prefix;  // "" or "frame." or "[2]."
  std::string_view name;    // "price_changes"
  size_t index = std::string_view::npos;
  std::string_view member;  // "price"
  std::string_view suffix;  // "[0]"
  std::string str() const {
    std::string s(prefix);
    s += name;
    if (index != std::string_view::npos) {
      s += '[';
      s += std::to_string(index);
      s += ']';
    }
    if (!member.empty()) {
      s += '.';
      s += member;
    }
    s += suffix;
    return s;
  }
};

[[noreturn]] void Fail(const Field& field, std::string reason) { throw Reject{field.str(), std::move(reason)}; }

std::string_view StringField(element value, const Field& field) {
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) Fail(field, "expected a string");
  return s;
}

// A decimal that travels as a string (or, leniently, as a JSON integer).
// Returns false for "" (absent).
bool DecimalField(element value, const Field& field, int64_t* out, bool allow_empty) {
  std::string_view s;
  if (value.get_string().get(s) == simdjson::SUCCESS) {
    DecimalError err = ParseDecimal(s, out);
    if (err == DecimalError::kOk) return true;
    if (err == DecimalError::kEmpty && allow_empty) return false;
    Fail(field, DecimalErrorText(err));
  }
  int64_t i;
  if (value.get_int64().get(i) == simdjson::SUCCESS) {
    if (i < 0) Fail(field, DecimalErrorText(DecimalError::kNegative));
    if (i > INT64_MAX / kMicrosPerUnit) Fail(field, DecimalErrorText(DecimalError::kOverflow));
    *out = i * kMicrosPerUnit;
    return true;
  }
  if (value.is_null() && allow_empty) return false;
  Fail(field, "expected a decimal string");
}

// Millisecond timestamps come as strings ("1703875200000") or integers.
int64_t TimestampField(element value, const Field& field) {
  int64_t i;
  if (value.get_int64().get(i) == simdjson::SUCCESS) return i;
  std::string_view s;
  if (value.get_string().get(s) == simdjson::SUCCESS) {
    if (s.empty()) return 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc() && ptr == s.data() + s.size()) return i;
  }
  if (value.is_null()) return 0;
  Fail(field, "expected a millisecond timestamp");
}

Side SideField(element value, const Field& field) {
  Side side;
  if (!feed_fields::SideFromName(StringField(value, field), &side)) Fail(field, "expected BUY/SELL or bid/ask");
  return side;
}

class LineBuilder {
 public:
  explicit LineBuilder(ParsedLine* out) : out_(out) {}

  // Format P: one event object. `path` names it in errors ("" or "[3]" or "frame[3]").
  void PEvent(object obj, const std::string& path) {
    FeedEvent ev{};
    element bids_el, asks_el, changes_el, price_changes_el;
    bool has_bids = false, has_asks = false, has_changes = false, has_price_changes = false;
    bool has_type = false;
    element price_el, size_el, side_el;
    bool has_price = false, has_size = false, has_side = false;
    element best_bid_el, best_ask_el, new_tick_el, old_tick_el;
    bool has_best_bid = false, has_best_ask = false, has_new_tick = false, has_old_tick = false;
    const std::string prefix = path.empty() ? std::string() : path + ".";
    for (auto field : obj) {
      std::string_view k = field.key;
      element v = field.value;
      if (k == "event_type") {
        ev.type_name = StringField(v, Field{prefix, "event_type"});
        ev.type = feed_fields::EventTypeFromName(ev.type_name);
        has_type = true;
      } else if (k == "market") {
        ev.market = StringField(v, Field{prefix, "market"});
      } else if (k == "asset_id") {
        ev.asset_id = StringField(v, Field{prefix, "asset_id"});
      } else if (k == "timestamp") {
        ev.ts_ms = TimestampField(v, Field{prefix, "timestamp"});
      } else if (k == "bids") {
        bids_el = v, has_bids = true;
      } else if (k == "asks") {
        asks_el = v, has_asks = true;
      } else if (k == "changes") {
        changes_el = v, has_changes = true;
      } else if (k == "price_changes") {
        price_changes_el = v, has_price_changes = true;
      } else if (k == "price") {
        price_el = v, has_price = true;
      } else if (k == "size") {
        size_el = v, has_size = true;
      } else if (k == "side") {
        side_el = v, has_side = true;
      } else if (k == "best_bid") {
        best_bid_el = v, has_best_bid = true;
      } else if (k == "best_ask") {
        best_ask_el = v, has_best_ask = true;
      } else if (k == "new_tick_size") {
        new_tick_el = v, has_new_tick = true;
      } else if (k == "old_tick_size") {
        old_tick_el = v, has_old_tick = true;
      }
    }
    if (!has_type) {
      ev.type = feed_fields::InferEventType({.bids = has_bids,
                                             .asks = has_asks,
                                             .changes = has_changes,
                                             .price_changes = has_price_changes,
                                             .price = has_price,
                                             .size = has_size,
                                             .side = has_side,
                                             .best_bid = has_best_bid,
                                             .best_ask = has_best_ask,
                                             .new_tick = has_new_tick,
                                             .asset_id = !ev.asset_id.empty()});
    }
    switch (ev.type) {
      case EventType::kBook: {
        RequireAsset(ev, prefix);
        if (!has_bids) Fail(Field{prefix, "bids"}, "missing");
        if (!has_asks) Fail(Field{prefix, "asks"}, "missing");
        ReadLevels(bids_el, Field{prefix, "bids"}, &ev.bids_begin, &ev.bids_count);
        ReadLevels(asks_el, Field{prefix, "asks"}, &ev.asks_begin, &ev.asks_count);
        break;
      }
      case EventType::kPriceChange: {
        ev.changes_begin = static_cast<uint32_t>(out_->changes.size());
        if (has_price_changes) {
          ReadChanges(price_changes_el, Field{prefix, "price_changes"}, {}, true);
        } else if (has_changes) {
          RequireAsset(ev, prefix);
          ReadChanges(changes_el, Field{prefix, "changes"}, ev.asset_id, false);
        } else {
          RequireAsset(ev, prefix);
          if (!has_price) Fail(Field{prefix, "price"}, "missing");
          if (!has_size) Fail(Field{prefix, "size"}, "missing");
          if (!has_side) Fail(Field{prefix, "side"}, "missing");
          ChangeItem item{};
          item.asset_id = ev.asset_id;
          item.side = SideField(side_el, Field{prefix, "side"});
          DecimalField(price_el, Field{prefix, "price"}, &item.price, false);
          DecimalField(size_el, Field{prefix, "size"}, &item.size, false);
          if (has_best_bid) item.has_best_bid = DecimalField(best_bid_el, Field{prefix, "best_bid"}, &item.best_bid, true);
          if (has_best_ask) item.has_best_ask = DecimalField(best_ask_el, Field{prefix, "best_ask"}, &item.best_ask, true);
          out_->changes.push_back(item);
        }
        ev.changes_count = static_cast<uint32_t>(out_->changes.size()) - ev.changes_begin;
        break;
      }
      case EventType::kTickSizeChange: {
        RequireAsset(ev, prefix);
        if (!has_new_tick) Fail(Field{prefix, "new_tick_size"}, "missing");
        if (!DecimalField(new_tick_el, Field{prefix, "new_tick_size"}, &ev.value, false) || ev.value <= 0) {
          Fail(Field{prefix, "new_tick_size"}, "must be positive");
        }
        ev.has_value = true;
        if (has_old_tick) ev.has_value2 = DecimalField(old_tick_el, Field{prefix, "old_tick_size"}, &ev.value2, true);
        break;
      }
      case EventType::kLastTradePrice: {
        RequireAsset(ev, prefix);
        if (has_price) ev.has_value = DecimalField(price_el, Field{prefix, "price"}, &ev.value, true);
        if (has_size) ev.has_value2 = DecimalField(size_el, Field{prefix, "size"}, &ev.value2, true);
        if (has_side) ev.side = SideField(side_el, Field{prefix, "side"});
        break;
      }
      case EventType::kBestBidAsk: {
        RequireAsset(ev, prefix);
        if (has_best_bid) ev.has_value = DecimalField(best_bid_el, Field{prefix, "best_bid"}, &ev.value, true);
        if (has_best_ask) ev.has_value2 = DecimalField(best_ask_el, Field{prefix, "best_ask"}, &ev.value2, true);
        break;
      }
      default:
        break;  // catalog and unknown events are counted, not interpreted
    }
    out_->events.push_back(ev);
  }

  // Format S: one snapshot or delta object.
  void SLine(object obj, std::string_view type) {
    FeedEvent ev{};
    ev.type_name = type;
    if (type == "snapshot") {
      ev.type = EventType::kSnapshot;
    } else if (type == "delta") {
      ev.type = EventType::kDelta;
    } else {
      Fail("type", "expected \"snapshot\" or \"delta\"");
    }
    element v;
    if (obj["market"].get(v) == simdjson::SUCCESS && !v.is_null()) ev.market = StringField(v, "market");
    if (obj["asset_id"].get(v) != simdjson::SUCCESS) Fail("asset_id", "missing");
    ev.asset_id = StringField(v, "asset_id");
    if (ev.asset_id.empty()) Fail("asset_id", "empty");
    if (obj["seq"].get(v) != simdjson::SUCCESS) Fail("seq", "missing");
    if (v.get_int64().get(ev.seq) != simdjson::SUCCESS) Fail("seq", "expected an integer");
    if (obj["ts_ms"].get(v) == simdjson::SUCCESS) ev.ts_ms = TimestampField(v, "ts_ms");
    if (ev.type == EventType::kSnapshot) {
      element bids, asks;
      if (obj["bids"].get(bids) != simdjson::SUCCESS) Fail("bids", "missing");
      if (obj["asks"].get(asks) != simdjson::SUCCESS) Fail("asks", "missing");
      ReadLevels(bids, "bids", &ev.bids_begin, &ev.bids_count);
      ReadLevels(asks, "asks", &ev.asks_begin, &ev.asks_count);
    } else {
      ChangeItem item{};
      item.asset_id = ev.asset_id;
      if (obj["side"].get(v) != simdjson::SUCCESS) Fail("side", "missing");
      item.side = SideField(v, "side");
      if (obj["price"].get(v) != simdjson::SUCCESS) Fail("price", "missing");
      DecimalField(v, "price", &item.price, false);
      if (obj["size"].get(v) != simdjson::SUCCESS) Fail("size", "missing");
      DecimalField(v, "size", &item.size, false);
      ev.changes_begin = static_cast<uint32_t>(out_->changes.size());
      ev.changes_count = 1;
      out_->changes.push_back(item);
    }
    out_->events.push_back(ev);
  }

 private:
  static void RequireAsset(const FeedEvent& ev, const std::string& prefix) {
    if (ev.asset_id.empty()) Fail(Field{prefix, "asset_id"}, "missing");
  }

  // Levels are {"price","size"} objects (format P) or ["price","size"] pairs (format S).
  void ReadLevels(element el, const Field& field, uint32_t* begin, uint32_t* count) {
    array arr;
    if (el.get_array().get(arr) != simdjson::SUCCESS) Fail(field, "expected an array of levels");
    *begin = static_cast<uint32_t>(out_->levels.size());
    size_t i = 0;
    for (element lv : arr) {
      Level level{};
      object o;
      array pair;
      if (lv.get_object().get(o) == simdjson::SUCCESS) {
        element p, s;
        if (o["price"].get(p) != simdjson::SUCCESS) Fail(Field{field.prefix, field.name, i, "price"}, "missing");
        if (o["size"].get(s) != simdjson::SUCCESS) Fail(Field{field.prefix, field.name, i, "size"}, "missing");
        DecimalField(p, Field{field.prefix, field.name, i, "price"}, &level.price, false);
        DecimalField(s, Field{field.prefix, field.name, i, "size"}, &level.size, false);
      } else if (lv.get_array().get(pair) == simdjson::SUCCESS && pair.size() == 2) {
        DecimalField(pair.at(0).value_unsafe(), Field{field.prefix, field.name, i, {}, "[0]"}, &level.price, false);
        DecimalField(pair.at(1).value_unsafe(), Field{field.prefix, field.name, i, {}, "[1]"}, &level.size, false);
      } else {
        Fail(Field{field.prefix, field.name, i}, "expected {\"price\",\"size\"} or [price, size]");
      }
      out_->levels.push_back(level);
      ++i;
    }
    *count = static_cast<uint32_t>(out_->levels.size()) - *begin;
  }

  void ReadChanges(element el, const Field& field, std::string_view asset_id, bool per_item_asset) {
    array arr;
    if (el.get_array().get(arr) != simdjson::SUCCESS) Fail(field, "expected an array");
    size_t i = 0;
    for (element c : arr) {
      object o;
      if (c.get_object().get(o) != simdjson::SUCCESS) Fail(Field{field.prefix, field.name, i}, "expected an object");
      ChangeItem item{};
      item.asset_id = asset_id;
      bool has_price = false, has_size = false, has_side = false;
      for (auto f : o) {
        std::string_view k = f.key;
        if (k == "price") {
          DecimalField(f.value, Field{field.prefix, field.name, i, k}, &item.price, false);
          has_price = true;
        } else if (k == "size") {
          DecimalField(f.value, Field{field.prefix, field.name, i, k}, &item.size, false);
          has_size = true;
        } else if (k == "side") {
          item.side = SideField(f.value, Field{field.prefix, field.name, i, k});
          has_side = true;
        } else if (k == "asset_id" && per_item_asset) {
          item.asset_id = StringField(f.value, Field{field.prefix, field.name, i, k});
        } else if (k == "best_bid") {
          item.has_best_bid = DecimalField(f.value, Field{field.prefix, field.name, i, k}, &item.best_bid, true);
        } else if (k == "best_ask") {
          item.has_best_ask = DecimalField(f.value, Field{field.prefix, field.name, i, k}, &item.best_ask, true);
        }
      }
      if (!has_price) Fail(Field{field.prefix, field.name, i, "price"}, "missing");
      if (!has_size) Fail(Field{field.prefix, field.name, i, "size"}, "missing");
      if (!has_side) Fail(Field{field.prefix, field.name, i, "side"}, "missing");
      if (item.asset_id.empty()) Fail(Field{field.prefix, field.name, i, "asset_id"}, "missing");
      out_->changes.push_back(item);
      ++i;
    }
  }

  ParsedLine* out_;
};

}  // namespace

struct FeedParser::Impl {
  simdjson::dom::parser parser;
  FastScanner scanner;
  bool fast_scan = true;
};

FeedParser::FeedParser() : impl_(std::make_unique<Impl>()) {}
FeedParser::~FeedParser() = default;

void FeedParser::set_fast_scan(bool enabled) { impl_->fast_scan = enabled; }

namespace {

// A frame: an object, an array of objects, or a text frame.
void ParseFrame(element frame, const std::string& path, LineBuilder& b, ParsedLine* out) {
  switch (frame.type()) {
    case element_type::OBJECT:
      b.PEvent(frame.get_object().value_unsafe(), path);
      return;
    case element_type::ARRAY: {
      size_t i = 0;
      // A named array: iterating value_unsafe() of a temporary would dangle.
      array items;
      if (frame.get_array().get(items) != simdjson::SUCCESS) Fail(path, "expected an array");
      for (element item : items) {
        object o;
        if (item.get_object().get(o) != simdjson::SUCCESS) Fail(Field{{}, path, i}, "expected an event object");
        b.PEvent(o, Field{{}, path, i}.str());
        ++i;
      }
      return;
    }
    case element_type::STRING:
      out->kind = ParsedLine::Kind::kTextFrame;
      out->text = frame.get_string().value_unsafe();
      return;
    default:
      Fail(path, "expected an object, an array of objects, or a text frame");
  }
}

}  // namespace

namespace {
constexpr size_t kPrefetchMaxBytes = 4096;  // of the next line (a book line is ~2 KB)
}  // namespace

bool FeedParser::Parse(const char* data, size_t len, FeedFormat format, ParsedLine* out, ParseError* error) {
  out->Clear();

  // Blank lines are ignored (recordings.md); bare PONG text is a text frame.
  size_t b = 0, e = len;
  while (b < e && (data[b] == ' ' || data[b] == '\t' || data[b] == '\r')) ++b;
  while (e > b && (data[e - 1] == ' ' || data[e - 1] == '\t' || data[e - 1] == '\r')) --e;
  if (b == e) {
    out->kind = ParsedLine::Kind::kEmpty;
    return true;
  }
  if (data[b] != '{' && data[b] != '[' && data[b] != '"') {
    std::string_view word(data + b, e - b);
    if (word == "PONG" || word == "NO NEW ASSETS") {
      out->kind = ParsedLine::Kind::kTextFrame;
      out->text = word;
      return true;
    }
  }

  if (impl_->fast_scan) {
    // The next line usually follows this one in the caller's buffer (LineReader's
    // block, a feed in memory) and is not in cache yet: scanning a line stalled
    // on loading its bytes (a quarter of the scanner's time at ~1 GB/s, as the
    // hardware prefetcher stops at every 4 KiB page). Ask for about as many
    // bytes as this line had, while this one is being scanned. Prefetches
    // never fault, so reading past the caller's buffer is harmless.
    const size_t ahead = len < kPrefetchMaxBytes ? len : kPrefetchMaxBytes;
    for (size_t off = 0; off < ahead; off += 64) __builtin_prefetch(data + len + 64 + off);
    if (impl_->scanner.Scan(data, len, format, out)) return true;
    out->Clear();  // not one of the scanner's shapes: start over on the DOM path
  }

  element doc;
  auto rc = impl_->parser.parse(data, len, false).get(doc);
  if (rc != simdjson::SUCCESS) {
    error->field.clear();
    error->reason = std::string("invalid JSON: ") + simdjson::error_message(rc);
    return false;
  }
  try {
    LineBuilder builder(out);
    object obj;
    if (doc.get_object().get(obj) == simdjson::SUCCESS) {
      element v;
      if (format != FeedFormat::kP && obj["type"].get(v) == simdjson::SUCCESS) {
        out->format = FeedFormat::kS;
        builder.SLine(obj, StringField(v, "type"));
        return true;
      }
      if (format == FeedFormat::kS) Fail("type", "missing (format S requires \"type\")");
      element frame;
      if (obj["frame"].get(frame) == simdjson::SUCCESS) {
        if (obj["recv_ts_ms"].get(v) == simdjson::SUCCESS) out->recv_ts_ms = TimestampField(v, "recv_ts_ms");
        ParseFrame(frame, "frame", builder, out);
        return true;
      }
      builder.PEvent(obj, "");
      return true;
    }
    if (format == FeedFormat::kS) Fail("", "format S lines are JSON objects");
    ParseFrame(doc, "", builder, out);
    return true;
  } catch (Reject& r) {
    error->field = std::move(r.field);
    error->reason = std::move(r.reason);
    return false;
  }
}

}  // namespace polyhost

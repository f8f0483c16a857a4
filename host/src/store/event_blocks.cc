#include "store/event_blocks.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstring>
#include <system_error>

namespace polyhost {
namespace {

inline char* PutInt(char* p, int64_t v) {
  // Single digits are most of a block's numbers (item, kind, side, offsets of
  // fields that did not change).
  if (static_cast<uint64_t>(v) < 10) {
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  return std::to_chars(p, p + 20, v).ptr;
}

// a - b, wrapping (an offset from a base; DecodeEventBlock adds it back).
inline int64_t Offset(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

bool Fail(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
  return false;
}

// Element i of an event array as an int64; absent or null -> *present = false.
bool IntAt(const boost::json::array& a, size_t i, int64_t* v, bool* present) {
  *present = false;
  if (i >= a.size() || a[i].is_null()) return true;
  if (const int64_t* p = a[i].if_int64()) {
    *v = *p;
  } else if (const uint64_t* u = a[i].if_uint64(); u != nullptr && *u <= static_cast<uint64_t>(INT64_MAX)) {
    *v = static_cast<int64_t>(*u);
  } else {
    return false;
  }
  *present = true;
  return true;
}

}  // namespace

BlockBase BlockBaseOf(int64_t id, const EventRow& e) {
  return BlockBase{id, e.line, e.ts_ms, e.recv_ts_ms, e.seq};
}

void BlockText::Grow(size_t need) {
  size_t cap = cap_ == 0 ? 4096 : cap_;
  while (cap < need) cap *= 2;
  std::unique_ptr<char[]> bigger(new char[cap]);
  if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  cap_ = cap;
}

void AppendEventToBlock(const BlockBase& base, int64_t id, const EventRow& e, BlockText* out) {
  // 10 integers of at most 20 characters, their commas and brackets.
  constexpr size_t kMaxChars = 10 * 21 + 4;
  const bool first = out->empty();
  char* p = out->Reserve(kMaxChars);
  *p++ = first ? '[' : ',';
  *p++ = '[';
  p = PutInt(p, Offset(id, base.id));
  *p++ = ',';
  p = PutInt(p, Offset(e.line, base.line));
  *p++ = ',';
  p = PutInt(p, e.item);
  *p++ = ',';
  p = PutInt(p, Offset(e.ts_ms, base.ts_ms));
  *p++ = ',';
  p = PutInt(p, Offset(e.recv_ts_ms, base.recv_ts_ms));
  *p++ = ',';
  p = PutInt(p, Offset(e.seq, base.seq));
  *p++ = ',';
  p = PutInt(p, static_cast<int64_t>(e.kind));
  switch (e.kind) {
    case EventKind::kLevel:
      *p++ = ',';
      *p++ = e.side == Side::kBid ? '0' : '1';
      *p++ = ',';
      p = PutInt(p, e.price);
      *p++ = ',';
      p = PutInt(p, e.size);
      *p++ = ']';
      out->Commit(p);
      return;
    case EventKind::kTick:
      std::memcpy(p, ",null,", 6);
      p += 6;
      p = PutInt(p, e.price);
      *p++ = ']';
      out->Commit(p);
      return;
    case EventKind::kBook:
      out->Commit(p);
      out->Append(",null,null,null,");
      out->Append(e.levels_json.empty() ? std::string_view("{}") : std::string_view(e.levels_json));
      out->Append("]");
      return;
  }
  *p++ = ']';
  out->Commit(p);
}

void EndEventBlock(BlockText* out) {
  out->Append(out->empty() ? "[]" : "]");
}

bool DecodeEventBlock(const BlockBase& base, std::string_view text, std::vector<BlockEvent>* out,
                      std::string* error) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(text, ec);
  if (ec) return Fail(error, "malformed JSON: " + ec.message());
  const boost::json::array* events = doc.if_array();
  if (events == nullptr) return Fail(error, "not a JSON array");
  static constexpr const char* kNames[] = {"id", "line", "item", "ts_ms", "recv_ts_ms", "seq", "kind"};
  for (size_t n = 0; n < events->size(); ++n) {
    const boost::json::array* a = (*events)[n].if_array();
    const std::string where = "event " + std::to_string(n);
    if (a == nullptr) return Fail(error, where + " is not an array");
    int64_t fixed[7];
    for (size_t i = 0; i < 7; ++i) {
      bool present = false;
      if (!IntAt(*a, i, &fixed[i], &present) || !present) {
        return Fail(error, where + ": " + kNames[i] + " must be an integer");
      }
    }
    BlockEvent e{};
    // Offsets of a block someone else wrote may not add up: wrap, do not trap.
    auto add = [](int64_t a, int64_t b) {
      return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    };
    e.id = add(base.id, fixed[0]);
    e.line = add(base.line, fixed[1]);
    if (fixed[2] < 0 || fixed[2] > static_cast<int64_t>(UINT32_MAX)) return Fail(error, where + ": item out of range");
    e.item = static_cast<uint32_t>(fixed[2]);
    e.ts_ms = add(base.ts_ms, fixed[3]);
    e.recv_ts_ms = add(base.recv_ts_ms, fixed[4]);
    e.seq = add(base.seq, fixed[5]);
    bool has_side = false, has_price = false, has_size = false;
    int64_t side = 0;
    if (!IntAt(*a, 7, &side, &has_side)) return Fail(error, where + ": side must be an integer");
    if (!IntAt(*a, 8, &e.price, &has_price)) return Fail(error, where + ": price must be an integer");
    if (!IntAt(*a, 9, &e.size, &has_size)) return Fail(error, where + ": size must be an integer");
    switch (fixed[6]) {
      case static_cast<int64_t>(EventKind::kLevel):
        if (!has_side || !has_price || !has_size || (side != 0 && side != 1)) {
          return Fail(error, where + " (level) needs side 0 or 1, price and size");
        }
        e.kind = EventKind::kLevel;
        e.side = side == 0 ? Side::kBid : Side::kAsk;
        break;
      case static_cast<int64_t>(EventKind::kTick):
        if (!has_price) return Fail(error, where + " (tick) needs price");
        e.kind = EventKind::kTick;
        break;
      case static_cast<int64_t>(EventKind::kBook):
        if (a->size() < 11 || !(*a)[10].is_object()) return Fail(error, where + " (book) needs a levels object");
        e.kind = EventKind::kBook;
        e.levels_json = boost::json::serialize((*a)[10]);
        break;
      default:
        return Fail(error, where + ": unknown kind " + std::to_string(fixed[6]));
    }
    out->push_back(std::move(e));
  }
  return true;
}

}  // namespace polyhost

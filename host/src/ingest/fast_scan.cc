#include "ingest/fast_scan.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/decimal.h"
#include "ingest/feed_fields.h"

namespace polyhost {
namespace {

// Word loads below read strings as little-endian integers.
static_assert(std::endian::native == std::endian::little);

// Position of the closing quote of a string whose content starts at p, or
// nullptr when the content holds a byte this scanner does not take: a backslash
// (escapes would need unescaping), a control character or any non-ASCII byte
// (the DOM path validates UTF-8 and rejects raw control characters). Strings
// made of the remaining bytes are valid JSON and mean their raw bytes. Reads up
// to 15 bytes past `end`, inside the line's padding.
const char* FindStringEnd(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; p < end; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // A signed compare: bytes >= 0x80 are negative, so one compare catches both
    // control characters and non-ASCII bytes.
    const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                         _mm_cmplt_epi8(v, space));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (mask != 0) {
      const char* q = p + std::countr_zero(mask);
      return *q == '"' && q < end ? q : nullptr;
    }
  }
  return nullptr;
#else
  // Eight bytes at a time. Each term flags its first matching byte exactly
  // (borrows only run upwards), so the lowest flag is the first special byte.
  constexpr uint64_t kOnes = 0x0101010101010101, kHigh = 0x8080808080808080;
  for (; p < end; p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
    const uint64_t special = (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w) | w) & kHigh;
    if (special != 0) {
      const char* s = p + std::countr_zero(special) / 8;
      return *s == '"' && s < end ? s : nullptr;
    }
  }
  return nullptr;
#endif
}

// The keys the host reads; everything else is kOther.
enum class Key : uint8_t {
  kEventType,
  kMarket,
  kAssetId,
  kTimestamp,
  kBids,
  kAsks,
  kChanges,
  kPriceChanges,
  kPrice,
  kSize,
  kSide,
  kBestBid,
  kBestAsk,
  kNewTickSize,
  kOldTickSize,
  kHash,   // ignored, but named: it is in every price_change item, so worth predicting
  kOther,  // any other key: a string value, skipped
  // Not keys: where an event object or a price_change item starts, for KeyPredictor.
  kEventStart,
  kItemStart,
};

constexpr uint32_t Bit(Key k) { return uint32_t{1} << static_cast<int>(k); }

// A key name as little-endian words, compared with plain loads: the line has
// kPadding readable bytes after it, so reading eight bytes from a key's start or
// end is always safe.
uint64_t Load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Index of the first byte of w equal to c, or 8 when there is none. The
// borrow trick flags the first matching byte exactly (borrows only run upwards).
unsigned FirstByte(uint64_t w, char c) {
  constexpr uint64_t kOnes = 0x0101010101010101, kHigh = 0x8080808080808080;
  const uint64_t t = w ^ (kOnes * static_cast<uint8_t>(c));
  const uint64_t zero = (t - kOnes) & ~t & kHigh;
  return zero == 0 ? 8 : static_cast<unsigned>(std::countr_zero(zero)) / 8;
}

// A decimal string's value when its content (from p) is 1-7 bytes before the
// closing quote: digits with at most one '.' and at most six digits after it,
// the form of nearly every price and size. Read with word operations: the
// digit loops mispredicted their exit whenever the length changed (2 of 3
// values). Returns false for anything else (the caller's general path then
// decides, ParseDecimal's errors included); on true *end is the closing quote.
[[gnu::always_inline]] inline bool ShortDecimal(const char* p, int64_t* out, const char** end) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  const uint64_t raw = Load8(p);
  const unsigned quote = FirstByte(raw, '"');
  if (quote == 0 || quote == 8) return false;
  const unsigned dot = FirstByte(raw, '.');
  uint64_t digits = raw;
  unsigned n = quote, frac = 0;
  if (dot < quote) {  // close the gap of the dot
    const uint64_t below_dot = (uint64_t{1} << (8 * dot)) - 1;
    digits = (raw & below_dot) | ((raw >> 8) & ~below_dot);
    n = quote - 1;
    frac = quote - 1 - dot;
  }
  if (n == 0 || frac > 6) return false;
  const uint64_t keep = (uint64_t{1} << (8 * n)) - 1;  // n <= 7
  const uint64_t d = digits & keep;
  // Every kept byte is a digit: high nibble 3, and still 3 after adding 6.
  const uint64_t threes = (kOnes * 0x30) & keep;
  if ((d & (kOnes * 0xF0)) != threes || ((d + kOnes * 0x06) & (kOnes * 0xF0) & keep) != threes) return false;
  // Right-align the n digits in eight, '0'-padded, and convert all eight at
  // once (the SWAR conversion of simdjson's parse_eight_digits_unrolled).
  uint64_t v = ((d << (8 * (8 - n))) | ((kOnes * '0') >> (8 * n))) - kOnes * '0';
  v = v * 10 + (v >> 8);
  v = (((v & 0x000000FF000000FF) * (100 + (1000000ULL << 32))) +
       (((v >> 16) & 0x000000FF000000FF) * (1 + (10000ULL << 32)))) >>
      32;
  static constexpr int64_t kScale[7] = {1'000'000, 100'000, 10'000, 1'000, 100, 10, 1};
  *out = static_cast<int64_t>(static_cast<uint32_t>(v)) * kScale[frac];
  *end = p + quote;
  return true;
}

class KeyText {
 public:
  consteval KeyText(const char* name) : size_(std::char_traits<char>::length(name)) {  // NOLINT: literals convert
    head_ = Word(name, 0, size_ < 8 ? size_ : 8);
    tail_ = size_ > 8 ? Word(name, size_ - 8, 8) : 0;
  }
  size_t size() const { return size_; }
  // Whether the size() bytes at p are the name (at most 16).
  bool Matches(const char* p) const {
    if (size_ < 8) return (Load8(p) & ((uint64_t{1} << (8 * size_)) - 1)) == head_;
    return Load8(p) == head_ && (size_ == 8 || Load8(p + size_ - 8) == tail_);
  }

 private:
  static consteval uint64_t Word(const char* s, size_t at, size_t n) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; ++i) w |= uint64_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
    return w;
  }
  size_t size_;
  uint64_t head_ = 0, tail_ = 0;
};

Key KeyFromName(std::string_view k) {
  const char* p = k.data();
  switch (k.size()) {
    case 4:
      if (KeyText("side").Matches(p)) return Key::kSide;
      if (KeyText("size").Matches(p)) return Key::kSize;
      if (KeyText("bids").Matches(p)) return Key::kBids;
      if (KeyText("asks").Matches(p)) return Key::kAsks;
      if (KeyText("hash").Matches(p)) return Key::kHash;
      break;
    case 5:
      if (KeyText("price").Matches(p)) return Key::kPrice;
      break;
    case 6:
      if (KeyText("market").Matches(p)) return Key::kMarket;
      break;
    case 7:
      if (KeyText("changes").Matches(p)) return Key::kChanges;
      break;
    case 8:
      if (KeyText("asset_id").Matches(p)) return Key::kAssetId;
      if (KeyText("best_bid").Matches(p)) return Key::kBestBid;
      if (KeyText("best_ask").Matches(p)) return Key::kBestAsk;
      break;
    case 9:
      if (KeyText("timestamp").Matches(p)) return Key::kTimestamp;
      break;
    case 10:
      if (KeyText("event_type").Matches(p)) return Key::kEventType;
      break;
    case 13:
      if (KeyText("price_changes").Matches(p)) return Key::kPriceChanges;
      if (KeyText("new_tick_size").Matches(p)) return Key::kNewTickSize;
      if (KeyText("old_tick_size").Matches(p)) return Key::kOldTickSize;
      break;
    default:
      break;
  }
  return Key::kOther;
}

// `"name":` for every named key, in Key order.
constexpr KeyText kQuotedKeys[] = {
    "\"event_type\":", "\"market\":",        "\"asset_id\":",      "\"timestamp\":",     "\"bids\":",
    "\"asks\":",       "\"changes\":",       "\"price_changes\":", "\"price\":",         "\"size\":",
    "\"side\":",       "\"best_bid\":",      "\"best_ask\":",      "\"new_tick_size\":", "\"old_tick_size\":",
    "\"hash\":",
};
static_assert(std::size(kQuotedKeys) == static_cast<size_t>(Key::kOther));
static_assert(static_cast<size_t>(Key::kItemStart) < std::tuple_size_v<FastScanner::KeyOrder>);

// ParseDecimal's verdict on a decimal that may be "" (absent), as
// DecimalField(..., allow_empty=true) takes it: sets *has to whether it holds a
// value; false when the DOM path would reject it.
bool AllowEmpty(DecimalError err, bool* has) {
  *has = err == DecimalError::kOk;
  return err == DecimalError::kOk || err == DecimalError::kEmpty;
}

bool OptionalDecimal(std::string_view s, int64_t* value, bool* has) { return AllowEmpty(ParseDecimal(s, value), has); }

// One pass over one line. Every method returns false as soon as the line is not
// one of the shapes handled here; nothing is ever reported as an error.
//
// The byte at `end` is a sentinel, a control byte (the line's own newline, or
// the NUL of Scan()'s copy), and no token starts with or contains one, so
// every match fails there: the scanner needs no bounds checks and never moves
// past the end of the line.
class LineScanner {
 public:
  LineScanner(const char* begin, const char* end, ParsedLine* out, FastScanner::KeyOrder* key_after,
              FastScanner::EventScalars* scalars)
      : p_(begin), end_(end), out_(out), key_after_(key_after), scalars_(scalars) {}

  bool Line() {
    if (p_ == end_) return false;
    bool ok;
    switch (*p_) {
      case '[': ok = EventArray(); break;
      case '{': ok = TopObject(); break;
      case '"': ok = TextFrame(); break;
      default: return false;
    }
    // Trailing bytes (whitespace included) go to the DOM path.
    return ok && p_ == end_;
  }

 private:
  bool Consume(char c) {
    if (*p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }

  template <size_t N>
  bool Literal(const char (&text)[N]) {
    if (std::memcmp(p_, text, N - 1) != 0) return false;  // fails at the sentinel: no literal holds a control byte
    p_ += N - 1;
    return true;
  }

  bool String(std::string_view* s) {
    if (!Consume('"')) return false;
    const char* q = FindStringEnd(p_, end_);
    if (q == nullptr) return false;
    *s = std::string_view(p_, static_cast<size_t>(q - p_));
    p_ = q + 1;
    return true;
  }

  // `"name":`. Objects of one kind repeat their key order line after line, so the
  // key that followed `prev` last time is tried first with two word compares;
  // only a miss finds the end of the key and looks it up. *name is set for kOther.
  bool ReadKey(Key prev, Key* key, std::string_view* name) {
    uint8_t& next = (*key_after_)[static_cast<size_t>(prev)];
    if (next < std::size(kQuotedKeys) && kQuotedKeys[next].Matches(p_)) {
      *key = static_cast<Key>(next);
      p_ += kQuotedKeys[next].size();
      return true;
    }
    if (!String(name) || !Consume(':')) return false;
    *key = KeyFromName(*name);
    next = static_cast<uint8_t>(*key);
    return true;
  }

  // A string value holding a decimal: false when the value is not a plain
  // string, otherwise *err is ParseDecimal's verdict on it (and *out its value on
  // kOk). Values of up to 7 bytes take ShortDecimal, inline (ten a line).
  [[gnu::always_inline]] bool DecimalString(int64_t* out, DecimalError* err) {
    if (*p_ != '"') return false;
    if (const char* quote; ShortDecimal(p_ + 1, out, &quote)) [[likely]] {
      *err = DecimalError::kOk;
      p_ = quote + 1;
      return true;
    }
    return LongDecimalString(out, err);
  }

  // DecimalString's other values. The common form, 1-12 digits with at most
  // six fractional ones, is read in the same pass that finds the closing quote;
  // ParseDecimal takes the rest.
  [[gnu::noinline]] bool LongDecimalString(int64_t* out, DecimalError* err) {
    const char* const digits = p_ + 1;
    const char* d = digits;
    uint64_t whole = 0;
    while (static_cast<unsigned>(*d - '0') < 10) whole = whole * 10 + static_cast<unsigned>(*d++ - '0');
    if (d > digits && d - digits <= 12) {
      uint64_t frac = 0;
      ptrdiff_t frac_digits = 0;
      if (*d == '.') {
        const char* f = ++d;
        while (static_cast<unsigned>(*d - '0') < 10 && d - f < 7) {
          frac = frac * 10 + static_cast<unsigned>(*d++ - '0');
        }
        frac_digits = d - f;
      }
      if (frac_digits <= 6 && *d == '"') {
        static constexpr uint64_t kScale[7] = {1'000'000, 100'000, 10'000, 1'000, 100, 10, 1};
        *out = static_cast<int64_t>(whole * kMicrosPerUnit + frac * kScale[frac_digits]);
        *err = DecimalError::kOk;
        p_ = d + 1;
        return true;
      }
    }
    std::string_view s;
    if (!String(&s)) return false;
    *err = ParseDecimal(s, out);
    return true;
  }

  bool Decimal(int64_t* out) {
    DecimalError err;
    return DecimalString(out, &err) && err == DecimalError::kOk;
  }

  // A decimal that may be "", as DecimalField(..., allow_empty=true).
  bool OptionalDecimalValue(int64_t* out, bool* has) {
    DecimalError err;
    return DecimalString(out, &err) && AllowEmpty(err, has);
  }

  // A JSON integer as simdjson's get_int64 reads it, restricted to 1-18 digits
  // without sign (what a millisecond timestamp looks like) so that it can
  // neither overflow nor be a float.
  bool Integer(int64_t* out) {
    const char* start = p_;
    uint64_t v = 0;  // unsigned: a longer run may wrap (defined), and is refused below
    while (*p_ >= '0' && *p_ <= '9') v = v * 10 + static_cast<uint64_t>(*p_++ - '0');
    const ptrdiff_t digits = p_ - start;
    if (digits == 0 || digits > 18 || (*start == '0' && digits > 1)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }

  // TimestampField: an integer, or a string holding one ("" is 0).
  bool Timestamp(int64_t* out) {
    if (*p_ != '"') return Integer(out);
    std::string_view s;
    if (!String(&s)) return false;
    if (s.empty()) {
      *out = 0;
      return true;
    }
    // Plain digits, the venue's form, without from_chars' generality.
    uint64_t digits_value = 0;  // unsigned: a longer run may wrap (defined), and goes to from_chars
    size_t i = 0;
    while (i < s.size() && static_cast<unsigned>(s[i] - '0') < 10) {
      digits_value = digits_value * 10 + static_cast<uint64_t>(s[i++] - '0');
    }
    if (i == s.size() && i <= 18) {
      *out = static_cast<int64_t>(digits_value);
      return true;
    }
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return false;
    *out = v;
    return true;
  }

  // A field the host ignores: only plain strings are skipped (anything else could
  // hide invalid JSON that the DOM path would reject).
  bool SkipString() {
    std::string_view unused;
    return String(&unused);
  }

  // [{"price":"0.5","size":"10"},...]: the level shape every format P capture uses.
  bool Levels(uint32_t* count) {
    if (!Consume('[')) return false;
    const size_t begin = out_->levels.size();
    if (!Consume(']')) {
      do {
        Level level;
        if (!Literal("{\"price\":") || !Decimal(&level.price) || !Literal(",\"size\":") || !Decimal(&level.size) ||
            !Consume('}')) {
          return false;
        }
        out_->levels.push_back(level);
      } while (Consume(','));
      if (!Consume(']')) return false;
    }
    *count = static_cast<uint32_t>(out_->levels.size() - begin);
    return true;
  }

  // The items of price_changes (per_item_asset) or changes, as ReadChanges.
  // A price_changes item in the venue's key order (asset_id, price, side, size,
  // hash, best_bid, best_ask; or size before side, as older captures and the
  // generator write it), read with constant literals and no key lookups: the
  // general loop below spent two thirds of its time finding keys. p_ is at the
  // item's '{'. False leaves p_ where it was, for the general loop to decide
  // (any other order, missing or extra keys, anything it would refuse).
  bool VenueOrderItem(ChangeItem* item, bool per_item_asset) {
    const char* const start = p_;
    std::string_view asset, side;
    bool ok = Literal("{\"asset_id\":") && String(&asset) && Literal(",\"price\":") && Decimal(&item->price);
    if (ok && Literal(",\"side\":")) {
      ok = String(&side) && Literal(",\"size\":") && Decimal(&item->size);
    } else {
      ok = ok && Literal(",\"size\":") && Decimal(&item->size) && Literal(",\"side\":") && String(&side);
    }
    ok = ok && feed_fields::SideFromName(side, &item->side) && Literal(",\"hash\":") && SkipString() &&
         Literal(",\"best_bid\":") && OptionalDecimalValue(&item->best_bid, &item->has_best_bid) &&
         Literal(",\"best_ask\":") && OptionalDecimalValue(&item->best_ask, &item->has_best_ask) && Consume('}') &&
         !(per_item_asset && asset.empty());
    if (!ok) {
      p_ = start;
      *item = ChangeItem{};
      return false;
    }
    if (per_item_asset) item->asset_id = asset;
    return true;
  }

  bool Changes(bool per_item_asset) {
    if (!Consume('[')) return false;
    if (Consume(']')) return true;
    do {
      ChangeItem item{};
      if (VenueOrderItem(&item, per_item_asset)) {
        out_->changes.push_back(item);
        continue;
      }
      if (!Consume('{')) return false;
      uint32_t seen = 0;
      Key key = Key::kItemStart;
      do {
        std::string_view name, value;
        if (!ReadKey(key, &key, &name)) return false;
        if (key != Key::kOther) {
          if (seen & Bit(key)) return false;  // duplicates: the DOM path decides
          seen |= Bit(key);
        }
        switch (key) {
          case Key::kPrice:
            if (!Decimal(&item.price)) return false;
            break;
          case Key::kSize:
            if (!Decimal(&item.size)) return false;
            break;
          case Key::kSide:
            if (!String(&value) || !feed_fields::SideFromName(value, &item.side)) return false;
            break;
          case Key::kAssetId:
            if (!String(&value)) return false;
            if (per_item_asset) item.asset_id = value;
            break;
          case Key::kBestBid:
          case Key::kBestAsk: {
            const bool bid = key == Key::kBestBid;
            if (!OptionalDecimalValue(bid ? &item.best_bid : &item.best_ask,
                                      bid ? &item.has_best_bid : &item.has_best_ask)) {
              return false;
            }
            break;
          }
          default:
            if (!SkipString()) return false;
            break;
        }
      } while (Consume(','));
      if (!Consume('}')) return false;
      constexpr uint32_t kRequired = Bit(Key::kPrice) | Bit(Key::kSize) | Bit(Key::kSide);
      if ((seen & kRequired) != kRequired) return false;
      if (per_item_asset && item.asset_id.empty()) return false;
      out_->changes.push_back(item);
    } while (Consume(','));
    return Consume(']');
  }

  // One format P event object, as LineBuilder::PEvent. At the top level of a
  // line, "type" (format S) and "frame" (an envelope) change what the object is:
  // those go to the DOM path.
  // A price_change event exactly as the venue sends it today,
  // {"event_type":"price_change","market":...,"price_changes":[...],"timestamp":...},
  // read with constant literals (nine lines in ten of a market-channel capture).
  // False leaves p_, the events and the changes as they were, for the general
  // path to decide.
  bool VenuePriceChange() {
    const char* const start = p_;
    const size_t changes_start = out_->changes.size();
    std::string_view market;
    int64_t ts_ms = 0;
    if (Literal("{\"event_type\":\"price_change\",\"market\":") && String(&market) &&
        Literal(",\"price_changes\":") && Changes(true) && Literal(",\"timestamp\":") && Timestamp(&ts_ms) &&
        Consume('}')) {
      FeedEvent& ev = out_->events.emplace_back();
      ev.type = EventType::kPriceChange;
      ev.type_name = std::string_view(start + 15, 12);  // the "price_change" value read above
      ev.market = market;
      ev.ts_ms = ts_ms;
      ev.changes_begin = static_cast<uint32_t>(changes_start);
      ev.changes_count = static_cast<uint32_t>(out_->changes.size() - changes_start);
      return true;
    }
    p_ = start;
    out_->changes.resize(changes_start);
    return false;
  }

  bool Event(bool top_level) {
    if (VenuePriceChange()) return true;
    if (!Consume('{')) return false;
    // Built in place (nothing else adds events while it is read); a declined
    // line is cleared by the caller.
    FeedEvent& ev = out_->events.emplace_back();
    const size_t levels_start = out_->levels.size();
    const size_t changes_start = out_->changes.size();
    uint32_t seen = 0;
    uint32_t bids_count = 0, asks_count = 0;
    bool asks_first = false;
    // Scalar fields whose meaning depends on the event type: read after the
    // loop, each only when `seen` has it.
    auto& [price, size, side, best_bid, best_ask, new_tick, old_tick] = *scalars_;
    if (!Consume('}')) {
      Key key = Key::kEventStart;
      do {
        std::string_view name;
        if (!ReadKey(key, &key, &name)) return false;
        if (key != Key::kOther) {
          if (seen & Bit(key)) return false;
          seen |= Bit(key);
        }
        bool ok;
        switch (key) {
          case Key::kEventType:
            ok = String(&ev.type_name);
            ev.type = feed_fields::EventTypeFromName(ev.type_name);
            break;
          case Key::kMarket: ok = String(&ev.market); break;
          case Key::kAssetId: ok = String(&ev.asset_id); break;
          case Key::kTimestamp: ok = Timestamp(&ev.ts_ms); break;
          case Key::kBids: ok = Levels(&bids_count); break;
          case Key::kAsks:
            asks_first = !(seen & Bit(Key::kBids));
            ok = Levels(&asks_count);
            break;
          // Both shapes at once: the DOM path reads one and ignores the other.
          case Key::kPriceChanges: ok = !(seen & Bit(Key::kChanges)) && Changes(true); break;
          case Key::kChanges: ok = !(seen & Bit(Key::kPriceChanges)) && Changes(false); break;
          case Key::kPrice: ok = String(&price); break;
          case Key::kSize: ok = String(&size); break;
          case Key::kSide: ok = String(&side); break;
          case Key::kBestBid: ok = String(&best_bid); break;
          case Key::kBestAsk: ok = String(&best_ask); break;
          case Key::kNewTickSize: ok = String(&new_tick); break;
          case Key::kOldTickSize: ok = String(&old_tick); break;
          case Key::kHash: ok = SkipString(); break;
          case Key::kOther: ok = !(top_level && (name == "type" || name == "frame")) && SkipString(); break;
          default: ok = false; break;
        }
        if (!ok) return false;
      } while (Consume(','));
      if (!Consume('}')) return false;
    }
    auto has = [seen](Key k) { return (seen & Bit(k)) != 0; };
    if (!has(Key::kEventType)) {
      ev.type = feed_fields::InferEventType({.bids = has(Key::kBids),
                                             .asks = has(Key::kAsks),
                                             .changes = has(Key::kChanges),
                                             .price_changes = has(Key::kPriceChanges),
                                             .price = has(Key::kPrice),
                                             .size = has(Key::kSize),
                                             .side = has(Key::kSide),
                                             .best_bid = has(Key::kBestBid),
                                             .best_ask = has(Key::kBestAsk),
                                             .new_tick = has(Key::kNewTickSize),
                                             .asset_id = !ev.asset_id.empty()});
    }
    // Arrays were read eagerly; the ones this event type does not use are dropped
    // again, as the DOM path never reads them.
    if (ev.type != EventType::kBook) out_->levels.resize(levels_start);
    if (ev.type != EventType::kPriceChange) out_->changes.resize(changes_start);
    // RequireAsset: every interpreted type but the current price_change shape
    // (whose items carry their own asset) names its asset.
    const bool interpreted = ev.type != EventType::kUnknown && ev.type != EventType::kNewMarket &&
                             ev.type != EventType::kMarketResolved;
    const bool per_item_assets = ev.type == EventType::kPriceChange && has(Key::kPriceChanges);
    if (interpreted && !per_item_assets && ev.asset_id.empty()) return false;
    switch (ev.type) {
      case EventType::kBook: {
        if (!has(Key::kBids) || !has(Key::kAsks)) return false;
        // The DOM path stores bids before asks whatever the key order.
        auto first = out_->levels.begin() + static_cast<ptrdiff_t>(levels_start);
        if (asks_first) std::rotate(first, first + asks_count, out_->levels.end());
        ev.bids_begin = static_cast<uint32_t>(levels_start);
        ev.bids_count = bids_count;
        ev.asks_begin = static_cast<uint32_t>(levels_start + bids_count);
        ev.asks_count = asks_count;
        break;
      }
      case EventType::kPriceChange: {
        ev.changes_begin = static_cast<uint32_t>(changes_start);
        if (has(Key::kChanges) && !has(Key::kPriceChanges)) {
          // The 2024-2025 shape: the items belong to the event's asset, wherever
          // asset_id stood in the object.
          for (size_t i = changes_start; i < out_->changes.size(); ++i) out_->changes[i].asset_id = ev.asset_id;
        } else if (!has(Key::kPriceChanges)) {
          // The oldest flat shape.
          if (!has(Key::kPrice) || !has(Key::kSize) || !has(Key::kSide)) return false;
          ChangeItem item{};
          item.asset_id = ev.asset_id;
          if (!feed_fields::SideFromName(side, &item.side)) return false;
          if (ParseDecimal(price, &item.price) != DecimalError::kOk) return false;
          if (ParseDecimal(size, &item.size) != DecimalError::kOk) return false;
          if (has(Key::kBestBid) && !OptionalDecimal(best_bid, &item.best_bid, &item.has_best_bid)) return false;
          if (has(Key::kBestAsk) && !OptionalDecimal(best_ask, &item.best_ask, &item.has_best_ask)) return false;
          out_->changes.push_back(item);
        }
        ev.changes_count = static_cast<uint32_t>(out_->changes.size() - changes_start);
        break;
      }
      case EventType::kTickSizeChange:
        if (!has(Key::kNewTickSize)) return false;
        if (ParseDecimal(new_tick, &ev.value) != DecimalError::kOk || ev.value <= 0) return false;
        ev.has_value = true;
        if (has(Key::kOldTickSize) && !OptionalDecimal(old_tick, &ev.value2, &ev.has_value2)) return false;
        break;
      case EventType::kLastTradePrice:
        if (has(Key::kPrice) && !OptionalDecimal(price, &ev.value, &ev.has_value)) return false;
        if (has(Key::kSize) && !OptionalDecimal(size, &ev.value2, &ev.has_value2)) return false;
        if (has(Key::kSide) && !feed_fields::SideFromName(side, &ev.side)) return false;
        break;
      case EventType::kBestBidAsk:
        if (has(Key::kBestBid) && !OptionalDecimal(best_bid, &ev.value, &ev.has_value)) return false;
        if (has(Key::kBestAsk) && !OptionalDecimal(best_ask, &ev.value2, &ev.has_value2)) return false;
        break;
      default:
        break;  // catalog and unknown events are counted, not interpreted
    }
    return true;
  }

  bool EventArray() {
    if (!Consume('[')) return false;
    if (Consume(']')) return true;
    do {
      if (!Event(false)) return false;
    } while (Consume(','));
    return Consume(']');
  }

  bool TextFrame() {
    std::string_view text;
    if (!String(&text)) return false;
    out_->kind = ParsedLine::Kind::kTextFrame;
    out_->text = text;
    return true;
  }

  // An object at the top of the line: an envelope when it starts with one of the
  // envelope's keys (the order every capture writes), otherwise an event.
  bool TopObject() {
    if (Literal("{\"recv_ts_ms\":")) {
      if (!Timestamp(&out_->recv_ts_ms) || !Literal(",\"frame\":")) return false;
    } else if (!Literal("{\"frame\":")) {
      return Event(true);
    }
    // A frame: an event object, an array of them, or a text frame.
    if (p_ == end_) return false;
    bool ok;
    switch (*p_) {
      case '{': ok = Event(false); break;
      case '[': ok = EventArray(); break;
      case '"': ok = TextFrame(); break;
      default: return false;
    }
    return ok && Consume('}');
  }

  const char* p_;
  const char* const end_;
  ParsedLine* const out_;
  FastScanner::KeyOrder* const key_after_;
  FastScanner::EventScalars* const scalars_;
};

}  // namespace

bool FastScanner::Scan(const char* data, size_t len, FeedFormat format, ParsedLine* out) {
  if (format == FeedFormat::kS) return false;
  // A control byte right after the line (the '\n' that ended it in a file or
  // LineReader's buffer, or a NUL) already is a sentinel: no string, number,
  // key or literal the scanner takes contains one. Then the line is scanned in
  // place, saving a copy of every line (~5% of parse + book).
  if (static_cast<unsigned char>(data[len]) < 0x20) {
    LineScanner scanner(data, data + len, out, &key_after_, &scalars_);
    return scanner.Line();
  }
  // Otherwise a copy ending in a NUL, with kPadding bytes after the sentinel:
  // FindStringEnd and key compares read ahead.
  if (copy_.size() < len + FeedParser::kPadding) copy_.resize(len + FeedParser::kPadding);
  std::memcpy(copy_.data(), data, len);
  copy_[len] = '\0';
  LineScanner scanner(copy_.data(), copy_.data() + len, out, &key_after_, &scalars_);
  return scanner.Line();
}

}  // namespace polyhost

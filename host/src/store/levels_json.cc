#include "store/levels_json.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstring>
#include <vector>

#include "core/decimal.h"

namespace polyhost {
namespace {

// Writes `"<decimal>"` at p and returns the new end.
inline char* PutQuotedDecimal(char* p, int64_t micros) {
  *p++ = '"';
  p += FormatDecimalTo(micros, p);
  *p++ = '"';
  return p;
}

// Each level is at most ["<24>","<24>"], plus a comma: 2 + 2*26 + 1 + 1 chars.
constexpr size_t kMaxLevelChars = 2 * (kMaxDecimalChars + 2) + 4;

// Writes one side at p (room for levels.size() * kMaxLevelChars + 2 chars) and
// returns the new end.
char* PutSide(std::span<const Level> levels, char* p) {
  *p++ = '[';
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i != 0) *p++ = ',';
    *p++ = '[';
    p = PutQuotedDecimal(p, levels[i].price);
    *p++ = ',';
    p = PutQuotedDecimal(p, levels[i].size);
    *p++ = ']';
  }
  *p++ = ']';
  return p;
}

bool Fail(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
  return false;
}

bool DecodeSide(const boost::json::value* v, const char* name, std::vector<Level>* out,
                std::string* error) {
  out->clear();
  if (v == nullptr) return true;  // absent side = empty
  const boost::json::array* arr = v->if_array();
  if (arr == nullptr) return Fail(error, std::string("\"") + name + "\" is not an array");
  out->reserve(arr->size());
  for (const boost::json::value& item : *arr) {
    const boost::json::array* pair = item.if_array();
    if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
      return Fail(error, std::string("\"") + name + "\" entries must be [\"price\",\"size\"]");
    }
    Level level{};
    const boost::json::string& price = (*pair)[0].get_string();
    const boost::json::string& size = (*pair)[1].get_string();
    DecimalError e = ParseDecimal(std::string_view(price.data(), price.size()), &level.price);
    if (e != DecimalError::kOk) {
      return Fail(error, std::string("bad price in \"") + name + "\": " + DecimalErrorText(e));
    }
    e = ParseDecimal(std::string_view(size.data(), size.size()), &level.size);
    if (e != DecimalError::kOk) {
      return Fail(error, std::string("bad size in \"") + name + "\": " + DecimalErrorText(e));
    }
    out->push_back(level);
  }
  return true;
}

}  // namespace

// Periodic snapshots encode every book of a replay (100+ MB of text on the
// benchmark feed), so the text is written once into a per-thread scratch buffer
// sized for the worst case and appended in one copy: growing *out in place
// zero-filled and reallocated it for each side.
void AppendLevelsJson(std::span<const Level> bids, std::span<const Level> asks, int64_t tick_size,
                      std::string* out) {
  thread_local std::vector<char> scratch;
  const size_t most = 64 + (bids.size() + asks.size()) * kMaxLevelChars;
  if (scratch.size() < most) scratch.resize(most);
  char* const begin = scratch.data();
  char* p = begin;
  std::memcpy(p, "{\"bids\":", 8);
  p = PutSide(bids, p + 8);
  std::memcpy(p, ",\"asks\":", 8);
  p = PutSide(asks, p + 8);
  if (tick_size != 0) {
    std::memcpy(p, ",\"tick\":", 8);
    p = PutQuotedDecimal(p + 8, tick_size);
  }
  *p++ = '}';
  out->append(begin, static_cast<size_t>(p - begin));
}

std::string EncodeLevelsJson(std::span<const Level> bids, std::span<const Level> asks,
                             int64_t tick_size) {
  std::string out;
  AppendLevelsJson(bids, asks, tick_size, &out);
  return out;
}

std::string EncodeLevelsJson(const OrderBook& book) {
  return EncodeLevelsJson(book.bids(), book.asks(), book.tick_size());
}

bool DecodeLevelsJson(std::string_view json, std::vector<Level>* bids, std::vector<Level>* asks,
                      int64_t* tick_size, std::string* error) {
  boost::system::error_code ec;
  boost::json::value root = boost::json::parse(boost::json::string_view(json.data(), json.size()), ec);
  if (ec) return Fail(error, "levels_json is not valid JSON: " + ec.message());
  const boost::json::object* obj = root.if_object();
  if (obj == nullptr) return Fail(error, "levels_json is not an object");
  if (!DecodeSide(obj->if_contains("bids"), "bids", bids, error)) return false;
  if (!DecodeSide(obj->if_contains("asks"), "asks", asks, error)) return false;
  if (tick_size != nullptr) {
    *tick_size = 0;
    if (const boost::json::value* t = obj->if_contains("tick")) {
      const boost::json::string* s = t->if_string();
      if (s == nullptr) return Fail(error, "\"tick\" is not a decimal string");
      DecimalError e = ParseDecimal(std::string_view(s->data(), s->size()), tick_size);
      if (e != DecimalError::kOk) return Fail(error, std::string("bad \"tick\": ") + DecimalErrorText(e));
    }
  }
  return true;
}

}  // namespace polyhost

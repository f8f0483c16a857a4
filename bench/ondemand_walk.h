// A bench-only prototype: walks a format P line with simdjson On-Demand and
// extracts the fields FeedParser extracts (event_type, market, asset_id,
// timestamp, book levels, price_changes items, top-level price/size/side/best_*,
// tick sizes), parsing every decimal with ParseDecimal. It builds no ParsedLine,
// does not detect format S, and reports no field paths, so it is a lower bound for
// an On-Demand FeedParser, not a replacement. It exists to show how much of
// FeedParser's time is the DOM + eager error strings rather than JSON itself.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <string_view>

#include "core/decimal.h"

namespace polyhost::bench {

struct OnDemandCounts {
  uint64_t events = 0;
  uint64_t items = 0;   // price_changes items
  uint64_t levels = 0;  // book levels
  int64_t checksum = 0; // sum of parsed decimals, so nothing is optimized away
  uint64_t errors = 0;
};

namespace ondemand_detail {

namespace od = simdjson::ondemand;

template <class V>
bool Decimal(V&& v, OnDemandCounts& c) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  int64_t x = 0;
  const DecimalError e = ParseDecimal(s, &x);
  if (e != DecimalError::kOk && e != DecimalError::kEmpty) return false;
  c.checksum += x;
  return true;
}

template <class V>
bool String(V&& v, OnDemandCounts& c) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  c.checksum += static_cast<int64_t>(s.size());
  return true;
}

template <class V>
bool Levels(V&& v, OnDemandCounts& c) {
  od::array arr;
  if (v.get_array().get(arr) != simdjson::SUCCESS) return false;
  for (auto lv : arr) {
    od::object o;
    if (lv.get_object().get(o) != simdjson::SUCCESS) return false;
    for (auto f : o) {
      std::string_view k;
      if (f.unescaped_key().get(k) != simdjson::SUCCESS) return false;
      if ((k == "price" || k == "size") && !Decimal(f.value(), c)) return false;
    }
    ++c.levels;
  }
  return true;
}

template <class V>
bool Changes(V&& v, OnDemandCounts& c) {
  od::array arr;
  if (v.get_array().get(arr) != simdjson::SUCCESS) return false;
  for (auto item : arr) {
    od::object o;
    if (item.get_object().get(o) != simdjson::SUCCESS) return false;
    for (auto f : o) {
      std::string_view k;
      if (f.unescaped_key().get(k) != simdjson::SUCCESS) return false;
      if (k == "price" || k == "size" || k == "best_bid" || k == "best_ask") {
        if (!Decimal(f.value(), c)) return false;
      } else if (k == "asset_id" || k == "side") {
        if (!String(f.value(), c)) return false;
      }
    }
    ++c.items;
  }
  return true;
}

inline bool Event(od::object obj, OnDemandCounts& c);

template <class V>
bool Frame(V&& v, OnDemandCounts& c) {
  od::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS) return false;
  if (t == od::json_type::object) {
    od::object o;
    return v.get_object().get(o) == simdjson::SUCCESS && Event(o, c);
  }
  if (t == od::json_type::array) {
    od::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) return false;
    for (auto e : arr) {
      od::object o;
      if (e.get_object().get(o) != simdjson::SUCCESS || !Event(o, c)) return false;
    }
    return true;
  }
  return t == od::json_type::string;  // a text frame
}

inline bool Event(od::object obj, OnDemandCounts& c) {
  for (auto f : obj) {
    std::string_view k;
    if (f.unescaped_key().get(k) != simdjson::SUCCESS) return false;
    bool ok = true;
    if (k == "event_type" || k == "market" || k == "asset_id" || k == "side") {
      ok = String(f.value(), c);
    } else if (k == "timestamp") {
      std::string_view s;
      int64_t ts = 0;
      ok = f.value().get_string().get(s) == simdjson::SUCCESS;
      if (ok) std::from_chars(s.data(), s.data() + s.size(), ts), c.checksum += ts;
    } else if (k == "bids" || k == "asks") {
      ok = Levels(f.value(), c);
    } else if (k == "price_changes") {
      ok = Changes(f.value(), c);
    } else if (k == "price" || k == "size" || k == "best_bid" || k == "best_ask" || k == "new_tick_size" ||
               k == "old_tick_size") {
      ok = Decimal(f.value(), c);
    } else if (k == "frame") {
      ok = Frame(f.value(), c);
      --c.events;  // the envelope itself is not an event
    }
    if (!ok) return false;
  }
  ++c.events;
  return true;
}

}  // namespace ondemand_detail

// `data` must have simdjson::SIMDJSON_PADDING readable bytes after data+len.
inline bool WalkOnDemand(simdjson::ondemand::parser& parser, const char* data, size_t len, size_t capacity,
                         OnDemandCounts& c) {
  namespace od = simdjson::ondemand;
  od::document doc;
  if (parser.iterate(data, len, capacity).get(doc) != simdjson::SUCCESS) return ++c.errors, false;
  od::json_type t;
  if (doc.type().get(t) != simdjson::SUCCESS) return ++c.errors, false;
  bool ok = false;
  if (t == od::json_type::object) {
    od::object o;
    ok = doc.get_object().get(o) == simdjson::SUCCESS && ondemand_detail::Event(o, c);
  } else if (t == od::json_type::array) {
    od::array arr;
    ok = doc.get_array().get(arr) == simdjson::SUCCESS;
    if (ok) {
      for (auto e : arr) {
        od::object o;
        if (e.get_object().get(o) != simdjson::SUCCESS || !ondemand_detail::Event(o, c)) {
          ok = false;
          break;
        }
      }
    }
  } else {
    ok = t == od::json_type::string;
  }
  if (!ok) ++c.errors;
  return ok;
}

}  // namespace polyhost::bench

#include "catalog/market_catalog.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <boost/json.hpp>

#include "core/decimal.h"

namespace polyhost {

namespace json = boost::json;

bool DoubleToMicros(double value, int64_t* out) {
  if (!std::isfinite(value) || value < 0) return false;
  // Shortest text that reads back as `value`, without an exponent: the JSON text
  // "0.01" (a double a little above 0.01) comes back as "0.01".
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  if (ec != std::errc()) return false;
  return ParseDecimal(std::string_view(buf, static_cast<size_t>(end - buf)), out) == DecimalError::kOk;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

bool ParseIsoUtcMs(std::string_view s, int64_t* out_ms) {
  size_t i = 0;
  auto digits = [&](size_t n, int64_t* v) {
    if (i + n > s.size()) return false;
    int64_t x = 0;
    for (size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      x = x * 10 + (c - '0');
    }
    i += n;
    *v = x;
    return true;
  };
  auto lit = [&](char c) {
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
  };
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(4, &y) || !lit('-') || !digits(2, &mo) || !lit('-') || !digits(2, &d)) return false;
  const bool date_only = i == s.size();  // "2026-01-31": midnight UTC
  if (!date_only) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
    ++i;
    if (!digits(2, &h) || !lit(':') || !digits(2, &mi) || !lit(':') || !digits(2, &sec)) return false;
  }
  int64_t ms = 0;
  if (date_only) {
    // no time, no zone
  } else if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 3) ms = ms * 10 + (s[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0) return false;
    for (; n < 3; ++n) ms *= 10;
  }
  int64_t offset_min = 0;
  if (date_only) {
    // midnight UTC
  } else if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool neg = s[i] == '-';
    ++i;
    int64_t oh = 0, om = 0;
    if (!digits(2, &oh)) return false;
    lit(':');
    if (!digits(2, &om) || oh > 23 || om > 59) return false;
    offset_min = (neg ? -1 : 1) * (oh * 60 + om);
  } else {
    return false;
  }
  if (i != s.size()) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return false;
  if (d > kDays[mo - 1] + (mo == 2 && IsLeap(y) ? 1 : 0)) return false;
  if (h > 23 || mi > 59 || sec > 60) return false;  // 60: a leap second, read as :59 + 1 s
  const int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  *out_ms = secs * 1000 + ms;
  return true;
}

namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Where a field problem is: "<source>: market 3 (0xabc...): field 'orderMinSize': <why>".
class Where {
 public:
  Where(std::string_view source, size_t index) : source_(source), index_(index) {}
  void set_market(std::string_view m) { market_ = m; }
  [[noreturn]] void Fail(std::string_view field, const std::string& why) const {
    std::string msg(source_);
    msg += ": market ";
    msg += std::to_string(index_);
    if (!market_.empty()) {
      msg += " (";
      msg += market_;
      msg += ")";
    }
    if (!field.empty()) {
      msg += ": field '";
      msg += field;
      msg += "'";
    }
    msg += ": ";
    msg += why;
    throw CatalogError(msg);
  }

 private:
  std::string_view source_;
  size_t index_;
  std::string market_;
};

const char* KindName(json::kind k) {
  switch (k) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "?";
}

const json::value* Field(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

std::string OptString(const json::object& o, std::string_view name, const Where& where) {
  const json::value* v = Field(o, name);
  if (v == nullptr) return {};
  if (!v->is_string()) where.Fail(name, std::string("expected a string, got ") + KindName(v->kind()));
  return std::string(v->get_string());
}

bool OptBool(const json::object& o, std::string_view name, bool fallback, const Where& where) {
  const json::value* v = Field(o, name);
  if (v == nullptr) return fallback;
  if (v->is_bool()) return v->get_bool();
  if (v->is_string()) {
    if (v->get_string() == "true") return true;
    if (v->get_string() == "false") return false;
  }
  where.Fail(name, std::string("expected true or false, got ") + KindName(v->kind()));
}

// A decimal field (number or string) in micro-units; 0 when absent.
int64_t OptMicros(const json::object& o, std::string_view name, const Where& where) {
  const json::value* v = Field(o, name);
  if (v == nullptr) return 0;
  int64_t out = 0;
  switch (v->kind()) {
    case json::kind::int64: {
      const int64_t n = v->get_int64();
      if (n < 0) where.Fail(name, "must not be negative");
      if (n > INT64_MAX / kMicrosPerUnit) where.Fail(name, "too large");
      return n * kMicrosPerUnit;
    }
    case json::kind::uint64: {
      const uint64_t n = v->get_uint64();
      if (n > static_cast<uint64_t>(INT64_MAX / kMicrosPerUnit)) where.Fail(name, "too large");
      return static_cast<int64_t>(n) * kMicrosPerUnit;
    }
    case json::kind::double_:
      if (!DoubleToMicros(v->get_double(), &out)) {
        where.Fail(name, "the number " + json::serialize(*v) +
                             " is not a non-negative decimal with at most 6 fractional digits");
      }
      return out;
    case json::kind::string: {
      const std::string_view text = v->get_string();
      if (text.empty()) return 0;
      const DecimalError e = ParseDecimal(text, &out);
      if (e != DecimalError::kOk) where.Fail(name, "\"" + std::string(text) + "\": " + DecimalErrorText(e));
      return out;
    }
    default:
      where.Fail(name, std::string("expected a decimal number, got ") + KindName(v->kind()));
  }
}

// An ISO-8601 time field (endDate) in Unix ms; 0 when absent, null or "".
int64_t OptTimeMs(const json::object& o, std::string_view name, const Where& where) {
  const json::value* v = Field(o, name);
  if (v == nullptr) return 0;
  if (!v->is_string()) where.Fail(name, std::string("expected an ISO-8601 time string, got ") + KindName(v->kind()));
  const std::string_view text = v->get_string();
  if (text.empty()) return 0;
  int64_t ms = 0;
  if (!ParseIsoUtcMs(text, &ms) || ms <= 0) {
    where.Fail(name, "\"" + std::string(text) + "\" is not an ISO-8601 UTC time like \"2026-01-31T12:00:00Z\"");
  }
  return ms;
}

// `outcomes` / `clobTokenIds`: a JSON-encoded array of strings in a string (as
// Gamma sends it) or a plain array.
std::vector<std::string> StringList(const json::object& o, std::string_view name, const Where& where) {
  const json::value* v = Field(o, name);
  if (v == nullptr) return {};
  json::value decoded;
  const json::array* arr = nullptr;
  if (v->is_string()) {
    const std::string_view text = v->get_string();
    if (text.empty()) return {};
    json::error_code ec;
    decoded = json::parse(text, ec);
    if (ec) where.Fail(name, "the string is not JSON: " + ec.message());
    if (!decoded.is_array()) {
      where.Fail(name, std::string("expected a JSON-encoded array, got ") + KindName(decoded.kind()));
    }
    arr = &decoded.get_array();
  } else if (v->is_array()) {
    arr = &v->get_array();
  } else {
    where.Fail(name, std::string("expected a JSON-encoded array of strings, got ") + KindName(v->kind()));
  }
  std::vector<std::string> out;
  out.reserve(arr->size());
  for (size_t i = 0; i < arr->size(); ++i) {
    const json::value& e = (*arr)[i];
    if (!e.is_string()) {
      where.Fail(name, "element " + std::to_string(i) + ": expected a string, got " + KindName(e.kind()));
    }
    if (e.get_string().empty()) where.Fail(name, "element " + std::to_string(i) + " is empty");
    out.emplace_back(e.get_string());
  }
  return out;
}

std::string EventId(const json::object& o, const Where& where) {
  const json::value* v = Field(o, "events");
  if (v == nullptr) return {};
  if (!v->is_array()) where.Fail("events", std::string("expected an array, got ") + KindName(v->kind()));
  const json::array& events = v->get_array();
  if (events.empty()) return {};
  if (!events[0].is_object()) {
    where.Fail("events[0]", std::string("expected an object, got ") + KindName(events[0].kind()));
  }
  const json::value* id = Field(events[0].get_object(), "id");
  if (id == nullptr) return {};
  if (id->is_string()) return std::string(id->get_string());
  if (id->is_int64() || id->is_uint64()) return json::serialize(*id);
  where.Fail("events[0].id", std::string("expected a string or an integer, got ") + KindName(id->kind()));
}

MarketSpec ParseMarket(const json::value& v, const Where& where_in) {
  Where where = where_in;
  if (!v.is_object()) where.Fail("", std::string("expected an object, got ") + KindName(v.kind()));
  const json::object& o = v.get_object();
  MarketSpec m;
  m.market = OptString(o, "conditionId", where);
  if (m.market.empty()) where.Fail("conditionId", "missing or empty");
  where.set_market(m.market);
  m.question = OptString(o, "question", where);
  m.asset_ids = StringList(o, "clobTokenIds", where);
  m.outcomes = StringList(o, "outcomes", where);
  if (!m.outcomes.empty() && m.outcomes.size() != m.asset_ids.size()) {
    where.Fail("outcomes", std::to_string(m.outcomes.size()) + " outcomes for " +
                               std::to_string(m.asset_ids.size()) + " clobTokenIds");
  }
  for (size_t i = 0; i < m.asset_ids.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (m.asset_ids[i] == m.asset_ids[j]) where.Fail("clobTokenIds", "token " + m.asset_ids[i] + " is listed twice");
    }
  }
  m.outcomes.resize(m.asset_ids.size());
  m.tick_size_micros = OptMicros(o, "orderPriceMinTickSize", where);
  m.min_order_size_micros = OptMicros(o, "orderMinSize", where);
  m.end_time_ms = OptTimeMs(o, "endDate", where);
  m.neg_risk = OptBool(o, "negRisk", false, where);
  m.active = OptBool(o, "active", true, where);
  m.closed = OptBool(o, "closed", false, where);
  m.event_id = EventId(o, where);
  return m;
}

}  // namespace

// ---- the catalog --------------------------------------------------------------------

struct MarketCatalog::Impl {
  struct Outcome {
    std::string_view asset_id;
    std::string_view name;
  };
  struct Market {
    std::string_view market, question, event_id;
    int64_t tick = 0, min_size = 0, end_time_ms = 0;
    bool neg_risk = false, active = false, closed = false, observed = true;
    std::vector<Outcome> outcomes;
  };
  struct Group {
    GroupKind kind = GroupKind::kBinary;
    std::string_view id, event_id;
    bool dissolved = false;
    std::vector<AssetRefView> legs;
  };

  mutable std::shared_mutex mu;
  std::unordered_set<std::string> pool;  // node-based: element addresses never move
  std::vector<Market> markets;
  std::unordered_map<std::string_view, uint32_t> market_index;
  // asset id -> (market number, outcome position) of every token with that id
  std::unordered_map<std::string_view, std::vector<std::pair<uint32_t, std::string_view>>> asset_index;
  std::vector<Group> groups;
  std::unordered_map<std::string_view, uint32_t> group_index;
  std::unordered_map<std::string_view, std::vector<uint32_t>> event_markets;  // event -> market numbers, ascending
  uint64_t generation = 0;

  std::string_view Intern(std::string_view s) {
    if (s.empty()) return {};
    auto it = pool.find(std::string(s));
    if (it == pool.end()) it = pool.emplace(s).first;
    return std::string_view(*it);
  }

  static size_t YesIndex(const Market& m) {
    for (size_t i = 0; i < m.outcomes.size(); ++i) {
      if (EqualsNoCase(m.outcomes[i].name, "yes")) return i;
    }
    return 0;
  }

  std::optional<uint32_t> FindMarketIndex(std::string_view market) const {
    auto it = market_index.find(market);
    if (it == market_index.end()) return std::nullopt;
    return it->second;
  }

  static std::optional<size_t> OutcomePos(const Market& m, std::string_view asset_id) {
    for (size_t i = 0; i < m.outcomes.size(); ++i) {
      if (m.outcomes[i].asset_id == asset_id) return i;
    }
    return std::nullopt;
  }

  uint32_t NewMarket(std::string_view id) {
    const auto n = static_cast<uint32_t>(markets.size());
    Market m;
    m.market = Intern(id);
    markets.push_back(std::move(m));
    market_index.emplace(markets.back().market, n);
    return n;
  }

  void IndexAsset(uint32_t market, std::string_view asset_id) {
    asset_index[asset_id].emplace_back(market, asset_id);
  }

  uint32_t UpsertGroup(GroupKind kind, std::string_view id_text, std::string_view event_id) {
    auto it = group_index.find(id_text);
    if (it != group_index.end()) return it->second;
    const auto n = static_cast<uint32_t>(groups.size());
    Group g;
    g.kind = kind;
    g.id = Intern(id_text);
    g.event_id = event_id;
    groups.push_back(std::move(g));
    group_index.emplace(groups.back().id, n);
    return n;
  }

  void RebuildBinary(uint32_t mi) {
    const Market& m = markets[mi];
    const std::string id = "market:" + std::string(m.market);
    auto it = group_index.find(id);
    if (m.outcomes.size() == 2) {
      Group& g = groups[UpsertGroup(GroupKind::kBinary, id, m.event_id)];
      g.event_id = m.event_id;
      g.legs = {{m.market, m.outcomes[0].asset_id}, {m.market, m.outcomes[1].asset_id}};
    } else if (it != group_index.end()) {
      Group& g = groups[it->second];
      g.dissolved = true;
      g.legs.clear();
    }
  }

  void RebuildEvent(std::string_view event_id) {
    if (event_id.empty()) return;
    std::vector<AssetRefView> legs;
    auto members = event_markets.find(event_id);
    if (members != event_markets.end()) {
      for (uint32_t mi : members->second) {
        const Market& m = markets[mi];
        if (!m.neg_risk || m.outcomes.empty()) continue;
        legs.push_back({m.market, m.outcomes[YesIndex(m)].asset_id});
      }
    }
    const std::string id = "event:" + std::string(event_id);
    auto it = group_index.find(id);
    if (legs.empty() && it == group_index.end()) return;
    Group& g = groups[UpsertGroup(GroupKind::kNegRiskEvent, id, event_id)];
    g.legs = std::move(legs);
  }

  void SetEvent(uint32_t mi, std::string_view event_id) {
    Market& m = markets[mi];
    if (m.event_id == event_id) return;
    if (!m.event_id.empty()) std::erase(event_markets[m.event_id], mi);
    m.event_id = event_id;
    if (!event_id.empty()) {
      std::vector<uint32_t>& list = event_markets[event_id];
      list.insert(std::upper_bound(list.begin(), list.end(), mi), mi);
    }
  }

  MarketView ViewMarket(uint32_t mi) const {
    const Market& m = markets[mi];
    MarketView v;
    v.index = mi;
    v.market = m.market;
    v.event_id = m.event_id;
    v.question = m.question;
    v.tick_size_micros = m.tick;
    v.min_order_size_micros = m.min_size;
    v.end_time_ms = m.end_time_ms;
    v.neg_risk = m.neg_risk;
    v.active = m.active;
    v.closed = m.closed;
    v.observed = m.observed;
    v.outcome_count = static_cast<uint32_t>(m.outcomes.size());
    return v;
  }

  OutcomeView ViewOutcome(uint32_t mi, size_t pos) const {
    const Market& m = markets[mi];
    OutcomeView v;
    v.index = static_cast<uint32_t>(pos);
    v.market = m.market;
    v.asset_id = m.outcomes[pos].asset_id;
    v.outcome = m.outcomes[pos].name;
    if (m.outcomes.size() == 2) v.complement_asset_id = m.outcomes[1 - pos].asset_id;
    return v;
  }

  GroupView ViewGroup(uint32_t gi) const {
    const Group& g = groups[gi];
    return GroupView{gi, g.kind, g.id, g.event_id, g.dissolved, g.legs};
  }

  // (market number, position) of a token, or why not.
  Lookup Locate(std::string_view market, std::string_view asset_id, uint32_t* mi, size_t* pos) const {
    if (!market.empty()) {
      auto m = FindMarketIndex(market);
      if (!m) return Lookup::kNotFound;
      auto p = OutcomePos(markets[*m], asset_id);
      if (!p) return Lookup::kNotFound;
      *mi = *m;
      *pos = *p;
      return Lookup::kFound;
    }
    auto it = asset_index.find(asset_id);
    if (it == asset_index.end() || it->second.empty()) return Lookup::kNotFound;
    if (it->second.size() > 1) return Lookup::kAmbiguous;
    *mi = it->second.front().first;
    *pos = *OutcomePos(markets[*mi], asset_id);
    return Lookup::kFound;
  }
};

MarketCatalog::MarketCatalog() : impl_(std::make_unique<Impl>()) {}
MarketCatalog::~MarketCatalog() = default;

std::vector<MarketSpec> MarketCatalog::ParseGammaMarkets(std::string_view text, std::string_view source) {
  json::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) throw CatalogError(std::string(source) + ": not valid JSON: " + ec.message());
  std::vector<MarketSpec> out;
  if (root.is_object()) {
    out.push_back(ParseMarket(root, Where(source, 0)));
    return out;
  }
  if (!root.is_array()) {
    throw CatalogError(std::string(source) + ": expected a JSON array of Gamma markets, got " + KindName(root.kind()));
  }
  const json::array& arr = root.get_array();
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) out.push_back(ParseMarket(arr[i], Where(source, i)));
  return out;
}

size_t MarketCatalog::LoadGammaMarketsText(std::string_view json_text, std::string_view source) {
  std::vector<MarketSpec> specs = ParseGammaMarkets(json_text, source);
  for (const MarketSpec& s : specs) AddMarket(s);
  return specs.size();
}

size_t MarketCatalog::LoadGammaMarketsJson(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CatalogError(path.string() + ": cannot open the market catalog");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw CatalogError(path.string() + ": read error");
  return LoadGammaMarketsText(text.str(), path.string());
}

uint32_t MarketCatalog::AddMarket(const MarketSpec& spec) {
  if (spec.market.empty()) throw std::invalid_argument("AddMarket: empty market id");
  Impl& d = *impl_;
  std::unique_lock lock(d.mu);
  std::optional<uint32_t> found = d.FindMarketIndex(spec.market);
  const uint32_t mi = found ? *found : d.NewMarket(spec.market);
  Impl::Market& m = d.markets[mi];
  const std::string_view old_event = m.event_id;
  m.question = d.Intern(spec.question);
  m.tick = spec.tick_size_micros;
  m.min_size = spec.min_order_size_micros;
  m.end_time_ms = spec.end_time_ms;
  m.neg_risk = spec.neg_risk;
  m.active = spec.active;
  m.closed = spec.closed;
  m.observed = false;
  // Catalog order first, then tokens only a feed showed.
  std::vector<Impl::Outcome> outcomes;
  for (size_t i = 0; i < spec.asset_ids.size(); ++i) {
    const std::string_view name = i < spec.outcomes.size() ? std::string_view(spec.outcomes[i]) : std::string_view();
    auto pos = Impl::OutcomePos(m, spec.asset_ids[i]);
    if (pos) {
      outcomes.push_back({m.outcomes[*pos].asset_id, name.empty() ? m.outcomes[*pos].name : d.Intern(name)});
    } else {
      const std::string_view id = d.Intern(spec.asset_ids[i]);
      outcomes.push_back({id, d.Intern(name)});
      d.IndexAsset(mi, id);
    }
  }
  for (const Impl::Outcome& o : m.outcomes) {
    if (std::none_of(outcomes.begin(), outcomes.end(), [&](const Impl::Outcome& x) { return x.asset_id == o.asset_id; })) {
      outcomes.push_back(o);
    }
  }
  m.outcomes = std::move(outcomes);
  d.SetEvent(mi, d.Intern(spec.event_id));
  d.RebuildBinary(mi);
  d.RebuildEvent(old_event);
  if (d.markets[mi].event_id != old_event) d.RebuildEvent(d.markets[mi].event_id);
  ++d.generation;
  return mi;
}

bool MarketCatalog::AddObservedAsset(std::string_view market, std::string_view asset_id) {
  if (market.empty() || asset_id.empty()) return false;
  Impl& d = *impl_;
  {
    std::shared_lock lock(d.mu);
    auto mi = d.FindMarketIndex(market);
    if (mi && Impl::OutcomePos(d.markets[*mi], asset_id)) return false;
  }
  std::unique_lock lock(d.mu);
  std::optional<uint32_t> found = d.FindMarketIndex(market);
  const uint32_t mi = found ? *found : d.NewMarket(market);
  Impl::Market& m = d.markets[mi];
  if (Impl::OutcomePos(m, asset_id)) return false;  // raced with another writer
  const std::string_view id = d.Intern(asset_id);
  m.outcomes.push_back({id, {}});
  d.IndexAsset(mi, id);
  d.RebuildBinary(mi);
  d.RebuildEvent(m.event_id);
  ++d.generation;
  return true;
}

bool MarketCatalog::SetTickSize(std::string_view market, int64_t tick_size_micros) {
  Impl& d = *impl_;
  std::unique_lock lock(d.mu);
  auto mi = d.FindMarketIndex(market);
  if (!mi) return false;
  if (d.markets[*mi].tick != tick_size_micros) {
    d.markets[*mi].tick = tick_size_micros;
    ++d.generation;
  }
  return true;
}

uint64_t MarketCatalog::generation() const {
  std::shared_lock lock(impl_->mu);
  return impl_->generation;
}

size_t MarketCatalog::market_count() const {
  std::shared_lock lock(impl_->mu);
  return impl_->markets.size();
}

size_t MarketCatalog::group_count() const {
  std::shared_lock lock(impl_->mu);
  return impl_->groups.size();
}

std::optional<MarketView> MarketCatalog::FindMarket(std::string_view market) const {
  std::shared_lock lock(impl_->mu);
  auto mi = impl_->FindMarketIndex(market);
  if (!mi) return std::nullopt;
  return impl_->ViewMarket(*mi);
}

std::optional<MarketView> MarketCatalog::MarketAt(size_t index) const {
  std::shared_lock lock(impl_->mu);
  if (index >= impl_->markets.size()) return std::nullopt;
  return impl_->ViewMarket(static_cast<uint32_t>(index));
}

MarketCatalog::Lookup MarketCatalog::FindOutcomeStatus(std::string_view market, std::string_view asset_id,
                                                      OutcomeView* out) const {
  std::shared_lock lock(impl_->mu);
  uint32_t mi = 0;
  size_t pos = 0;
  const Lookup r = impl_->Locate(market, asset_id, &mi, &pos);
  if (r == Lookup::kFound && out != nullptr) *out = impl_->ViewOutcome(mi, pos);
  return r;
}

std::optional<OutcomeView> MarketCatalog::FindOutcome(std::string_view market, std::string_view asset_id) const {
  OutcomeView v;
  if (FindOutcomeStatus(market, asset_id, &v) != Lookup::kFound) return std::nullopt;
  return v;
}

std::optional<OutcomeView> MarketCatalog::OutcomeAt(std::string_view market, size_t index) const {
  std::shared_lock lock(impl_->mu);
  auto mi = impl_->FindMarketIndex(market);
  if (!mi || index >= impl_->markets[*mi].outcomes.size()) return std::nullopt;
  return impl_->ViewOutcome(*mi, index);
}

std::optional<GroupView> MarketCatalog::GroupAt(size_t index) const {
  std::shared_lock lock(impl_->mu);
  if (index >= impl_->groups.size()) return std::nullopt;
  return impl_->ViewGroup(static_cast<uint32_t>(index));
}

std::optional<GroupView> MarketCatalog::FindGroup(std::string_view id) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->group_index.find(id);
  if (it == impl_->group_index.end()) return std::nullopt;
  return impl_->ViewGroup(it->second);
}

std::optional<std::vector<uint32_t>> MarketCatalog::GroupsOf(std::string_view market, std::string_view asset_id) const {
  const Impl& d = *impl_;
  std::shared_lock lock(d.mu);
  uint32_t mi = 0;
  size_t pos = 0;
  if (d.Locate(market, asset_id, &mi, &pos) != Lookup::kFound) return std::nullopt;
  const Impl::Market& m = d.markets[mi];
  std::vector<uint32_t> out;
  if (m.outcomes.size() == 2) {
    auto it = d.group_index.find("market:" + std::string(m.market));
    if (it != d.group_index.end()) out.push_back(it->second);
  }
  if (m.neg_risk && !m.event_id.empty() && pos == Impl::YesIndex(m)) {
    auto it = d.group_index.find("event:" + std::string(m.event_id));
    if (it != d.group_index.end()) out.push_back(it->second);
  }
  return out;
}

std::vector<GroupView> MarketCatalog::Groups() const {
  std::shared_lock lock(impl_->mu);
  std::vector<GroupView> out;
  for (uint32_t i = 0; i < impl_->groups.size(); ++i) {
    if (impl_->groups[i].dissolved || impl_->groups[i].legs.size() < 2) continue;
    out.push_back(impl_->ViewGroup(i));
  }
  return out;
}

}  // namespace polyhost

#include "catalog/markets_extension.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace polyhost {

namespace {

constexpr uint64_t kMagic = 0x70686d6b74733031ull;  // "phmkts01"

static_assert(std::is_standard_layout_v<MarketsExtension::Block>);
static_assert(offsetof(MarketsExtension::Block, table) == 0);

// ABI 1.0 sizes of the out-structs: a caller must know at least these.
constexpr size_t kMarketInfoV1 = offsetof(ph_market_info, reserved0) + sizeof(ph_market_info::reserved0);
constexpr size_t kOutcomeInfoV1 =
    offsetof(ph_outcome_info, complement_asset_id) + sizeof(ph_outcome_info::complement_asset_id);
constexpr size_t kGroupV1 = offsetof(ph_market_group, reserved0) + sizeof(ph_market_group::reserved0);

const MarketCatalog* CatalogOf(const ph_host* host) {
  if (host == nullptr || host->get_extension == nullptr) return nullptr;
  const void* t = host->get_extension(host, PH_EXT_MARKETS);
  if (t == nullptr) return nullptr;
  const auto* block = static_cast<const MarketsExtension::Block*>(t);
  return block->magic == kMagic ? block->catalog : nullptr;
}

const char* CStr(std::string_view s) { return s.empty() ? nullptr : s.data(); }  // pool strings: NUL-terminated

// The out-parameter rule: write at most out->struct_size bytes, report what was written.
template <class T>
ph_result WriteOut(T* out, const T& full, size_t v1_size) {
  if (out == nullptr || out->struct_size < v1_size) return PH_ERR_INVALID_ARGUMENT;
  const size_t n = std::min<size_t>(out->struct_size, sizeof(T));
  std::memcpy(static_cast<void*>(out), &full, n);
  out->struct_size = static_cast<uint32_t>(n);
  return PH_OK;
}

ph_market_info MarketInfo(const MarketView& m) {
  ph_market_info info{};
  info.struct_size = sizeof(info);
  info.flags = (m.neg_risk ? PH_MARKET_NEG_RISK : 0u) | (m.active ? PH_MARKET_ACTIVE : 0u) |
               (m.closed ? PH_MARKET_CLOSED : 0u) | (m.observed ? PH_MARKET_OBSERVED : 0u);
  info.market = CStr(m.market);
  info.event_id = CStr(m.event_id);
  info.question = CStr(m.question);
  info.tick_size = m.tick_size_micros;
  info.min_order_size = m.min_order_size_micros;
  info.outcome_count = m.outcome_count;
  info.end_time_ms = m.end_time_ms;  // after the 1.0 part: written only when the caller's struct_size covers it
  return info;
}

ph_outcome_info OutcomeInfo(const OutcomeView& o) {
  ph_outcome_info info{};
  info.struct_size = sizeof(info);
  info.index = o.index;
  info.market = CStr(o.market);
  info.asset_id = CStr(o.asset_id);
  info.outcome = CStr(o.outcome);
  info.complement_asset_id = CStr(o.complement_asset_id);
  return info;
}

bool Empty(const char* s) { return s == nullptr || *s == '\0'; }

template <class Fn>
ph_result Guard(Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return PH_ERR_OUT_OF_MEMORY;
  } catch (...) {
    return PH_ERR_INTERNAL;
  }
}

uint64_t Generation(const ph_host* host) noexcept {
  const MarketCatalog* c = CatalogOf(host);
  return c != nullptr ? c->generation() : 0;
}

uint32_t MarketCount(const ph_host* host) noexcept {
  const MarketCatalog* c = CatalogOf(host);
  return c != nullptr ? static_cast<uint32_t>(c->market_count()) : 0;
}

ph_result GetMarket(const ph_host* host, const char* market, ph_market_info* out) noexcept {
  return Guard([&]() -> ph_result {
    const MarketCatalog* c = CatalogOf(host);
    if (c == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (Empty(market) || out == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (out->struct_size < kMarketInfoV1) return PH_ERR_INVALID_ARGUMENT;
    std::optional<MarketView> m = c->FindMarket(market);
    if (!m) return PH_ERR_NOT_FOUND;
    return WriteOut(out, MarketInfo(*m), kMarketInfoV1);
  });
}

ph_result GetMarketAt(const ph_host* host, uint32_t index, ph_market_info* out) noexcept {
  return Guard([&]() -> ph_result {
    const MarketCatalog* c = CatalogOf(host);
    if (c == nullptr || out == nullptr || out->struct_size < kMarketInfoV1) return PH_ERR_INVALID_ARGUMENT;
    std::optional<MarketView> m = c->MarketAt(index);
    if (!m) return PH_ERR_NOT_FOUND;
    return WriteOut(out, MarketInfo(*m), kMarketInfoV1);
  });
}

ph_result GetOutcome(const ph_host* host, const char* market, const char* asset_id, ph_outcome_info* out) noexcept {
  return Guard([&]() -> ph_result {
    const MarketCatalog* c = CatalogOf(host);
    if (c == nullptr || Empty(asset_id) || out == nullptr || out->struct_size < kOutcomeInfoV1) {
      return PH_ERR_INVALID_ARGUMENT;
    }
    OutcomeView o;
    switch (c->FindOutcomeStatus(market != nullptr ? market : "", asset_id, &o)) {
      case MarketCatalog::Lookup::kFound: return WriteOut(out, OutcomeInfo(o), kOutcomeInfoV1);
      case MarketCatalog::Lookup::kAmbiguous: return PH_ERR_INVALID_ARGUMENT;
      case MarketCatalog::Lookup::kNotFound: break;
    }
    return PH_ERR_NOT_FOUND;
  });
}

ph_result GetOutcomeAt(const ph_host* host, const char* market, uint32_t index, ph_outcome_info* out) noexcept {
  return Guard([&]() -> ph_result {
    const MarketCatalog* c = CatalogOf(host);
    if (c == nullptr || Empty(market) || out == nullptr || out->struct_size < kOutcomeInfoV1) {
      return PH_ERR_INVALID_ARGUMENT;
    }
    std::optional<OutcomeView> o = c->OutcomeAt(market, index);
    if (!o) return PH_ERR_NOT_FOUND;
    return WriteOut(out, OutcomeInfo(*o), kOutcomeInfoV1);
  });
}

uint32_t GroupCount(const ph_host* host) noexcept {
  const MarketCatalog* c = CatalogOf(host);
  return c != nullptr ? static_cast<uint32_t>(c->group_count()) : 0;
}

ph_result GetGroup(const ph_host* host, uint32_t index, ph_market_group* out, ph_asset_ref* legs,
                   uint32_t capacity) noexcept {
  return Guard([&]() -> ph_result {
    const MarketCatalog* c = CatalogOf(host);
    if (c == nullptr || out == nullptr || out->struct_size < kGroupV1) return PH_ERR_INVALID_ARGUMENT;
    if (legs == nullptr && capacity > 0) return PH_ERR_INVALID_ARGUMENT;
    std::optional<GroupView> g = c->GroupAt(index);
    if (!g || g->dissolved) return PH_ERR_NOT_FOUND;
    ph_market_group full{};
    full.struct_size = sizeof(full);
    full.kind = g->kind == GroupKind::kBinary ? PH_GROUP_BINARY : PH_GROUP_NEG_RISK_EVENT;
    full.id = CStr(g->id);
    full.event_id = CStr(g->event_id);
    full.leg_count = static_cast<uint32_t>(g->legs.size());
    const size_t n = std::min<size_t>(capacity, g->legs.size());
    for (size_t i = 0; i < n; ++i) legs[i] = {CStr(g->legs[i].market), CStr(g->legs[i].asset_id)};
    return WriteOut(out, full, kGroupV1);
  });
}

ph_result FindGroups(const ph_host* host, const char* market, const char* asset_id, uint32_t* indexes,
                     uint32_t capacity, uint32_t* count) noexcept {
  return Guard([&]() -> ph_result {
    const MarketCatalog* c = CatalogOf(host);
    if (c == nullptr || Empty(asset_id) || count == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if (indexes == nullptr && capacity > 0) return PH_ERR_INVALID_ARGUMENT;
    const std::string_view m = market != nullptr ? market : "";
    if (m.empty() && c->FindOutcomeStatus(m, asset_id, nullptr) == MarketCatalog::Lookup::kAmbiguous) {
      return PH_ERR_INVALID_ARGUMENT;
    }
    std::optional<std::vector<uint32_t>> groups = c->GroupsOf(m, asset_id);
    if (!groups) return PH_ERR_NOT_FOUND;
    const size_t n = std::min<size_t>(capacity, groups->size());
    for (size_t i = 0; i < n; ++i) indexes[i] = (*groups)[i];
    *count = static_cast<uint32_t>(groups->size());
    return PH_OK;
  });
}

}  // namespace

MarketsExtension::MarketsExtension(const MarketCatalog& catalog) : block_{} {
  ph_markets_ext& t = block_.table;
  t.struct_size = sizeof(ph_markets_ext);
  t.generation = &Generation;
  t.market_count = &MarketCount;
  t.get_market = &GetMarket;
  t.get_market_at = &GetMarketAt;
  t.get_outcome = &GetOutcome;
  t.get_outcome_at = &GetOutcomeAt;
  t.group_count = &GroupCount;
  t.get_group = &GetGroup;
  t.find_groups = &FindGroups;
  block_.magic = kMagic;
  block_.catalog = &catalog;
}

}  // namespace polyhost

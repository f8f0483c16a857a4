// The host's in-memory market catalog: markets (conditions), their outcome
// tokens, events, and the groups a Dutch-book strategy trades.
//
// Filled from a Gamma market list (LoadGammaMarketsJson) and from the feeds
// (AddObservedAsset: a market seen only in a feed, e.g. format S "mkt-1" with
// assets "yes"/"no", becomes a binary group once it has exactly two assets).
// Plugins read it through the "polyhost.markets/1" extension
// (markets_extension.h, sdk/include/polyhost/abi/markets.h).
//
// Groups (see markets.h):
//   "market:<condition id>"  every market with exactly two tokens, legs in
//                            outcome order;
//   "event:<event id>"       every neg-risk event, legs = the YES token of each of
//                            its neg-risk markets in catalog order.
// Group and market numbers never change; groups are only appended (a binary group
// whose market gains a third token is dissolved: it keeps its number, with no legs).
//
// Thread: every method may be called from any thread (a shared mutex inside):
// the run loop adds observed assets on the strategy thread while plugins may
// read from their own threads. The catalog only grows; every string it hands out
// (string_view or const char*) stays valid, unchanged, for the catalog's life.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace polyhost {

// A malformed catalog: the message names the file, the market's index in the
// list (and its conditionId when readable) and the field.
class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class GroupKind : uint8_t { kBinary, kNegRiskEvent };

// What a catalog entry says about one market (the Gamma fields we use).
struct MarketSpec {
  std::string market;               // conditionId
  std::string question;
  std::string event_id;             // events[0].id; empty when none
  std::vector<std::string> outcomes;   // names, parallel to asset_ids ("Yes", "No")
  std::vector<std::string> asset_ids;  // clobTokenIds
  int64_t tick_size_micros = 0;        // orderPriceMinTickSize; 0 = unknown
  int64_t min_order_size_micros = 0;   // orderMinSize; 0 = unknown
  int64_t end_time_ms = 0;             // endDate, Unix ms UTC; 0 = unknown
  bool neg_risk = false;
  bool active = true;
  bool closed = false;
};

struct OutcomeView {
  uint32_t index = 0;
  std::string_view market;
  std::string_view asset_id;
  std::string_view outcome;              // empty when unknown
  std::string_view complement_asset_id;  // the other token of a two-token market; else empty
};

struct MarketView {
  uint32_t index = 0;  // market number
  std::string_view market;
  std::string_view event_id;  // empty when none
  std::string_view question;  // empty when unknown
  int64_t tick_size_micros = 0;
  int64_t min_order_size_micros = 0;
  int64_t end_time_ms = 0;  // when trading ends (Gamma endDate), Unix ms UTC; 0 = unknown
  bool neg_risk = false;
  bool active = false;
  bool closed = false;
  bool observed = false;  // known only from a feed
  uint32_t outcome_count = 0;
};

struct AssetRefView {
  std::string_view market;
  std::string_view asset_id;
  friend bool operator==(const AssetRefView&, const AssetRefView&) = default;
};

struct GroupView {
  uint32_t index = 0;
  GroupKind kind = GroupKind::kBinary;
  std::string_view id;        // "market:..." / "event:..."
  std::string_view event_id;  // empty when none
  bool dissolved = false;     // no longer a group (legs empty)
  std::vector<AssetRefView> legs;
};

class MarketCatalog {
 public:
  MarketCatalog();
  ~MarketCatalog();
  MarketCatalog(const MarketCatalog&) = delete;
  MarketCatalog& operator=(const MarketCatalog&) = delete;

  // ---- filling it ----
  // Reads a JSON array of Gamma market objects (a single object is accepted too)
  // and adds or updates every market in it. `outcomes` and `clobTokenIds` are
  // JSON-encoded strings (plain arrays are accepted); decimals such as
  // orderPriceMinTickSize may be numbers or strings and are converted exactly
  // (more than 6 fractional digits is an error); `endDate` is an ISO-8601 UTC
  // time ("2026-01-31T12:00:00Z", optional fractional seconds; a "+HH:MM" offset
  // or a bare date are accepted), absent/null/"" meaning unknown. Returns the number of markets
  // read. Throws CatalogError naming the file, market index and field; nothing is
  // added when the file is malformed.
  size_t LoadGammaMarketsJson(const std::filesystem::path& path);
  // The same for text in memory; `source` names it in errors.
  size_t LoadGammaMarketsText(std::string_view json, std::string_view source);
  // Parses without adding (exposed for tests and tools).
  static std::vector<MarketSpec> ParseGammaMarkets(std::string_view json, std::string_view source);

  // Adds a market or updates a known one: numbers, flags, question and event are
  // replaced; tokens are matched by id, new ones appended (a token never goes
  // away, so an id handed out stays valid). Returns the market number.
  uint32_t AddMarket(const MarketSpec& spec);
  // A feed showed this asset: adds the market (observed) and/or the token when
  // new. Returns true when something was added.
  bool AddObservedAsset(std::string_view market, std::string_view asset_id);
  // A tick_size_change: updates the market's tick. False when the market is unknown.
  bool SetTickSize(std::string_view market, int64_t tick_size_micros);

  // ---- reading it ----
  uint64_t generation() const;  // grows on every change
  size_t market_count() const;
  size_t group_count() const;
  std::optional<MarketView> FindMarket(std::string_view market) const;
  std::optional<MarketView> MarketAt(size_t index) const;
  // market may be empty: then the asset id alone, and nullopt also when it is
  // ambiguous (see FindOutcomeStatus).
  std::optional<OutcomeView> FindOutcome(std::string_view market, std::string_view asset_id) const;
  std::optional<OutcomeView> OutcomeAt(std::string_view market, size_t index) const;
  enum class Lookup : uint8_t { kFound, kNotFound, kAmbiguous };
  Lookup FindOutcomeStatus(std::string_view market, std::string_view asset_id, OutcomeView* out) const;
  std::optional<GroupView> GroupAt(size_t index) const;
  std::optional<GroupView> FindGroup(std::string_view id) const;
  // Numbers of the groups having this token as a leg; nullopt when the token is
  // unknown (or ambiguous without a market).
  std::optional<std::vector<uint32_t>> GroupsOf(std::string_view market, std::string_view asset_id) const;
  // All live (not dissolved) groups with at least two legs.
  std::vector<GroupView> Groups() const;

  // Every string_view above points into the catalog's own string pool: it is
  // NUL-terminated (view.data()[view.size()] == '\0') and stays valid for the
  // catalog's life, which is what the C extension hands to plugins.

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Converts a JSON number's value to micro-units exactly: the shortest decimal
// text that reads back as `value` ("0.01" for 0.01), then parsed as a decimal.
// False when it is negative (unless allowed), not finite, has more than 6
// fractional digits or overflows.
bool DoubleToMicros(double value, int64_t* out);

// Parses an ISO-8601 time "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" into
// Unix milliseconds (fraction truncated to ms; a space may stand for 'T'); a bare
// date "YYYY-MM-DD" is midnight UTC. False when malformed, out of range, or a
// time without a zone.
bool ParseIsoUtcMs(std::string_view text, int64_t* out_ms);

}  // namespace polyhost

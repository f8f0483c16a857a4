#include "catalog/market_catalog.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

#include "catalog/markets_extension.h"
#include "core/decimal.h"

namespace polyhost {
namespace {

const std::string kSource = POLYHOST_SOURCE_DIR;

std::string ErrorOf(std::string_view json) {
  MarketCatalog c;
  try {
    c.LoadGammaMarketsText(json, "test.json");
  } catch (const CatalogError& e) {
    CHECK(c.market_count() == 0);  // nothing is added from a malformed list
    return e.what();
  }
  return "(no error)";
}

TEST_CASE("JSON numbers become exact micro-units") {
  int64_t v = 0;
  CHECK(DoubleToMicros(0.01, &v));
  CHECK(v == 10'000);
  CHECK(DoubleToMicros(0.001, &v));
  CHECK(v == 1'000);
  CHECK(DoubleToMicros(0.1 + 0.2, &v) == false);  // 0.30000000000000004: really 17 digits
  CHECK(DoubleToMicros(0.3, &v));
  CHECK(v == 300'000);
  CHECK(DoubleToMicros(0.000001, &v));
  CHECK(v == 1);
  CHECK(DoubleToMicros(5, &v));
  CHECK(v == 5'000'000);
  CHECK(DoubleToMicros(123.456789, &v));
  CHECK(v == 123'456'789);
  CHECK_FALSE(DoubleToMicros(0.0000001, &v));
  CHECK_FALSE(DoubleToMicros(-0.01, &v));
  CHECK_FALSE(DoubleToMicros(1e300, &v));
}

TEST_CASE("the feedA catalog: binary markets, neg-risk events, exact ticks and sizes") {
  MarketCatalog c;
  REQUIRE(c.LoadGammaMarketsJson(kSource + "/recordings/golden/feedA.catalog.json") == 20);
  CHECK(c.market_count() == 20);
  // 20 two-token markets, 2 neg-risk events of 4 markets.
  CHECK(c.group_count() == 22);
  auto groups = c.Groups();
  CHECK(groups.size() == 22);

  auto m0 = c.FindMarket("0x2346cc13fc27ed12b10877a9cbf27734ac1035250b66402800e03d2cf3c95789");
  REQUIRE(m0);
  CHECK(m0->index == 0);
  CHECK(m0->tick_size_micros == 10'000);
  CHECK(m0->min_order_size_micros == 5'000'000);
  CHECK_FALSE(m0->neg_risk);
  CHECK(m0->event_id.empty());
  CHECK(m0->question == "Synthetic market 0?");
  CHECK(m0->outcome_count == 2);
  CHECK_FALSE(m0->observed);

  auto yes = c.FindOutcome("", "3172108477658223374645325033461066878091414275989331697781734382528826157343");
  REQUIRE(yes);
  CHECK(yes->outcome == "Yes");
  CHECK(yes->index == 0);
  CHECK(yes->complement_asset_id ==
        "5244881974629618115279329261015325087863118900056512038077480599849421207205");

  auto e1 = c.FindGroup("event:900001");
  REQUIRE(e1);
  CHECK(e1->kind == GroupKind::kNegRiskEvent);
  CHECK(e1->event_id == "900001");
  REQUIRE(e1->legs.size() == 4);
  // The YES tokens in catalog order (the last market of the file is the last leg).
  CHECK(e1->legs[0].asset_id == "4043833749850597734988707060439212981045378773136376857404388739957639675585");
  CHECK(e1->legs[3].asset_id == "5976035181314389164767939576546032654240978233965335916887228670822902595187");
  CHECK(e1->legs[3].market == "0x10a6604459b4b445f6b9aba74389e00718a95fea71c40eab7bd5dea8f2bc0cec");

  // A YES token of an event market is in its market's binary group and in the event's.
  auto of = c.GroupsOf("", "5976035181314389164767939576546032654240978233965335916887228670822902595187");
  REQUIRE(of);
  REQUIRE(of->size() == 2);
  CHECK(c.GroupAt((*of)[0])->id == "market:0x10a6604459b4b445f6b9aba74389e00718a95fea71c40eab7bd5dea8f2bc0cec");
  CHECK(c.GroupAt((*of)[1])->id == "event:900001");
  // Its NO token only in the binary one.
  of = c.GroupsOf("0x10a6604459b4b445f6b9aba74389e00718a95fea71c40eab7bd5dea8f2bc0cec",
                  "5753655384204220664764231943019317177507269042691656581960748130016826709057");
  REQUIRE(of);
  CHECK(of->size() == 1);
  CHECK_FALSE(c.GroupsOf("", "123"));

  // Loading again updates in place: same numbers, nothing new.
  const uint64_t gen = c.generation();
  c.LoadGammaMarketsJson(kSource + "/recordings/golden/feedA.catalog.json");
  CHECK(c.market_count() == 20);
  CHECK(c.group_count() == 22);
  CHECK(c.generation() > gen);
}

TEST_CASE("a single Gamma market object from the API") {
  MarketCatalog c;
  REQUIRE(c.LoadGammaMarketsJson(kSource + "/recordings/polymarket/http/gamma_market.json") == 1);
  auto m = c.FindMarket("0x78443f961b9a65869dcb39359de9960165c7e5cbad0904eac7f29cd77872a63b");
  REQUIRE(m);
  CHECK(m->event_id == "260654");
  CHECK_FALSE(m->neg_risk);
  CHECK(m->tick_size_micros == 10'000);
  CHECK(m->min_order_size_micros == 5'000'000);
  auto up = c.OutcomeAt(m->market, 0);
  REQUIRE(up);
  CHECK(up->outcome == "Up");
  CHECK(c.OutcomeAt(m->market, 1)->outcome == "Down");
  CHECK_FALSE(c.OutcomeAt(m->market, 2));
  // A non-neg-risk market with an event is a binary group only.
  CHECK(c.group_count() == 1);
  CHECK(c.Groups()[0].legs[0].asset_id == up->asset_id);
}

TEST_CASE("decimals as strings and numbers, events with numeric ids") {
  MarketCatalog c;
  c.LoadGammaMarketsText(R"([
    {"conditionId":"0xa","clobTokenIds":["a1","a2"],"outcomes":["No","Yes"],"negRisk":true,
     "orderPriceMinTickSize":"0.001","orderMinSize":15,"events":[{"id":7}]},
    {"conditionId":"0xb","clobTokenIds":"[\"b1\",\"b2\"]","outcomes":"[\"Yes\",\"No\"]","negRisk":true,
     "orderPriceMinTickSize":0.0001,"orderMinSize":2.5,"events":[{"id":"7"}],"active":false,"closed":true}
  ])",
                         "inline");
  auto a = c.FindMarket("0xa");
  REQUIRE(a);
  CHECK(a->tick_size_micros == 1'000);
  CHECK(a->min_order_size_micros == 15'000'000);
  CHECK(a->event_id == "7");
  auto b = c.FindMarket("0xb");
  CHECK(b->tick_size_micros == 100);
  CHECK(b->min_order_size_micros == 2'500'000);
  CHECK(b->closed);
  CHECK_FALSE(b->active);
  // The YES token is found by name, not position.
  auto e = c.FindGroup("event:7");
  REQUIRE(e);
  REQUIRE(e->legs.size() == 2);
  CHECK(e->legs[0].asset_id == "a2");
  CHECK(e->legs[1].asset_id == "b1");
  CHECK(c.GroupsOf("0xa", "a1")->size() == 1);
  CHECK(c.GroupsOf("0xa", "a2")->size() == 2);
}

TEST_CASE("catalog errors name the file, the market and the field") {
  CHECK(ErrorOf("[1,") .find("test.json: not valid JSON") == 0);
  CHECK(ErrorOf("42") == "test.json: expected a JSON array of Gamma markets, got a number");
  CHECK(ErrorOf(R"([{"conditionId":"0xa"}, 5])") == "test.json: market 1: expected an object, got a number");
  CHECK(ErrorOf(R"([{"question":"?"}])") == "test.json: market 0: field 'conditionId': missing or empty");
  CHECK(ErrorOf(R"([{"conditionId":"0xa","clobTokenIds":"[1,2"}])")
            .find("test.json: market 0 (0xa): field 'clobTokenIds': the string is not JSON") == 0);
  CHECK(ErrorOf(R"([{"conditionId":"0xa","clobTokenIds":"[1,2]"}])") ==
        "test.json: market 0 (0xa): field 'clobTokenIds': element 0: expected a string, got a number");
  CHECK(ErrorOf(R"([{"conditionId":"0xa","clobTokenIds":"[\"1\",\"2\"]","outcomes":"[\"Yes\"]"}])") ==
        "test.json: market 0 (0xa): field 'outcomes': 1 outcomes for 2 clobTokenIds");
  CHECK(ErrorOf(R"([{"conditionId":"0xa"},{"conditionId":"0xb","orderPriceMinTickSize":0.0000001}])") ==
        "test.json: market 1 (0xb): field 'orderPriceMinTickSize': the number 1E-7 is not a non-negative decimal "
        "with at most 6 fractional digits");
  CHECK(ErrorOf(R"([{"conditionId":"0xa","orderMinSize":"5x"}])") ==
        "test.json: market 0 (0xa): field 'orderMinSize': \"5x\": " +
            std::string(DecimalErrorText(DecimalError::kSyntax)));
  CHECK(ErrorOf(R"([{"conditionId":"0xa","negRisk":"yes"}])") ==
        "test.json: market 0 (0xa): field 'negRisk': expected true or false, got a string");
  CHECK(ErrorOf(R"([{"conditionId":"0xa","events":[{"id":1.5}]}])") ==
        "test.json: market 0 (0xa): field 'events[0].id': expected a string or an integer, got a number");
  CHECK(ErrorOf(R"([{"conditionId":"0xa"},{"conditionId":"0xb","endDate":"2026-01-31 noon"}])") ==
        "test.json: market 1 (0xb): field 'endDate': \"2026-01-31 noon\" is not an ISO-8601 UTC time like "
        "\"2026-01-31T12:00:00Z\"");
  CHECK(ErrorOf(R"([{"conditionId":"0xa","endDate":1769860800}])") ==
        "test.json: market 0 (0xa): field 'endDate': expected an ISO-8601 time string, got a number");
  CHECK(ErrorOf(R"([{"conditionId":"0xa","clobTokenIds":["1","1"]}])") ==
        "test.json: market 0 (0xa): field 'clobTokenIds': token 1 is listed twice");
  MarketCatalog c;
  CHECK_THROWS_WITH(c.LoadGammaMarketsJson("/nonexistent/catalog.json"),
                    "/nonexistent/catalog.json: cannot open the market catalog");
}

TEST_CASE("markets seen only in a feed form a binary group with exactly two assets") {
  MarketCatalog c;
  CHECK(c.AddObservedAsset("mkt-1", "yes"));
  CHECK_FALSE(c.AddObservedAsset("mkt-1", "yes"));
  CHECK(c.group_count() == 0);
  CHECK(c.AddObservedAsset("mkt-1", "no"));
  auto g = c.FindGroup("market:mkt-1");
  REQUIRE(g);
  CHECK(g->legs == std::vector<AssetRefView>{{"mkt-1", "yes"}, {"mkt-1", "no"}});
  auto m = c.FindMarket("mkt-1");
  CHECK(m->observed);
  CHECK(m->tick_size_micros == 0);
  CHECK(c.FindOutcome("mkt-1", "no")->complement_asset_id == "yes");
  CHECK(c.FindOutcome("mkt-1", "no")->outcome.empty());

  // Asset ids repeat across feed-only markets: lookups by id alone are ambiguous.
  c.AddObservedAsset("mkt-2", "yes");
  CHECK(c.FindOutcomeStatus("", "yes", nullptr) == MarketCatalog::Lookup::kAmbiguous);
  CHECK_FALSE(c.FindOutcome("", "yes"));
  CHECK(c.FindOutcome("", "no"));
  CHECK(c.FindOutcome("mkt-2", "yes"));
  CHECK(c.Groups().size() == 1);

  // A third asset: no longer a binary market; the group keeps its number, dissolved.
  const uint32_t index = g->index;
  c.AddObservedAsset("mkt-1", "maybe");
  CHECK(c.GroupAt(index)->dissolved);
  CHECK(c.Groups().empty());
  CHECK(c.GroupsOf("mkt-1", "yes")->empty());

  // A tick_size_change
  CHECK(c.SetTickSize("mkt-2", 1'000));
  CHECK(c.FindMarket("mkt-2")->tick_size_micros == 1'000);
  CHECK_FALSE(c.SetTickSize("nope", 1'000));
}

TEST_CASE("a catalog entry for an observed market puts its tokens in catalog order") {
  MarketCatalog c;
  c.AddObservedAsset("0xm", "no-token");
  c.AddObservedAsset("0xm", "yes-token");
  CHECK(c.FindGroup("market:0xm")->legs[0].asset_id == "no-token");
  const char* kept = c.FindOutcome("0xm", "no-token")->asset_id.data();
  c.LoadGammaMarketsText(
      R"([{"conditionId":"0xm","clobTokenIds":"[\"yes-token\",\"no-token\"]","outcomes":"[\"Yes\",\"No\"]"}])", "x");
  auto g = c.FindGroup("market:0xm");
  CHECK(g->legs[0].asset_id == "yes-token");
  CHECK(g->legs[1].asset_id == "no-token");
  CHECK_FALSE(c.FindMarket("0xm")->observed);
  CHECK(c.FindOutcome("0xm", "no-token")->outcome == "No");
  CHECK(c.FindOutcome("0xm", "no-token")->asset_id.data() == kept);  // strings never move
  CHECK(c.group_count() == 1);
}

// ---- the C extension ----------------------------------------------------------------

// A minimal ph_host whose get_extension returns the markets table, as PluginHost does.
struct FakeHost {
  ph_host host{};
  const void* table = nullptr;
  explicit FakeHost(const void* t) : table(t) {
    host.struct_size = sizeof(ph_host);
    host.host_data = this;
    host.get_extension = [](const ph_host* h, const char* id) -> const void* {
      auto* self = static_cast<FakeHost*>(h->host_data);
      return std::strcmp(id, PH_EXT_MARKETS) == 0 ? self->table : nullptr;
    };
  }
};

TEST_CASE("the markets extension answers through the C table") {
  MarketCatalog c;
  c.LoadGammaMarketsJson(kSource + "/recordings/golden/feedA.catalog.json");
  MarketsExtension ext(c);
  FakeHost fake(ext.table());
  const ph_host* h = &fake.host;
  const auto* mk = static_cast<const ph_markets_ext*>(ext.table());
  REQUIRE(mk->struct_size == sizeof(ph_markets_ext));

  CHECK(mk->market_count(h) == 20);
  CHECK(mk->generation(h) == c.generation());

  ph_market_info info{};
  info.struct_size = sizeof(info);
  const char* m19 = "0x10a6604459b4b445f6b9aba74389e00718a95fea71c40eab7bd5dea8f2bc0cec";
  REQUIRE(mk->get_market(h, m19, &info) == PH_OK);
  CHECK(info.struct_size == sizeof(info));
  CHECK(info.flags == (PH_MARKET_NEG_RISK | PH_MARKET_ACTIVE));
  CHECK(std::string(info.event_id) == "900001");
  CHECK(info.tick_size == 10'000);
  CHECK(info.min_order_size == 5'000'000);
  CHECK(info.outcome_count == 2);
  CHECK(std::string(info.market) == m19);
  CHECK(mk->get_market(h, "0xnope", &info) == PH_ERR_NOT_FOUND);
  CHECK(mk->get_market(h, nullptr, &info) == PH_ERR_INVALID_ARGUMENT);
  info.struct_size = 8;  // smaller than the 1.0 struct
  CHECK(mk->get_market(h, m19, &info) == PH_ERR_INVALID_ARGUMENT);
  // A newer plugin with a longer struct: the host writes what it knows and says so.
  struct Longer {
    ph_market_info v1;
    int64_t future;
  } longer{};
  longer.v1.struct_size = sizeof(longer);
  longer.future = 42;
  REQUIRE(mk->get_market_at(h, 0, &longer.v1) == PH_OK);
  CHECK(longer.v1.struct_size == sizeof(ph_market_info));
  CHECK(longer.future == 42);
  CHECK(mk->get_market_at(h, 20, &info) == PH_ERR_INVALID_ARGUMENT);
  info.struct_size = sizeof(info);
  CHECK(mk->get_market_at(h, 20, &info) == PH_ERR_NOT_FOUND);

  ph_outcome_info o{};
  o.struct_size = sizeof(o);
  REQUIRE(mk->get_outcome(h, nullptr, "5976035181314389164767939576546032654240978233965335916887228670822902595187",
                          &o) == PH_OK);
  CHECK(std::string(o.outcome) == "Yes");
  CHECK(std::string(o.market) == m19);
  CHECK(std::string(o.complement_asset_id) ==
        "5753655384204220664764231943019317177507269042691656581960748130016826709057");
  REQUIRE(mk->get_outcome_at(h, m19, 1, &o) == PH_OK);
  CHECK(std::string(o.outcome) == "No");
  CHECK(o.index == 1);
  CHECK(mk->get_outcome_at(h, m19, 2, &o) == PH_ERR_NOT_FOUND);
  CHECK(mk->get_outcome(h, m19, "42", &o) == PH_ERR_NOT_FOUND);

  CHECK(mk->group_count(h) == 22);
  uint32_t idx[4] = {};
  uint32_t n = 0;
  REQUIRE(mk->find_groups(h, m19, "5976035181314389164767939576546032654240978233965335916887228670822902595187", idx,
                          4, &n) == PH_OK);
  REQUIRE(n == 2);
  ph_market_group g{};
  g.struct_size = sizeof(g);
  ph_asset_ref legs[2];
  REQUIRE(mk->get_group(h, idx[1], &g, legs, 2) == PH_OK);
  CHECK(g.kind == PH_GROUP_NEG_RISK_EVENT);
  CHECK(std::string(g.id) == "event:900001");
  CHECK(g.leg_count == 4);  // more than the capacity: two copied
  CHECK(std::string(legs[0].asset_id) ==
        "4043833749850597734988707060439212981045378773136376857404388739957639675585");
  ph_asset_ref all[4];
  REQUIRE(mk->get_group(h, idx[1], &g, all, 4) == PH_OK);
  CHECK(std::string(all[3].market) == m19);
  REQUIRE(mk->get_group(h, idx[0], &g, nullptr, 0) == PH_OK);
  CHECK(g.kind == PH_GROUP_BINARY);
  CHECK(g.leg_count == 2);
  CHECK(std::string(g.event_id) == "900001");
  CHECK(mk->get_group(h, 22, &g, nullptr, 0) == PH_ERR_NOT_FOUND);
  CHECK(mk->get_group(h, 0, &g, nullptr, 2) == PH_ERR_INVALID_ARGUMENT);
  CHECK(mk->find_groups(h, nullptr, "nope", idx, 4, &n) == PH_ERR_NOT_FOUND);

  // Strings handed out stay valid while the catalog grows.
  const char* id = g.id;
  for (int i = 0; i < 1000; ++i) c.AddObservedAsset("obs-" + std::to_string(i), "a");
  CHECK(std::string(id) == "market:0x10a6604459b4b445f6b9aba74389e00718a95fea71c40eab7bd5dea8f2bc0cec");
  CHECK(mk->get_outcome(h, nullptr, "a", &o) == PH_ERR_INVALID_ARGUMENT);  // ambiguous without a market
  CHECK(mk->find_groups(h, nullptr, "a", idx, 4, &n) == PH_ERR_INVALID_ARGUMENT);
  CHECK(mk->find_groups(h, "obs-7", "a", idx, 4, &n) == PH_OK);
  CHECK(n == 0);

  // A host that does not know the extension: every call refuses cleanly.
  FakeHost other(nullptr);
  CHECK(mk->market_count(&other.host) == 0);
  CHECK(mk->get_market(&other.host, m19, &info) == PH_ERR_INVALID_ARGUMENT);
}

TEST_CASE("endDate becomes end_time_ms: ISO-8601 UTC, optional fraction, absent or null = 0") {
  int64_t ms = 0;
  CHECK(ParseIsoUtcMs("1970-01-01T00:00:00Z", &ms));
  CHECK(ms == 0);
  CHECK(ParseIsoUtcMs("2026-01-31T12:00:00Z", &ms));
  CHECK(ms == 1'769'860'800'000);
  CHECK(ParseIsoUtcMs("2026-01-31T12:00:00.25Z", &ms));
  CHECK(ms == 1'769'860'800'250);
  CHECK(ParseIsoUtcMs("2026-01-31T12:00:00.123456Z", &ms));  // truncated to ms
  CHECK(ms == 1'769'860'800'123);
  CHECK(ParseIsoUtcMs("2026-01-31T14:00:00+02:00", &ms));
  CHECK(ms == 1'769'860'800'000);
  CHECK(ParseIsoUtcMs("2024-02-29T00:00:00Z", &ms));
  CHECK(ms == 1'709'164'800'000);
  CHECK(ParseIsoUtcMs("2026-01-31", &ms));
  CHECK(ms == 1'769'817'600'000);
  for (const char* bad : {"", "2026-01-31T12:00:00", "2026-01-31T12:00Z", "2026-13-01T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-01-31T24:00:00Z", "2026-01-31T12:00:00.Z",
                          "2026-01-31T12:00:00Zx", "tomorrow", "2026-1-31T12:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(ParseIsoUtcMs(bad, &ms));
  }

  MarketCatalog c;
  c.LoadGammaMarketsText(R"([
    {"conditionId":"0xa","endDate":"2026-01-31T12:00:00Z"},
    {"conditionId":"0xb","endDate":"2026-01-31T12:00:00.500Z"},
    {"conditionId":"0xc","endDate":null},
    {"conditionId":"0xd"}
  ])",
                         "inline");
  CHECK(c.FindMarket("0xa")->end_time_ms == 1'769'860'800'000);
  CHECK(c.FindMarket("0xb")->end_time_ms == 1'769'860'800'500);
  CHECK(c.FindMarket("0xc")->end_time_ms == 0);
  CHECK(c.FindMarket("0xd")->end_time_ms == 0);
  c.AddObservedAsset("obs", "yes");
  CHECK(c.FindMarket("obs")->end_time_ms == 0);
  // The committed Gamma market has one.
  MarketCatalog g;
  g.LoadGammaMarketsJson(kSource + "/recordings/polymarket/http/gamma_market.json");
  CHECK(g.MarketAt(0)->end_time_ms > 0);

  // Through the extension, for a caller that knows the field.
  MarketsExtension ext(c);
  FakeHost fake(ext.table());
  const auto* mk = static_cast<const ph_markets_ext*>(ext.table());
  ph_market_info info{};
  info.struct_size = sizeof(info);
  REQUIRE(mk->get_market(&fake.host, "0xa", &info) == PH_OK);
  CHECK(info.struct_size == sizeof(info));
  CHECK(info.end_time_ms == 1'769'860'800'000);
  // A 1.0 caller (struct ending at reserved0) gets only the 1.0 part.
  ph_market_info v10{};
  v10.struct_size = static_cast<uint32_t>(offsetof(ph_market_info, end_time_ms));
  v10.end_time_ms = -7;
  REQUIRE(mk->get_market(&fake.host, "0xa", &v10) == PH_OK);
  CHECK(v10.struct_size == offsetof(ph_market_info, end_time_ms));
  CHECK(v10.end_time_ms == -7);
  CHECK(std::string(v10.market) == "0xa");
}

TEST_CASE("readers and a writer may use the catalog concurrently") {
  MarketCatalog c;
  c.LoadGammaMarketsJson(kSource + "/recordings/golden/feedA.catalog.json");
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0};
  std::thread reader([&] {
    while (!stop.load()) {
      for (const GroupView& g : c.Groups()) {
        if (g.legs.size() < 2) FAIL_CHECK("a group with fewer than two legs was listed");
      }
      c.FindOutcome("", "a");
      ++reads;
    }
  });
  // Start writing only once the reader runs, so the two really overlap even on a
  // loaded machine.
  while (reads.load() == 0) std::this_thread::yield();
  for (int i = 0; i < 2000; ++i) {
    c.AddObservedAsset("w-" + std::to_string(i), "x");
    c.AddObservedAsset("w-" + std::to_string(i), "y");
  }
  stop = true;
  reader.join();
  CHECK(c.group_count() == 22 + 2000);
  CHECK(reads.load() > 0);
}

}  // namespace
}  // namespace polyhost

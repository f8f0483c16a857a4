// libFuzzer harness: Gamma market-list parsing (catalog/market_catalog.h).
//
// ParseGammaMarkets must either return specs or throw CatalogError; the specs it
// returns must load into a catalog, and ParseIsoUtcMs (the endDate parser) gets
// the raw input too. Any other exception, crash or UB is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "catalog/market_catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  int64_t ms = 0;
  (void)polyhost::ParseIsoUtcMs(text, &ms);
  std::vector<polyhost::MarketSpec> specs;
  try {
    specs = polyhost::MarketCatalog::ParseGammaMarkets(text, "fuzz.json");
  } catch (const polyhost::CatalogError&) {
    return 0;
  }
  polyhost::MarketCatalog catalog;
  if (catalog.LoadGammaMarketsText(text, "fuzz.json") != specs.size()) std::abort();
  // Every group's legs must resolve back to known outcomes.
  for (size_t g = 0; g < catalog.group_count(); ++g) {
    auto group = catalog.GroupAt(g);
    if (!group) std::abort();
    for (const polyhost::AssetRefView& leg : group->legs) {
      if (!catalog.FindOutcome(leg.market, leg.asset_id)) std::abort();
    }
  }
  return 0;
}

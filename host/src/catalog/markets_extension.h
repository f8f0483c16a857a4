// The "polyhost.markets/1" host extension (sdk/include/polyhost/abi/markets.h)
// over a MarketCatalog. The host registers it before loading plugins:
//
//   MarketCatalog catalog;
//   catalog.LoadGammaMarketsJson("catalog.json");
//   MarketsExtension markets(catalog);             // must outlive the PluginHost
//   plugin_host.RegisterExtension(PH_EXT_MARKETS, markets.table());
//
// The C functions find the catalog through the calling plugin's ph_host
// (host->get_extension(host, PH_EXT_MARKETS) returns this object's table, which
// sits at the start of a block that also points to the catalog), so one table
// serves every plugin. Every function is [any-thread], noexcept, and never throws
// across the boundary.
#pragma once

#include <cstdint>

#include "catalog/market_catalog.h"
#include "polyhost/abi/markets.h"

namespace polyhost {

class MarketsExtension {
 public:
  explicit MarketsExtension(const MarketCatalog& catalog);
  MarketsExtension(const MarketsExtension&) = delete;
  MarketsExtension& operator=(const MarketsExtension&) = delete;

  // The ph_markets_ext table to register under PH_EXT_MARKETS.
  const void* table() const { return &block_.table; }
  const MarketCatalog& catalog() const { return *block_.catalog; }

  struct Block {
    ph_markets_ext table;  // first: the table's address is the block's
    uint64_t magic;
    const MarketCatalog* catalog;
  };

 private:
  Block block_;
};

}  // namespace polyhost

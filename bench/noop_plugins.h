// No-op strategy plugins for the dispatch benchmark (bench only), handed to
// PluginHost::LoadEntry as in-memory entries:
//
//   - NoopCEntry():   written against the plain C ABI (polyhost/abi): on_book
//                     returns PH_OK and touches nothing. Measures the host's own
//                     dispatch cost.
//   - NoopSdkEntry(): a polyhost::sdk::Strategy with an empty on_book, glued by
//                     the SDK exactly as POLYHOST_PLUGIN does (same descriptor and
//                     Glue<T>::Create; only the exported symbol is left out, so
//                     the benchmark binary does not export polyhost_plugin_entry).
//                     Adds the SDK trampoline: exception guard, BookView::From,
//                     one virtual call.
//   - NoopSdkRefEntry(): the same with the zero-copy hook (on_book_ref: a
//                     BookViewRef on the host's view, no BookView built).
//
// Both subscribe in init() to what NoopSubscriptions() says at that moment.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "polyhost/abi/entry.h"

namespace polyhost::bench {

struct NoopSubscriptionSet {
  bool wildcard = false;  // subscribe("*", "*") instead of the named assets
  std::vector<std::pair<std::string, std::string>> assets;  // (market, asset_id)
};

// Read by the no-op plugins' init(); set it before PluginHost::LoadEntry.
NoopSubscriptionSet& NoopSubscriptions();

const ph_plugin_entry* NoopCEntry();
const ph_plugin_entry* NoopSdkEntry();
const ph_plugin_entry* NoopSdkRefEntry();

}  // namespace polyhost::bench

// No-op plugins for the dispatch benchmark; see noop_plugins.h.
#include "noop_plugins.h"

#include <polyhost/sdk/sdk.hpp>

namespace polyhost::bench {

NoopSubscriptionSet& NoopSubscriptions() {
  static NoopSubscriptionSet set;
  return set;
}

namespace {

// Subscribes `host` to the current subscription set; PH_OK or the first error.
ph_result SubscribeAll(const ph_host* host) {
  const NoopSubscriptionSet& set = NoopSubscriptions();
  if (set.wildcard) return host->subscribe(host, PH_SUBSCRIBE_ALL, PH_SUBSCRIBE_ALL);
  for (const auto& [market, asset_id] : set.assets) {
    const ph_result rc = host->subscribe(host, market.c_str(), asset_id.c_str());
    if (rc != PH_OK) return rc;
  }
  return PH_OK;
}

// ---- plain C ABI ----------------------------------------------------------------

struct CNoop {
  ph_plugin table;  // first member: &table == this
  const ph_host* host;
};

ph_result CInit(const ph_plugin* p) { return SubscribeAll(static_cast<const CNoop*>(p->plugin_data)->host); }
ph_result COk(const ph_plugin*) { return PH_OK; }
ph_result COnBook(const ph_plugin*, const ph_book_view*) { return PH_OK; }
void CDestroy(const ph_plugin* p) { delete static_cast<CNoop*>(p->plugin_data); }

const ph_plugin_descriptor kCDescriptor = {sizeof(ph_plugin_descriptor), 0u, "bench_noop_c", "No-op (C ABI)",
                                           "1.0.0", nullptr, "bench: on_book returns PH_OK"};

const ph_plugin* CCreate(const ph_host* host) {
  auto* self = new CNoop{};
  self->host = host;
  ph_plugin& t = self->table;
  t.struct_size = sizeof(ph_plugin);
  t.desc = &kCDescriptor;
  t.plugin_data = self;
  t.init = &CInit;
  t.activate = &COk;
  t.deactivate = &COk;
  t.destroy = &CDestroy;
  t.on_book = &COnBook;  // every other callback stays NULL: not called
  return &self->table;
}

const ph_plugin_entry kCEntry = {sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &kCDescriptor, &CCreate};

// ---- C++ SDK --------------------------------------------------------------------

class SdkNoop final : public sdk::Strategy {
  void init() override {
    const ph_result rc = SubscribeAll(host().raw());
    if (rc != PH_OK) throw sdk::Error(rc, "subscribe failed");
  }
  void on_book(const sdk::BookView& /*book*/) override {}
};

class SdkRefNoop final : public sdk::Strategy {
  void init() override {
    const ph_result rc = SubscribeAll(host().raw());
    if (rc != PH_OK) throw sdk::Error(rc, "subscribe failed");
  }
  void on_book_ref(sdk::BookViewRef /*book*/) override {}
};

// What POLYHOST_PLUGIN(SdkNoop, ...) expands to, minus the exported symbol.
const ph_plugin_descriptor kSdkDescriptor = {sizeof(ph_plugin_descriptor), 0u, "bench_noop_sdk", "No-op (C++ SDK)",
                                             "1.0.0", nullptr, nullptr};
const ph_plugin* SdkCreate(const ph_host* host) noexcept {
  return sdk::detail::Glue<SdkNoop>::Create(host, &kSdkDescriptor);
}
const ph_plugin_entry kSdkEntry = {sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &kSdkDescriptor, &SdkCreate};
const ph_plugin_descriptor kSdkRefDescriptor = {sizeof(ph_plugin_descriptor), 0u, "bench_noop_sdk_ref",
                                                "No-op (C++ SDK, on_book_ref)", "1.0.0", nullptr, nullptr};
const ph_plugin* SdkRefCreate(const ph_host* host) noexcept {
  return sdk::detail::Glue<SdkRefNoop>::Create(host, &kSdkRefDescriptor);
}
const ph_plugin_entry kSdkRefEntry = {sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &kSdkRefDescriptor,
                                      &SdkRefCreate};

}  // namespace

const ph_plugin_entry* NoopCEntry() { return &kCEntry; }
const ph_plugin_entry* NoopSdkEntry() { return &kSdkEntry; }
const ph_plugin_entry* NoopSdkRefEntry() { return &kSdkRefEntry; }

}  // namespace polyhost::bench

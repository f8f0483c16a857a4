// Throws out of on_book. The SDK's trampoline must catch it, log it, and return
// PH_ERR_EXCEPTION, so the host disables this plugin and nothing else.
#include <stdexcept>

#include <polyhost/sdk/sdk.hpp>

namespace {

class Throws final : public polyhost::sdk::Strategy {
  void init() override { host().subscribe("m", "yes"); }
  void on_book(const polyhost::sdk::BookView&) override { throw std::runtime_error("exploding on purpose"); }
};

}  // namespace

POLYHOST_PLUGIN(Throws, "throws", "Throws from on_book", "1.0.0");

// The smallest useful plugin written with the C++ layer: subscribes to the asset
// its config names, counts the books it receives, logs its lifecycle.
#include <polyhost/sdk/sdk.hpp>

namespace {

using namespace polyhost::sdk;

class Noop final : public Strategy {
  void init() override {
    market_ = host().config_string("market", "m");
    host().subscribe(market_, host().config_string("asset_id", "yes"));
  }
  void activate() override { host().info("noop: active on " + market_); }
  void on_book(const BookView& book) override {
    host().counter("books");
    host().gauge("best_bid", book.best_bid());
  }
  void deactivate() override { host().info("noop: inactive"); }

  std::string market_;
};

}  // namespace

POLYHOST_PLUGIN(Noop, "noop", "No-op strategy", "1.0.0");

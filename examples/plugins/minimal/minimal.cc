// A minimal polyhost strategy: improves the bid of one asset by one tick when
// its spread is wide, one quote at a time.
//
//   [plugin.minimal]
//   market = "0x..."     # the market (condition) id
//   asset_id = "..."     # the outcome token id
//   min_spread = 0.03    # quote only when ask - bid >= this
//   size = 5             # tokens per quote
#include <polyhost/sdk/sdk.hpp>

using namespace polyhost::sdk;

class Minimal final : public Strategy {
  void init() override {
    market_ = host().require_string("market");
    asset_ = host().require_string("asset_id");
    min_spread_ = host().config_micros("min_spread", 30'000);
    size_ = host().config_micros("size", 5 * kMicros);
    host().subscribe(market_, asset_);
  }

  void on_book(const BookView& book) override {
    if (book.stale || book.bids.empty() || book.asks.empty() || quoting_) return;
    const int64_t spread = book.best_ask() - book.best_bid();
    host().gauge("spread", spread);
    if (spread < min_spread_) return;
    const int64_t tick = book.tick_size > 0 ? book.tick_size : 10'000;
    host().submit(Plan("improve-bid", "spread is wide")
                      .buy(market_, asset_, book.best_bid() + tick, size_, Tif::kGtc));
    quoting_ = true;
  }

  void on_order_update(const OrderUpdate& update) override {
    if (update.kind == OrderEvent::kPlanRejected) host().warn("plan rejected: " + std::string(update.reason));
    if (update.kind == OrderEvent::kPlanRejected || update.kind == OrderEvent::kCancelled ||
        update.kind == OrderEvent::kFilled) {
      quoting_ = false;
    }
  }

  std::string market_, asset_;
  int64_t min_spread_ = 0, size_ = 0;
  bool quoting_ = false;
};

POLYHOST_PLUGIN(Minimal, "minimal", "Minimal example strategy", "1.0.0");

// A test plugin for the live end-to-end tests (live_e2e_test.py):
//   [plugin.live_probe]
//   first = "<market>/<asset>"   subscribed in init
//   then = "<market>/<asset>"    subscribed at run time, on the first book of `first`
//   quote = true                 one resting GTC buy (size 10, at the best bid) per
//                                fresh book it sees, so a shutdown has quotes to cancel
#include <polyhost/sdk/sdk.hpp>

#include <set>
#include <string>

namespace {

using namespace polyhost::sdk;

std::pair<std::string, std::string> Split(const std::string& s) {
  const size_t slash = s.find('/');
  if (slash == std::string::npos) return {"", s};
  return {s.substr(0, slash), s.substr(slash + 1)};
}

class LiveProbe final : public Strategy {
 public:
  explicit LiveProbe(Host host) : Strategy(host) {}

 private:
  void init() override {
    first_ = Split(host().require_string("first"));
    if (auto then = host().find_string("then")) then_ = Split(*then);
    quote_ = host().config_bool("quote", false);
    host().subscribe(first_.first, first_.second);
  }

  void on_book(const BookView& book) override {
    const std::string asset(book.asset.asset_id);
    if (!subscribed_then_ && !then_.second.empty() && asset == first_.second) {
      subscribed_then_ = true;
      host().info("subscribing to " + then_.second + " at run time");
      host().subscribe(then_.first, then_.second);
    }
    if (!quote_ || book.stale || quoted_.count(asset) != 0 || book.best_bid() <= 0) return;
    quoted_.insert(asset);
    host().submit(Plan("probe-quote", "rest a bid for the shutdown test")
                      .buy(book.asset.market, book.asset.asset_id, book.best_bid(), 10 * kMicros, Tif::kGtc));
  }

  std::pair<std::string, std::string> first_, then_;
  bool subscribed_then_ = false;
  bool quote_ = false;
  std::set<std::string> quoted_;
};

}  // namespace

POLYHOST_PLUGIN_DESCRIBED(LiveProbe, "live_probe", "Live probe", "1.0.0", "polyhost tests",
                          "subscribes at run time and rests quotes (live tests)");

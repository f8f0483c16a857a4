// A well-behaved C++ plugin loaded beside misbehaving ones: it must keep
// receiving every book after they are disabled. Reports through metrics.
#include <polyhost/sdk/sdk.hpp>

namespace {

using namespace polyhost::sdk;

class Good final : public Strategy {
 public:
  explicit Good(Host host) : Strategy(host) {}

 private:
  void init() override { host().subscribe("m", "yes"); }
  void on_book(const BookView& book) override {
    host().counter("books");
    int64_t depth = 0;
    for (const Level& level : book.asks) depth += level.size;
    host().gauge("ask_depth", depth);
    host().gauge("best_ask", book.best_ask());
  }
};

}  // namespace

POLYHOST_PLUGIN_DESCRIBED(Good, "good", "Good citizen", "2.0.1", "polyhost tests", "counts books");

// polyhost C++ SDK: the Strategy base class.
//
//   class MyStrategy : public polyhost::sdk::Strategy {
//     void init() override { host().subscribe(host().require_string("market"), ...); }
//     void on_book(const polyhost::sdk::BookView& book) override { ... }
//   };
//   POLYHOST_PLUGIN(MyStrategy, "my_strategy", "My strategy", "0.1.0")
//
// Every hook runs on the host's strategy thread, one at a time. Hooks report
// failure by throwing (polyhost::sdk::Error carries a ph_result; any other
// exception becomes PH_ERR_EXCEPTION): the host then logs it and disables this
// plugin. Views passed to hooks are valid only until the hook returns.
//
// A strategy is constructed in the ABI's create() (keep the constructor cheap;
// it may take a polyhost::sdk::Host or nothing) and destroyed in destroy().
#pragma once

#include <cstdint>
#include <string_view>

#include "polyhost/sdk/host.hpp"
#include "polyhost/sdk/types.hpp"

namespace polyhost::sdk {

namespace detail {
template <class T>
struct Glue;
}

class Strategy {
 public:
  Strategy() = default;
  explicit Strategy(Host host) noexcept : host_(host) {}
  virtual ~Strategy() = default;
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;

  // Lifecycle: init (read config, subscribe) -> activate -> hooks -> deactivate.
  virtual void init() {}
  virtual void activate() {}
  virtual void deactivate() {}

  // Market data for subscribed assets.
  virtual void on_book(const BookView& /*book*/) {}
  // The zero-copy alternative to on_book(const BookView&): the same updates
  // through a handle on the host's view, without copying it into a BookView
  // first (docs/plugin-guide.md, "Zero-copy books"). Override one of the two.
  // This default makes the BookView and calls on_book(const BookView&); a
  // strategy that does not override on_book_ref pays nothing for it (the SDK
  // glue sees that at compile time and calls on_book directly).
  virtual void on_book_ref(BookViewRef book) { on_book(book.view()); }
  virtual void on_trade(const Trade& /*trade*/) {}
  virtual void on_status(const StatusEvent& /*event*/) {}

  // This plugin's plans and orders.
  virtual void on_order_update(const OrderUpdate& /*update*/) {}
  virtual void on_fill(const Fill& /*fill*/) {}

  // The interval set with host().set_timer() elapsed.
  virtual void on_timer(int64_t /*now_ms*/) {}

  // A plugin extension table by id, or nullptr.
  virtual const void* get_extension(std::string_view /*id*/) { return nullptr; }

  const Host& host() const noexcept { return host_; }

 private:
  template <class T>
  friend struct detail::Glue;
  Host host_;
};

}  // namespace polyhost::sdk

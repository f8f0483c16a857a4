// polyhost C++ SDK: the glue between a Strategy and the C ABI, and the export
// macro.
//
//   POLYHOST_PLUGIN(MyStrategy, "my_strategy", "My strategy", "0.1.0")
//
// placed once, at namespace scope, in one source file of the plugin, defines the
// library's only exported symbol, `polyhost_plugin_entry` (default visibility;
// build everything else with -fvisibility=hidden, as polyhost_add_plugin() does).
//
// Every trampoline is noexcept and catches everything: a C++ exception never
// crosses the ABI. An escaping polyhost::sdk::Error returns its code, any other
// exception PH_ERR_EXCEPTION; both are logged through the host first.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "polyhost/abi/polyhost.h"
#include "polyhost/sdk/host.hpp"
#include "polyhost/sdk/strategy.hpp"
#include "polyhost/sdk/types.hpp"

namespace polyhost::sdk::detail {

// True unless T (or a class between it and Strategy) leaves on_book_ref as
// Strategy defines it. An override the glue cannot name (a private one) fails
// the requires-expression and counts as an override: calling the virtual
// on_book_ref is right in every case, skipping it only when it is Strategy's.
template <class T>
consteval bool OverridesOnBookRef() {
  if constexpr (requires { &T::on_book_ref; }) {
    return !std::is_same_v<decltype(&T::on_book_ref), void (Strategy::*)(BookViewRef)>;
  } else {
    return true;
  }
}

template <class T>
struct Glue {
  static_assert(std::is_base_of_v<Strategy, T>, "POLYHOST_PLUGIN needs a class derived from polyhost::sdk::Strategy");
  static_assert(std::is_constructible_v<T, Host> || std::is_default_constructible_v<T>,
                "a Strategy must be constructible from polyhost::sdk::Host or default-constructible");

  struct Instance {
    ph_plugin table{};  // first member: &table == this
    Host host;
    // Held in place, not behind a pointer: one dependent load less on every hook.
    std::optional<T> strategy;
  };

  static Instance& Self(const ph_plugin* p) noexcept { return *static_cast<Instance*>(p->plugin_data); }

  static void LogFailure(const Host& host, const char* hook, const char* what) noexcept {
    try {
      host.error(std::string(hook) + ": " + what);
    } catch (...) {
      host.error("a hook failed (and so did formatting its message)");
    }
  }

  // Runs f(strategy) and turns every exception into a ph_result.
  template <class F>
  static ph_result Guard(const ph_plugin* p, const char* hook, F&& f) noexcept {
    if (p == nullptr || p->plugin_data == nullptr) return PH_ERR_INVALID_ARGUMENT;
    Strategy& strategy = *Self(p).strategy;  // through the base: hooks may be private
    try {
      f(strategy);
      return PH_OK;
    } catch (...) {
      // Only the strategy stays live across the hook (the handlers are out of
      // line): a smaller frame on every call, which on_book makes per update.
      return Failed(strategy.host_, hook);
    }
  }

  // Called inside Guard's handler: `throw;` re-raises the exception being
  // handled, to log it and choose the code.
#if defined(__GNUC__)
  [[gnu::noinline, gnu::cold]]
#endif
  static ph_result Failed(const Host& host, const char* hook) noexcept {
    try {
      throw;
    } catch (const Error& e) {
      LogFailure(host, hook, e.what());
      return e.code();
    } catch (const std::exception& e) {
      LogFailure(host, hook, (std::string("uncaught exception: ") + e.what()).c_str());
      return PH_ERR_EXCEPTION;
    } catch (...) {
      LogFailure(host, hook, "uncaught exception of unknown type");
      return PH_ERR_EXCEPTION;
    }
  }

  static ph_result Init(const ph_plugin* p) noexcept {
    return Guard(p, "init", [](Strategy& s) { s.init(); });
  }
  static ph_result Activate(const ph_plugin* p) noexcept {
    return Guard(p, "activate", [](Strategy& s) { s.activate(); });
  }
  static ph_result Deactivate(const ph_plugin* p) noexcept {
    return Guard(p, "deactivate", [](Strategy& s) { s.deactivate(); });
  }
  static ph_result OnBook(const ph_plugin* p, const ph_book_view* v) noexcept {
    if (v == nullptr) return PH_ERR_INVALID_ARGUMENT;
    if constexpr (OverridesOnBookRef<T>()) {
      return Guard(p, "on_book", [v](Strategy& s) { s.on_book_ref(BookViewRef(*v)); });
    } else {  // what Strategy::on_book_ref would do, without its virtual call
      return Guard(p, "on_book", [v](Strategy& s) { s.on_book(BookView::From(*v)); });
    }
  }
  static ph_result OnTrade(const ph_plugin* p, const ph_trade* t) noexcept {
    if (t == nullptr) return PH_ERR_INVALID_ARGUMENT;
    return Guard(p, "on_trade", [t](Strategy& s) { s.on_trade(Trade::From(*t)); });
  }
  static ph_result OnOrderUpdate(const ph_plugin* p, const ph_order_update* u) noexcept {
    if (u == nullptr) return PH_ERR_INVALID_ARGUMENT;
    return Guard(p, "on_order_update", [u](Strategy& s) { s.on_order_update(OrderUpdate::From(*u)); });
  }
  static ph_result OnFill(const ph_plugin* p, const ph_fill* f) noexcept {
    if (f == nullptr) return PH_ERR_INVALID_ARGUMENT;
    return Guard(p, "on_fill", [f](Strategy& s) { s.on_fill(Fill::From(*f)); });
  }
  static ph_result OnTimer(const ph_plugin* p, int64_t now_ms) noexcept {
    return Guard(p, "on_timer", [now_ms](Strategy& s) { s.on_timer(now_ms); });
  }
  static ph_result OnStatus(const ph_plugin* p, const ph_status_event* e) noexcept {
    if (e == nullptr) return PH_ERR_INVALID_ARGUMENT;
    return Guard(p, "on_status", [e](Strategy& s) { s.on_status(StatusEvent::From(*e)); });
  }
  static const void* GetExtension(const ph_plugin* p, const char* id) noexcept {
    if (p == nullptr || p->plugin_data == nullptr || id == nullptr) return nullptr;
    try {
      return static_cast<Strategy&>(*Self(p).strategy).get_extension(std::string_view(id));
    } catch (...) {
      return nullptr;
    }
  }
  static void Destroy(const ph_plugin* p) noexcept {
    if (p == nullptr) return;
    delete static_cast<Instance*>(p->plugin_data);  // destructors are noexcept
  }

  static const ph_plugin* Create(const ph_host* host, const ph_plugin_descriptor* desc) noexcept {
    if (host == nullptr) return nullptr;
    Host h(host);
    try {
      auto self = std::make_unique<Instance>();
      self->host = h;
      if constexpr (std::is_constructible_v<T, Host>) {
        self->strategy.emplace(h);
      } else {
        self->strategy.emplace();
      }
      static_cast<Strategy&>(*self->strategy).host_ = h;
      ph_plugin& t = self->table;
      t.struct_size = sizeof(ph_plugin);
      t.desc = desc;
      t.plugin_data = self.get();
      t.init = &Init;
      t.activate = &Activate;
      t.deactivate = &Deactivate;
      t.destroy = &Destroy;
      t.on_book = &OnBook;
      t.on_trade = &OnTrade;
      t.on_order_update = &OnOrderUpdate;
      t.on_fill = &OnFill;
      t.on_timer = &OnTimer;
      t.on_status = &OnStatus;
      t.get_extension = &GetExtension;
      return &self.release()->table;
    } catch (const std::exception& e) {
      LogFailure(h, "create", e.what());
    } catch (...) {
      LogFailure(h, "create", "uncaught exception of unknown type");
    }
    return nullptr;
  }
};

}  // namespace polyhost::sdk::detail

// Defines the plugin's entry symbol for StrategyClass. Use once per plugin, at
// namespace scope, outside any namespace. The strings must be literals (or other
// constants with static storage).
#define POLYHOST_PLUGIN_DESCRIBED(StrategyClass, plugin_id, plugin_name, plugin_version, plugin_vendor, \
                                  plugin_description)                                                    \
  namespace {                                                                                            \
  const ::ph_plugin_descriptor polyhost_plugin_descriptor_ = {                                           \
      sizeof(::ph_plugin_descriptor), 0u, plugin_id, plugin_name, plugin_version, plugin_vendor,         \
      plugin_description};                                                                               \
  const ::ph_plugin* polyhost_plugin_create_(const ::ph_host* host) noexcept {                           \
    return ::polyhost::sdk::detail::Glue<StrategyClass>::Create(host, &polyhost_plugin_descriptor_);     \
  }                                                                                                      \
  }                                                                                                      \
  extern "C" POLYHOST_PLUGIN_EXPORT const ::ph_plugin_entry polyhost_plugin_entry = {                    \
      sizeof(::ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &polyhost_plugin_descriptor_,                \
      &polyhost_plugin_create_};                                                                         \
  static_assert(true, "")

#define POLYHOST_PLUGIN(StrategyClass, plugin_id, plugin_name, plugin_version) \
  POLYHOST_PLUGIN_DESCRIBED(StrategyClass, plugin_id, plugin_name, plugin_version, nullptr, nullptr)

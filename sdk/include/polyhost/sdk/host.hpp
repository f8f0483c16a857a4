// polyhost C++ SDK: a thin, copyable handle over the host-services table.
//
// Methods marked "throws" throw polyhost::sdk::Error on failure; inside a
// Strategy hook that simply disables the plugin with a log line naming the
// problem, which is usually what a strategy wants for a broken configuration or
// a refused request. The try_* variants return the ph_result instead.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "polyhost/abi/polyhost.h"
#include "polyhost/sdk/types.hpp"

namespace polyhost::sdk {

namespace detail {

// A NUL-terminated copy of a string_view: on the stack when short, so the usual
// market and asset ids (66 and ~77 chars) cost no allocation.
class CStr {
 public:
  explicit CStr(std::string_view s) {
    if (s.size() < buf_.size()) {
      if (!s.empty()) std::memcpy(buf_.data(), s.data(), s.size());  // data() may be null when empty
      buf_[s.size()] = '\0';
      p_ = buf_.data();
    } else {
      heap_.assign(s);
      p_ = heap_.c_str();
    }
  }
  CStr(const CStr&) = delete;
  CStr& operator=(const CStr&) = delete;
  const char* c_str() const noexcept { return p_; }
  operator const char*() const noexcept { return p_; }

 private:
  std::array<char, 128> buf_;
  std::string heap_;
  const char* p_ = nullptr;
};

}  // namespace detail

class Host {
 public:
  Host() = default;
  explicit Host(const ph_host* host) noexcept : h_(host) {}

  const ph_host* raw() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }

  // The name this instance was loaded as ([plugin.<name>] is its config).
  std::string_view plugin_name() const noexcept { return h_ ? detail::Str(h_->plugin_name) : std::string_view(); }
  ph_version abi_version() const noexcept { return h_ ? h_->abi_version : ph_version{0, 0, 0}; }

  // ---- logging and clock: [any-thread], never throw ----
  void log(LogLevel level, std::string_view message) const noexcept {
    if (h_ == nullptr || h_->log == nullptr) return;
    try {
      detail::CStr text(message);
      h_->log(h_, static_cast<ph_log_level>(level), text);
    } catch (...) {
    }
  }
  void trace(std::string_view m) const noexcept { log(LogLevel::kTrace, m); }
  void debug(std::string_view m) const noexcept { log(LogLevel::kDebug, m); }
  void info(std::string_view m) const noexcept { log(LogLevel::kInfo, m); }
  void warn(std::string_view m) const noexcept { log(LogLevel::kWarn, m); }
  void error(std::string_view m) const noexcept { log(LogLevel::kError, m); }

  // Host clock, ms since the epoch (replayed time in replays).
  int64_t now_ms() const noexcept { return h_ != nullptr && h_->now_ms != nullptr ? h_->now_ms(h_) : 0; }

  // ---- metrics: [any-thread], never throw ----
  void counter(std::string_view name, int64_t delta = 1) const noexcept { metric(name, PH_METRIC_COUNTER, delta); }
  void gauge(std::string_view name, int64_t value) const noexcept { metric(name, PH_METRIC_GAUGE, value); }
  ph_result metric(std::string_view name, ph_metric_kind kind, int64_t value) const noexcept {
    if (h_ == nullptr || h_->metric == nullptr) return PH_ERR_UNSUPPORTED;
    try {
      detail::CStr n(name);
      return h_->metric(h_, n, kind, value);
    } catch (...) {
      return PH_ERR_OUT_OF_MEMORY;
    }
  }

  // ---- configuration ([plugin.<name>] keys) ----
  // find_*: nullopt when the key is absent; throws when it has the wrong type.
  std::optional<std::string> find_string(std::string_view key) const {
    const char* out = nullptr;
    detail::CStr k(key);
    ph_result rc = h_->config_get_string(h_, k, &out);
    if (rc == PH_ERR_NOT_FOUND) return std::nullopt;
    check_config(rc, key, "a string");
    return std::string(detail::Str(out));
  }
  std::optional<int64_t> find_int(std::string_view key) const {
    int64_t out = 0;
    detail::CStr k(key);
    ph_result rc = h_->config_get_int(h_, k, &out);
    if (rc == PH_ERR_NOT_FOUND) return std::nullopt;
    check_config(rc, key, "an integer");
    return out;
  }
  // A decimal read exactly into micro-units ("0.02" -> 20000).
  std::optional<int64_t> find_micros(std::string_view key) const {
    int64_t out = 0;
    detail::CStr k(key);
    ph_result rc = h_->config_get_micros(h_, k, &out);
    if (rc == PH_ERR_NOT_FOUND) return std::nullopt;
    check_config(rc, key, "a decimal with at most 6 fractional digits");
    return out;
  }
  std::optional<bool> find_bool(std::string_view key) const {
    int32_t out = 0;
    detail::CStr k(key);
    ph_result rc = h_->config_get_bool(h_, k, &out);
    if (rc == PH_ERR_NOT_FOUND) return std::nullopt;
    check_config(rc, key, "true or false");
    return out != 0;
  }
  // With a default for absent keys; throws when present with the wrong type.
  std::string config_string(std::string_view key, std::string_view fallback = {}) const {
    auto v = find_string(key);
    return v ? std::move(*v) : std::string(fallback);
  }
  int64_t config_int(std::string_view key, int64_t fallback) const { return find_int(key).value_or(fallback); }
  int64_t config_micros(std::string_view key, int64_t fallback) const { return find_micros(key).value_or(fallback); }
  bool config_bool(std::string_view key, bool fallback) const { return find_bool(key).value_or(fallback); }
  // Throws when absent, too.
  std::string require_string(std::string_view key) const { return require(find_string(key), key); }
  int64_t require_int(std::string_view key) const { return require(find_int(key), key); }
  int64_t require_micros(std::string_view key) const { return require(find_micros(key), key); }
  bool require_bool(std::string_view key) const { return require(find_bool(key), key); }

  // ---- subscriptions and books: strategy thread, inside a hook ----
  void subscribe(std::string_view market, std::string_view asset_id) const {
    detail::CStr m(market), a(asset_id);
    check(h_->subscribe(h_, m, a), "subscribe", market, asset_id);
  }
  // False when it was not subscribed.
  bool unsubscribe(std::string_view market, std::string_view asset_id) const {
    detail::CStr m(market), a(asset_id);
    ph_result rc = h_->unsubscribe(h_, m, a);
    if (rc == PH_ERR_NOT_SUBSCRIBED) return false;
    check(rc, "unsubscribe", market, asset_id);
    return true;
  }
  // The current book of a subscribed asset, or nullopt when the host has none
  // yet. Valid until the current hook returns (raw is null). Throws when not
  // subscribed.
  std::optional<BookView> book(std::string_view market, std::string_view asset_id) const {
    detail::CStr m(market), a(asset_id);
    ph_book_view view{};
    view.struct_size = sizeof(ph_book_view);
    ph_result rc = h_->get_book(h_, m, a, &view);
    if (rc == PH_ERR_NOT_FOUND) return std::nullopt;
    check(rc, "get_book", market, asset_id);
    BookView b = BookView::From(view);
    b.raw = nullptr;  // `view` dies here; the levels and strings it points to do not
    return b;
  }

  // ---- plans and cancels: strategy thread, inside a hook ----
  // Submits a plan; returns its id. Throws on any refusal. PH_ERR_SINK_FULL also
  // disables the plugin once the hook returns (see docs/abi.md).
  uint64_t submit(const Plan& plan) const {
    uint64_t id = 0;
    ph_result rc = try_submit(plan, &id);
    if (rc != PH_OK) {
      throw Error(rc, std::string("submit_plan '") + plan.client_tag + "' failed: " + ph_result_name(rc));
    }
    return id;
  }
  ph_result try_submit(const Plan& plan, uint64_t* plan_id = nullptr) const noexcept {
    constexpr size_t kInline = 8;
    std::array<ph_plan_leg, kInline> inline_legs{};
    std::vector<ph_plan_leg> heap_legs;
    ph_plan_leg* legs = inline_legs.data();
    try {
      if (plan.legs.size() > kInline) {
        heap_legs.resize(plan.legs.size());
        legs = heap_legs.data();
      }
    } catch (...) {
      return PH_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < plan.legs.size(); ++i) {
      const Leg& l = plan.legs[i];
      legs[i].asset = {l.market.c_str(), l.asset_id.c_str()};
      legs[i].side = static_cast<ph_side>(l.side);
      legs[i].tif = static_cast<ph_tif>(l.tif);
      legs[i].price = l.price;
      legs[i].size = l.size;
    }
    ph_plan p{};
    p.struct_size = sizeof(ph_plan);
    p.leg_count = static_cast<uint32_t>(plan.legs.size());
    p.leg_struct_size = sizeof(ph_plan_leg);
    p.client_tag = plan.client_tag.c_str();
    p.legs = plan.legs.empty() ? nullptr : legs;
    p.reason = plan.reason.c_str();
    return h_->submit_plan(h_, &p, plan_id);
  }

  void cancel_all(std::string_view reason = {}) const { cancel(PH_CANCEL_ALL, 0, {}, {}, {}, reason); }
  void cancel_plan(uint64_t plan_id, std::string_view reason = {}) const {
    cancel(PH_CANCEL_PLAN, plan_id, {}, {}, {}, reason);
  }
  void cancel_asset(std::string_view market, std::string_view asset_id, std::string_view reason = {}) const {
    cancel(PH_CANCEL_ASSET, 0, market, asset_id, {}, reason);
  }
  void cancel_order(std::string_view order_id, std::string_view reason = {}) const {
    cancel(PH_CANCEL_ORDER, 0, {}, {}, order_id, reason);
  }

  // on_timer every interval_ms of host clock; 0 stops it.
  void set_timer(int64_t interval_ms) const {
    ph_result rc = h_->set_timer(h_, interval_ms);
    if (rc != PH_OK) throw Error(rc, std::string("set_timer failed: ") + ph_result_name(rc));
  }

  // A host extension table by id, or nullptr: extension<ph_control_ext>(PH_EXT_CONTROL).
  template <class T = void>
  const T* extension(std::string_view id) const noexcept {
    if (h_ == nullptr || h_->get_extension == nullptr) return nullptr;
    try {
      detail::CStr i(id);
      return static_cast<const T*>(h_->get_extension(h_, i));
    } catch (...) {
      return nullptr;
    }
  }

 private:
  void check_config(ph_result rc, std::string_view key, const char* expected) const {
    if (rc == PH_OK) return;
    std::string where = "config key 'plugin." + std::string(plugin_name()) + "." + std::string(key) + "'";
    if (rc == PH_ERR_WRONG_TYPE) throw Error(PH_ERR_CONFIG, where + " must be " + expected);
    throw Error(rc, where + ": " + ph_result_name(rc));
  }
  template <class T>
  T require(std::optional<T> v, std::string_view key) const {
    if (!v) {
      throw Error(PH_ERR_CONFIG,
                  "config key 'plugin." + std::string(plugin_name()) + "." + std::string(key) + "' is required");
    }
    return std::move(*v);
  }
  static void check(ph_result rc, const char* what, std::string_view market, std::string_view asset_id) {
    if (rc == PH_OK) return;
    throw Error(rc, std::string(what) + "(" + std::string(market) + ", " + std::string(asset_id) +
                        ") failed: " + ph_result_name(rc));
  }
  void cancel(ph_cancel_scope scope, uint64_t plan_id, std::string_view market, std::string_view asset_id,
              std::string_view order_id, std::string_view reason) const {
    detail::CStr m(market), a(asset_id), o(order_id), r(reason);
    ph_cancel_request req{};
    req.struct_size = sizeof(req);
    req.scope = scope;
    req.plan_id = plan_id;
    req.asset = {m, a};
    req.order_id = o;
    req.reason = r;
    ph_result rc = h_->cancel_orders(h_, &req);
    if (rc != PH_OK) throw Error(rc, std::string("cancel_orders failed: ") + ph_result_name(rc));
  }

  const ph_host* h_ = nullptr;
};

}  // namespace polyhost::sdk

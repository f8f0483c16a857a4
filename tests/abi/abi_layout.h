/* The frozen ABI 1.0 layout, asserted at compile time. Included by the C11,
 * C++17 and C++20 header checks (and so compiled by all three).
 *
 * Offsets of 1.0 fields and the end of the 1.0 part of each struct never change
 * within major 1; appending fields in a later minor keeps these asserts true
 * (sizeof may grow, so it is only checked with >=). A failing assert here means
 * an incompatible change: see docs/abi.md, "Versioning". Pointer-carrying
 * layouts are checked on LP64 (64-bit Linux/macOS), the supported targets.
 */
#ifndef POLYHOST_TESTS_ABI_LAYOUT_H
#define POLYHOST_TESTS_ABI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "polyhost/abi/polyhost.h"

#ifdef __cplusplus
#define PH_ASSERT(cond, msg) static_assert(cond, msg)
#define PH_FIELD_SIZE(T, f) sizeof(T::f)
#else
#define PH_ASSERT(cond, msg) _Static_assert(cond, msg)
#define PH_FIELD_SIZE(T, f) sizeof(((const T*)0)->f)
#endif

#define PH_OFF(T, f, off) PH_ASSERT(offsetof(T, f) == (off), #T "." #f " moved")
/* The 1.0 part of T ends right after `last` at byte `end`. */
#define PH_END(T, last, end)                                                                 \
  PH_ASSERT(offsetof(T, last) + PH_FIELD_SIZE(T, last) == (end), #T " 1.0 part changed"); \
  PH_ASSERT(sizeof(T) >= (end), #T " shrank")

/* Pointer-free layouts: every platform. */
PH_ASSERT(sizeof(ph_version) == 12, "ph_version is frozen");
PH_OFF(ph_version, major, 0);
PH_OFF(ph_version, minor, 4);
PH_OFF(ph_version, patch, 8);
PH_ASSERT(sizeof(ph_level) == 16, "ph_level is frozen");
PH_OFF(ph_level, price, 0);
PH_OFF(ph_level, size, 8);
PH_ASSERT(sizeof(ph_result) == 4, "ph_result is int32_t");
PH_ASSERT(sizeof(ph_side) == 4 && sizeof(ph_tif) == 4 && sizeof(ph_log_level) == 4, "enums are int32_t");

/* Frozen values. */
PH_ASSERT(POLYHOST_ABI_VERSION_MAJOR == 1, "this file describes major 1");
PH_ASSERT(PH_OK == 0 && PH_ERR_FAILED == -1 && PH_ERR_INVALID_ARGUMENT == -2 && PH_ERR_NOT_FOUND == -3 &&
              PH_ERR_WRONG_TYPE == -4 && PH_ERR_SINK_FULL == -5 && PH_ERR_NOT_SUBSCRIBED == -6 &&
              PH_ERR_WRONG_STATE == -7 && PH_ERR_UNSUPPORTED == -8 && PH_ERR_INCOMPATIBLE == -9 &&
              PH_ERR_EXCEPTION == -10 && PH_ERR_OUT_OF_MEMORY == -11 && PH_ERR_DISABLED == -12 &&
              PH_ERR_CONFIG == -13 && PH_ERR_INTERNAL == -14,
          "result codes are frozen");
PH_ASSERT(PH_ERR_PLUGIN_FIRST == -1000 && PH_ERR_PLUGIN_LAST == -1999, "plugin code range is frozen");
PH_ASSERT(PH_SIDE_BUY == 1 && PH_SIDE_SELL == 2, "sides are frozen");
PH_ASSERT(PH_TIF_GTC == 1 && PH_TIF_IOC == 2 && PH_TIF_FOK == 3, "tifs are frozen");
PH_ASSERT(PH_LOG_TRACE == 0 && PH_LOG_DEBUG == 1 && PH_LOG_INFO == 2 && PH_LOG_WARN == 3 && PH_LOG_ERROR == 4,
          "log levels are frozen");
PH_ASSERT(PH_METRIC_COUNTER == 1 && PH_METRIC_GAUGE == 2, "metric kinds are frozen");
PH_ASSERT(PH_ASSET_STALE == 1 && PH_ASSET_RESYNCED == 2 && PH_ASSET_MARKET_CLOSED == 3, "statuses are frozen");
PH_ASSERT(PH_ORDER_PLAN_ACCEPTED == 1 && PH_ORDER_PLAN_REJECTED == 2 && PH_ORDER_ACKED == 3 &&
              PH_ORDER_REJECTED == 4 && PH_ORDER_PARTIALLY_FILLED == 5 && PH_ORDER_FILLED == 6 &&
              PH_ORDER_CANCELLED == 7,
          "order update kinds are frozen");
PH_ASSERT(PH_CANCEL_ALL == 1 && PH_CANCEL_PLAN == 2 && PH_CANCEL_ASSET == 3 && PH_CANCEL_ORDER == 4,
          "cancel scopes are frozen");
PH_ASSERT(PH_BOOK_FLAG_STALE == 0x1u && PH_ORDER_FLAG_DRY_RUN == 0x1u && PH_FILL_FLAG_MAKER == 0x1u &&
              PH_FILL_FLAG_SIMULATED == 0x2u && PH_LEG_ALL == 0xFFFFFFFFu,
          "flags are frozen");
PH_ASSERT(PH_CONTROL_PAUSED == 0x1u && PH_CONTROL_DRY_RUN == 0x2u && PH_CONTROL_STALE == 0x4u,
          "control flags are frozen");
PH_ASSERT(PH_MARKET_NEG_RISK == 0x1u && PH_MARKET_ACTIVE == 0x2u && PH_MARKET_CLOSED == 0x4u &&
              PH_MARKET_OBSERVED == 0x8u && PH_GROUP_BINARY == 1 && PH_GROUP_NEG_RISK_EVENT == 2,
          "markets constants are frozen");

#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
PH_END(ph_asset_ref, asset_id, 16);
PH_OFF(ph_asset_ref, market, 0);
PH_OFF(ph_asset_ref, asset_id, 8);

PH_OFF(ph_book_view, struct_size, 0);
PH_OFF(ph_book_view, flags, 4);
PH_OFF(ph_book_view, asset, 8);
PH_OFF(ph_book_view, seq, 24);
PH_OFF(ph_book_view, resync_count, 32);
PH_OFF(ph_book_view, ts_ms, 40);
PH_OFF(ph_book_view, tick_size, 48);
PH_OFF(ph_book_view, bids, 56);
PH_OFF(ph_book_view, bid_count, 64);
PH_OFF(ph_book_view, reserved0, 68);
PH_OFF(ph_book_view, asks, 72);
PH_OFF(ph_book_view, ask_count, 80);
PH_END(ph_book_view, reserved1, 88);
/* 1.1 */
PH_OFF(ph_book_view, market_len, 88);
PH_OFF(ph_book_view, asset_id_len, 92);

PH_OFF(ph_trade, struct_size, 0);
PH_OFF(ph_trade, side, 4);
PH_OFF(ph_trade, asset, 8);
PH_OFF(ph_trade, price, 24);
PH_OFF(ph_trade, size, 32);
PH_OFF(ph_trade, fee_rate_bps, 40);
PH_END(ph_trade, ts_ms, 56);

PH_OFF(ph_status_event, struct_size, 0);
PH_OFF(ph_status_event, status, 4);
PH_OFF(ph_status_event, asset, 8);
PH_OFF(ph_status_event, seq, 24);
PH_OFF(ph_status_event, resync_count, 32);
PH_END(ph_status_event, ts_ms, 48);

PH_OFF(ph_order_update, struct_size, 0);
PH_OFF(ph_order_update, kind, 4);
PH_OFF(ph_order_update, plan_id, 8);
PH_OFF(ph_order_update, client_tag, 16);
PH_OFF(ph_order_update, leg_index, 24);
PH_OFF(ph_order_update, side, 28);
PH_OFF(ph_order_update, asset, 32);
PH_OFF(ph_order_update, order_id, 48);
PH_OFF(ph_order_update, price, 56);
PH_OFF(ph_order_update, size, 64);
PH_OFF(ph_order_update, filled_size, 72);
PH_OFF(ph_order_update, ts_ms, 80);
PH_OFF(ph_order_update, reason, 88);
PH_OFF(ph_order_update, flags, 96);
PH_END(ph_order_update, reserved0, 104);

PH_OFF(ph_fill, struct_size, 0);
PH_OFF(ph_fill, side, 4);
PH_OFF(ph_fill, plan_id, 8);
PH_OFF(ph_fill, client_tag, 16);
PH_OFF(ph_fill, leg_index, 24);
PH_OFF(ph_fill, flags, 28);
PH_OFF(ph_fill, asset, 32);
PH_OFF(ph_fill, order_id, 48);
PH_OFF(ph_fill, trade_id, 56);
PH_OFF(ph_fill, price, 64);
PH_OFF(ph_fill, size, 72);
PH_OFF(ph_fill, fee, 80);
PH_END(ph_fill, ts_ms, 96);

PH_OFF(ph_plan_leg, asset, 0);
PH_OFF(ph_plan_leg, side, 16);
PH_OFF(ph_plan_leg, tif, 20);
PH_OFF(ph_plan_leg, price, 24);
PH_END(ph_plan_leg, size, 40);

PH_OFF(ph_plan, struct_size, 0);
PH_OFF(ph_plan, leg_count, 4);
PH_OFF(ph_plan, leg_struct_size, 8);
PH_OFF(ph_plan, reserved0, 12);
PH_OFF(ph_plan, client_tag, 16);
PH_OFF(ph_plan, legs, 24);
PH_END(ph_plan, reason, 40);

PH_OFF(ph_cancel_request, struct_size, 0);
PH_OFF(ph_cancel_request, scope, 4);
PH_OFF(ph_cancel_request, plan_id, 8);
PH_OFF(ph_cancel_request, asset, 16);
PH_OFF(ph_cancel_request, order_id, 32);
PH_END(ph_cancel_request, reason, 48);

PH_OFF(ph_host, struct_size, 0);
PH_OFF(ph_host, abi_version, 4);
PH_OFF(ph_host, host_data, 16);
PH_OFF(ph_host, host_name, 24);
PH_OFF(ph_host, host_version, 32);
PH_OFF(ph_host, plugin_name, 40);
PH_OFF(ph_host, log, 48);
PH_OFF(ph_host, now_ms, 56);
PH_OFF(ph_host, config_get_string, 64);
PH_OFF(ph_host, config_get_int, 72);
PH_OFF(ph_host, config_get_micros, 80);
PH_OFF(ph_host, config_get_bool, 88);
PH_OFF(ph_host, metric, 96);
PH_OFF(ph_host, subscribe, 104);
PH_OFF(ph_host, unsubscribe, 112);
PH_OFF(ph_host, get_book, 120);
PH_OFF(ph_host, submit_plan, 128);
PH_OFF(ph_host, cancel_orders, 136);
PH_OFF(ph_host, set_timer, 144);
PH_END(ph_host, get_extension, 160);

PH_OFF(ph_plugin_descriptor, struct_size, 0);
PH_OFF(ph_plugin_descriptor, reserved0, 4);
PH_OFF(ph_plugin_descriptor, id, 8);
PH_OFF(ph_plugin_descriptor, name, 16);
PH_OFF(ph_plugin_descriptor, version, 24);
PH_OFF(ph_plugin_descriptor, vendor, 32);
PH_END(ph_plugin_descriptor, description, 48);

PH_OFF(ph_plugin, struct_size, 0);
PH_OFF(ph_plugin, reserved0, 4);
PH_OFF(ph_plugin, desc, 8);
PH_OFF(ph_plugin, plugin_data, 16);
PH_OFF(ph_plugin, init, 24);
PH_OFF(ph_plugin, activate, 32);
PH_OFF(ph_plugin, deactivate, 40);
PH_OFF(ph_plugin, destroy, 48);
PH_OFF(ph_plugin, on_book, 56);
PH_OFF(ph_plugin, on_trade, 64);
PH_OFF(ph_plugin, on_order_update, 72);
PH_OFF(ph_plugin, on_fill, 80);
PH_OFF(ph_plugin, on_timer, 88);
PH_OFF(ph_plugin, on_status, 96);
PH_END(ph_plugin, get_extension, 112);

/* The entry's first two fields are frozen in EVERY major. */
PH_OFF(ph_plugin_entry, struct_size, 0);
PH_OFF(ph_plugin_entry, abi_version, 4);
PH_OFF(ph_plugin_entry, descriptor, 16);
PH_END(ph_plugin_entry, create, 32);

PH_OFF(ph_control_status, struct_size, 0);
PH_OFF(ph_control_status, flags, 4);
PH_OFF(ph_control_status, ts_ms, 8);
PH_OFF(ph_control_status, plugins_active, 16);
PH_OFF(ph_control_status, plugins_failed, 20);
PH_OFF(ph_control_status, open_orders, 24);
PH_OFF(ph_control_status, plans_accepted, 32);
PH_OFF(ph_control_status, plans_rejected, 40);
PH_END(ph_control_status, open_notional, 56);

PH_OFF(ph_control_ext, struct_size, 0);
PH_OFF(ph_control_ext, get_status, 8);
PH_OFF(ph_control_ext, request_pause, 16);
PH_OFF(ph_control_ext, request_resume, 24);
PH_END(ph_control_ext, request_cancel_all, 40);
/* 1.1 tail of ph_control_ext */
PH_OFF(ph_control_ext, query, 40);
PH_OFF(ph_control_ext, request_pause_plugin, 48);
PH_OFF(ph_control_ext, request_resume_plugin, 56);
PH_ASSERT(sizeof(ph_control_ext) >= 64, "ph_control_ext 1.1 part");
/* polyhost.http/1 (new in 1.1) */
PH_OFF(ph_http_header, name, 0);
PH_END(ph_http_header, value, 16);
PH_OFF(ph_http_response, struct_size, 0);
PH_OFF(ph_http_response, status, 4);
PH_OFF(ph_http_response, body, 8);
PH_OFF(ph_http_response, body_len, 16);
PH_END(ph_http_response, error, 32);
PH_OFF(ph_http_ext, struct_size, 0);
PH_OFF(ph_http_ext, request, 8);
PH_END(ph_http_ext, release, 24);

PH_OFF(ph_market_info, struct_size, 0);
PH_OFF(ph_market_info, flags, 4);
PH_OFF(ph_market_info, market, 8);
PH_OFF(ph_market_info, event_id, 16);
PH_OFF(ph_market_info, question, 24);
PH_OFF(ph_market_info, tick_size, 32);
PH_OFF(ph_market_info, min_order_size, 40);
PH_OFF(ph_market_info, outcome_count, 48);
PH_END(ph_market_info, reserved0, 56);
/* Appended after the 1.0 part (a caller knowing it passes struct_size >= 64). */
PH_OFF(ph_market_info, end_time_ms, 56);
PH_ASSERT(sizeof(ph_market_info) >= 64, "ph_market_info.end_time_ms is in the struct");

PH_OFF(ph_outcome_info, struct_size, 0);
PH_OFF(ph_outcome_info, index, 4);
PH_OFF(ph_outcome_info, market, 8);
PH_OFF(ph_outcome_info, asset_id, 16);
PH_OFF(ph_outcome_info, outcome, 24);
PH_END(ph_outcome_info, complement_asset_id, 40);

PH_OFF(ph_market_group, struct_size, 0);
PH_OFF(ph_market_group, kind, 4);
PH_OFF(ph_market_group, id, 8);
PH_OFF(ph_market_group, event_id, 16);
PH_OFF(ph_market_group, leg_count, 24);
PH_END(ph_market_group, reserved0, 32);

PH_OFF(ph_markets_ext, struct_size, 0);
PH_OFF(ph_markets_ext, generation, 8);
PH_OFF(ph_markets_ext, market_count, 16);
PH_OFF(ph_markets_ext, get_market, 24);
PH_OFF(ph_markets_ext, get_market_at, 32);
PH_OFF(ph_markets_ext, get_outcome, 40);
PH_OFF(ph_markets_ext, get_outcome_at, 48);
PH_OFF(ph_markets_ext, group_count, 56);
PH_OFF(ph_markets_ext, get_group, 64);
PH_END(ph_markets_ext, find_groups, 80);
#endif /* LP64 */

#endif /* POLYHOST_TESTS_ABI_LAYOUT_H */

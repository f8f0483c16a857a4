/* FROZEN SNAPSHOT of the polyhost plugin ABI 1.0.0. DO NOT EDIT.
 *
 * The frozen test plugin (v1_frozen.c) is compiled against this file, never
 * against sdk/include, so it behaves like a plugin built years ago with SDK
 * 1.0.0. If a change to the live headers moves or retypes anything below, that
 * plugin stops working and tests/abi fails: such a change needs a new MAJOR
 * version (docs/abi.md, "Versioning").
 *
 * Only declarations the plugin uses are kept; comments are in the live headers.
 */
#ifndef POLYHOST_ABI_V1_0_0_FROZEN_H
#define POLYHOST_ABI_V1_0_0_FROZEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct ph_version { uint32_t major; uint32_t minor; uint32_t patch; } ph_version;

typedef int32_t ph_result;
enum {
  PH_OK = 0, PH_ERR_FAILED = -1, PH_ERR_INVALID_ARGUMENT = -2, PH_ERR_NOT_FOUND = -3,
  PH_ERR_WRONG_TYPE = -4, PH_ERR_SINK_FULL = -5, PH_ERR_NOT_SUBSCRIBED = -6, PH_ERR_WRONG_STATE = -7,
  PH_ERR_UNSUPPORTED = -8, PH_ERR_INCOMPATIBLE = -9, PH_ERR_EXCEPTION = -10, PH_ERR_OUT_OF_MEMORY = -11,
  PH_ERR_DISABLED = -12, PH_ERR_CONFIG = -13, PH_ERR_INTERNAL = -14
};

typedef struct ph_level { int64_t price; int64_t size; } ph_level;
typedef struct ph_asset_ref { const char* market; const char* asset_id; } ph_asset_ref;

typedef int32_t ph_side;
enum { PH_SIDE_BUY = 1, PH_SIDE_SELL = 2 };
typedef int32_t ph_tif;
enum { PH_TIF_GTC = 1, PH_TIF_IOC = 2, PH_TIF_FOK = 3 };
typedef int32_t ph_log_level;
enum { PH_LOG_TRACE = 0, PH_LOG_DEBUG = 1, PH_LOG_INFO = 2, PH_LOG_WARN = 3, PH_LOG_ERROR = 4 };
typedef int32_t ph_metric_kind;
enum { PH_METRIC_COUNTER = 1, PH_METRIC_GAUGE = 2 };

#define PH_BOOK_FLAG_STALE 0x1u
typedef struct ph_book_view {
  uint32_t struct_size; uint32_t flags; ph_asset_ref asset;
  int64_t seq; int64_t resync_count; int64_t ts_ms; int64_t tick_size;
  const ph_level* bids; uint32_t bid_count; uint32_t reserved0;
  const ph_level* asks; uint32_t ask_count; uint32_t reserved1;
} ph_book_view;

typedef struct ph_trade {
  uint32_t struct_size; ph_side side; ph_asset_ref asset;
  int64_t price; int64_t size; int64_t fee_rate_bps; int64_t ts_ms;
} ph_trade;

typedef int32_t ph_asset_status;
enum { PH_ASSET_STALE = 1, PH_ASSET_RESYNCED = 2, PH_ASSET_MARKET_CLOSED = 3 };
typedef struct ph_status_event {
  uint32_t struct_size; ph_asset_status status; ph_asset_ref asset;
  int64_t seq; int64_t resync_count; int64_t ts_ms;
} ph_status_event;

typedef int32_t ph_order_update_kind;
enum {
  PH_ORDER_PLAN_ACCEPTED = 1, PH_ORDER_PLAN_REJECTED = 2, PH_ORDER_ACKED = 3, PH_ORDER_REJECTED = 4,
  PH_ORDER_PARTIALLY_FILLED = 5, PH_ORDER_FILLED = 6, PH_ORDER_CANCELLED = 7
};
#define PH_ORDER_FLAG_DRY_RUN 0x1u
#define PH_LEG_ALL 0xFFFFFFFFu
typedef struct ph_order_update {
  uint32_t struct_size; ph_order_update_kind kind; uint64_t plan_id; const char* client_tag;
  uint32_t leg_index; ph_side side; ph_asset_ref asset; const char* order_id;
  int64_t price; int64_t size; int64_t filled_size; int64_t ts_ms; const char* reason;
  uint32_t flags; uint32_t reserved0;
} ph_order_update;

#define PH_FILL_FLAG_MAKER 0x1u
#define PH_FILL_FLAG_SIMULATED 0x2u
typedef struct ph_fill {
  uint32_t struct_size; ph_side side; uint64_t plan_id; const char* client_tag;
  uint32_t leg_index; uint32_t flags; ph_asset_ref asset; const char* order_id; const char* trade_id;
  int64_t price; int64_t size; int64_t fee; int64_t ts_ms;
} ph_fill;

typedef struct ph_plan_leg {
  ph_asset_ref asset; ph_side side; ph_tif tif; int64_t price; int64_t size;
} ph_plan_leg;
typedef struct ph_plan {
  uint32_t struct_size; uint32_t leg_count; uint32_t leg_struct_size; uint32_t reserved0;
  const char* client_tag; const ph_plan_leg* legs; const char* reason;
} ph_plan;

typedef int32_t ph_cancel_scope;
enum { PH_CANCEL_ALL = 1, PH_CANCEL_PLAN = 2, PH_CANCEL_ASSET = 3, PH_CANCEL_ORDER = 4 };
typedef struct ph_cancel_request {
  uint32_t struct_size; ph_cancel_scope scope; uint64_t plan_id; ph_asset_ref asset;
  const char* order_id; const char* reason;
} ph_cancel_request;

typedef struct ph_host {
  uint32_t struct_size; ph_version abi_version; void* host_data;
  const char* host_name; const char* host_version; const char* plugin_name;
  void (*log)(const struct ph_host*, ph_log_level, const char*);
  int64_t (*now_ms)(const struct ph_host*);
  ph_result (*config_get_string)(const struct ph_host*, const char*, const char**);
  ph_result (*config_get_int)(const struct ph_host*, const char*, int64_t*);
  ph_result (*config_get_micros)(const struct ph_host*, const char*, int64_t*);
  ph_result (*config_get_bool)(const struct ph_host*, const char*, int32_t*);
  ph_result (*metric)(const struct ph_host*, const char*, ph_metric_kind, int64_t);
  ph_result (*subscribe)(const struct ph_host*, const char*, const char*);
  ph_result (*unsubscribe)(const struct ph_host*, const char*, const char*);
  ph_result (*get_book)(const struct ph_host*, const char*, const char*, ph_book_view*);
  ph_result (*submit_plan)(const struct ph_host*, const ph_plan*, uint64_t*);
  ph_result (*cancel_orders)(const struct ph_host*, const ph_cancel_request*);
  ph_result (*set_timer)(const struct ph_host*, int64_t);
  const void* (*get_extension)(const struct ph_host*, const char*);
} ph_host;

typedef struct ph_plugin_descriptor {
  uint32_t struct_size; uint32_t reserved0;
  const char* id; const char* name; const char* version; const char* vendor; const char* description;
} ph_plugin_descriptor;

typedef struct ph_plugin {
  uint32_t struct_size; uint32_t reserved0; const ph_plugin_descriptor* desc; void* plugin_data;
  ph_result (*init)(const struct ph_plugin*);
  ph_result (*activate)(const struct ph_plugin*);
  ph_result (*deactivate)(const struct ph_plugin*);
  void (*destroy)(const struct ph_plugin*);
  ph_result (*on_book)(const struct ph_plugin*, const ph_book_view*);
  ph_result (*on_trade)(const struct ph_plugin*, const ph_trade*);
  ph_result (*on_order_update)(const struct ph_plugin*, const ph_order_update*);
  ph_result (*on_fill)(const struct ph_plugin*, const ph_fill*);
  ph_result (*on_timer)(const struct ph_plugin*, int64_t);
  ph_result (*on_status)(const struct ph_plugin*, const ph_status_event*);
  const void* (*get_extension)(const struct ph_plugin*, const char*);
} ph_plugin;

typedef struct ph_plugin_entry {
  uint32_t struct_size; ph_version abi_version;
  const ph_plugin_descriptor* descriptor;
  const ph_plugin* (*create)(const ph_host*);
} ph_plugin_entry;

#endif /* POLYHOST_ABI_V1_0_0_FROZEN_H */

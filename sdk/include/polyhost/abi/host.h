/* polyhost plugin ABI: the services the host offers a plugin.
 *
 * The host passes one ph_host table to ph_plugin_entry.create. It is owned by the
 * host, stays valid (same address, same contents) until the plugin's destroy
 * returns, and is specific to that plugin instance: every call is attributed to
 * the plugin it was given to. Pass it back as the first argument of each call.
 *
 * Threads:
 *   [any-thread]       may be called from any thread, concurrently.
 *   [strategy-thread]  may only be called from inside a call the host is making
 *                      into this plugin (create, init, activate, on_*,
 *                      deactivate; not destroy); those always run on the host's
 *                      strategy thread.
 *                      Called from anywhere else it returns PH_ERR_WRONG_STATE.
 *
 * Versioning: the table only grows. Before calling a function added after 1.0,
 * check PH_HOST_HAS(host, name): an older host's table is shorter.
 */
#ifndef POLYHOST_ABI_HOST_H
#define POLYHOST_ABI_HOST_H

#include <stdint.h>

#include "polyhost/abi/events.h"
#include "polyhost/abi/plan.h"
#include "polyhost/abi/result.h"
#include "polyhost/abi/types.h"
#include "polyhost/abi/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* market and asset_id of the subscription to every asset (see subscribe). */
#define PH_SUBSCRIBE_ALL "*"

typedef struct ph_host {
  uint32_t struct_size;    /* sizeof(ph_host) as the host was built */
  ph_version abi_version;  /* the host's ABI version */
  void* host_data;         /* the host's; a plugin must not read or write it */
  const char* host_name;   /* "polyhost" */
  const char* host_version;  /* the host program's version, e.g. "0.1.0" */
  /* The name this instance was loaded as; its configuration is the
   * [plugin.<plugin_name>] section. Valid for the plugin's lifetime. */
  const char* plugin_name;

  /* Writes one log line attributed to this plugin. `message` is UTF-8, copied
   * before returning; the host may truncate very long lines.
   * [any-thread] */
  void (*log)(const struct ph_host* host, ph_log_level level, const char* message);

  /* The host clock in ms since the Unix epoch. In replay it is the replayed time,
   * so strategies stay deterministic: never read the system clock yourself.
   * [any-thread] */
  int64_t (*now_ms)(const struct ph_host* host);

  /* Configuration: keys of this plugin's own [plugin.<plugin_name>] section.
   * Nested tables are flattened with dots ("limits.max"). Each returns PH_OK and
   * writes *out, PH_ERR_NOT_FOUND when the key is absent, PH_ERR_WRONG_TYPE when
   * the value cannot be read as that type (*out untouched on error), and
   * PH_ERR_INVALID_ARGUMENT for a NULL key or out.
   * [any-thread]: the configuration is immutable while a plugin is loaded. */

  /* The value's text: strings as is, other values as TOML text ("5", "0.02",
   * "true"). *out is owned by the host and valid until destroy returns. */
  ph_result (*config_get_string)(const struct ph_host* host, const char* key, const char** out);
  /* An integer (5) or a string holding one ("5"). */
  ph_result (*config_get_int)(const struct ph_host* host, const char* key, int64_t* out);
  /* A decimal read exactly into micro-units: 0.02, "0.02" or 5 -> 20000 / 5000000.
   * More than 6 fractional digits is PH_ERR_WRONG_TYPE. */
  ph_result (*config_get_micros)(const struct ph_host* host, const char* key, int64_t* out);
  /* true/false (or the strings "true"/"false"); *out is 1 or 0. */
  ph_result (*config_get_bool)(const struct ph_host* host, const char* key, int32_t* out);

  /* Emits a metric scoped to this plugin (the host prefixes the plugin name).
   * `name` is [a-z0-9_]+. PH_METRIC_COUNTER adds value (>= 0); PH_METRIC_GAUGE
   * sets it. [any-thread] */
  ph_result (*metric)(const struct ph_host* host, const char* name, ph_metric_kind kind, int64_t value);

  /* Asks for on_book / on_trade / on_status about one asset. Subscribing twice is
   * PH_OK. The next change of that book is delivered; use get_book for the current
   * state.
   * market == asset_id == PH_SUBSCRIBE_ALL ("*") subscribes to EVERY asset the
   * host has, including assets it learns later (a strategy that finds its
   * instruments in the books themselves, or in the polyhost.markets/1 groups);
   * get_book then works for any asset. An asset subscribed both ways is still
   * delivered once. "*" in only one of the two is PH_ERR_INVALID_ARGUMENT.
   * [strategy-thread] */
  ph_result (*subscribe)(const struct ph_host* host, const char* market, const char* asset_id);
  /* Stops them; PH_ERR_NOT_SUBSCRIBED when not subscribed. Takes effect at once,
   * even for the frame being dispatched. ("*", "*") removes only the wildcard
   * subscription, not assets subscribed by name. [strategy-thread] */
  ph_result (*unsubscribe)(const struct ph_host* host, const char* market, const char* asset_id);

  /* Fills *out with the current book of a subscribed asset. Set out->struct_size
   * to sizeof(ph_book_view) first; the host fills at most that many bytes and sets
   * struct_size to what it wrote. The view (levels, strings) is valid until the
   * current callback returns. PH_ERR_NOT_SUBSCRIBED when not subscribed,
   * PH_ERR_NOT_FOUND when the host has no book for it yet. [strategy-thread] */
  ph_result (*get_book)(const struct ph_host* host, const char* market, const char* asset_id,
                        ph_book_view* out);

  /* Proposes a plan. The host checks its shape (at least one leg and at most
   * the host's cap, assets present, side and tif known, 0 < price < 1000000,
   * size > 0; otherwise PH_ERR_INVALID_ARGUMENT, nothing is queued and the host
   * logs which leg is wrong), copies it, assigns an id (written to *out_plan_id
   * when not NULL; ids are > 0 and increase) and queues it. The risk gate's
   * decision arrives later as on_order_update.
   * The queue is bounded per plugin: PH_ERR_SINK_FULL means the host has not
   * drained it yet and the plan was dropped. Overflowing the sink DISABLES the
   * plugin once the current callback returns: submit a bounded number of plans
   * per callback. [strategy-thread] */
  ph_result (*submit_plan)(const struct ph_host* host, const ph_plan* plan, uint64_t* out_plan_id);

  /* Asks the host to cancel some of this plugin's open orders (see
   * ph_cancel_request). Returns once queued; outcomes arrive as on_order_update.
   * [strategy-thread] */
  ph_result (*cancel_orders)(const struct ph_host* host, const ph_cancel_request* request);

  /* Requests on_timer every interval_ms of host clock (the first one interval_ms
   * from now); 0 stops it; a new call replaces the previous interval. Timers are
   * delivered between frames, never late by more than the host's loop period.
   * [strategy-thread] */
  ph_result (*set_timer)(const struct ph_host* host, int64_t interval_ms);

  /* Returns the host extension table with this id (e.g. "polyhost.control/1"),
   * or NULL. The table is owned by the host and valid until destroy returns;
   * each extension documents its own threads. [any-thread] */
  const void* (*get_extension)(const struct ph_host* host, const char* id);
} ph_host;

/* True when `host` offers function `fn` (it is in the table and not NULL). */
#define PH_HOST_HAS(host, fn) (PH_STRUCT_HAS(host, ph_host, fn) && (host)->fn)

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_HOST_H */

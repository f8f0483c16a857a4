/* polyhost plugin ABI: the "polyhost.control/1" host extension.
 *
 * For service plugins (e.g. a Telegram bot) that report on and steer the host.
 * The host still decides: every request is logged, may be refused, and is applied
 * by the host at its next safe point.
 *
 *   const ph_control_ext* control =
 *       (const ph_control_ext*)host->get_extension(host, PH_EXT_CONTROL);
 *   if (control) control->request_pause(host, "paused from chat by @alice");
 *
 * Every function takes the plugin's own ph_host (the caller is identified by it)
 * and is [any-thread]: a service plugin typically calls them from its own network
 * thread.
 */
#ifndef POLYHOST_ABI_CONTROL_H
#define POLYHOST_ABI_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "polyhost/abi/host.h"
#include "polyhost/abi/result.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PH_EXT_CONTROL "polyhost.control/1"

/* ph_control_status.flags (bits of a uint32_t) */
#define PH_CONTROL_PAUSED 0x1u  /* new plans are rejected */
#define PH_CONTROL_DRY_RUN 0x2u /* relayer.dry_run: orders are never sent */
#define PH_CONTROL_STALE 0x4u   /* at least one subscribed book is stale */

typedef struct ph_control_status {
  uint32_t struct_size;     /* set by the caller to sizeof(ph_control_status) */
  uint32_t flags;           /* PH_CONTROL_* */
  int64_t ts_ms;            /* host clock */
  uint32_t plugins_active;
  uint32_t plugins_failed;
  int64_t open_orders;
  int64_t plans_accepted;   /* since start */
  int64_t plans_rejected;   /* since start */
  int64_t open_notional;    /* micro-USDC */
} ph_control_status;

typedef struct ph_control_ext {
  uint32_t struct_size;
  uint32_t reserved0;
  /* Fills *out (at most out->struct_size bytes; struct_size is set to what was
   * written). [any-thread] */
  ph_result (*get_status)(const ph_host* host, ph_control_status* out);
  /* Asks the host to stop accepting new plans. [any-thread] */
  ph_result (*request_pause)(const ph_host* host, const char* reason);
  /* Asks the host to accept plans again. [any-thread] */
  ph_result (*request_resume)(const ph_host* host, const char* reason);
  /* Asks the host to cancel every open order of every plugin. [any-thread] */
  ph_result (*request_cancel_all)(const ph_host* host, const char* reason);

  /* ---- appended in 1.1: present when PH_STRUCT_HAS(control, ph_control_ext, fn)
   * and the pointer is not NULL (a 1.0 host's table ends at request_cancel_all). */

  /* Reads the host's state as one JSON object (UTF-8, no NUL inside), for
   * displays. `topic` is one of (see docs/plugins/tgbot.md for the fields):
   *   "status"    paused, dry run, plugins, orders, plans, assets and stale assets
   *   "markets"   every known outcome with its best bid/ask
   *   "book"      args {"market":"..","outcome":".."} (outcome: name or token id;
   *               optional "depth", default 5): the top levels of one book
   *   "orders"    working orders
   *   "positions" net position per plugin and token
   *   "pnl"       realised cash flow and fees per plugin
   *   "plugins"   loaded plugins with their state and pause flag
   *   "metrics"   the host's counters
   * Amounts are canonical decimal strings ("0.52", "100"), never floats.
   * `args_json` may be NULL or "" for topics without arguments.
   *
   * The text and a terminating NUL are written to out[0 .. out_cap) and
   * *out_len is set to the text's length (without the NUL). When out_cap is too
   * small (out_cap <= *out_len) nothing but out[0] = NUL (when out_cap > 0) is
   * written, *out_len still tells the length needed, and the result is
   * PH_ERR_INVALID_ARGUMENT: call again with out_cap > *out_len.
   * On PH_ERR_NOT_FOUND (unknown topic, market or outcome) and
   * PH_ERR_UNSUPPORTED (this host cannot answer the topic, e.g. an offline host
   * has no live metrics) `out` holds {"error":"<why>"} under the same rule.
   * PH_ERR_INVALID_ARGUMENT with *out_len == 0: a NULL pointer or bad args_json.
   * [any-thread] */
  ph_result (*query)(const ph_host* host, const char* topic, const char* args_json, char* out, size_t out_cap,
                     size_t* out_len);
  /* Asks the host to reject new plans of one plugin (by instance name; "*" or
   * NULL = every plugin, like request_pause). A host that can keeps the pause
   * across its restarts (docs/plugins/tgbot.md says which do). PH_ERR_NOT_FOUND
   * when the host knows no such plugin. [any-thread] */
  ph_result (*request_pause_plugin)(const ph_host* host, const char* plugin, const char* reason);
  /* Lifts a pause of request_pause_plugin (or, for "*"/NULL, of request_pause).
   * [any-thread] */
  ph_result (*request_resume_plugin)(const ph_host* host, const char* plugin, const char* reason);
} ph_control_ext;

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_CONTROL_H */

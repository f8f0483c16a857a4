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
} ph_control_ext;

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_CONTROL_H */

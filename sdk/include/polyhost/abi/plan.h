/* polyhost plugin ABI: what a plugin proposes.
 *
 * A plan is a set of legs the plugin wants executed together (e.g. buy every
 * outcome of a neg-risk event). The plugin passes it to ph_host.submit_plan; the
 * host copies everything out of the plugin's memory before submit_plan returns,
 * gates it (risk caps, dry_run, tick and minimum size) and reports the decision
 * with on_order_update (PH_ORDER_PLAN_ACCEPTED / PH_ORDER_PLAN_REJECTED).
 *
 * Ownership: the plugin owns the ph_plan, its legs and all strings; they only
 * need to live for the duration of the submit_plan / cancel_orders call.
 */
#ifndef POLYHOST_ABI_PLAN_H
#define POLYHOST_ABI_PLAN_H

#include <stdint.h>

#include "polyhost/abi/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One order of a plan. Legs are an array element, so they carry no struct_size:
 * the plan's leg_struct_size is the array stride instead (set it to
 * sizeof(ph_plan_leg)). A reader walks the array with that stride and reads only
 * the fields that fit in it; legs may grow by appending fields. */
typedef struct ph_plan_leg {
  ph_asset_ref asset;  /* required */
  ph_side side;        /* PH_SIDE_BUY or PH_SIDE_SELL */
  ph_tif tif;          /* PH_TIF_GTC, PH_TIF_IOC or PH_TIF_FOK */
  int64_t price;       /* limit price, micro-units, 0 < price < 1000000 */
  int64_t size;        /* micro-units of outcome tokens, > 0 */
} ph_plan_leg;

typedef struct ph_plan {
  uint32_t struct_size;
  uint32_t leg_count;        /* >= 1; the host also caps it (too many: INVALID_ARGUMENT) */
  uint32_t leg_struct_size;  /* stride of `legs` in bytes: sizeof(ph_plan_leg) */
  uint32_t reserved0;
  const char* client_tag;    /* the plugin's own label, echoed in updates; may be NULL */
  const ph_plan_leg* legs;   /* leg_count legs */
  const char* reason;        /* why, free text for logs and the audit trail; may be NULL */
} ph_plan;

/* ph_cancel_request.scope (int32_t) */
typedef int32_t ph_cancel_scope;
enum {
  PH_CANCEL_ALL = 1,    /* every open order of this plugin */
  PH_CANCEL_PLAN = 2,   /* every open order of plan_id */
  PH_CANCEL_ASSET = 3,  /* every open order of this plugin on `asset` */
  PH_CANCEL_ORDER = 4   /* the venue order `order_id` (must be this plugin's) */
};

/* A request to cancel some of this plugin's open orders. The host only ever
 * cancels the calling plugin's own orders; outcomes arrive as on_order_update
 * (PH_ORDER_CANCELLED). */
typedef struct ph_cancel_request {
  uint32_t struct_size;
  ph_cancel_scope scope;
  uint64_t plan_id;      /* PH_CANCEL_PLAN */
  ph_asset_ref asset;    /* PH_CANCEL_ASSET */
  const char* order_id;  /* PH_CANCEL_ORDER */
  const char* reason;    /* free text for logs; may be NULL */
} ph_cancel_request;

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_PLAN_H */

/* polyhost plugin ABI: what the host tells a plugin.
 *
 * Every struct here is written by the host and passed to a plugin callback as a
 * `const T*`. Ownership: the host owns the struct, every string and every array
 * it points to; all of it is valid only until the callback returns. Copy what you
 * need to keep. Read fields beyond the v1.0 set only after PH_STRUCT_HAS.
 */
#ifndef POLYHOST_ABI_EVENTS_H
#define POLYHOST_ABI_EVENTS_H

#include <stdint.h>

#include "polyhost/abi/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ph_book_view.flags (bits of a uint32_t) */
/* Continuity was lost (a gap, a drift check failed, the feed went silent): the
 * levels are the last known state and may be wrong until the next resync. */
#define PH_BOOK_FLAG_STALE 0x1u

/* A read-only view of one asset's L2 book after a whole feed frame was applied
 * (never half-applied state). Zero copies: the level arrays are the host's own.
 *
 * Passed to on_book, and filled in by ph_host.get_book. */
typedef struct ph_book_view {
  uint32_t struct_size;
  uint32_t flags;        /* PH_BOOK_FLAG_* */
  ph_asset_ref asset;
  int64_t seq;           /* host sequence: events applied to this asset so far */
  int64_t resync_count;  /* times this book was rebuilt from a snapshot after a gap */
  int64_t ts_ms;         /* venue timestamp of the last applied event, ms since epoch */
  int64_t tick_size;     /* micro-units; 0 = not known yet */
  const ph_level* bids;  /* best (highest) first; NULL when bid_count is 0 */
  uint32_t bid_count;
  uint32_t reserved0;
  const ph_level* asks;  /* best (lowest) first; NULL when ask_count is 0 */
  uint32_t ask_count;
  uint32_t reserved1;
  /* Since ABI 1.1: strlen(asset.market) and strlen(asset.asset_id), so a plugin
   * need not measure the ids on every update. Present when struct_size covers
   * them (a 1.0 host passes a shorter view: measure the strings yourself). */
  uint32_t market_len;
  uint32_t asset_id_len;
} ph_book_view;

/* A trade printed on the venue (last_trade_price) for a subscribed asset. */
typedef struct ph_trade {
  uint32_t struct_size;
  ph_side side;          /* the taker's side; 0 when the venue did not say */
  ph_asset_ref asset;
  int64_t price;         /* micro-units */
  int64_t size;          /* micro-units */
  int64_t fee_rate_bps;  /* as reported by the venue; 0 when absent */
  int64_t ts_ms;         /* venue timestamp, ms since epoch */
} ph_trade;

/* ph_status_event.status (int32_t) */
typedef int32_t ph_asset_status;
enum {
  PH_ASSET_STALE = 1,         /* continuity lost; the book is flagged stale */
  PH_ASSET_RESYNCED = 2,      /* a fresh snapshot replaced a stale book */
  PH_ASSET_MARKET_CLOSED = 3  /* the market stopped trading; no more books */
};

/* A continuity or lifecycle change of a subscribed asset. */
typedef struct ph_status_event {
  uint32_t struct_size;
  ph_asset_status status;
  ph_asset_ref asset;
  int64_t seq;
  int64_t resync_count;
  int64_t ts_ms;
} ph_status_event;

/* ph_order_update.kind (int32_t) */
typedef int32_t ph_order_update_kind;
enum {
  PH_ORDER_PLAN_ACCEPTED = 1,    /* the plan passed the host's risk gate */
  PH_ORDER_PLAN_REJECTED = 2,    /* the host refused the plan; `reason` says why */
  PH_ORDER_ACKED = 3,            /* the venue accepted a leg's order; order_id set */
  PH_ORDER_REJECTED = 4,         /* the venue refused a leg's order; `reason` says why */
  PH_ORDER_PARTIALLY_FILLED = 5, /* filled_size grew, the order is still open */
  PH_ORDER_FILLED = 6,           /* filled_size == size, the order is closed */
  PH_ORDER_CANCELLED = 7         /* closed before filling completely; `reason` says why */
};

/* ph_order_update.flags (bits of a uint32_t) */
/* relayer.dry_run is on: the plan was gated and logged, never sent. */
#define PH_ORDER_FLAG_DRY_RUN 0x1u

/* leg_index of an update about the whole plan (PLAN_ACCEPTED, PLAN_REJECTED). */
#define PH_LEG_ALL 0xFFFFFFFFu

/* What happened to one of this plugin's plans or orders. A plugin only ever
 * receives updates about its own plans. */
typedef struct ph_order_update {
  uint32_t struct_size;
  ph_order_update_kind kind;
  uint64_t plan_id;        /* the id submit_plan returned */
  const char* client_tag;  /* the plan's client tag; "" when it had none */
  uint32_t leg_index;      /* index into the plan's legs, or PH_LEG_ALL */
  ph_side side;            /* the leg's side; 0 for PH_LEG_ALL */
  ph_asset_ref asset;      /* the leg's asset; both NULL for PH_LEG_ALL */
  const char* order_id;    /* the venue's order id; NULL until acked */
  int64_t price;           /* the leg's limit price (micro-units); 0 for PH_LEG_ALL */
  int64_t size;            /* the leg's size (micro-units); 0 for PH_LEG_ALL */
  int64_t filled_size;     /* cumulative filled size (micro-units) */
  int64_t ts_ms;           /* host clock (ph_host.now_ms) when it happened */
  const char* reason;      /* why (rejections, cancels); NULL otherwise */
  uint32_t flags;          /* PH_ORDER_FLAG_* */
  uint32_t reserved0;
} ph_order_update;

/* ph_fill.flags (bits of a uint32_t) */
#define PH_FILL_FLAG_MAKER 0x1u     /* our resting order was hit */
#define PH_FILL_FLAG_SIMULATED 0x2u /* from the paper relayer, not the venue */

/* An execution of one of this plugin's orders. */
typedef struct ph_fill {
  uint32_t struct_size;
  ph_side side;
  uint64_t plan_id;
  const char* client_tag;  /* never NULL */
  uint32_t leg_index;
  uint32_t flags;          /* PH_FILL_FLAG_* */
  ph_asset_ref asset;
  const char* order_id;    /* never NULL */
  const char* trade_id;    /* may be NULL */
  int64_t price;           /* micro-units */
  int64_t size;            /* micro-units of outcome tokens */
  int64_t fee;             /* micro-USDC paid (negative: rebate) */
  int64_t ts_ms;
} ph_fill;

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_EVENTS_H */

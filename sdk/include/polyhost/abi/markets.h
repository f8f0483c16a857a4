/* polyhost plugin ABI: the "polyhost.markets/1" host extension.
 *
 * Market metadata the host knows from its catalog (Gamma market list) and from
 * the feeds it reads: tick size, minimum order size, neg-risk flag, event id,
 * outcome names and the complementary token of a binary market. It also lists
 * the groups a Dutch-book strategy trades:
 *
 *   - PH_GROUP_BINARY: one market with exactly two tokens; legs = its two tokens
 *     in outcome order ("Yes" first for Yes/No markets). Markets known only from
 *     a feed (no catalog entry) form one as soon as the feed showed exactly two
 *     assets for them.
 *   - PH_GROUP_NEG_RISK_EVENT: one neg-risk event; legs = the YES token of each
 *     of its neg-risk markets, in catalog order.
 *
 *   const ph_markets_ext* mk =
 *       (const ph_markets_ext*)host->get_extension(host, PH_EXT_MARKETS);
 *   ph_market_info info;
 *   info.struct_size = sizeof info;
 *   if (mk && mk->get_market(host, "0x5f65...", &info) == PH_OK) use(info.tick_size);
 *
 * The host offers this extension when it has a market catalog; a plugin must
 * cope with NULL (an older host, or a host started without one).
 *
 * Threads: every function is [any-thread]. The catalog only grows while the host
 * runs (feeds reveal new assets; a catalog refresh adds markets or updates
 * numbers), so two calls may see different states: `generation` tells when
 * anything changed.
 *
 * Ownership: every function takes the calling plugin's own ph_host. Output
 * structs are the caller's and follow the out-parameter rule of docs/abi.md:
 * the caller sets out->struct_size to the size it knows, the host writes at most
 * that many bytes and sets struct_size to what it wrote (a struct_size smaller
 * than the 1.0 struct is PH_ERR_INVALID_ARGUMENT). Every string the host writes
 * into them (ids, names) is owned by the host and stays valid until the plugin's
 * destroy returns, even if the catalog changes meanwhile. Input strings are the
 * plugin's and are not kept.
 *
 * Amounts are int64_t micro-units like everywhere else: a tick of 0.01 is 10000,
 * a minimum order of 5 tokens is 5000000.
 */
#ifndef POLYHOST_ABI_MARKETS_H
#define POLYHOST_ABI_MARKETS_H

#include <stdint.h>

#include "polyhost/abi/host.h"
#include "polyhost/abi/result.h"
#include "polyhost/abi/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PH_EXT_MARKETS "polyhost.markets/1"

/* ph_market_info.flags (bits of a uint32_t) */
#define PH_MARKET_NEG_RISK 0x1u /* part of a neg-risk event (one outcome of the event wins) */
#define PH_MARKET_ACTIVE 0x2u   /* the catalog lists it as active */
#define PH_MARKET_CLOSED 0x4u   /* the catalog lists it as closed: no more trading */
#define PH_MARKET_OBSERVED 0x8u /* known only from a feed: no catalog entry, numbers may be 0 */

/* One market (a Polymarket condition). */
typedef struct ph_market_info {
  uint32_t struct_size;
  uint32_t flags;            /* PH_MARKET_* */
  const char* market;        /* the condition id */
  const char* event_id;      /* the event it belongs to; NULL when none is known */
  const char* question;      /* NULL when unknown */
  int64_t tick_size;         /* minimum price increment, micro-units; 0 = unknown */
  int64_t min_order_size;    /* minimum order size, micro-units of tokens; 0 = unknown */
  uint32_t outcome_count;    /* tokens known for it (2 for a binary market) */
  uint32_t reserved0;
  /* ---- appended after the 1.0 part: valid only when the struct_size the host
   * returned covers it, PH_STRUCT_HAS(&info, ph_market_info, end_time_ms); an
   * older host writes up to reserved0 and leaves the rest as the caller set it. */
  int64_t end_time_ms;       /* when trading ends (Gamma endDate), Unix ms UTC; 0 = unknown */
} ph_market_info;

/* One outcome token of a market. */
typedef struct ph_outcome_info {
  uint32_t struct_size;
  uint32_t index;                   /* position among the market's outcomes (catalog order) */
  const char* market;               /* the condition id */
  const char* asset_id;             /* the token id */
  const char* outcome;              /* "Yes", "No", "Up", ...; NULL when unknown (observed) */
  const char* complement_asset_id;  /* the other token of a two-token market; NULL otherwise */
} ph_outcome_info;

/* ph_market_group.kind (int32_t) */
typedef int32_t ph_group_kind;
enum {
  PH_GROUP_BINARY = 1,         /* one market's two tokens */
  PH_GROUP_NEG_RISK_EVENT = 2  /* the YES tokens of a neg-risk event's markets */
};

/* A set of tokens of which exactly one pays out 1 at resolution: buying one of
 * each costs their asks and returns 1. */
typedef struct ph_market_group {
  uint32_t struct_size;
  ph_group_kind kind;
  const char* id;        /* stable: "market:<condition id>" or "event:<event id>" */
  const char* event_id;  /* the event; NULL for a binary market without one */
  uint32_t leg_count;    /* legs in the group, even when more than the caller's capacity */
  uint32_t reserved0;
} ph_market_group;

typedef struct ph_markets_ext {
  uint32_t struct_size;
  uint32_t reserved0;

  /* Grows whenever a market, token, group or number changes. Cache what you
   * read and read again when this changed. [any-thread] */
  uint64_t (*generation)(const ph_host* host);

  /* Number of markets known; they are numbered 0 .. count-1 in the order the host
   * learned them, and a number never changes. [any-thread] */
  uint32_t (*market_count)(const ph_host* host);

  /* Fills *out for the market with this condition id. PH_ERR_NOT_FOUND when the
   * host does not know it. [any-thread] */
  ph_result (*get_market)(const ph_host* host, const char* market, ph_market_info* out);

  /* The same by number (0 .. market_count-1); PH_ERR_NOT_FOUND when out of
   * range. [any-thread] */
  ph_result (*get_market_at)(const ph_host* host, uint32_t index, ph_market_info* out);

  /* Fills *out for a token. `market` may be NULL: the token is then looked up by
   * asset_id alone, and PH_ERR_INVALID_ARGUMENT means several markets have a
   * token with that id (possible only for feed-only ids like "yes"): pass the
   * market. PH_ERR_NOT_FOUND when unknown. [any-thread] */
  ph_result (*get_outcome)(const ph_host* host, const char* market, const char* asset_id, ph_outcome_info* out);

  /* The market's index-th token (0 .. outcome_count-1); PH_ERR_NOT_FOUND when
   * the market is unknown or index is out of range. [any-thread] */
  ph_result (*get_outcome_at)(const ph_host* host, const char* market, uint32_t index, ph_outcome_info* out);

  /* Number of groups; they are numbered 0 .. count-1 and a number never changes
   * (new groups are appended). [any-thread] */
  uint32_t (*group_count)(const ph_host* host);

  /* Fills *out with group `index` and copies up to `capacity` of its legs into
   * legs[] (the array is the caller's; the strings in it are the host's, valid
   * until destroy). out->leg_count is the number of legs the group has: when it
   * exceeds capacity, only `capacity` were copied; call again with a larger
   * array. legs may be NULL when capacity is 0. PH_ERR_NOT_FOUND when index is
   * out of range or the group was dissolved (a feed revealed a third token of a
   * market thought binary). [any-thread] */
  ph_result (*get_group)(const ph_host* host, uint32_t index, ph_market_group* out, ph_asset_ref* legs,
                         uint32_t capacity);

  /* The numbers of the groups that have this token as a leg (at most one binary
   * group and one event group), written to indexes[0 .. min(*count, capacity)).
   * *count is set to how many there are; 0 with PH_OK when the token is known
   * but in no group. PH_ERR_NOT_FOUND when the token is unknown. `market` may be
   * NULL as for get_outcome. [any-thread] */
  ph_result (*find_groups)(const ph_host* host, const char* market, const char* asset_id, uint32_t* indexes,
                           uint32_t capacity, uint32_t* count);
} ph_markets_ext;

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_MARKETS_H */

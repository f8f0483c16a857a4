/* The frozen v1 test plugin: plain C, built against the ABI 1.0.0 snapshot in
 * ../frozen_v1, never against sdk/include. Keep it loading in every later
 * version; do not "modernise" it. tests/abi/abi_test.cc checks what it sees and
 * does through metrics, plans and cancel requests.
 *
 * Config: market, asset_id (strings), edge (micros), max_size (int),
 * enabled (bool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polyhost_abi_v1_0_0.h"

#if defined(__GNUC__)
#define EXPORT __attribute__((visibility("default")))
#else
#define EXPORT
#endif

typedef struct state {
  ph_plugin table;
  const ph_host* host;
  char market[128];
  char asset_id[128];
  int64_t edge;
  int64_t max_size;
  int32_t enabled;
  int64_t books;
} state;

static state* self(const ph_plugin* p) { return (state*)p->plugin_data; }

static void logf_(const ph_host* h, ph_log_level level, const char* text, long long value) {
  char line[256];
  snprintf(line, sizeof line, "v1_frozen: %s %lld", text, value);
  h->log(h, level, line);
}

static ph_result copy_config(const ph_host* h, const char* key, char* out, size_t size) {
  const char* value = NULL;
  ph_result rc = h->config_get_string(h, key, &value);
  if (rc != PH_OK) return rc;
  if (strlen(value) >= size) return PH_ERR_CONFIG;
  strcpy(out, value);
  return PH_OK;
}

static ph_result init(const ph_plugin* p) {
  state* s = self(p);
  const ph_host* h = s->host;
  if (copy_config(h, "market", s->market, sizeof s->market) != PH_OK ||
      copy_config(h, "asset_id", s->asset_id, sizeof s->asset_id) != PH_OK) {
    h->log(h, PH_LOG_ERROR, "v1_frozen: market and asset_id are required");
    return PH_ERR_CONFIG;
  }
  if (h->config_get_micros(h, "edge", &s->edge) != PH_OK) return PH_ERR_CONFIG;
  if (h->config_get_int(h, "max_size", &s->max_size) != PH_OK) return PH_ERR_CONFIG;
  if (h->config_get_bool(h, "enabled", &s->enabled) != PH_OK) return PH_ERR_CONFIG;
  logf_(h, PH_LOG_INFO, "init edge", (long long)s->edge);
  return h->subscribe(h, s->market, s->asset_id);
}

static ph_result activate(const ph_plugin* p) {
  state* s = self(p);
  return s->host->set_timer(s->host, 1000);
}

static ph_result deactivate(const ph_plugin* p) {
  state* s = self(p);
  ph_cancel_request c;
  memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  c.scope = PH_CANCEL_ALL;
  c.reason = "v1_frozen deactivated";
  return s->host->cancel_orders(s->host, &c);
}

static void destroy(const ph_plugin* p) { free(self(p)); }

static ph_result on_book(const ph_plugin* p, const ph_book_view* v) {
  state* s = self(p);
  const ph_host* h = s->host;
  ph_book_view again;
  int64_t bid_sizes = 0;
  uint32_t i;
  if (v->struct_size < sizeof(ph_book_view)) return PH_ERR_INVALID_ARGUMENT;
  if (strcmp(v->asset.market, s->market) != 0 || strcmp(v->asset.asset_id, s->asset_id) != 0) {
    return PH_ERR_INVALID_ARGUMENT;
  }
  ++s->books;
  for (i = 0; i < v->bid_count; ++i) bid_sizes += v->bids[i].size;
  h->metric(h, "books", PH_METRIC_COUNTER, 1);
  h->metric(h, "seq", PH_METRIC_GAUGE, v->seq);
  h->metric(h, "resyncs", PH_METRIC_GAUGE, v->resync_count);
  h->metric(h, "ts_ms", PH_METRIC_GAUGE, v->ts_ms);
  h->metric(h, "tick", PH_METRIC_GAUGE, v->tick_size);
  h->metric(h, "stale", PH_METRIC_GAUGE, (v->flags & PH_BOOK_FLAG_STALE) ? 1 : 0);
  h->metric(h, "levels", PH_METRIC_GAUGE, (int64_t)v->bid_count + v->ask_count);
  h->metric(h, "bid_sizes", PH_METRIC_GAUGE, bid_sizes);

  memset(&again, 0, sizeof again);
  again.struct_size = sizeof again;
  if (h->get_book(h, s->market, s->asset_id, &again) == PH_OK) {
    h->metric(h, "get_book_same", PH_METRIC_GAUGE, again.bids == v->bids && again.bid_count == v->bid_count);
  }

  if (s->enabled && v->bid_count > 0 && v->ask_count > 0 && v->asks[0].price - v->bids[0].price >= s->edge) {
    ph_plan_leg legs[2];
    ph_plan plan;
    uint64_t id = 0;
    char tag[32];
    int64_t size = v->asks[0].size < s->max_size ? v->asks[0].size : s->max_size;
    ph_result rc;
    memset(legs, 0, sizeof legs);
    legs[0].asset.market = s->market;
    legs[0].asset.asset_id = s->asset_id;
    legs[0].side = PH_SIDE_BUY;
    legs[0].tif = PH_TIF_IOC;
    legs[0].price = v->bids[0].price + 10000;
    legs[0].size = size;
    legs[1] = legs[0];
    legs[1].side = PH_SIDE_SELL;
    legs[1].tif = PH_TIF_GTC;
    legs[1].price = v->asks[0].price - 10000;
    snprintf(tag, sizeof tag, "frozen-%lld", (long long)s->books);
    memset(&plan, 0, sizeof plan);
    plan.struct_size = sizeof plan;
    plan.leg_count = 2;
    plan.leg_struct_size = sizeof(ph_plan_leg);
    plan.client_tag = tag;
    plan.legs = legs;
    plan.reason = "v1 frozen: spread wide enough";
    rc = h->submit_plan(h, &plan, &id);
    if (rc != PH_OK) return rc;
    h->metric(h, "last_plan", PH_METRIC_GAUGE, (int64_t)id);
  }
  return PH_OK;
}

static ph_result on_trade(const ph_plugin* p, const ph_trade* t) {
  const ph_host* h = self(p)->host;
  h->metric(h, "trade_price", PH_METRIC_GAUGE, t->price);
  h->metric(h, "trade_side", PH_METRIC_GAUGE, t->side);
  return PH_OK;
}

static ph_result on_order_update(const ph_plugin* p, const ph_order_update* u) {
  const ph_host* h = self(p)->host;
  h->metric(h, "updates", PH_METRIC_COUNTER, 1);
  h->metric(h, "update_kind", PH_METRIC_GAUGE, u->kind);
  h->metric(h, "update_plan", PH_METRIC_GAUGE, (int64_t)u->plan_id);
  h->metric(h, "update_leg_price", PH_METRIC_GAUGE, u->price);
  h->metric(h, "update_dry_run", PH_METRIC_GAUGE, (u->flags & PH_ORDER_FLAG_DRY_RUN) ? 1 : 0);
  if (u->reason != NULL) h->log(h, PH_LOG_INFO, u->reason);
  return PH_OK;
}

static ph_result on_fill(const ph_plugin* p, const ph_fill* f) {
  const ph_host* h = self(p)->host;
  h->metric(h, "fill_size", PH_METRIC_GAUGE, f->size);
  h->metric(h, "fill_fee", PH_METRIC_GAUGE, f->fee);
  h->metric(h, "fill_maker", PH_METRIC_GAUGE, (f->flags & PH_FILL_FLAG_MAKER) ? 1 : 0);
  return PH_OK;
}

static ph_result on_timer(const ph_plugin* p, int64_t now_ms) {
  const ph_host* h = self(p)->host;
  h->metric(h, "timers", PH_METRIC_COUNTER, 1);
  h->metric(h, "timer_now", PH_METRIC_GAUGE, now_ms);
  return PH_OK;
}

static ph_result on_status(const ph_plugin* p, const ph_status_event* e) {
  const ph_host* h = self(p)->host;
  h->metric(h, "status", PH_METRIC_GAUGE, e->status);
  return PH_OK;
}

static const void* get_extension(const ph_plugin* p, const char* id) {
  (void)p;
  (void)id;
  return NULL;
}

static const ph_plugin_descriptor descriptor = {
    sizeof(ph_plugin_descriptor), 0, "v1_frozen", "Frozen v1 test plugin", "1.0.0", "polyhost tests",
    "built against the ABI 1.0.0 snapshot"};

static const ph_plugin* create(const ph_host* host) {
  state* s;
  if (host == NULL || host->abi_version.major != 1) return NULL;
  s = (state*)calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->host = host;
  s->table.struct_size = sizeof(ph_plugin);
  s->table.desc = &descriptor;
  s->table.plugin_data = s;
  s->table.init = init;
  s->table.activate = activate;
  s->table.deactivate = deactivate;
  s->table.destroy = destroy;
  s->table.on_book = on_book;
  s->table.on_trade = on_trade;
  s->table.on_order_update = on_order_update;
  s->table.on_fill = on_fill;
  s->table.on_timer = on_timer;
  s->table.on_status = on_status;
  s->table.get_extension = get_extension;
  return &s->table;
}

EXPORT const ph_plugin_entry polyhost_plugin_entry = {sizeof(ph_plugin_entry), {1, 0, 0}, &descriptor, create};

/* A plugin built against a future minor, 1.7.0: every struct it hands the host
 * is longer than 1.0 (extra trailing fields and callbacks), and it probes for a
 * host function that 1.0 does not have. The host must use the 1.0 part, ignore
 * the rest, and the plugin must cope with the host's shorter tables. */
#define POLYHOST_NO_ENTRY_DECLARATION 1 /* we define the symbol with a longer type */
#include <stdlib.h>
#include <string.h>

#include "polyhost/abi/polyhost.h"

/* What 1.7 might have appended. */
typedef struct entry_1_7 {
  ph_plugin_entry v1;
  const void* (*get_factory)(const char* id);
} entry_1_7;
typedef struct descriptor_1_7 {
  ph_plugin_descriptor v1;
  const char* homepage;
} descriptor_1_7;
typedef struct plugin_1_7 {
  ph_plugin v1;
  ph_result (*on_future_event)(const ph_plugin* plugin, const void* event);
} plugin_1_7;
typedef struct host_1_7 {
  ph_host v1;
  ph_result (*future_service)(const ph_host* host);
} host_1_7;
typedef struct leg_1_7 {
  ph_plan_leg v1;
  int64_t expiration_ms;
} leg_1_7;
typedef struct plan_1_7 {
  ph_plan v1;
  int64_t max_slippage;
} plan_1_7;
typedef struct view_1_7 {
  ph_book_view v1;
  int64_t recv_ts_ms;
} view_1_7;

typedef struct state {
  plugin_1_7 table;
  const ph_host* host;
} state;

static const ph_host* host_of(const ph_plugin* p) { return ((state*)p->plugin_data)->host; }

static ph_result never(const ph_plugin* p, const void* e) {
  (void)p;
  (void)e;
  abort(); /* a 1.0 host does not know this callback */
}

static ph_result init(const ph_plugin* p) {
  const ph_host* h = host_of(p);
  /* 1.0 hosts have no future_service: probe before calling. */
  int has_future = h->struct_size >= offsetof(host_1_7, future_service) + sizeof(void*);
  h->metric(h, "host_struct_size", PH_METRIC_GAUGE, h->struct_size);
  h->metric(h, "future_service", PH_METRIC_GAUGE, has_future);
  h->metric(h, "host_has_log", PH_METRIC_GAUGE, PH_HOST_HAS(h, log) ? 1 : 0);
  return h->subscribe(h, "m", "yes");
}

static ph_result on_book(const ph_plugin* p, const ph_book_view* v) {
  const ph_host* h = host_of(p);
  view_1_7 big;
  leg_1_7 legs[2];
  plan_1_7 plan;
  memset(&big, 0, sizeof big);
  big.v1.struct_size = sizeof big;
  big.recv_ts_ms = 4242;
  if (h->get_book(h, v->asset.market, v->asset.asset_id, &big.v1) != PH_OK) return PH_ERR_FAILED;
  h->metric(h, "view_struct_size", PH_METRIC_GAUGE, big.v1.struct_size);
  h->metric(h, "view_tail_untouched", PH_METRIC_GAUGE, big.recv_ts_ms == 4242);

  memset(legs, 0, sizeof legs);
  legs[0].v1.asset = v->asset;
  legs[0].v1.side = PH_SIDE_BUY;
  legs[0].v1.tif = PH_TIF_GTC;
  legs[0].v1.price = 300000;
  legs[0].v1.size = 1000000;
  legs[0].expiration_ms = 1;
  legs[1] = legs[0];
  legs[1].v1.side = PH_SIDE_SELL;
  legs[1].v1.price = 700000;
  legs[1].v1.size = 2000000;
  memset(&plan, 0, sizeof plan);
  plan.v1.struct_size = sizeof plan;
  plan.v1.leg_count = 2;
  plan.v1.leg_struct_size = sizeof(leg_1_7);
  plan.v1.client_tag = "newer";
  plan.v1.legs = &legs[0].v1;
  plan.max_slippage = 5;
  return h->submit_plan(h, &plan.v1, NULL);
}

static void destroy(const ph_plugin* p) { free(p->plugin_data); }

static const descriptor_1_7 descriptor = {
    {sizeof(descriptor_1_7), 0, "minor_newer", "Minor-newer test plugin", "1.7.0", NULL, NULL},
    "https://example.invalid"};

static const ph_plugin* create(const ph_host* host) {
  state* s = (state*)calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->host = host;
  s->table.v1.struct_size = sizeof(plugin_1_7);
  s->table.v1.desc = &descriptor.v1;
  s->table.v1.plugin_data = s;
  s->table.v1.init = init;
  s->table.v1.destroy = destroy;
  s->table.v1.on_book = on_book;
  s->table.on_future_event = never;
  return &s->table.v1;
}

static const void* get_factory(const char* id) {
  (void)id;
  return NULL;
}

POLYHOST_PLUGIN_EXPORT const entry_1_7 polyhost_plugin_entry = {
    {sizeof(entry_1_7), {1, 7, 0}, &descriptor.v1, create}, get_factory};

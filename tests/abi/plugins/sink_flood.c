/* Submits plans until the host's sink refuses one, ignores the refusal and
 * returns PH_OK: the host must disable it anyway. */
#include <string.h>

#include "test_plugin.h"

static ph_result init(const ph_plugin* p) {
  (void)p;
  return g_host->subscribe(g_host, "m", "yes");
}

static ph_result on_book(const ph_plugin* p, const ph_book_view* v) {
  ph_plan_leg leg;
  ph_plan plan;
  int i;
  (void)p;
  memset(&leg, 0, sizeof leg);
  leg.asset = v->asset;
  leg.side = PH_SIDE_BUY;
  leg.tif = PH_TIF_GTC;
  leg.price = 100000;
  leg.size = 1000000;
  memset(&plan, 0, sizeof plan);
  plan.struct_size = sizeof plan;
  plan.leg_count = 1;
  plan.leg_struct_size = sizeof leg;
  plan.client_tag = "flood";
  plan.legs = &leg;
  for (i = 0; i < 100000; ++i) {
    if (g_host->submit_plan(g_host, &plan, NULL) != PH_OK) break;
  }
  return PH_OK;
}

PH_TEST_PLUGIN("sink_flood", "Floods the plan sink", init, on_book);

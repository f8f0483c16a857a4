/* A plugin whose 5th on_book call sleeps SLOW_BOOK_MS milliseconds (environment;
 * default 0): what a plugin stuck in a loop or a blocking call looks like to the
 * host. Used by plugin_watchdog_test.py against the plugin watchdog. */
#define _POSIX_C_SOURCE 199309L /* nanosleep */
#include <stdlib.h>
#include <time.h>

#include "polyhost/abi/polyhost.h"

static const ph_host* g_host;
static int g_books;

static ph_result init(const ph_plugin* p) {
  (void)p;
  return g_host->subscribe(g_host, PH_SUBSCRIBE_ALL, PH_SUBSCRIBE_ALL);
}

static ph_result on_book(const ph_plugin* p, const ph_book_view* v) {
  (void)p;
  (void)v;
  if (++g_books == 5) {
    const char* ms_text = getenv("SLOW_BOOK_MS");
    const long ms = ms_text != NULL ? atol(ms_text) : 0;
    g_host->log(g_host, PH_LOG_INFO, "slow_book: sleeping in on_book");
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
  }
  return PH_OK;
}

static void destroy(const ph_plugin* p) { (void)p; }

static const ph_plugin_descriptor descriptor = {
    sizeof(ph_plugin_descriptor), 0, "slow_book", "Sleeps in on_book", "1.0.0", NULL, NULL};

static ph_plugin table;

static const ph_plugin* create(const ph_host* host) {
  g_host = host;
  table.struct_size = sizeof table;
  table.desc = &descriptor;
  table.init = init;
  table.destroy = destroy;
  table.on_book = on_book;
  return &table;
}

POLYHOST_PLUGIN_EXPORT const ph_plugin_entry polyhost_plugin_entry = {
    sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &descriptor, create};

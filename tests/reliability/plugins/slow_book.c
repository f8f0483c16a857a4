/* A plugin whose 5th on_book call sleeps SLOW_BOOK_MS milliseconds (environment;
 * default 0): what a plugin stuck in a loop or a blocking call looks like to the
 * host. Used by plugin_watchdog_test.py against the plugin watchdog. */
#define _POSIX_C_SOURCE 199309L /* nanosleep */
#include <stdlib.h>
#include <time.h>

#include "test_plugin.h"

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

PH_TEST_PLUGIN("slow_book", "Sleeps in on_book", init, on_book);

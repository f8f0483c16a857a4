/* Returns a plugin-defined error code from on_book: the host must disable it. */
#include <stdlib.h>

#include "test_plugin.h"

static ph_result init(const ph_plugin* p) {
  (void)p;
  return g_host->subscribe(g_host, "m", "yes");
}

static ph_result on_book(const ph_plugin* p, const ph_book_view* v) {
  (void)p;
  (void)v;
  g_host->log(g_host, PH_LOG_WARN, "returns_error: refusing this book on purpose");
  return -1042;
}

PH_TEST_PLUGIN("returns_error", "Returns an error", init, on_book);

/* Returns a plugin-defined error code from on_book: the host must disable it. */
#include <stdlib.h>

#include "polyhost/abi/polyhost.h"

static const ph_host* g_host;

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

static void destroy(const ph_plugin* p) { (void)p; }

static const ph_plugin_descriptor descriptor = {
    sizeof(ph_plugin_descriptor), 0, "returns_error", "Returns an error", "1.0.0", NULL, NULL};

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

/* What every small C test plugin under tests/ repeats: the host pointer, a
 * destroy with nothing to free, and the descriptor, create() and the exported
 * entry of a plugin that implements init and on_book only.
 *
 * Use: include this header (it includes polyhost/abi/polyhost.h), write
 *   static ph_result init(const ph_plugin* p);
 *   static ph_result on_book(const ph_plugin* p, const ph_book_view* v);
 * using g_host, then end the file with
 *   PH_TEST_PLUGIN("id", "Name", init, on_book);
 * Each plugin is its own shared object, so the static names here never meet.
 * The CMake targets that build these plugins add tests/plugins_common to their
 * include path. */
#ifndef POLYHOST_TESTS_PLUGINS_COMMON_TEST_PLUGIN_H_
#define POLYHOST_TESTS_PLUGINS_COMMON_TEST_PLUGIN_H_

#include <stddef.h>

#include "polyhost/abi/polyhost.h"

/* The host the plugin was created with: set by create(), before init runs. */
static const ph_host* g_host;

static void ph_test_plugin_destroy(const ph_plugin* p) { (void)p; }

/* Defines the descriptor (version 1.0.0, no vendor, no description), the one
 * plugin table create() fills, and polyhost_plugin_entry. */
#define PH_TEST_PLUGIN(ID, NAME, INIT, ON_BOOK)                                       \
  static const ph_plugin_descriptor ph_test_plugin_descriptor = {                     \
      sizeof(ph_plugin_descriptor), 0, ID, NAME, "1.0.0", NULL, NULL};                \
  static ph_plugin ph_test_plugin_table;                                              \
  static const ph_plugin* ph_test_plugin_create(const ph_host* host) {                \
    g_host = host;                                                                    \
    ph_test_plugin_table.struct_size = sizeof ph_test_plugin_table;                   \
    ph_test_plugin_table.desc = &ph_test_plugin_descriptor;                           \
    ph_test_plugin_table.init = INIT;                                                 \
    ph_test_plugin_table.destroy = ph_test_plugin_destroy;                            \
    ph_test_plugin_table.on_book = ON_BOOK;                                           \
    return &ph_test_plugin_table;                                                     \
  }                                                                                   \
  POLYHOST_PLUGIN_EXPORT const ph_plugin_entry polyhost_plugin_entry = {              \
      sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &ph_test_plugin_descriptor, \
      ph_test_plugin_create}

#endif /* POLYHOST_TESTS_PLUGINS_COMMON_TEST_PLUGIN_H_ */

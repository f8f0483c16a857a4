/* polyhost plugin ABI: the one exported symbol.
 *
 * A plugin library exports exactly one symbol, the constant
 *
 *   POLYHOST_PLUGIN_EXPORT const ph_plugin_entry polyhost_plugin_entry = {
 *     sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &my_descriptor, my_create };
 *
 * and builds everything else with hidden visibility. The host loads the library
 * with RTLD_NOW | RTLD_LOCAL, reads struct_size and abi_version first (frozen in
 * every major), refuses a different major, and only then reads the rest.
 */
#ifndef POLYHOST_ABI_ENTRY_H
#define POLYHOST_ABI_ENTRY_H

#include <stdint.h>

#include "polyhost/abi/host.h"
#include "polyhost/abi/plugin.h"
#include "polyhost/abi/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) || defined(__CYGWIN__)
#define POLYHOST_PLUGIN_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define POLYHOST_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define POLYHOST_PLUGIN_EXPORT
#endif

/* The symbol's name, for loaders. */
#define POLYHOST_PLUGIN_ENTRY_SYMBOL "polyhost_plugin_entry"

typedef struct ph_plugin_entry {
  /* Frozen in every major: */
  uint32_t struct_size;    /* sizeof(ph_plugin_entry) */
  ph_version abi_version;  /* POLYHOST_ABI_VERSION_INIT */

  /* Major 1: */
  const ph_plugin_descriptor* descriptor;  /* required */

  /* Makes one plugin instance bound to `host` (which stays valid until that
   * instance's destroy returns). Returns NULL on failure, after logging why with
   * host->log. Do only cheap work here; real setup belongs in init. The host may
   * create several instances of one library (under different names); they all
   * run on the same strategy thread. [strategy-thread] */
  const ph_plugin* (*create)(const ph_host* host);
} ph_plugin_entry;

/* Declared here so that a definition in a plugin gets the right type and
 * linkage. A plugin that must define the symbol with another type (a test
 * impersonating a future ABI) defines POLYHOST_NO_ENTRY_DECLARATION first. */
#ifndef POLYHOST_NO_ENTRY_DECLARATION
POLYHOST_PLUGIN_EXPORT extern const ph_plugin_entry polyhost_plugin_entry;
#endif

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_ENTRY_H */

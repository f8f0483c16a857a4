/* polyhost plugin ABI: result codes.
 *
 * Every fallible function on either side of the boundary returns a ph_result:
 * PH_OK (0) on success, a negative code on failure. Positive values are reserved
 * and are never valid; a plugin callback returning one is treated as an error.
 *
 * Codes are append-only: a code keeps its number and meaning forever. Codes in
 * [PH_ERR_PLUGIN_LAST, PH_ERR_PLUGIN_FIRST] (-1000 down to -1999) are free for a
 * plugin's own use; the host logs them as numbers.
 *
 * What the host does with a callback's result: PH_OK continues; anything else
 * disables that plugin (its log line names the callback and the code), while the
 * other plugins keep running. See docs/abi.md, "Errors".
 */
#ifndef POLYHOST_ABI_RESULT_H
#define POLYHOST_ABI_RESULT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t ph_result;

enum {
  PH_OK = 0,
  /* Unspecified failure. */
  PH_ERR_FAILED = -1,
  /* A null pointer, an empty string, an out-of-range enum value or amount. */
  PH_ERR_INVALID_ARGUMENT = -2,
  /* The key, asset, order or extension does not exist. */
  PH_ERR_NOT_FOUND = -3,
  /* A config key exists but cannot be read as the requested type. */
  PH_ERR_WRONG_TYPE = -4,
  /* The host's bounded plan sink for this plugin is full. The host disables a
   * plugin that overflows its sink. */
  PH_ERR_SINK_FULL = -5,
  /* The plugin asked about an asset it has not subscribed to. */
  PH_ERR_NOT_SUBSCRIBED = -6,
  /* Called at the wrong time: a [strategy-thread] function called from another
   * thread or outside a callback, or a lifecycle call out of order. */
  PH_ERR_WRONG_STATE = -7,
  /* The other side does not implement this (an older minor, an unknown id). */
  PH_ERR_UNSUPPORTED = -8,
  /* ABI versions are not compatible (different majors). */
  PH_ERR_INCOMPATIBLE = -9,
  /* A C++ exception was caught at the boundary (the SDK's trampolines return it). */
  PH_ERR_EXCEPTION = -10,
  /* Allocation failed. */
  PH_ERR_OUT_OF_MEMORY = -11,
  /* The plugin has been disabled; host services refuse further requests. */
  PH_ERR_DISABLED = -12,
  /* The plugin's configuration is invalid (typically returned by init). */
  PH_ERR_CONFIG = -13,
  /* A bug on the host side. */
  PH_ERR_INTERNAL = -14
};

/* Plugin-defined codes. */
#define PH_ERR_PLUGIN_FIRST (-1000)
#define PH_ERR_PLUGIN_LAST (-1999)

/* The constant's name for a code ("PH_ERR_SINK_FULL"), "PH_ERR_PLUGIN" for
 * plugin-defined codes, "PH_ERR_UNKNOWN" otherwise. Never returns NULL.
 * [any-thread] */
static inline const char* ph_result_name(ph_result code) {
  switch (code) {
    case PH_OK: return "PH_OK";
    case PH_ERR_FAILED: return "PH_ERR_FAILED";
    case PH_ERR_INVALID_ARGUMENT: return "PH_ERR_INVALID_ARGUMENT";
    case PH_ERR_NOT_FOUND: return "PH_ERR_NOT_FOUND";
    case PH_ERR_WRONG_TYPE: return "PH_ERR_WRONG_TYPE";
    case PH_ERR_SINK_FULL: return "PH_ERR_SINK_FULL";
    case PH_ERR_NOT_SUBSCRIBED: return "PH_ERR_NOT_SUBSCRIBED";
    case PH_ERR_WRONG_STATE: return "PH_ERR_WRONG_STATE";
    case PH_ERR_UNSUPPORTED: return "PH_ERR_UNSUPPORTED";
    case PH_ERR_INCOMPATIBLE: return "PH_ERR_INCOMPATIBLE";
    case PH_ERR_EXCEPTION: return "PH_ERR_EXCEPTION";
    case PH_ERR_OUT_OF_MEMORY: return "PH_ERR_OUT_OF_MEMORY";
    case PH_ERR_DISABLED: return "PH_ERR_DISABLED";
    case PH_ERR_CONFIG: return "PH_ERR_CONFIG";
    case PH_ERR_INTERNAL: return "PH_ERR_INTERNAL";
    default: break;
  }
  if (code <= PH_ERR_PLUGIN_FIRST && code >= PH_ERR_PLUGIN_LAST) return "PH_ERR_PLUGIN";
  return "PH_ERR_UNKNOWN";
}

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_RESULT_H */

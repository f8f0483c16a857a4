/* polyhost plugin ABI: the plugin's side of the contract.
 *
 * Lifecycle, driven by the host, one instance at a time, all on the strategy
 * thread:
 *
 *   entry->create(host) -> init -> activate -> on_* callbacks ... -> deactivate
 *        -> [activate -> on_* ... -> deactivate]* -> destroy
 *
 *   - create returns a ph_plugin table, or NULL when it cannot make an instance.
 *   - init is called once; read the configuration and subscribe here.
 *   - on_* callbacks only arrive between activate and deactivate.
 *   - destroy is called exactly once for every instance create returned, whatever
 *     happened before (also after a failed init or a disabled plugin, in which
 *     case deactivate is NOT called first). Free everything and stop any thread
 *     you started. Only host->log may be used from destroy.
 *
 * Every callback returns PH_OK to continue. Any other value (or a C++ exception
 * escaping, or a plan-sink overflow during the call) makes the host disable the
 * plugin: it logs the callback and the code, drops the plugin's undrained plans,
 * requests cancellation of its orders and calls destroy. Other plugins continue.
 *
 * A callback pointer may be NULL: the host then skips that call (NULL init,
 * activate and deactivate count as PH_OK). destroy must not be NULL.
 * The table must stay valid and unchanged until destroy returns.
 */
#ifndef POLYHOST_ABI_PLUGIN_H
#define POLYHOST_ABI_PLUGIN_H

#include <stdint.h>

#include "polyhost/abi/events.h"
#include "polyhost/abi/result.h"
#include "polyhost/abi/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Static facts about a plugin. Owned by the plugin (typically a static const);
 * valid as long as the library is loaded. The host copies the strings. */
typedef struct ph_plugin_descriptor {
  uint32_t struct_size;
  uint32_t reserved0;
  const char* id;           /* stable machine id, [A-Za-z0-9._-]+, e.g. "spread"; required */
  const char* name;         /* human name, e.g. "Spread quoter"; required */
  const char* version;      /* the plugin's own version, e.g. "1.2.0"; required */
  const char* vendor;       /* may be NULL */
  const char* description;  /* one line; may be NULL */
} ph_plugin_descriptor;

typedef struct ph_plugin {
  uint32_t struct_size;
  uint32_t reserved0;
  const ph_plugin_descriptor* desc;  /* required */
  void* plugin_data;                 /* the plugin's; the host never touches it */

  /* Reads configuration through the host table, validates it, subscribes.
   * Return PH_ERR_CONFIG (and log why) for bad configuration. [strategy-thread] */
  ph_result (*init)(const struct ph_plugin* plugin);

  /* Starts trading: callbacks follow. [strategy-thread] */
  ph_result (*activate)(const struct ph_plugin* plugin);

  /* Stops trading: no callbacks until the next activate. A good place to cancel
   * resting orders (cancel_orders). [strategy-thread] */
  ph_result (*deactivate)(const struct ph_plugin* plugin);

  /* Frees the instance; the table and plugin_data are dead afterwards. Must not
   * fail. [strategy-thread] */
  void (*destroy)(const struct ph_plugin* plugin);

  /* A subscribed asset's book changed. One call per asset per feed frame, after
   * the whole frame was applied. `view` and everything it points to are valid
   * only until this returns. Keep it short: every plugin runs on the same thread.
   * [strategy-thread] */
  ph_result (*on_book)(const struct ph_plugin* plugin, const ph_book_view* view);

  /* A trade printed on a subscribed asset. [strategy-thread] */
  ph_result (*on_trade)(const struct ph_plugin* plugin, const ph_trade* trade);

  /* A decision about one of this plugin's plans, or a change of one of its
   * orders. [strategy-thread] */
  ph_result (*on_order_update)(const struct ph_plugin* plugin, const ph_order_update* update);

  /* An execution of one of this plugin's orders. [strategy-thread] */
  ph_result (*on_fill)(const struct ph_plugin* plugin, const ph_fill* fill);

  /* The interval requested with host->set_timer elapsed. now_ms is the host
   * clock. [strategy-thread] */
  ph_result (*on_timer)(const struct ph_plugin* plugin, int64_t now_ms);

  /* A subscribed asset went stale, was resynced, or its market closed.
   * [strategy-thread] */
  ph_result (*on_status)(const struct ph_plugin* plugin, const ph_status_event* event);

  /* Returns the plugin's extension table with this id, or NULL. Owned by the
   * plugin, valid until destroy. May be NULL. [strategy-thread] */
  const void* (*get_extension)(const struct ph_plugin* plugin, const char* id);
} ph_plugin;

/* True when `plugin` offers callback `fn` (it is in the table and not NULL). */
#define PH_PLUGIN_HAS(plugin, fn) (PH_STRUCT_HAS(plugin, ph_plugin, fn) && (plugin)->fn)

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_PLUGIN_H */

/* tgbot's own plugin extension "polyhost.tgbot.offline/1": lets a host feed
 * Telegram Updates to the bot directly instead of over the Bot API
 * (`polyhost tgbot-run-local`). Returned by the plugin's get_extension.
 *
 *   const ph_tgbot_offline_ext* ext =
 *       (const ph_tgbot_offline_ext*)plugin->get_extension(plugin, PH_TGBOT_EXT_OFFLINE);
 *   size_t n = 0;
 *   ext->handle_update(ext->ctx, "{\"message\":{\"text\":\"/help\"}}", buf, sizeof buf, &n);
 *
 * handle_update writes the reply text and a NUL to out[0 .. out_cap) and its
 * length to *out_len; an empty reply means the bot says nothing (an update from
 * a chat that is not allowed, or without text). When out_cap <= *out_len nothing
 * is written and the result is PH_ERR_INVALID_ARGUMENT: call again with
 * update_json NULL and a larger buffer to fetch that reply (an update is handled
 * once; the last reply is kept).
 * [strategy-thread]
 */
#ifndef POLYHOST_TGBOT_OFFLINE_EXT_H
#define POLYHOST_TGBOT_OFFLINE_EXT_H

#include <stddef.h>
#include <stdint.h>

#include "polyhost/abi/result.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PH_TGBOT_EXT_OFFLINE "polyhost.tgbot.offline/1"

typedef struct ph_tgbot_offline_ext {
  uint32_t struct_size;
  uint32_t reserved0;
  void* ctx; /* pass back as the first argument */
  ph_result (*handle_update)(void* ctx, const char* update_json, char* out, size_t out_cap, size_t* out_len);
} ph_tgbot_offline_ext;

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_TGBOT_OFFLINE_EXT_H */

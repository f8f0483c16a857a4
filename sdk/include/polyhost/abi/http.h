/* polyhost plugin ABI: the "polyhost.http/1" host extension.
 *
 * Plain HTTP/HTTPS requests made by the host on the plugin's behalf, for service
 * plugins that talk to an outside API (e.g. the Telegram Bot API). The host does
 * the TLS (system trust store), enforces the timeout and logs every request
 * (method, host and status; never the path, query, headers or body, which may
 * carry tokens).
 *
 *   const ph_http_ext* http = (const ph_http_ext*)host->get_extension(host, PH_EXT_HTTP);
 *   const ph_http_response* r = NULL;
 *   ph_result rc = http->request(host, "POST", url, headers, 1, body, body_len, 35000, &r);
 *   if (r) { use(r->status, r->body, r->body_len); http->release(host, r); }
 *
 * Threads: [any-thread] and synchronous: request blocks the calling thread until
 * the response arrived or timeout_ms passed. Never call it from a strategy
 * callback (it would stall every plugin); call it from your own thread.
 */
#ifndef POLYHOST_ABI_HTTP_H
#define POLYHOST_ABI_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "polyhost/abi/host.h"
#include "polyhost/abi/result.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PH_EXT_HTTP "polyhost.http/1"

/* One request header; both strings are the caller's, copied before request
 * returns. Names and values must not contain CR or LF. */
typedef struct ph_http_header {
  const char* name;
  const char* value;
} ph_http_header;

/* A response, owned by the host until release. */
typedef struct ph_http_response {
  uint32_t struct_size;
  int32_t status;       /* HTTP status (200, 401, 502, ...); 0 when the exchange failed */
  const char* body;     /* body_len bytes followed by a NUL; "" when none */
  size_t body_len;
  const char* error;    /* why the exchange failed (status 0), else ""; names the host, never
                         * the path, query, headers or body */
} ph_http_response;

typedef struct ph_http_ext {
  uint32_t struct_size;
  uint32_t reserved0;
  /* Performs one exchange. method: "GET", "POST", "PUT", "DELETE", "PATCH" or
   * "HEAD"; url: http://host[:port]/path?query or https://...; headers may be
   * NULL when header_count is 0; body may be NULL when body_len is 0;
   * timeout_ms > 0 covers the whole exchange.
   * Returns PH_OK with *out set when a response (any status) arrived;
   * PH_ERR_FAILED with *out set (status 0, error says why) when the exchange
   * failed (DNS, connect, TLS, timeout, malformed response); PH_ERR_INVALID_ARGUMENT
   * (with *out NULL) for a bad method, URL, header or timeout. Every non-NULL
   * *out must be passed to release exactly once. [any-thread] */
  ph_result (*request)(const ph_host* host, const char* method, const char* url, const ph_http_header* headers,
                       uint32_t header_count, const char* body, size_t body_len, int64_t timeout_ms,
                       const ph_http_response** out);
  /* Frees a response of request. NULL is ignored. [any-thread] */
  void (*release)(const ph_host* host, const ph_http_response* response);
} ph_http_ext;

#ifdef __cplusplus
}
#endif

#endif /* POLYHOST_ABI_HTTP_H */

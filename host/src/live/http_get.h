// HttpGetFn over the host's HTTP client (net/http_client.h): 2xx is a body,
// anything else an error naming the status (never the body or headers).
#pragma once

#include <string>

#include "live/book_resync.h"

namespace polyhost {

struct HttpGetOptions {
  bool insecure = false;   // skip TLS verification (explicit --insecure only)
  std::string ca_file;     // PEM CA file instead of the system store
  int64_t timeout_ms = 10000;
};

// Throws std::runtime_error when the CA file cannot be loaded.
HttpGetFn MakeHttpGet(const HttpGetOptions& options);

}  // namespace polyhost

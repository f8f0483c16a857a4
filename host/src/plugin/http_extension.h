// The "polyhost.http/1" host extension (sdk/include/polyhost/abi/http.h) over
// net::HttpClient. Register it before loading plugins:
//
//   HttpExtension http(log_line);                 // must outlive the PluginHost
//   plugin_host.RegisterExtension(PH_EXT_HTTP, http.table());
//
// Every exchange is logged at debug level with the plugin, method, host:port,
// status and duration, never the path or query (a Telegram URL holds the bot
// token), headers or body. Failure texts handed back to the plugin have the
// path replaced by "<path>" for the same reason.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "net/http_client.h"
#include "polyhost/abi/http.h"

namespace polyhost {

class HttpExtension {
 public:
  using Log = std::function<void(const std::string& line)>;
  explicit HttpExtension(Log log, net::HttpClientOptions options = {});
  HttpExtension(const HttpExtension&) = delete;
  HttpExtension& operator=(const HttpExtension&) = delete;

  const void* table() const { return &block_.table; }

  struct Block {
    ph_http_ext table;  // first: the table's address is the block's
    uint64_t magic;
    HttpExtension* self;
  };

  const net::HttpClient& client() const { return client_; }
  void Audit(const std::string& line) const {
    if (log_) log_(line);
  }

 private:
  Block block_;
  net::HttpClient client_;
  Log log_;
};

// "http://127.0.0.1:8081/bot123:abc/getUpdates?x=1" -> "http://127.0.0.1:8081";
// the whole text when it has no scheme.
std::string UrlOrigin(const std::string& url);

}  // namespace polyhost

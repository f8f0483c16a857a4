// A small synchronous HTTP/1.1 client (Boost.Beast + Asio) for the venue's REST
// APIs: the CLOB (orders, books, version) and Gamma (markets).
//
// One request per connection: plain TCP for http://, TLS for https:// (OpenSSL,
// SNI, certificate and host name verified against the system trust store unless
// `insecure` is set). The timeout covers the whole exchange (resolve, connect,
// handshake, write, read). Any HTTP status is a response; only a failed exchange
// is an error. Error messages name host:port, the path and the step that failed,
// and never contain request headers or bodies (they carry API keys and HMACs).
#ifndef POLYHOST_NET_HTTP_CLIENT_H_
#define POLYHOST_NET_HTTP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace polyhost::net {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";  // GET, POST, DELETE, PUT, PATCH, HEAD
  // http://host[:port]/path[?query] or https://...; the fragment is dropped.
  std::string url;
  // Sent as given. Host and User-Agent are added when absent; Content-Length is
  // set from the body. Names and values may not contain CR or LF.
  std::vector<HttpHeader> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<HttpHeader> headers;
  std::string body;

  // Value of the first header with this name (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
};

struct HttpClientOptions {
  // Skip certificate and host name verification. For local test servers and
  // self-signed development endpoints only; never for the venue.
  bool insecure = false;
  // PEM file of CA certificates to trust instead of the system store (empty:
  // the system store).
  std::string ca_file;
  std::string user_agent = "polyhost/0.1";
  // Responses with a larger body fail (protects against runaway downloads).
  std::size_t max_body_bytes = std::size_t{64} << 20;
};

// A failed exchange: bad URL, DNS, connect, TLS, timeout, malformed response.
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HttpClient {
 public:
  // Throws HttpError if the CA file cannot be loaded.
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Performs one exchange. Throws HttpError on failure. Safe to call from
  // several threads at once.
  HttpResponse Send(const HttpRequest& request) const;

  const HttpClientOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-off convenience: builds a client and sends one request.
HttpResponse HttpSend(const HttpRequest& request, const HttpClientOptions& options = {});

}  // namespace polyhost::net

#endif  // POLYHOST_NET_HTTP_CLIENT_H_

#include "live/http_get.h"

#include <chrono>
#include <memory>

#include "net/http_client.h"

namespace polyhost {

HttpGetFn MakeHttpGet(const HttpGetOptions& options) {
  net::HttpClientOptions client_options;
  client_options.insecure = options.insecure;
  client_options.ca_file = options.ca_file;
  auto client = std::make_shared<net::HttpClient>(client_options);
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  return [client, timeout](const std::string& url, std::string* body, std::string* error) {
    net::HttpRequest request;
    request.url = url;
    request.timeout = timeout;
    request.headers.push_back({"Accept", "application/json"});
    try {
      net::HttpResponse response = client->Send(request);
      if (response.status >= 200 && response.status < 300) {
        *body = std::move(response.body);
        return true;
      }
      *error = "HTTP " + std::to_string(response.status) + (response.reason.empty() ? "" : " " + response.reason);
      return false;
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
  };
}

}  // namespace polyhost

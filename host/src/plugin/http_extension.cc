#include "plugin/http_extension.h"

#include <chrono>
#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace polyhost {

namespace {

constexpr uint64_t kMagic = 0x7068687474703031ull;  // "phhttp01"
static_assert(std::is_standard_layout_v<HttpExtension::Block>);
static_assert(offsetof(HttpExtension::Block, table) == 0);

// A response and the storage its pointers point into.
struct OwnedResponse {
  ph_http_response view{};  // first: the pointer handed out is this struct's
  std::string body;
  std::string error;
};
static_assert(offsetof(OwnedResponse, view) == 0);

HttpExtension* ExtensionOf(const ph_host* host) {
  if (host == nullptr || host->get_extension == nullptr) return nullptr;
  const void* t = host->get_extension(host, PH_EXT_HTTP);
  if (t == nullptr) return nullptr;
  const auto* block = static_cast<const HttpExtension::Block*>(t);
  return block->magic == kMagic ? block->self : nullptr;
}

// Removes the URL's path and query wherever they appear in `text`.
std::string WithoutPath(std::string text, const std::string& url) {
  const std::string origin = UrlOrigin(url);
  if (origin.size() >= url.size()) return text;
  std::string path = url.substr(origin.size());
  for (const std::string& needle : {path, path.substr(0, path.find('?'))}) {
    if (needle.size() <= 1) continue;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 6)) {
      text.replace(at, needle.size(), "<path>");
    }
  }
  return text;
}

ph_result HttpRequestFn(const ph_host* host, const char* method, const char* url, const ph_http_header* headers,
                        uint32_t header_count, const char* body, size_t body_len, int64_t timeout_ms,
                        const ph_http_response** out) noexcept {
  if (out != nullptr) *out = nullptr;
  HttpExtension* ext = ExtensionOf(host);
  if (ext == nullptr) return PH_ERR_INTERNAL;
  if (method == nullptr || url == nullptr || out == nullptr || timeout_ms <= 0 ||
      (header_count > 0 && headers == nullptr) || (body_len > 0 && body == nullptr)) {
    return PH_ERR_INVALID_ARGUMENT;
  }
  const std::string m(method);
  if (m != "GET" && m != "POST" && m != "PUT" && m != "DELETE" && m != "PATCH" && m != "HEAD") {
    return PH_ERR_INVALID_ARGUMENT;
  }
  net::HttpRequest req;
  req.method = m;
  req.url = url;
  if (!req.url.starts_with("http://") && !req.url.starts_with("https://")) return PH_ERR_INVALID_ARGUMENT;
  for (uint32_t i = 0; i < header_count; ++i) {
    if (headers[i].name == nullptr || headers[i].value == nullptr) return PH_ERR_INVALID_ARGUMENT;
    std::string n = headers[i].name, v = headers[i].value;
    if (n.find_first_of("\r\n") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
      return PH_ERR_INVALID_ARGUMENT;
    }
    req.headers.push_back({std::move(n), std::move(v)});
  }
  if (body_len > 0) req.body.assign(body, body_len);
  req.timeout = std::chrono::milliseconds(timeout_ms);
  const std::string plugin = host->plugin_name != nullptr ? host->plugin_name : "?";
  auto* r = new (std::nothrow) OwnedResponse;
  if (r == nullptr) return PH_ERR_OUT_OF_MEMORY;
  r->view.struct_size = sizeof(ph_http_response);
  const auto start = std::chrono::steady_clock::now();
  ph_result rc = PH_OK;
  try {
    net::HttpResponse resp = ext->client().Send(req);
    r->view.status = resp.status;
    r->body = std::move(resp.body);
  } catch (const std::exception& e) {
    r->view.status = 0;
    r->error = WithoutPath(e.what(), req.url);
    rc = PH_ERR_FAILED;
  }
  r->view.body = r->body.c_str();
  r->view.body_len = r->body.size();
  r->view.error = r->error.c_str();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ext->Audit("http: plugin '" + plugin + "' " + m + " " + UrlOrigin(req.url) + " -> " +
             (rc == PH_OK ? std::to_string(r->view.status) : "failed: " + r->error) + " in " + std::to_string(ms) +
             " ms");
  *out = &r->view;
  return rc;
}

void HttpReleaseFn(const ph_host* /*host*/, const ph_http_response* response) noexcept {
  if (response == nullptr) return;
  delete reinterpret_cast<const OwnedResponse*>(response);
}

}  // namespace

std::string UrlOrigin(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t slash = url.find_first_of("/?#", scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

HttpExtension::HttpExtension(Log log, net::HttpClientOptions options)
    : block_{}, client_(std::move(options)), log_(std::move(log)) {
  block_.table.struct_size = sizeof(ph_http_ext);
  block_.table.request = &HttpRequestFn;
  block_.table.release = &HttpReleaseFn;
  block_.magic = kMagic;
  block_.self = this;
}

}  // namespace polyhost

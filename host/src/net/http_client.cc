#include "net/http_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <exception>
#include <utility>

namespace polyhost::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

struct Target {
  bool tls = false;
  std::string host;  // without IPv6 brackets
  bool host_is_ip = false;
  std::string port;
  std::string path_and_query;  // request-target
  std::string path;            // for messages: no query (it may carry identifiers)

  std::string Where() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + port;
  }
};

Target ParseTarget(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw HttpError("invalid URL '" + url + "': " + parsed.error().message());
  boost::urls::url_view u = *parsed;
  Target t;
  if (u.scheme_id() == boost::urls::scheme::https) {
    t.tls = true;
  } else if (u.scheme_id() != boost::urls::scheme::http) {
    throw HttpError("unsupported URL scheme '" + std::string(u.scheme()) + "' in '" + url +
                    "' (only http:// and https://)");
  }
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      t.host = u.host_ipv4_address().to_string();
      t.host_is_ip = true;
      break;
    case boost::urls::host_type::ipv6:
      t.host = u.host_ipv6_address().to_string();
      t.host_is_ip = true;
      break;
    case boost::urls::host_type::name:
      t.host = std::string(u.host());
      break;
    default:
      throw HttpError("unsupported host in URL '" + url + "'");
  }
  if (t.host.empty()) throw HttpError("URL '" + url + "' has no host");
  t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
  t.path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  t.path_and_query = t.path;
  if (u.has_query()) t.path_and_query += "?" + std::string(u.encoded_query());
  return t;
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Shared by the coroutine and the caller; outlives the io_context that runs it.
struct Exchange {
  const Target* target = nullptr;
  http::request<http::string_body>* request = nullptr;
  ssl::context* tls_context = nullptr;
  bool insecure = false;
  std::size_t max_body_bytes = 0;

  const char* step = "resolving the host name";
  std::string tls_detail;  // certificate verification result, when it failed
  HttpResponse response;
};

template <class Stream>
asio::awaitable<void> WriteAndRead(Stream& stream, Exchange& x) {
  x.step = "sending the request";
  co_await http::async_write(stream, *x.request, asio::use_awaitable);
  x.step = "reading the response";
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(x.max_body_bytes);
  // A HEAD response announces a Content-Length but carries no body.
  if (x.request->method() == http::verb::head) parser.skip(true);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto& res = parser.get();
  x.response.status = static_cast<int>(res.result_int());
  x.response.reason = std::string(res.reason());
  for (const auto& field : res) {
    x.response.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  x.response.body = std::move(res.body());
}

asio::awaitable<void> Run(Exchange& x) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(x.target->host, x.target->port, asio::use_awaitable);
  if (!x.target->tls) {
    tcp::socket socket(executor);
    x.step = "connecting";
    co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
    co_await WriteAndRead(socket, x);
    co_return;
  }
  ssl::stream<tcp::socket> stream(executor, *x.tls_context);
  SSL* ssl_handle = stream.native_handle();
  if (!x.target->host_is_ip) {
    // SNI: the venue's hosts sit behind a CDN that picks the certificate by it.
    SSL_set_tlsext_host_name(ssl_handle, x.target->host.c_str());
  }
  if (x.insecure) {
    stream.set_verify_mode(ssl::verify_none);
  } else {
    stream.set_verify_mode(ssl::verify_peer);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    if (x.target->host_is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, x.target->host.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, x.target->host.c_str(), 0);
    }
  }
  x.step = "connecting";
  co_await asio::async_connect(stream.next_layer(), endpoints, asio::use_awaitable);
  x.step = "the TLS handshake";
  try {
    co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
  } catch (const boost::system::system_error&) {
    long verify = SSL_get_verify_result(ssl_handle);
    if (verify != X509_V_OK) x.tls_detail = X509_verify_cert_error_string(verify);
    throw;
  }
  co_await WriteAndRead(stream, x);
  // Connection: close was requested; the socket is closed without a TLS
  // close_notify round trip, which servers routinely skip as well.
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

struct HttpClient::Impl {
  HttpClientOptions options;
  ssl::context tls_context{ssl::context::tls_client};
};

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  auto& ctx = impl_->tls_context;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (!impl_->options.ca_file.empty()) {
    ctx.load_verify_file(impl_->options.ca_file, ec);
    if (ec) {
      throw HttpError("cannot load CA file '" + impl_->options.ca_file + "': " + ec.message());
    }
  } else {
    ctx.set_default_verify_paths(ec);
    if (ec) throw HttpError("cannot load the system CA store: " + ec.message());
  }
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

const HttpClientOptions& HttpClient::options() const { return impl_->options; }

HttpResponse HttpClient::Send(const HttpRequest& request) const {
  const Target target = ParseTarget(request.url);
  const std::string what = request.method + " " + (target.tls ? "https://" : "http://") + target.Where() +
                           target.path;

  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) throw HttpError(what + ": unsupported HTTP method");
  http::request<http::string_body> req{verb, target.path_and_query, 11};
  for (const auto& h : request.headers) {
    // Never echo the value: it may be a key or a signature.
    if (h.name.empty() || HasLineBreak(h.name) || HasLineBreak(h.value)) {
      throw HttpError(what + ": header '" + (HasLineBreak(h.name) ? std::string("?") : h.name) +
                      "' has an empty name or a line break");
    }
    req.insert(h.name, h.value);
  }
  if (req.find(http::field::host) == req.end()) {
    bool default_port = target.port == (target.tls ? "443" : "80");
    bool v6 = target.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + target.host + "]" : target.host;
    req.set(http::field::host, default_port ? host : host + ":" + target.port);
  }
  if (req.find(http::field::user_agent) == req.end()) req.set(http::field::user_agent, impl_->options.user_agent);
  req.keep_alive(false);
  req.body() = request.body;
  req.prepare_payload();

  Exchange x;
  x.target = &target;
  x.request = &req;
  x.tls_context = &impl_->tls_context;
  x.insecure = impl_->options.insecure;
  x.max_body_bytes = impl_->options.max_body_bytes;
  std::exception_ptr failure;
  bool finished = false;
  {
    // Declared after the exchange state so that it (and any coroutine frame
    // still suspended after a timeout) is destroyed first.
    asio::io_context io;
    asio::co_spawn(io, Run(x), [&](std::exception_ptr e) {
      failure = e;
      finished = true;
    });
    io.run_for(request.timeout);
    if (!finished) {
      throw HttpError(what + ": timed out after " + std::to_string(request.timeout.count()) + " ms while " +
                      x.step);
    }
  }
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
      std::string message = what + ": " + x.step + " failed: " + e.code().message();
      if (!x.tls_detail.empty()) message += " (" + x.tls_detail + ")";
      throw HttpError(message);
    } catch (const std::exception& e) {
      throw HttpError(what + ": " + x.step + " failed: " + e.what());
    }
  }
  return std::move(x.response);
}

HttpResponse HttpSend(const HttpRequest& request, const HttpClientOptions& options) {
  return HttpClient(options).Send(request);
}

}  // namespace polyhost::net

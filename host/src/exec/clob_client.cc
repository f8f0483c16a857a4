#include "exec/clob_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <chrono>
#include <thread>

#include "core/json_text.h"
#include "core/url_encode.h"

namespace polyhost {
namespace {

namespace json = boost::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool Has(const std::string& haystack, std::string_view needle) { return haystack.find(needle) != std::string::npos; }

std::string StringField(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return {};
  if (it->value().is_string()) return std::string(it->value().get_string());
  if (it->value().is_int64()) return std::to_string(it->value().get_int64());
  if (it->value().is_uint64()) return std::to_string(it->value().get_uint64());
  return {};
}

json::value ParseOrNull(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

// The venue's error text: "error" or "errorMsg" in a JSON body, else the body.
std::string ErrorText(std::string_view body) {
  json::value v = ParseOrNull(body);
  if (v.is_object()) {
    for (const char* key : {"error", "errorMsg", "message"}) {
      std::string s = StringField(v.get_object(), key);
      if (!s.empty()) return s;
    }
  }
  std::string text(body.substr(0, 300));
  return text.empty() ? "(empty response)" : text;
}

}  // namespace

VenueError MapVenueError(int status, std::string_view body) {
  VenueError e;
  e.message = ErrorText(body);
  const std::string m = Lower(e.message);
  // Order matters: the most specific venue wording first. The venue's messages
  // (and the INVALID_ORDER_* codes the official clients document) as of 2026.
  if (Has(m, "not enough balance") || Has(m, "allowance") || Has(m, "not_enough_balance")) {
    e.code = "insufficient_balance_allowance";
  } else if (Has(m, "tick size") || Has(m, "min_tick_size") || Has(m, "tick_size")) {
    e.code = "invalid_tick";
  } else if (Has(m, "lower than the minimum") || Has(m, "min_size") || Has(m, "minimum size") ||
             Has(m, "minimum order size")) {
    e.code = "below_min_size";
  } else if (Has(m, "duplicated") || Has(m, "duplicate")) {
    e.code = "duplicate_order";
  } else if (Has(m, "expiration")) {
    e.code = "invalid_expiration";
  } else if (Has(m, "fully filled or killed") || Has(m, "fok_order_not_filled") || Has(m, "couldn't be fully filled")) {
    e.code = "fok_not_filled";
  } else if (Has(m, "crosses the book") || Has(m, "post only") || Has(m, "post-only")) {
    e.code = "would_cross";
  } else if (Has(m, "version") && Has(m, "mismatch")) {
    e.code = "order_version_mismatch";
  } else if (Has(m, "closed only") || Has(m, "closed_only") || Has(m, "banned") || Has(m, "restricted")) {
    e.code = "account_restricted";
  } else if (Has(m, "market not ready") || Has(m, "market_not_ready") || Has(m, "orderbook") ||
             Has(m, "does not exist") || Has(m, "market is closed")) {
    e.code = "market_unavailable";
  } else if (status == 401 || status == 403 || Has(m, "unauthorized") || Has(m, "api key")) {
    e.code = "auth_failed";
  } else if (status == 429) {
    e.code = "rate_limited";
  } else if (status >= 500) {
    e.code = "venue_unavailable";
  } else {
    e.code = "venue_reject";
  }
  return e;
}

PostOrderResult ParsePostOrderResponse(const ClobResponse& response) {
  PostOrderResult r;
  json::value v = ParseOrNull(response.body);
  if (response.ok() && v.is_object()) {
    const json::object& o = v.get_object();
    auto success = o.find("success");
    r.success = success != o.end() && success->value().is_bool() && success->value().get_bool();
    r.order_id = StringField(o, "orderID");
    r.status = StringField(o, "status");
    std::string error = StringField(o, "errorMsg");
    if (r.success && error.empty()) return r;
    r.success = false;
    r.error = MapVenueError(response.status, response.body);
    return r;
  }
  r.error = MapVenueError(response.status, response.body);
  return r;
}

CancelResult ParseCancelResponse(const ClobResponse& response) {
  CancelResult r;
  json::value v = ParseOrNull(response.body);
  if (!v.is_object()) return r;
  const json::object& o = v.get_object();
  if (auto it = o.find("canceled"); it != o.end() && it->value().is_array()) {
    for (const json::value& id : it->value().get_array()) {
      if (id.is_string()) r.canceled.emplace_back(id.get_string());
    }
  }
  if (auto it = o.find("not_canceled"); it != o.end() && it->value().is_object()) {
    for (const auto& kv : it->value().get_object()) {
      r.not_canceled.emplace_back(std::string(kv.key()),
                                  kv.value().is_string() ? std::string(kv.value().get_string()) : "");
    }
  }
  return r;
}

ClobClient::ClobClient(ClobClientOptions options)
    : options_(std::move(options)), http_(options_.http), limiter_(options_.rate_limits, {}, options_.sleep) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
  if (!options_.unix_seconds) {
    options_.unix_seconds = [] {
      return static_cast<int64_t>(
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
              .count());
    };
  }
  if (!options_.sleep) {
    options_.sleep = [](int64_t ns) { std::this_thread::sleep_for(std::chrono::nanoseconds(ns)); };
  }
}

ClobResponse ClobClient::Send(std::string_view method, std::string_view path, std::string_view query,
                              std::string body, bool authenticated, bool idempotent) {
  if (!authenticated) return SendSigned(method, path, query, std::move(body), nullptr, idempotent);
  const std::string signed_body = body;
  return SendSigned(method, path, query, std::move(body), [&](const std::string& ts) {
    return signing::L2Headers(options_.address, options_.creds, ts, method, path, signed_body);
  }, idempotent);
}

ClobResponse ClobClient::SendSigned(std::string_view method, std::string_view path, std::string_view query,
                                    std::string body, const Signer& signer, bool idempotent) {
  const std::string endpoint = std::string(method) + " " + std::string(path);
  const int attempts = idempotent ? std::max(1, options_.max_attempts) : 1;
  int64_t delay_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.backoff).count();
  std::string last_error;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    limiter_.Acquire(endpoint);
    net::HttpRequest req;
    req.method = std::string(method);
    req.url = options_.base_url + std::string(path) + (query.empty() ? "" : "?" + std::string(query));
    req.timeout = options_.timeout;
    req.body = body;
    req.headers.push_back({"Accept", "application/json"});
    if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
    if (signer) {
      // Signed per attempt: the timestamp must be current.
      for (auto& [name, value] : signer(std::to_string(options_.unix_seconds()))) req.headers.push_back({name, value});
    }
    bool retryable = false;
    try {
      net::HttpResponse res = http_.Send(req);
      if (res.Header("Poly-RateLimit-Warning") == "true") {
        spdlog::warn("CLOB: {} would have been rate limited (Poly-RateLimit-Warning)", endpoint);
      }
      if (!idempotent || attempt == attempts || (res.status != 429 && res.status < 500)) {
        return ClobResponse{res.status, std::move(res.body)};
      }
      last_error = "HTTP " + std::to_string(res.status);
      retryable = true;
    } catch (const net::HttpError& e) {
      last_error = e.what();
      if (!idempotent) {
        throw ClobError(endpoint + ": " + last_error);
      }
      retryable = true;
    }
    if (retryable && attempt < attempts) {
      spdlog::warn("CLOB: {} failed ({}); retry {} of {} in {} ms", endpoint, last_error, attempt, attempts - 1,
                   delay_ns / 1'000'000);
      options_.sleep(delay_ns);
      delay_ns *= 2;
    }
  }
  throw ClobError(endpoint + ": failed after " + std::to_string(attempts) + " attempts: " + last_error);
}

signing::ApiCredentials ClobClient::CreateOrDeriveApiKey(const signing::PrivateKey& key, uint64_t chain_id,
                                                         uint64_t nonce, bool create) {
  const std::string_view method = create ? "POST" : "GET";
  const std::string_view path = create ? "/auth/api-key" : "/auth/derive-api-key";
  // Creating is not idempotent (a second call may mint another set); deriving is.
  ClobResponse r = SendSigned(method, path, {}, {}, [&](const std::string& ts) {
    return signing::L1Headers(key, chain_id, ts, nonce);
  }, /*idempotent=*/!create);
  const std::string endpoint = std::string(method) + " " + options_.base_url + std::string(path);
  if (!r.ok()) throw ClobError(endpoint + ": HTTP " + std::to_string(r.status) + ": " + ErrorText(r.body));
  json::value v = ParseOrNull(r.body);
  auto field = [&](const char* name) -> std::string {
    if (v.is_object()) {
      auto it = v.get_object().find(name);
      if (it != v.get_object().end() && it->value().is_string() && !it->value().get_string().empty()) {
        return std::string(it->value().get_string());
      }
    }
    throw ClobError(endpoint + ": the response has no \"" + name + "\"");
  };
  return signing::ApiCredentials{field("apiKey"), field("secret"), field("passphrase")};
}

int ClobClient::GetVersion() {
  ClobResponse r = Send("GET", "/version", {}, {}, /*authenticated=*/false, /*idempotent=*/true);
  if (!r.ok()) {
    throw ClobError("GET " + options_.base_url + "/version: HTTP " + std::to_string(r.status) + ": " +
                    ErrorText(r.body));
  }
  json::value v = ParseOrNull(r.body);
  if (v.is_object()) {
    auto it = v.get_object().find("version");
    if (it != v.get_object().end() && it->value().is_int64()) return static_cast<int>(it->value().get_int64());
    if (it != v.get_object().end() && it->value().is_uint64()) return static_cast<int>(it->value().get_uint64());
  }
  throw ClobError("GET " + options_.base_url + "/version: expected {\"version\": N}, got: " + r.body.substr(0, 200));
}

ClobResponse ClobClient::PostOrder(const std::string& body) {
  return Send("POST", "/order", {}, body, /*authenticated=*/true, /*idempotent=*/false);
}

ClobResponse ClobClient::CancelOrder(std::string_view order_id) {
  return Send("DELETE", "/order", {}, "{\"orderID\":" + JsonQuoted(order_id) + "}", true, true);
}

ClobResponse ClobClient::CancelAll() { return Send("DELETE", "/cancel-all", {}, {}, true, true); }

std::vector<OpenOrder> ClobClient::GetOpenOrders(std::string_view market, std::string_view asset_id) {
  std::vector<OpenOrder> out;
  std::string cursor = "MA==";  // the venue's first-page cursor; "LTE=" marks the end
  for (int page = 0; page < 1000 && cursor != "LTE="; ++page) {
    std::string query = "next_cursor=" + UrlEncode(cursor);
    if (!market.empty()) query += "&market=" + UrlEncode(market);
    if (!asset_id.empty()) query += "&asset_id=" + UrlEncode(asset_id);
    ClobResponse r = Send("GET", "/data/orders", query, {}, true, true);
    if (!r.ok()) {
      VenueError e = MapVenueError(r.status, r.body);
      throw ClobError("GET /data/orders: HTTP " + std::to_string(r.status) + ": " + e.Reason());
    }
    json::value v = ParseOrNull(r.body);
    const json::array* data = nullptr;
    if (v.is_object()) {
      if (auto it = v.get_object().find("data"); it != v.get_object().end() && it->value().is_array()) {
        data = &it->value().get_array();
      }
      cursor = StringField(v.get_object(), "next_cursor");
    } else if (v.is_array()) {
      data = &v.get_array();
      cursor = "LTE=";
    }
    if (data == nullptr) throw ClobError("GET /data/orders: unexpected response: " + r.body.substr(0, 200));
    for (const json::value& item : *data) {
      if (!item.is_object()) continue;
      const json::object& o = item.get_object();
      out.push_back(OpenOrder{StringField(o, "id"), StringField(o, "market"), StringField(o, "asset_id"),
                              StringField(o, "side"), StringField(o, "price"), StringField(o, "original_size"),
                              StringField(o, "size_matched"), StringField(o, "status")});
    }
    if (cursor.empty()) break;
  }
  return out;
}

}  // namespace polyhost

#include "bot_api.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tgbot {

namespace json = boost::json;

int64_t LoadLastUpdateId(const std::string& path) {
  if (path.empty() || !std::filesystem::exists(path)) return -1;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(ss.str(), ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* id = o != nullptr ? o->if_contains("last_update_id") : nullptr;
  if (id == nullptr || !id->is_int64() || !IsUpdateId(id->as_int64())) {
    throw std::runtime_error(path + ": expected {\"last_update_id\": <integer from 0 to " +
                             std::to_string(kMaxUpdateId) + ">}");
  }
  return id->as_int64();
}

BotPoller::BotPoller(PollerOptions options, HttpPort& http, Handler handler, Log log)
    : options_(std::move(options)), http_(http), handler_(std::move(handler)), log_(std::move(log)) {
  // Bounds keep every seconds-to-milliseconds product and backoff doubling in int64.
  auto check = [](std::string_view key, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi) {
      throw std::runtime_error(std::string(key) + " = " + std::to_string(v) + " is out of range [" +
                               std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
  };
  check("poll_timeout_s", options_.poll_timeout_s, 0, kMaxPollTimeoutS);
  check("backoff_min_ms", options_.backoff_min_ms, 0, kMaxBackoffMs);
  check("backoff_max_ms", options_.backoff_max_ms, options_.backoff_min_ms, kMaxBackoffMs);
  last_update_id_ = LoadLastUpdateId(options_.state_file);
}

std::string BotPoller::Url(std::string_view method) const {
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/bot" + options_.token + "/" + std::string(method);
}

std::string BotPoller::Scrub(std::string text) const {
  if (options_.token.empty()) return text;
  for (size_t at = text.find(options_.token); at != std::string::npos; at = text.find(options_.token, at)) {
    text.replace(at, options_.token.size(), "***");
  }
  return text;
}

void BotPoller::SaveState(int64_t id) {
  last_update_id_ = id;
  if (options_.state_file.empty()) return;
  const std::string tmp = options_.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"last_update_id\":" << id << "}\n";
    if (!out) {
      log_(kLogWarn, "cannot write " + tmp + "; a restart may answer update " + std::to_string(id) + " again");
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options_.state_file, ec);
  if (ec) log_(kLogWarn, "cannot replace " + options_.state_file + ": " + ec.message());
}

bool BotPoller::Sleep(int64_t ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_.load(); });
  return !stop_.load();
}

void BotPoller::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

bool BotPoller::Send(int64_t chat_id, std::string_view text) {
  json::object body;
  body["chat_id"] = chat_id;
  body["text"] = text;
  HttpResult r = http_.PostJson(Url("sendMessage"), json::serialize(body), 10'000);
  if (r.status == 200) return true;
  log_(kLogWarn, "sendMessage to chat " + std::to_string(chat_id) + " failed: " +
                  (r.status == 0 ? Scrub(r.error) : "HTTP " + std::to_string(r.status)));
  return false;
}

PollerExit BotPoller::Run() {
  int64_t backoff = 0;
  auto fail = [&](const std::string& why) {
    backoff = backoff == 0 ? options_.backoff_min_ms : std::min(backoff * 2, options_.backoff_max_ms);
    log_(kLogWarn, "getUpdates failed (" + why + "); retrying in " + std::to_string(backoff) + " ms");
    return Sleep(backoff);
  };
  log_(kLogInfo, "polling the Bot API from update " + std::to_string(last_update_id_.load() + 1));
  while (!stop_.load()) {
    json::object body;
    if (last_update_id_.load() >= 0) body["offset"] = last_update_id_.load() + 1;  // confirms everything before
    body["timeout"] = options_.poll_timeout_s;
    body["allowed_updates"] = json::array{"message", "edited_message"};
    HttpResult r = http_.PostJson(Url("getUpdates"), json::serialize(body), (options_.poll_timeout_s + 10) * 1000);
    if (stop_.load()) break;
    if (r.status == 401 || r.status == 404) {
      // Telegram answers 401 (or 404 for a malformed one) to a bad token.
      log_(kLogError, "the Bot API refused the token (HTTP " + std::to_string(r.status) +
                       "); polling stopped: check [plugin.tgbot] token");
      return PollerExit::kUnauthorized;
    }
    if (r.status == 0) {
      if (!fail(Scrub(r.error))) break;
      continue;
    }
    if (r.status == 429) {
      int64_t retry_s = 0;
      boost::system::error_code ec;
      json::value v = json::parse(r.body, ec);
      if (!ec && v.is_object()) {
        if (auto* p = v.as_object().if_contains("parameters"); p != nullptr && p->is_object()) {
          if (auto* ra = p->as_object().if_contains("retry_after"); ra != nullptr && ra->is_int64()) {
            retry_s = std::min<int64_t>(ra->as_int64(), kMaxRetryAfterS);
          }
        }
      }
      log_(kLogWarn, "Bot API rate limit; waiting " + std::to_string(std::max<int64_t>(retry_s, 1)) + " s");
      if (!Sleep(std::max<int64_t>(retry_s, 1) * 1000)) break;
      continue;
    }
    if (r.status != 200) {
      if (!fail("HTTP " + std::to_string(r.status))) break;
      continue;
    }
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* ok = o != nullptr ? o->if_contains("ok") : nullptr;
    const json::value* result = o != nullptr ? o->if_contains("result") : nullptr;
    if (ok == nullptr || !ok->is_bool() || !ok->as_bool() || result == nullptr || !result->is_array()) {
      if (!fail("malformed getUpdates answer")) break;
      continue;
    }
    backoff = 0;
    for (const json::value& u : result->as_array()) {
      const std::string text = json::serialize(u);
      std::optional<int64_t> id;
      std::optional<Reply> reply = handler_(text, &id);
      if (reply && reply->chat_id && !reply->text.empty()) Send(*reply->chat_id, reply->text);
      if (id && !IsUpdateId(*id)) {
        log_(kLogWarn, "ignored update_id " + std::to_string(*id) + " (not an integer from 0 to " +
                        std::to_string(kMaxUpdateId) + ")");
      } else if (id && *id > last_update_id_.load()) {
        SaveState(*id);
      }
      if (stop_.load()) break;
    }
  }
  log_(kLogInfo, "polling stopped at update " + std::to_string(last_update_id_.load()));
  return PollerExit::kStopped;
}

}  // namespace tgbot

// tgbot: the Telegram control plugin (docs/plugins/tgbot.md). A service plugin:
// it trades nothing, subscribes to nothing, and talks to the host only through
// polyhost.control/1 (read state, ask for pause/resume/cancel-all) and
// polyhost.http/1 (the Bot API). Its own threads do the long polling and the
// alerts; the host's strategy thread only starts and stops them.
//
// [plugin.tgbot] keys:
//   allowed_chat_ids   chat ids answered ([1, 2] or "1,2"); everyone else is ignored
//   token              the bot token (a secret: put it in secrets.local.toml)
//   base_url           Bot API root, default https://api.telegram.org (tests: a mock)
//   live               poll the Bot API (default: true when a token is set)
//   poll_timeout_s     getUpdates long-poll timeout, default 25
//   state_file         where the last confirmed update id is kept (resume after restart)
//   alert_interval_s   how often the host status is checked for alerts (default 10; 0 = off)
//   alert_cooldown_s   least time between two alerts of one kind (default 60)
//   default_market, default_outcome   what a bare /book shows
//   confirm_code_seed  tests only: deterministic /cancelall codes
#include <boost/json.hpp>

#include <cctype>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "alerts.h"
#include "bot_api.h"
#include "engine.h"
#include "offline_ext.h"
#include "polyhost/sdk/sdk.hpp"

namespace {

namespace sdk = polyhost::sdk;
namespace json = boost::json;

void LogAt(const sdk::Host& host, int level, const std::string& line) {
  switch (level) {
    case tgbot::kLogDebug: host.debug(line); break;
    case tgbot::kLogInfo: host.info(line); break;
    case tgbot::kLogWarn: host.warn(line); break;
    default: host.error(line); break;
  }
}

// Calls f(buf, cap, &len) with a growing buffer (the ABI's out_len retry rule).
template <class F>
std::pair<ph_result, std::string> GrowingCall(F&& f) {
  std::string buf(4096, '\0');
  for (int attempt = 0; attempt < 4; ++attempt) {
    size_t len = 0;
    ph_result rc = f(buf.data(), buf.size(), &len);
    if (len < buf.size()) {
      buf.resize(rc == PH_OK || len > 0 ? len : 0);
      return {rc, buf};
    }
    buf.assign(len + 1, '\0');
  }
  return {PH_ERR_FAILED, std::string()};
}

// ControlPort over the host's polyhost.control/1.
class HostControl final : public tgbot::ControlPort {
 public:
  HostControl(const ph_host* host, const ph_control_ext* ext) : host_(host), ext_(ext) {}

  tgbot::Answer Query(std::string_view topic, std::string_view args_json) override {
    if (!PH_STRUCT_HAS(ext_, ph_control_ext, query) || ext_->query == nullptr) {
      return {PH_ERR_UNSUPPORTED, R"j({"error":"this host's control extension has no query (ABI 1.0)"})j"};
    }
    const std::string t(topic), a(args_json);
    auto [rc, text] = GrowingCall([&](char* out, size_t cap, size_t* len) {
      return ext_->query(host_, t.c_str(), a.c_str(), out, cap, len);
    });
    return {rc, std::move(text)};
  }
  tgbot::Answer Pause(std::string_view plugin, std::string_view reason) override {
    return PauseResume(plugin, reason, true);
  }
  tgbot::Answer Resume(std::string_view plugin, std::string_view reason) override {
    return PauseResume(plugin, reason, false);
  }
  tgbot::Answer CancelAll(std::string_view reason) override {
    return {ext_->request_cancel_all(host_, std::string(reason).c_str()), ""};
  }

 private:
  tgbot::Answer PauseResume(std::string_view plugin, std::string_view reason, bool pause) {
    const std::string r(reason);
    if (plugin.empty()) return {(pause ? ext_->request_pause : ext_->request_resume)(host_, r.c_str()), ""};
    auto fn = pause ? (PH_STRUCT_HAS(ext_, ph_control_ext, request_pause_plugin) ? ext_->request_pause_plugin : nullptr)
                    : (PH_STRUCT_HAS(ext_, ph_control_ext, request_resume_plugin) ? ext_->request_resume_plugin
                                                                                 : nullptr);
    if (fn == nullptr) return {PH_ERR_UNSUPPORTED, R"j({"error":"this host cannot pause one plugin (ABI 1.0)"})j"};
    const ph_result rc = fn(host_, std::string(plugin).c_str(), r.c_str());
    if (rc == PH_ERR_NOT_FOUND) return {rc, R"({"error":"no such plugin"})"};
    return {rc, ""};
  }
  const ph_host* host_;
  const ph_control_ext* ext_;
};

// HttpPort over the host's polyhost.http/1.
class HostHttp final : public tgbot::HttpPort {
 public:
  HostHttp(const ph_host* host, const ph_http_ext* ext) : host_(host), ext_(ext) {}
  tgbot::HttpResult PostJson(const std::string& url, const std::string& body, int64_t timeout_ms) override {
    const ph_http_header headers[] = {{"Content-Type", "application/json"}};
    const ph_http_response* r = nullptr;
    ext_->request(host_, "POST", url.c_str(), headers, 1, body.data(), body.size(), timeout_ms, &r);
    tgbot::HttpResult out;
    if (r == nullptr) {
      out.error = "request refused by the host";
      return out;
    }
    out.status = r->status;
    out.body.assign(r->body, r->body_len);
    out.error = r->error != nullptr ? r->error : "";
    ext_->release(host_, r);
    return out;
  }

 private:
  const ph_host* host_;
  const ph_http_ext* ext_;
};

// "[1, -1002]" or "1,-1002" -> {1, -1002}.
std::set<int64_t> ParseChatIds(const std::string& text) {
  std::set<int64_t> out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '-' || std::isdigit(static_cast<unsigned char>(text[i]))) {
      size_t end = i + 1;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      if (end == i + 1 && text[i] == '-') throw sdk::Error(PH_ERR_CONFIG, "allowed_chat_ids: '-' without digits");
      try {
        out.insert(std::stoll(text.substr(i, end - i)));
      } catch (const std::out_of_range&) {
        throw sdk::Error(PH_ERR_CONFIG, "allowed_chat_ids: " + text.substr(i, end - i) + " is not a 64-bit chat id");
      }
      i = end;
    } else if (text[i] == '[' || text[i] == ']' || text[i] == ',' || text[i] == '"' || std::isspace(text[i])) {
      ++i;
    } else {
      throw sdk::Error(PH_ERR_CONFIG, "config key 'plugin.tgbot.allowed_chat_ids' must be a list of chat ids");
    }
  }
  return out;
}

// A whole number of seconds in [0, 1 week]; bounded so "* 1000" stays in int64.
int64_t SecondsKey(const sdk::Host& h, const char* key, int64_t fallback) {
  constexpr int64_t kWeekS = 7 * 24 * 3600;
  const int64_t v = h.find_int(key).value_or(fallback);
  if (v < 0 || v > kWeekS) {
    throw sdk::Error(PH_ERR_CONFIG, std::string("config key 'plugin.tgbot.") + key + "' = " + std::to_string(v) +
                                        " is out of range [0, " + std::to_string(kWeekS) + "]");
  }
  return v;
}

class TgBot final : public sdk::Strategy {
 public:
  explicit TgBot(sdk::Host host) : sdk::Strategy(host) {}
  ~TgBot() override { StopThreads(); }

  void init() override {
    const sdk::Host& h = host();
    const auto* control = h.extension<ph_control_ext>(PH_EXT_CONTROL);
    if (control == nullptr) throw sdk::Error(PH_ERR_CONFIG, "the host offers no polyhost.control/1 extension");
    control_ = std::make_unique<HostControl>(h.raw(), control);
    tgbot::EngineOptions eo;
    eo.allowed_chat_ids = ParseChatIds(h.config_string("allowed_chat_ids", ""));
    eo.default_market = h.config_string("default_market", "");
    eo.default_outcome = h.config_string("default_outcome", "");
    options_ = eo;
    token_ = h.config_string("token", "");  // never logged
    live_ = h.find_bool("live").value_or(!token_.empty());
    const int64_t seed = h.find_int("confirm_code_seed").value_or(0);
    if (seed != 0) rng_.seed(static_cast<uint32_t>(seed));
    else rng_.seed(std::random_device{}());
    engine_ = MakeEngine(eo);
    if (live_) {
      if (token_.empty()) throw sdk::Error(PH_ERR_CONFIG, "config key 'plugin.tgbot.token' is required when live");
      if (eo.allowed_chat_ids.empty()) {
        throw sdk::Error(PH_ERR_CONFIG, "config key 'plugin.tgbot.allowed_chat_ids' is empty: nobody could use the bot");
      }
      const auto* http = h.extension<ph_http_ext>(PH_EXT_HTTP);
      if (http == nullptr) throw sdk::Error(PH_ERR_CONFIG, "live mode needs the host's polyhost.http/1 extension");
      http_ = std::make_unique<HostHttp>(h.raw(), http);
      tgbot::PollerOptions po;
      po.base_url = h.config_string("base_url", po.base_url);
      po.token = token_;
      po.poll_timeout_s = h.find_int("poll_timeout_s").value_or(po.poll_timeout_s);
      po.backoff_min_ms = h.find_int("backoff_min_ms").value_or(po.backoff_min_ms);
      po.backoff_max_ms = h.find_int("backoff_max_ms").value_or(po.backoff_max_ms);
      po.state_file = h.config_string("state_file", "");
      if (po.state_file.empty()) h.warn("no state_file: a restart answers unconfirmed updates again");
      alert_interval_ms_ = SecondsKey(h, "alert_interval_s", 10) * 1000;
      alert_cooldown_ms_ = SecondsKey(h, "alert_cooldown_s", 60) * 1000;
      try {
        poller_ = std::make_unique<tgbot::BotPoller>(
            po, *http_,
            [this](std::string_view update, std::optional<int64_t>* id) {
              std::lock_guard lock(engine_mu_);
              return engine_->HandleUpdate(update, id);
            },
            [this](int level, const std::string& line) { LogAt(host(), level, line); });
      } catch (const std::runtime_error& e) {
        throw sdk::Error(PH_ERR_CONFIG, e.what());
      }
    }
    h.info("" + std::to_string(eo.allowed_chat_ids.size()) + " allowed chat(s), " +
           (live_ ? "polling the Bot API" : "offline (no polling)"));
  }

  void activate() override {
    if (!live_ || poll_thread_.joinable()) return;
    poller_->Rearm();
    poll_thread_ = std::thread([this] {
      tgbot::PollerExit why = poller_->Run();
      if (why == tgbot::PollerExit::kUnauthorized) host().metric("unauthorized", PH_METRIC_GAUGE, 1);
    });
    if (alert_interval_ms_ > 0) alert_thread_ = std::thread([this] { AlertLoop(); });
  }

  void deactivate() override { StopThreads(); }

  const void* get_extension(std::string_view id) override {
    if (id != PH_TGBOT_EXT_OFFLINE) return nullptr;
    if (!offline_engine_) {
      tgbot::EngineOptions eo = options_;
      eo.allow_missing_chat = true;  // the offline tool's bare {"message":{"text":..}} lines
      offline_engine_ = MakeEngine(eo);
    }
    offline_ext_.struct_size = sizeof offline_ext_;
    offline_ext_.ctx = this;
    offline_ext_.handle_update = &HandleUpdateC;
    return &offline_ext_;
  }

 private:
  std::unique_ptr<tgbot::CommandEngine> MakeEngine(const tgbot::EngineOptions& eo) {
    return std::make_unique<tgbot::CommandEngine>(
        eo, *control_, [this] { return host().now_ms(); },
        [this] {
          std::lock_guard lock(rng_mu_);
          return std::to_string(1000 + rng_() % 9000);  // 4 digits
        },
        [this](int level, const std::string& line) { LogAt(host(), level, line); });
  }

  static ph_result HandleUpdateC(void* ctx, const char* update_json, char* out, size_t out_cap,
                                 size_t* out_len) noexcept {
    if (ctx == nullptr || out_len == nullptr || (out == nullptr && out_cap > 0)) return PH_ERR_INVALID_ARGUMENT;
    auto* self = static_cast<TgBot*>(ctx);
    try {
      if (update_json != nullptr) {
        std::lock_guard lock(self->engine_mu_);
        std::optional<tgbot::Reply> r = self->offline_engine_->HandleUpdate(update_json);
        self->last_reply_ = r ? r->text : std::string();
      }
      *out_len = self->last_reply_.size();
      if (out_cap <= self->last_reply_.size()) {
        if (out_cap > 0) out[0] = '\0';
        return PH_ERR_INVALID_ARGUMENT;
      }
      std::memcpy(out, self->last_reply_.c_str(), self->last_reply_.size() + 1);
      return PH_OK;
    } catch (const std::exception& e) {
      self->host().error(std::string("handle_update: ") + e.what());
      return PH_ERR_EXCEPTION;
    }
  }

  void AlertLoop() {
    tgbot::AlertMonitor monitor(alert_cooldown_ms_);
    while (!poller_->stopping()) {
      tgbot::Answer a = control_->Query("status", "");
      boost::system::error_code ec;
      json::value v = json::parse(a.json, ec);
      if (a.rc == PH_OK && !ec && v.is_object()) {
        const json::object& o = v.as_object();
        auto num = [&](const char* k) {
          const json::value* x = o.if_contains(k);
          return x != nullptr && x->is_int64() ? x->as_int64() : int64_t{0};
        };
        tgbot::StatusSnapshot s{num("plugins_failed"), num("stale_assets"), num("plans_rejected"), num("reconnects"),
                                num("fills")};
        // The cooldown is about a phone being flooded: wall time, not the host's
        // clock, which in a replay is the feed's and stops after it (run --hold).
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count();
        for (const std::string& text : monitor.Observe(s, now_ms)) {
          for (int64_t chat : options_.allowed_chat_ids) poller_->Send(chat, text);
        }
      }
      std::unique_lock lock(alert_mu_);
      alert_cv_.wait_for(lock, std::chrono::milliseconds(alert_interval_ms_), [this] { return poller_->stopping(); });
    }
  }

  void StopThreads() {
    if (poller_) poller_->Stop();
    alert_cv_.notify_all();
    if (poll_thread_.joinable()) poll_thread_.join();
    if (alert_thread_.joinable()) alert_thread_.join();
  }

  std::unique_ptr<HostControl> control_;
  std::unique_ptr<HostHttp> http_;
  tgbot::EngineOptions options_;
  std::string token_;
  bool live_ = false;
  std::mutex engine_mu_;  // the poll thread and offline calls share nothing else
  std::unique_ptr<tgbot::CommandEngine> engine_;
  std::unique_ptr<tgbot::CommandEngine> offline_engine_;
  std::string last_reply_;
  ph_tgbot_offline_ext offline_ext_{};
  std::mutex rng_mu_;
  std::mt19937 rng_;
  std::unique_ptr<tgbot::BotPoller> poller_;
  std::thread poll_thread_;
  std::thread alert_thread_;
  std::mutex alert_mu_;
  std::condition_variable alert_cv_;
  int64_t alert_interval_ms_ = 10'000;
  int64_t alert_cooldown_ms_ = 60'000;
};

}  // namespace

POLYHOST_PLUGIN_DESCRIBED(TgBot, "tgbot", "Telegram control bot", "0.1.0", "polyhost",
                          "Watch and steer the host from Telegram (service plugin)");

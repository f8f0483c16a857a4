// Telegram Bot API long polling for tgbot: getUpdates with offset and timeout,
// sendMessage, backoff on errors, and the last confirmed update id kept in a
// state file so a restart resumes where it stopped (no update answered twice,
// none skipped). Talks HTTP through an HttpPort (the host's polyhost.http/1 in
// the plugin, anything in tests). The token is only ever part of the URL handed
// to the HttpPort: it is never logged, and error texts are scrubbed of it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "engine.h"

namespace tgbot {

struct HttpResult {
  int status = 0;     // 0: the exchange failed (error says why)
  std::string body;
  std::string error;
};

class HttpPort {
 public:
  virtual ~HttpPort() = default;
  virtual HttpResult PostJson(const std::string& url, const std::string& body, int64_t timeout_ms) = 0;
};

// Limits on what the Bot API and the config may hand us; past them a product in
// milliseconds or an `offset = last + 1` would leave int64.
inline constexpr int64_t kMaxPollTimeoutS = 3600;
inline constexpr int64_t kMaxBackoffMs = 3'600'000;
inline constexpr int64_t kMaxRetryAfterS = 3600;  // a longer 429 retry_after is waited in 1 h steps
inline constexpr int64_t kMaxUpdateId = (int64_t{1} << 53) - 1;  // Telegram: ids fit in a double

inline bool IsUpdateId(int64_t id) { return id >= 0 && id <= kMaxUpdateId; }

// Checked by BotPoller's constructor (std::runtime_error naming the key).
struct PollerOptions {
  std::string base_url = "https://api.telegram.org";
  std::string token;
  int64_t poll_timeout_s = 25;    // getUpdates long-poll timeout
  int64_t backoff_min_ms = 1000;  // after an error; doubles up to backoff_max_ms
  int64_t backoff_max_ms = 60'000;
  std::string state_file;  // {"last_update_id":N}; empty: not kept
};

// Why Run returned.
enum class PollerExit { kStopped, kUnauthorized };

class BotPoller {
 public:
  using Handler = std::function<std::optional<Reply>(std::string_view update_json, std::optional<int64_t>* id)>;
  using Log = std::function<void(int level, const std::string& line)>;  // kLogDebug..kLogError

  BotPoller(PollerOptions options, HttpPort& http, Handler handler, Log log);

  // Polls until Stop() or until the Bot API refuses the token (401/404: retrying
  // cannot help). Blocks; run it on the plugin's own thread.
  PollerExit Run();
  void Stop();
  // Clears a Stop() so Run can be called again (the plugin re-activated).
  void Rearm() { stop_ = false; }
  bool stopping() const { return stop_.load(); }

  // sendMessage to one chat; false (and logged) on failure. [any-thread]
  bool Send(int64_t chat_id, std::string_view text);

  // The last update id handled and confirmed to the state file (-1: none).
  int64_t last_update_id() const { return last_update_id_.load(); }

 private:
  std::string Url(std::string_view method) const;
  std::string Scrub(std::string text) const;
  void SaveState(int64_t id);
  // Sleeps up to ms unless stopped; false when stopped.
  bool Sleep(int64_t ms);

  PollerOptions options_;
  HttpPort& http_;
  Handler handler_;
  Log log_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> last_update_id_{-1};
  std::mutex mu_;
  std::condition_variable cv_;
};

// Reads {"last_update_id":N} from path; -1 when the file is missing.
// Throws std::runtime_error naming the file when it is unreadable or malformed.
int64_t LoadLastUpdateId(const std::string& path);

}  // namespace tgbot

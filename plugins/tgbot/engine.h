// tgbot's command engine: one Telegram Update (JSON text) in, at most one reply
// out. Pure: it reaches the host only through a ControlPort and reads time only
// from the Update or a clock it is given, so every command is unit-tested
// without a host or a network (engine_test.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace tgbot {

// Levels of the Log callbacks below (the host's log levels, debug to error).
inline constexpr int kLogDebug = 0, kLogInfo = 1, kLogWarn = 2, kLogError = 3;

// What the engine asks of the host (polyhost.control/1 in the plugin, a fake
// in tests). rc is a ph_result (0 = ok).
struct Answer {
  int32_t rc = 0;
  std::string json;  // the topic's JSON, or {"error":"..."}; may be empty on error
};

class ControlPort {
 public:
  virtual ~ControlPort() = default;
  virtual Answer Query(std::string_view topic, std::string_view args_json) = 0;
  // plugin empty = every plugin (host-wide).
  virtual Answer Pause(std::string_view plugin, std::string_view reason) = 0;
  virtual Answer Resume(std::string_view plugin, std::string_view reason) = 0;
  virtual Answer CancelAll(std::string_view reason) = 0;
};

struct EngineOptions {
  std::set<int64_t> allowed_chat_ids;
  // Updates without a chat (the offline tool's {"message":{"text":"/help"}})
  // count as the local operator's. Never set in live mode.
  bool allow_missing_chat = false;
  int64_t confirm_window_ms = 30'000;
  // What a bare /book shows (tgbot-run-local's MARKET OUTCOME); empty: /book needs both.
  std::string default_market;
  std::string default_outcome;
  size_t max_list_items = 10;     // rows shown by /markets, /orders, /positions
  size_t max_reply_chars = 3500;  // Telegram's limit is 4096
};

struct Reply {
  std::optional<int64_t> chat_id;  // nullopt: the offline operator
  std::string text;
};

class CommandEngine {
 public:
  using Clock = std::function<int64_t()>;                    // ms since epoch
  using CodeSource = std::function<std::string()>;           // confirmation codes
  using Log = std::function<void(int level, const std::string& line)>;  // kLogDebug..kLogError

  CommandEngine(EngineOptions options, ControlPort& control, Clock clock, CodeSource codes, Log log);

  // One Update. nullopt: nothing to say (not a message, no text, or a chat that
  // is not allowed: that one is logged with its id only, never its text).
  // `update_id` (when the Update has one) is written to *update_id.
  std::optional<Reply> HandleUpdate(std::string_view update_json, std::optional<int64_t>* update_id = nullptr);

  // The reply to one command line from an allowed chat (exposed for tests).
  std::string HandleCommand(std::optional<int64_t> chat, std::string_view text, int64_t now_ms,
                            std::string_view who);

 private:
  std::string Help() const;
  std::string Status();
  std::string Markets();
  std::string Book(std::string_view market, std::string_view outcome);
  std::string Orders();
  std::string Positions();
  std::string Pnl();
  std::string Plugins();
  std::string Metrics();
  std::string PauseResume(bool pause, std::string_view plugin, std::string_view who);
  std::string CancelAll(std::optional<int64_t> chat, int64_t now_ms);
  std::string Confirm(std::optional<int64_t> chat, std::string_view code, int64_t now_ms, std::string_view who);
  std::string Fit(std::string text) const;

  struct Pending {
    std::string code;
    int64_t expires_ms = 0;
  };
  EngineOptions options_;
  ControlPort& control_;
  Clock clock_;
  CodeSource codes_;
  Log log_;
  std::map<int64_t, Pending> pending_;  // by chat id (-1: the offline operator)
};

// "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1" ->
// "0x5f65…f8f1"; short ids unchanged.
std::string ShortId(std::string_view id);

// ph_result names for replies ("PH_ERR_UNSUPPORTED").
std::string ResultName(int32_t rc);

}  // namespace tgbot

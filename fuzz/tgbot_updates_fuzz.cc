// libFuzzer harness: Telegram update parsing in the tgbot plugin
// (plugins/tgbot/bot_api.h, engine.h).
//
// The input is the body of one getUpdates answer. A BotPoller reads it through
// a scripted HttpPort (first getUpdates: the input; sendMessage: ok; second
// getUpdates: stop) and hands every update to a CommandEngine whose ControlPort
// answers with fixed, well-formed JSON. Updates come from chat 42 (allowed) or
// anything else (refused), so both the allow-list and every command are reached.
// The token must never appear in a reply or a log line.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bot_api.h"
#include "engine.h"

namespace {

constexpr std::string_view kToken = "123456:FUZZTOKENMARKER";

struct FixedControl final : tgbot::ControlPort {
  tgbot::Answer Query(std::string_view topic, std::string_view) override {
    if (topic == "status") return {0, R"({"mode":"run","dry_run":true,"plugins":1,"markets":2,"open_orders":0})"};
    if (topic == "markets") {
      return {0, R"({"markets":[{"market":"0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1",)"
                 R"("question":"Q?","outcomes":[{"outcome":"Yes","asset_id":"1"},{"outcome":"No","asset_id":"2"}]}]})"};
    }
    if (topic == "book") return {0, R"({"bids":[["0.48","100"]],"asks":[["0.52","80"]]})"};
    return {-3, R"({"error":"unknown topic"})"};
  }
  tgbot::Answer Pause(std::string_view, std::string_view) override { return {0, ""}; }
  tgbot::Answer Resume(std::string_view, std::string_view) override { return {0, ""}; }
  tgbot::Answer CancelAll(std::string_view) override { return {0, ""}; }
};

void CheckNoToken(std::string_view text) {
  if (text.find("FUZZTOKENMARKER") != std::string_view::npos) {
    std::fprintf(stderr, "the bot token leaked: %.*s\n", static_cast<int>(text.size()), text.data());
    std::abort();
  }
}

struct ScriptedHttp final : tgbot::HttpPort {
  std::string first_answer;
  int get_updates_calls = 0;
  tgbot::BotPoller* poller = nullptr;
  tgbot::HttpResult PostJson(const std::string& url, const std::string& body, int64_t) override {
    CheckNoToken(body);
    if (url.ends_with("/getUpdates")) {
      if (get_updates_calls++ == 0) return {200, first_answer, ""};
      poller->Stop();
      return {0, "", "stopped by the harness"};
    }
    return {200, R"({"ok":true,"result":{}})", ""};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FixedControl control;
  tgbot::EngineOptions engine_options;
  engine_options.allowed_chat_ids = {42};
  tgbot::CommandEngine engine(
      engine_options, control, [] { return int64_t{1'763'000'000'000}; }, [] { return std::string("4821"); },
      [](int, const std::string& line) { CheckNoToken(line); });

  ScriptedHttp http;
  http.first_answer.assign(reinterpret_cast<const char*>(data), size);
  tgbot::PollerOptions poller_options;
  poller_options.base_url = "http://127.0.0.1:1";
  poller_options.token = std::string(kToken);
  poller_options.backoff_min_ms = 0;
  poller_options.backoff_max_ms = 0;
  tgbot::BotPoller poller(
      poller_options, http,
      [&](std::string_view update, std::optional<int64_t>* id) {
        std::optional<tgbot::Reply> reply = engine.HandleUpdate(update, id);
        if (reply) CheckNoToken(reply->text);
        return reply;
      },
      [](int, const std::string& line) { CheckNoToken(line); });
  http.poller = &poller;
  poller.Run();
  return 0;
}

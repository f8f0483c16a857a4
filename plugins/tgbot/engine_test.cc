// The command engine against a scripted ControlPort: every command, the chat
// allow-list, the two-step cancel-all and the reply formatting.
#include "engine.h"

#include <catch2/catch.hpp>

#include <vector>

namespace {

using tgbot::Answer;

struct FakeControl final : tgbot::ControlPort {
  std::map<std::string, Answer> topics;
  std::vector<std::string> calls;
  int32_t request_rc = 0;
  Answer Query(std::string_view topic, std::string_view args) override {
    std::string call = "query ";
    call += topic;
    if (!args.empty()) {
      call += ' ';
      call += args;
    }
    calls.push_back(call);
    auto it = topics.find(std::string(topic));
    return it != topics.end() ? it->second : Answer{-3, R"({"error":"unknown topic"})"};
  }
  Answer Pause(std::string_view plugin, std::string_view reason) override {
    calls.push_back("pause '" + std::string(plugin) + "' " + std::string(reason));
    return {request_rc, ""};
  }
  Answer Resume(std::string_view plugin, std::string_view reason) override {
    calls.push_back("resume '" + std::string(plugin) + "' " + std::string(reason));
    return {request_rc, ""};
  }
  Answer CancelAll(std::string_view reason) override {
    calls.push_back("cancel-all " + std::string(reason));
    return {request_rc, request_rc == 0 ? "" : R"({"error":"no live host"})"};
  }
};

struct Bot {
  FakeControl control;
  std::vector<std::string> logs;
  int64_t now = 1'000'000;
  tgbot::CommandEngine engine;
  explicit Bot(bool allow_missing = false)
      : engine(
            [&] {
              tgbot::EngineOptions o;
              o.allowed_chat_ids = {42, -100};
              o.allow_missing_chat = allow_missing;
              return o;
            }(),
            control, [this] { return now; }, [] { return std::string("4821"); },
            [this](int, const std::string& l) { logs.push_back(l); }) {}
  // The reply to `text` from chat 42 at unix second `date` (0: no date).
  std::string Say(const std::string& text, int64_t date = 0, int64_t chat = 42) {
    std::string u = R"({"update_id":7,"message":{"message_id":1,"chat":{"id":)" + std::to_string(chat) +
                    R"(,"type":"private"},"from":{"id":1,"username":"alice"},)" +
                    (date > 0 ? "\"date\":" + std::to_string(date) + "," : "") + R"("text":")" + text + "\"}}";
    auto r = engine.HandleUpdate(u);
    return r ? r->text : "<no reply>";
  }
};

}  // namespace

TEST_CASE("help lists every command") {
  Bot b;
  const std::string help = b.Say("/help");
  for (const char* c : {"/status", "/markets", "/book", "/orders", "/positions", "/pnl", "/plugins", "/pause",
                        "/resume", "/cancelall", "/metrics"}) {
    CHECK(help.find(c) != std::string::npos);
  }
  CHECK(b.Say("/help@polyhost_bot") == help);
}

TEST_CASE("a chat that is not allowed gets nothing and is logged by id only") {
  Bot b;
  CHECK(b.Say("/status secret-text", 0, 99) == "<no reply>");
  REQUIRE(b.logs.size() == 1);
  CHECK(b.logs[0].find("99") != std::string::npos);
  CHECK(b.logs[0].find("secret-text") == std::string::npos);
  CHECK(b.control.calls.empty());
  // Without a chat: ignored unless the engine is the offline operator's.
  CHECK(!b.engine.HandleUpdate(R"({"message":{"text":"/help"}})"));
  Bot offline(true);
  auto r = offline.engine.HandleUpdate(R"({"message":{"text":"/help"}})");
  REQUIRE(r);
  CHECK(!r->chat_id);
  CHECK(r->text.find("/cancelall") != std::string::npos);
}

TEST_CASE("updates without text and malformed updates are ignored; the update id is reported") {
  Bot b;
  std::optional<int64_t> id;
  CHECK(!b.engine.HandleUpdate(R"({"update_id":9,"message":{"chat":{"id":42}}})", &id));
  CHECK(id == 9);
  CHECK(!b.engine.HandleUpdate("not json"));
  CHECK(!b.engine.HandleUpdate(R"({"update_id":10,"callback_query":{}})"));
  CHECK(b.Say("hello").find("/help") != std::string::npos);
  CHECK(b.Say("/frobnicate") == "Unknown command /frobnicate. Send /help.");
}

TEST_CASE("status is short and uses the host's decimals") {
  Bot b;
  b.control.topics["status"] = {0, R"({"mode":"live","paused":false,"dry_run":true,"paused_plugins":["spread"],
    "plugins_active":2,"plugins_failed":1,"open_orders":3,"open_notional":"12.5","plans_accepted":10,
    "plans_rejected":2,"assets":40,"stale_assets":1})"};
  CHECK(b.Say("/status") ==
        "Status: running (dry run) [live]\nPaused plugins: spread\nPlugins: 2 active, 1 failed\n"
        "Open orders: 3 (notional 12.5)\nPlans: 10 accepted, 2 rejected\nAssets: 40 (1 stale)");
}

TEST_CASE("markets: names, best prices, stale marks and a cap on rows") {
  Bot b;
  b.control.topics["markets"] = {0, R"({"markets":[{"market":"0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1",
    "question":"Will it rain?","outcomes":[{"asset_id":"1","outcome":"Yes","best_bid":"0.48","best_ask":"0.52","stale":false},
    {"asset_id":"2","outcome":null,"best_bid":null,"best_ask":"0.6","stale":true}]}]})"};
  CHECK(b.Say("/markets") == "Markets: 1 (bid/ask)\n0x5f65\xE2\x80\xA6" "f8f1 Will it rain?\n  Yes 0.48/0.52\n  2 -/0.6 STALE");
  std::string many = R"({"markets":[)";
  for (int i = 0; i < 12; ++i) many += std::string(i ? "," : "") + R"({"market":"m)" + std::to_string(i) + R"(","outcomes":[]})";
  b.control.topics["markets"] = {0, many + "]}"};
  CHECK(b.Say("/markets").find("\n+2 more") != std::string::npos);
  b.control.topics["markets"] = {0, R"({"markets":[]})"};
  CHECK(b.Say("/markets") == "No markets.");
}

TEST_CASE("book asks for market and outcome and prints asks above bids") {
  Bot b;
  CHECK(b.Say("/book m1").rfind("Usage: /book MARKET OUTCOME", 0) == 0);
  b.control.topics["book"] = {0, R"({"market":"m1","asset_id":"tok","outcome":"Yes","seq":17,"stale":false,
    "bids":[["0.5","200"],["0.49","10"]],"asks":[["0.52","100"],["0.53","120"]],"bid_levels":2,"ask_levels":9})"};
  CHECK(b.Say("/book m1 Yes") ==
        "Book Yes m1\nasks (9 levels)\n  0.53 x 120\n  0.52 x 100\nbids (2 levels)\n  0.5 x 200\n  0.49 x 10\nseq 17");
  CHECK(b.control.calls.back() == R"(query book {"market":"m1","outcome":"Yes"})");
  b.control.topics["book"] = {-3, R"({"error":"no book for market 'm1' outcome 'Maybe'"})"};
  CHECK(b.Say("/book m1 Maybe") == "Book unavailable: no book for market 'm1' outcome 'Maybe'");
}

TEST_CASE("orders, positions, pnl, plugins and metrics") {
  Bot b;
  b.control.topics["orders"] = {0, R"({"orders":[{"plugin":"spread","market":"m","asset_id":"yes","side":"BUY",
    "price":"0.48","size":"100","filled":"0","status":"acked"}]})"};
  CHECK(b.Say("/orders") == "Open orders: 1\nspread BUY 100 @ 0.48 yes filled 0");
  b.control.topics["orders"] = {0, R"({"orders":[]})"};
  CHECK(b.Say("/orders") == "No open orders.");
  b.control.topics["positions"] = {0, R"({"positions":[{"plugin":"spread","asset_id":"yes","size":"-5","avg_price":"0.5"}]})"};
  CHECK(b.Say("/positions") == "Positions: 1\nspread yes -5 avg 0.5");
  b.control.topics["pnl"] = {-8, R"({"error":"pnl is not available offline yet: run `polyhost report`"})"};
  CHECK(b.Say("/pnl") == "PnL unavailable: pnl is not available offline yet: run `polyhost report`");
  b.control.topics["pnl"] = {0, R"({"plugins":[{"plugin":"spread","total":"1.25","realised":"1","fees":"0.02"}]})"};
  CHECK(b.Say("/pnl") == "PnL\nspread: 1.25 (realised 1, fees 0.02)");
  b.control.topics["plugins"] = {0, R"({"paused_all":false,"plugins":[{"name":"spread","state":"active","paused":true},
    {"name":"dutchbook","state":"failed","paused":false}]})"};
  CHECK(b.Say("/plugins") == "Plugins:\nspread: active, paused\ndutchbook: failed");
  b.control.topics["metrics"] = {0, R"({"metrics":{"events":1200,"stale_assets":0,"notional":"3.5"}})"};
  CHECK(b.Say("/metrics") == "Metrics\nevents: 1200\nstale_assets: 0\nnotional: 3.5");
}

TEST_CASE("pause and resume, all or one plugin, with the asker in the reason") {
  Bot b;
  CHECK(b.Say("/pause") == "Paused all plugins.");
  CHECK(b.control.calls.back() == "pause '' /pause from chat 42 @alice");
  CHECK(b.Say("/pause spread") == "Paused spread.");
  CHECK(b.control.calls.back() == "pause 'spread' /pause from chat 42 @alice");
  CHECK(b.Say("/resume spread") == "Resumed spread.");
  b.control.request_rc = -3;
  CHECK(b.Say("/resume ghost") == "Resume of ghost refused: PH_ERR_NOT_FOUND");
  CHECK(b.Say("/pause a b") == "Usage: /pause [plugin]");
}

TEST_CASE("cancel-all needs the code within 30 s, once") {
  Bot b;
  CHECK(b.Say("/confirm 4821", 100) == "Nothing to confirm. Send /cancelall first.");
  CHECK(b.Say("/cancelall", 100) == "Cancel ALL open orders of every plugin?\nSend /confirm 4821 within 30 s.");
  CHECK(b.control.calls.empty());  // nothing asked yet
  CHECK(b.Say("/confirm 1111", 110) == "Wrong code; nothing cancelled. Send /cancelall again.");
  CHECK(b.Say("/confirm 4821", 111) == "Nothing to confirm. Send /cancelall first.");  // the wrong try used it up
  CHECK(b.Say("/cancelall", 200) != "");
  CHECK(b.Say("/confirm 4821", 231) == "Code expired; nothing cancelled. Send /cancelall again.");
  CHECK(b.control.calls.empty());
  CHECK(b.Say("/cancelall", 300) != "");
  // Another allowed chat cannot confirm this chat's request.
  CHECK(b.Say("/confirm 4821", 301, -100) == "Nothing to confirm. Send /cancelall first.");
  CHECK(b.Say("/confirm 4821", 330) == "Cancel-all requested.");
  REQUIRE(b.control.calls.size() == 1);
  CHECK(b.control.calls[0] == "cancel-all /cancelall confirmed by chat 42 @alice");
  // The host may refuse; the reply says why.
  b.control.request_rc = -8;
  b.Say("/cancelall", 400);
  CHECK(b.Say("/confirm 4821", 401) == "Cancel-all refused: no live host");
}

TEST_CASE("a message date past year 9999 is not trusted: the window uses the clock") {
  // Fuzz regression (fuzz/regressions/tgbot_updates/date_seconds_overflow.json):
  // date * 1000 overflowed int64; both steps then got the same wrapped time.
  Bot b;
  const int64_t absurd = 17'630'000'003'000'000;
  b.Say("/cancelall", absurd);
  b.now += 31'000;  // past the 30 s window by our clock
  CHECK(b.Say("/confirm 4821", absurd) == "Code expired; nothing cancelled. Send /cancelall again.");
  b.Say("/cancelall", absurd);
  b.now += 29'000;
  CHECK(b.Say("/confirm 4821", absurd) == "Cancel-all requested.");
  // The last second of year 9999 is still a date.
  b.Say("/cancelall", 253'402'300'799 - 40);
  CHECK(b.Say("/confirm 4821", 253'402'300'799) == "Code expired; nothing cancelled. Send /cancelall again.");
}

TEST_CASE("long replies are cut at a line under the limit") {
  FakeControl control;
  tgbot::EngineOptions o;
  o.allowed_chat_ids = {1};
  o.max_reply_chars = 40;
  tgbot::CommandEngine e(o, control, [] { return int64_t{0}; }, [] { return std::string("1"); }, nullptr);
  control.topics["metrics"] = {0, R"({"metrics":{"aaaaaaaaaa":1,"bbbbbbbbbb":2,"cccccccccc":3,"dddddddddd":4}})"};
  const std::string r = e.HandleCommand(1, "/metrics", 0, "t");
  CHECK(r == "Metrics\naaaaaaaaaa: 1\nbbbbbbbbbb: 2\n(cut)");
}

TEST_CASE("ShortId keeps short ids and shortens long ones") {
  CHECK(tgbot::ShortId("yes") == "yes");
  CHECK(tgbot::ShortId("0x1234567890abcdef") == "0x1234\xE2\x80\xA6" "cdef");
}

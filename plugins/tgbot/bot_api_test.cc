// BotPoller against a scripted HttpPort: offsets, replies, resume from the state
// file, backoff after errors, and the stop on a refused token. (tests/tgbot/
// runs the real plugin against a mock Bot API server over loopback.)
#include "bot_api.h"

#include <catch2/catch.hpp>

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

namespace {

struct Script final : tgbot::HttpPort {
  std::deque<tgbot::HttpResult> answers;  // for getUpdates, in order
  std::vector<std::pair<std::string, std::string>> requests;  // url, body
  tgbot::BotPoller* poller = nullptr;
  tgbot::HttpResult PostJson(const std::string& url, const std::string& body, int64_t) override {
    requests.emplace_back(url, body);
    if (url.ends_with("/sendMessage")) return {200, R"({"ok":true})", ""};
    if (answers.empty()) {
      poller->Stop();
      return {0, "", "stopped"};
    }
    auto a = answers.front();
    answers.pop_front();
    return a;
  }
};

std::string Updates(std::initializer_list<std::pair<int64_t, std::string>> items) {
  std::string s = R"({"ok":true,"result":[)";
  bool first = true;
  for (auto& [id, text] : items) {
    s += std::string(first ? "" : ",") + R"({"update_id":)" + std::to_string(id) +
         R"(,"message":{"chat":{"id":42},"text":")" + text + "\"}}";
    first = false;
  }
  return s + "]}";
}

tgbot::PollerOptions TestOptions() {
  tgbot::PollerOptions o;
  o.base_url = "http://127.0.0.1:1/";
  o.token = "123:SECRET";
  o.poll_timeout_s = 1;
  o.backoff_min_ms = 1;
  o.backoff_max_ms = 4;
  return o;
}

struct Rig {
  Script http;
  std::vector<std::string> logs;
  std::function<void(const std::string&)> on_log;
  std::string state;
  std::unique_ptr<tgbot::BotPoller> poller;
  explicit Rig(std::string state_file = {}) : state(std::move(state_file)) {
    tgbot::PollerOptions o = TestOptions();
    o.state_file = state;
    poller = std::make_unique<tgbot::BotPoller>(
        o, http,
        [](std::string_view u, std::optional<int64_t>* id) -> std::optional<tgbot::Reply> {
          auto at = u.find("\"update_id\":");
          *id = std::stoll(std::string(u.substr(at + 12)));
          return tgbot::Reply{42, "echo"};
        },
        [this](int, const std::string& l) {
          logs.push_back(l);
          if (on_log) on_log(l);
        });
    http.poller = poller.get();
  }
  std::vector<std::string> Bodies(const std::string& method) const {
    std::vector<std::string> out;
    for (auto& [u, b] : http.requests)
      if (u.ends_with(method)) out.push_back(b);
    return out;
  }
};

std::string TempPath(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(getpid()))).string();
}

}  // namespace

TEST_CASE("poller: offsets confirm handled updates and each reply is sent") {
  Rig r;
  r.http.answers = {{200, Updates({{5, "/a"}, {6, "/b"}}), ""}, {200, Updates({{7, "/c"}}), ""}};
  CHECK(r.poller->Run() == tgbot::PollerExit::kStopped);
  auto polls = r.Bodies("/getUpdates");
  REQUIRE(polls.size() == 3);
  CHECK(polls[0].find("offset") == std::string::npos);  // nothing confirmed yet
  CHECK(polls[1].find("\"offset\":7") != std::string::npos);
  CHECK(polls[2].find("\"offset\":8") != std::string::npos);
  CHECK(polls[0].find("\"timeout\":1") != std::string::npos);
  CHECK(r.Bodies("/sendMessage").size() == 3);
  CHECK(r.http.requests[0].first == "http://127.0.0.1:1/bot123:SECRET/getUpdates");
  CHECK(r.poller->last_update_id() == 7);
}

TEST_CASE("poller: a restart resumes after the last confirmed update") {
  const std::string state = TempPath("tgbot_state_");
  std::filesystem::remove(state);
  {
    Rig r(state);
    r.http.answers = {{200, Updates({{10, "/a"}, {11, "/b"}}), ""}};
    r.poller->Run();
  }
  CHECK(tgbot::LoadLastUpdateId(state) == 11);
  Rig again(state);
  again.http.answers = {{200, Updates({}), ""}};
  again.poller->Run();
  CHECK(again.Bodies("/getUpdates")[0].find("\"offset\":12") != std::string::npos);
  std::ofstream(state) << "garbage";
  CHECK_THROWS_WITH(tgbot::LoadLastUpdateId(state), Catch::Contains(state));
  std::filesystem::remove(state);
}

TEST_CASE("poller: server errors back off and polling goes on; the token never reaches the log") {
  Rig r;
  r.http.answers = {{502, "bad gateway", ""},
                    {0, "", "connect to 127.0.0.1:1 /bot123:SECRET/getUpdates refused"},
                    {200, "{not json", ""},
                    {200, Updates({{1, "/x"}}), ""}};
  CHECK(r.poller->Run() == tgbot::PollerExit::kStopped);
  CHECK(r.poller->last_update_id() == 1);
  int retries = 0;
  for (const std::string& l : r.logs) {
    CHECK(l.find("SECRET") == std::string::npos);
    if (l.find("retrying in") != std::string::npos) ++retries;
  }
  CHECK(retries == 3);
  CHECK(r.logs[1].find("HTTP 502") != std::string::npos);
  CHECK(r.logs[1].find("retrying in 1 ms") != std::string::npos);
  CHECK(r.logs[2].find("retrying in 2 ms") != std::string::npos);
}

TEST_CASE("poller: a refused token stops polling with a clear error") {
  Rig r;
  r.http.answers = {{401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})", ""}};
  CHECK(r.poller->Run() == tgbot::PollerExit::kUnauthorized);
  CHECK(r.Bodies("/getUpdates").size() == 1);
  CHECK(r.logs.back().find("refused the token (HTTP 401)") != std::string::npos);
  for (const std::string& l : r.logs) CHECK(l.find("SECRET") == std::string::npos);
}

TEST_CASE("poller: an update id past 2^53-1 is ignored, so the next offset stays in int64") {
  Rig r;
  r.http.answers = {{200, Updates({{5, "/a"}, {9'223'372'036'854'775'807, "/b"}}), ""}};
  CHECK(r.poller->Run() == tgbot::PollerExit::kStopped);
  CHECK(r.poller->last_update_id() == 5);
  auto polls = r.Bodies("/getUpdates");
  REQUIRE(polls.size() == 2);
  CHECK(polls[1].find("\"offset\":6") != std::string::npos);
  bool warned = false;
  for (const std::string& l : r.logs) warned |= l.find("ignored update_id 9223372036854775807") != std::string::npos;
  CHECK(warned);
}

TEST_CASE("poller: a state file holding an impossible update id is refused, naming the file") {
  const std::string state = TempPath("tgbot_state_bad_");
  std::ofstream(state) << R"({"last_update_id":9223372036854775807})";
  CHECK_THROWS_WITH(tgbot::LoadLastUpdateId(state), Catch::Contains(state) && Catch::Contains("from 0 to"));
  std::ofstream(state) << R"({"last_update_id":-5})";
  CHECK_THROWS_WITH(tgbot::LoadLastUpdateId(state), Catch::Contains(state));
  std::filesystem::remove(state);
}

TEST_CASE("poller: options out of range are refused, naming the key") {
  Script http;
  auto make = [&](tgbot::PollerOptions o) {
    tgbot::BotPoller p(o, http, [](std::string_view, std::optional<int64_t>*) { return std::nullopt; },
                       [](int, const std::string&) {});
  };
  tgbot::PollerOptions o = TestOptions();
  o.poll_timeout_s = 9'223'372'036'854'775;
  CHECK_THROWS_WITH(make(o), Catch::Contains("poll_timeout_s") && Catch::Contains("out of range"));
  o = TestOptions();
  o.backoff_min_ms = -1;
  CHECK_THROWS_WITH(make(o), Catch::Contains("backoff_min_ms"));
  o = TestOptions();
  o.backoff_max_ms = tgbot::kMaxBackoffMs + 1;
  CHECK_THROWS_WITH(make(o), Catch::Contains("backoff_max_ms"));
  o = TestOptions();
  o.backoff_min_ms = 10;
  o.backoff_max_ms = 5;  // below the minimum
  CHECK_THROWS_WITH(make(o), Catch::Contains("backoff_max_ms"));
  CHECK_NOTHROW(make(TestOptions()));
}

TEST_CASE("poller: a huge 429 retry_after is capped at an hour") {
  Rig r;
  r.http.answers = {{429, R"({"ok":false,"parameters":{"retry_after":9000000000000000000}})", ""}};
  r.on_log = [&](const std::string& l) {
    if (l.find("rate limit") != std::string::npos) r.poller->Stop();  // do not actually wait
  };
  CHECK(r.poller->Run() == tgbot::PollerExit::kStopped);
  bool capped = false;
  for (const std::string& l : r.logs) capped |= l.find("waiting 3600 s") != std::string::npos;
  CHECK(capped);
}

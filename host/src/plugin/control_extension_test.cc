// The control and HTTP extensions through their C tables: the query buffer
// rule, audit lines, pause state kept on disk, and HTTP errors without paths.
#include "plugin/control_extension.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <unistd.h>

#include "plugin/http_extension.h"
#include "polyhost/abi/http.h"

namespace polyhost {
namespace {

struct FakeHost {
  ph_host host{};
  const void* control = nullptr;
  const void* http = nullptr;
  FakeHost(const void* c, const void* h) : control(c), http(h) {
    host.struct_size = sizeof(ph_host);
    host.host_data = this;
    host.plugin_name = "bot";
    host.get_extension = [](const ph_host* h, const char* id) -> const void* {
      auto* self = static_cast<FakeHost*>(h->host_data);
      if (std::strcmp(id, PH_EXT_CONTROL) == 0) return self->control;
      if (std::strcmp(id, PH_EXT_HTTP) == 0) return self->http;
      return nullptr;
    };
  }
};

struct ScriptedBackend final : ControlBackend {
  std::string answer = R"({"x":"0.5"})";
  std::vector<std::string> pauses;
  void Status(ph_control_status* out) override {
    out->flags = PH_CONTROL_DRY_RUN;
    out->open_orders = 3;
  }
  ControlAnswer Query(std::string_view topic, std::string_view) override {
    if (topic == "status") return {PH_OK, answer};
    return ControlAnswer::Error(PH_ERR_NOT_FOUND, "unknown topic '" + std::string(topic) + "'");
  }
  ph_result Pause(std::string_view plugin, bool paused, const ControlCaller&) override {
    pauses.push_back(std::string(paused ? "pause " : "resume ") + std::string(plugin));
    return plugin == "ghost" ? PH_ERR_NOT_FOUND : PH_OK;
  }
  ph_result CancelAll(const ControlCaller&) override { return PH_ERR_UNSUPPORTED; }
};

std::string TempPath(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(getpid()))).string();
}

}  // namespace

TEST_CASE("control query: text and NUL, the length needed when the buffer is short, errors as JSON") {
  ScriptedBackend backend;
  std::vector<std::string> audit;
  ControlExtension ext(backend, [&](int, const std::string& l) { audit.push_back(l); });
  FakeHost fake(ext.table(), nullptr);
  const auto* c = static_cast<const ph_control_ext*>(ext.table());
  REQUIRE(PH_STRUCT_HAS(c, ph_control_ext, request_resume_plugin));
  char buf[64];
  size_t len = 99;
  REQUIRE(c->query(&fake.host, "status", nullptr, buf, sizeof buf, &len) == PH_OK);
  CHECK(std::string(buf) == R"({"x":"0.5"})");
  CHECK(len == 11);
  // Too small by one (no room for the NUL): nothing written, length reported.
  std::memset(buf, 'z', sizeof buf);
  CHECK(c->query(&fake.host, "status", "", buf, 11, &len) == PH_ERR_INVALID_ARGUMENT);
  CHECK(len == 11);
  CHECK(buf[0] == '\0');
  CHECK(buf[1] == 'z');
  CHECK(c->query(&fake.host, "status", nullptr, nullptr, 0, &len) == PH_ERR_INVALID_ARGUMENT);
  CHECK(len == 11);
  CHECK(c->query(&fake.host, "nope", nullptr, buf, sizeof buf, &len) == PH_ERR_NOT_FOUND);
  CHECK(std::string(buf) == R"({"error":"unknown topic 'nope'"})");
  CHECK(c->query(&fake.host, "status", "[1]", buf, sizeof buf, &len) == PH_ERR_INVALID_ARGUMENT);
  CHECK(len == 0);
  CHECK(c->query(&fake.host, "status", "{bad", buf, sizeof buf, &len) == PH_ERR_INVALID_ARGUMENT);

  ph_control_status st{};
  st.struct_size = sizeof st;
  REQUIRE(c->get_status(&fake.host, &st) == PH_OK);
  CHECK(st.open_orders == 3);
  CHECK(st.flags == PH_CONTROL_DRY_RUN);
  CHECK(st.struct_size == sizeof st);
}

TEST_CASE("control requests reach the backend and are audited with plugin, target and reason") {
  ScriptedBackend backend;
  std::vector<std::string> audit;
  ControlExtension ext(backend, [&](int level, const std::string& l) {
    if (level > 0) audit.push_back(l);
  });
  FakeHost fake(ext.table(), nullptr);
  const auto* c = static_cast<const ph_control_ext*>(ext.table());
  CHECK(c->request_pause(&fake.host, "storm") == PH_OK);
  CHECK(c->request_pause_plugin(&fake.host, "spread", "by @alice") == PH_OK);
  CHECK(c->request_resume_plugin(&fake.host, nullptr, "all clear") == PH_OK);
  CHECK(c->request_pause_plugin(&fake.host, "ghost", "x") == PH_ERR_NOT_FOUND);
  CHECK(c->request_cancel_all(&fake.host, "confirmed") == PH_ERR_UNSUPPORTED);
  CHECK(backend.pauses == std::vector<std::string>{"pause *", "pause spread", "resume *", "pause ghost"});
  REQUIRE(audit.size() == 5);
  CHECK(audit[0] == "control: plugin 'bot' requests pause of every plugin (reason: storm) -> PH_OK");
  CHECK(audit[1] == "control: plugin 'bot' requests pause of 'spread' (reason: by @alice) -> PH_OK");
  CHECK(audit[3] == "control: plugin 'bot' requests pause of 'ghost' (reason: x) -> PH_ERR_NOT_FOUND");
  CHECK(audit[4] == "control: plugin 'bot' requests cancel-all (reason: confirmed) -> PH_ERR_UNSUPPORTED");
}

TEST_CASE("pause state survives a reload; a bad file is named") {
  const std::string path = TempPath("ph_pause_");
  std::filesystem::remove(path);
  {
    PauseState p(path);
    CHECK(!p.IsPaused("spread"));
    p.Set("spread", true);
    p.Set("*", true);
  }
  {
    PauseState p(path);
    CHECK(p.all());
    CHECK(p.IsPaused("dutchbook"));
    CHECK(p.plugins() == std::set<std::string>{"spread"});
    p.Set("*", false);  // resume everything
  }
  PauseState again(path);
  CHECK(!again.all());
  CHECK(!again.IsPaused("spread"));
  std::ofstream(path) << R"({"all":"yes"})";
  CHECK_THROWS_WITH(PauseState(path), Catch::Contains(path) && Catch::Contains("'all'"));
  std::filesystem::remove(path);
  PauseState memory;  // no file: in memory only
  memory.Set("x", true);
  CHECK(memory.IsPaused("x"));
}

TEST_CASE("http extension: a failed exchange names the host, never the path; bad arguments are refused") {
  std::vector<std::string> audit;
  HttpExtension ext([&](const std::string& l) { audit.push_back(l); });
  FakeHost fake(nullptr, ext.table());
  const auto* h = static_cast<const ph_http_ext*>(ext.table());
  const ph_http_response* r = nullptr;
  // Port 1 on loopback: nothing listens, the connect fails at once.
  const char* url = "http://127.0.0.1:1/bot123:SECRET/getUpdates?offset=5";
  CHECK(h->request(&fake.host, "POST", url, nullptr, 0, "{}", 2, 2000, &r) == PH_ERR_FAILED);
  REQUIRE(r != nullptr);
  CHECK(r->status == 0);
  CHECK(std::string(r->error).find("127.0.0.1:1") != std::string::npos);
  CHECK(std::string(r->error).find("SECRET") == std::string::npos);
  h->release(&fake.host, r);
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].rfind("http: plugin 'bot' POST http://127.0.0.1:1 -> failed", 0) == 0);
  CHECK(audit[0].find("SECRET") == std::string::npos);
  CHECK(h->request(&fake.host, "BREW", url, nullptr, 0, nullptr, 0, 1000, &r) == PH_ERR_INVALID_ARGUMENT);
  CHECK(r == nullptr);
  CHECK(h->request(&fake.host, "GET", "ftp://x/", nullptr, 0, nullptr, 0, 1000, &r) == PH_ERR_INVALID_ARGUMENT);
  const ph_http_header bad[] = {{"X", "a\r\nInjected: 1"}};
  CHECK(h->request(&fake.host, "GET", url, bad, 1, nullptr, 0, 1000, &r) == PH_ERR_INVALID_ARGUMENT);
  CHECK(h->request(&fake.host, "GET", url, nullptr, 0, nullptr, 0, 0, &r) == PH_ERR_INVALID_ARGUMENT);
  h->release(&fake.host, nullptr);
  CHECK(UrlOrigin("https://api.telegram.org/botX/getMe") == "https://api.telegram.org");
  CHECK(UrlOrigin("http://h:8/") == "http://h:8");
}

}  // namespace polyhost

#include "obs/logging.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace polyhost::obs {
namespace {

TEST_CASE("json log lines are one object with ts, level, logger, msg and typed fields") {
  LogSettings s;
  s.format = "json";
  const std::string line = FormatForTest(s, "replay", spdlog::level::warn,
                                         EncodeFields("book \"crossed\"", {{"market", "0xabc"}, {"plan_id", "42"},
                                                                          {"price", "0.48"}, {"msg", "clash"}}));
  REQUIRE(line.find('\n') == std::string::npos);
  const boost::json::object o = boost::json::parse(line).as_object();
  CHECK(o.at("level").as_string() == "warn");
  CHECK(o.at("logger").as_string() == "replay");
  CHECK(o.at("msg").as_string() == "book \"crossed\"");
  CHECK(o.at("market").as_string() == "0xabc");
  CHECK(o.at("plan_id").as_int64() == 42);
  CHECK(o.at("price").as_string() == "0.48");  // decimals stay exact strings
  CHECK(o.at("field_msg").as_string() == "clash");
  const std::string ts(o.at("ts").as_string());
  CHECK(ts.size() == 24);
  CHECK(ts.back() == 'Z');
  CHECK(ts[10] == 'T');
}

TEST_CASE("text log lines keep the level prefix and append fields") {
  LogSettings s;
  CHECK(FormatForTest(s, "polyhost", spdlog::level::info, "hello") == "info: hello");
  CHECK(FormatForTest(s, "store", spdlog::level::err, EncodeFields("write failed", {{"path", "a b.db"}, {"n", "3"}})) ==
        "error: [store] write failed path=\"a b.db\" n=3");
}

TEST_CASE("control characters in messages are escaped in json") {
  LogSettings s;
  s.format = "json";
  const std::string line = FormatForTest(s, "polyhost", spdlog::level::info, "two\nlines\t\x01");
  CHECK(line.find('\n') == std::string::npos);
  CHECK(boost::json::parse(line).as_object().at("msg").as_string() == "two\nlines\t\x01");
}

TEST_CASE("configured secrets never reach a log line, in either format") {
  const std::string key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
  for (const char* format : {"text", "json"}) {
    LogSettings s;
    s.format = format;
    s.secrets = {key, "", "tok-SECRET"};
    const std::string line = FormatForTest(s, "polyhost", spdlog::level::info,
                                           EncodeFields("key " + key + " token tok-SECRET",
                                                        {{"conninfo", "password=tok-SECRET host=x"}}));
    CHECK(line.find(key) == std::string::npos);
    CHECK(line.find("tok-SECRET") == std::string::npos);
    CHECK(line.find("***") != std::string::npos);
  }
}

TEST_CASE("module levels are validated and applied") {
  CHECK(CheckModuleLevel("store=debug").empty());
  CHECK(CheckModuleLevel("stor=debug").find("unknown module 'stor'") != std::string::npos);
  CHECK(CheckModuleLevel("store=loud").find("not a level") != std::string::npos);
  CHECK(CheckModuleLevel("store").find("module=level") != std::string::npos);

  LogSettings s;
  s.level = "warn";
  s.modules = {"store=debug"};
  ConfigureLogging(s);
  CHECK(ModuleLogger("store")->level() == spdlog::level::debug);
  CHECK(ModuleLogger("replay")->level() == spdlog::level::warn);
  CHECK(spdlog::default_logger()->level() == spdlog::level::warn);
  s.modules = {"bogus=info"};
  CHECK_THROWS_AS(ConfigureLogging(s), std::invalid_argument);
  s.modules = {};
  s.format = "xml";
  CHECK_THROWS_AS(ConfigureLogging(s), std::invalid_argument);
  ConfigureLogging(LogSettings{});
  CHECK(ModuleLogger("store")->level() == spdlog::level::info);
}

}  // namespace
}  // namespace polyhost::obs

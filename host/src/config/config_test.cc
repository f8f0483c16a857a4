#include "config/config.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <toml++/toml.h>

#include "config/config_schema.h"

namespace polyhost {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("polyhost_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

  // Writes `text` to path()/relative (creating directories) and returns the path.
  std::string Write(const std::string& relative, const std::string& text,
                    fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) const {
    const fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
    fs::permissions(file, perms);
    return file.string();
  }

 private:
  fs::path path_;
};

// A controlled environment: tests must not see the real process environment.
class Env {
 public:
  Env(std::initializer_list<std::string> vars) : vars_(vars) {
    for (const std::string& var : vars_) pointers_.push_back(var.c_str());
    pointers_.push_back(nullptr);
  }
  const char* const* get() const { return pointers_.data(); }

 private:
  std::vector<std::string> vars_;
  std::vector<const char*> pointers_;
};

const Env kNoEnv{};

ConfigLoadOptions Options(const TempDir& dir, const Env& env = kNoEnv) {
  ConfigLoadOptions options;
  options.base_dir = dir.str();
  options.environ = env.get();
  return options;
}

// The ConfigError message LoadConfig throws, or "" when it succeeds.
std::string LoadError(const ConfigLoadOptions& options) {
  try {
    LoadConfig(options);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

constexpr const char* kKey = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

TEST_CASE("defaults load with every key from the default layer") {
  TempDir dir;
  const LoadedConfig loaded = LoadConfig(Options(dir));
  const Config& c = loaded.config;
  CHECK(c.polymarket.gamma_url == "https://gamma-api.polymarket.com");
  CHECK(c.polymarket.clob_url == "https://clob.polymarket.com");
  CHECK(c.polymarket.ws_url == "wss://ws-subscriptions-clob.polymarket.com/ws/market");
  CHECK(c.db.url == "sqlite:///./polyhost.db");
  CHECK(c.db.wal);
  CHECK(c.ingestion.buffer_size == 65536);
  CHECK(c.ingestion.stale_after_ms == 30000);
  CHECK(c.ingestion.snapshot_interval_ms == 60000);
  CHECK(c.ingestion.prune_keep_ms == 86400000);
  CHECK(c.strategy.dutchbook);
  CHECK(c.strategy.spread);
  CHECK(c.thresholds.min_profit_micros == 20000);
  CHECK(c.relayer.type == "fake");
  CHECK(c.relayer.dry_run);
  CHECK(c.relayer.private_key.empty());
  CHECK(c.relayer.funder.empty());
  CHECK(c.plugins.dirs == std::vector<std::string>{"build/release/plugins", "/usr/local/lib/polyhost/plugins"});
  CHECK(c.log.level == "info");
  CHECK(c.log.format == "text");
  CHECK(c.plugin_sections.empty());
  CHECK(loaded.files_read.empty());
  CHECK(loaded.warnings.empty());
  REQUIRE(loaded.source_of.size() == ConfigSchema().size());
  for (const auto& [key, layer] : loaded.source_of) CHECK(layer == "default");

  const Config again = DefaultConfig();
  CHECK(again.db.url == c.db.url);
  CHECK(again.plugins.dirs == c.plugins.dirs);
}

TEST_CASE("schema, config/default.toml and docs/configuration.md agree") {
  const toml::table doc = toml::parse(EmbeddedDefaultToml());
  for (const ConfigKeySpec& spec : ConfigSchema()) {
    INFO(spec.name());
    CHECK(doc.at_path(spec.name()).node() != nullptr);
  }
  // The schema's default_text parses to the same values as default.toml.
  TempDir dir;
  ConfigLoadOptions options = Options(dir);
  for (const ConfigKeySpec& spec : ConfigSchema()) {
    options.overrides.emplace_back(spec.name(), std::string(spec.default_text));
  }
  LoadedConfig from_schema = LoadConfig(options);
  const LoadedConfig from_file = LoadConfig(Options(dir));
  from_schema.source_of = from_file.source_of;
  CHECK(RenderConfigShow(from_schema, true) == RenderConfigShow(from_file, true));

  std::ifstream docs_file(std::string(POLYHOST_SOURCE_DIR) + "/docs/configuration.md");
  REQUIRE(docs_file);
  std::stringstream docs;
  docs << docs_file.rdbuf();
  for (const ConfigKeySpec& spec : ConfigSchema()) {
    CHECK_THAT(docs.str(), Contains("`" + std::string(spec.key) + "`"));
    CHECK_THAT(docs.str(), Contains(spec.env_name()));
  }
}

TEST_CASE("each layer overrides the previous and provenance names it") {
  TempDir dir;
  const std::string local = (dir.path() / "config/local.toml").lexically_normal().generic_string();
  dir.Write("config/local.toml",
            "[db]\nurl = \"sqlite:///local.db\"\n[log]\nlevel = \"debug\"\n"
            "[ingestion]\nbuffer_size = 1024\nstale_after_ms = 1000\n");
  const std::string config_file =
      dir.Write("etc/prod.toml", "[log]\nlevel = \"warn\"\n[ingestion]\nbuffer_size = 2048\n"
                                 "[relayer]\ntype = \"real\"\n");
  const std::string secrets = (dir.path() / "etc/secrets.local.toml").lexically_normal().generic_string();
  dir.Write("etc/secrets.local.toml",
            std::string("[relayer]\nprivate_key = \"") + kKey + "\"\ndry_run = false\n[log]\nlevel = \"error\"\n");
  // Not read: with --config, secrets come from beside that file.
  dir.Write("config/secrets.local.toml", "[db]\nwal = false\n");
  const Env env{"POLYHOST_LOG_LEVEL=trace", "POLYHOST_INGESTION_STALE_AFTER_MS=5000", "PATH=/bin"};
  ConfigLoadOptions options = Options(dir, env);
  options.config_file = config_file;
  options.overrides = {{"log.level", "critical"}, {"log.format", "text"}};

  const LoadedConfig loaded = LoadConfig(options);
  const Config& c = loaded.config;
  CHECK(c.db.url == "sqlite:///local.db");
  CHECK(c.db.wal);
  CHECK(c.ingestion.buffer_size == 2048);
  CHECK(c.ingestion.stale_after_ms == 5000);
  CHECK(c.relayer.type == "real");
  CHECK(c.relayer.private_key == kKey);
  CHECK_FALSE(c.relayer.dry_run);
  CHECK(c.log.level == "critical");
  CHECK(c.log.format == "text");

  CHECK(loaded.source_of.at("db.url") == local);
  CHECK(loaded.source_of.at("db.wal") == "default");
  CHECK(loaded.source_of.at("ingestion.buffer_size") == config_file);
  CHECK(loaded.source_of.at("relayer.type") == config_file);
  CHECK(loaded.source_of.at("relayer.private_key") == secrets);
  CHECK(loaded.source_of.at("relayer.dry_run") == secrets);
  CHECK(loaded.source_of.at("ingestion.stale_after_ms") == "env POLYHOST_INGESTION_STALE_AFTER_MS");
  CHECK(loaded.source_of.at("log.level") == "command line");
  CHECK(loaded.source_of.at("log.format") == "command line");
  CHECK(loaded.files_read == std::vector<std::string>{local, config_file, secrets});

  SECTION("without --config, secrets come from config/secrets.local.toml") {
    const LoadedConfig plain = LoadConfig(Options(dir));
    CHECK_FALSE(plain.config.db.wal);
    CHECK(plain.source_of.at("db.wal") ==
          (dir.path() / "config/secrets.local.toml").lexically_normal().generic_string());
  }
}

TEST_CASE("a missing --config file is an error; missing optional files are not") {
  TempDir dir;
  ConfigLoadOptions options = Options(dir);
  options.config_file = (dir.path() / "nope.toml").string();
  CHECK_THAT(LoadError(options), Contains("nope.toml: cannot read: no such file"));
  options.config_file.clear();
  CHECK(LoadError(options).empty());
}

TEST_CASE("environment variables are parsed by the key's type") {
  TempDir dir;
  const Env env{"POLYHOST_DB_WAL=off",
                "POLYHOST_STRATEGY_SPREAD=0",
                "POLYHOST_STRATEGY_DUTCHBOOK=Yes",
                "POLYHOST_INGESTION_BUFFER_SIZE=4096",
                "POLYHOST_DB_URL=sqlite:///:memory:",
                "POLYHOST_THRESHOLDS_MIN_PROFIT_USDC=0.000001",
                "POLYHOST_PLUGINS_DIRS= /a/b , c ,,",
                "POLYHOST_RELAYER_FUNDER=0x1111111111111111111111111111111111111111",
                "POLYHOST_UNRELATED_SCRIPT_VARIABLE=whatever"};
  const LoadedConfig loaded = LoadConfig(Options(dir, env));
  const Config& c = loaded.config;
  CHECK_FALSE(c.db.wal);
  CHECK_FALSE(c.strategy.spread);
  CHECK(c.strategy.dutchbook);
  CHECK(c.ingestion.buffer_size == 4096);
  CHECK(c.db.url == "sqlite:///:memory:");
  CHECK(c.thresholds.min_profit_micros == 1);
  CHECK(c.plugins.dirs == std::vector<std::string>{"/a/b", "c"});
  CHECK(c.relayer.funder == "0x1111111111111111111111111111111111111111");
  CHECK(loaded.source_of.at("plugins.dirs") == "env POLYHOST_PLUGINS_DIRS");

  SECTION("an empty list variable clears the list") {
    const Env empty{"POLYHOST_PLUGINS_DIRS="};
    CHECK(LoadConfig(Options(dir, empty)).config.plugins.dirs.empty());
  }
  SECTION("bad values name the variable") {
    const Env bad{"POLYHOST_DB_WAL=maybe", "POLYHOST_INGESTION_STALE_AFTER_MS=12x"};
    const std::string error = LoadError(Options(dir, bad));
    CHECK_THAT(error, Contains("env POLYHOST_DB_WAL: 'db.wal': \"maybe\" is not a boolean"));
    CHECK_THAT(error, Contains("env POLYHOST_INGESTION_STALE_AFTER_MS: 'ingestion.stale_after_ms': "
                               "\"12x\" is not an integer"));
  }
  SECTION("unknown keys in a known section, and near misses, are errors") {
    const Env typo{"POLYHOST_DB_ULR=sqlite:///x.db", "POLYHOST_RELAYR_DRY_RUN=false"};
    const std::string error = LoadError(Options(dir, typo));
    CHECK_THAT(error, Contains("env POLYHOST_DB_ULR: unknown key 'db.ulr' (did you mean 'POLYHOST_DB_URL'?)"));
    CHECK_THAT(error, Contains("env POLYHOST_RELAYR_DRY_RUN: unknown variable "
                               "(did you mean 'POLYHOST_RELAYER_DRY_RUN'?)"));
  }
}

TEST_CASE("unknown keys and sections name file, line and the nearest key") {
  TempDir dir;
  dir.Write("config/local.toml", "# local\n[db]\nulr = \"sqlite:///x.db\"\n[relayr]\ndry_run = false\n"
                                 "[log]\nlevle = \"info\"\n");
  const std::string error = LoadError(Options(dir));
  CHECK_THAT(error, Contains("config/local.toml:3: unknown key 'db.ulr' (did you mean 'db.url'?)"));
  CHECK_THAT(error, Contains("config/local.toml:4: unknown section 'relayr' (did you mean 'relayer'?)"));
  CHECK_THAT(error, Contains("config/local.toml:7: unknown key 'log.levle' (did you mean 'log.level'?)"));

  SECTION("on the command line too") {
    ConfigLoadOptions options = Options(TempDir());
    options.overrides = {{"db.ulr", "x"}};
    CHECK(LoadError(options) == "command line: unknown key 'db.ulr' (did you mean 'db.url'?)");
  }
  SECTION("no suggestion when nothing is close") {
    ConfigLoadOptions options = Options(TempDir());
    options.overrides = {{"db.completely_different", "x"}};
    CHECK(LoadError(options) == "command line: unknown key 'db.completely_different'");
  }
}

TEST_CASE("wrong types are errors") {
  TempDir dir;
  dir.Write("config/local.toml",
            "[db]\nwal = \"yes\"\n[ingestion]\nbuffer_size = 1.5\n[plugins]\ndirs = [\"a\", 3]\n"
            "[log]\nlevel = 3\n[thresholds]\nmin_profit_usdc = true\n[strategy]\nspread = {}\ndb = 1\n");
  const std::string error = LoadError(Options(dir));
  CHECK_THAT(error, Contains("local.toml:2: 'db.wal': must be a boolean (true or false), not a string"));
  CHECK_THAT(error, Contains("local.toml:4: 'ingestion.buffer_size': must be an integer, not a floating-point"));
  CHECK_THAT(error, Contains("local.toml:6: 'plugins.dirs': element 1 must be a string, not an integer"));
  CHECK_THAT(error, Contains("local.toml:8: 'log.level': must be a string, not an integer"));
  CHECK_THAT(error, Contains("local.toml:10: 'thresholds.min_profit_usdc': must be a decimal"));
  CHECK_THAT(error, Contains("local.toml:12: 'strategy.spread': must be a boolean (true or false), not a table"));
  CHECK_THAT(error, Contains("local.toml:13: unknown key 'strategy.db'"));
}

TEST_CASE("out-of-range and disallowed values are errors") {
  TempDir dir;
  dir.Write("config/local.toml",
            "[ingestion]\nstale_after_ms = -5\nbuffer_size = 0\nsnapshot_interval_ms = 0\n"
            "[relayer]\ntype = \"bogus\"\nfunder = \"0x12\"\n"
            "[polymarket]\nclob_url = \"clob.polymarket.com\"\n[db]\nurl = \"mysql://x\"\n");
  const std::string error = LoadError(Options(dir));
  CHECK_THAT(error, Contains("local.toml:2: 'ingestion.stale_after_ms': -5 is out of range [1, 86400000]"));
  CHECK_THAT(error, Contains("local.toml:3: 'ingestion.buffer_size': 0 is out of range [16, 1073741824]"));
  CHECK_THAT(error, Contains("local.toml:6: 'relayer.type': \"bogus\" is not one of: fake, paper, real"));
  CHECK_THAT(error, Contains("local.toml:7: 'relayer.funder': \"0x12\" is not an address"));
  CHECK_THAT(error, Contains("local.toml:9: 'polymarket.clob_url': \"clob.polymarket.com\" is not an http"));
  CHECK_THAT(error, Contains("local.toml:11: 'db.url': \"mysql://x\" is not a database URL"));
  CHECK_THAT(error, !Contains("snapshot_interval_ms"));  // 0 = disabled is valid

  SECTION("from the environment and the command line as well") {
    const Env env{"POLYHOST_INGESTION_STALE_AFTER_MS=-1"};
    ConfigLoadOptions options = Options(TempDir(), env);
    options.overrides = {{"relayer.type", "bogus"}};
    const std::string both = LoadError(options);
    CHECK_THAT(both, Contains("env POLYHOST_INGESTION_STALE_AFTER_MS: 'ingestion.stale_after_ms': -1 is out of range"));
    CHECK_THAT(both, Contains("command line: 'relayer.type': \"bogus\" is not one of: fake, paper, real"));
  }
}

TEST_CASE("TOML syntax errors name file and line") {
  TempDir dir;
  dir.Write("config/local.toml", "[db]\nurl = \"unterminated\n");
  CHECK_THAT(LoadError(Options(dir)), Contains("config/local.toml:2: TOML syntax error at column"));
}

TEST_CASE("decimals are exact micro-units") {
  const auto load_min_profit = [](const std::string& toml_value) {
    TempDir dir;
    dir.Write("config/local.toml", "[thresholds]\nmin_profit_usdc = " + toml_value + "\n");
    return LoadConfig(Options(dir)).config.thresholds.min_profit_micros;
  };
  CHECK(load_min_profit("\"0.02\"") == 20'000);
  CHECK(load_min_profit("0.02") == 20'000);
  CHECK(load_min_profit("0.1") == 100'000);
  CHECK(load_min_profit("0.3") == 300'000);
  CHECK(load_min_profit("123.456789") == 123'456'789);
  CHECK(load_min_profit("3") == 3'000'000);
  CHECK(load_min_profit("0.000001") == 1);
  CHECK(load_min_profit("1000") == 1'000'000'000);

  const auto min_profit_error = [](const std::string& toml_value) {
    TempDir dir;
    dir.Write("config/local.toml", "[thresholds]\nmin_profit_usdc = " + toml_value + "\n");
    return LoadError(Options(dir));
  };
  CHECK_THAT(min_profit_error("1e-7"), Contains("\"0.0000001\" is not a valid decimal: more than 6 fractional digits"));
  CHECK_THAT(min_profit_error("\"0.0000001\""), Contains("more than 6 fractional digits"));
  CHECK_THAT(min_profit_error("\"1e-3\""), Contains("exponent notation not allowed"));
  CHECK_THAT(min_profit_error("-0.01"), Contains("-0.01 is out of range [0, 1000]"));
  CHECK_THAT(min_profit_error("1000.000001"), Contains("is out of range [0, 1000]"));
  CHECK_THAT(min_profit_error("\"abc\""), Contains("\"abc\" is not a valid decimal"));
  CHECK_THAT(min_profit_error("nan"), Contains("is not a valid decimal"));
}

TEST_CASE("secrets never appear in show output or errors") {
  TempDir dir;
  SECTION("show: *** when set, empty when not, URL passwords masked") {
    dir.Write("config/secrets.local.toml", std::string("[relayer]\nprivate_key = \"") + kKey + "\"\n");
    ConfigLoadOptions options = Options(dir);
    options.overrides = {{"db.url", "postgresql://trader:hunter2@db:5432/polyhost"}};
    const LoadedConfig loaded = LoadConfig(options);
    CHECK(loaded.config.db.url == "postgresql://trader:hunter2@db:5432/polyhost");
    for (const bool json : {false, true}) {
      const std::string shown = RenderConfigShow(loaded, json);
      CHECK_THAT(shown, !Contains("4c0883a69102937d"));
      CHECK_THAT(shown, !Contains("hunter2"));
      CHECK_THAT(shown, Contains("postgresql://trader:***@db:5432/polyhost"));
    }
    CHECK_THAT(RenderConfigShow(loaded, true), Contains("\"private_key\": \"***\""));
    CHECK_THAT(RenderConfigShow(loaded, false), Contains("***"));

    const std::string unset = RenderConfigShow(LoadConfig(Options(TempDir())), true);
    CHECK_THAT(unset, Contains("\"private_key\": \"\""));
  }
  SECTION("a malformed key is a warning that says <redacted>") {
    // Not an error: `config show` must work with a placeholder key.
    dir.Write("config/secrets.local.toml", "[relayer]\nprivate_key = \"0xSECRETSECRET\"\n");
    LoadedConfig loaded = LoadConfig(Options(dir));
    REQUIRE(loaded.warnings.size() == 1);
    CHECK_THAT(loaded.warnings[0], Contains("'relayer.private_key' (set by "));
    CHECK_THAT(loaded.warnings[0], Contains("secrets.local.toml): <redacted> is not 64 hex digits"));
    CHECK_THAT(loaded.warnings[0], !Contains("SECRET"));

    const Env env{"POLYHOST_RELAYER_PRIVATE_KEY=0xALSOSECRET"};
    loaded = LoadConfig(Options(dir, env));
    REQUIRE(loaded.warnings.size() == 1);
    CHECK_THAT(loaded.warnings[0], Contains("(set by env POLYHOST_RELAYER_PRIVATE_KEY): <redacted>"));
    CHECK_THAT(loaded.warnings[0], !Contains("SECRET"));
  }
  SECTION("errors in a file holding a secret do not quote it") {
    dir.Write("config/secrets.local.toml",
              "[relayer]\nprivate_key = \"0xSECRET\"\ntype = \"bogus\"\nprivate_kye = \"0xSECRET\"\n");
    const std::string error = LoadError(Options(dir));
    CHECK_THAT(error, Contains("secrets.local.toml:3: 'relayer.type': \"bogus\" is not one of"));
    CHECK_THAT(error, Contains("secrets.local.toml:4: unknown key 'relayer.private_kye' "
                               "(did you mean 'relayer.private_key'?)"));
    CHECK_THAT(error, !Contains("SECRET"));
  }
  SECTION("syntax errors in the secrets file withhold details") {
    dir.Write("config/secrets.local.toml", "[relayer]\nprivate_key = 0xSECRET\n");
    const std::string error = LoadError(Options(dir));
    CHECK_THAT(error, Contains("secrets.local.toml:2: TOML syntax error"));
    CHECK_THAT(error, !Contains("SECRET"));
  }
  SECTION("a database URL password in an error is masked") {
    ConfigLoadOptions options = Options(dir);
    options.overrides = {{"db.url", "mysql://u:hunter2@h/db"}};
    const std::string error = LoadError(options);
    CHECK_THAT(error, Contains("\"mysql://u:***@h/db\" is not a database URL"));
    CHECK_THAT(error, !Contains("hunter2"));
  }
  SECTION("split overrides do not echo their text") {
    CHECK_THROWS_WITH(SplitOverride("0xSECRET"), !Contains("SECRET"));
    CHECK(SplitOverride(" db.url =sqlite:///a=b.db") == std::pair<std::string, std::string>{"db.url", "sqlite:///a=b.db"});
    CHECK_THROWS_AS(SplitOverride("=x"), ConfigError);
  }
}

TEST_CASE("files holding secrets that others can read produce warnings") {
  TempDir dir;
  const std::string secrets = std::string("[relayer]\nprivate_key = \"") + kKey + "\"\n";
  dir.Write("config/secrets.local.toml", secrets,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  LoadedConfig loaded = LoadConfig(Options(dir));
  REQUIRE(loaded.warnings.size() == 1);
  CHECK_THAT(loaded.warnings[0], Contains("secrets.local.toml holds secrets but is readable by group/others (mode 0644)"));
  CHECK_THAT(loaded.warnings[0], !Contains("4c0883a6"));

  dir.Write("config/secrets.local.toml", secrets);  // 0600
  CHECK(LoadConfig(Options(dir)).warnings.empty());

  // A file without secrets may be world-readable.
  dir.Write("config/secrets.local.toml", "[relayer]\ndry_run = true\n", fs::perms::all);
  CHECK(LoadConfig(Options(dir)).warnings.empty());

  ConfigLoadOptions options = Options(TempDir());
  options.overrides = {{"relayer.private_key", kKey}};
  loaded = LoadConfig(options);
  REQUIRE(loaded.warnings.size() == 1);
  CHECK_THAT(loaded.warnings[0], Contains("relayer.private_key was given on the command line"));
}

TEST_CASE("[plugin.<name>] sections pass through with provenance") {
  TempDir dir;
  const std::string local = (dir.path() / "config/local.toml").lexically_normal().generic_string();
  dir.Write("config/local.toml",
            "[plugin.spread]\nmax_size = 5\nratio = 0.25\nlabel = \"mm\"\nenabled = true\n"
            "assets = [\"a\", \"b\"]\nbot_token = \"tok-SECRET\"\n[plugin.spread.limits]\nmax = 3\n"
            "[plugin.empty]\n");
  const std::string config_file = dir.Write("other.toml", "[plugin.spread]\nlabel = \"override\"\n");
  const Env env{"POLYHOST_PLUGIN_SPREAD_MAX_SIZE=7", "POLYHOST_PLUGIN_NOBODY_X=1"};
  ConfigLoadOptions options = Options(dir, env);
  options.config_file = config_file;
  options.overrides = {{"plugin.spread.ratio", "0.5"}, {"plugin.new_one.flag", "true"}};
  const LoadedConfig loaded = LoadConfig(options);

  const auto& sections = loaded.config.plugin_sections;
  REQUIRE(sections.count("spread") == 1);
  const PluginSection& spread = sections.at("spread");
  CHECK(spread.at("max_size") == PluginSetting{PluginValueType::kInteger, "7"});
  CHECK(spread.at("ratio") == PluginSetting{PluginValueType::kFloat, "0.5"});
  CHECK(spread.at("label") == PluginSetting{PluginValueType::kString, "override"});
  CHECK(spread.at("enabled") == PluginSetting{PluginValueType::kBool, "true"});
  CHECK(spread.at("assets") == PluginSetting{PluginValueType::kArray, "[ \"a\", \"b\" ]"});
  CHECK(spread.at("limits.max") == PluginSetting{PluginValueType::kInteger, "3"});
  CHECK(sections.at("empty").empty());
  CHECK(sections.at("new_one").at("flag") == PluginSetting{PluginValueType::kBool, "true"});

  CHECK(loaded.source_of.at("plugin.spread.max_size") == "env POLYHOST_PLUGIN_SPREAD_MAX_SIZE");
  CHECK(loaded.source_of.at("plugin.spread.ratio") == "command line");
  CHECK(loaded.source_of.at("plugin.spread.label") == config_file);
  CHECK(loaded.source_of.at("plugin.spread.limits.max") == local);
  CHECK(loaded.source_of.at("plugin.new_one.flag") == "command line");

  REQUIRE(loaded.warnings.size() == 1);  // the unmatched variable; bot_token in a 0600 file is fine
  CHECK_THAT(loaded.warnings[0], Contains("env POLYHOST_PLUGIN_NOBODY_X ignored"));

  const std::string text = RenderConfigShow(loaded, false);
  CHECK_THAT(text, Contains("plugin.spread.max_size"));
  CHECK_THAT(text, Contains("env POLYHOST_PLUGIN_SPREAD_MAX_SIZE"));
  CHECK_THAT(text, !Contains("tok-SECRET"));
  const std::string json = RenderConfigShow(loaded, true);
  CHECK_THAT(json, Contains("\"spread\": {"));
  CHECK_THAT(json, Contains("\"max_size\": 7"));
  CHECK_THAT(json, Contains("\"bot_token\": \"***\""));
  CHECK_THAT(json, Contains("\"plugin.spread.limits.max\": " + std::string("\"") + local + "\""));

  SECTION("a plugin override of the wrong type is an error") {
    const Env bad{"POLYHOST_PLUGIN_SPREAD_MAX_SIZE=lots"};
    CHECK_THAT(LoadError(Options(dir, bad)),
               Contains("env POLYHOST_PLUGIN_SPREAD_MAX_SIZE: 'plugin.spread.max_size': \"lots\" is not an integer"));
  }
  SECTION("plugin must hold tables") {
    TempDir bad;
    bad.Write("config/local.toml", "[plugin]\nspread = 1\n");
    CHECK_THAT(LoadError(Options(bad)), Contains("local.toml:2: 'plugin.spread' must be a table"));
  }
}

TEST_CASE("show prints every key with its source") {
  TempDir dir;
  ConfigLoadOptions options = Options(dir);
  options.overrides = {{"thresholds.min_profit_usdc", "0.5"}};
  const LoadedConfig loaded = LoadConfig(options);
  const std::string text = RenderConfigShow(loaded, false);
  for (const ConfigKeySpec& spec : ConfigSchema()) CHECK_THAT(text, Contains(spec.name()));
  CHECK_THAT(text, Contains("thresholds.min_profit_usdc"));
  CHECK_THAT(text, Contains("0.5"));
  CHECK_THAT(text, Contains("command line"));

  const std::string json = RenderConfigShow(loaded, true);
  CHECK_THAT(json, Contains("\"min_profit_usdc\": \"0.5\""));
  CHECK_THAT(json, Contains("\"thresholds.min_profit_usdc\": \"command line\""));
  CHECK_THAT(json, Contains("\"wal\": true"));
  CHECK_THAT(json, Contains("\"buffer_size\": 65536"));
  CHECK_THAT(json, Contains("\"dirs\": [\"build/release/plugins\", \"/usr/local/lib/polyhost/plugins\"]"));
  CHECK_THAT(json, Contains("\"warnings\": []"));
  // Well-formed enough for a TOML parser's JSON subset check: balanced braces.
  CHECK(std::count(json.begin(), json.end(), '{') == std::count(json.begin(), json.end(), '}'));
}


TEST_CASE("markets entries load in order, a later layer replaces the list, secrets override the relayer") {
  TempDir dir;
  dir.Write("config/local.toml",
            "[[markets]]\nmarket_id = \"0xold\"\noutcome_yes_id = \"9\"\n");
  ConfigLoadOptions options = Options(dir);
  options.config_file = dir.Write("etc/service.toml",
                                  "[service]\nplugins = [\"spread\"]\ncatalog_refresh_ms = 0\n"
                                  "[relayer]\ntype = \"fake\"\napi_key = \"\"\n"
                                  "[[markets]]\nmarket_id = \"0xa\"\noutcome_yes_id = \"111\"\noutcome_no_id = \"112\"\n"
                                  "max_messages = 5\n"
                                  "[[markets]]\nmarket_id = \"0xb\"\noutcome_yes_id = \"221\"\n"
                                  "ws_url = \"ws://127.0.0.1:9/ws\"\nsubscribe = false\n");
  dir.Write("etc/secrets.local.toml", "[relayer]\ntype = \"paper\"\napi_key = \"SEKRIT-KEY-123\"\n");
  const LoadedConfig loaded = LoadConfig(options);
  const Config& c = loaded.config;
  REQUIRE(c.markets.size() == 2);
  CHECK(c.markets[0].market_id == "0xa");
  CHECK(c.markets[0].outcome_yes_id == "111");
  CHECK(c.markets[0].outcome_no_id == "112");
  CHECK(c.markets[0].max_messages == 5);
  CHECK(c.markets[0].subscribe);
  CHECK(c.markets[0].ws_url.empty());
  CHECK(c.markets[1].ws_url == "ws://127.0.0.1:9/ws");
  CHECK_FALSE(c.markets[1].subscribe);
  CHECK(c.markets[1].line == 12);
  CHECK(loaded.source_of.at("markets") == options.config_file);
  CHECK(c.service.plugins == std::vector<std::string>{"spread"});
  CHECK(c.service.catalog_refresh_ms == 0);
  // secrets.local.toml beside the --config file wins over it, and is never shown.
  CHECK(c.relayer.type == "paper");
  CHECK(c.relayer.api_key == "SEKRIT-KEY-123");
  CHECK_THAT(loaded.source_of.at("relayer.api_key"), Contains("secrets.local.toml"));
  for (bool json : {false, true}) {
    const std::string shown = RenderConfigShow(loaded, json);
    CHECK_THAT(shown, !Contains("SEKRIT"));
    CHECK_THAT(shown, Contains("0xb"));
  }
}

TEST_CASE("markets entry problems name file, line, entry and key") {
  TempDir dir;
  ConfigLoadOptions options = Options(dir);
  options.config_file = dir.Write("m.toml",
                                  "[[markets]]\nmarket_id = \"0xa\"\noutcome_yes_id = 111\n"
                                  "[[markets]]\nmarket_id = \"0xa\"\noutcome_yes_id = \"1\"\nmax_mesages = 3\n"
                                  "ws_url = \"http://x\"\n"
                                  "[[markets]]\noutcome_yes_id = \"2\"\nsubscribe = \"yes\"\nmax_messages = -1\n");
  const std::string error = LoadError(options);
  CHECK_THAT(error, Contains("m.toml:3: markets[0]: 'outcome_yes_id' must be a string, not an integer"));
  CHECK_THAT(error, Contains("m.toml:1: markets[0]: 'outcome_yes_id' (the YES token id, a string) is required"));
  CHECK_THAT(error, Contains("m.toml:7: markets[1]: unknown key 'max_mesages' (did you mean 'max_messages'?)"));
  CHECK_THAT(error, Contains("m.toml:8: markets[1]: 'ws_url': \"http://x\" is not a ws:// or wss:// URL"));
  CHECK_THAT(error, Contains("m.toml:4: markets[1]: market \"0xa\" is already listed at line 1"));
  CHECK_THAT(error, Contains("m.toml:9: markets[2]: 'market_id' (the condition id) is required"));
  CHECK_THAT(error, Contains("m.toml:11: markets[2]: 'subscribe' must be a boolean"));
  CHECK_THAT(error, Contains("m.toml:12: markets[2]: 'max_messages' must be an integer >= 0"));
  options.config_file = dir.Write("n.toml", "[markets]\nmarket_id = \"0xa\"\n");
  CHECK_THAT(LoadError(options), Contains("n.toml:1: 'markets' must be an array of tables ([[markets]] entries), not a table"));
  options.config_file = dir.Write("g.toml", "[polymarket]\ngamma_url = \"\"\n");
  CHECK(LoadConfig(options).config.polymarket.gamma_url.empty());
}


TEST_CASE("markets entry plugins: an optional list of plugin names, checked with file and line") {
  TempDir dir;
  ConfigLoadOptions options = Options(dir);
  options.config_file = dir.Write("p.toml",
                                  "[[markets]]\nmarket_id = \"0xa\"\noutcome_yes_id = \"1\"\n"
                                  "plugins = [\"spread\", \"dutchbook\"]\n"
                                  "[[markets]]\nmarket_id = \"0xb\"\noutcome_yes_id = \"2\"\n"
                                  "[[markets]]\nmarket_id = \"0xc\"\noutcome_yes_id = \"3\"\nplugins = []\n");
  const LoadedConfig loaded = LoadConfig(options);
  const Config& c = loaded.config;
  REQUIRE(c.markets.size() == 3);
  REQUIRE(c.markets[0].plugins.has_value());
  CHECK(*c.markets[0].plugins == std::vector<std::string>{"spread", "dutchbook"});
  CHECK_FALSE(c.markets[1].plugins.has_value());  // no key: every plugin
  REQUIRE(c.markets[2].plugins.has_value());
  CHECK(c.markets[2].plugins->empty());           // no plugin
  CHECK_THAT(RenderConfigShow(loaded, false), Contains("plugins=[spread,dutchbook]"));
  CHECK_THAT(RenderConfigShow(loaded, true), Contains("\"plugins\": [\"spread\", \"dutchbook\"]"));

  options.config_file = dir.Write("m.toml",
                                  "[[markets]]\nmarket_id = \"0xa\"\noutcome_yes_id = \"1\"\nplugins = \"spread\"\n"
                                  "[[markets]]\nmarket_id = \"0xb\"\noutcome_yes_id = \"2\"\n"
                                  "plugins = [\"spread\", 3, \"\", \"spread\"]\nplugin = [\"x\"]\n");
  const std::string error = LoadError(options);
  CHECK_THAT(error, Contains("m.toml:4: markets[0]: 'plugins' must be an array of plugin names, not a string"));
  CHECK_THAT(error, Contains("m.toml:8: markets[1]: 'plugins'[1] must be a plugin name (a non-empty string), not an integer"));
  CHECK_THAT(error, Contains("m.toml:8: markets[1]: 'plugins'[2] must be a plugin name (a non-empty string), not \"\""));
  CHECK_THAT(error, Contains("m.toml:8: markets[1]: 'plugins'[3]: plugin \"spread\" is listed twice"));
  CHECK_THAT(error, Contains("m.toml:9: markets[1]: unknown key 'plugin' (did you mean 'plugins'?)"));
}


TEST_CASE("config/markets.example.toml is a valid run-service config") {
  TempDir dir;
  ConfigLoadOptions options = Options(dir);
  options.config_file = std::string(POLYHOST_SOURCE_DIR) + "/config/markets.example.toml";
  const Config c = LoadConfig(options).config;
  REQUIRE(c.markets.size() == 3);
  CHECK(c.markets[1].max_messages == 10000);
  CHECK_FALSE(c.markets[2].subscribe);
  CHECK(c.service.plugins == std::vector<std::string>{"spread"});
  CHECK_FALSE(c.markets[0].plugins.has_value());
  REQUIRE(c.markets[1].plugins.has_value());
  CHECK(*c.markets[1].plugins == std::vector<std::string>{"dutchbook"});
}

}  // namespace
}  // namespace polyhost

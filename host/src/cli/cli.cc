#include "cli/cli.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "cli/command.h"
#include "config/config_schema.h"
#include "obs/logging.h"

namespace polyhost {

void AddCommonFlags(CLI::App* cmd, CommonFlags* flags, bool with_db) {
  cmd->add_option("--config", flags->config_file, "TOML file layered over config/default.toml and config/local.toml");
  if (with_db) {
    cmd->add_option("--db-url", flags->db_url,
                    "database URL (sqlite:///./x.db, sqlite:////abs/x.db, sqlite:///:memory:, postgresql://...)");
  }
  cmd->add_option("--log-level", flags->log_level,
                  "trace|debug|info|warn|error|critical|off, optionally with per-module levels: info,store=debug");
  cmd->add_option("--log-format", flags->log_format, "text|json (json: one object per line)");
  cmd->add_option("--log-stream", flags->log_stream, "stderr|stdout: where logs go (default stderr)");
}

namespace {

// Every secret the process may hold, for the log formatter to mask: the config
// keys marked secret, the CLOB API credentials (read from the environment by
// the relayer), a database password and plugin keys named like secrets.
std::vector<std::string> SecretValues(Config config) {
  std::vector<std::string> out;
  for (const ConfigKeySpec& spec : ConfigSchema()) {
    if (!spec.secret) continue;
    ConfigFieldRef ref = spec.field(config);
    if (auto* s = std::get_if<std::string*>(&ref)) out.push_back(**s);
  }
  // Plugin secrets ([plugin.tgbot] token), recognised by name like `config show` does.
  for (const auto& [plugin, section] : config.plugin_sections) {
    for (const auto& [key, setting] : section) {
      if (LooksSecret(key) && !setting.text.empty()) out.push_back(setting.text);
    }
  }
  for (const char* name : {"POLYHOST_CLOB_API_KEY", "POLYHOST_CLOB_API_SECRET", "POLYHOST_CLOB_API_PASSPHRASE"}) {
    if (const char* v = std::getenv(name); v != nullptr && v[0] != '\0') out.emplace_back(v);
  }
  try {
    const DbUrl url = ParseDbUrl(config.db.url);
    if (!url.password.empty()) out.push_back(url.password);
  } catch (const std::invalid_argument&) {
  }
  return out;
}

// --log-level "info,store=debug": the plain level goes to log.level, module=level
// entries to log.modules.
void AddLogLevelOverrides(const std::string& flag, ConfigLoadOptions* options) {
  std::string modules;
  size_t start = 0;
  while (start <= flag.size()) {
    const size_t comma = flag.find(',', start);
    const std::string item = flag.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.find('=') != std::string::npos) {
      if (std::string why = obs::CheckModuleLevel(item); !why.empty()) throw UsageError("--log-level: " + why);
      modules += (modules.empty() ? "" : ",") + item;
    } else if (!item.empty()) {
      options->overrides.emplace_back("log.level", item);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!modules.empty()) options->overrides.emplace_back("log.modules", modules);
}

}  // namespace

LoadedConfig LoadConfigFor(const CommonFlags& flags) {
  ConfigLoadOptions options;
  options.config_file = flags.config_file;
  if (!flags.db_url.empty()) options.overrides.emplace_back("db.url", flags.db_url);
  if (!flags.log_level.empty()) AddLogLevelOverrides(flags.log_level, &options);
  if (!flags.log_format.empty()) options.overrides.emplace_back("log.format", flags.log_format);
  if (!flags.log_stream.empty()) options.overrides.emplace_back("log.stream", flags.log_stream);
  LoadedConfig loaded;
  try {
    loaded = LoadConfig(options);
  } catch (const ConfigError& e) {
    // A bad flag value is a usage error (exit 2); a bad file or variable is not.
    bool all_flags = !e.problems().empty();
    for (const std::string& p : e.problems()) all_flags = all_flags && p.starts_with("command line");
    if (all_flags) throw UsageError(e.what());
    throw;
  }
  obs::LogSettings log;
  log.level = loaded.config.log.level;
  log.format = loaded.config.log.format;
  log.stream = loaded.config.log.stream;
  log.modules = loaded.config.log.modules;
  log.secrets = SecretValues(loaded.config);
  try {
    obs::ConfigureLogging(log);
  } catch (const std::invalid_argument& e) {
    // Level and format were checked by the schema; a bad module entry names its layer.
    auto it = loaded.source_of.find("log.modules");
    const std::string layer = it == loaded.source_of.end() ? "config" : it->second;
    if (layer == "command line") throw UsageError(std::string("--log-level: ") + e.what());
    throw ConfigError({layer + ": " + e.what()});
  }
  for (const std::string& w : loaded.warnings) spdlog::warn("{}", w);
  return loaded;
}

std::unique_ptr<Store> OpenStore(const Config& config, bool read_only) {
  DbUrl url;
  try {
    url = ParseDbUrl(config.db.url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--db-url / [db] url: ") + e.what());
  }
  StoreOptions options;
  options.wal = config.db.wal;
  options.read_only = read_only;
  return Store::Open(url, options);
}

FeedFormat ParseFeedFormatFlag(const std::string& flag) {
  if (flag == "auto") return FeedFormat::kAuto;
  if (flag == "P" || flag == "p") return FeedFormat::kP;
  if (flag == "S" || flag == "s") return FeedFormat::kS;
  throw UsageError("--format must be auto, P or S (got '" + flag + "')");
}

std::string FormatTimestampMs(int64_t ts_ms) {
  if (ts_ms <= 0) return "-";
  std::time_t secs = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ts_ms % 1000));
  return buf;
}

int RunCli(int argc, char** argv) {
  obs::InitLogging();

  CLI::App app{"polyhost: a trading host for Polymarket (replay, books, storage, strategies)", "polyhost"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "polyhost 0.1.0");
  CommandRegistry registry;
  AddReplayCommand(app, registry);
  AddStatusCommands(app, registry);
  AddBookCommand(app, registry);
  AddConfigCommand(app, registry);
  AddMaintenanceCommands(app, registry);
  AddRunCommands(app, registry);
  AddReportCommand(app, registry);
  AddRelayerCommands(app, registry);
  AddDbCommands(app, registry);
  AddMetricsCommands(app, registry);
  AddLiveCommands(app, registry);
  AddMarketsCommands(app, registry);
  AddTgbotCommands(app, registry);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (auto& [cmd, action] : registry.commands) {
      if (cmd->parsed()) return action();
    }
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace polyhost

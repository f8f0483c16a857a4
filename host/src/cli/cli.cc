#include "cli/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>

#include "cli/command.h"

namespace polyhost {

void AddCommonFlags(CLI::App* cmd, CommonFlags* flags, bool with_db) {
  cmd->add_option("--config", flags->config_file, "TOML file layered over config/default.toml and config/local.toml");
  if (with_db) {
    cmd->add_option("--db-url", flags->db_url,
                    "database URL (sqlite:///./x.db, sqlite:////abs/x.db, sqlite:///:memory:, postgresql://...)");
  }
  cmd->add_option("--log-level", flags->log_level, "trace|debug|info|warn|error|off");
}

LoadedConfig LoadConfigFor(const CommonFlags& flags) {
  ConfigLoadOptions options;
  options.config_file = flags.config_file;
  if (!flags.db_url.empty()) options.overrides.emplace_back("db.url", flags.db_url);
  if (!flags.log_level.empty()) options.overrides.emplace_back("log.level", flags.log_level);
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
  spdlog::set_level(spdlog::level::from_str(loaded.config.log.level));
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
  spdlog::set_default_logger(spdlog::stderr_color_st("polyhost"));
  spdlog::set_pattern("%^%l%$: %v");

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

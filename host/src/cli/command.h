// What every subcommand shares: the common flags, config loading, opening the store.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "ingest/feed_parser.h"
#include "store/store.h"

namespace polyhost {

// A usage problem found after parsing (bad combination, bad value): exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Flags every subcommand that touches config or the database takes.
struct CommonFlags {
  std::string config_file;  // --config
  std::string db_url;       // --db-url (overrides [db] url)
  std::string log_level;    // --log-level (LEVEL and/or module=LEVEL, comma-separated)
  std::string log_format;   // --log-format
  std::string log_stream;   // --log-stream
};

// Adds --config and --db-url (when with_db) to a subcommand.
void AddCommonFlags(CLI::App* cmd, CommonFlags* flags, bool with_db = true);

// Loads the layered configuration with the flags as the top layer and logs its warnings.
LoadedConfig LoadConfigFor(const CommonFlags& flags);

// Opens the configured database (read_only: never create or migrate).
std::unique_ptr<Store> OpenStore(const Config& config, bool read_only);

// --format auto|P|S (either case); anything else is a UsageError.
FeedFormat ParseFeedFormatFlag(const std::string& flag);

// "2023-12-29T18:40:01.042Z" (UTC), or "-" for 0.
std::string FormatTimestampMs(int64_t ts_ms);

// Registered subcommands: each adds itself and returns the action to run when chosen.
using CommandAction = std::function<int()>;
struct CommandRegistry {
  std::vector<std::pair<CLI::App*, CommandAction>> commands;
  void Add(CLI::App* cmd, CommandAction action) { commands.emplace_back(cmd, std::move(action)); }
};

void AddReplayCommand(CLI::App& app, CommandRegistry& registry);
void AddStatusCommands(CLI::App& app, CommandRegistry& registry);
void AddBookCommand(CLI::App& app, CommandRegistry& registry);
void AddConfigCommand(CLI::App& app, CommandRegistry& registry);
void AddMaintenanceCommands(CLI::App& app, CommandRegistry& registry);
void AddRunCommands(CLI::App& app, CommandRegistry& registry);
void AddReportCommand(CLI::App& app, CommandRegistry& registry);
void AddRelayerCommands(CLI::App& app, CommandRegistry& registry);
void AddDbCommands(CLI::App& app, CommandRegistry& registry);  // migrate, db copy
void AddMetricsCommands(CLI::App& app, CommandRegistry& registry);
void AddLiveCommands(CLI::App& app, CommandRegistry& registry);  // ingest-ws
void AddMarketsCommands(CLI::App& app, CommandRegistry& registry);  // refresh-markets, markets
void AddTgbotCommands(CLI::App& app, CommandRegistry& registry);  // tgbot-run-local

}  // namespace polyhost

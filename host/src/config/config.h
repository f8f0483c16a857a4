// The host's configuration: layered TOML files, environment variables and
// command-line overrides merged into one typed, validated `Config`.
//
// Layers, later wins (docs/configuration.md):
//   1. default               config/default.toml, compiled into the binary
//   2. config/local.toml     under ConfigLoadOptions::base_dir; optional, git-ignored
//   3. --config FILE         ConfigLoadOptions::config_file; must exist when given
//   4. secrets.local.toml    beside FILE, or config/secrets.local.toml; optional
//   5. POLYHOST_<SECTION>_<KEY> environment variables, parsed by the key's type
//   6. command line          ConfigLoadOptions::overrides ("db.url" -> "...")
//
// Every key is described once, in the schema (config_schema.h); the schema drives
// validation, environment-variable names, "did you mean" suggestions and
// RenderConfigShow. `[plugin.<name>]` sections are passed through unvalidated.
//
// Typical use from the CLI:
//   ConfigLoadOptions options;
//   options.config_file = config_flag;                 // may be empty
//   options.overrides.push_back({"db.url", db_url});   // e.g. from --db-url
//   LoadedConfig loaded = LoadConfig(options);         // throws ConfigError
//   for (const std::string& w : loaded.warnings) spdlog::warn("{}", w);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polyhost {

// [polymarket]: venue endpoints.
struct PolymarketConfig {
  std::string gamma_url;  // market/event catalog REST API
  std::string clob_url;   // order book and order REST API
  std::string ws_url;     // market-channel websocket
};

// [db]: persistence.
struct DbConfig {
  std::string url;  // sqlite:///./relative.db, sqlite:////abs.db, postgresql://...
  bool wal = true;  // SQLite journal_mode=WAL
};

// [ingestion]: market-data pipeline.
struct IngestionConfig {
  int64_t buffer_size = 0;           // queue capacity, in messages
  int64_t stale_after_ms = 0;        // silence after which a book is flagged stale
  int64_t snapshot_interval_ms = 0;  // 0 = no periodic snapshots
  int64_t prune_keep_ms = 0;         // 0 = keep stored events forever
};

// [strategy]: which built-in strategy plugins are enabled.
struct StrategyConfig {
  bool dutchbook = false;
  bool spread = false;
};

// [thresholds]: amounts, exact in micro-units (1e-6 USDC).
struct ThresholdsConfig {
  int64_t min_profit_micros = 0;  // from thresholds.min_profit_usdc
};

// [risk]: the gate every plan passes before a relayer sees it (docs/execution.md).
struct RiskConfig {
  int64_t max_order_notional_micros = 0;   // risk.max_order_notional_usdc
  int64_t max_market_notional_micros = 0;  // risk.max_market_notional_usdc
  int64_t max_total_notional_micros = 0;   // risk.max_total_notional_usdc
  int64_t max_open_orders = 0;
  int64_t duplicate_window_ms = 0;
  std::vector<std::string> kill_switch;    // plugins whose plans are all rejected
};

// [relayer]: order execution.
struct RelayerConfig {
  std::string type;         // "fake", "paper" or "real" (validated)
  bool dry_run = true;      // true: orders are gated and logged, never sent
  std::string private_key;  // secret; empty = not set
  std::string funder;       // proxy-wallet address; empty = the signer's address
  std::string api_key;         // CLOB L2 credentials: secrets
  std::string api_secret;
  std::string api_passphrase;
  int64_t chain_id = 137;
  std::string exchange;           // CTF Exchange V2 (verifying contract)
  std::string neg_risk_exchange;  // Neg Risk CTF Exchange V2
  std::string rate_limits;        // overrides of the client-side limits; empty = the venue's
  int64_t request_timeout_ms = 10000;
  int64_t paper_taker_fee_bps = 0;  // paper relayer: fee rate of taker fills
  int64_t paper_maker_fee_bps = 0;  // paper relayer: fee rate of maker fills
};

// [plugins]: where plugin shared libraries are looked up, in order.
struct PluginsConfig {
  std::vector<std::string> dirs;
  int64_t call_budget_ms = 0;      // a plugin call running longer disables the plugin when it returns; 0 = off
  int64_t call_hard_limit_ms = 0;  // a plugin call running longer ends the process (exit 1); 0 = off
};

// [log]
struct LogConfig {
  std::string level;   // trace|debug|info|warn|error|critical|off (spdlog names)
  std::string format;  // "json" or "text"
  std::string stream;  // "stderr" or "stdout"
  std::vector<std::string> modules;  // per-module levels, "store=debug" (checked by obs::ConfigureLogging)
};

// [service]: `polyhost run-service` (docs/live.md).
struct ServiceConfig {
  std::vector<std::string> plugins;  // plugins every market's books go to; empty = [strategy] switches
  int64_t catalog_refresh_ms = 0;    // Gamma catalog refresh period; 0 (or no gamma_url) = never
};

// One `[[markets]]` entry: a market `polyhost run-service` follows.
struct MarketEntry {
  std::string market_id;       // condition id (required)
  std::string outcome_yes_id;  // YES token id (required)
  std::string outcome_no_id;   // NO token id; empty = from the stored catalog, if there
  std::string ws_url;          // market channel; empty = [polymarket] ws_url
  int64_t max_messages = 0;    // websocket frames for this market, then it is done; 0 = until stopped
  bool subscribe = true;       // false: known, subscribed only when a plugin subscribes to it
  // The plugins (names) that get this market's books; unset = every plugin the
  // service loads. Set on any entry, the service loads them too.
  std::optional<std::vector<std::string>> plugins;
  int line = 0;                // where it was defined, for messages
  friend bool operator==(const MarketEntry&, const MarketEntry&) = default;
};

// One `[plugin.<name>]` value, passed through as text for the plugin to read.
enum class PluginValueType : uint8_t { kString, kInteger, kFloat, kBool, kDateTime, kArray };

struct PluginSetting {
  PluginValueType type = PluginValueType::kString;
  // kString: the string itself; kInteger: decimal digits; kFloat: the shortest
  // text that round-trips ("0.02"), so plugins can ParseDecimal it exactly;
  // kBool: "true"/"false"; kDateTime and kArray: TOML text ("[1, 2]").
  std::string text;
  friend bool operator==(const PluginSetting&, const PluginSetting&) = default;
};

// Keys of one plugin section; nested tables are flattened with dots
// ([plugin.spread.limits] max = 5 -> "limits.max").
using PluginSection = std::map<std::string, PluginSetting>;

struct Config {
  PolymarketConfig polymarket;
  DbConfig db;
  IngestionConfig ingestion;
  StrategyConfig strategy;
  ThresholdsConfig thresholds;
  RiskConfig risk;
  RelayerConfig relayer;
  PluginsConfig plugins;
  LogConfig log;
  ServiceConfig service;
  // [[markets]] entries, in file order; a later layer that has any replaces the list.
  std::vector<MarketEntry> markets;
  std::map<std::string, PluginSection> plugin_sections;  // plugin name -> keys
};

// Any configuration problem. what() is every problem, one per line, each naming
// where it is ("config/local.toml:3: ...", "env POLYHOST_DB_URL: ...",
// "command line: ..."); secret values never appear in it.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct ConfigLoadOptions {
  // --config FILE; empty = none. An error if given and unreadable.
  std::string config_file;
  // Where config/local.toml (and, without --config, config/secrets.local.toml)
  // are looked up.
  std::string base_dir = ".";
  // Command-line overrides, applied last in order: {"db.url", "sqlite:///x.db"},
  // {"relayer.dry_run", "false"}, {"plugin.spread.max_size", "5"}. Values are
  // text, parsed like environment variables.
  std::vector<std::pair<std::string, std::string>> overrides;
  // "NAME=value" strings, null-terminated; nullptr = the process's ::environ.
  // Tests pass their own.
  const char* const* environ = nullptr;
};

struct LoadedConfig {
  Config config;
  // "db.url" -> the layer that set it: "default", "config/local.toml", the
  // --config path, the secrets path, "env POLYHOST_DB_URL" or "command line".
  // Plugin keys appear as "plugin.<name>.<key>".
  std::map<std::string, std::string> source_of;
  // Files that were read, in layer order (the built-in default is not a file).
  std::vector<std::string> files_read;
  // Non-fatal problems for the caller to log, e.g. a secrets file readable by
  // group/others.
  std::vector<std::string> warnings;
};

// Loads and validates every layer. Throws ConfigError listing all problems found.
LoadedConfig LoadConfig(const ConfigLoadOptions& options);

// The built-in defaults alone (no files, environment or overrides); for tests and
// tools that need a valid Config.
Config DefaultConfig();

// Splits "section.key=value" (as given to a --set style flag) at the first '='.
// Throws ConfigError when there is no '=' or the key is empty.
std::pair<std::string, std::string> SplitOverride(std::string_view assignment);

// Whether a key holds a secret by its name: plugin keys are not in the schema,
// so "[plugin.tgbot] token", "api_key", "password", ... are recognised by name,
// redacted by `config show` and masked in logs (cli.cc's SecretValues).
bool LooksSecret(std::string_view dotted_key);

// The merged configuration with, per key, the layer that set it. Secrets show as
// "***" when set and empty when not; passwords inside URLs show as "***".
// json = false: an aligned text table for people; json = true: one JSON object
// {"config": {section: {key: value}}, "source": {"db.url": layer}, "files": [...],
// "warnings": [...]} for scripts (decimals as exact strings, e.g. "0.02").
std::string RenderConfigShow(const LoadedConfig& loaded, bool json);

}  // namespace polyhost

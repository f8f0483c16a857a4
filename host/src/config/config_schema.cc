#include "config/config_schema.h"

#include <array>
#include <cctype>

#include "core/decimal.h"

namespace polyhost {
namespace {

// A captureless lambda pointing at one Config member; &c.member picks the
// ConfigFieldRef alternative, so a member of an unsupported type fails to compile.
#define POLYHOST_CONFIG_FIELD(member) [](Config& c) -> ConfigFieldRef { return &c.member; }

constexpr int64_t kDayMs = 86'400'000;

// Omitted fields take their default member initializers; GCC 12 still warns
// about them in designated initializers (fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

// Keep rows grouped by section and in config/default.toml order: `show` and the
// docs follow it.
const ConfigKeySpec kSchema[] = {
    // [polymarket]
    {.section = "polymarket", .key = "gamma_url", .type = ConfigType::kString,
     .default_text = "https://gamma-api.polymarket.com", .check = ValueCheck::kHttpUrlOrEmpty,
     .help = "Gamma REST API: market and event catalog; empty = none (no catalog refresh in run-service).",
     .field = POLYHOST_CONFIG_FIELD(polymarket.gamma_url)},
    {.section = "polymarket", .key = "clob_url", .type = ConfigType::kString,
     .default_text = "https://clob.polymarket.com", .check = ValueCheck::kHttpUrl,
     .help = "CLOB REST API: book resync and order placement.",
     .field = POLYHOST_CONFIG_FIELD(polymarket.clob_url)},
    {.section = "polymarket", .key = "ws_url", .type = ConfigType::kString,
     .default_text = "wss://ws-subscriptions-clob.polymarket.com/ws/market",
     .check = ValueCheck::kWebSocketUrl, .help = "CLOB market-channel websocket.",
     .field = POLYHOST_CONFIG_FIELD(polymarket.ws_url)},

    // [db]
    {.section = "db", .key = "url", .type = ConfigType::kString,
     .default_text = "sqlite:///./polyhost.db", .check = ValueCheck::kDbUrl,
     .help = "Database URL: sqlite:///./rel.db, sqlite:////abs.db, sqlite:///:memory: "
             "or postgresql://user:pass@host:5432/db.",
     .field = POLYHOST_CONFIG_FIELD(db.url)},
    {.section = "db", .key = "wal", .type = ConfigType::kBool, .default_text = "true",
     .help = "SQLite: use journal_mode=WAL (ignored by PostgreSQL).",
     .field = POLYHOST_CONFIG_FIELD(db.wal)},

    // [ingestion]
    {.section = "ingestion", .key = "buffer_size", .type = ConfigType::kInt,
     .default_text = "65536", .min = 16, .max = 1 << 30,
     .help = "Capacity of the queue between feed readers and the book thread, in messages.",
     .field = POLYHOST_CONFIG_FIELD(ingestion.buffer_size)},
    {.section = "ingestion", .key = "stale_after_ms", .type = ConfigType::kInt,
     .default_text = "30000", .min = 1, .max = kDayMs,
     .help = "A book with no message for this long is flagged stale.",
     .field = POLYHOST_CONFIG_FIELD(ingestion.stale_after_ms)},
    {.section = "ingestion", .key = "snapshot_interval_ms", .type = ConfigType::kInt,
     .default_text = "60000", .min = 0, .max = kDayMs,
     .help = "This often, store a full snapshot of each book changed by at least as many events as it has levels since its last one; 0 disables.",
     .field = POLYHOST_CONFIG_FIELD(ingestion.snapshot_interval_ms)},
    {.section = "ingestion", .key = "prune_keep_ms", .type = ConfigType::kInt,
     .default_text = "86400000", .min = 0, .max = 3650 * kDayMs,
     .help = "Delete stored events older than this; 0 keeps everything.",
     .field = POLYHOST_CONFIG_FIELD(ingestion.prune_keep_ms)},

    // [strategy]
    {.section = "strategy", .key = "dutchbook", .type = ConfigType::kBool,
     .default_text = "true", .help = "Enable the dutchbook plugin (buy every outcome below 1).",
     .field = POLYHOST_CONFIG_FIELD(strategy.dutchbook)},
    {.section = "strategy", .key = "spread", .type = ConfigType::kBool,
     .default_text = "true", .help = "Enable the spread (market-making) plugin.",
     .field = POLYHOST_CONFIG_FIELD(strategy.spread)},

    // [thresholds]
    {.section = "thresholds", .key = "min_profit_usdc", .type = ConfigType::kDecimal,
     .default_text = "0.02", .min = 0, .max = 1000 * kMicrosPerUnit,
     .help = "Smallest expected profit, in USDC, for which a plan is submitted.",
     .field = POLYHOST_CONFIG_FIELD(thresholds.min_profit_micros)},

    // [risk]
    {.section = "risk", .key = "max_order_notional_usdc", .type = ConfigType::kDecimal,
     .default_text = "100", .min = 0, .max = 1'000'000 * kMicrosPerUnit,
     .help = "Largest price x size of one order, in USDC.",
     .field = POLYHOST_CONFIG_FIELD(risk.max_order_notional_micros)},
    {.section = "risk", .key = "max_market_notional_usdc", .type = ConfigType::kDecimal,
     .default_text = "500", .min = 0, .max = 1'000'000 * kMicrosPerUnit,
     .help = "Largest open notional (open orders) in one market, in USDC.",
     .field = POLYHOST_CONFIG_FIELD(risk.max_market_notional_micros)},
    {.section = "risk", .key = "max_total_notional_usdc", .type = ConfigType::kDecimal,
     .default_text = "2000", .min = 0, .max = 10'000'000 * kMicrosPerUnit,
     .help = "Largest open notional over all markets, in USDC.",
     .field = POLYHOST_CONFIG_FIELD(risk.max_total_notional_micros)},
    {.section = "risk", .key = "max_open_orders", .type = ConfigType::kInt,
     .default_text = "50", .min = 0, .max = 100000,
     .help = "Most orders open at once, over all plugins.",
     .field = POLYHOST_CONFIG_FIELD(risk.max_open_orders)},
    {.section = "risk", .key = "duplicate_window_ms", .type = ConfigType::kInt,
     .default_text = "1000", .min = 0, .max = kDayMs,
     .help = "A plan with the same legs as one accepted this recently is dropped (feed time in replays).",
     .field = POLYHOST_CONFIG_FIELD(risk.duplicate_window_ms)},
    {.section = "risk", .key = "kill_switch", .type = ConfigType::kStringList,
     .default_text = "",
     .help = "Plugins whose plans are all rejected (kill_switch), e.g. [\"spread\"].",
     .field = POLYHOST_CONFIG_FIELD(risk.kill_switch)},

    // [relayer]
    {.section = "relayer", .key = "type", .type = ConfigType::kString,
     .default_text = "fake", .choices = "fake|paper|real",
     .help = "fake: fill instantly in memory; paper: simulate fills against live books; "
             "real: sign and send orders to the CLOB.",
     .field = POLYHOST_CONFIG_FIELD(relayer.type)},
    {.section = "relayer", .key = "dry_run", .type = ConfigType::kBool,
     .default_text = "true", .help = "Gate and log orders but never send them.",
     .field = POLYHOST_CONFIG_FIELD(relayer.dry_run)},
    {.section = "relayer", .key = "private_key", .type = ConfigType::kString,
     .default_text = "", .check = ValueCheck::kPrivateKey, .secret = true,
     .help = "Signing key for the real relayer (64 hex digits); keep it in "
             "secrets.local.toml or POLYHOST_RELAYER_PRIVATE_KEY.",
     .field = POLYHOST_CONFIG_FIELD(relayer.private_key)},
    {.section = "relayer", .key = "funder", .type = ConfigType::kString,
     .default_text = "", .check = ValueCheck::kAddress,
     .help = "Proxy-wallet address that holds the funds; empty = the signer's address.",
     .field = POLYHOST_CONFIG_FIELD(relayer.funder)},
    {.section = "relayer", .key = "api_key", .type = ConfigType::kString,
     .default_text = "", .secret = true,
     .help = "CLOB API key (L2 credentials); secrets.local.toml or POLYHOST_RELAYER_API_KEY.",
     .field = POLYHOST_CONFIG_FIELD(relayer.api_key)},
    {.section = "relayer", .key = "api_secret", .type = ConfigType::kString,
     .default_text = "", .secret = true,
     .help = "CLOB API secret (base64, signs the L2 HMAC); secrets.local.toml or POLYHOST_RELAYER_API_SECRET.",
     .field = POLYHOST_CONFIG_FIELD(relayer.api_secret)},
    {.section = "relayer", .key = "api_passphrase", .type = ConfigType::kString,
     .default_text = "", .secret = true,
     .help = "CLOB API passphrase; secrets.local.toml or POLYHOST_RELAYER_API_PASSPHRASE.",
     .field = POLYHOST_CONFIG_FIELD(relayer.api_passphrase)},
    {.section = "relayer", .key = "chain_id", .type = ConfigType::kInt,
     .default_text = "137", .min = 1,
     .help = "Chain id of the exchange's EIP-712 domain (137 = Polygon).",
     .field = POLYHOST_CONFIG_FIELD(relayer.chain_id)},
    {.section = "relayer", .key = "exchange", .type = ConfigType::kString,
     .default_text = "0xE111180000d2663C0091e4f400237545B87B996B", .check = ValueCheck::kAddress,
     .help = "CTF Exchange (V2) contract: verifying contract of regular markets' orders.",
     .field = POLYHOST_CONFIG_FIELD(relayer.exchange)},
    {.section = "relayer", .key = "neg_risk_exchange", .type = ConfigType::kString,
     .default_text = "0xe2222d279d744050d28e00520010520000310F59", .check = ValueCheck::kAddress,
     .help = "Neg Risk CTF Exchange (V2) contract: verifying contract of neg-risk markets' orders.",
     .field = POLYHOST_CONFIG_FIELD(relayer.neg_risk_exchange)},
    {.section = "relayer", .key = "rate_limits", .type = ConfigType::kString,
     .default_text = "",
     .help = "Overrides of the client-side rate limits, e.g. \"POST /order=100/10s\"; empty = the venue's.",
     .field = POLYHOST_CONFIG_FIELD(relayer.rate_limits)},
    {.section = "relayer", .key = "request_timeout_ms", .type = ConfigType::kInt,
     .default_text = "10000", .min = 100, .max = 120000,
     .help = "Timeout of one CLOB HTTP request (connect, TLS, send, receive).",
     .field = POLYHOST_CONFIG_FIELD(relayer.request_timeout_ms)},
    {.section = "relayer", .key = "paper_taker_fee_bps", .type = ConfigType::kInt,
     .default_text = "0", .min = 0, .max = 10000,
     .help = "Paper relayer: fee rate of taker fills, bps (fee = rate x p x (1 - p) x size).",
     .field = POLYHOST_CONFIG_FIELD(relayer.paper_taker_fee_bps)},
    {.section = "relayer", .key = "paper_maker_fee_bps", .type = ConfigType::kInt,
     .default_text = "0", .min = 0, .max = 10000,
     .help = "Paper relayer: fee rate of maker fills, bps.",
     .field = POLYHOST_CONFIG_FIELD(relayer.paper_maker_fee_bps)},

    // [plugins]
    {.section = "plugins", .key = "dirs", .type = ConfigType::kStringList,
     .default_text = "build/release/plugins,/usr/local/lib/polyhost/plugins",
     .help = "Directories searched for plugin libraries, in order; relative paths are "
             "relative to the current directory.",
     .field = POLYHOST_CONFIG_FIELD(plugins.dirs)},
    {.section = "plugins", .key = "call_budget_ms", .type = ConfigType::kInt,
     .default_text = "5000", .min = 0, .max = kDayMs,
     .help = "A plugin call still running after this long is reported, and the plugin is disabled when it "
             "returns (docs/reliability.md); 0 = off.",
     .field = POLYHOST_CONFIG_FIELD(plugins.call_budget_ms)},
    {.section = "plugins", .key = "call_hard_limit_ms", .type = ConfigType::kInt,
     .default_text = "60000", .min = 0, .max = kDayMs,
     .help = "A plugin call still running after this long ends the process with exit code 1 (an in-process "
             "plugin cannot be stopped); 0 = off.",
     .field = POLYHOST_CONFIG_FIELD(plugins.call_hard_limit_ms)},

    // [log]
    {.section = "log", .key = "level", .type = ConfigType::kString, .default_text = "info",
     .choices = "trace|debug|info|warn|error|critical|off",
     .help = "Minimum level logged.", .field = POLYHOST_CONFIG_FIELD(log.level)},
    {.section = "log", .key = "format", .type = ConfigType::kString, .default_text = "text",
     .choices = "json|text", .help = "json: one object per line; text: for people.",
     .field = POLYHOST_CONFIG_FIELD(log.format)},
    {.section = "log", .key = "stream", .type = ConfigType::kString, .default_text = "stderr",
     .choices = "stderr|stdout",
     .help = "Where logs go. stderr keeps stdout for the command's output (tables, --json); stdout "
             "suits a service under a log collector (run-service).",
     .field = POLYHOST_CONFIG_FIELD(log.stream)},
    {.section = "log", .key = "modules", .type = ConfigType::kStringList, .default_text = "",
     .help = "Per-module levels, e.g. [\"store=debug\", \"plugin=warn\"]; modules: cli, config, "
             "ingest, replay, store, run, plugin, exec, catalog, metrics, http.",
     .field = POLYHOST_CONFIG_FIELD(log.modules)},


    // [service]
    {.section = "service", .key = "plugins", .type = ConfigType::kStringList, .default_text = "",
     .help = "run-service: plugins (names or .so paths) that get every market's books; empty = the "
             "[strategy] switches.",
     .field = POLYHOST_CONFIG_FIELD(service.plugins)},
    {.section = "service", .key = "catalog_refresh_ms", .type = ConfigType::kInt,
     .default_text = "3600000", .min = 0, .max = 7 * kDayMs,
     .help = "run-service: refresh the Gamma market catalog this often (first at start); 0 disables, "
             "as does an empty [polymarket] gamma_url.",
     .field = POLYHOST_CONFIG_FIELD(service.catalog_refresh_ms)},
};

#pragma GCC diagnostic pop
#undef POLYHOST_CONFIG_FIELD

constexpr std::array<std::string_view, 10> kSections = {
    "polymarket", "db", "ingestion", "strategy", "thresholds", "risk", "relayer", "plugins", "log", "service"};

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const char* ConfigTypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kBool: return "boolean";
    case ConfigType::kInt: return "integer";
    case ConfigType::kString: return "string";
    case ConfigType::kDecimal: return "decimal";
    case ConfigType::kStringList: return "array of strings";
  }
  return "value";
}

std::string ConfigKeySpec::name() const {
  std::string out(section);
  out += '.';
  out += key;
  return out;
}

std::string ConfigKeySpec::env_name() const {
  return "POLYHOST_" + Upper(section) + "_" + Upper(key);
}

std::span<const ConfigKeySpec> ConfigSchema() { return kSchema; }

std::span<const std::string_view> ConfigSections() { return kSections; }

const ConfigKeySpec* FindConfigKey(std::string_view section, std::string_view key) {
  for (const ConfigKeySpec& spec : kSchema) {
    if (spec.section == section && spec.key == key) return &spec;
  }
  return nullptr;
}

}  // namespace polyhost

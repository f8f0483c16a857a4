// The "polyhost.control/1" host extension (sdk/include/polyhost/abi/control.h)
// over a ControlBackend, which knows how to read and steer one kind of host:
//
//   DbControlBackend   the store (markets, orders, market_status, snapshots):
//                      `polyhost tgbot-run-local`, where no trading loop runs.
//   RunControl         `polyhost run` (run/run_control.h): the session's gate,
//                      relayer and books, on the strategy thread.
//
//   DbControlBackend backend(store, PauseState(path), dry_run);
//   ControlExtension control(backend, log_line);   // must outlive the PluginHost
//   plugin_host.RegisterExtension(PH_EXT_CONTROL, control.table());
//
// Every request a plugin makes (pause, resume, cancel-all) is audited: one log
// line naming the plugin, the request, the reason and the backend's answer.
// Queries are logged at debug level. The C functions find this object through
// the calling plugin's ph_host, like catalog/markets_extension.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "polyhost/abi/control.h"

namespace polyhost {

class Store;
struct AssetStatus;
struct OpenOrderRow;
struct StoredBook;

// A query's answer: PH_OK with the JSON text, or an error code with the JSON
// {"error":"..."} text.
struct ControlAnswer {
  ph_result rc = PH_OK;
  std::string json;
  static ControlAnswer Error(ph_result rc, std::string_view why);
};

// ---- Topic formatters shared by every backend, so that a topic has the same
// fields whoever answers it (docs/plugins/tgbot.md lists them).

// Names for display; a missing entry is shown as null.
struct ControlNames {
  std::map<std::string, std::string, std::less<>> question;  // market -> question
  std::map<std::string, std::string, std::less<>> outcome;   // "market/asset_id" -> outcome name
};
// The "status" answer of both backends, from the ABI status (flags, plugins,
// open orders, plans) and the books' status rows. A running session adds the
// counters only it has (`run`); offline it is null.
struct RunStatusCounters {
  int64_t plans = 0;
  int64_t orders = 0;
  int64_t fills = 0;
  int64_t reconnects = 0;
  int64_t ts_ms = 0;
};
ControlAnswer StatusAnswer(const ph_control_status& status, std::string_view mode,
                           const std::set<std::string>& paused_plugins, const std::vector<AssetStatus>& assets,
                           const RunStatusCounters* run);
ControlAnswer MarketsAnswer(const std::vector<AssetStatus>& assets, const ControlNames& names);
ControlAnswer OrdersAnswer(const std::vector<OpenOrderRow>& orders);
// `outcome` may be empty (unknown name).
ControlAnswer BookAnswer(const StoredBook& book, std::string_view outcome, int64_t depth);

// The "book" topic's arguments; nullopt (and *error set) when they are bad.
struct BookArgs {
  std::string market;
  std::string outcome;  // a name or a token id
  int64_t depth = 5;
};
std::optional<BookArgs> ParseBookArgs(std::string_view args_json, ControlAnswer* error);

// Net position of one plugin in one token, from its fills.
struct ControlPosition {
  std::string plugin;
  std::string market;
  std::string asset_id;
  int64_t size = 0;       // micro-units: bought minus sold
  int64_t avg_price = 0;  // micro-USDC: mean price of the fills on the side that built it; 0 when flat
};
// Cash flow and marks of one plugin.
struct ControlPnl {
  std::string plugin;
  int64_t realised = 0;         // micro-USDC: sells minus buys minus fees
  int64_t fees = 0;
  int64_t inventory_value = 0;  // positions marked at mid (0 where no mid)
  int64_t fills = 0;
};
// Adds one fill to the per-plugin, per-token position and PnL maps (keyed by
// plugin, then "market/asset_id"). Exact: 128-bit products, micro-units.
struct PositionBook {
  struct Entry {
    std::string market;
    std::string asset_id;
    int64_t size = 0;
    int64_t bought = 0, bought_cost = 0;  // tokens and micro-USDC
    int64_t sold = 0, sold_proceeds = 0;
  };
  std::map<std::string, std::map<std::string, Entry>> by_plugin;
  std::map<std::string, ControlPnl> pnl;
  void AddFill(const std::string& plugin, std::string_view market, std::string_view asset_id, bool buy, int64_t price,
               int64_t size, int64_t fee);
  // Marks every position at mid(market, asset_id) (0: unknown, not marked).
  void Mark(const std::function<int64_t(std::string_view, std::string_view)>& mid);
  std::vector<ControlPosition> Positions() const;
};
ControlAnswer PositionsAnswer(const std::vector<ControlPosition>& positions, std::string_view source);
ControlAnswer PnlAnswer(const std::map<std::string, ControlPnl>& pnl, std::string_view source);

// Who asks for an action, for the audit: the calling plugin's instance name and
// the reason it gave.
struct ControlCaller {
  std::string plugin;
  std::string reason;
};

class ControlBackend {
 public:
  virtual ~ControlBackend() = default;
  // Fills every field of *out but struct_size.
  virtual void Status(ph_control_status* out) = 0;
  // topic as in control.h; args_json already checked to be an object or empty.
  virtual ControlAnswer Query(std::string_view topic, std::string_view args_json) = 0;
  // plugin: an instance name, or "*" for every plugin (the host-wide pause).
  virtual ph_result Pause(std::string_view plugin, bool paused, const ControlCaller& caller) = 0;
  virtual ph_result CancelAll(const ControlCaller& caller) = 0;
};

// Where pauses are kept for a database URL: "<file>.control.json" beside a
// SQLite file, so `polyhost run`, `tgbot-run-local` and `tgbot-serve` on that
// database share them; empty (in memory only) for other backends.
std::string DefaultPauseFile(const std::string& db_url);

// Which plugins are paused, kept in a small JSON file so that a pause survives
// a restart ({"all":false,"plugins":["spread"]}). An empty path keeps it in
// memory only. Thread-safe.
class PauseState {
 public:
  explicit PauseState(std::string path = {});  // loads the file when it exists; throws on a bad file
  bool all() const;
  bool IsPaused(std::string_view plugin) const;  // all() or named
  std::set<std::string> plugins() const;
  // Sets and saves; throws std::runtime_error when the file cannot be written.
  void Set(std::string_view plugin, bool paused);  // "*" = all
  const std::string& path() const { return path_; }

 private:
  void Save() const;
  mutable std::mutex mu_;
  std::string path_;
  bool all_ = false;
  std::set<std::string> plugins_;
};

// Answers from the store; pause requests go to a PauseState (the next
// `polyhost run` reads it: see docs/plugins/tgbot.md). Cancel-all is refused
// (PH_ERR_UNSUPPORTED): nothing is trading. Positions and PnL are computed from
// the stored fills (cash flow; no marks offline).
class DbControlBackend final : public ControlBackend {
 public:
  // sqlite_path: the database file, for positions and PnL from the stored fills
  // (empty: those topics are PH_ERR_UNSUPPORTED).
  DbControlBackend(Store& store, PauseState& pause, bool dry_run, std::function<int64_t()> clock,
                   std::string sqlite_path = {});
  void Status(ph_control_status* out) override;
  ControlAnswer Query(std::string_view topic, std::string_view args_json) override;
  ph_result Pause(std::string_view plugin, bool paused, const ControlCaller& caller) override;
  ph_result CancelAll(const ControlCaller& caller) override;

 private:
  ControlAnswer Positions();
  ControlAnswer Pnl();
  ControlAnswer Markets();
  ControlAnswer Book(std::string_view args_json);
  ControlAnswer Orders();
  ControlAnswer Plugins();
  ControlAnswer Metrics();
  std::mutex mu_;  // the store's read connection is used by one thread at a time
  Store& store_;
  PauseState& pause_;
  bool dry_run_;
  std::function<int64_t()> clock_;
  std::string sqlite_path_;
};

class ControlExtension {
 public:
  // log(level, line): level 0 debug, 1 info, 2 warn. Must be thread-safe.
  using AuditLog = std::function<void(int level, const std::string& line)>;
  ControlExtension(ControlBackend& backend, AuditLog log);
  ControlExtension(const ControlExtension&) = delete;
  ControlExtension& operator=(const ControlExtension&) = delete;

  const void* table() const { return &block_.table; }

  struct Block {
    ph_control_ext table;  // first: the table's address is the block's
    uint64_t magic;
    ControlExtension* self;
  };

  // For the C trampolines.
  ControlBackend& backend() { return backend_; }
  void Audit(int level, const std::string& line) const {
    if (log_) log_(level, line);
  }

 private:
  Block block_;
  ControlBackend& backend_;
  AuditLog log_;
};

}  // namespace polyhost

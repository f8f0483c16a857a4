// The "polyhost.control/1" host extension (sdk/include/polyhost/abi/control.h)
// over a ControlBackend, which knows how to read and steer one kind of host:
//
//   DbControlBackend   the store (markets, orders, market_status, snapshots):
//                      `polyhost tgbot-run-local`, where no trading loop runs.
//   (live backend)     the run session's gate and plugin host: not wired yet
//                      (docs/plugins/tgbot.md, "Status").
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
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "polyhost/abi/control.h"

namespace polyhost {

class Store;

// A query's answer: PH_OK with the JSON text, or an error code with the JSON
// {"error":"..."} text.
struct ControlAnswer {
  ph_result rc = PH_OK;
  std::string json;
  static ControlAnswer Error(ph_result rc, std::string_view why);
};

class ControlBackend {
 public:
  virtual ~ControlBackend() = default;
  // Fills every field of *out but struct_size.
  virtual void Status(ph_control_status* out) = 0;
  // topic as in control.h; args_json already checked to be an object or empty.
  virtual ControlAnswer Query(std::string_view topic, std::string_view args_json) = 0;
  // plugin: an instance name, or "*" for every plugin (the host-wide pause).
  virtual ph_result Pause(std::string_view plugin, bool paused) = 0;
  virtual ph_result CancelAll() = 0;
};

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
// (PH_ERR_UNSUPPORTED): nothing is trading. Positions, PnL and metrics that only
// a running host has are PH_ERR_UNSUPPORTED with a reason.
class DbControlBackend final : public ControlBackend {
 public:
  DbControlBackend(Store& store, PauseState& pause, bool dry_run, std::function<int64_t()> clock);
  void Status(ph_control_status* out) override;
  ControlAnswer Query(std::string_view topic, std::string_view args_json) override;
  ph_result Pause(std::string_view plugin, bool paused) override;
  ph_result CancelAll() override;

 private:
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

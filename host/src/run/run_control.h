// `polyhost run`'s side of the "polyhost.control/1" extension: live answers from
// the running session and actions applied by it (docs/plugins/tgbot.md).
//
// Service plugins (tgbot) call the control extension from their own threads,
// but the session's books, orders, gate and relayer belong to the strategy
// thread. So every call becomes a job that the strategy thread runs at its next
// safe point (Service(): after each feed line, every 250 ms on an idle live
// feed, every 50 ms while `run --hold` waits), and the calling thread waits
// for it, up to wait_ms. A call made on the strategy thread itself (from a
// plugin callback) runs at once. Nothing happens per event unless a call is
// waiting: the strategy thread reads one atomic flag per line.
//
//   RunControl control(target, {.wait_ms = 2000});
//   ControlExtension ext(control, audit_log);       // registered with the plugin host
//   ... strategy thread, at safe points: if (control.pending()) control.Service();
//   ... before the plugins are shut down: control.Close();
//
// Thread: Service(), Close() and BindToThisThread() on the strategy thread; the
// ControlBackend functions on any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugin/control_extension.h"
#include "plugin/plugin_host.h"
#include "store/store.h"

namespace polyhost {

// What the session shows about itself (built on the strategy thread, on request).
struct RunControlView {
  int64_t ts_ms = 0;           // the session clock (feed time)
  bool dry_run = true;
  std::string feed;            // "replay" | "ws"
  bool finished = false;       // the feed is done (run --hold)
  std::vector<PluginInfo> plugins;
  std::set<std::string> paused;  // plugins whose plans the kill switch rejects
  bool paused_all = false;     // a host-wide pause ("/pause" without a plugin)
  std::vector<AssetStatus> assets;
  ControlNames names;
  std::vector<OpenOrderRow> orders;  // working orders
  int64_t open_notional = 0;
  int64_t plans = 0;
  int64_t plans_accepted = 0;
  int64_t plans_rejected = 0;
  int64_t orders_total = 0;
  int64_t fills = 0;
  int64_t reconnects = 0;      // websocket reconnects (run --ws); 0 for a replay
  int64_t lines = 0;
  int64_t events = 0;
  int64_t malformed = 0;
  int64_t continuity_breaks = 0;
  PositionBook positions;      // marked at the current mids
};

// The session, as RunControl sees it. Called on the strategy thread only.
class RunControlTarget {
 public:
  virtual ~RunControlTarget() = default;
  virtual RunControlView View() = 0;
  // outcome: a token id or an outcome name; *name gets the outcome's name.
  virtual std::optional<StoredBook> FindBook(const std::string& market, const std::string& outcome,
                                             std::string* name) = 0;
  // plugin: an instance name or "*". Decides, applies and audits.
  virtual ph_result SetPaused(const std::string& plugin, bool paused, const ControlCaller& caller) = 0;
  virtual ph_result CancelAll(const ControlCaller& caller) = 0;
};

struct RunControlOptions {
  int64_t wait_ms = 2000;  // how long a caller waits for the strategy thread
};

class RunControl final : public ControlBackend {
 public:
  RunControl(RunControlTarget& target, RunControlOptions options = {});
  ~RunControl() override;

  // ControlBackend, [any-thread]
  void Status(ph_control_status* out) override;
  ControlAnswer Query(std::string_view topic, std::string_view args_json) override;
  ph_result Pause(std::string_view plugin, bool paused, const ControlCaller& caller) override;
  ph_result CancelAll(const ControlCaller& caller) override;

  // The strategy thread: calls from it run at once.
  void BindToThisThread() { owner_.store(std::this_thread::get_id()); }
  // A job is waiting (cheap: one relaxed load).
  bool pending() const { return pending_.load(std::memory_order_relaxed); }
  // Runs the waiting jobs. Strategy thread.
  void Service();
  // From now on calls fail at once (PH_ERR_WRONG_STATE, "the run is stopping"),
  // and jobs still queued are refused: call it before the plugins are shut down,
  // so a plugin thread that is joined does not wait for a strategy thread that
  // no longer services it.
  void Close();

 private:
  struct Job {
    std::function<void()> work;
    bool done = false;
  };
  // Runs work on the strategy thread; false when closed or not serviced in time.
  bool RunOnOwner(const std::function<void()>& work, std::string* why);

  RunControlTarget& target_;
  RunControlOptions options_;
  std::atomic<std::thread::id> owner_{};
  std::atomic<bool> pending_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> jobs_;
  bool closed_ = false;
};

// The "status" topic from a view (also the fields of ph_control_status).
ControlAnswer RunStatusAnswer(const RunControlView& v);
void FillControlStatus(const RunControlView& v, ph_control_status* out);

}  // namespace polyhost

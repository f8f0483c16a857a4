// Alerts for tgbot: compares successive host status snapshots and says what got
// worse, at most once per kind per cooldown, so a storm does not flood a phone.
// What happened during a cooldown is added up and reported when it ends.
// Pure (alerts_test.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tgbot {

// The counters of the control "status" topic the alerts watch.
struct StatusSnapshot {
  int64_t plugins_failed = 0;  // plugins disabled since start
  int64_t stale_assets = 0;    // books stale now
  int64_t plans_rejected = 0;  // plans the risk gate refused since start
  int64_t reconnects = 0;      // feed reconnects since start (0 when the host has none)
  int64_t fills = 0;           // fills since start (0 when the host has none)
};

class AlertMonitor {
 public:
  // cooldown_ms: least time between two alerts of one kind.
  // storm_reconnects: reconnects within one cooldown that make a "reconnect storm".
  explicit AlertMonitor(int64_t cooldown_ms = 60'000, int64_t storm_reconnects = 3);

  // The alerts this snapshot raises (the first snapshot only sets the baseline).
  std::vector<std::string> Observe(const StatusSnapshot& s, int64_t now_ms);

 private:
  struct Kind {
    int64_t pending = 0;        // increase not reported yet
    int64_t last_sent_ms = -1;  // -1: never
    int64_t window_start_ms = -1;  // reconnects: when the counted ones began
  };
  void Add(const std::string& kind, int64_t delta);
  std::optional<std::string> Due(const std::string& kind, int64_t now_ms);

  int64_t cooldown_ms_;
  int64_t storm_reconnects_;
  std::optional<StatusSnapshot> last_;
  std::map<std::string, Kind> kinds_;
};

}  // namespace tgbot

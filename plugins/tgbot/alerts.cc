#include "alerts.h"

namespace tgbot {

AlertMonitor::AlertMonitor(int64_t cooldown_ms, int64_t storm_reconnects)
    : cooldown_ms_(cooldown_ms), storm_reconnects_(storm_reconnects) {}

void AlertMonitor::Add(const std::string& kind, int64_t delta) {
  if (delta > 0) kinds_[kind].pending += delta;
}

std::optional<std::string> AlertMonitor::Due(const std::string& kind, int64_t now_ms) {
  auto it = kinds_.find(kind);
  if (it == kinds_.end() || it->second.pending == 0) return std::nullopt;
  Kind& k = it->second;
  if (k.last_sent_ms >= 0 && now_ms - k.last_sent_ms < cooldown_ms_) return std::nullopt;
  const int64_t n = k.pending;
  if (kind == "reconnect") {
    if (n < storm_reconnects_) {
      // Not a storm (yet): reconnects count for one cooldown, then are forgotten.
      if (k.window_start_ms < 0) {
        k.window_start_ms = now_ms;
      } else if (now_ms - k.window_start_ms >= cooldown_ms_) {
        k.pending = 0;
        k.window_start_ms = -1;
      }
      return std::nullopt;
    }
    k.window_start_ms = -1;
  }
  k.pending = 0;
  k.last_sent_ms = now_ms;
  const std::string count = std::to_string(n);
  if (kind == "plugin") return "ALERT: " + count + " plugin(s) disabled. /plugins";
  if (kind == "stale") return "ALERT: " + count + " more book(s) stale. /status";
  if (kind == "reject") return "ALERT: risk gate rejected " + count + " plan(s). /status";
  if (kind == "reconnect") return "ALERT: reconnect storm: " + count + " feed reconnects. /status";
  if (kind == "fill") return "Fill: " + count + " new fill(s). /orders";
  return std::nullopt;
}

std::vector<std::string> AlertMonitor::Observe(const StatusSnapshot& s, int64_t now_ms) {
  std::vector<std::string> out;
  if (last_) {
    Add("plugin", s.plugins_failed - last_->plugins_failed);
    Add("stale", s.stale_assets - last_->stale_assets);
    Add("reject", s.plans_rejected - last_->plans_rejected);
    Add("reconnect", s.reconnects - last_->reconnects);
    Add("fill", s.fills - last_->fills);
  }
  last_ = s;
  for (const char* kind : {"plugin", "stale", "reconnect", "reject", "fill"}) {
    if (auto text = Due(kind, now_ms)) out.push_back(std::move(*text));
  }
  return out;
}

}  // namespace tgbot

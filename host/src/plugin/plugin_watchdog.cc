#include "plugin/plugin_watchdog.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace polyhost {

namespace {

// Every live thread's beacon. Threads register on their first plugin call and
// unregister when they end, under the mutex the watchdog samples with.
std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::vector<PluginCallBeacon*>& Registry() {
  static auto* beacons = new std::vector<PluginCallBeacon*>();  // never destroyed: threads may outlive statics
  return *beacons;
}

// Registers the thread's beacon on its first plugin call; unregisters it when
// the thread ends.
struct BeaconHolder {
  BeaconHolder() {
    std::lock_guard lock(RegistryMutex());
    watchdog_detail::t_beacon.overrun = &watchdog_detail::t_overrun;
    Registry().push_back(&watchdog_detail::t_beacon);
    watchdog_detail::t_beacon.registered = true;
  }
  ~BeaconHolder() {
    std::lock_guard lock(RegistryMutex());
    std::erase(Registry(), &watchdog_detail::t_beacon);
    watchdog_detail::t_beacon.registered = false;
  }
};

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

namespace watchdog_detail {

void RegisterThisThread() {
  static thread_local BeaconHolder holder;  // constructed once per thread, here
  (void)holder;
}

}  // namespace watchdog_detail

int64_t TakePluginCallOverrun(const void* slot) {
  PluginCallOverrun& overrun = watchdog_detail::t_overrun;
  uintptr_t expected = reinterpret_cast<uintptr_t>(slot);
  if (!overrun.slot.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) return 0;
  return std::max<int64_t>(overrun.ms.load(std::memory_order_relaxed), 1);
}

std::string PluginWatchdog::HardLimitMessage(const std::string& plugin, int64_t elapsed_ms, int64_t limit_ms) {
  return "polyhost: plugin " + plugin + " has been running one call for " + std::to_string(elapsed_ms) +
         " ms, past the hard limit of " + std::to_string(limit_ms) +
         " ms ([plugins] call_hard_limit_ms). An in-process plugin cannot be stopped, so the host exits now "
         "(exit code 1). Everything committed to the database is intact; fix or disable the plugin and restart "
         "(docs/reliability.md).";
}

PluginWatchdog::PluginWatchdog(PluginWatchdogOptions options) : options_(std::move(options)) {
  if (options_.sample_ms <= 0) {
    int64_t shortest = 0;
    for (int64_t v : {options_.budget_ms, options_.hard_limit_ms}) {
      if (v > 0) shortest = shortest == 0 ? v : std::min(shortest, v);
    }
    options_.sample_ms = std::clamp<int64_t>(shortest / 4, 1, 100);
  }
  if (!options_.describe) options_.describe = [](const void*) { return std::string("(unknown)"); };
  if (!options_.on_hard_limit) {
    const int64_t limit = options_.hard_limit_ms;
    options_.on_hard_limit = [limit](const std::string& plugin, int64_t elapsed_ms) {
      const std::string message = HardLimitMessage(plugin, elapsed_ms, limit);
      std::fprintf(stderr, "%s\n", message.c_str());
      std::fflush(stderr);
      std::_Exit(1);
    };
  }
  if (options_.budget_ms > 0 || options_.hard_limit_ms > 0) thread_ = std::thread([this] { Loop(); });
}

PluginWatchdog::~PluginWatchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PluginWatchdog::Loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(options_.sample_ms), [this] { return stop_; })) {
    lock.unlock();
    Sample(SteadyMs());
    lock.lock();
  }
}

void PluginWatchdog::Sample(int64_t now_ms) {
  struct Action {
    bool hard = false;
    const void* slot = nullptr;
    int64_t elapsed_ms = 0;
  };
  std::vector<Action> actions;
  {
    std::lock_guard lock(RegistryMutex());
    std::map<const PluginCallBeacon*, Seen> next;
    for (PluginCallBeacon* b : Registry()) {
      uint64_t state = b->state.load(std::memory_order_relaxed);
      const void* current = reinterpret_cast<const void*>(state & PluginCallBeacon::kSlotMask);
      auto it = seen_.find(b);
      Seen s = it != seen_.end() ? it->second : Seen{};
      if (current == nullptr) {
        s = Seen{};  // idle
      } else if (it == seen_.end() || s.state != state || (state & PluginCallBeacon::kProbe) == 0) {
        // A call not timed yet (or the thread stored since our probe: another
        // call): probe it and start timing from now. Another watchdog's probe
        // counts as ours; a failed swap means the thread moved on meanwhile.
        const uint64_t probed = state | PluginCallBeacon::kProbe;
        const bool timed = (state & PluginCallBeacon::kProbe) != 0 ||
                           b->state.compare_exchange_strong(state, probed, std::memory_order_relaxed);
        s = timed ? Seen{probed, now_ms, false, false} : Seen{};
      } else {
        const int64_t elapsed = now_ms - s.since_ms;
        if (!s.flagged && options_.budget_ms > 0 && elapsed >= options_.budget_ms) {
          s.flagged = true;
          b->overrun->ms.store(elapsed, std::memory_order_relaxed);
          b->overrun->slot.store(reinterpret_cast<uintptr_t>(current), std::memory_order_release);
          actions.push_back({false, current, elapsed});
        }
        if (!s.ended && options_.hard_limit_ms > 0 && elapsed >= options_.hard_limit_ms) {
          s.ended = true;
          actions.push_back({true, current, elapsed});
        }
      }
      next[b] = s;
    }
    seen_ = std::move(next);  // forgets beacons of threads that ended
  }
  // Outside the registry lock: the handlers may log, or end the process. The
  // slot is still in its call (it was when sampled), so describe() is safe to
  // read its immutable fields.
  for (const Action& a : actions) {
    const std::string plugin = options_.describe(a.slot);
    if (a.hard) {
      options_.on_hard_limit(plugin, a.elapsed_ms);
    } else if (options_.on_overrun) {
      options_.on_overrun(plugin, a.elapsed_ms);
    }
  }
}

}  // namespace polyhost

// The watchdog for plugin calls that run past their time budget.
//
// An in-process plugin cannot be interrupted: its code runs on the host's
// dispatch thread, so a plugin that loops blocks the host. What the host can do:
//   - budget (call_budget_ms): a call still running after it is reported (one
//     warning, from the watchdog thread) and, when it returns, the plugin is
//     disabled with the reason ("on_book ran past its time budget ..."), like a
//     plugin that returned an error: its orders are cancelled, the host and the
//     other plugins go on;
//   - hard limit (call_hard_limit_ms): a call still running after it means the
//     plugin may never return: the watchdog prints why and ends the process with
//     exit code 1. Everything committed to the database is intact (the same
//     guarantee as after kill -9, docs/reliability.md); a restart resumes.
// A plugin that crashes (SIGSEGV, abort) takes the host down with it; run code
// you do not trust in a separate process (docs/reliability.md).
//
// Cost on the dispatch path: each call into a plugin does one relaxed load and
// one relaxed store of its thread's PluginCallBeacon on entry and on exit, plus
// one load of the overrun flag (SavePluginCall, NotePluginCallEnter,
// RestorePluginCall, called by plugin_host.cc's CallScope and book dispatch,
// always inlined). The beacon is also the host's record of which plugin the
// thread is in (PluginCallSlot), so a call writes one thread-local word, not
// two. The beacon uses the local-exec TLS model, so each of these is one
// instruction addressing %fs directly (docs/performance.md). No clock is read and
// nothing is locked; the watchdog thread samples the beacons every sample_ms and
// measures time itself, so its measurements are lower bounds, late by at most
// one sample interval.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace polyhost {

// What one thread is calling now. Written only by its own thread (plain
// relaxed stores), read by the watchdog thread. One word, so entering or
// leaving a call is one store: bits 0..47 the slot being called (user-space
// addresses fit in 47 bits on x86-64 and aarch64), 0 when none; bit 63 the
// watchdog's probe. To time a call, the watchdog sets the probe bit with a
// compare-and-swap; the calling thread's next store (the call returning,
// another call starting) clears it, so "the probe is still set" means "the
// same call is still running" without a call counter to maintain on the hot path.
// (A nested call returning puts back the enclosing call's word as it was, probe
// included: that call is still running.)
static_assert(sizeof(void*) == 8, "PluginCallBeacon packs a pointer into 48 bits");
// Set by the watchdog for a thread whose call overran its budget; read by that
// thread after every call. A thread-local of its own, not a member of the
// beacon: GCC addresses a thread-local atomic through %fs directly only at
// offset 0 of its variable (at any other offset it first materializes the
// variable's address: two more instructions on every call).
struct PluginCallOverrun {
  std::atomic<uintptr_t> slot{0};  // the slot (as an integer) whose call overran; 0 when none
  std::atomic<int64_t> ms{0};      // how long it had run when flagged
};
struct PluginCallBeacon {
  static constexpr uint64_t kSlotMask = (uint64_t{1} << 48) - 1;
  static constexpr uint64_t kProbe = uint64_t{1} << 63;
  std::atomic<uint64_t> state{0};
  PluginCallOverrun* overrun = nullptr;  // the thread's own flag, set when it registers
  bool registered = false;               // known to the watchdogs (first call of the thread)
};

namespace watchdog_detail {
// Constant-initialized, so reaching it is a thread-pointer offset: no guard, no call.
// Local-exec TLS: the host's objects are compiled -fPIC (POSITION_INDEPENDENT_CODE)
// but linked only into executables; with -fPIC's default model GCC calls
// __tls_get_addr (relaxed by the linker to a two-instruction address
// computation, redone after every call). Linking this header's users into a
// shared object fails at link time (R_X86_64_TPOFF32); "initial-exec" would
// then be the model to use (one more register, measured: docs/performance.md).
inline thread_local PluginCallBeacon t_beacon [[gnu::tls_model("local-exec")]];
inline thread_local PluginCallOverrun t_overrun [[gnu::tls_model("local-exec")]];
void RegisterThisThread();
}  // namespace watchdog_detail

// Around every call into a plugin (slot: the host's record of that plugin;
// previous: the slot of the enclosing call on this thread, nullptr when none).
// Both are relaxed stores: the watchdog only needs to see the value eventually,
// and a sample that reads a stale value errs by one sampling interval.
[[gnu::always_inline]] inline void NotePluginCallEnter(const void* slot) noexcept {
  PluginCallBeacon& b = watchdog_detail::t_beacon;
  if (!b.registered) [[unlikely]] watchdog_detail::RegisterThisThread();
  b.state.store(reinterpret_cast<uintptr_t>(slot), std::memory_order_relaxed);
}

// NotePluginCallEnter for a caller that made sure the thread is registered
// (PluginCallThreadRegistered, else RegisterPluginCallThread) before it loaded
// what it needs for the call: a cold call between those loads and the call
// would keep them in callee-saved registers (book dispatch, plugin_host.cc).
[[gnu::always_inline]] inline bool PluginCallThreadRegistered() noexcept {
  return watchdog_detail::t_beacon.registered;
}
inline void RegisterPluginCallThread() { watchdog_detail::RegisterThisThread(); }
[[gnu::always_inline]] inline void NoteRegisteredPluginCallEnter(const void* slot) noexcept {
  watchdog_detail::t_beacon.state.store(reinterpret_cast<uintptr_t>(slot), std::memory_order_relaxed);
}

// Returns true when the watchdog flagged a call on this thread as over its
// budget: then call TakePluginCallOverrun (kept out of line, so this stays small
// enough to inline into the dispatch loop).
[[gnu::always_inline]] inline bool NotePluginCallExit(const void* previous) noexcept {
  PluginCallBeacon& b = watchdog_detail::t_beacon;
  b.state.store(reinterpret_cast<uintptr_t>(previous), std::memory_order_relaxed);
  return watchdog_detail::t_overrun.slot.load(std::memory_order_relaxed) != 0;
}

// The same pair for a caller that saves the word before the call and puts it
// back after: SavePluginCall() is one load; RestorePluginCall(saved) stores it
// as read, probe bit included, and returns what NotePluginCallExit returns.
// Putting the probe back is right: the watchdog probed the enclosing call, which
// is still running, so its timing goes on (saved is 0 outside any call, where
// no probe is ever set).
[[gnu::always_inline]] inline uint64_t SavePluginCall() noexcept {
  return watchdog_detail::t_beacon.state.load(std::memory_order_relaxed);
}
[[gnu::always_inline]] inline bool RestorePluginCall(uint64_t saved) noexcept {
  watchdog_detail::t_beacon.state.store(saved, std::memory_order_relaxed);
  return watchdog_detail::t_overrun.slot.load(std::memory_order_relaxed) != 0;
}

// The slot this thread is calling now (what the last NotePluginCallEnter or
// NotePluginCallExit recorded), nullptr outside any call.
[[gnu::always_inline]] inline const void* PluginCallSlot() noexcept {
  return reinterpret_cast<const void*>(watchdog_detail::t_beacon.state.load(std::memory_order_relaxed) &
                                       PluginCallBeacon::kSlotMask);
}

// When the flag is for `slot`: consumes it and returns how many ms the call had
// run when flagged. Else 0 (the flag stays for its own call).
int64_t TakePluginCallOverrun(const void* slot);

struct PluginWatchdogOptions {
  int64_t budget_ms = 0;      // 0: calls are not flagged
  int64_t hard_limit_ms = 0;  // 0: never ends the process
  int64_t sample_ms = 0;      // 0: min(budget, hard limit) / 4, within [1, 100]
  // The plugin behind a slot, for messages (read from the watchdog thread:
  // must only touch what does not change while the plugin is loaded).
  std::function<std::string(const void* slot)> describe;
  // A call passed the budget (watchdog thread; once per call).
  std::function<void(const std::string& plugin, int64_t elapsed_ms)> on_overrun;
  // A call passed the hard limit (watchdog thread). Default: the message on
  // stderr, then std::_Exit(1). Tests replace it.
  std::function<void(const std::string& plugin, int64_t elapsed_ms)> on_hard_limit;
};

// Watches every thread that calls into plugins (any PluginHost of the process)
// while it exists. With more than one watchdog alive, the strictest budget wins.
class PluginWatchdog {
 public:
  explicit PluginWatchdog(PluginWatchdogOptions options);
  ~PluginWatchdog();  // stops and joins the watchdog thread
  PluginWatchdog(const PluginWatchdog&) = delete;
  PluginWatchdog& operator=(const PluginWatchdog&) = delete;

  const PluginWatchdogOptions& options() const { return options_; }
  // The message the default hard-limit handler prints.
  static std::string HardLimitMessage(const std::string& plugin, int64_t elapsed_ms, int64_t limit_ms);

 private:
  struct Seen {
    uint64_t state = 0;  // PluginCallBeacon::state with our probe set (0: not timing)
    int64_t since_ms = 0;
    bool flagged = false;
    bool ended = false;
  };
  void Loop();
  void Sample(int64_t now_ms);

  PluginWatchdogOptions options_;
  std::map<const PluginCallBeacon*, Seen> seen_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace polyhost

// The plugin watchdog: alone (beacons, budget, hard limit) and inside a
// PluginHost (a plugin looping past its budget is disabled when it returns; the
// other plugins and the host go on).
#include "plugin/plugin_watchdog.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plugin/plugin_host.h"

namespace polyhost {
namespace {

using namespace std::chrono_literals;

struct Events {
  std::mutex mu;
  std::vector<std::string> lines;
  void Add(std::string line) {
    std::lock_guard lock(mu);
    lines.push_back(std::move(line));
  }
  size_t size() {
    std::lock_guard lock(mu);
    return lines.size();
  }
};

// Options whose slots are C strings naming the plugin, every overrun recorded
// as "<plugin> <ms>" in *events.
PluginWatchdogOptions RecordingOptions(Events* events, int64_t budget_ms) {
  PluginWatchdogOptions o;
  o.budget_ms = budget_ms;
  o.describe = [](const void* slot) { return std::string(static_cast<const char*>(slot)); };
  o.on_overrun = [events](const std::string& plugin, int64_t ms) { events->Add(plugin + " " + std::to_string(ms)); };
  return o;
}

TEST_CASE("the watchdog flags a call past its budget and the flag reaches the call's exit") {
  Events events;
  // A budget far above a scheduling stall, so the quick calls below are never flagged.
  PluginWatchdogOptions o = RecordingOptions(&events, 250);
  PluginWatchdog watchdog(o);
  static const char kSlow[] = "slow";
  static const char kQuick[] = "quick";

  // Quick calls are never flagged, however many.
  for (int i = 0; i < 1000; ++i) {
    NotePluginCallEnter(kQuick);
    CHECK_FALSE(NotePluginCallExit(nullptr));
  }
  // A slow call: reported while it runs (waiting for the report rather than a
  // fixed time keeps this robust on a loaded machine), flagged when it returns.
  NotePluginCallEnter(kSlow);
  for (int i = 0; i < 500 && events.size() == 0; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(events.size() == 1);
  REQUIRE(NotePluginCallExit(nullptr));
  CHECK(TakePluginCallOverrun(kQuick) == 0);  // the flag is for the slow plugin's call only
  const int64_t ms = TakePluginCallOverrun(kSlow);
  CHECK(ms >= 250);
  CHECK(events.lines.at(0).starts_with("slow "));
  // The flag is consumed: the next call is clean.
  NotePluginCallEnter(kSlow);
  CHECK_FALSE(NotePluginCallExit(nullptr));
  // An idle thread (no call in progress) is never flagged.
  std::this_thread::sleep_for(120ms);
  CHECK(events.size() == 1);
}

TEST_CASE("the beacon says which plugin the thread is in, nested calls included") {
  static const char kOuter[] = "outer";
  static const char kInner[] = "inner";
  CHECK(PluginCallSlot() == nullptr);
  NotePluginCallEnter(kOuter);
  CHECK(PluginCallSlot() == kOuter);
  NotePluginCallEnter(kInner);
  CHECK(PluginCallSlot() == kInner);
  CHECK_FALSE(NotePluginCallExit(kOuter));
  CHECK(PluginCallSlot() == kOuter);
  CHECK_FALSE(NotePluginCallExit(nullptr));
  CHECK(PluginCallSlot() == nullptr);
}

TEST_CASE("a nested call puts the enclosing call's beacon word back, probe bit included") {
  static const char kOuter[] = "outer";
  static const char kInner[] = "inner";
  std::atomic<uint64_t>& state = watchdog_detail::t_beacon.state;
  CHECK(SavePluginCall() == 0);
  NotePluginCallEnter(kOuter);
  state.fetch_or(PluginCallBeacon::kProbe);  // what the watchdog does to time the outer call
  const uint64_t saved = SavePluginCall();
  CHECK(saved == (reinterpret_cast<uintptr_t>(kOuter) | PluginCallBeacon::kProbe));
  NoteRegisteredPluginCallEnter(kInner);
  CHECK(state.load() == reinterpret_cast<uintptr_t>(kInner));  // a new call clears the probe
  CHECK(PluginCallSlot() == kInner);
  CHECK_FALSE(RestorePluginCall(saved));
  CHECK(state.load() == saved);  // the outer call is still the one being timed
  CHECK(PluginCallSlot() == kOuter);
  CHECK_FALSE(NotePluginCallExit(nullptr));
  CHECK(state.load() == 0);
}

TEST_CASE("an enclosing call is timed from its own start however many nested calls it makes") {
  // A plugin call that keeps making quick nested calls (a host service calling
  // into another plugin, say) still runs past its budget: the nested calls put
  // the outer call's probe back, so the watchdog does not restart its timing.
  Events events;
  PluginWatchdogOptions o = RecordingOptions(&events, 150);
  o.sample_ms = 5;
  PluginWatchdog watchdog(o);
  static const char kOuter[] = "outer";
  static const char kInner[] = "inner";
  NotePluginCallEnter(kOuter);
  const auto start = std::chrono::steady_clock::now();
  while (events.size() == 0 && std::chrono::steady_clock::now() - start < 5s) {
    const uint64_t saved = SavePluginCall();
    NoteRegisteredPluginCallEnter(kInner);
    RestorePluginCall(saved);
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(events.size() == 1);
  CHECK(events.lines.at(0).starts_with("outer "));
  CHECK(NotePluginCallExit(nullptr));
  CHECK(TakePluginCallOverrun(kOuter) >= 150);
}

TEST_CASE("a plugin called back to back is never flagged: each call clears the watchdog's probe") {
  // One plugin in a call nearly all the time (the same slot in every sample):
  // only the probe tells one call from the next.
  Events events;
  PluginWatchdogOptions o = RecordingOptions(&events, 150);
  o.sample_ms = 5;
  PluginWatchdog watchdog(o);
  static const char kBusy[] = "busy";
  const auto end = std::chrono::steady_clock::now() + 500ms;
  while (std::chrono::steady_clock::now() < end) {
    NotePluginCallEnter(kBusy);
    std::this_thread::sleep_for(1ms);  // each call well under the budget
    CHECK_FALSE(NotePluginCallExit(nullptr));
    NotePluginCallEnter(kBusy);  // straight into the next call
    CHECK_FALSE(NotePluginCallExit(nullptr));
  }
  CHECK(events.size() == 0);
}

TEST_CASE("the watchdog's hard limit fires while the call is still running") {
  std::atomic<int> hard{0};
  std::string who;
  PluginWatchdogOptions o;
  o.hard_limit_ms = 40;
  o.describe = [](const void*) { return std::string("'looper'"); };
  o.on_hard_limit = [&](const std::string& plugin, int64_t ms) {
    who = plugin;
    CHECK(ms >= 40);
    ++hard;
  };
  PluginWatchdog watchdog(o);
  static const char kSlot = 0;
  NotePluginCallEnter(&kSlot);
  for (int i = 0; i < 1000 && hard.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(hard.load() == 1);
  CHECK(who == "'looper'");
  CHECK_FALSE(NotePluginCallExit(nullptr));  // no budget: nothing to disable
  const std::string m = PluginWatchdog::HardLimitMessage("'looper'", 31000, 30000);
  CHECK(m.find("'looper'") != std::string::npos);
  CHECK(m.find("call_hard_limit_ms") != std::string::npos);
  CHECK(m.find("exit code 1") != std::string::npos);
}

// ---- inside a PluginHost ----

struct Looper {
  ph_plugin table{};
  const ph_host* host = nullptr;
  // When set, on_book "loops" until it returns true (or 10 s pass).
  std::function<bool()> stuck_until;
  std::chrono::milliseconds book_delay{0};
  int books = 0;
  ph_plugin_descriptor desc{sizeof(ph_plugin_descriptor), 0, "looper", "Looper", "1.0.0", "tests", nullptr};
  ph_plugin_entry entry{};
};
Looper* g_next = nullptr;

Looper& L(const ph_plugin* p) { return *static_cast<Looper*>(p->plugin_data); }

const ph_plugin* LooperCreate(const ph_host* host) {
  Looper& l = *g_next;
  l.host = host;
  l.table.struct_size = sizeof(ph_plugin);
  l.table.desc = &l.desc;
  l.table.plugin_data = &l;
  l.table.init = [](const ph_plugin* p) { return L(p).host->subscribe(L(p).host, "m", "yes"); };
  l.table.destroy = [](const ph_plugin*) {};
  l.table.on_book = [](const ph_plugin* p, const ph_book_view*) -> ph_result {
    Looper& self = L(p);
    ++self.books;
    std::this_thread::sleep_for(self.book_delay);
    if (self.stuck_until) {
      for (int i = 0; i < 2000 && !self.stuck_until(); ++i) std::this_thread::sleep_for(5ms);
    }
    return PH_OK;
  };
  return &l.table;
}

void Load(PluginHost& host, Looper& l, const char* name) {
  g_next = &l;
  l.entry = {sizeof(ph_plugin_entry), POLYHOST_ABI_VERSION_INIT, &l.desc, &LooperCreate};
  REQUIRE(host.LoadEntry(name, &l.entry).ok);
}

TEST_CASE("a plugin looping past its call budget is disabled when it returns; the others go on") {
  Events logs;
  PluginHostOptions options;
  options.call_budget_ms = 250;  // far above a scheduling stall: "good" is never flagged
  options.log = [&](const PluginLogLine& l) {
    logs.Add(std::string(PluginLogLevelName(l.level)) + " " + std::string(l.message));
  };
  PluginHost host(options);
  Looper slow, good;
  Load(host, slow, "slow");
  Load(host, good, "good");
  host.ActivateAll();
  const uint32_t yes = host.InternAsset("m", "yes");
  OrderBook book;
  book.ApplySnapshot(std::vector<Level>{{400000, 1}}, std::vector<Level>{{600000, 1}});

  host.DispatchBook(yes, book, {});  // quick calls: nothing happens
  CHECK(host.ListPlugins()[0].state == PluginState::kActive);

  // Stuck until the watchdog has warned about it.
  slow.stuck_until = [&] {
    std::lock_guard lock(logs.mu);
    for (const std::string& l : logs.lines) {
      if (l.find("has been in one call") != std::string::npos) return true;
    }
    return false;
  };
  host.DispatchBook(yes, book, {});
  const std::vector<PluginInfo> after = host.ListPlugins();
  CHECK(after[0].state == PluginState::kFailed);
  CHECK(after[0].failure.find("ran past its time budget") != std::string::npos);
  CHECK(after[0].failure.find("(in on_book)") != std::string::npos);
  CHECK(after[1].state == PluginState::kActive);
  bool warned = false;
  {
    std::lock_guard lock(logs.mu);
    for (const std::string& l : logs.lines) {
      if (l.find("has been in one call") != std::string::npos && l.find("'slow'") != std::string::npos) warned = true;
    }
  }
  CHECK(warned);

  // The host goes on: the good plugin keeps getting books, the disabled one none.
  const int slow_books = slow.books;
  host.DispatchBook(yes, book, {});
  CHECK(slow.books == slow_books);
  CHECK(good.books == 3);
}

TEST_CASE("without a budget no watchdog runs and slow calls are left alone") {
  PluginHost host(PluginHostOptions{});
  Looper slow;
  Load(host, slow, "slow");
  host.ActivateAll();
  slow.book_delay = 60ms;
  const uint32_t yes = host.InternAsset("m", "yes");
  OrderBook book;
  book.ApplySnapshot(std::vector<Level>{{400000, 1}}, std::vector<Level>{{600000, 1}});
  host.DispatchBook(yes, book, {});
  CHECK(host.ListPlugins()[0].state == PluginState::kActive);
}

}  // namespace
}  // namespace polyhost

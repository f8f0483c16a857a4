#include "run/run_control.h"

#include <boost/json.hpp>

#include <chrono>
#include <stdexcept>

#include "core/decimal.h"

namespace polyhost {

namespace json = boost::json;

RunControl::RunControl(RunControlTarget& target, RunControlOptions options) : target_(target), options_(options) {}

RunControl::~RunControl() { Close(); }

bool RunControl::RunOnOwner(const std::function<void()>& work, std::string* why) {
  if (owner_.load() == std::this_thread::get_id()) {
    // A plugin callback on the strategy thread: the session is between two
    // steps of its own loop, so its state is consistent; waiting would deadlock.
    work();
    return true;
  }
  Job job{work, false};
  std::unique_lock lock(mu_);
  if (closed_) {
    *why = "the run is stopping";
    return false;
  }
  jobs_.push_back(&job);
  pending_.store(true, std::memory_order_relaxed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.wait_ms);
  cv_.wait_until(lock, deadline, [&] { return job.done || closed_; });
  if (job.done) return true;
  // Not started (queued) or refused by Close(): take it back. A job is only
  // removed from the queue by the thread that runs it, under the lock, so if
  // it is no longer queued it is running: wait for it (it references `job`).
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    if (*it == &job) {
      jobs_.erase(it);
      pending_.store(!jobs_.empty(), std::memory_order_relaxed);
      *why = closed_ ? "the run is stopping" : "the run did not answer within " + std::to_string(options_.wait_ms) + " ms";
      return false;
    }
  }
  cv_.wait(lock, [&] { return job.done; });
  return true;
}

void RunControl::Service() {
  for (;;) {
    Job* job = nullptr;
    {
      std::lock_guard lock(mu_);
      if (jobs_.empty() || closed_) {
        pending_.store(false, std::memory_order_relaxed);
        return;
      }
      job = jobs_.front();
      jobs_.pop_front();
    }
    try {
      job->work();
    } catch (...) {
      // The work lambdas catch their own errors; never let one escape into the feed loop.
    }
    {
      std::lock_guard lock(mu_);
      job->done = true;
    }
    cv_.notify_all();
  }
}

void RunControl::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    pending_.store(false, std::memory_order_relaxed);
  }
  cv_.notify_all();
}

void FillControlStatus(const RunControlView& v, ph_control_status* out) {
  out->flags = (v.paused_all ? PH_CONTROL_PAUSED : 0u) | (v.dry_run ? PH_CONTROL_DRY_RUN : 0u);
  for (const AssetStatus& a : v.assets) {
    if (a.stale) out->flags |= PH_CONTROL_STALE;
  }
  out->ts_ms = v.ts_ms;
  out->plugins_active = 0;
  out->plugins_failed = 0;
  for (const PluginInfo& p : v.plugins) {
    if (p.state == PluginState::kActive) ++out->plugins_active;
    if (p.state == PluginState::kFailed) ++out->plugins_failed;
  }
  out->open_orders = static_cast<int64_t>(v.orders.size());
  out->plans_accepted = v.plans_accepted;
  out->plans_rejected = v.plans_rejected;
  out->open_notional = v.open_notional;
}

ControlAnswer RunStatusAnswer(const RunControlView& v) {
  ph_control_status s{};
  FillControlStatus(v, &s);
  const RunStatusCounters run{.plans = v.plans, .orders = v.orders_total, .fills = v.fills,
                              .reconnects = v.reconnects, .ts_ms = v.ts_ms};
  return StatusAnswer(s, v.finished ? "run, feed done" : (v.feed == "ws" ? "run, live" : "run, replay"), v.paused,
                      v.assets, &run);
}

namespace {

ControlAnswer PluginsAnswer(const RunControlView& v) {
  json::array list;
  for (const PluginInfo& p : v.plugins) {
    json::object o;
    o["name"] = p.name;
    o["state"] = p.state == PluginState::kFailed && !p.failure.empty()
                     ? std::string("disabled (") + p.failure + ")"
                     : std::string(PluginStateName(p.state));
    o["paused"] = v.paused.count(p.name) > 0;
    list.emplace_back(std::move(o));
  }
  json::object o;
  o["paused_all"] = v.paused_all;
  o["plugins"] = std::move(list);
  return {PH_OK, json::serialize(o)};
}

ControlAnswer MetricsAnswer(const RunControlView& v) {
  int64_t stale = 0;
  for (const AssetStatus& a : v.assets) stale += a.stale ? 1 : 0;
  json::object m;
  m["lines"] = v.lines;
  m["events"] = v.events;
  m["malformed"] = v.malformed;
  m["continuity_breaks"] = v.continuity_breaks;
  m["assets"] = static_cast<int64_t>(v.assets.size());
  m["stale_assets"] = stale;
  m["plans"] = v.plans;
  m["plans_accepted"] = v.plans_accepted;
  m["plans_rejected"] = v.plans_rejected;
  m["orders"] = v.orders_total;
  m["open_orders"] = static_cast<int64_t>(v.orders.size());
  m["fills"] = v.fills;
  m["reconnects"] = v.reconnects;
  json::object o;
  o["source"] = "run";
  o["metrics"] = std::move(m);
  return {PH_OK, json::serialize(o)};
}

}  // namespace

void RunControl::Status(ph_control_status* out) {
  std::string why;
  RunControlView v;
  if (!RunOnOwner([&] { v = target_.View(); }, &why)) throw std::runtime_error(why);
  FillControlStatus(v, out);
}

ControlAnswer RunControl::Query(std::string_view topic_view, std::string_view args_view) {
  const std::string topic(topic_view);
  ControlAnswer answer = ControlAnswer::Error(PH_ERR_NOT_FOUND, "unknown topic '" + topic + "'");
  if (topic == "book") {
    ControlAnswer error;
    std::optional<BookArgs> args = ParseBookArgs(args_view, &error);
    if (!args) return error;
    std::optional<StoredBook> book;
    std::string name;
    std::string why;
    if (!RunOnOwner([&] { book = target_.FindBook(args->market, args->outcome, &name); }, &why)) {
      return ControlAnswer::Error(PH_ERR_FAILED, why);
    }
    if (!book) {
      return ControlAnswer::Error(PH_ERR_NOT_FOUND,
                                  "no book for market '" + args->market + "' outcome '" + args->outcome + "'");
    }
    return BookAnswer(*book, name, args->depth);
  }
  static const std::set<std::string, std::less<>> kViewTopics = {"status", "markets", "orders", "positions",
                                                                  "pnl",    "plugins", "metrics"};
  if (kViewTopics.count(topic) == 0) return answer;
  RunControlView v;
  std::string why;
  if (!RunOnOwner([&] { v = target_.View(); }, &why)) return ControlAnswer::Error(PH_ERR_FAILED, why);
  // Formatting happens here, on the caller's thread: the strategy thread only copied.
  if (topic == "status") return RunStatusAnswer(v);
  if (topic == "markets") return MarketsAnswer(v.assets, v.names);
  if (topic == "orders") return OrdersAnswer(v.orders);
  if (topic == "positions") return PositionsAnswer(v.positions.Positions(), "run");
  if (topic == "pnl") return PnlAnswer(v.positions.pnl, "run");
  if (topic == "plugins") return PluginsAnswer(v);
  return MetricsAnswer(v);
}

ph_result RunControl::Pause(std::string_view plugin, bool paused, const ControlCaller& caller) {
  ph_result rc = PH_ERR_INTERNAL;
  std::string why;
  const std::string name(plugin);
  if (!RunOnOwner([&] { rc = target_.SetPaused(name, paused, caller); }, &why)) return PH_ERR_WRONG_STATE;
  return rc;
}

ph_result RunControl::CancelAll(const ControlCaller& caller) {
  ph_result rc = PH_ERR_INTERNAL;
  std::string why;
  if (!RunOnOwner([&] { rc = target_.CancelAll(caller); }, &why)) return PH_ERR_WRONG_STATE;
  return rc;
}

}  // namespace polyhost

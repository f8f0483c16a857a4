#include "run/run_control.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

namespace polyhost {
namespace {

// A session stand-in that records on which thread it was asked.
struct FakeTarget final : RunControlTarget {
  std::thread::id asked_on{};
  std::vector<std::string> actions;
  RunControlView View() override {
    asked_on = std::this_thread::get_id();
    RunControlView v;
    v.feed = "replay";
    v.plans = 7;
    v.plans_accepted = 5;
    v.plans_rejected = 2;
    v.fills = 3;
    v.paused = {"spread"};
    AssetStatus a;
    a.market = "m";
    a.asset_id = "yes";
    a.best_bid = 480'000;
    a.best_ask = 520'000;
    a.stale = true;
    v.assets.push_back(a);
    v.orders.push_back(OpenOrderRow{"spread", "m", "yes", Side::kBid, 470'000, 10'000'000, 0, "open"});
    v.open_notional = 4'700'000;
    v.positions.AddFill("spread", "m", "yes", true, 500'000, 10'000'000, 10'000);
    v.positions.Mark([](std::string_view, std::string_view) { return int64_t{600'000}; });
    return v;
  }
  std::optional<StoredBook> FindBook(const std::string&, const std::string&, std::string*) override {
    return std::nullopt;
  }
  ph_result SetPaused(const std::string& plugin, bool paused, const ControlCaller& caller) override {
    asked_on = std::this_thread::get_id();
    actions.push_back((paused ? "pause " : "resume ") + plugin + " by " + caller.plugin);
    return plugin == "ghost" ? PH_ERR_NOT_FOUND : PH_OK;
  }
  ph_result CancelAll(const ControlCaller&) override {
    actions.push_back("cancel-all");
    return PH_OK;
  }
};

// The strategy thread: services the control until told to stop.
struct Owner {
  RunControl& control;
  std::atomic<bool> stop{false};
  std::thread thread;
  std::thread::id id;
  explicit Owner(RunControl& c) : control(c) {
    std::atomic<bool> bound{false};
    thread = std::thread([this, &bound] {
      control.BindToThisThread();
      id = std::this_thread::get_id();
      bound = true;
      while (!stop) {
        if (control.pending()) control.Service();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    while (!bound) std::this_thread::yield();
  }
  ~Owner() {
    stop = true;
    thread.join();
  }
};

TEST_CASE("run control: calls from other threads run on the strategy thread") {
  FakeTarget target;
  RunControl control(target);
  Owner owner(control);
  ControlAnswer a = control.Query("status", "");
  CHECK(target.asked_on == owner.id);
  REQUIRE(a.rc == PH_OK);
  CHECK(a.json.find("\"mode\":\"run, replay\"") != std::string::npos);
  CHECK(a.json.find("\"plans_rejected\":2") != std::string::npos);
  CHECK(a.json.find("\"fills\":3") != std::string::npos);
  CHECK(a.json.find("\"stale_assets\":1") != std::string::npos);
  CHECK(a.json.find("\"open_notional\":\"4.7\"") != std::string::npos);
  CHECK(a.json.find("\"paused_plugins\":[\"spread\"]") != std::string::npos);

  CHECK(control.Query("orders", "").json ==
        R"({"orders":[{"plugin":"spread","market":"m","asset_id":"yes","side":"BUY","price":"0.47","size":"10","filled":"0","status":"open"}]})");
  // 10 bought at 0.50 with 0.01 fee, marked at 0.60: cash -5.01, value 6, total 0.99.
  CHECK(control.Query("pnl", "").json ==
        R"({"source":"run","marked_at":"mid","plugins":[{"plugin":"spread","total":"0.99","realised":"-5.01","fees":"0.01","inventory_value":"6","fills":1}]})");
  CHECK(control.Query("positions", "").json ==
        R"({"source":"run","positions":[{"plugin":"spread","market":"m","asset_id":"yes","size":"10","avg_price":"0.5"}]})");
  CHECK(control.Query("nope", "").rc == PH_ERR_NOT_FOUND);
  CHECK(control.Query("book", R"({"market":"m"})").rc == PH_ERR_INVALID_ARGUMENT);

  CHECK(control.Pause("spread", true, ControlCaller{"tgbot", "why"}) == PH_OK);
  CHECK(target.asked_on == owner.id);
  CHECK(control.Pause("ghost", true, ControlCaller{"tgbot", "why"}) == PH_ERR_NOT_FOUND);
  CHECK(control.CancelAll(ControlCaller{"tgbot", "why"}) == PH_OK);
  CHECK(target.actions == std::vector<std::string>{"pause spread by tgbot", "pause ghost by tgbot", "cancel-all"});
}

TEST_CASE("run control: a call on the strategy thread runs at once") {
  FakeTarget target;
  RunControl control(target);
  control.BindToThisThread();
  CHECK(control.Pause("spread", false, ControlCaller{"dutchbook", ""}) == PH_OK);
  CHECK(target.asked_on == std::this_thread::get_id());
  CHECK_FALSE(control.pending());
}

TEST_CASE("run control: nobody services -> the caller gives up; closed -> refused at once") {
  FakeTarget target;
  RunControl control(target, RunControlOptions{50});
  std::thread([] {}).join();
  ph_result rc = PH_OK;
  ControlAnswer answer;
  std::thread caller([&] {
    rc = control.Pause("spread", true, ControlCaller{"tgbot", ""});
    answer = control.Query("status", "");
  });
  caller.join();
  CHECK(rc == PH_ERR_WRONG_STATE);
  CHECK(answer.rc == PH_ERR_FAILED);
  CHECK(answer.json.find("did not answer within 50 ms") != std::string::npos);
  CHECK(target.actions.empty());  // timed-out jobs never run later
  control.Service();
  CHECK(target.actions.empty());

  control.Close();
  std::thread([&] { answer = control.Query("status", ""); }).join();
  CHECK(answer.json.find("the run is stopping") != std::string::npos);
}

}  // namespace
}  // namespace polyhost

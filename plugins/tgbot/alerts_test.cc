#include "alerts.h"

#include <catch2/catch.hpp>

using tgbot::AlertMonitor;
using tgbot::StatusSnapshot;

TEST_CASE("alerts: the first snapshot is the baseline; increases alert once per cooldown") {
  AlertMonitor m(60'000, 3);
  CHECK(m.Observe({1, 2, 3, 0, 0}, 0).empty());
  auto a = m.Observe({2, 2, 3, 0, 0}, 1000);
  REQUIRE(a.size() == 1);
  CHECK(a[0] == "ALERT: 1 plugin(s) disabled. /plugins");
  // A storm of rejections: one alert, then silence, then the sum.
  a = m.Observe({2, 2, 4, 0, 0}, 2000);
  REQUIRE(a.size() == 1);
  CHECK(a[0] == "ALERT: risk gate rejected 1 plan(s). /status");
  for (int i = 0; i < 50; ++i) CHECK(m.Observe({2, 2, 5 + i, 0, 0}, 3000 + i * 100).empty());
  a = m.Observe({2, 2, 54, 0, 0}, 62'000);
  REQUIRE(a.size() == 1);
  CHECK(a[0] == "ALERT: risk gate rejected 50 plan(s). /status");
}

TEST_CASE("alerts: stale books, fills, and decreases are not alerts") {
  AlertMonitor m(10'000, 3);
  m.Observe({0, 5, 0, 0, 0}, 0);
  CHECK(m.Observe({0, 1, 0, 0, 0}, 1).empty());  // recovered
  auto a = m.Observe({0, 3, 0, 0, 2}, 2);
  REQUIRE(a.size() == 2);
  CHECK(a[0] == "ALERT: 2 more book(s) stale. /status");
  CHECK(a[1] == "Fill: 2 new fill(s). /orders");
}

TEST_CASE("alerts: a few reconnects are no storm; many within a cooldown are") {
  AlertMonitor m(10'000, 3);
  m.Observe({}, 0);
  CHECK(m.Observe({0, 0, 0, 1, 0}, 1000).empty());
  CHECK(m.Observe({0, 0, 0, 1, 0}, 20'000).empty());  // the lone reconnect ages out
  CHECK(m.Observe({0, 0, 0, 2, 0}, 21'000).empty());
  CHECK(m.Observe({0, 0, 0, 3, 0}, 22'000).empty());
  auto a = m.Observe({0, 0, 0, 4, 0}, 23'000);
  REQUIRE(a.size() == 1);
  CHECK(a[0] == "ALERT: reconnect storm: 3 feed reconnects. /status");
}

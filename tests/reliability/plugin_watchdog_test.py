#!/usr/bin/env python3
"""The plugin watchdog end to end (issue 11, docs/reliability.md), with
tests/reliability/plugins/slow_book.c, whose 5th on_book sleeps SLOW_BOOK_MS:

- over its budget ([plugins] call_budget_ms) the plugin is disabled with the
  reason when the call returns; the run finishes (exit 0) and the other plugin
  (dutchbook) sees the whole feed: its results equal a run without slow_book;
- past the hard limit ([plugins] call_hard_limit_ms) the process ends with exit
  code 1 and a message naming the plugin, and the database stays intact.

  plugin_watchdog_test.py POLYHOST SLOW_BOOK_SO over_budget_plugin_is_disabled|hard_limit_ends_the_process"""
import json, os, sys, time

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, integrity_ok, main, run, tmpdir

SO = None


def summary(r):
    return json.loads(r.stdout)


def by_name(s, name):
    return next(p for p in s["plugins"] if p["name"] == name)


def over_budget_plugin_is_disabled(ph):
    sample = os.path.join(ROOT, "recordings", "sample.jsonl")
    base = ["run", "--feed", sample, "--no-db", "--json"]
    alone = summary(run(ph, *base, "--plugins", "dutchbook", check=0))
    # A budget well above any scheduling stall of a loaded CI machine (dutchbook
    # must never be the one disabled), a sleep well above the budget.
    env = {"SLOW_BOOK_MS": "2000", "POLYHOST_PLUGINS_CALL_BUDGET_MS": "300", "POLYHOST_PLUGINS_CALL_HARD_LIMIT_MS": "0"}
    r = run(ph, *base, "--plugins", f"dutchbook,{SO}", env=env, check=0)
    s = summary(r)
    slow = next(p for p in s["plugins"] if p["name"] != "dutchbook")
    assert slow["state"] == "failed", slow
    assert "ran past its time budget" in slow["failure"] and "(in on_book)" in slow["failure"], slow
    assert "past its budget of 300 ms" in r.stderr, r.stderr[-2000:]
    got, want = by_name(s, "dutchbook"), by_name(alone, "dutchbook")
    assert got["state"] == want["state"] and got["plans"] == want["plans"], (got, want)
    assert got["rejects_by_reason"] == want["rejects_by_reason"], (got, want)
    # Under budget nothing happens.
    env["SLOW_BOOK_MS"] = "0"
    s = summary(run(ph, *base, "--plugins", f"dutchbook,{SO}", env=env, check=0))
    assert all(p["failure"] == "" for p in s["plugins"]), s["plugins"]


def hard_limit_ends_the_process(ph):
    d = tmpdir("hard")
    db = f"{d}/h.db"
    sample = os.path.join(ROOT, "recordings", "sample.jsonl")
    env = {"SLOW_BOOK_MS": "600000", "POLYHOST_PLUGINS_CALL_BUDGET_MS": "300",
           "POLYHOST_PLUGINS_CALL_HARD_LIMIT_MS": "1500"}
    t = time.monotonic()
    r = run(ph, "run", "--feed", sample, "--plugins", f"dutchbook,{SO}", "--db-url", f"sqlite:///{db}", env=env,
            timeout=120)
    took = time.monotonic() - t
    assert r.returncode == 1, f"exit {r.returncode}\n{r.stderr[-2000:]}"
    assert "plugin 'slow_book' has been running one call for" in r.stderr, r.stderr[-2000:]
    assert "call_hard_limit_ms" in r.stderr and "cannot be stopped" in r.stderr, r.stderr[-2000:]
    assert took < 60, f"took {took:.1f} s to give up"
    if os.path.exists(db):
        assert integrity_ok(db)
    print(f"hard limit: exit 1 after {took:.1f} s")


if __name__ == "__main__":
    tests = {f.__name__: f for f in (over_budget_plugin_is_disabled, hard_limit_ends_the_process)}
    if len(sys.argv) != 4 or sys.argv[3] not in tests:
        print(f"usage: {sys.argv[0]} POLYHOST SLOW_BOOK_SO TEST ({', '.join(tests)})", file=sys.stderr)
        sys.exit(2)
    SO = os.path.abspath(sys.argv[2])
    sys.argv = [sys.argv[0], sys.argv[1], sys.argv[3]]
    main(tests)

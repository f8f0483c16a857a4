#!/usr/bin/env python3
"""End-to-end test of `polyhost report`.

    report_test.py POLYHOST

Runs the spread plugin with the paper relayer on plugins/spread/testdata/fills.jsonl
into a fresh SQLite database, then checks `polyhost report --json` against the
fills and orders tables (exact micro-unit sums) and that `--html` writes one
self-contained page with its charts and no http(s) references.
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FEED = os.path.join(REPO, "plugins", "spread", "testdata", "fills.jsonl")
SPREAD_CONFIG = os.path.join(REPO, "plugins", "spread", "testdata", "fills.toml")  # the settings for FEED
ONE = 1_000_000


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run(args, cwd, expect_rc=0):
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if p.returncode != expect_rc:
        raise Failure("%s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s" %
                      (" ".join(args), p.returncode, expect_rc, p.stdout[-4000:], p.stderr[-4000:]))
    return p


def main():
    polyhost = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "report.toml")
        with open(cfg, "w") as f, open(SPREAD_CONFIG) as spread:
            f.write('[log]\nlevel = "warn"\nformat = "text"\n\n' + spread.read())
        db_path = os.path.join(tmp, "report.db")
        url = "sqlite:///" + db_path
        p = run([polyhost, "run", "--plugins", "spread", "--feed", FEED, "--config", cfg,
                 "--relayer", "paper", "--db-url", url], tmp)

        db = sqlite3.connect(db_path)
        rows = db.execute(
            "SELECT f.price_micros, f.size_micros, f.fee_micros, o.side, o.outcome_id, o.plugin "
            "FROM fills f JOIN orders o ON o.id = f.order_id ORDER BY f.ts_ms, f.id").fetchall()
        check(len(rows) >= 4, "the feed should produce fills: %d" % len(rows))
        n_orders = db.execute("SELECT COUNT(*) FROM orders WHERE plugin = 'spread'").fetchone()[0]
        names = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, market, asset_id FROM outcomes")}
        status = {r[0]: (r[1], r[2]) for r in db.execute("SELECT outcome_id, best_bid, best_ask FROM market_status")}

        # Expected sums, exactly as docs/paper-trading.md defines them.
        exp = dict(fills=0, buy=0, sell=0, fees=0, cash=0)
        assets = {}
        for price, size, fee, side, oid, plugin in rows:
            check(plugin == "spread", "only spread trades here")
            a = assets.setdefault(oid, dict(inv=0, buy=0, sell=0, fees=0, cash=0, fills=0))
            if side == 0:
                cash = -(-(price * size) // ONE)  # a buy pays the notional rounded up
                a["cash"] -= cash
                a["buy"] += size
                a["inv"] += size
            else:
                a["cash"] += price * size // ONE  # a sell receives it rounded down
                a["sell"] += size
                a["inv"] -= size
            a["fees"] += fee
            a["fills"] += 1

        rep = run([polyhost, "report", "--db-url", url, "--plugin", "spread", "--json", "--config", cfg], tmp)
        data = json.loads(rep.stdout)
        check(len(data["plugins"]) == 1, "one plugin: %s" % rep.stdout)
        r = data["plugins"][0]
        check(r["plugin"] == "spread", "plugin name")
        check(r["orders"] == n_orders, "orders %d vs %d" % (r["orders"], n_orders))
        check(r["fills"] == len(rows), "fills %d vs %d" % (r["fills"], len(rows)))
        check(r["buy_size_micros"] == sum(a["buy"] for a in assets.values()), "buy size")
        check(r["sell_size_micros"] == sum(a["sell"] for a in assets.values()), "sell size")
        check(r["fees_micros"] == sum(a["fees"] for a in assets.values()), "fees")
        check(r["cash_micros"] == sum(a["cash"] for a in assets.values()), "cash")
        check(0.0 <= r["quote_uptime"] <= 1.0 and r["quote_uptime"] > 0, "uptime %s" % r["quote_uptime"])
        check(r["total_pnl_micros"] == r["realised_pnl_micros"] + r["unrealised_pnl_micros"] - r["fees_micros"],
              "total = realised + unrealised - fees")
        # Mark to market two ways: cash + inventory at mid - fees equals realised + unrealised - fees
        # up to one micro of rounding per fill and per asset.
        mtm = 0
        seen = set()
        for a in r["assets"]:
            oid = [k for k, v in names.items() if v == (a["market"], a["asset_id"])][0]
            seen.add(oid)
            e = assets.get(oid, dict(inv=0, buy=0, sell=0, fees=0, cash=0, fills=0))
            check(a["inventory_micros"] == e["inv"], "inventory of %s: %d vs %d" % (oid, a["inventory_micros"], e["inv"]))
            check(a["fills"] == e["fills"] and a["buy_size_micros"] == e["buy"] and a["sell_size_micros"] == e["sell"],
                  "asset fills of %s" % oid)
            check(a["fees_micros"] == e["fees"] and a["cash_micros"] == e["cash"], "asset cash/fees of %s" % oid)
            bb, ba = status.get(oid, (0, 0))
            mid2 = bb + ba if bb > 0 and ba > 0 else 0
            check(a["mid_x2_micros"] == mid2, "mid of %s from market_status" % oid)
            mtm += a["cash_micros"] + (a["inventory_micros"] * mid2) // (2 * ONE)
        check(set(assets) <= seen, "every traded asset is reported")
        mtm -= r["fees_micros"]
        tolerance = len(rows) + len(r["assets"]) + 1
        check(abs(mtm - r["total_pnl_micros"]) <= tolerance,
              "PnL %d vs cash + inventory at mid %d" % (r["total_pnl_micros"], mtm))
        check(r["matched_size_micros"] <= min(r["buy_size_micros"], r["sell_size_micros"]), "paired size")
        adv = r["adverse_selection"]
        check(0 <= adv["fills_measured"] <= len(rows), "adverse selection count")

        # Text output and plugin filter.
        txt = run([polyhost, "report", "--db-url", url, "--config", cfg], tmp)
        check("plugin spread" in txt.stdout and "quote uptime" in txt.stdout, "text report:\n" + txt.stdout)
        none = run([polyhost, "report", "--db-url", url, "--plugin", "nobody", "--json", "--config", cfg], tmp)
        check(json.loads(none.stdout)["plugins"] == [], "unknown plugin: no rows")

        html = os.path.join(tmp, "report.html")
        run([polyhost, "report", "--db-url", url, "--plugin", "spread", "--html", html, "--config", cfg], tmp)
        with open(html) as f:
            page = f.read()
        check(page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>"), "a whole page")
        check(page.count("<svg") >= 3, "three charts at least: %d" % page.count("<svg"))
        for title in ("PnL over time", "Inventory over time", "Quotes vs mid"):
            check(title in page, "chart %s" % title)
        check(re.search(r"https?://", page) is None, "no network references")
        check("<script" not in page and "<link" not in page, "no external scripts or styles")
        check("<polyline" in page, "the charts have lines")

        # Errors: a missing database is a runtime error (1), not a crash.
        run([polyhost, "report", "--db-url", "sqlite:///" + os.path.join(tmp, "nope.db"), "--config", cfg], tmp, 1)
    print("report_test: ok")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print("FAIL:", e)
        sys.exit(1)

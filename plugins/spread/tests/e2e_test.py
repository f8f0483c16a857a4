#!/usr/bin/env python3
"""End-to-end tests of the spread plugin through the real polyhost binary.

    e2e_test.py POLYHOST PLUGIN_DIR TEST

Each test writes a config into a temporary directory, runs `polyhost run` or
`polyhost harness` (paper relayer) on a feed, and checks the canonical records
the harness prints (plans with their legs and decisions, order states, fills)
against the books of the feed, which this script rebuilds itself (format S).

Tests: quotes_placed_inside_bounds run_summary_json pulls_when_book_goes_stale
pulls_when_book_crosses pulls_when_book_goes_silent pulls_before_market_close
caps_hold_under_fills bad_config_is_refused golden_harness
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
SPREAD = os.path.dirname(HERE)
TESTDATA = os.path.join(SPREAD, "testdata")
REPO = os.path.dirname(os.path.dirname(SPREAD))
SAMPLE = os.path.join(REPO, "recordings", "sample.jsonl")
ONE = 1_000_000
TICK = 10_000


def micros(text):
    return int(Decimal(text) * ONE)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---- running polyhost -------------------------------------------------------------------

def write_config(tmp, plugin_dir, spread_toml, log_level="warn"):
    path = os.path.join(tmp, "test.toml")
    with open(path, "w") as f:
        f.write('[plugins]\ndirs = ["%s"]\n\n[log]\nlevel = "%s"\nformat = "text"\n\n' % (plugin_dir, log_level))
        f.write("[plugin.spread]\n" + spread_toml.strip() + "\n")
    return path


def testdata_spread_section(name):
    """What follows [plugin.spread] in testdata/NAME (write_config adds the header back)."""
    with open(os.path.join(TESTDATA, name)) as f:
        return f.read().split("[plugin.spread]", 1)[1]


def run(args, tmp, expect_rc=0):
    p = subprocess.run(args, cwd=tmp, capture_output=True, text=True, timeout=120)
    if expect_rc is not None and p.returncode != expect_rc:
        raise Failure("%s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s" %
                      (" ".join(args), p.returncode, expect_rc, p.stdout[-4000:], p.stderr[-4000:]))
    return p


def harness(polyhost, plugin_dir, feed, spread_toml, catalog=None, log_level="warn"):
    """Runs the harness and returns (records, stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = write_config(tmp, plugin_dir, spread_toml, log_level)
        out = os.path.join(tmp, "out.jsonl")
        args = [polyhost, "harness", "--plugin", "spread", "--feed", feed, "--config", cfg, "--out", out]
        if catalog:
            args += ["--catalog", catalog]
        p = run(args, tmp)
        with open(out) as f:
            records = [json.loads(line) for line in f if line.strip()]
        check("disabled" not in p.stderr, "the plugin was disabled:\n" + p.stderr)
        return records, p.stderr


# ---- the books of a format S feed ------------------------------------------------------------

class Book:
    def __init__(self):
        self.bids, self.asks, self.stale, self.seq = {}, {}, False, 0

    def best_bid(self):
        return max(self.bids) if self.bids else 0

    def best_ask(self):
        return min(self.asks) if self.asks else 0


def books_by_time(feed):
    """{ts_ms: {(market, asset): Book snapshot}} after each line (ts are increasing)."""
    books, states = {}, {}
    with open(feed) as f:
        for line in f:
            ev = json.loads(line)
            key = (ev["market"], ev["asset_id"])
            b = books.setdefault(key, Book())
            if ev["type"] == "snapshot":
                b.bids = {micros(p): micros(s) for p, s in ev["bids"]}
                b.asks = {micros(p): micros(s) for p, s in ev["asks"]}
                b.stale, b.seq = False, ev["seq"]
            else:
                if b.stale or ev["seq"] != b.seq + 1:
                    b.stale = True  # a gap: ignored until the next snapshot
                else:
                    b.seq = ev["seq"]
                    side = b.bids if ev["side"] == "bid" else b.asks
                    price, size = micros(ev["price"]), micros(ev["size"])
                    if size == 0:
                        side.pop(price, None)
                    else:
                        side[price] = size
            snap = {}
            for k, v in books.items():
                c = Book()
                c.bids, c.asks, c.stale, c.seq = dict(v.bids), dict(v.asks), v.stale, v.seq
                snap[k] = c
            states[ev["ts_ms"]] = snap
    return states


# ---- replaying the records: open orders, positions, worst cases ---------------------------------

class Ledger:
    """Follows plans, orders and fills of the records, like the plugin's own books."""

    def __init__(self):
        self.orders = {}   # plan_id -> dict(market, asset, side, price, remaining, state)
        self.pos = {}      # (market, asset) -> tokens
        self.net = {}      # (market, asset) -> USDC paid
        self.fills = 0

    def apply(self, r):
        t = r["type"]
        if t == "plan":
            if r["decision"] == "accepted":
                leg = r["legs"][0]
                check(len(r["legs"]) == 1, "one leg per plan: %s" % r)
                self.orders[r["plan_id"]] = dict(market=leg["market"], asset=leg["asset_id"], side=leg["side"],
                                                 price=micros(leg["price"]), remaining=micros(leg["size"]),
                                                 tag=r["tag"], ts=r["ts_ms"])
        elif t == "fill":
            o = self.orders[r["plan_id"]]
            key = (o["market"], o["asset"])
            size, price = micros(r["size"]), micros(r["price"])
            sign = 1 if o["side"] == "BUY" else -1
            self.pos[key] = self.pos.get(key, 0) + sign * size
            cost = -(-price * size // ONE) if sign > 0 else -(price * size // ONE)
            self.net[key] = self.net.get(key, 0) + cost + micros(r["fee"])
            o["remaining"] = max(0, o["remaining"] - size)
            self.fills += 1
        elif t == "order":
            o = self.orders.get(r["plan_id"])
            if o is None:
                return
            o["remaining"] = min(o["remaining"], micros(r["remaining"]))
            if r["state"] in ("filled", "cancelled", "rejected"):
                del self.orders[r["plan_id"]]

    def worst_position(self, market, yes, no):
        """(long, short) of yes − no if every open order that makes it worse fills."""
        eff = self.pos.get((market, yes), 0) - self.pos.get((market, no), 0)
        long_, short = eff, -eff
        for o in self.orders.values():
            if o["market"] != market:
                continue
            buy = o["side"] == "BUY"
            if o["asset"] == yes:
                if buy:
                    long_ += o["remaining"]
                else:
                    short += o["remaining"]
            elif o["asset"] == no:
                if buy:
                    short += o["remaining"]
                else:
                    long_ += o["remaining"]
        return long_, short

    def exposure(self, market, yes, no):
        """The worst loss at resolution of a binary market {yes, no}, every open order
        counted when it makes that outcome worse (the plugin's own definition)."""
        worst = 0
        for winner in (yes, no):
            loss = 0
            for a in (yes, no):
                loss += self.net.get((market, a), 0) - (self.pos.get((market, a), 0) if a == winner else 0)
            for o in self.orders.values():
                if o["market"] != market:
                    continue
                rem, p = o["remaining"], o["price"]
                wins = o["asset"] == winner
                if o["side"] == "BUY":
                    c = -(-p * rem // ONE) - (rem if wins else 0)
                else:
                    c = (rem if wins else 0) - p * rem // ONE
                loss += max(0, c)
            worst = max(worst, loss)
        return worst


def check_legs_against_books(records, states):
    """Every leg on the tick grid, inside [tick, 1 − tick], not crossing its book."""
    n = 0
    for r in records:
        if r["type"] != "plan":
            continue
        books = states[r["ts_ms"]]
        for leg in r["legs"]:
            price = micros(leg["price"])
            check(TICK <= price <= ONE - TICK, "price outside [0.01, 0.99]: %s" % r)
            check(price % TICK == 0, "price off the tick grid: %s" % r)
            check(leg["tif"] == "GTC", "quotes rest (GTC): %s" % r)
            b = books[(leg["market"], leg["asset_id"])]
            check(not b.stale, "quoted on a stale book: %s" % r)
            if leg["side"] == "BUY" and b.best_ask():
                check(price < b.best_ask(), "buy %s crosses the ask %s: %s" % (price, b.best_ask(), r))
            if leg["side"] == "SELL" and b.best_bid():
                check(price > b.best_bid(), "sell %s crosses the bid %s: %s" % (price, b.best_bid(), r))
            n += 1
    return n


def open_orders_at(records, ts):
    """Plan ids open right after every record with ts_ms <= ts was applied."""
    led = Ledger()
    for r in records:
        if r["ts_ms"] > ts:
            break
        led.apply(r)
    return set(led.orders)


def check_pull(records, pull_ts, heal_ts, market):
    """Every order open before pull_ts is cancelled at pull_ts, nothing is quoted on
    `market` until heal_ts, and quotes are back at or after heal_ts."""
    before = open_orders_at(records, pull_ts - 1)
    check(before, "no quotes were resting before %d" % pull_ts)
    cancelled = {r["plan_id"] for r in records
                 if r["type"] == "order" and r["state"] == "cancelled" and r["ts_ms"] == pull_ts}
    check(before <= cancelled, "orders %s were not cancelled at %d" % (sorted(before - cancelled), pull_ts))
    during = [r for r in records if r["type"] == "plan" and pull_ts <= r["ts_ms"] < heal_ts
              and any(l["market"] == market for l in r["legs"])]
    check(not during, "quoted while pulled: %s" % during[:1])
    after = [r for r in records if r["type"] == "plan" and r["ts_ms"] >= heal_ts and r["decision"] == "accepted"]
    check(after, "quotes did not come back after %d" % heal_ts)


# ---- the tests ------------------------------------------------------------------------------

MK = """
assets = ["mk/yes"]
[plugin.spread.complement]
"mk/yes" = "no"
"""


def t_quotes_placed_inside_bounds(polyhost, plugin_dir):
    cfg = """
assets = ["mkt-1/yes", "mkt-2/yes"]
levels = 2
size_increment = 5
"""
    records, _ = harness(polyhost, plugin_dir, SAMPLE, cfg)
    plans = [r for r in records if r["type"] == "plan"]
    check(len(plans) >= 8, "expected quotes on the sample, got %d plans" % len(plans))
    check(all(r["decision"] == "accepted" for r in plans),
          "rejected plans: %s" % [r for r in plans if r["decision"] != "accepted"][:2])
    tags = {r["tag"].split(":")[2] for r in plans}
    check({"bid0", "bid1", "askc0", "askc1"} <= tags, "both sides and both levels quoted: %s" % sorted(tags))
    check({r["legs"][0]["market"] for r in plans} == {"mkt-1", "mkt-2"}, "both markets quoted")
    n = check_legs_against_books(records, books_by_time(SAMPLE))
    # Level 1 sits one tick further out than level 0, with 5 more tokens.
    for r in plans:
        leg, tag = r["legs"][0], r["tag"]
        want = 10 if tag.endswith("0") else 15
        if "bidc" not in tag:  # sells of held tokens are limited by what is held
            check(micros(leg["size"]) <= want * ONE, "size of %s: %s" % (tag, leg["size"]))
    print("ok: %d legs on the grid, inside [0.01, 0.99], never crossing" % n)


def t_run_summary_json(polyhost, plugin_dir):
    with tempfile.TemporaryDirectory() as tmp:
        cfg = write_config(tmp, plugin_dir, 'assets = ["mkt-1/yes", "mkt-2/yes"]')
        p = run([polyhost, "run", "--plugins", "spread", "--feed", SAMPLE, "--relayer", "paper", "--no-db", "--json",
                 "--config", cfg], tmp)
        s = json.loads(p.stdout.strip().splitlines()[-1])
        check(s["lines"] == 31 and s["malformed"] == 0, "sample read: %s" % s)
        (pl,) = s["plugins"]
        check(pl["name"] == "spread" and pl["failure"] == "", "plugin ran cleanly: %s" % pl)
        check(pl["plans"] > 0 and pl["orders"] > 0, "quotes were placed: %s" % pl)
        check(pl["rejected"] == 0, "nothing rejected by the risk gate: %s" % pl)
        print("ok:", json.dumps(pl))


def t_pulls_when_book_goes_stale(polyhost, plugin_dir):
    feed = os.path.join(TESTDATA, "stale.jsonl")
    records, err = harness(polyhost, plugin_dir, feed, MK)
    check_legs_against_books(records, books_by_time(feed))
    check_pull(records, 1763000003000, 1763000005000, "mk")
    check("book is stale" in err, "the pull is logged:\n" + err)
    print("ok: pulled at the gap, back after the snapshot")


def t_pulls_when_book_crosses(polyhost, plugin_dir):
    feed = os.path.join(TESTDATA, "crossed.jsonl")
    records, err = harness(polyhost, plugin_dir, feed, MK)
    check_legs_against_books(records, books_by_time(feed))
    check_pull(records, 1763000002000, 1763000003500, "mk")
    check("book is crossed" in err, "the pull is logged:\n" + err)
    print("ok: pulled while crossed")


def t_pulls_when_book_goes_silent(polyhost, plugin_dir):
    feed = os.path.join(TESTDATA, "silent.jsonl")
    records, err = harness(polyhost, plugin_dir, feed, """
assets = ["mk/yes"]
max_book_age_ms = 2000
[plugin.spread.complement]
"mk/yes" = "no"
""")
    check_legs_against_books(records, books_by_time(feed))
    # mk/yes last changed at ...1200; the first timer more than 2 s later runs at the ...3700 line.
    check_pull(records, 1763000003700, 1763000004700, "mk")
    check("no book update for" in err, "the pull is logged:\n" + err)
    print("ok: pulled when the book went silent")


def t_pulls_before_market_close(polyhost, plugin_dir):
    # The catalog says mk ends at CLOSE_TS + 1 h; with the default pull_before_close_ms
    # (1 h) every quote is cancelled at the CLOSE_TS line and none is placed after.
    close_ts = 1763000004000
    end = datetime.datetime.fromtimestamp(close_ts / 1000 + 3600, datetime.timezone.utc)
    end_iso = end.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (close_ts % 1000)
    lines = [
        {"type": "snapshot", "market": "mk", "asset_id": "yes", "seq": 1, "ts_ms": 1763000001000,
         "bids": [["0.48", "100"], ["0.47", "200"]], "asks": [["0.52", "100"], ["0.53", "200"]]},
        {"type": "snapshot", "market": "mk", "asset_id": "no", "seq": 1, "ts_ms": 1763000001100,
         "bids": [["0.48", "100"], ["0.47", "200"]], "asks": [["0.52", "100"], ["0.53", "200"]]},
        {"type": "delta", "market": "mk", "asset_id": "yes", "seq": 2, "ts_ms": 1763000001200,
         "side": "bid", "price": "0.49", "size": "50"},
        {"type": "delta", "market": "mk", "asset_id": "yes", "seq": 3, "ts_ms": 1763000002500,
         "side": "ask", "price": "0.51", "size": "50"},
        {"type": "delta", "market": "mk", "asset_id": "no", "seq": 2, "ts_ms": 1763000003000,
         "side": "bid", "price": "0.49", "size": "50"},
        {"type": "delta", "market": "mk", "asset_id": "yes", "seq": 4, "ts_ms": close_ts,
         "side": "bid", "price": "0.5", "size": "10"},
        {"type": "delta", "market": "mk", "asset_id": "yes", "seq": 5, "ts_ms": 1763000005000,
         "side": "ask", "price": "0.52", "size": "20"},
        {"type": "snapshot", "market": "mk", "asset_id": "yes", "seq": 6, "ts_ms": 1763000006000,
         "bids": [["0.45", "100"]], "asks": [["0.55", "100"]]},
        {"type": "delta", "market": "mk", "asset_id": "no", "seq": 3, "ts_ms": 1763000007000,
         "side": "ask", "price": "0.51", "size": "50"},
    ]
    catalog = [{"conditionId": "mk", "question": "closing soon?", "clobTokenIds": "[\"yes\", \"no\"]",
                "outcomes": "[\"Yes\", \"No\"]", "orderPriceMinTickSize": "0.01", "orderMinSize": 5,
                "active": True, "closed": False, "endDate": end_iso}]
    with tempfile.TemporaryDirectory() as data:
        feed, cat = os.path.join(data, "closing.jsonl"), os.path.join(data, "closing.catalog.json")
        with open(feed, "w") as f:
            f.write("".join(json.dumps(l) + "\n" for l in lines))
        with open(cat, "w") as f:
            json.dump(catalog, f)
        records, err = harness(polyhost, plugin_dir, feed, 'assets = ["mk/yes"]', catalog=cat, log_level="info")
        check_legs_against_books(records, books_by_time(feed))
        before = open_orders_at(records, close_ts - 1)
        check(before, "no quotes were resting before %d" % close_ts)
        check(any(l["asset_id"] == "no" for r in records if r["type"] == "plan" for l in r["legs"]),
              "the catalog's complement was used")
        cancelled = {r["plan_id"] for r in records
                     if r["type"] == "order" and r["state"] == "cancelled" and r["ts_ms"] == close_ts}
        check(before <= cancelled, "orders %s were not cancelled at %d" % (sorted(before - cancelled), close_ts))
        early = [r for r in records if r["type"] == "order" and r["state"] == "cancelled" and r["ts_ms"] < close_ts
                 and r["plan_id"] in before]
        check(not early, "cancelled before the close window: %s" % early[:1])
        after = [r for r in records if r["type"] == "plan" and r["ts_ms"] >= close_ts]
        check(not after, "quoted after the pull: %s" % after[:1])
        check(not open_orders_at(records, 1763000007000), "orders left open at the end")
        pulled = [l for l in err.splitlines() if "quoting no more" in l]
        check(len(pulled) == 1, "the pull is logged once:\n" + err)
        check("market closes at %d ms" % (close_ts + 3_600_000) in pulled[0], "end time in the log: " + pulled[0])
        check("WARN" not in pulled[0].upper().split("QUOTING NO MORE")[0][:40] or "info" in pulled[0].lower(),
              "logged at info: " + pulled[0])

        # The same through `polyhost run --json`: a clean run with cancels; pull disabled keeps quoting.
        with tempfile.TemporaryDirectory() as tmp:
            summaries = []
            for extra in ("", "pull_before_close_ms = 0"):
                cfg = write_config(tmp, plugin_dir, 'assets = ["mk/yes"]\n' + extra)
                p = run([polyhost, "run", "--plugins", "spread", "--catalog", cat, "--feed", feed, "--relayer", "paper",
                         "--no-db", "--json", "--config", cfg], tmp)
                (pl,) = json.loads(p.stdout.strip().splitlines()[-1])["plugins"]
                check(pl["failure"] == "" and pl["rejected"] == 0, "plugin ran cleanly: %s" % pl)
                summaries.append(pl)
            check(summaries[0]["plans"] == len([r for r in records if r["type"] == "plan"]),
                  "run and harness agree: %s" % summaries[0])
            check(summaries[1]["plans"] > summaries[0]["plans"],
                  "pull_before_close_ms = 0 keeps quoting: %s vs %s" % (summaries[1], summaries[0]))
    print("ok: %d quotes cancelled at %d (end %s − 1 h), none placed after" % (len(before), close_ts, end_iso))


def t_caps_hold_under_fills(polyhost, plugin_dir):
    feed = os.path.join(TESTDATA, "fills.jsonl")
    max_position, max_exposure = 30 * ONE, 12 * ONE  # the caps in testdata/fills.toml
    records, _ = harness(polyhost, plugin_dir, feed, testdata_spread_section("fills.toml"))
    check_legs_against_books(records, books_by_time(feed))
    led = Ledger()
    peak_long = peak_short = peak_exposure = 0
    for r in records:
        led.apply(r)
        long_, short = led.worst_position("mk", "yes", "no")
        exposure = led.exposure("mk", "yes", "no")
        check(long_ <= max_position and short <= max_position,
              "position cap broken after %s: long %d short %d" % (r, long_, short))
        check(exposure <= max_exposure, "exposure cap broken after %s: %d" % (r, exposure))
        for a in ("yes", "no"):
            check(led.pos.get(("mk", a), 0) >= 0, "sold %s not held after %s" % (a, r))
        peak_long, peak_short = max(peak_long, long_), max(peak_short, short)
        peak_exposure = max(peak_exposure, exposure)
    check(led.fills >= 8, "the feed should fill us often: %d fills" % led.fills)
    check(peak_exposure >= max_exposure * 9 // 10, "the exposure cap was reached: peak %d" % peak_exposure)
    rejected = [r for r in records if r["type"] == "plan" and r["decision"] != "accepted"]
    check(not rejected, "the host rejected quotes: %s" % rejected[:1])
    print("ok: %d fills, peak worst long %s short %s, peak exposure %s USDC (caps 30 / 12)" %
          (led.fills, Decimal(peak_long) / ONE, Decimal(peak_short) / ONE, Decimal(peak_exposure) / ONE))


def t_bad_config_is_refused(polyhost, plugin_dir):
    for toml, needle in [('assets = ["mk/yes"]\nlevels = 0', "plugin.spread.levels"),
                         ('assets = ["mk"]', "plugin.spread.assets"),
                         ('assets = ["mk/yes"]\nreference = "vwap"', "plugin.spread.reference"),
                         ('max_position = 5', "plugin.spread.assets")]:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = write_config(tmp, plugin_dir, toml)
            p = run([polyhost, "run", "--plugins", "spread", "--feed", SAMPLE, "--relayer", "paper", "--no-db",
                     "--config", cfg], tmp, expect_rc=None)
            check(p.returncode != 0, "%r was accepted" % toml)
            check(needle in p.stderr, "%r: the error names %s:\n%s" % (toml, needle, p.stderr))
    print("ok: bad configurations are refused with the key named")


def t_golden_harness(polyhost, plugin_dir):
    feed = os.path.join(TESTDATA, "golden_feed.jsonl")
    golden = os.path.join(TESTDATA, "golden.jsonl")
    spread_toml = testdata_spread_section("golden.toml")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = write_config(tmp, plugin_dir, spread_toml)
        args = [polyhost, "harness", "--plugin", "spread", "--feed", feed, "--config", cfg]
        if os.environ.get("SPREAD_REGENERATE_GOLDEN"):
            run(args + ["--out", golden], tmp)
            print("wrote", golden)
        p = run(args + ["--expect", golden], tmp, expect_rc=None)
        check(p.returncode == 0, "harness output differs from %s:\n%s\n%s" % (golden, p.stdout, p.stderr[-2000:]))
        records, _ = harness(polyhost, plugin_dir, feed, spread_toml)
        check_legs_against_books(records, books_by_time(feed))
        print(p.stdout.strip())


TESTS = {name[2:]: fn for name, fn in globals().items() if name.startswith("t_")}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in TESTS:
        print(__doc__)
        return 2
    polyhost, plugin_dir, name = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    try:
        TESTS[name](polyhost, plugin_dir)
    except Failure as e:
        print("FAIL %s: %s" % (name, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

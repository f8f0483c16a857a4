#!/usr/bin/env python3
"""End-to-end tests of polyhost's live data path against tests/live/mock_venue.py.

Usage: live_e2e_test.py POLYHOST CASE [PLUGIN]   (CASE: reconnect | drift | record_replay |
sharding | sigint | refresh_markets | wss | run_ws DUTCHBOOK | service_two_markets PROBE |
service_secrets PROBE | service_sigterm PROBE | run_ws_sigterm PROBE | dynamic_subscribe PROBE)
PROBE is tests/live/live_probe_plugin.cc built as a plugin.
Every case runs on loopback in a fresh temporary directory and exits non-zero
with a message on the first failed check.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable

MARKET = "0xmkt"
YES = "1111"
NO = "2222"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Mock:
    def __init__(self, tmp, scenario, tls=None, name="mock"):
        self.log = os.path.join(tmp, name + ".log")
        path = os.path.join(tmp, name + "-scenario.json")
        with open(path, "w") as f:
            json.dump(scenario, f)
        cmd = [PY, os.path.join(HERE, "mock_venue.py"), "--scenario", path, "--log", self.log]
        if tls:
            cmd += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        check(line and line[0] == "READY", "mock venue did not start")
        self.ws = f"{'wss' if tls else 'ws'}://127.0.0.1:{line[1]}/ws/market"
        self.http = f"http://127.0.0.1:{line[2]}"

    def entries(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def subscriptions(self):
        return [(e["conn"], json.loads(e["msg"])) for e in self.entries()
                if "conn" in e and e["msg"].startswith("{") and "type" in json.loads(e["msg"])]

    def book_requests(self):
        return [e["query"].get("token_id") for e in self.entries() if e.get("http") == "/book"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def run(polyhost, args, tmp, timeout=60, check_rc=True):
    env = dict(os.environ, POLYHOST_LOG_LEVEL="warn")
    p = subprocess.run([polyhost] + args, cwd=tmp, capture_output=True, text=True, timeout=timeout, env=env)
    if check_rc and p.returncode != 0:
        fail(f"polyhost {' '.join(args[:3])}... exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def book(market, asset, bids, asks, ts="1"):
    return {"event_type": "book", "market": market, "asset_id": asset, "timestamp": ts,
            "bids": [{"price": p, "size": s} for p, s in bids], "asks": [{"price": p, "size": s} for p, s in asks]}


def change(asset, price, size, side, best_bid=None, best_ask=None, ts="2"):
    item = {"asset_id": asset, "price": price, "size": size, "side": side, "hash": "h"}
    if best_bid is not None:
        item["best_bid"] = best_bid
    if best_ask is not None:
        item["best_ask"] = best_ask
    return {"event_type": "price_change", "market": MARKET, "timestamp": ts, "price_changes": [item]}


REST_BOOKS = {
    YES: {"market": MARKET, "timestamp": "5", "bids": [{"price": "0.45", "size": "100"}, {"price": "0.40", "size": "5"}],
          "asks": [{"price": "0.55", "size": "50"}]},
    NO: {"market": MARKET, "timestamp": "5", "bids": [{"price": "0.44", "size": "30"}],
         "asks": [{"price": "0.56", "size": "70"}]},
}


def stored_book(polyhost, tmp, db, asset):
    p = run(polyhost, ["book", MARKET, asset, "--db-url", db, "--json"], tmp)
    return json.loads(p.stdout)


def ingest(polyhost, tmp, mock, db, n, extra=()):
    args = ["ingest-ws", mock.ws, MARKET, "--assets", f"{YES},{NO}", "--clob-url", mock.http,
            "--max-messages", str(n), "--db-url", db, "--json"] + list(extra)
    p = run(polyhost, args, tmp)
    return json.loads(p.stdout.strip().splitlines()[-1])


def case_reconnect(polyhost, tmp):
    # Connection 0 drops mid-stream; connection 1 must subscribe to the same assets,
    # and every asset is resynced from REST on each connect.
    mock = Mock(tmp, {"books": REST_BOOKS, "connections": [
        [{"wait_books": 2}, {"sleep_ms": 400}, {"send": book(MARKET, YES, [("0.45", "100")], [("0.55", "50")])},
         {"send": change(YES, "0.46", "10", "BUY", "0.46", "0.55")}, {"drop": True}],
        [{"wait_books": 4}, {"sleep_ms": 500}, {"send": change(YES, "0.47", "3", "BUY")}],
    ]})
    try:
        s = ingest(polyhost, tmp, mock, "sqlite:///./r.db", 3)
        check(s["reconnects"] == 1, f"reconnects {s['reconnects']} != 1")
        check(s["connects"] == 2, f"connects {s['connects']} != 2")
        subs = mock.subscriptions()
        check(len(subs) == 2, f"{len(subs)} subscriptions, want 2")
        check(subs[0][1] == subs[1][1] == {"assets_ids": [YES, NO], "type": "market"},
              f"resubscription differs: {subs}")
        check(sorted(mock.book_requests()) == sorted([YES, NO, YES, NO]), f"/book requests {mock.book_requests()}")
        check(s["resyncs"] == 4, f"resyncs {s['resyncs']} != 4")
        check(s["stale_assets"] == 0, "a book is still stale after the resync")
        b = stored_book(polyhost, tmp, "sqlite:///./r.db", YES)
        # REST book after reconnect (0.45x100, 0.40x5) plus the 0.47 bid from connection 1.
        check(b["bids"][0] == ["0.47", "3"] and b["bids"][1] == ["0.45", "100"], f"YES book {b}")
    finally:
        mock.stop()


def case_drift(polyhost, tmp):
    # best_bid disagrees with the local book: stale, REST resync, fresh again.
    mock = Mock(tmp, {"books": REST_BOOKS, "connections": [[
        {"wait_books": 2}, {"sleep_ms": 400},
        {"send": change(YES, "0.50", "1", "BUY", "0.51", "0.55")},  # venue says 0.51: drift
        {"wait_books": 3}, {"sleep_ms": 500},
        {"send": change(YES, "0.41", "9", "BUY", "0.45", "0.55")},   # consistent with the resynced book
    ]]})
    try:
        s = ingest(polyhost, tmp, mock, "sqlite:///./d.db", 2)
        check(s["drift_checks_failed"] == 1, f"drift {s['drift_checks_failed']} != 1")
        check(s["continuity_breaks"] == 1, f"breaks {s['continuity_breaks']}")
        check(mock.book_requests().count(YES) == 2, f"/book requests {mock.book_requests()}")
        check(s["resyncs"] == 3, f"resyncs {s['resyncs']} != 3")
        check(s["stale_assets"] == 0, "YES still stale")
        b = stored_book(polyhost, tmp, "sqlite:///./d.db", YES)
        check(b["bids"] == [["0.45", "100"], ["0.41", "9"], ["0.4", "5"]], f"YES book after resync {b['bids']}")
        st = json.loads(run(polyhost, ["status", "--db-url", "sqlite:///./d.db", "--json"], tmp).stdout)
        rows = st if isinstance(st, list) else st.get("assets", st.get("rows", []))
        yes = [r for r in rows if r.get("asset_id") == YES]
        check(yes and not yes[0]["stale"], f"status row {yes}")
    finally:
        mock.stop()


def case_record_replay(polyhost, tmp):
    # The recording of a live session replays to identical books.
    frames = [{"send": book(MARKET, YES, [("0.30", "10"), ("0.31", "20")], [("0.70", "5")], "10")},
              {"send": book(MARKET, NO, [("0.29", "10")], [("0.69", "5"), ("0.71", "8")], "11")},
              {"send": "PONG"},
              {"send": change(YES, "0.32", "7", "BUY", "0.32", "0.7", "12")},
              {"send": [change(NO, "0.69", "0", "SELL", "0.29", "0.71", "13"),
                        {"event_type": "last_trade_price", "market": MARKET, "asset_id": NO, "price": "0.69",
                         "size": "5", "side": "BUY", "fee_rate_bps": "0", "timestamp": "13"}]},
              {"send": change(YES, "0.31", "0", "BUY", "0.33", "0.7", "14")}]  # drift: resync
    mock = Mock(tmp, {"books": REST_BOOKS, "connections": [[{"wait_books": 2}, {"sleep_ms": 400}] + frames +
                                                           [{"wait_books": 3}, {"sleep_ms": 500},
                                                            {"send": change(YES, "0.46", "1", "SELL", "0.45", "0.46", "15")}]]})
    try:
        s = ingest(polyhost, tmp, mock, "sqlite:///./live.db", 7, ["--record", "rec.jsonl"])
        check(s["resyncs"] == 3, f"resyncs {s['resyncs']}")
        with open(os.path.join(tmp, "rec.jsonl")) as f:
            lines = [json.loads(l) for l in f]
        check(all("recv_ts_ms" in l and "frame" in l for l in lines), "recording lines are not envelopes")
        check(len(lines) == 7 + 3, f"{len(lines)} recorded lines, want 10 (7 frames + 3 resync books)")
        run(polyhost, ["replay", "rec.jsonl", "--db-url", "sqlite:///./replayed.db"], tmp)
        for asset in (YES, NO):
            a = stored_book(polyhost, tmp, "sqlite:///./live.db", asset)
            b = stored_book(polyhost, tmp, "sqlite:///./replayed.db", asset)
            check(a["bids"] == b["bids"] and a["asks"] == b["asks"], f"{asset}: live {a} != replayed {b}")
        yes = stored_book(polyhost, tmp, "sqlite:///./live.db", YES)
        check(yes["asks"][0] == ["0.46", "1"], f"YES asks {yes['asks']}")
    finally:
        mock.stop()


def case_sharding(polyhost, tmp):
    # 1200 assets: three connections of 500, 500 and 200; every asset resynced.
    assets = [str(10_000 + i) for i in range(1200)]
    mock = Mock(tmp, {"books": {}, "connections": [[{"send": "PONG"}]]})
    try:
        args = ["ingest-ws", mock.ws, MARKET, "--assets", ",".join(assets), "--clob-url", mock.http,
                "--max-messages", "3", "--no-db", "--json"]
        s = json.loads(run(polyhost, args, tmp).stdout.strip().splitlines()[-1])
        subs = mock.subscriptions()
        sizes = sorted(len(m["assets_ids"]) for _, m in subs)
        check(sizes == [200, 500, 500], f"shard sizes {sizes}")
        got = sorted(a for _, m in subs for a in m["assets_ids"])
        check(got == sorted(assets), "the shards do not cover every asset exactly once")
        check(s["shards"] == 3, f"shards {s['shards']}")
    finally:
        mock.stop()


def case_sigint(polyhost, tmp):
    # SIGINT: stop intake, snapshot, flush, exit 0; the DB has the book.
    mock = Mock(tmp, {"books": REST_BOOKS, "connections": [[{"send": book(MARKET, YES, [("0.2", "1")], [("0.8", "1")])}]]})
    try:
        env = dict(os.environ, POLYHOST_LOG_LEVEL="warn")
        p = subprocess.Popen([polyhost, "ingest-ws", mock.ws, MARKET, "--assets", YES, "--clob-url", mock.http,
                              "--db-url", "sqlite:///./s.db", "--json"], cwd=tmp, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline and len(mock.book_requests()) < 1:
            time.sleep(0.05)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
        check(p.returncode == 0, f"exit {p.returncode} after SIGINT: {err}")
        s = json.loads(out.strip().splitlines()[-1])
        check(s["messages"] >= 1, f"summary {s}")
        b = stored_book(polyhost, tmp, "sqlite:///./s.db", YES)
        check(b["bids"][0][0] in ("0.45", "0.2"), f"book {b}")
    finally:
        mock.stop()


def case_run_ws(polyhost, tmp, plugin):
    # polyhost run --ws: resynced live books reach the dutchbook plugin (asks 0.45 + 0.50 < 1),
    # its plan passes the gate and goes to the fake relayer.
    books = {YES: {"market": MARKET, "timestamp": "5", "bids": [{"price": "0.40", "size": "100"}],
                   "asks": [{"price": "0.45", "size": "100"}]},
             NO: {"market": MARKET, "timestamp": "5", "bids": [{"price": "0.45", "size": "100"}],
                  "asks": [{"price": "0.50", "size": "100"}]}}
    mock = Mock(tmp, {"books": books, "connections": [[{"wait_books": 2}, {"sleep_ms": 500}, {"send": "PONG"}]]})
    try:
        p = run(polyhost, ["run", "--ws", mock.ws, "--market", MARKET, "--assets", f"{YES},{NO}", "--clob-url", mock.http,
                           "--plugins", plugin, "--max-messages", "1", "--relayer", "fake",
                           "--db-url", "sqlite:///./run.db", "--json"], tmp)
        s = json.loads(p.stdout.strip().splitlines()[-1])
        check(s["lines"] == 3, f"lines {s['lines']} (want 2 resync books + 1 frame)")
        check(s["plans"] >= 1, f"no plan from the live books: {s}")
        db = s["plugins"][0]
        check(db["accepted"] >= 1, f"no accepted plan: {db}")
        check(s["orders"] >= 2, f"orders {s['orders']}")
    finally:
        mock.stop()


def gamma_market(i):
    yes, no = str(900000 + 2 * i), str(900001 + 2 * i)
    m = {"id": str(i), "conditionId": f"0xc{i:04d}", "question": f"Will thing {i} happen?", "slug": f"thing-{i}",
         "outcomes": json.dumps(["Yes", "No"]), "outcomePrices": json.dumps(["0.5", "0.5"]),
         "clobTokenIds": json.dumps([yes, no]), "orderPriceMinTickSize": 0.01 if i % 2 else 0.001,
         "orderMinSize": 5, "negRisk": i % 10 == 0, "endDate": f"2026-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
         "active": i % 7 != 0, "closed": i % 7 == 0}
    if i % 10 == 0:
        m["events"] = [{"id": f"ev{i // 100}"}]
    return m


def case_refresh_markets(polyhost, tmp):
    # 250 markets through pages of 100 and an offset cap of 100 (windows by endDate),
    # one malformed market skipped; then `markets` lists and searches them and
    # ingest-ws finds a market's tokens in the catalog.
    markets = [gamma_market(i) for i in range(250)]
    bad = gamma_market(999)
    bad["clobTokenIds"] = json.dumps(["1"])  # two outcomes, one token
    markets.append(bad)
    mock = Mock(tmp, {"markets": markets, "offset_cap": 100, "books": REST_BOOKS, "connections": [[{"send": "PONG"}]]})
    try:
        db = "sqlite:///./m.db"
        p = run(polyhost, ["refresh-markets", mock.http, "--offset-cap", "100", "--db-url", db, "--json"], tmp)
        s = json.loads(p.stdout.strip().splitlines()[-1])
        check(s["markets"] == 250, f"refresh wrote {s['markets']} markets, want 250: {s}")
        check(s["skipped"] == 1 and "0xc0999" in p.stderr, f"malformed market not reported: {s} {p.stderr}")
        check(s["windows"] >= 2, f"the offset cap was not exercised: {s}")
        offsets = [int(e["query"]["offset"]) for e in mock.entries() if e.get("http") == "/markets"]
        check(max(offsets) <= 100, f"asked for offset {max(offsets)} past the cap")
        check(all(int(e["query"]["limit"]) <= 100 for e in mock.entries() if e.get("http") == "/markets"), "limit > 100")
        rows = json.loads(run(polyhost, ["markets", "--db-url", db, "--json"], tmp).stdout)
        check(len(rows) == 250, f"markets lists {len(rows)}")
        r10 = [r for r in rows if r["condition_id"] == "0xc0010"][0]
        check(r10["outcomes"] == [{"asset_id": "900020", "outcome": "Yes"}, {"asset_id": "900021", "outcome": "No"}],
              f"outcomes {r10['outcomes']}")
        check(r10["neg_risk"] and r10["event_id"] == "ev0" and r10["tick_size"] == "0.001" and r10["min_order_size"] == "5",
              f"market 10 {r10}")
        check(r10["end_date"] == "2026-01-11T10:00:00.000Z", f"end date {r10['end_date']}")
        r7 = [r for r in rows if r["condition_id"] == "0xc0007"][0]
        check(r7["closed"] and not r7["active"], f"market 7 flags {r7}")
        found = json.loads(run(polyhost, ["markets", "--db-url", db, "--search", "THING-12", "--json"], tmp).stdout)
        check(sorted(r["condition_id"] for r in found) == ["0xc0012", "0xc0120", "0xc0121", "0xc0122", "0xc0123", "0xc0124",
                                                           "0xc0125", "0xc0126", "0xc0127", "0xc0128", "0xc0129"],
              f"search found {[r['condition_id'] for r in found]}")
        # Refreshing again updates in place (no duplicates); --active-only asks the venue for open markets only.
        run(polyhost, ["refresh-markets", mock.http, "--offset-cap", "100", "--db-url", db, "--active-only"], tmp)
        check(len(json.loads(run(polyhost, ["markets", "--db-url", db, "--json"], tmp).stdout)) == 250, "duplicates")
        last = [e for e in mock.entries() if e.get("http") == "/markets"][-1]["query"]
        check(last.get("active") == "true" and last.get("closed") == "false", f"--active-only query {last}")
        # ingest-ws without --assets subscribes to the catalog's tokens of the market.
        run(polyhost, ["ingest-ws", mock.ws, "0xc0010", "--clob-url", mock.http, "--max-messages", "1",
                       "--db-url", db], tmp)
        check(mock.subscriptions()[-1][1]["assets_ids"] == ["900020", "900021"], f"subscription {mock.subscriptions()}")
    finally:
        mock.stop()


def case_wss(polyhost, tmp):
    # wss:// verifies the certificate chain and the host name: a self-signed
    # certificate is refused unless trusted with --ca-file or --insecure is given.
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    mock = Mock(tmp, {"books": REST_BOOKS, "connections": [[{"send": "PONG"}]]}, tls=(cert, key))
    try:
        base = ["ingest-ws", mock.ws, MARKET, "--assets", YES, "--clob-url", mock.http, "--no-db", "--json"]
        s = json.loads(run(polyhost, base + ["--max-messages", "1", "--ca-file", cert], tmp).stdout.strip().splitlines()[-1])
        check(s["connects"] == 1 and s["messages"] == 1, f"with --ca-file: {s}")
        p = run(polyhost, base + ["--max-messages", "1", "--insecure"], tmp)
        check("NOT verified" in p.stderr, "--insecure does not warn")
        # Untrusted: never connects, keeps retrying with backoff until SIGINT.
        env = dict(os.environ, POLYHOST_LOG_LEVEL="warn")
        proc = subprocess.Popen([polyhost] + base, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        check(proc.returncode == 0, f"exit {proc.returncode}: {err}")
        s = json.loads(out.strip().splitlines()[-1])
        check(s["connects"] == 0 and s["messages"] == 0, f"connected to an untrusted server: {s}")
        check("certificate verify failed" in err, f"no verification error in: {err}")
    finally:
        mock.stop()


# ---- run-service, graceful shutdown, dynamic subscribe ------------------------------------

MKB, YES_B, NO_B = "0xmkb", "3333", "4444"
MKC, YES_C = "0xmkc", "5555"

ALL_BOOKS = dict(REST_BOOKS)
ALL_BOOKS[YES_B] = {"market": MKB, "timestamp": "6", "bids": [{"price": "0.30", "size": "10"}],
                    "asks": [{"price": "0.35", "size": "10"}]}
ALL_BOOKS[NO_B] = {"market": MKB, "timestamp": "6", "bids": [{"price": "0.64", "size": "10"}],
                   "asks": [{"price": "0.70", "size": "10"}]}
ALL_BOOKS[YES_C] = {"market": MKC, "timestamp": "7", "bids": [{"price": "0.20", "size": "4"}],
                    "asks": [{"price": "0.25", "size": "4"}]}


def service_config(tmp, mock_a, markets, plugin, probe, extra=""):
    """A run-service config: [polymarket] urls at mock A, the probe plugin, [[markets]] entries."""
    lines = ["[polymarket]", f'ws_url = "{mock_a.ws}"', f'clob_url = "{mock_a.http}"', f'gamma_url = "{mock_a.http}"',
             "[db]", 'url = "sqlite:///./svc.db"',
             "[service]", f'plugins = ["{plugin}"]', "catalog_refresh_ms = 0",
             "[plugin.live_probe]"] + [f"{k} = {json.dumps(v)}" for k, v in probe.items()] + [extra]
    for m in markets:
        lines.append("[[markets]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in m.items()]
    os.makedirs(os.path.join(tmp, "etc"), exist_ok=True)
    path = os.path.join(tmp, "etc", "service.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def sqlite_rows(tmp, query):
    import sqlite3
    con = sqlite3.connect(os.path.join(tmp, "svc.db"))
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def case_service_two_markets(polyhost, tmp, plugin):
    # Two markets on two venues (ws URLs), one session: each venue gets its market's
    # tokens, both books land in one database, each market stops after its
    # max_messages and the service then exits by itself; the catalog is refreshed
    # from Gamma periodically meanwhile.
    frames_a = [{"send": change(YES, "0.46", "5", "BUY", "0.46", "0.55", "8")}, {"send": change(YES, "0.47", "1", "BUY", "0.47", "0.55", "9")}]
    frames_b = [{"send": {"event_type": "price_change", "market": MKB, "timestamp": "9", "price_changes": [
        {"asset_id": YES_B, "price": "0.31", "size": "2", "side": "BUY", "best_bid": "0.31", "best_ask": "0.35", "hash": "h"}]}},
        {"send": "PONG"},
        {"send": {"event_type": "price_change", "market": MKB, "timestamp": "10", "price_changes": [
            {"asset_id": NO_B, "price": "0.69", "size": "3", "side": "SELL", "best_bid": "0.64", "best_ask": "0.69", "hash": "h"}]}}]
    mock_a = Mock(tmp, {"books": ALL_BOOKS, "markets": [gamma_market(i) for i in range(3)],
                        "connections": [[{"wait_books": 4}, {"sleep_ms": 1200}] + frames_a]}, name="a")
    mock_b = Mock(tmp, {"connections": [[{"sleep_ms": 1500}] + frames_b]}, name="b")
    try:
        cfg = service_config(tmp, mock_a, [
            {"market_id": MARKET, "outcome_yes_id": YES, "outcome_no_id": NO, "max_messages": 2},
            {"market_id": MKB, "outcome_yes_id": YES_B, "outcome_no_id": NO_B, "ws_url": mock_b.ws, "max_messages": 2},
        ], plugin, {"first": f"{MARKET}/{YES}"}, extra="")
        with open(cfg) as f:
            text = f.read().replace("catalog_refresh_ms = 0", "catalog_refresh_ms = 300")
        with open(cfg, "w") as f:
            f.write(text)
        p = run(polyhost, ["run-service", "--config", cfg, "--json"], tmp)
        s = last_json(p.stdout)
        check(s["markets"] == 2 and s["feeds"] == 2, f"summary {s}")
        check(not s["stopped_by_signal"], "the service did not end by itself")
        check(s["lines"] >= 4 + 2 + 2, f"lines {s['lines']} (4 resync books + A's 2 frames + B's frames)")
        subs_a = [m for _, m in mock_a.subscriptions()]
        subs_b = [m for _, m in mock_b.subscriptions()]
        check(subs_a == [{"assets_ids": [YES, NO], "type": "market"}], f"venue A subscriptions {subs_a}")
        check(subs_b == [{"assets_ids": [YES_B, NO_B], "type": "market"}], f"venue B subscriptions {subs_b}")
        check(sorted(mock_a.book_requests()) == sorted([YES, NO, YES_B, NO_B]), f"/book {mock_a.book_requests()}")
        a = stored_book(polyhost, tmp, "sqlite:///./svc.db", YES)
        check(a["bids"][0] == ["0.47", "1"], f"market A YES book {a}")
        b = json.loads(run(polyhost, ["book", MKB, YES_B, "--db-url", "sqlite:///./svc.db", "--json"], tmp).stdout)
        check(b["bids"][0] == ["0.31", "2"], f"market B YES book {b}")
        nb = json.loads(run(polyhost, ["book", MKB, NO_B, "--db-url", "sqlite:///./svc.db", "--json"], tmp).stdout)
        check(nb["asks"][0] == ["0.69", "3"], f"market B NO book {nb}")
        # Periodic Gamma refresh: at start and again after 300 ms (the run lasts > 1.2 s).
        gamma = [e for e in mock_a.entries() if e.get("http") == "/markets"]
        check(s["catalog_refreshes"] >= 2 and len(gamma) >= 2, f"catalog refreshes {s['catalog_refreshes']}, {len(gamma)} requests")
        check(all(e["query"].get("active") == "true" for e in gamma), "the service refresh is not active-only")
        rows = json.loads(run(polyhost, ["markets", "--db-url", "sqlite:///./svc.db", "--json"], tmp).stdout)
        check(len(rows) >= 1, "the refreshed catalog is not in the database")
    finally:
        mock_a.stop()
        mock_b.stop()


def case_service_secrets(polyhost, tmp, plugin):
    # secrets.local.toml beside the --config file overrides [relayer]; its values
    # never appear in any output, log line or the database.
    secret = "S3CRET-api-key-0xdeadbeef"
    mock = Mock(tmp, {"books": REST_BOOKS, "connections": [[{"wait_books": 2}, {"sleep_ms": 300}, {"send": "PONG"},
                                                            {"send": change(YES, "0.46", "5", "BUY", "0.46", "0.55")}]]})
    try:
        cfg = service_config(tmp, mock, [{"market_id": MARKET, "outcome_yes_id": YES, "outcome_no_id": NO,
                                          "max_messages": 1}], plugin, {"first": f"{MARKET}/{YES}", "quote": True},
                             extra='[relayer]\ntype = "fake"')
        secrets = os.path.join(tmp, "etc", "secrets.local.toml")
        with open(secrets, "w") as f:
            f.write(f'[relayer]\ntype = "paper"\napi_key = "{secret}"\napi_secret = "{secret}-2"\napi_passphrase = "{secret}-3"\n')
        os.chmod(secrets, 0o600)
        env = dict(os.environ, POLYHOST_LOG_LEVEL="debug")
        p = subprocess.run([polyhost, "run-service", "--config", cfg, "--json"], cwd=tmp, capture_output=True, text=True,
                           timeout=60, env=env)
        check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        s = last_json(p.stdout)
        check(s["relayer"] == "paper", f"secrets.local.toml did not override [relayer] type: {s['relayer']}")
        check(s["orders"] >= 1, f"no order on the paper relayer: {s}")
        check("credentials from " + secrets in p.stderr, f"no credentials note naming the secrets file: {p.stderr}")
        shown = run(polyhost, ["config", "show", "--config", cfg], tmp).stdout
        check("relayer.api_key" in shown and "***" in shown, "config show does not redact the key")
        outputs = [p.stdout, p.stderr, shown, run(polyhost, ["config", "show", "--config", cfg, "--json"], tmp).stdout]
        for name in os.listdir(tmp):
            if name.startswith("svc.db"):
                with open(os.path.join(tmp, name), "rb") as f:
                    outputs.append(f.read().decode("latin-1"))
        check(not any(secret in o for o in outputs), "the secret leaked into output, logs or the database")
    finally:
        mock.stop()


def wait_for(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def integrity_ok(tmp):
    return sqlite_rows(tmp, "PRAGMA integrity_check") == [("ok",)]


def case_service_sigterm(polyhost, tmp, plugin):
    # SIGTERM: intake stops, the resting quotes are cancelled through the relayer and
    # recorded, the writer is flushed, books are snapshotted, exit 0. A second
    # signal during shutdown exits at once, and the database is still intact.
    mock = Mock(tmp, {"books": REST_BOOKS, "connections": [[{"wait_books": 2}, {"sleep_ms": 200}, {"send": "PONG"}]]})
    try:
        cfg = service_config(tmp, mock, [{"market_id": MARKET, "outcome_yes_id": YES, "outcome_no_id": NO}], plugin,
                             {"first": f"{MARKET}/{YES}", "then": f"{MARKET}/{NO}", "quote": True})
        env = dict(os.environ, POLYHOST_LOG_LEVEL="warn")
        proc = subprocess.Popen([polyhost, "run-service", "--config", cfg, "--json", "--metrics-port", "0"], cwd=tmp,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = proc.stderr.readline()
        check(first.startswith("run-service: metrics on http://127.0.0.1:"), f"no metrics endpoint: {first}")
        check(wait_for(lambda: len(mock.book_requests()) >= 2), "no resync requests")
        time.sleep(1.0)
        import urllib.request
        scrape = urllib.request.urlopen(first.split()[-1], timeout=10).read().decode()
        check("polyhost_" in scrape and "reconnect" in scrape, "the metrics endpoint has no live feed counters")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        check(proc.returncode == 0, f"exit {proc.returncode} after SIGTERM: {err}")
        s = last_json(out)
        check(s["stopped_by_signal"], f"summary {s}")
        check(s["orders"] == 2 and s["orders_cancelled_at_stop"] == 2, f"two quotes placed and cancelled: {s}")
        check(s["plugins"][0]["orders_cancelled"] == 2, f"plugin stats {s['plugins'][0]}")
        check(integrity_ok(tmp), "integrity_check failed")
        statuses = sqlite_rows(tmp, "SELECT status, count(*) FROM orders GROUP BY status")
        check(statuses == [("cancelled", 2)], f"stored order states {statuses}")
        snaps = sqlite_rows(tmp, "SELECT count(*) FROM orderbook_snapshots")[0][0]
        check(snaps >= 2, f"{snaps} snapshots after shutdown")

        # Two signals in a row: the second one exits at once (130) or the first
        # shutdown already finished (0); either way the database is intact.
        proc = subprocess.Popen([polyhost, "run-service", "--config", cfg, "--json"], cwd=tmp, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(wait_for(lambda: len(mock.book_requests()) >= 4), "second run: no resync requests")
        time.sleep(0.8)
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        check(proc.returncode in (0, 130), f"exit {proc.returncode} after two signals")
        check(integrity_ok(tmp), "integrity_check failed after a second signal")
    finally:
        mock.stop()


def case_run_ws_sigterm(polyhost, tmp, plugin):
    # polyhost run --ws: the same graceful shutdown on SIGTERM.
    mock = Mock(tmp, {"books": REST_BOOKS, "connections": [[{"wait_books": 2}, {"sleep_ms": 200}, {"send": "PONG"}]]})
    try:
        cfg = service_config(tmp, mock, [], plugin, {"first": f"{MARKET}/{YES}", "quote": True})
        env = dict(os.environ, POLYHOST_LOG_LEVEL="warn")
        proc = subprocess.Popen([polyhost, "run", "--config", cfg, "--ws", mock.ws, "--market", MARKET, "--assets", f"{YES},{NO}",
                                 "--plugins", plugin, "--json"], cwd=tmp, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(wait_for(lambda: len(mock.book_requests()) >= 2), "no resync requests")
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        check(proc.returncode == 0, f"exit {proc.returncode} after SIGTERM: {err}")
        s = last_json(out)
        st = s["plugins"][0]
        check(st["orders"] == 1 and st["orders_cancelled"] == 1, f"the resting quote was not cancelled: {st}")
        check(integrity_ok(tmp), "integrity_check failed")
        check(sqlite_rows(tmp, "SELECT status FROM orders") == [("cancelled",)], "stored order not cancelled")
        check(sqlite_rows(tmp, "SELECT count(*) FROM orderbook_snapshots")[0][0] >= 2, "no snapshot at shutdown")
    finally:
        mock.stop()


def case_dynamic_subscribe(polyhost, tmp, plugin):
    # Market C is configured with subscribe = false on venue B: nothing subscribes it
    # until the plugin does (on its first book of A's YES); then venue B gets the
    # subscription and C's book is resynced and stored.
    mock_a = Mock(tmp, {"books": ALL_BOOKS, "connections": [[{"wait_books": 3}, {"sleep_ms": 500},
                                                              {"send": change(YES, "0.46", "5", "BUY", "0.46", "0.55")}]]},
                  name="a")
    mock_b = Mock(tmp, {"connections": [[{"send": "PONG"}]]}, name="b")
    try:
        cfg = service_config(tmp, mock_a, [
            {"market_id": MARKET, "outcome_yes_id": YES, "outcome_no_id": NO, "max_messages": 1},
            {"market_id": MKC, "outcome_yes_id": YES_C, "ws_url": mock_b.ws, "subscribe": False},
        ], plugin, {"first": f"{MARKET}/{YES}", "then": f"{MKC}/{YES_C}"})
        p = run(polyhost, ["run-service", "--config", cfg, "--json"], tmp)
        s = last_json(p.stdout)
        subs_b = [m for _, m in mock_b.subscriptions()]
        check(subs_b == [{"assets_ids": [YES_C], "type": "market"}], f"venue B subscriptions {subs_b}")
        subs_a = [m for _, m in mock_a.subscriptions()]
        check(subs_a == [{"assets_ids": [YES, NO], "type": "market"}], f"venue A subscriptions {subs_a}")
        check(YES_C in mock_a.book_requests(), f"C was not resynced: {mock_a.book_requests()}")
        c = json.loads(run(polyhost, ["book", MKC, YES_C, "--db-url", "sqlite:///./svc.db", "--json"], tmp).stdout)
        check(c["bids"][0] == ["0.2", "4"], f"market C book {c}")
        check(s["feeds"] == 1, f"feeds at start {s['feeds']}")
    finally:
        mock_a.stop()
        mock_b.stop()


def case_service_market_plugins(polyhost, tmp, plugin):
    # Per-market plugins: market A lists the probe, market C (subscribe = false, on
    # venue B) lists no plugin. The probe gets A's books (it quotes them), and its
    # run-time subscription to C is ignored: venue B is never subscribed, C never
    # resynced. An unknown plugin name in a list is reported with file and line.
    mock_a = Mock(tmp, {"books": ALL_BOOKS, "connections": [[{"wait_books": 2}, {"sleep_ms": 500},
                                                              {"send": change(YES, "0.46", "5", "BUY", "0.46", "0.55")}]]},
                  name="a")
    mock_b = Mock(tmp, {"connections": [[{"send": "PONG"}]]}, name="b")
    try:
        markets = [
            {"market_id": MARKET, "outcome_yes_id": YES, "outcome_no_id": NO, "max_messages": 1,
             "plugins": ["live_probe"]},
            {"market_id": MKC, "outcome_yes_id": YES_C, "ws_url": mock_b.ws, "subscribe": False, "plugins": []},
        ]
        cfg = service_config(tmp, mock_a, markets, plugin,
                             {"first": f"{MARKET}/{YES}", "then": f"{MKC}/{YES_C}", "quote": True})
        p = run(polyhost, ["run-service", "--config", cfg, "--json"], tmp)
        s = last_json(p.stdout)
        check(s["plans"] >= 1, f"the probe got no book of its market: {s}")
        subs_a = [m for _, m in mock_a.subscriptions()]
        check(subs_a == [{"assets_ids": [YES, NO], "type": "market"}], f"venue A subscriptions {subs_a}")
        subs_b = [m for _, m in mock_b.subscriptions()]
        check(subs_b == [], f"venue B was subscribed for a plugin not listed on C: {subs_b}")
        check(YES_C not in mock_a.book_requests(), f"C was resynced: {mock_a.book_requests()}")

        markets[1]["plugins"] = ["nosuch"]
        cfg = service_config(tmp, mock_a, markets, plugin, {"first": f"{MARKET}/{YES}"})
        with open(cfg) as f:
            line = f.read().splitlines().index('market_id = "%s"' % MKC)  # 0-based: the [[markets]] line
        p = run(polyhost, ["run-service", "--config", cfg, "--json"], tmp, check_rc=False)
        check(p.returncode != 0, "an unknown plugin in a [[markets]] list was accepted")
        want = f"service.toml:{line}: markets[1]: 'plugins': unknown plugin 'nosuch'"
        check(want in p.stderr, f"no {want!r} in: {p.stderr}")
    finally:
        mock_a.stop()
        mock_b.stop()

def main():
    polyhost, case = sys.argv[1], sys.argv[2]
    fn = globals().get("case_" + case)
    if fn is None:
        fail("unknown case " + case)
    with tempfile.TemporaryDirectory() as tmp:
        fn(os.path.abspath(polyhost), tmp, *[os.path.abspath(a) for a in sys.argv[3:]])
    print("ok " + case)


if __name__ == "__main__":
    main()

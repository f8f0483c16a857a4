#!/usr/bin/env python3
"""End-to-end tests of the polyhost command line. Each test is one ctest entry:
  cli_test.py POLYHOST TEST_NAME
Tests use temp directories and the committed recordings only."""
import json, os, signal, sqlite3, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PH = None
TESTS = {}


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


def run(*args, check=None, env=None, cwd=None, timeout=120):
    e = dict(os.environ)
    e.pop("POLYHOST_DB_URL", None)
    if env:
        e.update(env)
    r = subprocess.run([PH, *args], capture_output=True, text=True, env=e, cwd=cwd, timeout=timeout)
    if check is not None and r.returncode != check:
        raise AssertionError(f"{args}: exit {r.returncode}, expected {check}\nstdout: {r.stdout[-1500:]}\nstderr: {r.stderr[-1500:]}")
    return r


def tmpdir():
    return tempfile.mkdtemp(prefix="cli-test-")


def rec(name):
    return os.path.join(ROOT, "recordings", name)


def db_rows(path, sql):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@test
def help_on_every_subcommand():
    top = run("--help", check=0).stdout
    for cmd in ["replay", "status", "status-top", "book", "config", "snapshot", "prune"]:
        assert cmd in top, cmd
        out = run(*cmd.split(), "--help", check=0).stdout
        assert "Usage" in out or "usage" in out.lower(), (cmd, out)
    run("config", "show", "--help", check=0)


@test
def usage_errors_exit_2():
    assert run(check=2).returncode == 2  # no subcommand
    run("nonsense", check=2)
    run("replay", check=2)  # FILE missing
    run("replay", rec("sample.jsonl"), "--format", "X", "--no-db", check=2)
    run("book", "only-market", check=2)
    run("status", "--db-url", "mysql://x", check=2)


@test
def runtime_errors_exit_1():
    d = tmpdir()
    r = run("replay", os.path.join(d, "missing.jsonl"), "--db-url", f"sqlite:///{d}/x.db", check=1)
    assert "missing.jsonl" in r.stderr, r.stderr
    r = run("status", "--db-url", f"sqlite:///{d}/none.db", check=1)
    assert "none.db" in r.stderr
    r = run("status", "--db-url", "postgresql://u:secretpw@127.0.0.1:1/db", check=1)
    assert "secretpw" not in r.stderr and "cannot connect to postgresql://u:***@" in r.stderr, r.stderr


@test
def replay_sample_then_inspect():
    d = tmpdir()
    url = f"sqlite:///{d}/s.db"
    r = run("replay", rec("sample.jsonl"), "--db-url", url, "--json", check=0)
    s = json.loads(r.stdout)
    assert s["lines"] == 31 and s["continuity_breaks"] == 1 and s["malformed"] == 0, s
    st = json.loads(run("status", "--db-url", url, "--json", check=0).stdout)
    assert st["asset_count"] == 4, st
    top = json.loads(run("status-top", "--limit", "2", "--db-url", url, "--json", check=0).stdout)
    assert len(top) == 2
    book = json.loads(run("book", "mkt-1", "yes", "--db-url", url, "--json", check=0).stdout)
    assert set(book) == {"market", "asset_id", "seq", "ts_ms", "stale", "bids", "asks"}, book
    assert book["bids"][0] == ["0.5", "30"], book
    depth = json.loads(run("book", "mkt-1", "yes", "--depth", "1", "--db-url", url, "--json", check=0).stdout)
    assert len(depth["bids"]) == 1 and len(depth["asks"]) == 1
    text = run("book", "mkt-1", "yes", "--db-url", url, check=0).stdout
    assert "0.5" in text
    run("book", "mkt-1", "nope", "--db-url", url, check=1)


@test
def replay_twice_does_not_duplicate():
    d = tmpdir()
    url = f"sqlite:///{d}/t.db"
    run("replay", rec("sample.jsonl"), "--db-url", url, check=0)
    n1 = db_rows(f"{d}/t.db", "select count(*) from orderbook_events")[0][0]
    s = json.loads(run("replay", rec("sample.jsonl"), "--db-url", url, "--json", check=0).stdout)
    n2 = db_rows(f"{d}/t.db", "select count(*) from orderbook_events")[0][0]
    assert n1 == n2 and n1 > 0, (n1, n2)
    assert s["events_written"] == 0, s


@test
def malformed_lines_are_named_counted_and_skipped():
    d = tmpdir()
    feed = os.path.join(d, "bad.jsonl")
    good = open(rec("sample.jsonl")).read().splitlines()
    lines = good[:4] + ['{"type":"delta","asset_id":"yes","seq":2,"side":"bid","price":"0.1234567","size":"1"}',
                        '{not json', '\xff\xfe garbage'] + good[4:]
    with open(feed, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(lines) + "\n")
    url = f"sqlite:///{d}/m.db"
    r = run("replay", feed, "--db-url", url, "--json", check=0)
    s = json.loads(r.stdout)
    assert s["malformed"] == 3, s
    assert f"{feed}:5: field 'price': more than 6 fractional digits" in r.stderr, r.stderr
    assert f"{feed}:6:" in r.stderr and f"{feed}:7:" in r.stderr, r.stderr
    # Nothing accepted is lost: the books equal a clean replay's.
    clean = f"sqlite:///{d}/c.db"
    run("replay", rec("sample.jsonl"), "--db-url", clean, check=0)
    for m, a in [("mkt-1", "yes"), ("mkt-2", "no")]:
        b1 = json.loads(run("book", m, a, "--db-url", url, "--json", check=0).stdout)
        b2 = json.loads(run("book", m, a, "--db-url", clean, "--json", check=0).stdout)
        assert (b1["bids"], b1["asks"]) == (b2["bids"], b2["asks"]), (b1, b2)


@test
def strict_stops_at_first_bad_line_keeping_earlier_ones():
    d = tmpdir()
    feed = os.path.join(d, "bad.jsonl")
    good = open(rec("sample.jsonl")).read().splitlines()
    open(feed, "w").write("\n".join(good[:6] + ["{broken"] + good[6:]) + "\n")
    url = f"sqlite:///{d}/s.db"
    r = run("replay", feed, "--strict", "--db-url", url, check=1)
    assert f"{feed}:7:" in r.stderr, r.stderr
    n = db_rows(f"{d}/s.db", "select count(*) from orderbook_events")[0][0]
    assert n == 6, n  # six good lines, one row each


@test
def huge_line_and_invalid_utf8_do_not_crash():
    d = tmpdir()
    feed = os.path.join(d, "huge.jsonl")
    with open(feed, "wb") as f:
        f.write(open(rec("sample.jsonl"), "rb").read().splitlines()[0] + b"\n")
        f.write(b'{"event_type":"book","pad":"' + b"x" * (10 << 20) + b'"\n')  # 10 MB, unterminated string
        f.write(b'{"event_type":"book","market":"\xc3\x28","asset_id":"a","bids":[],"asks":[]}\n')
        f.write(b"\x00\x01\x02\n")
    t = time.time()
    r = run("replay", feed, "--db-url", f"sqlite:///{d}/h.db", "--json", check=0, timeout=60)
    assert json.loads(r.stdout)["malformed"] == 3, r.stdout
    assert time.time() - t < 30


@test
def kill_9_mid_replay_then_rerun_is_exact():
    d = tmpdir()
    feed = os.path.join(d, "feed.jsonl")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "gen_recording.py"), "--format", "P",
                    "--markets", "20", "--events", "2", "--outcomes", "4", "--messages", "150000", "--seed", "3",
                    "--envelope", "--out", feed], check=True)
    ref = f"{d}/ref.db"
    run("replay", feed, "--db-url", f"sqlite:///{ref}", check=0, timeout=300)
    ref_rows = db_rows(ref, "select count(*), sum(line), sum(price), sum(size) from orderbook_events")[0]
    db = f"{d}/k.db"
    for delay in (0.15, 0.4, 0.8):
        p = subprocess.Popen([PH, "replay", feed, "--db-url", f"sqlite:///{db}"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert db_rows(db, "pragma integrity_check")[0][0] == "ok"
    run("replay", feed, "--db-url", f"sqlite:///{db}", check=0, timeout=300)
    got = db_rows(db, "select count(*), sum(line), sum(price), sum(size) from orderbook_events")[0]
    assert got == ref_rows, (got, ref_rows)
    dup = db_rows(db, "select count(*) from (select source_id, line, item from orderbook_events "
                      "group by 1,2,3 having count(*) > 1)")[0][0]
    assert dup == 0
    b1 = run("book", "--json", "--db-url", f"sqlite:///{db}", *first_asset(ref), check=0).stdout
    b2 = run("book", "--json", "--db-url", f"sqlite:///{ref}", *first_asset(ref), check=0).stdout
    assert json.loads(b1)["bids"] == json.loads(b2)["bids"]


def first_asset(db):
    return db_rows(db, "select market, asset_id from outcomes order by id limit 1")[0]


@test
def snapshot_and_prune_keep_books():
    d = tmpdir()
    url = f"sqlite:///{d}/p.db"
    run("replay", rec("sample.jsonl"), "--db-url", url, check=0)
    before = {a: run("book", "mkt-1", a, "--db-url", url, "--json", check=0).stdout for a in ("yes", "no")}
    out = run("snapshot", "--db-url", url, check=0).stdout
    assert "4 snapshots" in out, out
    run("prune", "--before", "9999999999999", "--db-url", url, check=0)
    after = {a: run("book", "mkt-1", a, "--db-url", url, "--json", check=0).stdout for a in ("yes", "no")}
    for a in before:
        b, c = json.loads(before[a]), json.loads(after[a])
        assert (b["bids"], b["asks"]) == (c["bids"], c["asks"]), (b, c)
    run("prune", "--db-url", url, check=2)  # --before is required


@test
def config_show_redacts_and_names_layers():
    d = tmpdir()
    cfg = os.path.join(d, "my.toml")
    open(cfg, "w").write('[db]\nurl = "sqlite:///./x.db"\n')
    sec = os.path.join(d, "secrets.local.toml")
    open(sec, "w").write('[relayer]\nprivate_key = "0xdeadbeefsecret"\n')
    os.chmod(sec, 0o600)
    r = run("config", "show", "--json", "--config", cfg, env={"POLYHOST_INGESTION_STALE_AFTER_MS": "1234"}, check=0)
    assert "deadbeef" not in r.stdout + r.stderr
    txt = run("config", "show", "--config", cfg, check=0).stdout
    assert "deadbeef" not in txt and cfg in txt, txt
    bad = os.path.join(d, "bad.toml")
    open(bad, "w").write('[db]\nulr = "x"\n')
    r = run("config", "show", "--config", bad, check=1)
    assert f"{bad}:2" in r.stderr and "db.url" in r.stderr, r.stderr


@test
def progress_is_quiet_when_piped():
    d = tmpdir()
    r = run("replay", rec("sample.jsonl"), "--db-url", f"sqlite:///{d}/q.db", check=0)
    assert "\r" not in r.stderr and "lines/s " not in r.stderr, repr(r.stderr)


def gen_event_feed(d, messages=4000, seed=5):
    feed, cat = os.path.join(d, "ev.jsonl"), os.path.join(d, "ev.catalog.json")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "gen_recording.py"), "--format", "P",
                    "--markets", "2", "--events", "2", "--outcomes", "4", "--messages", str(messages), "--seed", str(seed),
                    "--edge-rate", "0.03", "--out", feed, "--catalog", cat], check=True)
    return feed, cat


@test
def run_dutchbook_on_sample_gates_the_crossed_book():
    d = tmpdir()
    db = f"{d}/r.db"
    r = run("run", "--plugins", "dutchbook", "--feed", rec("sample.jsonl"), "--db-url", f"sqlite:///{db}", "--json", check=0)
    s = json.loads(r.stdout)
    p = s["plugins"][0]
    assert p["name"] == "dutchbook" and p["plans"] == 1 and p["rejects_by_reason"] == {"crossed_book": 1}, s
    rows = db_rows(db, "select decision, reason from exec_audit")
    assert len(rows) == 1 and rows[0][0] == "rejected" and "crossed" in rows[0][1], rows
    assert db_rows(db, "select count(*) from orders")[0][0] == 0


@test
def run_dutchbook_paper_fills_are_recorded_consistently():
    d = tmpdir()
    feed, cat = gen_event_feed(d)
    db = f"{d}/p.db"
    r = run("run", "--plugins", "dutchbook", "--feed", feed, "--catalog", cat, "--relayer", "paper",
            "--db-url", f"sqlite:///{db}", "--json", check=0)
    s = json.loads(r.stdout)
    p = s["plugins"][0]
    assert p["accepted"] > 0 and p["fills"] > 0, s
    # No order without its accepted plan, no fill without its order, legs all FOK.
    orphans = db_rows(db, "select count(*) from orders o where not exists (select 1 from exec_audit a "
                          "where a.plan_id = o.plan_id and a.decision = 'accepted')")[0][0]
    assert orphans == 0
    assert db_rows(db, "select count(*) from fills f left join orders o on o.id = f.order_id where o.id is null")[0][0] == 0
    assert db_rows(db, "select count(distinct tif) from orders")[0] == (1,)
    assert db_rows(db, "select tif from orders limit 1")[0][0] == "FOK"
    # FOK at the leg level: a leg is filled completely or not at all, never partly.
    # (A basket can still end incomplete in paper trading: the replayed book keeps
    # showing liquidity an earlier plan already took, and the paper relayer
    # remembers that, so a later FOK leg on the same level is refused. The
    # plugin reports such baskets; see docs/paper-trading.md.)
    assert db_rows(db, "select count(*) from orders where status not in ('filled', 'cancelled')")[0][0] == 0
    assert db_rows(db, "select count(*) from orders where status = 'cancelled' and filled_size_micros > 0")[0][0] == 0
    assert db_rows(db, "select count(*) from orders where status = 'filled' and filled_size_micros != size_micros")[0][0] == 0
    assert float(p["pnl_at_mid"]) == float(p["pnl_at_mid"])  # a number


@test
def risk_config_caps_and_kill_switch_reach_the_gate():
    d = tmpdir()
    feed, cat = gen_event_feed(d)
    r = run("run", "--plugins", "dutchbook", "--feed", feed, "--catalog", cat, "--no-db", "--json",
            env={"POLYHOST_RISK_KILL_SWITCH": "dutchbook"}, check=0)
    p = json.loads(r.stdout)["plugins"][0]
    assert p["accepted"] == 0 and p["rejects_by_reason"] == {"kill_switch": p["plans"]} and p["plans"] > 0, p
    r = run("run", "--plugins", "dutchbook", "--feed", feed, "--catalog", cat, "--no-db", "--json",
            env={"POLYHOST_RISK_MAX_ORDER_NOTIONAL_USDC": "1"}, check=0)
    p = json.loads(r.stdout)["plugins"][0]
    assert p["rejects_by_reason"].get("max_order_notional", 0) > 0, p


@test
def quoter_run_prints_the_quote_lifecycle():
    r = run("quoter-run", rec("sample.jsonl"), "mkt-1", "yes", "--no-db", "--log-level", "warn", check=0)
    assert "quotes placed" in r.stdout and "quotes ended: filled" in r.stdout, r.stdout
    s = json.loads(run("quoter-run", rec("sample.jsonl"), "mkt-1", "yes", "--no-db", "--json",
                       "--log-level", "warn", check=0).stdout)
    p = s["plugins"][0]
    assert p["name"] == "spread" and p["orders"] > 0, p
    assert p["orders"] >= p["orders_filled"] + p["orders_cancelled"] + p["orders_rejected"], p
    run("quoter-run", rec("sample.jsonl"), "mkt-1", check=2)


@test
def harness_is_deterministic_and_checks_goldens():
    d = tmpdir()
    feed, cat = gen_event_feed(d, messages=3000, seed=9)
    out1, out2 = os.path.join(d, "a.jsonl"), os.path.join(d, "b.jsonl")
    r1 = run("harness", "--plugin", "dutchbook", "--feed", feed, "--catalog", cat, "--out", out1, check=0)
    r2 = run("harness", "--plugin", "dutchbook", "--feed", feed, "--catalog", cat, "--out", out2, check=0)
    assert r1.stdout.split("sha256 ")[1].split()[0] == r2.stdout.split("sha256 ")[1].split()[0]
    assert open(out1).read() == open(out2).read() and open(out1).read().count('"type":"plan"') > 0
    run("harness", "--plugin", "dutchbook", "--feed", feed, "--catalog", cat, "--expect", out1, check=0)
    lines = open(out1).read().splitlines()
    lines[0] = lines[0].replace('"plugin":"dutchbook"', '"plugin":"other"')
    bad = os.path.join(d, "bad.jsonl")
    open(bad, "w").write("\n".join(lines) + "\n")
    r = run("harness", "--plugin", "dutchbook", "--feed", feed, "--catalog", cat, "--expect", bad, check=1)
    assert "first difference at record 1" in r.stdout, r.stdout


@test
def plugins_list_shows_versions_and_failures():
    d = tmpdir()
    bogus = os.path.join(d, "bogus.so")
    open(bogus, "w").write("not a library")
    r = run("plugins", "list", "--plugins", f"dutchbook,{bogus}", "--json", check=0)
    infos = {i["name"]: i for i in json.loads(r.stdout)}
    assert infos["dutchbook"]["abi_version"] == "1.1.0" and infos["dutchbook"]["failure"] == "", infos
    assert infos["bogus"]["state"] == "failed" and infos["bogus"]["failure"], infos
    run("plugins", "list", check=0)


@test
def run_refuses_the_real_relayer_and_missing_plugins():
    d = tmpdir()
    r = run("run", "--plugins", "dutchbook", "--feed", rec("sample.jsonl"), "--no-db", "--relayer", "real", check=1)
    assert "needs a signing key" in r.stderr and "nothing was sent" in r.stderr, r.stderr
    r = run("run", "--plugins", "nosuchplugin", "--feed", rec("sample.jsonl"), "--no-db", check=1)
    assert "nosuchplugin" in r.stderr, r.stderr


if __name__ == "__main__":
    PH = sys.argv[1]
    name = sys.argv[2]
    TESTS[name]()
    print("ok", name)

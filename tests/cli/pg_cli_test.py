#!/usr/bin/env python3
"""End-to-end tests of polyhost on PostgreSQL (docs/postgresql.md). Each test is
one ctest entry:  pg_cli_test.py POLYHOST TEST_NAME
The server comes from POLYHOST_TEST_PG_URL (scripts/test.sh starts a throwaway
one); without it every test FAILS. Each test works in a fresh database."""
import atexit, json, os, shutil, sqlite3, subprocess, sys, tempfile, urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PH = None
TESTS = {}


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


def run(*args, check=None, timeout=300):
    e = dict(os.environ)
    e.pop("POLYHOST_DB_URL", None)
    r = subprocess.run([PH, *args], capture_output=True, text=True, env=e, timeout=timeout)
    if check is not None and r.returncode != check:
        raise AssertionError(f"{args}: exit {r.returncode}, expected {check}\nstdout: {r.stdout[-1500:]}\nstderr: {r.stderr[-1500:]}")
    return r


def tmpdir():
    d = tempfile.mkdtemp(prefix="pg-cli-test-")
    atexit.register(shutil.rmtree, d, True)
    return d


def base_url():
    url = os.environ.get("POLYHOST_TEST_PG_URL", "")
    if not url:
        sys.exit("FAIL: POLYHOST_TEST_PG_URL is not set; run `make test` (scripts/test.sh starts a throwaway "
                 "PostgreSQL 15) or scripts/pg_test_server.sh start DIR and export the URL it prints")
    return url


def psql(url, sql):
    r = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"psql {sql}: {r.stderr}")
    return r.stdout.strip()


def fresh_db(name):
    """A new, empty database on the test server; returns its URL."""
    base = base_url()
    db = f"ph_{name}_{os.getpid()}"
    psql(base, f"DROP DATABASE IF EXISTS {db}")
    psql(base, f"CREATE DATABASE {db}")
    atexit.register(subprocess.run, ["psql", base, "-qAtX", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"],
                    capture_output=True)
    p = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, "/" + db, p.query, p.fragment))


def rec(name):
    return os.path.join(ROOT, "recordings", name)


def all_books(url):
    status = json.loads(run("status", "--db-url", url, "--json", check=0).stdout)
    books = {}
    for a in status["assets"]:
        b = json.loads(run("book", a["market"], a["asset_id"], "--db-url", url, "--json", check=0).stdout)
        books[(a["market"], a["asset_id"])] = b
    return status, books


@test
def same_replay_same_books_on_both_backends():
    d = tmpdir()
    lite = f"sqlite:///{d}/s.db"
    pg = fresh_db("same")
    for feed in ["sample.jsonl", "polymarket/book_and_price_change.jsonl", "polymarket/price_change_shapes.jsonl"]:
        if not os.path.exists(rec(feed)):
            continue
        a = json.loads(run("replay", rec(feed), "--db-url", lite, "--json", check=0).stdout)
        b = json.loads(run("replay", rec(feed), "--db-url", pg, "--json", check=0).stdout)
        for k in ("lines", "events_written", "continuity_breaks", "malformed"):
            assert a.get(k) == b.get(k), (feed, k, a, b)
    s1, b1 = all_books(lite)
    s2, b2 = all_books(pg)
    assert s1 == s2, (s1, s2)
    assert len(b1) >= 4 and b1 == b2, (b1, b2)
    # A second replay writes nothing on either.
    again = json.loads(run("replay", rec("sample.jsonl"), "--db-url", pg, "--json", check=0).stdout)
    assert again["events_written"] == 0, again
    # Maintenance keeps the books identical.
    run("snapshot", "--db-url", pg, check=0)
    run("prune", "--before", "9999999999999", "--db-url", pg, check=0)
    assert all_books(pg)[1] == b1
    # A strategy run stores its plans, orders and fills on PostgreSQL too.
    cfg = os.path.join(ROOT, "config", "sample.toml")
    args = ["run", "--feed", rec("sample.jsonl"), "--plugins", "dutchbook,spread", "--json"]
    if os.path.exists(cfg):
        args += ["--config", cfg]
    r1 = json.loads(run(*args, "--db-url", f"sqlite:///{d}/run.db", check=0).stdout)
    pg_run = fresh_db("run")
    r2 = json.loads(run(*args, "--db-url", pg_run, check=0).stdout)
    strip = lambda r: {k: v for k, v in r.items() if "time" not in k and "_ms" not in k and "per_s" not in k and "us" not in k}
    assert strip(r1) == strip(r2), (r1, r2)
    v1 = json.loads(run("status", "--verbose", "--json", "--db-url", f"sqlite:///{d}/run.db", check=0).stdout)
    v2 = json.loads(run("status", "--verbose", "--json", "--db-url", pg_run, check=0).stdout)
    assert v1["assets"] == v2["assets"], (v1, v2)
    assert int(psql(pg_run, "SELECT count(*) FROM exec_audit")) == \
        sqlite3.connect(f"{d}/run.db").execute("SELECT count(*) FROM exec_audit").fetchone()[0]


@test
def migrate_prints_applies_and_is_idempotent():
    pg = fresh_db("migrate")
    sql = run("migrate", "--db-url", pg, "--print-sql", check=0).stdout
    assert "PARTITION BY RANGE (ts_ms)" in sql and "jsonb" in sql and "-- version 2:" in sql, sql[:500]
    lite_sql = run("migrate", "--db-url", "sqlite:///./never-created.db", "--print-sql", check=0).stdout
    assert "STRICT" in lite_sql and "PARTITION BY RANGE" not in lite_sql and "jsonb" not in lite_sql
    assert not os.path.exists("never-created.db")
    st = json.loads(run("migrate", "--db-url", pg, "--json", check=0).stdout)
    assert st["version"] == 0 and [p["version"] for p in st["pending"]] == [1, 2, 3, 4, 5], st
    first = run("migrate", "--db-url", pg, "--apply", check=0).stdout
    assert "applied version 1:" in first and "applied version 5:" in first, first
    again = json.loads(run("migrate", "--db-url", pg, "--apply", "--json", check=0).stdout)
    assert again["applied"] == [] and again["version"] == 5 and again["pending"] == [], again
    assert psql(pg, "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version") == "1,2,3,4,5"
    # Version 3: no per-row unique key on orderbook_events; its id index is BRIN.
    assert psql(pg, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'orderbook_events'::regclass"
                    " AND contype = 'u'") == "0"
    assert psql(pg, "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
                    " WHERE c.relname = 'orderbook_events_by_id'") == "brin"
    # The same history on SQLite.
    d = tmpdir()
    lite = json.loads(run("migrate", "--db-url", f"sqlite:///{d}/m.db", "--apply", "--json", check=0).stdout)
    assert [a["version"] for a in lite["applied"]] == [1, 2, 3, 4, 5], lite
    # Version 5: SQLite's events are blocks, read through the view orderbook_events.
    assert sqlite3.connect(f"{d}/m.db").execute(
        "SELECT type FROM sqlite_master WHERE name = 'orderbook_events'").fetchone()[0] == "view"
    assert [a["description"] for a in lite["applied"]] == [a["description"] for a in st["pending"]]
    run("migrate", "--db-url", pg, "--apply", "--print-sql", check=2)


def sqlite_with_books_and_orders():
    """A SQLite database with events, snapshots and execution rows (the sample
    replayed, then run with both plugins on the paper relayer): (its dir, its URL)."""
    d = tmpdir()
    lite = f"sqlite:///{d}/src.db"
    run("replay", rec("sample.jsonl"), "--db-url", lite, check=0)
    run("run", "--feed", rec("sample.jsonl"), "--plugins", "dutchbook,spread", "--relayer", "paper",
        "--config", os.path.join(ROOT, "config", "sample.toml"), "--db-url", lite, check=0)
    run("snapshot", "--db-url", lite, check=0)
    return d, lite


@test
def db_copy_moves_sqlite_into_postgresql_verified():
    d, lite = sqlite_with_books_and_orders()
    pg = fresh_db("copy")
    out = json.loads(run("db", "copy", "--from", lite, "--to", pg, "--json", check=0).stdout)
    assert out["verified"] is True, out
    con = sqlite3.connect(f"{d}/src.db")
    for t in out["tables"]:
        n = con.execute(f"SELECT count(*) FROM {t['table']}").fetchone()[0]
        assert t["rows"] == n == int(psql(pg, f"SELECT count(*) FROM {t['table']}")), (t, n)
    assert any(t["table"] == "orderbook_events" and t["rows"] > 0 for t in out["tables"])
    assert any(t["table"] == "orders" and t["rows"] > 0 for t in out["tables"]), out
    # Same books, and the copy keeps accepting writes (ids continue).
    assert all_books(lite) == all_books(pg)
    run("replay", rec("polymarket/book_and_price_change.jsonl"), "--db-url", pg, check=0)
    # A second copy into a non-empty database is refused; nothing changes.
    r = run("db", "copy", "--from", lite, "--to", pg, check=1)
    assert "already has rows" in r.stderr, r.stderr
    text = run("db", "copy", "--from", lite, "--to", fresh_db("copy2"), check=0).stdout
    assert "verified: row counts and checksums of every table match" in text, text
    r = run("db", "copy", "--from", pg, "--to", lite, check=1)
    assert "already has rows" in r.stderr, r.stderr


@test
def db_copy_goes_every_direction_verified():
    d, lite = sqlite_with_books_and_orders()
    want = all_books(lite)
    def copy(src, dst):
        out = json.loads(run("db", "copy", "--from", src, "--to", dst, "--json", check=0).stdout)
        assert out["verified"] is True, out
        assert all_books(dst) == want, dst
        return {t["table"]: (t["rows"], t["checksum"]) for t in out["tables"]}
    pg1, pg2 = fresh_db("dir1"), fresh_db("dir2")
    first = copy(lite, pg1)                           # sqlite -> postgresql
    assert copy(pg1, pg2) == first                    # postgresql -> postgresql
    assert copy(pg2, f"sqlite:///{d}/back.db") == first  # postgresql -> sqlite
    assert copy(lite, f"sqlite:///{d}/twin.db") == first  # sqlite -> sqlite
    # The copies keep working: a replay into each resumes ids and writes.
    for url in (f"sqlite:///{d}/back.db", pg2):
        w = json.loads(run("replay", rec("polymarket/book_and_price_change.jsonl"), "--db-url", url, "--json",
                           check=0).stdout)
        assert w["events_written"] > 0, w
    a, b = all_books(f"sqlite:///{d}/back.db"), all_books(pg2)
    assert a == b
    # Same database on both ends is refused.
    r = run("db", "copy", "--from", lite, "--to", lite, check=1)
    assert "same database" in r.stderr, r.stderr


SPREAD_FEED = os.path.join(ROOT, "plugins", "spread", "testdata", "fills.jsonl")
SPREAD_CONFIG = os.path.join(ROOT, "plugins", "spread", "testdata", "fills.toml")  # the settings for SPREAD_FEED


def paper_run_on_both(name):
    """The same paper-trading run into a SQLite file and a fresh PostgreSQL database."""
    d = tmpdir()
    cfg = os.path.join(d, "spread.toml")
    with open(cfg, "w") as f, open(SPREAD_CONFIG) as spread:
        f.write('[log]\nlevel = "warn"\n' + spread.read())
    lite, pg = f"sqlite:///{d}/run.db", fresh_db(name)
    for url in (lite, pg):
        run("run", "--plugins", "spread", "--feed", SPREAD_FEED, "--config", cfg, "--relayer", "paper",
            "--db-url", url, check=0)
        run("run", "--feed", rec("sample.jsonl"), "--plugins", "dutchbook,spread", "--config",
            os.path.join(ROOT, "config", "sample.toml"), "--db-url", url, check=0)
    return cfg, lite, pg


@test
def report_is_the_same_on_both_backends():
    cfg, lite, pg = paper_run_on_both("report")
    a = json.loads(run("report", "--db-url", lite, "--json", "--config", cfg, check=0).stdout)
    b = json.loads(run("report", "--db-url", pg, "--json", "--config", cfg, check=0).stdout)
    assert a.pop("db") == lite[len("sqlite:///"):] and b.pop("db") == pg, (a, b)
    assert a == b, (a, b)
    assert any(p["fills"] > 0 for p in a["plugins"]), a
    one = json.loads(run("report", "--db-url", pg, "--json", "--plugin", "spread", "--config", cfg, check=0).stdout)
    assert [p["plugin"] for p in one["plugins"]] == ["spread"], one
    r = run("report", "--db-url", "postgresql://u:pw-SECRET-42@127.0.0.1:1/x", check=1)
    assert "pw-SECRET-42" not in r.stderr + r.stdout and "***" in r.stderr, r.stderr


def exposition(text):
    """{(name, labels): value} of a Prometheus text exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, val = line.rsplit(" ", 1)
            out[key] = float(val)
    return out


@test
def metrics_read_postgresql_like_sqlite():
    cfg, lite, pg = paper_run_on_both("metrics")
    drop = ("db_size_bytes", "seconds_since_update")
    def table(url):
        m = json.loads(run("metrics", "--db-url", url, "--json", check=0).stdout)
        m.pop("db_size_bytes")
        for r in m["markets"]:
            r.pop("seconds_since_update")
        # Timings measured by each run (wall clock) differ; their count does not.
        m["engine"] = {"plans": m["engine"]["plans"]}
        return m
    a, b = table(lite), table(pg)
    assert a == b, (a, b)
    assert a["markets"] and a["plugins"] and a["engine"]["plans"] > 0, a
    assert "mk" in run("metrics", "--db-url", pg, check=0).stdout
    ea = exposition(run("metrics-export", "--db-url", lite, check=0).stdout)
    text = run("metrics-export", "--db-url", pg, check=0).stdout
    eb = exposition(text)
    # Everything but the size, the wall-clock age and the measured timings'
    # buckets and sums (their counts must agree).
    strip = lambda e: {k: v for k, v in e.items() if not k.startswith(("polyhost_db_size_bytes",
                                                                       "polyhost_market_seconds_since_update"))
                       and not (k.startswith(("polyhost_event_to_plan_seconds", "polyhost_plan_to_ack_seconds"))
                                and not k.endswith("_count"))}
    assert strip(ea) == strip(eb), set(strip(ea).items()) ^ set(strip(eb).items())
    assert eb["polyhost_db_size_bytes"] > 0 and eb["polyhost_db_schema_version"] == 5
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@test
def passwords_never_printed():
    for args in (["status"], ["replay", rec("sample.jsonl")], ["migrate", "--apply"], ["book", "m", "a"]):
        r = run(*args, "--db-url", "postgresql://polyuser:pw-SECRET-42@127.0.0.1:1/x", check=1)
        assert "pw-SECRET-42" not in r.stderr + r.stdout and "***" in r.stderr, (args, r.stderr)
    r = run("db", "copy", "--from", "sqlite:///./nope.db", "--to", "postgresql://u:pw-SECRET-42@127.0.0.1:1/x", check=1)
    assert "pw-SECRET-42" not in r.stderr + r.stdout, r.stderr


if __name__ == "__main__":
    PH = os.path.abspath(sys.argv[1])
    name = sys.argv[2]
    base_url()
    TESTS[name]()
    print(f"ok: {name}")

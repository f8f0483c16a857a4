#!/usr/bin/env python3
"""End-to-end tests of observability: JSON logs, module levels, metrics-export
(promtool check metrics), metrics-serve and run --metrics-port endpoints, the
alert rules (promtool check rules), status --verbose, and that secrets never
appear in any output. One ctest entry per test:
  obs_test.py POLYHOST TEST_NAME
promtool is required (Debian package `prometheus`, installed by scripts/setup.sh):
without it the promtool tests FAIL."""
import contextlib, json, os, re, shutil, signal, sqlite3, subprocess, sys, tempfile, time, urllib.error, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PH = None
TESTS = {}
SAMPLE = os.path.join(ROOT, "recordings", "sample.jsonl")
SAMPLE_CONFIG = os.path.join(ROOT, "config", "sample.toml")
KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
API = {"POLYHOST_CLOB_API_KEY": "obs-test-api-key-7f3a91c2",
       "POLYHOST_CLOB_API_SECRET": "b2JzLXRlc3Qtc2VjcmV0LXZhbHVlLTk5MTI=",
       "POLYHOST_CLOB_API_PASSPHRASE": "obs-test-passphrase-5521"}


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


def env_with(extra=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("POLYHOST_")}
    if extra:
        e.update(extra)
    return e


def run(*args, check=None, env=None, cwd=None, timeout=120):
    r = subprocess.run([PH, *args], capture_output=True, text=True, env=env_with(env), cwd=cwd, timeout=timeout)
    if check is not None and r.returncode != check:
        raise AssertionError(f"{args}: exit {r.returncode}, expected {check}\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    return r


def promtool():
    path = shutil.which("promtool") or ("/usr/bin/promtool" if os.path.exists("/usr/bin/promtool") else None)
    if path is None:
        raise AssertionError("promtool not found: install the Debian package 'prometheus' (make setup)")
    return path


def check_metrics_text(text):
    r = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True)
    # promtool check metrics exits 0 when clean, 3 for lint problems, 1 for parse errors.
    assert r.returncode == 0, f"promtool check metrics failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"


def sample_db(d, extra_env=None, log_level=None):
    db = f"sqlite:///{d}/run.db"
    args = ["run", "--feed", SAMPLE, "--plugins", "dutchbook,spread", "--config", SAMPLE_CONFIG, "--db-url", db]
    if log_level:
        args += ["--log-level", log_level]
    r = run(*args, check=0, env=extra_env, cwd=d)
    return db, r


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(text, name, **labels):
    s = samples(text)
    key = (name, frozenset(labels.items()))
    assert key in s, f"{name}{labels} not in metrics:\n{text[:3000]}"
    return s[key]


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def read_port(stream, pattern, deadline_s=20):
    end = time.time() + deadline_s
    seen = ""
    while time.time() < end:
        line = stream.readline()
        if not line:
            break
        seen += line
        m = re.search(pattern, line)
        if m:
            return (int(m.group(1)) if m.group(1) else 0), seen
    raise AssertionError(f"no port line matching {pattern!r} in:\n{seen}")


@contextlib.contextmanager
def metrics_run(d, *args):
    """`polyhost run ARGS --metrics-port 0 --metrics-hold` in d: yields (process, port). On the way
    out the run gets SIGTERM and, unless the body failed, must exit 0."""
    p = subprocess.Popen([PH, "run", *args, "--metrics-port", "0", "--metrics-hold"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with(), cwd=d)
    try:
        port, _ = read_port(p.stderr, r"metrics on http://127\.0\.0\.1:(\d+)/metrics")
        yield p, port
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
    assert rc == 0, (rc, p.stderr.read())


def scrape_after_feed(p, port, deadline_s=30):
    """/metrics of a held run once its feed is finished, checked by promtool."""
    deadline = time.time() + deadline_s
    while True:
        status, body = http_get(port, "/metrics")
        if status == 200 and "polyhost_run_feed_finished 1" in body:
            break
        assert time.time() < deadline and p.poll() is None, body
        time.sleep(0.1)
    check_metrics_text(body)
    return body


# ---------------------------------------------------------------------------------------------


@test
def metrics_export_passes_promtool_and_counts_the_run():
    d = tempfile.mkdtemp(prefix="obs-test-")
    db, _ = sample_db(d)
    r = run("metrics-export", "--db-url", db, check=0)
    check_metrics_text(r.stdout)
    t = r.stdout
    assert value(t, "polyhost_market_events_total", market="mkt-1", asset="yes") == 9
    assert value(t, "polyhost_plans_total", plugin="dutchbook", decision="rejected") == 1
    assert value(t, "polyhost_plan_rejects_total", plugin="dutchbook", reason="crossed_book") == 1
    assert value(t, "polyhost_plans_total", plugin="spread", decision="accepted") == 10
    assert value(t, "polyhost_orders_total", plugin="spread") == 10
    con = sqlite3.connect(f"{d}/run.db")
    measured, acked = con.execute("SELECT count(event_to_plan_us), count(plan_to_ack_us) FROM exec_audit").fetchone()
    con.close()
    assert measured > 0 and value(t, "polyhost_event_to_plan_seconds_count") == measured
    assert value(t, "polyhost_plan_to_ack_seconds_count") == acked
    assert value(t, "polyhost_db_size_bytes") > 0
    assert value(t, "polyhost_assets") == 4
    # Every exported name is documented in the runbook's metric table.
    doc = open(os.path.join(ROOT, "docs", "operations.md")).read()
    for name in {re.sub(r"_(bucket|sum|count)$", "", n) for (n, _) in samples(t)}:
        assert f"`{name}`" in doc, f"{name} is not documented in docs/operations.md"
    # stdout is pure exposition text: no log lines mixed in.
    assert all(l.startswith("#") or l.startswith("polyhost_") for l in t.splitlines() if l), t[:500]


@test
def metrics_table_shows_markets_and_plugins():
    d = tempfile.mkdtemp(prefix="obs-test-")
    db, _ = sample_db(d)
    out = run("metrics", "--db-url", db, check=0).stdout
    assert re.search(r"^mkt-1\s+yes\s+9\s+0\s+ok", out, re.M), out
    assert re.search(r"^mkt-2\s+no\s+5\s+1\s", out, re.M), out
    assert re.search(r"^dutchbook\s+1\s+0\s+1\s", out, re.M), out
    assert "rejected crossed_book" in out, out
    assert "event->plan p50" in out, out
    j = json.loads(run("metrics", "--db-url", db, "--json", check=0).stdout)
    assert len(j["markets"]) == 4
    spread = [p for p in j["plugins"] if p["plugin"] == "spread"][0]
    assert spread["plans"]["accepted"] == 10
    run("metrics", "--db-url", f"sqlite:///{d}/missing.db", check=1)
    run("metrics-export", "--db-url", "sqlite:///:memory:", check=2)


@test
def alert_rules_and_dashboard_are_valid():
    rules = os.path.join(ROOT, "docs", "monitoring", "alerts.yml")
    r = subprocess.run([promtool(), "check", "rules", rules], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    text = open(rules).read()
    for alert in ["PolyhostMarketStale", "PolyhostReconnectStorm", "PolyhostPluginDisabled"]:
        assert f"alert: {alert}" in text, alert
    dash = json.load(open(os.path.join(ROOT, "docs", "monitoring", "grafana-dashboard.json")))
    assert dash["panels"], "dashboard has no panels"
    doc = open(os.path.join(ROOT, "docs", "operations.md")).read()
    used = set(re.findall(r"polyhost_[a-z0-9_]+", text + json.dumps(dash)))
    for name in used:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert f"`{base}`" in doc, f"{name} (rules/dashboard) is not documented in docs/operations.md"
    for p in dash["panels"]:
        for t in p.get("targets", []):
            assert "polyhost_" in t["expr"], t


@test
def metrics_serve_endpoints():
    d = tempfile.mkdtemp(prefix="obs-test-")
    db, _ = sample_db(d)
    p = subprocess.Popen([PH, "metrics-serve", "--host", "127.0.0.1", "--port", "0", "--db-url", db],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with())
    try:
        port, _ = read_port(p.stdout, r"^port (\d+)$")
        status, body = http_get(port, "/metrics")
        assert status == 200, (status, body)
        check_metrics_text(body)
        assert value(body, "polyhost_market_events_total", market="mkt-2", asset="no") == 5
        assert http_get(port, "/healthz") == (200, "ok\n")
        assert http_get(port, "/readyz")[0] == 200
        assert http_get(port, "/other")[0] == 404
        # A new run is visible at the next scrape (metrics are read at scrape time).
        run("run", "--feed", SAMPLE, "--plugins", "spread", "--config", SAMPLE_CONFIG, "--db-url", db, check=0, cwd=d)
        body2 = http_get(port, "/metrics")[1]
        assert value(body2, "polyhost_plans_total", plugin="spread", decision="accepted") == 20
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
    assert rc == 0, (rc, p.stderr.read())
    # Not ready while the database is missing; /metrics says why with a 500.
    p = subprocess.Popen([PH, "metrics-serve", "--port", "0", "--db-url", f"sqlite:///{d}/none.db"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with())
    try:
        port, _ = read_port(p.stdout, r"^port (\d+)$")
        status, body = http_get(port, "/readyz")
        assert status == 503 and "none.db" in body, (status, body)
        assert http_get(port, "/healthz")[0] == 200
        assert http_get(port, "/metrics")[0] == 500
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) == 0
    run("metrics-serve", "--host", "not-an-address", "--port", "0", "--db-url", db, check=1)


@test
def run_metrics_port_serves_live_and_database_metrics():
    d = tempfile.mkdtemp(prefix="obs-test-")
    db = f"sqlite:///{d}/run.db"
    with metrics_run(d, "--feed", SAMPLE, "--plugins", "dutchbook,spread", "--config", SAMPLE_CONFIG,
                     "--db-url", db) as (p, port):
        body = scrape_after_feed(p, port)
        lines = sum(1 for _ in open(SAMPLE))
        assert value(body, "polyhost_feed_lines_total") == lines
        snapshots = sum('"type":"snapshot"' in l for l in open(SAMPLE))  # the sample is format S
        assert snapshots > 0 and value(body, "polyhost_feed_messages_total", type="snapshot") == snapshots
        assert value(body, "polyhost_feed_messages_total", type="delta") > 0
        assert value(body, "polyhost_plugin_disabled", plugin="spread") == 0
        assert value(body, "polyhost_run_plans_total") == 11
        assert value(body, "polyhost_market_events_total", market="mkt-1", asset="yes") == 9
        assert http_get(port, "/readyz")[0] == 200
        read_port(p.stderr, r"()serving metrics until SIGINT")  # the signal is awaited from here on
    run("run", "--feed", SAMPLE, "--plugins", "spread", "--no-db", "--metrics-hold", check=2)


@test
def run_metrics_port_serves_latency_histograms():
    """Book update latency (one line in 64), DB write latency and batch sizes (per
    batch), writer queue depth: present, in base units, and counting what ran."""
    d = tempfile.mkdtemp(prefix="obs-test-")
    feed = os.path.join(d, "feed.jsonl")
    lines = 200
    with open(feed, "w") as f:
        for i in range(lines):
            f.write(json.dumps({"type": "snapshot", "market": "mkt-1", "asset_id": "yes", "seq": i + 1,
                                "ts_ms": 1763000000000 + i, "bids": [["0.4", str(100 + i)]],
                                "asks": [["0.6", "100"]]}) + "\n")
    db = f"sqlite:///{d}/run.db"
    with metrics_run(d, "--feed", feed, "--plugins", "spread", "--config", SAMPLE_CONFIG, "--db-url", db) as (p, port):
        body = scrape_after_feed(p, port)
        assert value(body, "polyhost_book_update_seconds_count") == lines // 64
        assert value(body, "polyhost_book_update_seconds_bucket", le="+Inf") == lines // 64
        assert 0 < value(body, "polyhost_book_update_seconds_sum") < 1
        batches = value(body, "polyhost_store_batches_total")
        assert batches >= 1
        assert value(body, "polyhost_store_write_latency_seconds_count") == batches
        assert 0 < value(body, "polyhost_store_write_latency_seconds_sum") < 60
        assert value(body, "polyhost_store_batch_events_count") == batches
        assert value(body, "polyhost_store_batch_events_sum") == value(body, "polyhost_store_events_written_total") == lines
        assert value(body, "polyhost_store_queue_depth") == 0  # the feed is done and flushed
        assert value(body, "polyhost_store_queue_high_water") >= 1
        read_port(p.stderr, r"()serving metrics until SIGINT")


@test
def run_ws_metrics_port_serves_websocket_counters():
    # A live run against tests/live/mock_venue.py: two REST resync books, one frame.
    d = tempfile.mkdtemp(prefix="obs-test-")
    books = {"1111": {"market": "0xmkt", "timestamp": "5", "bids": [{"price": "0.40", "size": "100"}],
                      "asks": [{"price": "0.45", "size": "100"}]},
             "2222": {"market": "0xmkt", "timestamp": "5", "bids": [{"price": "0.45", "size": "100"}],
                      "asks": [{"price": "0.50", "size": "100"}]}}
    scenario = os.path.join(d, "scenario.json")
    with open(scenario, "w") as f:
        json.dump({"books": books, "connections": [[{"wait_books": 2}, {"sleep_ms": 700}, {"send": "PONG"}]]}, f)
    mock = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "live", "mock_venue.py"), "--scenario",
                             scenario, "--log", os.path.join(d, "mock.log")], stdout=subprocess.PIPE, text=True)
    try:
        ready = mock.stdout.readline().split()
        assert ready and ready[0] == "READY", ready
        ws, http = f"ws://127.0.0.1:{ready[1]}/ws/market", f"http://127.0.0.1:{ready[2]}"
        with metrics_run(d, "--ws", ws, "--market", "0xmkt", "--assets", "1111,2222", "--clob-url", http,
                         "--plugins", "dutchbook", "--max-messages", "1", "--relayer", "fake",
                         "--db-url", f"sqlite:///{d}/run.db") as (p, port):
            body = scrape_after_feed(p, port)
            assert value(body, "polyhost_ws_connects_total") >= 1
            assert value(body, "polyhost_resyncs_total") == 2
            assert value(body, "polyhost_feed_lines_total") >= 2  # the 2 resync books (+ the frame, if it came first)
            assert value(body, "polyhost_feed_queue_overflows_total") == 0
            assert value(body, "polyhost_run_assets") == 2
            read_port(p.stderr, r"()serving metrics until SIGINT")
    finally:
        mock.kill()
        mock.wait()


@test
def json_logs_are_one_object_per_line_with_fields():
    d = tempfile.mkdtemp(prefix="obs-test-")
    bad = os.path.join(d, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"broken\n')
        f.write(open(SAMPLE).read())
    r = run("run", "--feed", bad, "--plugins", "dutchbook,spread", "--config", SAMPLE_CONFIG, "--no-db",
            "--log-format", "json", "--log-level", "info,run=debug", check=0)
    records = []
    for line in r.stderr.splitlines():
        o = json.loads(line)  # every stderr line is one JSON object
        for k in ("ts", "level", "logger", "msg"):
            assert k in o, (k, line)
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", o["ts"]), o
        records.append(o)
    assert any(o["level"] == "warn" and "bad.jsonl:1" in o["msg"] for o in records), r.stderr
    rejected = [o for o in records if o["msg"] == "plan rejected"]
    assert rejected and rejected[0]["logger"] == "run" and rejected[0]["plugin"] == "dutchbook", records
    assert rejected[0]["reason"] == "crossed_book" and rejected[0]["market"] and rejected[0]["asset"], rejected[0]
    assert rejected[0]["plan_id"].endswith(":1") or ":" in rejected[0]["plan_id"], rejected[0]
    assert any(o["msg"] == "book stale" and o["market"] == "mkt-2" for o in records), records
    # The same through the config file and the environment.
    env = {"POLYHOST_LOG_FORMAT": "json"}
    r = run("replay", bad, "--no-db", env=env, check=0)
    assert json.loads(r.stderr.splitlines()[0])["level"] == "warn", r.stderr
    # Text for people.
    r = run("replay", bad, "--no-db", "--log-format", "text", check=0)
    assert r.stderr.startswith("warn: "), r.stderr
    run("replay", bad, "--no-db", "--log-format", "xml", check=2)
    # On stdout for a log collector ([log] stream / --log-stream / POLYHOST_LOG_STREAM):
    # nothing on stderr, every log record a JSON line on stdout before the summary.
    r = run("replay", bad, "--no-db", "--log-format", "json", "--log-stream", "stdout", check=0)
    assert r.stderr == "", r.stderr
    first = json.loads(r.stdout.splitlines()[0])
    assert first["level"] == "warn" and "bad.jsonl:1" in first["msg"], r.stdout
    r = run("replay", bad, "--no-db", env={"POLYHOST_LOG_STREAM": "stdout"}, check=0)
    assert r.stderr == "" and r.stdout.startswith("warn: "), (r.stdout, r.stderr)
    run("replay", bad, "--no-db", "--log-stream", "syslog", check=2)


@test
def module_levels_from_flag_and_config():
    d = tempfile.mkdtemp(prefix="obs-test-")
    args = ["run", "--feed", SAMPLE, "--plugins", "dutchbook", "--config", SAMPLE_CONFIG, "--no-db"]
    quiet = run(*args, "--log-level", "warn", check=0).stderr
    assert "plan rejected" not in quiet and "book stale" not in quiet, quiet
    loud = run(*args, "--log-level", "warn,run=debug", check=0).stderr
    assert "plan rejected" in loud, loud
    cfg = os.path.join(d, "c.toml")
    with open(cfg, "w") as f:
        f.write(open(SAMPLE_CONFIG).read() + '\n[log]\nlevel = "warn"\nmodules = ["run=debug"]\n')
    via_config = run("run", "--feed", SAMPLE, "--plugins", "dutchbook", "--config", cfg, "--no-db", check=0).stderr
    assert "plan rejected" in via_config, via_config
    r = run(*args, "--log-level", "info,nosuch=debug", check=2)
    assert "unknown module 'nosuch'" in r.stderr, r.stderr
    r = run(*args, env={"POLYHOST_LOG_MODULES": "run=chatty"}, check=1)
    assert "POLYHOST_LOG_MODULES" in r.stderr and "chatty" in r.stderr, r.stderr


@test
def status_verbose_shows_quotes_depth_and_engine_timings():
    d = tempfile.mkdtemp(prefix="obs-test-")
    db, _ = sample_db(d)
    out = run("status", "--verbose", "--db-url", db, check=0).stdout
    assert re.search(r"depth \(top 5 levels\): bid \S+ on \d+ levels, ask \S+ on \d+ levels", out), out
    assert re.search(r"event->plan p50 \d+ us p99 \d+ us; plan->ack p50 \d+ us p99 \d+ us", out), out
    j = json.loads(run("status", "--verbose", "--json", "--db-url", db, check=0).stdout)
    a = [x for x in j["assets"] if x["market"] == "mkt-1" and x["asset_id"] == "yes"][0]
    # The stored book's top levels agree with `polyhost book`.
    book = json.loads(run("book", "mkt-1", "yes", "--db-url", db, "--json", check=0).stdout)
    assert a["bid_levels"] == len(book["bids"]) and a["ask_levels"] == len(book["asks"]), (a, book)
    assert a["spread"] is not None
    assert j["engine"]["plans"] == 11 and j["engine"]["event_to_plan_p99_us"] >= 0


@test
def secrets_never_appear_in_output_logs_or_metrics():
    d = tempfile.mkdtemp(prefix="obs-test-")
    env = {"POLYHOST_RELAYER_PRIVATE_KEY": KEY, **API, "POLYHOST_LOG_FORMAT": "json"}
    db, r0 = sample_db(d, extra_env=env, log_level="trace")
    outputs = [r0.stdout, r0.stderr]
    for args in (["config", "show"], ["config", "show", "--json"], ["metrics", "--db-url", db],
                 ["metrics", "--json", "--db-url", db], ["metrics-export", "--db-url", db],
                 ["status", "--verbose", "--db-url", db], ["status", "--verbose", "--json", "--db-url", db],
                 ["relayer-dry-run", "0xabc", "123456", "buy", "0.5", "10", "--log-level", "trace"],
                 ["run", "--feed", SAMPLE, "--plugins", "dutchbook,spread", "--config", SAMPLE_CONFIG, "--no-db",
                  "--log-level", "trace",
                  "--log-format", "text", "--json"]):
        r = run(*args, env=env, check=0)
        outputs += [r.stdout, r.stderr]
        if args[0] == "relayer-dry-run":  # the key was really used: it signed as its address
            assert "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23" in r.stdout + r.stderr, r.stdout + r.stderr
        if args == ["config", "show"]:
            assert re.search(r"relayer\.private_key\s+\*\*\*\s+env POLYHOST_RELAYER_PRIVATE_KEY", r.stdout), r.stdout
    p = subprocess.Popen([PH, "metrics-serve", "--port", "0", "--db-url", db, "--log-level", "trace"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with(env))
    try:
        port, seen = read_port(p.stdout, r"^port (\d+)$")
        outputs += [seen] + [http_get(port, path)[1] for path in ("/metrics", "/healthz", "/readyz")]
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
        outputs += [out, err]
    with open(f"{d}/run.db", "rb") as f:
        outputs.append(f.read().decode("latin-1"))
    everything = "\n".join(outputs)
    assert len(everything) > 1000, "the commands produced almost no output"
    for name, secret in [("private key", KEY), ("private key (0x)", "0x" + KEY)] + list(API.items()):
        assert secret not in everything, f"{name} leaked"
    assert KEY[:16] not in everything, "a prefix of the private key leaked"


def main():
    global PH
    if len(sys.argv) != 3 or sys.argv[2] not in TESTS:
        print(f"usage: {sys.argv[0]} POLYHOST TEST ({', '.join(TESTS)})", file=sys.stderr)
        return 2
    PH = os.path.abspath(sys.argv[1])
    TESTS[sys.argv[2]]()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""End-to-end tests of the real relayer against tests/relayer/mock_clob.py.
  relayer_test.py POLYHOST TEST_NAME
Each test starts its own mock on a loopback port; the mock logs every request
it received, so "nothing was sent" is checked from the server's side."""
import contextlib, json, os, shutil, sqlite3, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"
PH = None
TESTS = {}

PRIVATE_KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
API_KEY = "test-api-key-0f3a"
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
PASSPHRASE = "test-passphrase-77c1"
SECRETS = [PRIVATE_KEY[2:], API_KEY, SECRET, PASSPHRASE]


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


class Mock:
    def __init__(self, d, *extra):
        self.log = os.path.join(d, f"mock-{time.monotonic_ns()}.jsonl")
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "mock_clob.py"), "--log", self.log, "--api-key", API_KEY,
                                      "--secret", SECRET, "--passphrase", PASSPHRASE, *extra],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def close(self):
        self.proc.kill()
        self.proc.wait()


@contextlib.contextmanager
def mock_clob(*extra):
    """A fresh directory and a mock CLOB started with `extra` flags, killed on the way out."""
    d = tempfile.mkdtemp(prefix="relayer-test-")
    mock = Mock(d, *extra)
    try:
        yield d, mock
    finally:
        mock.close()


def env_for(mock_url, dry_run, extra=None):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("POLYHOST_"):
            del e[k]
    e.update({"POLYHOST_POLYMARKET_CLOB_URL": mock_url, "POLYHOST_RELAYER_DRY_RUN": "true" if dry_run else "false",
              "POLYHOST_RELAYER_PRIVATE_KEY": PRIVATE_KEY, "POLYHOST_RELAYER_API_KEY": API_KEY,
              "POLYHOST_RELAYER_API_SECRET": SECRET, "POLYHOST_RELAYER_API_PASSPHRASE": PASSPHRASE})
    e.update(extra or {})
    return e


def run(args, env, check=None, cwd=None):
    r = subprocess.run([PH, *args], capture_output=True, text=True, env=env, timeout=300, cwd=cwd)
    if check is not None and r.returncode != check:
        raise AssertionError(f"{args}: exit {r.returncode}, expected {check}\nstdout: {r.stdout[-2000:]}\n"
                             f"stderr: {r.stderr[-2000:]}")
    for s in SECRETS:
        assert s not in r.stdout and s not in r.stderr, f"a secret leaked into the output of {args}"
    return r


def gen_feed(d):
    feed, cat = os.path.join(d, "ev.jsonl"), os.path.join(d, "ev.catalog.json")
    subprocess.run([PY, os.path.join(ROOT, "tools", "gen_recording.py"), "--format", "P", "--markets", "2",
                    "--events", "2", "--outcomes", "4", "--messages", "4000", "--seed", "5", "--edge-rate", "0.03",
                    "--out", feed, "--catalog", cat], check=True)
    return feed, cat


def run_dutchbook(d, mock, dry_run, extra_env=None, check=0):
    feed, cat = gen_feed(d)
    db = os.path.join(d, "r.db")
    r = run(["run", "--plugins", "dutchbook", "--feed", feed, "--catalog", cat, "--relayer", "real",
             "--db-url", f"sqlite:///{db}", "--json"], env_for(mock.url, dry_run, extra_env), check=check, cwd=d)
    return r, db


def rows(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@test
def dry_run_sends_nothing():
    with mock_clob() as (d, mock):
        r, db = run_dutchbook(d, mock, dry_run=True)
        p = json.loads(r.stdout)["plugins"][0]
        assert p["accepted"] > 0, p
        assert mock.requests() == [], mock.requests()  # not even GET /version
        n = rows(db, "select count(*) from orders where relayer = 'real' and dry_run = 1")[0][0]
        assert n > 0 and n == rows(db, "select count(*) from orders")[0][0]
        assert rows(db, "select count(*) from orders where dry_run = 0")[0][0] == 0
        assert "not sent" in r.stderr, r.stderr[-2000:]


@test
def live_orders_are_signed_authenticated_and_exact():
    with mock_clob() as (d, mock):
        r, db = run_dutchbook(d, mock, dry_run=False)
        reqs = mock.requests()
        assert reqs and (reqs[0]["method"], reqs[0]["path"]) == ("GET", "/version"), reqs[:1]
        posts = [q for q in reqs if (q["method"], q["path"]) == ("POST", "/order")]
        assert posts, reqs
        assert all(q["auth_ok"] for q in posts), [q for q in posts if not q["auth_ok"]][:1]
        assert all(q["shape_ok"] for q in posts), [q["shape_error"] for q in posts if not q["shape_ok"]][:3]
        for q in posts:
            body = json.loads(q["body"])
            assert body["orderType"] == "FOK" and body["owner"] == API_KEY  # dutchbook legs are FOK
            assert q["headers"]["POLY_API_KEY"] == API_KEY
        # One POST per order the run sent, each recorded as live (dry_run = 0).
        assert rows(db, "select count(*) from orders where dry_run = 0 and status = 'acked'")[0][0] == len(posts)
        assert rows(db, "select count(*) from orders where dry_run = 1")[0][0] == 0
        assert "LIVE" in r.stderr


@test
def venue_rejects_are_mapped_into_exec_audit():
    with mock_clob("--reject", "not enough balance / allowance") as (d, mock):
        r, db = run_dutchbook(d, mock, dry_run=False)
        posts = [q for q in mock.requests() if q["path"] == "/order"]
        assert posts
        audits = rows(db, "select reason from exec_audit where decision = 'venue_rejected'")
        assert len(audits) == len(posts), (len(audits), len(posts))
        assert all("insufficient_balance_allowance: not enough balance / allowance" in a[0] for a in audits), audits[:2]
        errs = rows(db, "select status, error from orders where status = 'rejected'")
        assert len(errs) == len(posts) and all(e[1].startswith("insufficient_balance_allowance") for e in errs)
        p = json.loads(r.stdout)["plugins"][0]
        assert p["orders_rejected"] == len(posts), p
    # Other venue messages map to their own codes.
    for message, code in [("order 0xab is invalid. Price (0.555) breaks minimum tick size rule: 0.01", "invalid_tick"),
                          ("order 0xab is invalid. Size (1) lower than the minimum: 5", "below_min_size")]:
        with mock_clob("--reject", message) as (d, mock):
            r, db = run_dutchbook(d, mock, dry_run=False)
            audits = rows(db, "select reason from exec_audit where decision = 'venue_rejected'")
            assert audits and all(f"{code}: {message}" in a[0] for a in audits), audits[:1]


@test
def version_mismatch_refuses_to_start():
    with mock_clob("--version", "3") as (d, mock):
        r, db = run_dutchbook(d, mock, dry_run=False, check=1)
        assert "version 3" in r.stderr and "refusing to send" in r.stderr, r.stderr
        assert [(q["method"], q["path"]) for q in mock.requests()] == [("GET", "/version")]
    # Missing credentials in live mode: refused before any request.
    with mock_clob() as (d, mock):
        r, db = run_dutchbook(d, mock, dry_run=False, extra_env={"POLYHOST_RELAYER_API_SECRET": ""}, check=1)
        assert "api_secret" in r.stderr, r.stderr
        assert mock.requests() == []


@test
def rate_limit_is_respected():
    with mock_clob() as (d, mock):
        # Bucket of 3, refilled at 3 per 300 ms = 10 per second.
        r, db = run_dutchbook(d, mock, dry_run=False, extra_env={"POLYHOST_RELAYER_RATE_LIMITS": "POST /order=3/300ms"})
        t = [q["t"] for q in mock.requests() if q["path"] == "/order"]
        assert len(t) >= 10, len(t)
        # In any window of length w at most 3 + 10 w requests (the bucket's bound), with 100 ms slack for
        # scheduling delays at the server (ctest runs tests in parallel). Unlimited, all 48 go out in ~0.4 s.
        for i in range(len(t)):
            for j in range(i, len(t)):
                w = t[j] - t[i]
                assert j - i + 1 <= 3 + 10 * (w + 0.1), (i, j, w)
        assert t[-1] - t[0] >= (len(t) - 3) / 10 - 0.05, (t[-1] - t[0], len(t))


@test
def open_orders_and_cancel_all():
    with mock_clob() as (d, mock):
        # No orders yet: list (read-only, sent regardless of dry_run), then cancel-all in both modes.
        e = env_for(mock.url, dry_run=True)
        r = run(["relayer-open-orders", "--json"], e, check=0)
        assert json.loads(r.stdout) == []
        reqs = mock.requests()
        assert [(q["method"], q["path"], q["auth_ok"]) for q in reqs] == [("GET", "/data/orders", True)], reqs
        # dry_run = true: cancel-all sends nothing.
        r = run(["relayer-cancel-all"], e, check=0)
        assert "nothing was sent" in r.stdout and len(mock.requests()) == 1
        # dry_run = false: it does, authenticated.
        r = run(["relayer-cancel-all"], env_for(mock.url, dry_run=False), check=0)
        last = mock.requests()[-1]
        assert (last["method"], last["path"], last["auth_ok"], last["body"]) == ("DELETE", "/cancel-all", True, "")
        assert "cancelled 0 order(s)" in r.stdout
        # A key on the command line works but warns about shell history.
        e2 = dict(e)
        del e2["POLYHOST_RELAYER_PRIVATE_KEY"]
        r = subprocess.run([PH, "relayer-open-orders", "--private-key", PRIVATE_KEY], capture_output=True, text=True,
                           env=e2, timeout=60)
        assert r.returncode == 0 and "shell history" in r.stderr and PRIVATE_KEY[2:] not in r.stderr + r.stdout


@test
def quoter_places_and_cancels_live_orders():
    with mock_clob() as (d, mock):
        feed, cat = gen_feed(d)
        market = json.load(open(cat))[0]
        token = json.loads(market["clobTokenIds"])[0]
        r = run(["quoter-run", feed, market["conditionId"], token, "--relayer", "real", "--catalog", cat, "--no-db",
                 "--json"], env_for(mock.url, dry_run=False), check=0)
        p = json.loads(r.stdout)["plugins"][0]
        reqs = mock.requests()
        posts = [q for q in reqs if (q["method"], q["path"]) == ("POST", "/order")]
        deletes = [q for q in reqs if (q["method"], q["path"]) == ("DELETE", "/order")]
        assert posts and all(q["auth_ok"] and q["shape_ok"] for q in posts)
        assert all(json.loads(q["body"])["orderType"] == "GTC" for q in posts)
        # Every requote cancels the previous quote at the venue, by the venue's order id.
        assert len(deletes) == p["orders_cancelled"] > 0, (len(deletes), p)
        assert all(q["auth_ok"] and list(json.loads(q["body"])) == ["orderID"] for q in deletes)
        still_open = len(posts) - len(deletes)
        # The quotes left resting are listed (paged, 2 per page) and cancelled by cancel-all.
        e = env_for(mock.url, dry_run=False)
        listed = json.loads(run(["relayer-open-orders", "--json"], e, check=0).stdout)
        assert len(listed) == still_open > 0, (len(listed), still_open)
        r = run(["relayer-cancel-all"], e, check=0)
        assert f"cancelled {still_open} order(s)" in r.stdout, r.stdout
        assert json.loads(run(["relayer-open-orders", "--json"], e, check=0).stdout) == []


@test
def approvals_are_explained_not_sent():
    e = env_for("http://127.0.0.1:9", dry_run=False)
    r = run(["relayer-approve-usdc", "--amount", "1000", "--json"], e, check=0)
    doc = json.loads(r.stdout)
    assert doc["send"] is False and doc["chain_id"] == 137
    spenders = [t["spender"] for t in doc["transactions"]]
    assert spenders[:2] == ["0xE111180000d2663C0091e4f400237545B87B996B", "0xe2222d279d744050d28e00520010520000310F59"]
    t0 = doc["transactions"][0]
    assert t0["to"] == "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
    # approve(address,uint256): selector, spender word, 1000 USDC = 1e9 micro-units.
    assert t0["data"] == ("0x095ea7b3" + "000000000000000000000000e111180000d2663c0091e4f400237545b87b996b"
                          + format(1000 * 10**6, "064x")), t0["data"]
    assert "NOT part of this build" in doc["note"]
    r = run(["relayer-approve-outcome", "--token", "123", "--amount", "5"], e, check=0)
    assert "setApprovalForAll" in r.stdout and "0xa22cb465" in r.stdout and "NOT part of this build" in r.stdout
    assert "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045" in r.stdout
    run(["relayer-approve-usdc", "--amount", "-1"], e, check=2)
    run(["relayer-approve-outcome", "--token", "yes", "--amount", "1"], e, check=2)


@test
def api_key_create_and_derive_write_a_private_file():
    with mock_clob("--address", "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23") as (d, mock):
        e = env_for(mock.url, dry_run=True)
        for k in ("POLYHOST_RELAYER_API_KEY", "POLYHOST_RELAYER_API_SECRET", "POLYHOST_RELAYER_API_PASSPHRASE"):
            del e[k]  # what a new user has: only the key
        out = os.path.join(d, "creds.toml")
        r = run(["relayer-api-key", "create", "--out", out], e, check=0)  # run() asserts no secret is printed
        assert "created CLOB API credentials for 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23" in r.stdout, r.stdout
        assert os.stat(out).st_mode & 0o777 == 0o600
        text = open(out).read()
        assert f'api_key = "{API_KEY}"' in text and f'api_secret = "{SECRET}"' in text, text
        assert f'api_passphrase = "{PASSPHRASE}"' in text and "[relayer]" in text
        last = mock.requests()[-1]
        assert (last["method"], last["path"], last["auth_ok"]) == ("POST", "/auth/api-key", True), last
        assert last["headers"]["POLY_NONCE"] == "0" and "POLY_API_KEY" not in last["headers"]
        # An existing file is kept unless --force; derive with another nonce.
        run(["relayer-api-key", "derive", "--out", out, "--nonce", "7"], e, check=2)
        r = run(["relayer-api-key", "derive", "--out", out, "--nonce", "7", "--force"], e, check=0)
        last = mock.requests()[-1]
        assert (last["method"], last["path"], last["auth_ok"]) == ("GET", "/auth/derive-api-key", True), last
        assert last["headers"]["POLY_NONCE"] == "7"
        # The credentials work: the file is a valid secrets layer for an L2 request.
        shutil.copy(out, os.path.join(d, "secrets.local.toml"))
        cfg = os.path.join(d, "polyhost.toml")
        open(cfg, "w").write("")
        r = run(["relayer-open-orders", "--config", cfg, "--json"], e, check=0)
        assert mock.requests()[-1]["auth_ok"] is True and json.loads(r.stdout) == []


@test
def config_show_redacts_the_api_credentials():
    e = env_for("http://127.0.0.1:9", dry_run=True)
    r = run(["config", "show"], e, check=0)  # run() asserts no secret appears
    for key in ["api_key", "api_secret", "api_passphrase", "private_key"]:
        assert key in r.stdout, key


if __name__ == "__main__":
    PH = sys.argv[1]
    TESTS[sys.argv[2]]()
    print("ok", sys.argv[2])

#!/usr/bin/env python3
"""Secrets never leave in logs, metrics or the database (issue 11,
docs/reliability.md), after a full `polyhost run` that stores everything: the
paper relayer with a database, the metrics endpoint scraped while it serves,
trace-level logs in both formats, `config show`, `status`, `metrics`, with a
known private key, CLOB API credentials and a Telegram bot token configured in
secrets.local.toml. Every byte of every output, every HTTP answer and every
database file (the WAL included) is searched for each secret and its prefix.
Also: the metrics endpoint listens on loopback only by default (read from
/proc/net/tcp), and a world-readable secrets file produces a warning.

  redaction_test.py POLYHOST full_run_leaks_no_secret|metrics_bind_loopback_by_default"""
import glob, os, re, signal, subprocess, sys, threading, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, env_without_db, gen_feed, main, run, tmpdir

KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
API = {"POLYHOST_RELAYER_API_KEY": "11111111-2222-3333-4444-555555555555",
       "POLYHOST_RELAYER_API_SECRET": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlYw==",
       "POLYHOST_RELAYER_API_PASSPHRASE": "passphrase-for-redaction-test-0123"}
TOKEN = "7777777777:AAFakeTelegramTokenForRedaction_0123456"


def setup(d):
    cat = os.path.join(d, "ev.catalog.json")
    feed = gen_feed(d, "ev.jsonl", "--format", "P", "--markets", "3", "--events", "2", "--outcomes", "4",
                    "--messages", "3000", "--seed", "5", "--edge-rate", "0.03", "--catalog", cat)
    cfg = os.path.join(d, "polyhost.toml")
    with open(cfg, "w") as f:
        f.write("[plugin.tgbot]\nallowed_chat_ids = [42]\nbase_url = \"http://127.0.0.1:9\"\n")
    sec = os.path.join(d, "secrets.local.toml")
    with open(sec, "w") as f:
        f.write(f'[relayer]\nprivate_key = "0x{KEY}"\napi_key = "{API["POLYHOST_RELAYER_API_KEY"]}"\n'
                f'api_secret = "{API["POLYHOST_RELAYER_API_SECRET"]}"\n'
                f'api_passphrase = "{API["POLYHOST_RELAYER_API_PASSPHRASE"]}"\n'
                f'[plugin.tgbot]\ntoken = "{TOKEN}"\n')
    os.chmod(sec, 0o600)
    return feed, cat, cfg, sec


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:  # /readyz may be 503: its body still counts
        return e.read().decode("utf-8", "replace")


def start_run_with_metrics(ph, args):
    p = subprocess.Popen([ph, *args, "--metrics-port", "0", "--metrics-hold"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env_without_db())
    seen = ""
    end = time.time() + 120
    while time.time() < end:
        line = p.stderr.readline()
        if not line:
            break
        seen += line
        m = re.search(r"metrics on http://([0-9.]+):(\d+)/metrics", line)
        if m:
            # Keep draining stderr (trace logs): a full pipe would stall the run
            # and with it the endpoint we are about to scrape.
            rest = []
            t = threading.Thread(target=lambda: rest.append(p.stderr.read()), daemon=True)
            t.start()
            p.rest_of_stderr = (t, rest)
            return p, m.group(1), int(m.group(2)), seen
    p.kill()
    raise AssertionError(f"no metrics port line in:\n{seen}")


def listening_addresses(port):
    """Local addresses listening on `port`, from /proc/net/tcp{,6}."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for l in lines:
            local, state = l.split()[1], l.split()[3]
            addr, p = local.split(":")
            if int(p, 16) == port and state == "0A":  # LISTEN
                found.append(addr)
    return found


def full_run_leaks_no_secret(ph):
    d = tmpdir("redact")
    feed, cat, cfg, sec = setup(d)
    db = f"{d}/run.db"
    base = ["run", "--plugins", "dutchbook", "--feed", feed, "--catalog", cat, "--relayer", "paper",
            "--db-url", f"sqlite:///{db}", "--config", cfg, "--log-level", "trace"]
    outputs = []
    p, host, port, seen = start_run_with_metrics(ph, [*base, "--log-format", "json", "--json"])
    try:
        # SIGTERM is handled once the feed is done (the --metrics-hold phase);
        # wait for it: a slow build (make asan) takes more than a second.
        end = time.time() + 120
        while "polyhost_run_feed_finished 1" not in http_get(port, "/metrics") and time.time() < end:
            time.sleep(0.2)
        outputs += [seen] + [http_get(port, path) for path in ("/metrics", "/healthz", "/readyz")]
        assert "# TYPE" in outputs[-3], outputs[-3][:500]
    finally:
        p.send_signal(signal.SIGTERM)
        out = p.stdout.read()
        p.wait(timeout=60)
        t, rest = p.rest_of_stderr
        t.join(timeout=60)
        err = "".join(rest)
        outputs += [out, err]
    assert p.returncode == 0, f"run exited {p.returncode}:\n{err[-2000:]}"
    # The run really stored orders from the paper relayer (so the DB has rows to search).
    import sqlite3
    con = sqlite3.connect(db)
    n_orders = con.execute("select count(*) from orders").fetchone()[0]
    con.close()
    assert n_orders > 0, "the run placed no order: the DB search proves little"
    for args in (base + ["--log-format", "text"], ["config", "show", "--config", cfg],
                 ["config", "show", "--json", "--config", cfg], ["status", "--verbose", "--db-url", f"sqlite:///{db}"],
                 ["metrics", "--db-url", f"sqlite:///{db}"], ["metrics", "--json", "--db-url", f"sqlite:///{db}"],
                 ["report", "--db-url", f"sqlite:///{db}"]):
        r = run(ph, *args)
        assert r.returncode == 0 or args[0] == "report", f"{args}: exit {r.returncode}\n{r.stderr[-1500:]}"
        outputs += [r.stdout, r.stderr]
    for f in glob.glob(f"{d}/run.db*") + glob.glob(f"{d}/*.log"):
        with open(f, "rb") as fh:
            outputs.append(fh.read().decode("latin-1"))
    everything = "\n".join(outputs)
    assert len(everything) > 10000, "almost no output to search"
    assert "***" in everything, "config show redacts with ***: not seen"
    secrets = {"private key": KEY, "private key (0x)": "0x" + KEY, "private key prefix": KEY[:16],
               "bot token": TOKEN, "bot token secret part": TOKEN.split(":")[1], **API}
    for name, secret in secrets.items():
        assert secret not in everything, f"{name} leaked"
    # Case-insensitive too (hex keys are sometimes printed upper-case).
    low = everything.lower()
    assert KEY.lower() not in low and TOKEN.lower() not in low


def metrics_bind_loopback_by_default(ph):
    d = tmpdir("bind")
    feed, cat, cfg, sec = setup(d)
    p, host, port, seen = start_run_with_metrics(ph, ["run", "--plugins", "dutchbook", "--feed", feed, "--catalog",
                                                      cat, "--no-db"])
    try:
        assert host == "127.0.0.1", seen
        time.sleep(0.5)
        addrs = listening_addresses(port)
        assert addrs, f"nothing listens on port {port}"
        # 0100007F is 127.0.0.1 in /proc's byte order; any other (00000000 = all interfaces) fails.
        assert all(a == "0100007F" for a in addrs), f"port {port} listens on {addrs}, not loopback only"
    finally:
        p.send_signal(signal.SIGTERM)
        p.stdout.read()
        p.wait(timeout=60)
    # metrics-serve too ("metrics-serve: listening on http://HOST:PORT ..." on stdout).
    db = f"{d}/m.db"
    run(ph, "replay", feed, "--db-url", f"sqlite:///{db}", check=0)
    q = subprocess.Popen([ph, "metrics-serve", "--port", "0", "--db-url", f"sqlite:///{db}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_without_db())
    try:
        line = q.stdout.readline()
        m = re.search(r"listening on http://([0-9.]+):(\d+)", line) or re.match(r"port ()(\d+)", line)
        assert m, f"metrics-serve printed {line!r}"
        time.sleep(0.3)
        addrs = listening_addresses(int(m.group(2)))
        assert addrs and all(a == "0100007F" for a in addrs), f"metrics-serve listens on {addrs}"
    finally:
        q.send_signal(signal.SIGTERM)
        q.communicate(timeout=20)

if __name__ == "__main__":
    main({f.__name__: f for f in (full_run_leaks_no_secret, metrics_bind_loopback_by_default)})

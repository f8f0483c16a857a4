"""Helpers shared by the reliability tests (tests/reliability/*_test.py)."""
import hashlib, os, shutil, sqlite3, subprocess, sys, tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = "/usr/bin/python3"


def tmpdir(prefix):
    """A fresh temporary directory, removed when the test exits (kept, and
    named on stderr, when it fails or KEEP_TMP is set: for a look afterwards)."""
    d = tempfile.mkdtemp(prefix=f"reliability-{prefix}-")
    _tmpdirs.append(d)
    return d


_tmpdirs = []


def _cleanup(failed):
    for d in _tmpdirs:
        if failed or os.environ.get("KEEP_TMP"):
            print(f"kept {d}", file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)


def env_without_db():
    e = dict(os.environ)
    e.pop("POLYHOST_DB_URL", None)
    return e


def run(ph, *args, check=None, env=None, timeout=300, cwd=None):
    e = env_without_db()
    if env:
        e.update(env)
    r = subprocess.run([ph, *args], capture_output=True, text=True, env=e, timeout=timeout, cwd=cwd)
    if check is not None and r.returncode != check:
        raise AssertionError(f"{args}: exit {r.returncode}, expected {check}\n"
                             f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    return r


def gen_feed(d, name, *args):
    out = os.path.join(d, name)
    subprocess.run([PYTHON, os.path.join(ROOT, "tools", "gen_recording.py"), *args, "--out", out], check=True)
    return out


def rows(db, sql, params=()):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def integrity_ok(db):
    return rows(db, "pragma integrity_check") == [("ok",)]


def events_digest(db):
    """(count, sha256) of every stored event, by content (ids excluded: the ids
    are an implementation detail; line/item identify an event of a source)."""
    h = hashlib.sha256()
    n = 0
    for r in rows(db, "select e.line, e.item, o.market, o.asset_id, e.ts_ms, e.recv_ts_ms, e.seq, e.kind, "
                      "e.side, e.price, e.size, e.levels_json from orderbook_events e "
                      "join outcomes o on o.id = e.outcome_id order by e.line, e.item"):
        h.update(repr(r).encode())
        n += 1
    return n, h.hexdigest()


def duplicate_events(db):
    return rows(db, "select count(*) from (select source_id, line, item from orderbook_events "
                    "group by 1, 2, 3 having count(*) > 1)")[0][0]


def execution_inconsistencies(db):
    """Problems in orders/fills/exec_audit, as readable strings (empty = consistent)."""
    problems = []
    n = rows(db, "select count(*) from orders o where not exists (select 1 from exec_audit a "
                 "where a.plan_id = o.plan_id and a.decision = 'accepted')")[0][0]
    if n:
        problems.append(f"{n} orders without an accepted plan in exec_audit")
    n = rows(db, "select count(*) from fills f left join orders o on o.id = f.order_id where o.id is null")[0][0]
    if n:
        problems.append(f"{n} fills without their order")
    n = rows(db, "select count(*) from orders o where o.filled_size_micros != "
                 "(select coalesce(sum(f.size_micros), 0) from fills f where f.order_id = o.id)")[0][0]
    if n:
        problems.append(f"{n} orders whose filled size differs from the sum of their fills")
    n = rows(db, "select count(*) from orders where filled_size_micros > size_micros")[0][0]
    if n:
        problems.append(f"{n} orders filled beyond their size")
    return problems


def main(tests):
    if len(sys.argv) != 3 or sys.argv[2] not in tests:
        print(f"usage: {sys.argv[0]} POLYHOST TEST  (tests: {', '.join(tests)})", file=sys.stderr)
        sys.exit(2)
    try:
        tests[sys.argv[2]](os.path.abspath(sys.argv[1]))
    except BaseException as e:
        _cleanup(failed=not (isinstance(e, SystemExit) and e.code == 77))  # 77: skipped
        raise
    _cleanup(failed=False)
    print(f"{sys.argv[2]}: ok")

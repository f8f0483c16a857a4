#!/usr/bin/env python3
"""`polyhost run` with plugins vs plain `polyhost replay`, timed as whole processes,
and the book-event -> plan latency the run loop records in exec_audit.

Called by bench/run.sh; prints markdown table rows on stdout (run.sh prints the
headers) and per-run details on stderr. Never asserts timings; exits non-zero only
when a command fails.

  cli_bench.py throughput POLYHOST FEED CATALOG CONFIG SCRATCH [--repeat N] [--repeat-run N]
  cli_bench.py latency    POLYHOST FEED CATALOG CONFIG SCRATCH

msgs = feed lines. Wall time is the whole process (start, plugin load, catalog,
database open and close included); "loop" is the lines/s the command itself
prints for its read-parse-apply(-dispatch) loop.
"""
import argparse
import os
import re
import resource
import sqlite3
import subprocess
import sys
import time


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def group(x):
    return f"{x:,.0f}"


def remove_db(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def run_once(cmd):
    """Runs cmd; returns (wall s, child CPU s, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode != 0:
        log(f"command failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
        raise SystemExit(1)
    return wall, cpu, p.stdout


def loop_rate(out):
    # replay: "  2.621 s, 381562 lines/s, 262.5 MB/s"; run: "run: ... 6.022 s (166056 lines/s)"
    m = re.search(r"([0-9.]+) s,? \(?([0-9]+) lines/s", out)
    return (float(m.group(1)), float(m.group(2))) if m else (None, None)


def plans_line(out):
    m = re.search(r"plans (\d+), orders (\d+), fills (\d+)", out)
    return f"{int(m.group(1)):,} plans, {int(m.group(2)):,} orders, {int(m.group(3)):,} fills" if m else ""


def lines_of(path):
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            n += chunk.count(b"\n")
    return n


def bench(name, cmd, repeat, lines, db=None, notes=""):
    best = None
    for i in range(repeat):
        if db:
            remove_db(db)
        wall, cpu, out = run_once(cmd)
        loop_s, loop_rate_v = loop_rate(out)
        size = ""
        if db:
            size = f"DB {sum(os.path.getsize(db + s) for s in ('', '-wal') if os.path.exists(db + s)) / 1e6:.0f} MB"
            remove_db(db)
        log(f"  {name}: run {i + 1}: wall {wall:.2f} s, CPU {cpu:.2f} s, loop {loop_s} s" + (f", {size}" if size else ""))
        if best is None or wall < best[0]:
            best = (wall, cpu, loop_rate_v, out, size)
    wall, cpu, loop_r, out, size = best
    extra = "; ".join(x for x in (plans_line(out), size, notes) if x)
    print(f"| {name} | {group(lines / wall)} | {wall:.2f} | {cpu:.2f} | "
          f"{group(loop_r) if loop_r else '—'} | {repeat} | {extra} |", flush=True)
    return lines / wall


def common(a):
    return dict(
        replay=[a.polyhost, "replay", a.feed, "--config", a.config, "--log-level", "warn"],
        run=lambda plugins: [a.polyhost, "run", "--plugins", plugins, "--config", a.config, "--catalog", a.catalog,
                             "--feed", a.feed, "--log-level", "warn"],
    )


def throughput(a):
    lines = lines_of(a.feed)
    c = common(a)
    db = os.path.join(a.scratch, "cli_bench.db")
    url = "sqlite:///" + db  # db is absolute: sqlite:////tmp/...
    ratio = lambda r, base: f"| ↳ run / replay | {r / base:.3f}× | | | | | replay is {base / r:.1f}× faster |"
    r_replay = bench("`polyhost replay` --no-db", c["replay"] + ["--no-db"], a.repeat, lines)
    bench("`polyhost run --plugins dutchbook` --no-db (dutchbook alone, for reference)",
          c["run"]("dutchbook") + ["--no-db"], a.repeat_run, lines)
    r_run = bench("`polyhost run --plugins dutchbook,spread` --no-db", c["run"]("dutchbook,spread") + ["--no-db"],
                  a.repeat_run, lines)
    print(ratio(r_run, r_replay), flush=True)
    r_replay_db = bench("`polyhost replay` into SQLite", c["replay"] + ["--db-url", url], 1, lines, db=db)
    r_run_db = bench("`polyhost run --plugins dutchbook,spread` into SQLite", c["run"]("dutchbook,spread") +
                     ["--db-url", url], 1, lines, db=db)
    print(ratio(r_run_db, r_replay_db), flush=True)


def percentiles(v):
    """Same definition as bench_util.h ComputePercentiles (nearest rank, rounded)."""
    v = sorted(v)
    n = len(v)
    at = lambda q: v[min(int(q * (n - 1) + 0.5), n - 1)]
    return at(0.5), at(0.9), at(0.99), at(0.999), v[-1], sum(v) / n, n


def latency(a):
    c = common(a)
    db = os.path.join(a.scratch, "cli_latency.db")
    url = "sqlite:///" + db
    remove_db(db)
    lines = lines_of(a.feed)
    wall, cpu, out = run_once(c["run"]("dutchbook") + ["--db-url", url])
    log(f"  polyhost run --plugins dutchbook into SQLite: wall {wall:.2f} s ({group(lines / wall)} msgs/s), "
        f"CPU {cpu:.2f} s; {plans_line(out)}")
    con = sqlite3.connect(db)
    v = [r[0] for r in con.execute("SELECT event_to_plan_us FROM exec_audit "
                                   "WHERE plugin = 'dutchbook' AND event_to_plan_us IS NOT NULL")]
    total = con.execute("SELECT count(*) FROM exec_audit WHERE plugin = 'dutchbook'").fetchone()[0]
    con.close()
    remove_db(db)
    if not v:
        log("exec_audit has no measured dutchbook plans")
        raise SystemExit(1)
    p50, p90, p99, p999, mx, mean, n = percentiles(v)
    print(f"| `dutchbook` `exec_audit.event_to_plan_us` of `polyhost run --plugins dutchbook` into SQLite "
          f"({n:,} of {total:,} plans measured; run at {group(lines / wall)} msgs/s) | {p50} | {p90} | {p99} | "
          f"{p999} | {mx} | {mean:.1f} | {n:,} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["throughput", "latency"])
    ap.add_argument("polyhost")
    ap.add_argument("feed")
    ap.add_argument("catalog")
    ap.add_argument("config")
    ap.add_argument("scratch")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the --no-db replay")
    ap.add_argument("--repeat-run", type=int, default=1, help="best of N for the --no-db run")
    a = ap.parse_args()
    a.scratch = os.path.abspath(a.scratch)
    if a.command == "throughput":
        throughput(a)
    else:
        latency(a)


if __name__ == "__main__":
    main()

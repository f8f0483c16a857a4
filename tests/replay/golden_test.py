#!/usr/bin/env python3
"""Replays a recording with `polyhost replay` into a fresh SQLite database and
compares the result with its golden file (recordings/golden/<name>.books.json):
every book's bids, asks and stale flag through `polyhost book --json`, and the
event counts of the replay summary.

usage: golden_test.py POLYHOST NAME [--generated]
  NAME          a file in recordings/ (sample, polymarket/<x>) or, with --generated,
                a feed from recordings/golden/feeds.txt regenerated with tools/gen_recording.py
"""
import hashlib, json, os, subprocess, sys, tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "recordings", "golden")

# Golden count names -> fields of `polyhost replay --json`.
def replay_counts(summary):
    by_type = summary["by_type"]
    out = {"lines": summary["lines"], "events": summary["events"],
           "continuity_breaks": summary["continuity_breaks"],
           "text_frames": summary["text_frames"],
           "other_known": by_type.get("new_market", 0) + by_type.get("market_resolved", 0)}
    out.update(by_type)
    return out


def main():
    ph, name = sys.argv[1], sys.argv[2]
    generated = "--generated" in sys.argv
    tmp = tempfile.mkdtemp(prefix="golden-")
    base = os.path.basename(name)
    if generated:
        args = None
        for line in open(os.path.join(GOLDEN, "feeds.txt")):
            if line.startswith(base + " "):
                args = line.split()[1:]
        assert args, f"{base} not in feeds.txt"
        if "--catalog" in args:  # the catalog is not needed to rebuild books
            i = args.index("--catalog")
            del args[i:i + 2]
        feed = os.path.join(tmp, base + ".jsonl")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "gen_recording.py"), *args, "--out", feed],
                       check=True, capture_output=True)
    else:
        feed = os.path.join(ROOT, "recordings", name + ".jsonl")
    ref_books = json.load(open(os.path.join(GOLDEN, base + ".books.json")))
    ref_counts = ref_books.get("counts")
    det_path = os.path.join(GOLDEN, base + ".detections.json")
    if ref_counts is None and os.path.exists(det_path):
        det = json.load(open(det_path))
        ref_counts = det.get("counts")
        sha = hashlib.sha256(open(feed, "rb").read()).hexdigest()
        if det.get("feed_sha256") and det["feed_sha256"] != sha:
            print(f"FAIL: regenerated feed differs from the golden one ({sha})")
            return 1

    db = "sqlite:///" + os.path.join(tmp, "golden.db")
    r = subprocess.run([ph, "replay", feed, "--json", "--db-url", db], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print("FAIL: replay exited", r.returncode, r.stderr[-2000:])
        return 1
    summary = json.loads(r.stdout)
    failures = []
    if ref_counts:
        got = replay_counts(summary)
        for k, v in ref_counts.items():
            if got.get(k, 0) != v:
                failures.append(f"count {k}: got {got.get(k, 0)}, golden {v}")
    for b in ref_books["books"]:
        cmd = [ph, "book", b["market"], b["asset_id"], "--json", "--db-url", db]
        rb = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        try:
            got = json.loads(rb.stdout)
        except ValueError:
            failures.append(f"book {b['market']}/{b['asset_id']}: no JSON (exit {rb.returncode}: {rb.stderr.strip()})")
            continue
        for field in ("bids", "asks", "stale"):
            if got.get(field) != b[field]:
                failures.append(f"book {b['market']}/{b['asset_id'][:12]} {field}: got {str(got.get(field))[:200]}, "
                                f"golden {str(b[field])[:200]}")
    if failures:
        print(f"FAIL {name}: {len(failures)} differences")
        for f in failures[:20]:
            print("  " + f)
        return 1
    print(f"ok {name}: {len(ref_books['books'])} books and {len(ref_counts or {})} counts equal to golden")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# `make run`: the main job on the bundled default recording.
# Until `polyhost run` with the strategy plugins lands (issue #4), this replays the
# recording into a fresh SQLite database and prints the summary, status and a book.
set -euo pipefail
ph=${1:?polyhost binary}
feed=${2:-recordings/sample.jsonl}
db=${3:-build/run/polyhost.db}
mkdir -p "$(dirname "$db")"
rm -f "$db" "$db-wal" "$db-shm"
url="sqlite:///./$db"
case "$db" in /*) url="sqlite:///$db" ;; esac

"$ph" replay "$feed" --db-url "$url"
echo
"$ph" status --db-url "$url"
echo
"$ph" book mkt-1 yes --db-url "$url" 2>/dev/null || true

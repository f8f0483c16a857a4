#!/usr/bin/env bash
# `make run`: the main job on the bundled default. `polyhost run` with the
# dutchbook and spread plugins on a recording, a fresh SQLite database, the fake
# relayer (the default in config/default.toml: nothing leaves the process), then
# the summary, the status of every book, and the engine timings.
set -euo pipefail
ph=${1:?polyhost binary}
feed=${2:-recordings/sample.jsonl}
db=${3:-build/run/polyhost.db}
mkdir -p "$(dirname "$db")"
rm -f "$db" "$db-wal" "$db-shm"
case "$db" in /*) url="sqlite:///$db" ;; *) url="sqlite:///./$db" ;; esac

"$ph" run --plugins dutchbook,spread --feed "$feed" --config config/sample.toml --db-url "$url"
echo
"$ph" status --verbose --db-url "$url"

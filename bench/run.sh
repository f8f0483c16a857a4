#!/usr/bin/env bash
# Runs every benchmark of docs/performance.md against the same generated feed and
# prints the results as markdown tables (stdout); progress and per-run details go
# to stderr. `make bench` runs `bash bench/run.sh build/release`.
#
#   bash bench/run.sh BUILD_DIR            # BUILD_DIR holds bench/polyhost_bench
#   BENCH_REPEAT=5 bash bench/run.sh ...   # best of N for throughput (default 5)
#   BENCH_REPEAT_CLI=3 ...                 # best of N for `polyhost replay --no-db` (default 3)
#
# Besides polyhost_bench it runs BUILD_DIR/host/polyhost (`polyhost run` with the
# dutchbook and spread plugins of BUILD_DIR/plugins, and `polyhost replay`) through
# bench/cli_bench.py, with bench/run_bench.toml.
#
# The 1,000,000-message format P feed is generated once into bench/data/ (git-
# ignored) and reused while the generator and its arguments are unchanged.
# Never asserts timings; exits non-zero only when a benchmark fails to run or
# finds a correctness mismatch.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: bash bench/run.sh BUILD_DIR" >&2
  exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=$(cd "$1" && pwd)
cd "$ROOT"

BIN="$BUILD_DIR/bench/polyhost_bench"
POLYHOST="$BUILD_DIR/host/polyhost"
PLUGIN_DIR="$BUILD_DIR/plugins"
RUN_CONFIG=bench/run_bench.toml
REPEAT="${BENCH_REPEAT:-5}"
PYTHON=/usr/bin/python3
[[ -x "$PYTHON" ]] || PYTHON=python3
DATA=bench/data
FEED="$DATA/feed1m.jsonl"
CATALOG="$DATA/catalog1m.json"
GEN_ARGS=(--format P --markets 200 --events 20 --outcomes 6 --messages 1000000 --seed 1)
START=$(date +%s)
# Scratch databases go to a private directory, removed even if a benchmark crashes.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/polyhost_bench.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
export TMPDIR="$SCRATCH"

if [[ ! -x "$BIN" || ! -x "$POLYHOST" || ! -f "$PLUGIN_DIR/dutchbook.so" || ! -f "$PLUGIN_DIR/spread.so" ]]; then
  echo "building polyhost_bench, polyhost, dutchbook and spread in $BUILD_DIR" >&2
  cmake --build "$BUILD_DIR" --target polyhost_bench polyhost dutchbook spread >&2
fi

# --- the feed, generated on demand and cached --------------------------------
mkdir -p "$DATA"
STAMP="$DATA/feed1m.stamp"
WANT="$(sha256sum tools/gen_recording.py | cut -c1-16) ${GEN_ARGS[*]}"
if [[ ! -s "$FEED" || ! -s "$CATALOG" || "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]]; then
  echo "generating $FEED (about 40 s) ..." >&2
  rm -f "$STAMP"
  "$PYTHON" tools/gen_recording.py "${GEN_ARGS[@]}" --out "$FEED.tmp" --catalog "$CATALOG"
  mv "$FEED.tmp" "$FEED"
  echo "$WANT" > "$STAMP"
fi
# Warm the page cache so the file-reading benchmarks (replay, memory) do not pay
# for the disk on their first run.
cat "$FEED" > /dev/null

# --- the machine ---------------------------------------------------------------
cache_var() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt" 2>/dev/null | head -n 1; }
BUILD_TYPE=$(cache_var CMAKE_BUILD_TYPE)
CXX_PATH=$(cache_var CMAKE_CXX_COMPILER)
CXX_VERSION=$("${CXX_PATH:-c++}" --version 2>/dev/null | head -n 1 || true)
CXX_FLAGS="$(cache_var CMAKE_CXX_FLAGS) $(cache_var "CMAKE_CXX_FLAGS_$(echo "${BUILD_TYPE:-none}" | tr '[:lower:]' '[:upper:]')")"
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
# BENCH_COMMIT describes the source when it is not a git checkout (e.g. a `git archive` export).
COMMIT=${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
if [[ -z "${BENCH_COMMIT:-}" && -n "$(git status --porcelain --untracked-files=no 2>/dev/null | head -n 1)" ]]; then
  COMMIT="$COMMIT (dirty tree)"
fi
LINES=$(wc -l < "$FEED")
BYTES=$(stat -c %s "$FEED")

echo "## polyhost benchmarks"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(nproc) CPUs, ${CPU:-unknown CPU}, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "- build: ${BUILD_TYPE:-unknown} (${CXX_FLAGS## }), ${CXX_VERSION:-unknown compiler}, commit $COMMIT"
echo "- feed: \`$FEED\` — $LINES lines, $BYTES bytes (gen_recording.py ${GEN_ARGS[*]})"
echo "- command: \`bash bench/run.sh ${1}\` (throughput: best of $REPEAT runs; replay into SQLite: 1 run; \`polyhost\` commands: see their tables)"
echo

run() {
  local rc=0
  "$BIN" "$@" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "polyhost_bench $1 failed (exit $rc)" >&2
    echo "| \`$1\` | **failed** (exit $rc, see stderr) |"
    FAILED=1
  fi
}
FAILED=0
REPEAT_CLI="${BENCH_REPEAT_CLI:-3}"
# bench/cli_bench.py: `polyhost run` / `polyhost replay` as whole processes.
cli() {
  local sub=$1 rc=0
  shift
  "$PYTHON" bench/cli_bench.py "$sub" "$POLYHOST" "$FEED" "$CATALOG" "$RUN_CONFIG" "$SCRATCH" "$@" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "cli_bench.py $sub failed (exit $rc)" >&2
    echo "| \`cli_bench.py $sub\` | **failed** (exit $rc, see stderr) |"
    FAILED=1
  fi
}

echo "### Throughput (msgs = feed lines)"
echo
echo "| Benchmark | msgs/s | MB/s | ns/msg | msgs/s by thread CPU time | Target | Notes |"
echo "|---|---:|---:|---:|---:|---|---|"
run parse "$FEED" --repeat "$REPEAT"
run engine "$FEED" --repeat "$REPEAT"
run replay-sqlite "$FEED" --repeat 1
run sqlite-raw "$FEED" --repeat 1
echo
echo "### Latency (ns; measured with \`std::chrono::steady_clock\`, see docs/performance.md)"
echo
echo "| Measurement | p50 | p90 | p99 | p99.9 | max | mean | samples |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run latency "$FEED"
echo
echo "### Memory per asset (books built by BookEngine from the whole feed)"
echo
echo "| Measurement | Value |"
echo "|---|---:|"
run memory "$FEED"
echo
echo "### Book structure: production sorted vector vs flat tick-indexed array (same level updates)"
echo
echo "| Structure | ns/update | updates/s | ns/snapshot | heap bytes/book | sizeof | final books |"
echo "|---|---:|---:|---:|---:|---:|---|"
run books "$FEED" --repeat "$REPEAT"
echo
echo "### Plugin dispatch: \`PluginHost::DispatchBook\` with no-op plugins (the feed's dispatch sequence and final books)"
echo
echo "| Configuration | plugins | ns per dispatch | ns per dispatch per plugin (− 0-plugin baseline) | operator new calls in the timed loop (worst run) | dispatches per run | Target |"
echo "|---|---:|---:|---:|---:|---:|---|"
run dispatch "$FEED" --repeat "$REPEAT"
echo
echo "### Book event → plan, dutchbook (ns, in-process: the \`polyhost run\` dispatch path without relayer, gate and store)"
echo
echo "| Measurement | p50 | p90 | p99 | p99.9 | max | mean | samples |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run plan-latency "$FEED" --plugin "$PLUGIN_DIR/dutchbook.so" --catalog "$CATALOG"
echo
echo "### Book event → plan, dutchbook (µs, from \`exec_audit\` of a real \`polyhost run\`)"
echo
echo "| Measurement | p50 | p90 | p99 | p99.9 | max | mean | samples |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
cli latency
echo
echo "### \`polyhost run --plugins dutchbook,spread\` vs \`polyhost replay\` (whole processes, msgs = feed lines)"
echo
echo "| Command | msgs/s (wall) | wall s | CPU s (user+sys) | loop lines/s (printed by the command) | best of | Notes |"
echo "|---|---:|---:|---:|---:|---:|---|"
cli throughput --repeat "$REPEAT_CLI"
echo
echo "### PostgreSQL ingest: event rows/s through the store's COPY writer vs one INSERT per row"
echo
# A throwaway PostgreSQL 15 server with PostgreSQL's durable defaults (fsync,
# synchronous_commit, full_page_writes on), unix socket only, stopped on exit.
# BENCH_PG=0 skips it (e.g. no PostgreSQL installed).
if [[ "${BENCH_PG:-1}" != 0 ]]; then
  echo "| path | rows | best time | rows/s |"
  echo "|---|---|---|---|"
  PG_DIR="$SCRATCH/pg"
  trap 'bash "$ROOT/scripts/pg_test_server.sh" stop "$PG_DIR" >/dev/null 2>&1 || true; rm -rf "$SCRATCH"' EXIT
  if PG_URL=$(PG_TEST_DURABLE=1 bash scripts/pg_test_server.sh start "$PG_DIR"); then
    run pg-ingest "$FEED" --db "$PG_URL" --variant copy --repeat "${BENCH_REPEAT_PG:-2}"
    run pg-ingest "$FEED" --db "$PG_URL" --variant rows --limit 50000 --repeat 1
  else
    echo "| \`pg-ingest\` | **failed**: no PostgreSQL test server (scripts/pg_test_server.sh) |"
    FAILED=1
  fi
fi
echo
echo "_total wall time: $(( $(date +%s) - START )) s; load average at end: $(cut -d" " -f1-3 /proc/loadavg)_"
exit "$FAILED"

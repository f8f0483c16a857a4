#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang in BUILD_DIR (default build/fuzz)
# and runs each for FUZZ_SECONDS (default 60) on a corpus seeded from
# recordings/ and fuzz/seeds/. A crash stops the run: the input is kept in
# BUILD_DIR/crashes/<target>/ and the script exits 1 (turn it into a regression
# unit test, see docs/reliability.md). Usage: fuzz/run.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
BUILD_DIR=${BUILD_DIR:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-$(nproc)}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decimal feed_parser config gamma_catalog tgbot_updates)
fi

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=/usr/bin/clang -DCMAKE_CXX_COMPILER=/usr/bin/clang++ \
  -DPOLYHOST_FUZZ=ON -DPOLYHOST_BUILD_TESTS=OFF -DPOLYHOST_BUILD_BENCH=OFF >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS" $(printf '%s_fuzz ' "${targets[@]}")

# Seed corpora: hand-made inputs plus every line / file of the recordings.
seed() {
  local target=$1 dir="$BUILD_DIR/corpus/$1"
  mkdir -p "$dir"
  cp "fuzz/seeds/$target/"* "$dir/" 2>/dev/null || true
  case $target in
    feed_parser)
      local n=0
      for f in recordings/*.jsonl recordings/polymarket/*.jsonl; do
        while IFS= read -r line || [ -n "$line" ]; do
          n=$((n + 1))
          printf '%s' "$line" > "$dir/rec_$n"
        done < "$f"
      done ;;
    config)
      cp config/*.toml "$dir/" ;;
    gamma_catalog)
      cp recordings/polymarket/http/gamma_*.json recordings/polymarket/http/rest_market.json \
         recordings/golden/feedA.catalog.json "$dir/" ;;
  esac
}

status=0
for t in "${targets[@]}"; do
  seed "$t"
  crashes="$BUILD_DIR/crashes/$t"
  mkdir -p "$crashes"
  echo "fuzz: $t for ${FUZZ_SECONDS}s"
  # -rss_limit_mb: the harnesses are small; a leak or blow-up past this is a finding.
  if ! "$BUILD_DIR/fuzz/${t}_fuzz" "$BUILD_DIR/corpus/$t" -max_total_time="$FUZZ_SECONDS" \
       -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$crashes/" > "$BUILD_DIR/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; input(s) in $crashes, log $BUILD_DIR/$t.log:"
    tail -n 40 "$BUILD_DIR/$t.log"
    status=1
  else
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$BUILD_DIR/$t.log" | sed "s/^/fuzz: $t /" || true
  fi
done
exit $status

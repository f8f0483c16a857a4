#!/usr/bin/env bash
# Golden plans/orders/fills of a shipped plugin through `polyhost harness --expect`.
# usage: harness_golden_test.sh POLYHOST PLUGIN GOLDEN FEED [CONFIG]
#   FEED may be "gen:<gen_recording.py args>": the feed (and its --catalog) is
#   generated deterministically into a temp dir first.
set -euo pipefail
ph=$1 plugin=$2 golden=$3 feed=$4 config=${5:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=()
[[ -n $config ]] && args+=(--config "$config")
if [[ $feed == gen:* ]]; then
  # shellcheck disable=SC2086
  /usr/bin/python3 "$root/tools/gen_recording.py" ${feed#gen:} --out "$tmp/feed.jsonl" --catalog "$tmp/catalog.json"
  feed=$tmp/feed.jsonl
  args+=(--catalog "$tmp/catalog.json")
fi
"$ph" harness --plugin "$plugin" --feed "$feed" "${args[@]}" --expect "$golden" --log-level warn

#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests.
#
#   scripts/pg_test_server.sh start DIR   initdb into DIR (as the `postgres` user when run as
#                                         root; initdb/pg_ctl refuse to run as root), start it
#                                         with its unix socket in DIR and no TCP listener, and
#                                         print the URL to use: postgresql:///polyhost_test?host=DIR
#   scripts/pg_test_server.sh stop DIR    stop it (immediate shutdown) and delete DIR
#
# Settings favour speed over durability (fsync off): the data is thrown away.
# PG_TEST_DURABLE=1 keeps PostgreSQL's durable defaults (fsync, synchronous_commit,
# full_page_writes on), as the benchmark in docs/performance.md uses.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

bindir=""
for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ]; then bindir=$d; break; fi
done
if [ -z "$bindir" ]; then
  if command -v initdb >/dev/null 2>&1; then bindir=$(dirname "$(command -v initdb)"); fi
fi
if [ -z "$bindir" ]; then
  echo "pg_test_server: no initdb found; install the postgresql package (make setup)" >&2
  exit 1
fi

# Runs a server binary as the data directory's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # listen_addresses='': unix socket only (in DIR), so no port can clash.
    opts="-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=200"
    opts="$opts -c shared_buffers=128MB -c max_wal_size=2GB"
    if [ "${PG_TEST_DURABLE:-0}" != 1 ]; then
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts" start >/dev/null; then
      cat "$dir/server.log" >&2
      exit 1
    fi
    as_owner "$bindir/psql" -h "$dir" -U postgres -d postgres -qAt -c "CREATE DATABASE polyhost_test" >/dev/null
    echo "postgresql://postgres@/polyhost_test?host=$dir"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac

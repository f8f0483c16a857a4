#!/usr/bin/env bash
# Runs every test with ctest. Tests that need PostgreSQL (the "postgresql: ..."
# store tests and the PostgreSQL CLI tests) get a throwaway PostgreSQL 15 server
# started here (scripts/pg_test_server.sh: initdb into a temporary directory,
# unix socket only), whose URL is exported as POLYHOST_TEST_PG_URL; the server is
# stopped and its directory removed on every exit, failures included.
set -euo pipefail
build_dir=${1:-build/release}
here=$(cd "$(dirname "$0")" && pwd)

pg_dir=$(mktemp -d /tmp/polyhost-pg-test.XXXXXX)
cleanup() { bash "$here/pg_test_server.sh" stop "$pg_dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
POLYHOST_TEST_PG_URL=$(bash "$here/pg_test_server.sh" start "$pg_dir")
export POLYHOST_TEST_PG_URL
echo "test: PostgreSQL test server at $POLYHOST_TEST_PG_URL"

ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"

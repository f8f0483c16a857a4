#!/usr/bin/env bash
# Runs every test with ctest. Tests that need PostgreSQL get a throwaway server
# started here (see scripts/pg_test_server.sh) once the PostgreSQL backend exists.
set -euo pipefail
build_dir=${1:-build/release}
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"

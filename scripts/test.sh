#!/usr/bin/env bash
# Builds paysync (installing missing Debian packages) and runs every test with ctest.
# Fails on any failed test. Extra stages (sanitizers, valgrind, fuzzing) are added here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
ctest --test-dir build --output-on-failure -j2

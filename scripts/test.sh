#!/usr/bin/env bash
# Runs every test: installs the test tools (scripts/install-test-deps.sh) and builds paysync
# (scripts/bootstrap.sh installs the build packages), then
#   1. the ctest suite (cmocka units + integration tests driving the real binary),
#   2. a clang build with -Werror,
#   3. bench/run --quick (every benchmark configuration runs and counts match; no speed asserted),
#   3b. the .debs built and the sample job run from them (scripts/test-debs.sh),
#   4. the whole suite under ASan+UBSan (scripts/test-sanitizers.sh),
#   5. unit and integration tests under valgrind --leak-check=full (scripts/test-valgrind.sh),
#   6. each libFuzzer harness for PS_FUZZ_SECONDS seconds (default 60; tests/fuzz/run).
# Fails on the first failed stage. PS_TEST_QUICK=1 runs stages 1-3 only.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { printf '\n==== test.sh: %s ====\n' "$*"; }

bash scripts/install-test-deps.sh   # the test tools (cmocka, clang, valgrind, ...) when missing
stage "build (gcc)"
bash scripts/bootstrap.sh
stage "ctest"
ctest --test-dir build --output-on-failure -j2
stage "build (clang, -Werror)"
CC=clang BUILD_DIR=build-clang bash scripts/bootstrap.sh >/dev/null
stage "bench/run --quick"
bench/run --quick
if [ "${PS_TEST_QUICK:-0}" = 1 ]; then
  echo "test.sh: PS_TEST_QUICK=1: sanitizer, valgrind and fuzz stages skipped"
  exit 0
fi
stage "Debian packages (scripts/test-debs.sh)"; bash scripts/test-debs.sh
stage "sanitizers (ASan+UBSan)"
bash scripts/test-sanitizers.sh
stage "valgrind"
bash scripts/test-valgrind.sh
stage "fuzz (${PS_FUZZ_SECONDS:-60} s per harness)"
bash tests/fuzz/run "${PS_FUZZ_SECONDS:-60}"
stage "all stages passed"

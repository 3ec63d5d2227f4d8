#!/usr/bin/env bash
# Builds paysync with AddressSanitizer + UndefinedBehaviorSanitizer (-DPS_SANITIZE=ON; clang
# unless CC names another compiler, warnings as errors unless PS_WERROR=OFF) into build-asan/
# and runs the whole ctest suite there. Any sanitizer report fails the run: ASan and UBSan
# abort the process (UBSan is built with -fno-sanitize-recover), and leaks are checked at exit
# (LeakSanitizer). scripts/test.sh runs it as its clang build: clang's warnings fail CI here.
#
#   PS_ASAN_BUILD=dir   build directory (default build-asan)
#   PS_JOBS=n           build and test parallelism (default 2)
#   extra arguments are passed to ctest (e.g. -R unit)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${PS_ASAN_BUILD:-build-asan}"
jobs="${PS_JOBS:-2}"

# shellcheck source=lib/cxx.sh
. scripts/lib/cxx.sh
cmake -S . -B "$build" -DCMAKE_C_COMPILER="${CC:-clang}" \
    -DCMAKE_CXX_COMPILER="$(ps_cxx_for "${CC:-clang}")" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPS_SANITIZE=ON -DPS_WERROR="${PS_WERROR:-ON}" >/dev/null
cmake --build "$build" -j"$jobs"

# Reports also go to files: a test that expects paysync to exit 1 could not tell ASan's exit
# apart, so every report file found after the run fails it, whatever the tests said.
logs="$(cd "$build" && pwd)/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:exitcode=86:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$logs/ubsan"
# Tests that bound memory (tests/integration/test_hostile.py) allow for ASan shadow memory.
export PS_SANITIZED=1

rc=0
ctest --test-dir "$build" --output-on-failure -j"$jobs" "$@" || rc=$?
reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
    echo "test-sanitizers: sanitizer reports:" >&2
    for f in $reports; do
        echo "--- $f" >&2
        head -c 20000 "$f" >&2
    done
    rc=1
fi
exit $rc

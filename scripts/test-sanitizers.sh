#!/usr/bin/env bash
# Builds paysync with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, -DPS_SANITIZE=ON)
# into build-asan/ and runs the whole ctest suite there. Any sanitizer report fails the run:
# ASan and UBSan abort the process (UBSan is built with -fno-sanitize-recover), and leaks are
# checked at exit (LeakSanitizer).
#
#   PS_ASAN_BUILD=dir   build directory (default build-asan)
#   PS_JOBS=n           build and test parallelism (default 2)
#   extra arguments are passed to ctest (e.g. -R unit)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${PS_ASAN_BUILD:-build-asan}"
jobs="${PS_JOBS:-2}"

cmake -S . -B "$build" -DCMAKE_C_COMPILER="${CC:-gcc}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPS_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$jobs"

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Tests that bound memory (tests/integration/test_hostile.py) allow for ASan shadow memory.
export PS_SANITIZED=1
# Keep the slow stress sizes moderate: the sanitizers make every run 2-3x slower.
export PS_SIGKILL_ROWS="${PS_SIGKILL_ROWS:-50000}"

ctest --test-dir "$build" --output-on-failure -j"$jobs" "$@"

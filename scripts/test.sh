#!/usr/bin/env bash
# Runs every test (what CI runs through .ci/run). Stages, in order; the first failed stage ends
# the run, and each stage's wall time is printed at the end either way:
#   0. the test tools installed when missing (scripts/install-test-deps.sh)
#   1. build (gcc, -Werror, Debian's hardening flags) into build/ (scripts/test-builds.sh
#      --hardening-bootstrap: scripts/bootstrap.sh installs the build packages; RELRO, stack
#      protector and _FORTIFY_SOURCE checked in the outputs)
#   2. the ctest suite there (cmocka units + integration tests driving the real binary)
#   3. bench/run --quick (every benchmark configuration runs and counts match; no speed asserted)
#   3b. the .debs built and the sample job run from them (scripts/test-debs.sh)
#   3c. a gcc Release (-O3) build with -Werror (scripts/test-builds.sh --release)
#   4. clang build with ASan+UBSan and -Werror into build-asan/, running the whole ctest suite
#      (scripts/test-sanitizers.sh): clang's warnings are errors here
#   5. the unit tests under valgrind --leak-check=full, on build/ (scripts/test-valgrind.sh)
#   6. fuzzing (tests/fuzz/run): every saved corpus and regression input replayed under its
#      libFuzzer harness, then each harness fuzzed for PS_FUZZ_SECONDS seconds, two at a time
#
# usage: scripts/test.sh [--full]
#   --full             also the long runs: the integration tests under valgrind as well, and
#                      60 s of fuzzing per harness instead of 15
#   PS_TEST_QUICK=1    stages 0-3 only
#   PS_FUZZ_SECONDS=n  seconds of fuzzing per harness (overrides 15, or 60 with --full)
set -euo pipefail
cd "$(dirname "$0")/.."

full=0
for a in "$@"; do
  case "$a" in
    --full) full=1 ;;
    *) echo "usage: scripts/test.sh [--full]" >&2; exit 2 ;;
  esac
done
fuzz_seconds="${PS_FUZZ_SECONDS:-$([ $full = 1 ] && echo 60 || echo 15)}"

timings=()
total_start=$SECONDS
summary() {
  printf '\n==== test.sh: wall time per stage ====\n'
  local t
  for t in "${timings[@]}"; do echo "$t"; done
  local s=$((SECONDS - total_start))
  printf '%-52s %3dm%02ds\n' "total" $((s / 60)) $((s % 60))
}
# stage NAME COMMAND...: runs one stage, records its wall time; a failure ends the run.
stage() {
  local name="$1" t0=$SECONDS rc=0
  shift
  printf '\n==== test.sh: %s ====\n' "$name"
  "$@" || rc=$?
  local s=$((SECONDS - t0))
  timings+=("$(printf '%-52s %3dm%02ds%s' "$name" $((s / 60)) $((s % 60)) \
    "$([ $rc = 0 ] || echo "  FAILED (exit $rc)")")")
  if [ $rc != 0 ]; then
    summary
    exit $rc
  fi
}

stage "test tools" bash scripts/install-test-deps.sh
stage "build (gcc, -Werror, hardening flags)" bash scripts/test-builds.sh --hardening-bootstrap build
stage "ctest" ctest --test-dir build --output-on-failure -j2
stage "bench/run --quick" bench/run --quick
if [ "${PS_TEST_QUICK:-0}" = 1 ]; then
  echo "test.sh: PS_TEST_QUICK=1: package, Release, sanitizer, valgrind and fuzz stages skipped"
  summary
  exit 0
fi
stage "Debian packages (scripts/test-debs.sh)" bash scripts/test-debs.sh
stage "Release build (gcc -O3, -Werror)" bash scripts/test-builds.sh --release
stage "sanitizers (clang, ASan+UBSan, -Werror; whole suite)" \
  env CC=clang PS_WERROR=ON bash scripts/test-sanitizers.sh
if [ $full = 1 ]; then
  stage "valgrind (unit and integration tests)" \
    env PS_VALGRIND_BUILD=build bash scripts/test-valgrind.sh
else
  stage "valgrind (unit tests)" env PS_VALGRIND_BUILD=build bash scripts/test-valgrind.sh '^unit\.'
fi
stage "fuzz (saved inputs replayed, ${fuzz_seconds} s per harness)" \
  env PS_FUZZ_PARALLEL="${PS_FUZZ_PARALLEL:-2}" bash tests/fuzz/run "$fuzz_seconds"
summary
echo "test.sh: all stages passed"

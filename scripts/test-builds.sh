#!/usr/bin/env bash
# The builds a packager runs, each with -Werror (-DPS_WERROR=ON; the option is off by default).
#
# usage: scripts/test-builds.sh [--release] [--hardening] [--hardening-bootstrap DIR]
#                               [-- CTEST ARGS...]
#   (no option)    --release and --hardening
#   --release      a plain Release build (gcc, -O3) in build-release/
#   --hardening    a build with Debian's hardening flags (dpkg-buildflags of Debian 12, as
#                  debhelper passes them: CMAKE_BUILD_TYPE=None, CFLAGS -g -O2
#                  -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wformat -Werror=format-security,
#                  LDFLAGS -Wl,-z,relro,-z,now) in build-hardening/, checked for the hardening
#                  features, then the whole ctest suite there (CTEST ARGS added)
#   --hardening-bootstrap DIR
#                  the same flags on scripts/bootstrap.sh's build into DIR (its build type,
#                  RelWithDebInfo, adds -O2 -g; missing build packages are installed), checked,
#                  no ctest: scripts/test.sh builds build/ this way and runs its suite there
#   PS_JOBS=n      build and test parallelism (default 2); CC=compiler (default gcc)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${PS_JOBS:-2}"
cc="${CC:-gcc}"
# shellcheck source=lib/cxx.sh
. scripts/lib/cxx.sh
cxx="$(ps_cxx_for "$cc")"
hard_cflags="-g -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wformat -Werror=format-security"
hard_ldflags="-Wl,-z,relro,-z,now"
# Passed as cache values (not through the environment) so that a reconfigure keeps them.
hard_args=(-DCMAKE_C_FLAGS="$hard_cflags" -DCMAKE_CXX_FLAGS="$hard_cflags"
           -DCMAKE_EXE_LINKER_FLAGS="$hard_ldflags"
           -DCMAKE_SHARED_LINKER_FLAGS="$hard_ldflags" -DCMAKE_MODULE_LINKER_FLAGS="$hard_ldflags"
           -DPS_WERROR=ON)

release=0 hardening=0 bootstrap_dir="" ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --release) release=1 ;;
    --hardening) hardening=1 ;;
    --hardening-bootstrap) bootstrap_dir="${2:?--hardening-bootstrap needs a folder}"; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    *) echo "usage: scripts/test-builds.sh [--release] [--hardening] [--hardening-bootstrap DIR] [-- CTEST ARGS]" >&2
       exit 2 ;;
  esac
  shift
done
if [ $release = 0 ] && [ $hardening = 0 ] && [ -z "$bootstrap_dir" ]; then
  release=1 hardening=1
fi

# build DIR LOG CMAKE-ARGS...: configures and builds; shows the log's end on failure.
build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1 || { tail -50 "$dir/build.log"; exit 1; }
}

# check_hardening DIR: full RELRO on the binary, the test host and every plugin; stack
# protector and fortified calls in the binary.
check_hardening() {
  local dir=$1 f bad=0 segs dyn syms
  for f in "$dir/paysync" "$dir"/plugins/*.so "$dir"/core/libpaysync-testhost.so; do
    [ -e "$f" ] || continue
    segs=$(readelf -lW "$f") dyn=$(readelf -dW "$f") # (not piped into grep -q: pipefail)
    grep -q GNU_RELRO <<<"$segs" || { echo "test-builds: $f: no RELRO"; bad=1; }
    grep -Eq 'BIND_NOW|FLAGS.*NOW' <<<"$dyn" || { echo "test-builds: $f: no BIND_NOW"; bad=1; }
  done
  syms=$(nm -D "$dir/paysync")
  grep -q __stack_chk_fail <<<"$syms" || { echo "test-builds: $dir/paysync: no stack protector"; bad=1; }
  grep -Eq ' __[a-z_]+_chk(@|$)' <<<"$syms" ||
    { echo "test-builds: $dir/paysync: no _FORTIFY_SOURCE checks"; bad=1; }
  [ $bad = 0 ] || exit 1
  echo "test-builds: $dir: RELRO, BIND_NOW, stack protector and _FORTIFY_SOURCE checks present"
}

if [ -n "$bootstrap_dir" ]; then
  echo "test-builds: hardening flags ($cc, -Werror) through scripts/bootstrap.sh in $bootstrap_dir/"
  CC="$cc" CXX="$cxx" BUILD_DIR="$bootstrap_dir" bash scripts/bootstrap.sh "${hard_args[@]}"
  check_hardening "$bootstrap_dir"
fi
if [ $release = 1 ]; then
  echo "test-builds: Release ($cc, -Werror) in build-release/"
  build build-release -DCMAKE_BUILD_TYPE=Release -DPS_WERROR=ON
fi
if [ $hardening = 1 ]; then
  echo "test-builds: hardening flags ($cc, -Werror) in build-hardening/"
  build build-hardening -DCMAKE_BUILD_TYPE=None "${hard_args[@]}"
  check_hardening build-hardening
  echo "test-builds: ctest in build-hardening/"
  ctest --test-dir build-hardening --output-on-failure -j"$jobs" "${ctest_args[@]}"
fi

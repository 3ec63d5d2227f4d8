#!/usr/bin/env bash
# Builds the Debian packages from a copy of the tree and runs the sample job from them:
#   1. copies the working tree (tracked and untracked files, not what .gitignore names: no
#      build/, no earlier package outputs) to a temp folder and runs dpkg-buildpackage -b there;
#   2. checks that paysync and paysync-dev were built and list what they must ship (binary,
#      plugins, man page, systemd units, sysusers file; headers and paysync-plugin.pc);
#   3. extracts both into a scratch root with dpkg -x (nothing is installed on this system)
#      and compiles each installed header with the flags of the scratch root's .pc file;
#   4. runs config/example.yaml from the scratch root twice and checks the summary counts
#      (README: read 322, accepted 310, ...), the exports and the exit status;
#   5. builds a provider from `paysync new-plugin` against the scratch root's SDK, runs
#      `paysync test-plugin` on it and its example config.
# Installs dpkg-dev, debhelper and the Build-Depends when missing. Keeps the temp folder when
# PS_KEEP_DEBS=1 (its path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
fail() { echo "test-debs: FAIL: $*" >&2; exit 1; }

root_cmd=""
[ "$(id -u)" -eq 0 ] || root_cmd="sudo"
need=()
for p in dpkg-dev debhelper fakeroot; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "test-debs: installing ${need[*]}" >&2
  $root_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $root_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! dpkg-checkbuilddeps 2>/dev/null; then
  echo "test-debs: installing the Build-Depends of debian/control" >&2
  DEBIAN_FRONTEND=noninteractive $root_cmd apt-get build-dep -y -qq ./ >/dev/null
fi

tmp=$(mktemp -d /tmp/paysync-debs.XXXXXX)
if [ "${PS_KEEP_DEBS:-0}" = 1 ]; then echo "test-debs: keeping $tmp"
else trap 'rm -rf "$tmp"' EXIT; fi

# 1. A clean copy of the working tree, then the package build (tests off: CI runs them).
version=$(dpkg-parsechangelog -S Version)
tree="$tmp/paysync-$version"
mkdir -p "$tree"
git ls-files -z -c -o --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar -c --null -T - | tar -x -C "$tree"
start=$(date +%s)
if ! (cd "$tree" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$tmp/build.log" 2>&1; then
  tail -40 "$tmp/build.log" >&2
  fail "dpkg-buildpackage failed (whole log: PS_KEEP_DEBS=1, then $tmp/build.log)"
fi
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb="$tmp/paysync_${version}_$arch.deb"
dev="$tmp/paysync-dev_${version}_$arch.deb"
[ -f "$deb" ] || fail "no $(basename "$deb") (built: $(cd "$tmp" && ls ./*.deb 2>/dev/null | tr '\n' ' '))"
[ -f "$dev" ] || fail "no $(basename "$dev")"
echo "test-debs: dpkg-buildpackage took $(($(date +%s) - start)) s;" \
     "$(basename "$deb") $(stat -c %s "$deb") bytes, $(basename "$dev") $(stat -c %s "$dev") bytes"

# 2. What each package ships (units may sit in /lib or /usr/lib depending on debhelper).
expect() {  # expect DEB REGEX WHAT
  dpkg-deb -c "$1" | awk '{print $6}' | grep -Eq "$2" ||
    fail "$(basename "$1") has no $3 (pattern $2)"
}
plugindir="usr/lib/$multiarch/paysync/plugins"
expect "$deb" '^\./usr/bin/paysync$' "binary"
expect "$deb" "^\./$plugindir/csvfile\.so$" "csvfile plugin"
expect "$deb" "^\./$plugindir/jsonl\.so$" "jsonl plugin"
expect "$deb" "^\./$plugindir/s3\.so$" "s3 plugin"
expect "$deb" "^\./$plugindir/gsheet_writer\.so$" "gsheet_writer plugin"
expect "$deb" '^\./usr/share/man/man1/paysync\.1\.gz$' "man page"
expect "$deb" '^\./usr/share/paysync/connectors/steamaco\.yaml$' "connector manifest steamaco.yaml"
for unit in paysync.service paysync-run.service paysync-run.timer; do
  expect "$deb" "^\./(usr/)?lib/systemd/system/$unit\$" "systemd unit $unit"
done
expect "$deb" '^\./usr/lib/sysusers\.d/paysync\.conf$' "sysusers file (user paysync)"
expect "$deb" '^\./usr/share/doc/paysync/examples/example\.yaml$' "example config"
expect "$dev" '^\./usr/include/paysync/plugin\.h$' "plugin.h"
expect "$dev" "^\./usr/lib/$multiarch/pkgconfig/paysync-plugin\.pc\$" "paysync-plugin.pc"
for h in "$src"/core/include/paysync/*.h; do
  expect "$dev" "^\./usr/include/paysync/$(basename "$h")\$" "installed header $(basename "$h")"
done
dpkg-deb -f "$deb" Depends | grep -q libyaml || fail "paysync Depends has no shared-library dependencies"
if dpkg-deb -c "$deb" | awk '{print $6}' | grep -E '^\./usr/include/|/pkgconfig/|/cmake/|testhost'; then
  fail "paysync ships SDK files (above) that belong in paysync-dev"
fi

# 3. A scratch root: the packages' files, no system install.
root="$tmp/root"
dpkg -x "$deb" "$root"
dpkg -x "$dev" "$root"
# The SDK as a connector author uses it: each installed header compiles on its own with the
# flags of the scratch root's paysync-plugin.pc (relocatable: it points into the scratch root).
pc_cflags=$(PKG_CONFIG_PATH="$root/usr/lib/$multiarch/pkgconfig" pkg-config --cflags paysync-plugin) ||
  fail "pkg-config cannot read the scratch root's paysync-plugin.pc"
for h in "$root"/usr/include/paysync/*.h; do
  printf '#include <paysync/%s>\nint main(void) { return 0; }\n' "$(basename "$h")" |
    cc -std=c11 -Wall -Wextra -Werror $pc_cflags -x c - -o "$tmp/hdr" 2>"$tmp/hdr.err" ||
    { cat "$tmp/hdr.err" >&2; fail "paysync/$(basename "$h") does not compile with paysync-plugin.pc's flags"; }
done

bin="$root/usr/bin/paysync"
[ -x "$bin" ] || fail "$bin is missing"

# The core is linked into the binary (no libpaysync: it runs with LD_LIBRARY_PATH unset); a
# build that links a shared paysync library without an $ORIGIN-relative RUNPATH gets
# LD_LIBRARY_PATH pointed at the scratch root's library folder.
run_env=(env -u PAYSYNC_PLUGIN_PATH -u LD_LIBRARY_PATH)
dynamic=$(readelf -d "$bin")
if grep -q 'NEEDED.*libpaysync' <<<"$dynamic" && ! grep -q 'ORIGIN' <<<"$dynamic"; then
  run_env+=(LD_LIBRARY_PATH="$root/usr/lib/$multiarch")
fi

# 4. The sample job in a temp copy of config/, unchanged: it names no plugin_path, so the
# binary must find the scratch root's plugins relative to itself (no $PAYSYNC_PLUGIN_PATH, and
# `paysync plugins --json` must list the scratch root's csvfile.so, not an installed one).
job="$tmp/job"
mkdir -p "$job/config"
cp -r config/example.yaml config/sample "$job/config/"
"${run_env[@]}" "$bin" plugins --json >"$tmp/plugins.json" 2>&1 || true
grep -qF "$root/$plugindir/csvfile.so" "$tmp/plugins.json" ||
  { cat "$tmp/plugins.json" >&2; fail "the packaged binary does not find its plugins relative to itself"; }

runjob() {  # runjob N: runs the sample, output in $job/runN.out, fails on a non-zero exit
  local rc=0
  (cd "$job" && "${run_env[@]}" "$bin" run config/example.yaml --no-progress) \
    >"$job/run$1.out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$job/run$1.out" >&2; fail "run $1 of the sample job exited $rc"; }
}
runjob 1
grep -q 'read 322, accepted 310, rejected 9, blank 2, duplicates 1, filtered 0, warnings 2' "$job/run1.out" ||
  { cat "$job/run1.out" >&2; fail "run 1: summary counts differ from the README's"; }
grep -q 'changes: new 310, changed 0, unchanged 0, vanished 0' "$job/run1.out" ||
  { cat "$job/run1.out" >&2; fail "run 1: expected 310 new payments"; }
[ "$(wc -l <"$job/out/payments.jsonl")" -eq 310 ] || fail "out/payments.jsonl has not 310 lines"
[ "$(wc -l <"$job/out/rejects.jsonl")" -eq 9 ] || fail "out/rejects.jsonl has not 9 lines"
[ -s "$job/var/paysync.db" ] || fail "no sqlite store var/paysync.db"
runjob 2
grep -q 'changes: new 0, changed 0, unchanged 310, vanished 0' "$job/run2.out" ||
  { cat "$job/run2.out" >&2; fail "run 2: expected every payment unchanged"; }

# 5. The SDK from paysync-dev as a connector author uses it: a provider from the new-plugin
# template builds against the scratch root in one command (CMake package, test host, its unit
# test), passes the conformance kit, and runs from its example config.
(cd "$tmp" && "${run_env[@]}" "$bin" new-plugin acme --kind provider) >"$tmp/sdk.out" 2>&1 ||
  { cat "$tmp/sdk.out" >&2; fail "paysync new-plugin failed"; }
(cd "$tmp/acme" && PAYSYNC_PREFIX="$root/usr" ./build.sh) >>"$tmp/sdk.out" 2>&1 ||
  { tail -30 "$tmp/sdk.out" >&2; fail "the new-plugin template does not build against paysync-dev"; }
(cd "$tmp/acme" && "${run_env[@]}" "$bin" test-plugin build/acme.so --config example.yaml \
   --dataset acme_demo) >>"$tmp/sdk.out" 2>&1 ||
  { tail -30 "$tmp/sdk.out" >&2; fail "paysync test-plugin fails the template provider"; }
(cd "$tmp/acme" && "${run_env[@]}" "$bin" run example.yaml --no-progress) >>"$tmp/sdk.out" 2>&1 ||
  { tail -30 "$tmp/sdk.out" >&2; fail "the template provider's example config does not run"; }
grep -q '^acme_demo: ok' "$tmp/sdk.out" || { cat "$tmp/sdk.out" >&2; fail "acme_demo did not report ok"; }

echo "test-debs: ok: paysync and paysync-dev $version built; sample job from the scratch root" \
     "read 322, accepted 310, then 310 unchanged; a template provider built against" \
     "paysync-dev passed test-plugin and ran"

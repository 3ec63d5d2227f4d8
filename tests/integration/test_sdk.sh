#!/usr/bin/env bash
# The SDK for connector authors: the out-of-tree provider tests/sdk/sdkdemo.c builds against an
# installed prefix
#   a. with pkg-config (`cc $(pkg-config --cflags paysync-plugin)`), and runs from a config
#      whose plugin_path names its folder;
#   b. with CMake (find_package(paysync CONFIG) + paysync_add_plugin, tests/sdk/CMakeLists.txt),
#      `cmake --install` puts it into the prefix's plugin folder, and it runs from a config
#      that names no plugin folder;
# each time with the installed binary, LD_LIBRARY_PATH and PAYSYNC_PLUGIN_PATH unset, and the
# plugin exporting nothing but paysync_plugin_entry.
set -euo pipefail
: "${PS_BUILD_DIR:?}" "${PS_SOURCE_DIR:?}"
fail() { echo "FAIL: $*"; exit 1; }
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
cmake --install "$PS_BUILD_DIR" --prefix "$prefix" >/dev/null
libdir=$(cd "$(dirname "$(ls -d "$prefix"/lib*/pkgconfig)")" && pwd)
plugindir="$libdir/paysync/plugins"
src="$PS_SOURCE_DIR/tests/sdk"
run() { env -u LD_LIBRARY_PATH -u PAYSYNC_PLUGIN_PATH "$@"; }
passed=0

exports_only_entry() {
  local e
  e=$(nm -D --defined-only "$1" | awk '{print $3}')
  [ "$e" = "paysync_plugin_entry" ] || fail "$1 exports: $e"
}

# Runs the sdkdemo provider into a jsonl sink from config $1 (in folder $2) and checks the rows.
run_job() {
  local cfg=$1 dir=$2
  (cd "$dir" && run "$prefix/bin/paysync" run "$cfg" --report report.json >run.out 2>&1) ||
    fail "run $cfg: $(cat "$dir/run.out")"
  python3 - "$dir" <<'PY' || fail "outputs of $cfg"
import json, os, sys
d = sys.argv[1]
ds = json.load(open(os.path.join(d, "report.json")))["datasets"][0]
assert (ds["read"], ds["accepted"], ds["rejected"]) == (3, 3, 0), ds
rows = [json.loads(l, parse_float=str) for l in open(os.path.join(d, "out.jsonl"))]
assert [r["ID"] for r in rows] == ["SDK-1", "SDK-2", "SDK-3"], rows
assert rows[0]["PAYMENT_AMOUNT"] == "1500.50", rows[0]
PY
}

write_config() { # $1 file, $2 plugin_path line (or empty)
  cat >"$1" <<EOF
$2
sinks:
  out: {plugin: jsonl, path: out.jsonl}
datasets:
  - name: demo
    target: {level: program, id: prog-1}
    source: {plugin: sdkdemo}
    sinks: [out]
EOF
}

# a. pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags paysync-plugin)
pcdir=$(pkg-config --variable=plugindir paysync-plugin)
[ "$(cd "$pcdir" && pwd -P)" = "$(cd "$plugindir" && pwd -P)" ] ||
  fail "pkg-config plugindir is $pcdir, not $plugindir"
[ "$(pkg-config --modversion paysync-plugin)" = "$(sed -n 's/^project(paysync VERSION \([0-9.]*\).*/\1/p' "$PS_SOURCE_DIR/CMakeLists.txt")" ] ||
  fail "pkg-config version is $(pkg-config --modversion paysync-plugin)"
mkdir -p "$tmp/pc/plugins"
# shellcheck disable=SC2086 # cflags is a list of flags
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden $cflags "$src/sdkdemo.c" \
  -o "$tmp/pc/plugins/sdkdemo.so" || fail "pkg-config build"
chmod 755 "$tmp/pc/plugins"
exports_only_entry "$tmp/pc/plugins/sdkdemo.so"
write_config "$tmp/pc/paysync.yaml" "plugin_path: [plugins]"
run_job paysync.yaml "$tmp/pc"
passed=$((passed + 1))

# b. CMake package
cmake -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cm.log" 2>&1 ||
  fail "cmake configure: $(cat "$tmp/cm.log")"
cmake --build "$tmp/cm" >>"$tmp/cm.log" 2>&1 || fail "cmake build: $(cat "$tmp/cm.log")"
exports_only_entry "$tmp/cm/sdkdemo.so"
[ ! -e "$plugindir/sdkdemo.so" ] || fail "sdkdemo.so installed before cmake --install"
cmake --install "$tmp/cm" >>"$tmp/cm.log" 2>&1 || fail "cmake --install: $(cat "$tmp/cm.log")"
[ "$(stat -c %a "$plugindir/sdkdemo.so")" = 755 ] ||
  fail "installed plugin mode $(stat -c %a "$plugindir/sdkdemo.so")"
out=$(run "$prefix/bin/paysync" plugins --json)
python3 -c '
import json, os, sys
p = {x["name"]: x for x in json.load(sys.stdin) if "name" in x}
assert p["sdkdemo"]["kind"] == "provider", p.get("sdkdemo")
assert os.path.realpath(p["sdkdemo"]["file"]) == os.path.realpath(
    os.path.join(sys.argv[1], "sdkdemo.so")), p["sdkdemo"]' "$plugindir" <<<"$out" ||
  fail "paysync plugins: $out"
mkdir -p "$tmp/job"
write_config "$tmp/job/paysync.yaml" ""
run_job paysync.yaml "$tmp/job"
passed=$((passed + 1))

# c. the package refuses a bad plugin name with a clear message
mkdir -p "$tmp/bad"
cat >"$tmp/bad/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(bad LANGUAGES C)
find_package(paysync CONFIG REQUIRED)
paysync_add_plugin(Bad-Name SOURCES "$src/sdkdemo.c")
EOF
if cmake -S "$tmp/bad" -B "$tmp/bad/build" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/bad.log" 2>&1; then
  fail "paysync_add_plugin accepted the name Bad-Name"
fi
# (cmake wraps messages: compare with the lines joined)
tr -s ' \n' '  ' <"$tmp/bad.log" |
  grep -q "paysync_add_plugin(Bad-Name): the plugin name must be 1-64 characters of \[a-z0-9_\]" ||
  fail "bad name message: $(cat "$tmp/bad.log")"
passed=$((passed + 1))

echo "$passed passed, 0 failed"

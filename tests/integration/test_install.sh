#!/usr/bin/env bash
# An installed tree runs: `cmake --install` into a temporary prefix puts the binary, plugins,
# headers, pkg-config file, CMake package, test host library and man page in place (and no
# core library: the core is linked into the binary); P/bin/paysync runs with LD_LIBRARY_PATH and
# PAYSYNC_PLUGIN_PATH unset, lists every plugin from P/LIBDIR/paysync/plugins, and runs the
# sample job (config/example.yaml) from a copy of config/ outside the source tree, and finds
# the installed connector manifests.
set -euo pipefail
: "${PS_BUILD_DIR:?}" "${PS_SOURCE_DIR:?}"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
cmake --install "$PS_BUILD_DIR" --prefix "$prefix" >/dev/null
libdir=$(cd "$(dirname "$(ls -d "$prefix"/lib*/pkgconfig)")" && pwd)
passed=0

# 1. the layout
for f in bin/paysync share/man/man1/paysync.1 include/paysync/plugin.h \
         include/paysync/testhost.h; do
  [ -f "$prefix/$f" ] || fail "$f not installed"
done
for f in pkgconfig/paysync-plugin.pc cmake/paysync/paysyncConfig.cmake \
         cmake/paysync/paysyncConfigVersion.cmake cmake/paysync/paysyncTargets.cmake \
         cmake/paysync/paysyncPlugin.cmake libpaysync-testhost.so.0; do
  [ -f "$libdir/$f" ] || fail "${libdir#"$prefix"/}/$f not installed"
done
# every plugin the sources define (ps_add_plugin(NAME ...) in plugins/*/CMakeLists.txt; not
# build/plugins, which may hold files of plugins removed since the folder was first built)
built=$(cat "$PS_SOURCE_DIR"/plugins/*/CMakeLists.txt | sed -n 's/^ps_add_plugin(\([a-z0-9_]*\).*/\1.so/p' | sort)
installed=$(cd "$libdir/paysync/plugins" && ls -- *.so | sort)
[ -n "$built" ] || fail "no ps_add_plugin( in plugins/*/CMakeLists.txt"
[ "$built" = "$installed" ] || fail "installed plugins differ from the sources' ps_add_plugin():
$(diff <(echo "$built") <(echo "$installed"))"
# The SQLite store is in the core (the built-in sink `sqlite`), not a plugin file.
[ ! -e "$libdir/paysync/plugins/sqlite.so" ] || fail "sqlite.so installed"
if ls "$libdir"/libpaysync.so* >/dev/null 2>&1; then
  fail "a core library is installed: $(ls "$libdir"/libpaysync.so*)"
fi
passed=$((passed + 1))

# 2. the binary needs no library path: no RUNPATH, every library found
dynamic=$(readelf -d "$prefix/bin/paysync")
if grep -Eq 'RPATH|RUNPATH' <<<"$dynamic"; then
  fail "bin/paysync has an RPATH/RUNPATH: $(grep -E 'RPATH|RUNPATH' <<<"$dynamic")"
fi
if grep -q 'NEEDED.*libpaysync' <<<"$dynamic"; then
  fail "bin/paysync links a paysync library: $(grep 'NEEDED.*libpaysync' <<<"$dynamic")"
fi
missing=$(env -u LD_LIBRARY_PATH ldd "$prefix/bin/paysync" | grep 'not found' || true)
[ -z "$missing" ] || fail "bin/paysync: $missing"
passed=$((passed + 1))

# 3. `paysync plugins` lists every installed plugin, from the installed folder, and the
#    built-in store
run() { env -u LD_LIBRARY_PATH -u PAYSYNC_PLUGIN_PATH "$@"; }
out=$(cd "$tmp" && run "$prefix/bin/paysync" plugins --json) || fail "paysync plugins failed: $out"
listed=$(python3 -c '
import json, os, sys
for p in json.load(sys.stdin):
    if "name" not in p:
        sys.exit("failed to load: %s: %s" % (p.get("file"), p.get("error")))
    if p["kind"] == "connector":  # the installed manifests, from share/paysync/connectors
        print(p["name"] + ".yaml", os.path.dirname(p["file"]), p["from"])
    elif p["builtin"]:
        print(p["name"], "built-in")
    else:
        print(p["name"] + ".so", os.path.dirname(p["file"]))' <<<"$out") || fail "$listed"
want=$( (for f in $installed; do echo "$f $libdir/paysync/plugins"; done; echo "sqlite built-in"; echo "postgres built-in"
  for f in "$prefix"/share/paysync/connectors/*.yaml; do
    echo "$(basename "$f") $(realpath "$prefix/share/paysync/connectors") next to paysync"; done) | sort)
[ "$(sort <<<"$listed")" = "$want" ] || fail "paysync plugins listed:
$listed
wanted:
$want"
passed=$((passed + 1))

# 4. the sample job runs from the installed tree (a copy of config/, no plugin_path)
mkdir -p "$tmp/job"
cp -r "$PS_SOURCE_DIR/config" "$tmp/job/config"
grep -q '^plugin_path' "$tmp/job/config/example.yaml" && fail "config/example.yaml names a plugin_path"
(cd "$tmp/job" && run "$prefix/bin/paysync" run config/example.yaml --report report.json \
  >run.out 2>&1) || fail "sample job failed: $(cat "$tmp/job/run.out")"
python3 - "$tmp/job" <<'PY' || fail "sample job outputs"
import json, os, sys
job = sys.argv[1]
ds = json.load(open(os.path.join(job, "report.json")))["datasets"][0]
assert ds["accepted"] > 300 and ds["rejected"] > 0, ds
rows = sum(1 for _ in open(os.path.join(job, "out", "payments.jsonl")))
assert rows == ds["accepted"], (rows, ds["accepted"])
assert os.path.getsize(os.path.join(job, "var", "paysync.db")) > 0
PY
passed=$((passed + 1))

# 5. connector manifests: installed in share/paysync/connectors, and `plugin: steamaco` finds
#    its manifest there (the rest provider then asks for the connector's required options)
[ -f "$prefix/share/paysync/connectors/steamaco.yaml" ] || fail "share/paysync/connectors/steamaco.yaml not installed"
cat >"$tmp/job/conn.yaml" <<'EOF2'
sinks: {out: {plugin: jsonl, path: out/c.jsonl}}
datasets:
  - {name: s, target: {level: project, id: x}, source: {plugin: steamaco, password: x}, sinks: [out]}
EOF2
chmod 600 "$tmp/job/conn.yaml"
conn=$(cd "$tmp/job" && run "$prefix/bin/paysync" check conn.yaml 2>&1) && fail "check passed: $conn"
grep -q "connector 'steamaco' needs the option 'username'" <<<"$conn" || fail "steamaco not resolved: $conn"
passed=$((passed + 1))

echo "$passed passed, 0 failed"

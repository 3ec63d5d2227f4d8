#!/usr/bin/env bash
# cmake --install puts the binary, library, headers, plugins, pkg-config file and man page in
# place, and an out-of-tree plugin builds with `pkg-config --cflags paysync-plugin` and loads.
set -euo pipefail
: "${PS_BUILD_DIR:?}" "${PAYSYNC:?}"
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$PS_BUILD_DIR" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib* | head -n1)
for f in "$tmp/prefix/bin/paysync" "$tmp/prefix/share/man/man1/paysync.1" \
         "$tmp/prefix/include/paysync/plugin.h" "$libdir/pkgconfig/paysync-plugin.pc"; do
  [ -e "$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
for p in csvfile stub jsonl csv gsheet; do
  [ -e "$libdir/paysync/plugins/$p.so" ] || { echo "FAIL: plugin $p not installed"; exit 1; }
done
# The SQLite store is part of libpaysync (the built-in sink `sqlite`), not a plugin file.
[ ! -e "$libdir/paysync/plugins/sqlite.so" ] || { echo "FAIL: sqlite.so installed"; exit 1; }
ls "$libdir"/libpaysync.so* >/dev/null || { echo "FAIL: libpaysync not installed"; exit 1; }

mkdir -p "$tmp/plugins"
cat > "$tmp/hello.c" <<'C'
#include <paysync/plugin.h>
#include <stdlib.h>
static const ps_option_spec opts[] = {
    {"greeting", PS_OPT_STRING, "hello", 0, 0, "what to say"}, {0, 0, 0, 0, 0, 0}};
static ps_status create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    (void)ctx; (void)err;
    *inst = malloc(1);
    return *inst ? PS_OK : PS_ERR_NOMEM;
}
static void destroy(void *inst) { free(inst); }
static ps_status s_open(void *i, const ps_sink_open_args *a, ps_error *e) { (void)i; (void)a; (void)e; return PS_OK; }
static ps_status s_write(void *i, const ps_record_batch *b, ps_error *e) { (void)i; (void)b; (void)e; return PS_OK; }
static ps_status s_commit(void *i, const ps_commit_info *c, ps_change_counts *ch, ps_error *e) { (void)i; (void)c; (void)ch; (void)e; return PS_OK; }
static const ps_sink_ops ops = {.struct_size = sizeof(ps_sink_ops), .open = s_open, .write_batch = s_write, .commit = s_commit};
static const ps_plugin_descriptor desc = {
    .struct_size = sizeof(ps_plugin_descriptor), .abi_major = PS_ABI_MAJOR, .abi_minor = PS_ABI_MINOR,
    .name = "hello", .version = "1.0", .description = "out-of-tree test sink",
    .kind = PS_PLUGIN_SINK, .options = opts, .create = create, .destroy = destroy, .sink = &ops};
PS_PLUGIN_DEFINE(hello, desc)
C
cflags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags paysync-plugin)
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags "$tmp/hello.c" -o "$tmp/plugins/hello.so"
chmod 755 "$tmp/plugins" "$tmp/plugins/hello.so"
exports=$(nm -D --defined-only "$tmp/plugins/hello.so" | awk '{print $3}' | grep -v '^_' || true)
[ "$exports" = "paysync_plugin_entry" ] || { echo "FAIL: exports: $exports"; exit 1; }
out=$(PAYSYNC_PLUGIN_PATH="$tmp/plugins" "$PAYSYNC" plugins --json)
echo "$out" | grep -q '"name": "hello"' || { echo "FAIL: hello not listed: $out"; exit 1; }
echo "$out" | grep -q '"greeting"' || { echo "FAIL: option table not listed"; exit 1; }
echo "$out" | python3 -c '
import json, sys
p = {x["name"]: x for x in json.load(sys.stdin) if "name" in x}
assert p["sqlite"]["builtin"] is True and p["sqlite"]["file"] is None, p.get("sqlite")
assert p["hello"]["builtin"] is False, p["hello"]
' || { echo "FAIL: sqlite is not listed as built-in: $out"; exit 1; }
# In-tree plugins export only their entry function too.
for so in "$PS_BUILD_DIR"/plugins/*.so; do
  e=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^_' || true)
  [ "$e" = "paysync_plugin_entry" ] || { echo "FAIL: $so exports: $e"; exit 1; }
done
echo "1 passed, 0 failed"

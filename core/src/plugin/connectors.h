/* paysync core: connector manifests. A dataset's `plugin: NAME` for which no plugin NAME
 * exists resolves to the `rest` provider with the manifest NAME.yaml as its `manifest`
 * option (docs/connectors.md). */
#ifndef PS_CONNECTORS_H
#define PS_CONNECTORS_H

#include <stddef.h>

#include "config/kv.h"
#include "plugin/loader.h"

/* The provider that reads connector manifests. */
#define PS_CONNECTOR_PLUGIN "rest"

/* The connectors folder of the executable at path exe: EXEDIR/PS_CONNECTOR_REL_DIR (an
 * installed tree: ../share/paysync/connectors) or else EXEDIR/connectors (the build tree), the
 * first that is a directory, canonical and malloc'd; NULL when neither exists. */
char *ps_connector_dir_near(const char *exe);

/* Finds the manifest NAME.yaml for `plugin: name`, when no plugin of that name exists (built
 * in or NAME.so on the plugin path): in the connectors folder next to the executable, then
 * each folder of $PAYSYNC_CONNECTOR_PATH (':'-separated), then each folder of the plugin path
 * (so a config's plugin_path holds its own manifests too). The file found must pass the
 * plugin loader's ownership and mode checks (a manifest decides where credentials are sent).
 * Returns 1 with *path (malloc'd) when found, 0 when there is none (or a plugin NAME exists),
 * -1 with err (PS_ERR_PLUGIN) when the file found is refused. */
int ps_connector_find(ps_registry *r, const char *name, char **path, ps_error *err);

/* One connector manifest found by ps_connector_scan. */
typedef struct ps_connector_info {
    const char *name;        /* NAME of NAME.yaml: what `plugin: NAME` selects */
    const char *path;        /* the manifest file */
    const char *from;        /* "next to paysync", "PAYSYNC_CONNECTOR_PATH" or "plugin_path" */
    const char *description; /* the manifest's top-level `description:` line, "" when none */
    int shadowed;            /* 1: `plugin: NAME` selects something else (a plugin NAME, or
                                an earlier manifest of that name) */
} ps_connector_info;

/* Calls each(ctx, info) for every NAME.yaml (NAME of [a-z0-9_], at most 64 characters) in the
 * folders ps_connector_find searches, in its order (names sorted within a folder); at most
 * 1000 per folder. The strings are valid during the call only. Reads only the description
 * line of each file (its first 64 KiB); whether a manifest is valid is checked when it is
 * used. */
void ps_connector_scan(ps_registry *r, void (*each)(void *ctx, const ps_connector_info *info),
                       void *ctx);

/* A copy of kvs[0..n) plus {"manifest": path} at line:col, for the rest provider's options
 * (*out malloc'd with n + 1 entries; the strings are borrowed, free only the array). NULL when
 * out of memory. When kvs already set `manifest`, a plain copy. */
ps_kv *ps_connector_opts(const ps_kv *kvs, size_t n, const char *path, int line, int col,
                         size_t *nout);

#endif

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

/* A copy of kvs[0..n) plus {"manifest": path} at line:col, for the rest provider's options
 * (*out malloc'd with n + 1 entries; the strings are borrowed, free only the array). NULL when
 * out of memory. When kvs already set `manifest`, a plain copy. */
ps_kv *ps_connector_opts(const ps_kv *kvs, size_t n, const char *path, int line, int col,
                         size_t *nout);

#endif

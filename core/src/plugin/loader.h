/* paysync core: plugin discovery, dlopen, ABI checks, static registration, option tables. */
#ifndef PS_LOADER_H
#define PS_LOADER_H

#include <stddef.h>

#include "config/config.h"
#include "plugin/options.h"
#include "paysync/plugin.h"

typedef struct ps_registry ps_registry;

/* A loaded plugin (owned by the registry). `desc` points at the core's full-size copies of
 * the plugin's descriptor and ops tables: members beyond the plugin's struct_size read as
 * NULL/0, so the rest of the core may read every member. */
typedef struct ps_plugin {
    const ps_plugin_descriptor *desc;
    const ps_plugin_descriptor *orig; /* the plugin's own descriptor */
    char *path; /* file it came from; NULL for static registrations */
    void *handle;
    /* the checked descriptor the file was dlopen'ed through, kept open while the handle
     * lives so its /proc/self/fd name stays unique; -1 if none */
    int fd;
    ps_plugin_descriptor desc_copy;
    ps_provider_ops provider_copy;
    ps_sink_ops sink_copy;
} ps_plugin;

/* The 2.0 sizes of the tables a plugin fills: smaller struct_size values are refused. */
#define PS_DESCRIPTOR_MIN_SIZE (offsetof(ps_plugin_descriptor, option_spec_size) + sizeof(size_t))
#define PS_PROVIDER_OPS_MIN_SIZE (offsetof(ps_provider_ops, close) + sizeof(void (*)(void)))
#define PS_SINK_OPS_MIN_SIZE (offsetof(ps_sink_ops, record_failure) + sizeof(void (*)(void)))

/* A registry holding the core's built-in plugins (the sink of each store backend, see
 * store/store.h: `sqlite`). NULL on allocation failure. Free with ps_registry_free (dlcloses). */
ps_registry *ps_registry_new(void);
void ps_registry_free(ps_registry *r);

/* Search path, first hit wins: the plugin folder next to the running executable
 * (ps_plugin_dir_near of /proc/self/exe), then $PAYSYNC_PLUGIN_PATH (':'-separated, empty
 * entries skipped), then dirs (the config's plugin_path). dirs may be NULL. Copies the
 * strings. */
ps_status ps_registry_set_path(ps_registry *r, char *const *dirs, size_t n, ps_error *err);

/* The plugin folder of the executable at path exe: EXEDIR/PS_PLUGIN_REL_DIR (an installed
 * tree: ../lib/paysync/plugins, libdir as installed) or else EXEDIR/plugins (the build tree),
 * the first that is a directory, as a canonical absolute path (malloc'd, caller frees). NULL
 * when neither exists or exe has no '/'. */
char *ps_plugin_dir_near(const char *exe);

/* The effective search path (computing the default one when set_path was not called).
 * Owned by the registry, valid until the next set_path or free. */
const char *const *ps_registry_dirs(ps_registry *r, size_t *n);

/* Registers a compiled-in plugin (checked like a loaded one). */
ps_status ps_registry_add_static(ps_registry *r, const ps_plugin_descriptor *d, ps_error *err);

/* Finds plugin `name`: static ones first, then `DIR/NAME.so` in path order. Refuses, before
 * dlopen, a file that anyone but root or the user could replace (ps_plugin_open_trusted: the
 * real path and every folder up to /), then a missing entry function and an ABI mismatch
 * (message names the file and the field). */
ps_status ps_registry_find(ps_registry *r, const char *name, const ps_plugin **out, ps_error *err);

/* Loads one plugin file (DIR/NAME.so) with the same checks as ps_registry_find (owner and
 * mode, entry function, descriptor, NAME matching the descriptor's name). Errors:
 * PS_ERR_USAGE for a path not ending in .so, PS_ERR_PLUGIN naming the file. */
ps_status ps_registry_load_file(ps_registry *r, const char *path, const ps_plugin **out,
                                ps_error *err);

/* Calls fn for every plugin found on the path (and static ones); for files that fail to load
 * fn gets p == NULL and the error. */
void ps_registry_scan(ps_registry *r,
                      void (*fn)(void *ctx, const ps_plugin *p, const char *file,
                                 const ps_error *e),
                      void *ctx);

/* Checks a descriptor's ABI version and struct sizes (a 1.x descriptor is recognised and
 * refused with both versions in the message), name, kind, callbacks and option table.
 * `where` (file name) prefixes the message. */
ps_status ps_descriptor_check(const ps_plugin_descriptor *d, const char *where, ps_error *err);

/* Copies d and its ops table into p's full-size copies (members beyond the plugin's
 * struct_size zeroed) and points p->desc at them. d must have passed ps_descriptor_check. */
void ps_descriptor_import(ps_plugin *p, const ps_plugin_descriptor *d);

/* Options: see plugin/options.h (included above). */

#endif

/* paysync core: plugin discovery, dlopen, descriptor checks, static registration (loader.h). */
#include "plugin/loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/trust.h"
#include "store/store.h"
#include "util/pathtext.h"

#define PS_MAX_PLUGIN_NAME 64

/* The installed plugin folder relative to the executable's folder (set by CMake from
 * GNUInstallDirs: bindir -> libdir/paysync/plugins). */
#ifndef PS_PLUGIN_REL_DIR
#define PS_PLUGIN_REL_DIR "../lib/paysync/plugins"
#endif

struct ps_registry {
    ps_plugin **plugins;
    size_t n, cap;
    char **dirs;
    size_t ndirs;
    int path_set;
};

ps_registry *ps_registry_new(void)
{
    ps_registry *r = calloc(1, sizeof(ps_registry));
    ps_error err;
    for (size_t i = 0; r && i < ps_store_backend_count(); i++)
        if (ps_registry_add_static(r, ps_store_backend_at(i)->sink(), &err) != PS_OK) {
            ps_registry_free(r);
            return NULL;
        }
    return r;
}

static void free_dirs(ps_registry *r)
{
    for (size_t i = 0; i < r->ndirs; i++)
        free(r->dirs[i]);
    free(r->dirs);
    r->dirs = NULL;
    r->ndirs = 0;
}

void ps_registry_free(ps_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        if (r->plugins[i]->handle)
            dlclose(r->plugins[i]->handle);
        if (r->plugins[i]->fd >= 0)
            close(r->plugins[i]->fd);
        free(r->plugins[i]->path);
        free(r->plugins[i]);
    }
    free(r->plugins);
    free_dirs(r);
    free(r);
}

static int add_dir(ps_registry *r, const char *d, size_t len)
{
    if (len == 0)
        return 0;
    char **nd = realloc(r->dirs, (r->ndirs + 1) * sizeof *nd);
    if (!nd)
        return -1;
    r->dirs = nd;
    if (!(r->dirs[r->ndirs] = strndup(d, len)))
        return -1;
    r->ndirs++;
    return 0;
}

char *ps_plugin_dir_near(const char *exe)
{
    const char *slash = exe ? strrchr(exe, '/') : NULL;
    if (!slash)
        return NULL;
    static const char *const rel[] = {PS_PLUGIN_REL_DIR, "plugins"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char cand[PATH_MAX];
        int n = snprintf(cand, sizeof cand, "%.*s/%s", (int)(slash - exe), exe, rel[i]);
        if (n < 0 || (size_t)n >= sizeof cand)
            continue;
        struct stat sb;
        if (stat(cand, &sb) == 0 && S_ISDIR(sb.st_mode))
            return realpath(cand, NULL);
    }
    return NULL;
}

ps_status ps_registry_set_path(ps_registry *r, char *const *dirs, size_t n, ps_error *err)
{
    free_dirs(r);
    r->path_set = 1;
    /* 1. next to the executable (installed tree or build tree) */
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *near = ps_plugin_dir_near(exe);
        int rc = near ? add_dir(r, near, strlen(near)) : 0;
        free(near);
        if (rc != 0)
            return ps_error_setf(err, PS_ERR_NOMEM, "plugin path: out of memory");
    }
    /* 2. $PAYSYNC_PLUGIN_PATH */
    const char *env = getenv("PAYSYNC_PLUGIN_PATH");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t elen = colon ? (size_t)(colon - env) : strlen(env);
        if (add_dir(r, env, elen) != 0)
            return ps_error_setf(err, PS_ERR_NOMEM, "plugin path: out of memory");
        env = colon ? colon + 1 : NULL;
    }
    /* 3. the config's plugin_path */
    for (size_t i = 0; i < n; i++)
        if (dirs && dirs[i] && add_dir(r, dirs[i], strlen(dirs[i])) != 0)
            return ps_error_setf(err, PS_ERR_NOMEM, "plugin path: out of memory");
    return PS_OK;
}

const char *const *ps_registry_dirs(ps_registry *r, size_t *n)
{
    if (!r->path_set)
        ps_registry_set_path(r, NULL, 0, NULL);
    *n = r->ndirs;
    return (const char *const *)r->dirs;
}

static int plugin_name_ok(const char *s)
{
    size_t l = 0;
    for (; s[l]; l++)
        if (!((s[l] >= 'a' && s[l] <= 'z') || (s[l] >= '0' && s[l] <= '9') || s[l] == '_'))
            return 0;
    return l > 0 && l <= PS_MAX_PLUGIN_NAME;
}

static ps_status check_options(const ps_plugin_descriptor *d, const char *where, ps_error *err)
{
    const ps_option_spec *t = d->options;
    size_t stride = ps_descriptor_option_stride(d);
    if (t && stride < sizeof(ps_option_spec))
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: option_spec_size is %zu, this paysync needs at least %zu; set "
                             "it to sizeof(ps_option_spec)",
                             where, stride, sizeof(ps_option_spec));
    size_t n = ps_option_table_len(t, stride);
    if (n > PS_MAX_OPTIONS)
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: options table has more than %d entries or no NULL-name "
                             "terminator",
                             where, PS_MAX_OPTIONS);
    for (size_t i = 0; i < n; i++) {
        ps_option_spec s;
        ps_option_entry(t, stride, i, &s);
        if (!plugin_name_ok(s.name) || strcmp(s.name, "plugin") == 0)
            return ps_error_setf(err, PS_ERR_PLUGIN,
                                 "%s: options[%zu].name '%s' is invalid (use [a-z0-9_]+, not "
                                 "'plugin')",
                                 where, i, s.name);
        for (size_t j = 0; j < i; j++) {
            ps_option_spec o;
            ps_option_entry(t, stride, j, &o);
            if (strcmp(o.name, s.name) == 0)
                return ps_error_setf(err, PS_ERR_PLUGIN,
                                     "%s: options[%zu].name '%s' is a duplicate of options[%zu]",
                                     where, i, s.name, j);
        }
        char msg[600];
        if (ps_option_spec_check(&s, msg, sizeof msg) != 0)
            return ps_error_setf(err, PS_ERR_PLUGIN, "%s: options[%zu] ('%s'): %s", where, i,
                                 s.name, msg);
    }
    return PS_OK;
}

ps_status ps_descriptor_check(const ps_plugin_descriptor *d, const char *where, ps_error *err)
{
    if (!where)
        where = "plugin";
    if (!d)
        return ps_error_setf(err, PS_ERR_PLUGIN, "%s: the entry function returned NULL", where);
    /* A 1.x descriptor starts with uint32 abi_major, abi_minor (no struct_size first): read
     * as a 2.x one its struct_size is tiny. Recognise it to name both versions. */
    unsigned major = d->abi_major, minor = d->abi_minor;
    if (d->struct_size < PS_DESCRIPTOR_MIN_SIZE) {
        uint32_t legacy[2];
        memcpy(legacy, d, sizeof legacy);
        if (legacy[0] == 1 && legacy[1] < 1000) {
            major = legacy[0];
            minor = legacy[1];
        }
    }
    if (major != PS_ABI_MAJOR)
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: built for plugin ABI %u.%u; this paysync loads ABI %u.x "
                             "plugins: rebuild it against the paysync %u headers",
                             where, major, minor, (unsigned)PS_ABI_MAJOR, (unsigned)PS_ABI_MAJOR);
    if (d->struct_size < PS_DESCRIPTOR_MIN_SIZE)
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: descriptor struct_size is %zu, ABI %u.x needs at least %zu "
                             "(set it to sizeof(ps_plugin_descriptor))",
                             where, d->struct_size, (unsigned)PS_ABI_MAJOR,
                             (size_t)PS_DESCRIPTOR_MIN_SIZE);
    if (d->abi_minor > PS_ABI_MINOR)
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: abi_minor is %u, newer than this paysync's %u.%u; upgrade "
                             "paysync or use an older plugin build",
                             where, (unsigned)d->abi_minor, (unsigned)PS_ABI_MAJOR,
                             (unsigned)PS_ABI_MINOR);
    if (!d->name || !plugin_name_ok(d->name))
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: name '%s' is invalid (1-64 characters of [a-z0-9_])", where,
                             d->name ? d->name : "(null)");
    if (!d->version || !d->version[0])
        return ps_error_setf(err, PS_ERR_PLUGIN, "%s: version is missing", where);
    if (!d->create)
        return ps_error_setf(err, PS_ERR_PLUGIN, "%s: create callback is NULL (required)", where);
    if (!d->destroy)
        return ps_error_setf(err, PS_ERR_PLUGIN, "%s: destroy callback is NULL (required)", where);
    if (d->kind == PS_PLUGIN_PROVIDER) {
        if (!d->provider)
            return ps_error_setf(err, PS_ERR_PLUGIN,
                                 "%s: kind is provider but the provider ops table is NULL", where);
        if (d->provider->struct_size < PS_PROVIDER_OPS_MIN_SIZE)
            return ps_error_setf(err, PS_ERR_PLUGIN,
                                 "%s: provider ops struct_size is %zu, ABI %u.x needs at least "
                                 "%zu (set it to sizeof(ps_provider_ops))",
                                 where, d->provider->struct_size, (unsigned)PS_ABI_MAJOR,
                                 (size_t)PS_PROVIDER_OPS_MIN_SIZE);
        if (PS_HAS_MEMBER(ps_provider_ops, shape, d->provider->struct_size) &&
            d->provider->shape != PS_SHAPE_TABULAR && d->provider->shape != PS_SHAPE_RECORD)
            return ps_error_setf(err, PS_ERR_PLUGIN,
                                 "%s: provider->shape is %u, expected 0 (tabular) or 1 (record)",
                                 where, (unsigned)d->provider->shape);
        if (!d->provider->open || !d->provider->next_batch)
            return ps_error_setf(err, PS_ERR_PLUGIN, "%s: provider->%s is NULL (required)", where,
                                 !d->provider->open ? "open" : "next_batch");
    } else if (d->kind == PS_PLUGIN_SINK) {
        if (!d->sink)
            return ps_error_setf(err, PS_ERR_PLUGIN,
                                 "%s: kind is sink but the sink ops table is NULL", where);
        if (d->sink->struct_size < PS_SINK_OPS_MIN_SIZE)
            return ps_error_setf(err, PS_ERR_PLUGIN,
                                 "%s: sink ops struct_size is %zu, ABI %u.x needs at least %zu "
                                 "(set it to sizeof(ps_sink_ops))",
                                 where, d->sink->struct_size, (unsigned)PS_ABI_MAJOR,
                                 (size_t)PS_SINK_OPS_MIN_SIZE);
        const char *missing = !d->sink->open          ? "open"
                              : !d->sink->write_batch ? "write_batch"
                              : !d->sink->commit      ? "commit"
                                                      : NULL;
        if (missing)
            return ps_error_setf(err, PS_ERR_PLUGIN, "%s: sink->%s is NULL (required)", where,
                                 missing);
    } else {
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: kind is %d, expected 1 (provider) or 2 (sink)", where,
                             (int)d->kind);
    }
    return check_options(d, where, err);
}

/* Copies the first `have` bytes of src (at most cap) into dst and zeroes the rest. */
static void copy_table(void *dst, size_t cap, const void *src, size_t have)
{
    size_t n = have < cap ? have : cap;
    memset(dst, 0, cap);
    memcpy(dst, src, n);
}

void ps_descriptor_import(ps_plugin *p, const ps_plugin_descriptor *d)
{
    p->orig = d;
    copy_table(&p->desc_copy, sizeof p->desc_copy, d, d->struct_size);
    p->desc_copy.struct_size = sizeof p->desc_copy;
    p->desc_copy.provider = NULL;
    p->desc_copy.sink = NULL;
    if (d->kind == PS_PLUGIN_PROVIDER && d->provider) {
        copy_table(&p->provider_copy, sizeof p->provider_copy, d->provider,
                   d->provider->struct_size);
        p->provider_copy.struct_size = sizeof p->provider_copy;
        p->desc_copy.provider = &p->provider_copy;
    } else if (d->kind == PS_PLUGIN_SINK && d->sink) {
        copy_table(&p->sink_copy, sizeof p->sink_copy, d->sink, d->sink->struct_size);
        p->sink_copy.struct_size = sizeof p->sink_copy;
        p->desc_copy.sink = &p->sink_copy;
    }
    p->desc = &p->desc_copy;
}

static ps_plugin *find_loaded(ps_registry *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->plugins[i]->desc->name, name) == 0)
            return r->plugins[i];
    return NULL;
}

static ps_status add_plugin(ps_registry *r, const ps_plugin_descriptor *d, char *path, void *handle,
                            int fd, const ps_plugin **out, ps_error *err)
{
    ps_plugin *p = calloc(1, sizeof *p);
    if (p && r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 8;
        ps_plugin **np = realloc(r->plugins, nc * sizeof *np);
        if (np) {
            r->plugins = np;
            r->cap = nc;
        } else {
            free(p);
            p = NULL;
        }
    }
    if (!p) {
        free(path);
        if (handle)
            dlclose(handle);
        if (fd >= 0)
            close(fd);
        return ps_error_setf(err, PS_ERR_NOMEM, "plugin registry: out of memory");
    }
    ps_descriptor_import(p, d);
    p->path = path;
    p->handle = handle;
    p->fd = fd;
    r->plugins[r->n++] = p;
    if (out)
        *out = p;
    return PS_OK;
}

ps_status ps_registry_add_static(ps_registry *r, const ps_plugin_descriptor *d, ps_error *err)
{
    char where[128];
    snprintf(where, sizeof where, "static plugin '%s'", d && d->name ? d->name : "?");
    ps_status st = ps_descriptor_check(d, where, err);
    if (st != PS_OK)
        return st;
    if (find_loaded(r, d->name))
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: a plugin with this name is already registered", where);
    return add_plugin(r, d, NULL, NULL, -1, NULL, err);
}

static ps_status load_file(ps_registry *r, const char *dir, const char *name, const ps_plugin **out,
                           ps_error *err)
{
    size_t len = strlen(dir) + strlen(name) + 5;
    char *file = malloc(len);
    if (!file)
        return ps_error_setf(err, PS_ERR_NOMEM, "plugin loader: out of memory");
    snprintf(file, len, "%s%s%s.so", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    /* Every check runs before dlopen, so a refused file's constructors never run; the file
     * is loaded through the descriptor that was checked. */
    int fd = ps_plugin_open_trusted(file, err);
    if (fd < 0) {
        free(file);
        return PS_ERR_PLUGIN;
    }
    /* dlopen matches an already loaded object by name first: when an object that outlived its
     * dlclose (RTLD_NODELETE, C++ unique symbols) still holds this /proc/self/fd name, load by
     * the checked path instead (its folders are trusted, so only root or we could swap it). */
    char via[64];
    ps_status st;
    const char *how = file;
    if (ps_plugin_fd_path(fd, via, sizeof via) == 0) {
        void *stale = dlopen(via, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
        if (stale)
            dlclose(stale);
        else
            how = via;
        (void)dlerror();
    }
    void *h = dlopen(how, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        size_t vl = strlen(how);
        if (e && how != file && strncmp(e, how, vl) == 0 && e[vl] == ':')
            st = ps_error_setf(err, PS_ERR_PLUGIN, "%s: cannot load: %s%s", PS_SHOWN(file),
                               PS_SHOWN(file), PS_SHOWN(e + vl));
        else /* dlerror's text names the file too: cut in the middle like a path */
            st = ps_error_setf(err, PS_ERR_PLUGIN, "%s: cannot load: %s", PS_SHOWN(file),
                               e ? PS_SHOWN(e) : "dlopen failed");
        close(fd);
        free(file);
        return st;
    }
    ps_plugin_entry_fn entry;
    void *sym = dlsym(h, PS_PLUGIN_ENTRY_NAME);
    memcpy(&entry, &sym, sizeof entry);
    if (!sym) {
        st = ps_error_setf(err, PS_ERR_PLUGIN,
                           "%s: no entry function '%s' (define it with PS_PLUGIN_DEFINE)",
                           PS_SHOWN(file),
                           PS_PLUGIN_ENTRY_NAME);
    } else {
        const ps_plugin_descriptor *d = entry();
        st = ps_descriptor_check(d, PS_SHOWN(file), err);
        if (st == PS_OK && strcmp(d->name, name) != 0)
            st = ps_error_setf(err, PS_ERR_PLUGIN,
                               "%s: name is '%s' but the file is named '%s.so'; they must match",
                               PS_SHOWN(file), d->name, name);
        if (st == PS_OK)
            return add_plugin(r, d, file, h, fd, out, err);
    }
    dlclose(h);
    close(fd);
    free(file);
    return st;
}

ps_status ps_registry_load_file(ps_registry *r, const char *path, const ps_plugin **out,
                                ps_error *err)
{
    size_t n = path ? strlen(path) : 0;
    if (n < 4 || strcmp(path + n - 3, ".so") != 0)
        return ps_error_setf(err, PS_ERR_USAGE, "%s: a plugin file name ends in .so",
                             PS_SHOWN(path));
    char *copy = strdup(path);
    if (!copy)
        return ps_error_setf(err, PS_ERR_NOMEM, "plugin loader: out of memory");
    char *slash = strrchr(copy, '/');
    const char *dir = ".", *base = copy;
    if (slash) {
        *slash = '\0';
        dir = slash == copy ? "/" : copy;
        base = slash + 1;
    }
    char name[256];
    size_t blen = strlen(base) - 3;
    if (blen == 0 || blen >= sizeof name) {
        free(copy);
        return ps_error_setf(err, PS_ERR_USAGE, "%s: not a plugin file name", PS_SHOWN(path));
    }
    memcpy(name, base, blen);
    name[blen] = '\0';
    const ps_plugin *p = find_loaded(r, name);
    ps_status st = PS_OK;
    if (p && p->path && strcmp(p->path, path) != 0)
        st = ps_error_setf(err, PS_ERR_PLUGIN, "%s: a plugin named '%s' is already loaded from %s",
                           path, name, p->path);
    else if (!p)
        st = load_file(r, dir, name, &p, err);
    free(copy);
    if (st == PS_OK && out)
        *out = p;
    return st;
}

static int exists(const char *dir, const char *name)
{
    char file[4096];
    snprintf(file, sizeof file, "%s/%s.so", dir, name);
    struct stat sb;
    return stat(file, &sb) == 0;
}

/* Names of *.so files in dir (sorted), malloc'd. */
static size_t list_dir(const char *dir, char ***out)
{
    *out = NULL;
    DIR *dp = opendir(dir);
    if (!dp)
        return 0;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        if (l <= 3 || strcmp(e->d_name + l - 3, ".so") != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **np = realloc(*out, nc * sizeof *np);
            if (!np)
                break;
            *out = np;
            cap = nc;
        }
        if (((*out)[n] = strndup(e->d_name, l - 3)))
            n++;
    }
    closedir(dp);
    for (size_t i = 1; i < n; i++) /* insertion sort: directories are small */
        for (size_t j = i; j > 0 && strcmp((*out)[j - 1], (*out)[j]) > 0; j--) {
            char *t = (*out)[j];
            (*out)[j] = (*out)[j - 1];
            (*out)[j - 1] = t;
        }
    return n;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

ps_status ps_registry_find(ps_registry *r, const char *name, const ps_plugin **out, ps_error *err)
{
    *out = NULL;
    if (!name || !plugin_name_ok(name))
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "plugin name '%s' is invalid (1-64 characters of [a-z0-9_])",
                             name ? name : "(null)");
    ps_plugin *p = find_loaded(r, name);
    if (p) {
        *out = p;
        return PS_OK;
    }
    if (!r->path_set) {
        ps_status st = ps_registry_set_path(r, NULL, 0, err);
        if (st != PS_OK)
            return st;
    }
    for (size_t i = 0; i < r->ndirs; i++)
        if (exists(r->dirs[i], name))
            return load_file(r, r->dirs[i], name, out, err);

    /* Not found: list where we looked and suggest a near name. */
    char looked[600] = "";
    const char *cands[256];
    char **owned[64];
    size_t nowned[64], nc = 0, no = 0;
    for (size_t i = 0; i < r->ndirs; i++) {
        strncat(looked, i ? ", " : "", sizeof looked - strlen(looked) - 1);
        strncat(looked, r->dirs[i], sizeof looked - strlen(looked) - 1);
        if (no < 64) {
            nowned[no] = list_dir(r->dirs[i], &owned[no]);
            for (size_t j = 0; j < nowned[no] && nc < 256; j++)
                cands[nc++] = owned[no][j];
            no++;
        }
    }
    for (size_t i = 0; i < r->n && nc < 256; i++)
        cands[nc++] = r->plugins[i]->desc->name;
    const char *sug = ps_suggest(name, cands, nc);
    ps_status st = ps_error_setf(err, PS_ERR_PLUGIN,
                                 "plugin '%s' not found%s%s%s; looked for %s.so in: %s (set "
                                 "plugin_path in the config or PAYSYNC_PLUGIN_PATH)",
                                 name, sug ? " (did you mean '" : "", sug ? sug : "",
                                 sug ? "'?)" : "", name, r->ndirs ? looked : "(no directories)");
    for (size_t i = 0; i < no; i++)
        free_list(owned[i], nowned[i]);
    return st;
}

void ps_registry_scan(ps_registry *r,
                      void (*fn)(void *ctx, const ps_plugin *p, const char *file,
                                 const ps_error *e),
                      void *ctx)
{
    for (size_t i = 0; i < r->n; i++)
        if (!r->plugins[i]->path)
            fn(ctx, r->plugins[i], NULL, NULL);
    if (!r->path_set && ps_registry_set_path(r, NULL, 0, NULL) != PS_OK)
        return;
    for (size_t i = 0; i < r->ndirs; i++) {
        char **names;
        size_t n = list_dir(r->dirs[i], &names);
        for (size_t j = 0; j < n; j++) {
            char file[4096];
            size_t dl = strlen(r->dirs[i]);
            snprintf(file, sizeof file, "%s%s%s.so", r->dirs[i],
                     dl && r->dirs[i][dl - 1] == '/' ? "" : "/", names[j]);
            ps_error e;
            ps_error_clear(&e);
            if (!plugin_name_ok(names[j])) {
                ps_error_setf(&e, PS_ERR_PLUGIN,
                              "%s: file name is not a valid plugin name ([a-z0-9_]+.so)", file);
                fn(ctx, NULL, file, &e);
                continue;
            }
            const ps_plugin *p = find_loaded(r, names[j]);
            if (p) {
                /* Shadowed by an earlier directory or a static plugin: report only the
                 * instance that would be used, once. */
                if (p->path && strcmp(p->path, file) == 0)
                    fn(ctx, p, p->path, NULL);
                continue;
            }
            if (load_file(r, r->dirs[i], names[j], &p, &e) == PS_OK)
                fn(ctx, p, p->path, NULL);
            else
                fn(ctx, NULL, file, &e);
        }
        free_list(names, n);
    }
}

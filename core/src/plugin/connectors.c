/* paysync core: connector manifests (see connectors.h). */
#include "plugin/connectors.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/trust.h"

#ifndef PS_CONNECTOR_REL_DIR
#define PS_CONNECTOR_REL_DIR "../share/paysync/connectors"
#endif

char *ps_connector_dir_near(const char *exe)
{
    const char *slash = exe ? strrchr(exe, '/') : NULL;
    if (!slash)
        return NULL;
    static const char *const rel[] = {PS_CONNECTOR_REL_DIR, "connectors"};
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

/* 1 when dir/name.yaml is a file (*out malloc'd), 0 when not, -1 out of memory. */
static int candidate(const char *dir, size_t dlen, const char *name, char **out)
{
    size_t need = dlen + strlen(name) + 7;
    char *f = malloc(need);
    if (!f)
        return -1;
    snprintf(f, need, "%.*s/%s.yaml", (int)dlen, dir, name);
    struct stat sb;
    if (stat(f, &sb) == 0 && S_ISREG(sb.st_mode)) {
        *out = f;
        return 1;
    }
    free(f);
    return 0;
}

/* Calls fn(ctx, dir, dlen, from) for each connector folder in search order (next to the
 * executable, $PAYSYNC_CONNECTOR_PATH, the plugin path) until it returns nonzero; returns
 * that, or 0. */
static int each_folder(ps_registry *r,
                       int (*fn)(void *ctx, const char *dir, size_t dlen, const char *from),
                       void *ctx)
{
    int rc = 0;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *near = ps_connector_dir_near(exe);
        if (near)
            rc = fn(ctx, near, strlen(near), "next to paysync");
        free(near);
    }
    const char *env = getenv("PAYSYNC_CONNECTOR_PATH");
    while (rc == 0 && env && *env) {
        const char *colon = strchr(env, ':');
        size_t elen = colon ? (size_t)(colon - env) : strlen(env);
        if (elen)
            rc = fn(ctx, env, elen, "PAYSYNC_CONNECTOR_PATH");
        env = colon ? colon + 1 : NULL;
    }
    size_t n = 0;
    const char *const *dirs = ps_registry_dirs(r, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = fn(ctx, dirs[i], strlen(dirs[i]), "plugin_path");
    return rc;
}

typedef struct find_ctx {
    const char *name;
    char *found;
} find_ctx;

static int find_in(void *ctx, const char *dir, size_t dlen, const char *from)
{
    find_ctx *fc = ctx;
    (void)from;
    return candidate(dir, dlen, fc->name, &fc->found);
}

static int plugin_exists(ps_registry *r, const char *name)
{
    size_t n = 0;
    const char *const *dirs = ps_registry_dirs(r, &n);
    for (size_t i = 0; i < n; i++) {
        char f[PATH_MAX];
        struct stat sb;
        snprintf(f, sizeof f, "%s/%s.so", dirs[i], name);
        if (stat(f, &sb) == 0)
            return 1;
    }
    return 0;
}

int ps_connector_find(ps_registry *r, const char *name, char **path, ps_error *err)
{
    *path = NULL;
    if (!name || !*name || strlen(name) > 64 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
        return 0;
    const ps_plugin *loaded = NULL;
    ps_error e = {0};
    if (strcmp(name, PS_CONNECTOR_PLUGIN) == 0 || plugin_exists(r, name))
        return 0;
    /* a built-in (static) plugin of that name */
    ps_status st = ps_registry_find(r, name, &loaded, &e);
    if (st == PS_OK)
        return 0;
    find_ctx fc = {.name = name};
    int rc = each_folder(r, find_in, &fc);
    char *found = fc.found;
    if (rc < 0) {
        ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        return -1;
    }
    if (rc == 0)
        return 0;
    int fd = ps_plugin_open_trusted(found, err);
    if (fd < 0) {
        free(found);
        return -1;
    }
    close(fd);
    *path = found;
    return 1;
}

ps_kv *ps_connector_opts(const ps_kv *kvs, size_t n, const char *path, int line, int col,
                         size_t *nout)
{
    ps_kv *o = calloc(n + 1, sizeof *o);
    if (!o)
        return NULL;
    int has = 0;
    for (size_t i = 0; i < n; i++) {
        o[i] = kvs[i];
        has |= strcmp(kvs[i].key, "manifest") == 0;
    }
    *nout = n;
    if (!has)
        o[(*nout)++] =
            (ps_kv){.key = (char *)"manifest", .value = (char *)path, .line = line, .col = col};
    return o;
}

/* The top-level `description:` of the manifest at path, unquoted, into out ("" when none). */
static void read_description(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    size_t seen = 0;
    while (seen < 65536 && fgets(line, sizeof line, f)) {
        seen += strlen(line);
        if (strncmp(line, "description:", 12) != 0)
            continue;
        char *v = line + 12;
        v += strspn(v, " \t");
        size_t n = strcspn(v, "\r\n");
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v++;
            n -= 2;
        }
        snprintf(out, cap, "%.*s", (int)n, v);
        for (char *c = out; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = ' ';
        break;
    }
    fclose(f);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct seen_names {
    char **v;
    size_t n, cap;
} seen_names;

static int seen_has(const seen_names *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return 1;
    return 0;
}

typedef struct scan_ctx {
    ps_registry *r;
    seen_names seen;
    void (*each)(void *, const ps_connector_info *);
    void *ctx;
} scan_ctx;

static int scan_dir(void *vctx, const char *dir, size_t dlen, const char *from)
{
    scan_ctx *sc = vctx;
    ps_registry *r = sc->r;
    seen_names *seen = &sc->seen;
    char path[PATH_MAX];
    if (dlen == 0 || dlen >= sizeof path - 80)
        return 0;
    snprintf(path, sizeof path, "%.*s", (int)dlen, dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    char *names[1000];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < sizeof names / sizeof names[0]) {
        size_t l = strlen(e->d_name);
        if (l < 6 || l > 64 + 5 || strcmp(e->d_name + l - 5, ".yaml") != 0 ||
            strspn(e->d_name, "abcdefghijklmnopqrstuvwxyz0123456789_") != l - 5)
            continue;
        if ((names[n] = strndup(e->d_name, l - 5)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    for (size_t i = 0; i < n; i++) {
        char file[PATH_MAX], desc[200];
        snprintf(file, sizeof file, "%s/%s.yaml", path, names[i]);
        struct stat sb;
        if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(names[i]);
            continue;
        }
        const ps_plugin *loaded = NULL;
        ps_error pe = {0};
        int shadowed = seen_has(seen, names[i]) || plugin_exists(r, names[i]) ||
                       strcmp(names[i], PS_CONNECTOR_PLUGIN) == 0 ||
                       ps_registry_find(r, names[i], &loaded, &pe) == PS_OK;
        read_description(file, desc, sizeof desc);
        ps_connector_info info = {.name = names[i],
                                  .path = file,
                                  .from = from,
                                  .description = desc,
                                  .shadowed = shadowed};
        sc->each(sc->ctx, &info);
        if (!shadowed && seen->n < seen->cap) {
            seen->v[seen->n++] = names[i];
            continue;
        }
        free(names[i]);
    }
    return 0;
}

void ps_connector_scan(ps_registry *r, void (*each)(void *ctx, const ps_connector_info *info),
                       void *ctx)
{
    scan_ctx sc = {.r = r, .seen = {.cap = 4096}, .each = each, .ctx = ctx};
    if (!(sc.seen.v = calloc(sc.seen.cap, sizeof *sc.seen.v)))
        return;
    each_folder(r, scan_dir, &sc);
    for (size_t i = 0; i < sc.seen.n; i++)
        free(sc.seen.v[i]);
    free(sc.seen.v);
}

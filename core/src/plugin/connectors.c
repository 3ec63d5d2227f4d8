/* paysync core: connector manifests (see connectors.h). */
#include "plugin/connectors.h"

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
    char *found = NULL;
    int rc = 0;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *near = ps_connector_dir_near(exe);
        if (near)
            rc = candidate(near, strlen(near), name, &found);
        free(near);
    }
    const char *env = getenv("PAYSYNC_CONNECTOR_PATH");
    while (rc == 0 && env && *env) {
        const char *colon = strchr(env, ':');
        size_t elen = colon ? (size_t)(colon - env) : strlen(env);
        if (elen)
            rc = candidate(env, elen, name, &found);
        env = colon ? colon + 1 : NULL;
    }
    size_t n = 0;
    const char *const *dirs = ps_registry_dirs(r, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = candidate(dirs[i], strlen(dirs[i]), name, &found);
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

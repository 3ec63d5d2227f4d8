/* paysync new-plugin: writes a plugin folder from the embedded templates (cli/templates). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "templates.h"

static const char new_plugin_usage[] =
    "usage: paysync new-plugin NAME --kind provider|sink [--shape tabular|record]\n"
    "                          [--dir DIR]\n"
    "\n"
    "Writes a folder (DIR, default ./NAME) holding a working plugin that builds against the\n"
    "installed paysync SDK in one command (./build.sh): the plugin's source (a provider that\n"
    "reads a small CSV fixture; with --shape record one serving keyed records as from a JSON\n"
    "API; or a sink that writes payments to a file), a unit test on\n"
    "paysync's test host, a CMakeLists.txt using find_package(paysync), an example config and\n"
    "a README. NAME is the plugin's name: a lowercase letter, then [a-z0-9_], at most 48\n"
    "characters. The folder must not exist yet; nothing is overwritten.\n"
    "exit: 0 written, 2 usage error or the folder could not be written.\n";

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48 || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* The prefix this paysync runs from (PREFIX/bin/paysync), or "" when unknown. */
static void own_prefix(char *out, size_t cap)
{
    char exe[PATH_MAX];
    out[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            return;
        *slash = '\0';
    }
    snprintf(out, cap, "%s", exe[0] ? exe : "/");
}

typedef struct subst {
    const char *key;
    const char *value;
} subst;

/* Appends text[0..len) with every @KEY@ replaced; returns the new buffer or NULL. */
static char *expand(const char *text, size_t len, const subst *subs, size_t nsubs, size_t *outlen)
{
    size_t cap = len * 2 + 256, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        const subst *hit = NULL;
        if (text[i] == '@')
            for (size_t s = 0; s < nsubs && !hit; s++) {
                size_t kl = strlen(subs[s].key);
                if (i + kl <= len && memcmp(text + i, subs[s].key, kl) == 0)
                    hit = &subs[s];
            }
        const char *src = hit ? hit->value : text + i;
        size_t sl = hit ? strlen(hit->value) : 1;
        if (n + sl + 1 > cap) {
            cap = (n + sl + 1) * 2;
            char *nb = realloc(out, cap);
            if (!nb) {
                free(out);
                return NULL;
            }
            out = nb;
        }
        memcpy(out + n, src, sl);
        n += sl;
        i += hit ? strlen(hit->key) : 1;
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* Creates path exclusively (never through a symlink) and writes data. */
static int write_new(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, mode) != 0 || close(fd) != 0)
        return -1;
    return 0;
}

/* 1 when the template folder `kind` has a file named rel (it replaces the common one). */
static int own_template(const char *kind, const char *rel)
{
    size_t klen = strlen(kind);
    for (const ps_template *t = ps_templates; t->path; t++)
        if (strncmp(t->path, kind, klen) == 0 && t->path[klen] == '/' &&
            strcmp(t->path + klen + 1, rel) == 0)
            return 1;
    return 0;
}

/* Writes one template file into dir with the substitutions; prints its path. */
static int write_template(const char *dir, const char *rel, const ps_template *t, const subst *subs,
                          size_t nsubs)
{
    size_t fnl = 0, datal = 0;
    char *fname = expand(rel, strlen(rel), subs, nsubs, &fnl);
    char *data = expand((const char *)t->data, t->len, subs, nsubs, &datal);
    char path[PATH_MAX];
    int ok = fname && data && snprintf(path, sizeof path, "%s/%s", dir, fname) < (int)sizeof path;
    size_t rl = strlen(rel);
    mode_t mode = rl > 3 && strcmp(rel + rl - 3, ".sh") == 0 ? 0755 : 0644;
    int rc = 0;
    if (!ok || write_new(path, data, datal, mode) != 0) {
        cli_error("new-plugin: cannot write '%s/%s': %s", dir, fname ? fname : rel,
                  ok ? strerror(errno) : "out of memory or path too long");
        rc = -1;
    } else {
        printf("wrote %s\n", path);
    }
    free(fname);
    free(data);
    return rc;
}

int cmd_new_plugin(int argc, char **argv)
{
    static const struct option longopts[] = {{"kind", required_argument, NULL, 'k'},
                                             {"shape", required_argument, NULL, 's'},
                                             {"dir", required_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *kind = NULL, *shape = "tabular", *dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            kind = optarg;
            break;
        case 's':
            shape = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'h':
            return cli_usage(new_plugin_usage, 1);
        default:
            return cli_usage(new_plugin_usage, 0);
        }
    }
    if (optind != argc - 1 || !kind)
        return cli_usage(new_plugin_usage, 0);
    const char *name = argv[optind];
    if (!name_ok(name)) {
        cli_error("new-plugin: '%s' is not a plugin name: use a lowercase letter, then "
                  "lowercase letters, digits or '_' (at most 48)",
                  name);
        return PS_EXIT_USAGE;
    }
    if (strcmp(kind, "provider") != 0 && strcmp(kind, "sink") != 0) {
        cli_error("new-plugin: --kind is provider or sink, not '%s'", kind);
        return PS_EXIT_USAGE;
    }
    if (strcmp(shape, "tabular") != 0 && strcmp(shape, "record") != 0) {
        cli_error("new-plugin: --shape is tabular (header + cells) or record (keyed values, "
                  "as from a JSON API), not '%s'",
                  shape);
        return PS_EXIT_USAGE;
    }
    if (strcmp(kind, "sink") == 0 && strcmp(shape, "record") == 0) {
        cli_error("new-plugin: --shape is for providers");
        return PS_EXIT_USAGE;
    }
    /* The template folder: provider, provider_record or sink. */
    const char *tkind = strcmp(shape, "record") == 0 ? "provider_record" : kind;
    if (!dir)
        dir = name;
    if (mkdir(dir, 0755) != 0) {
        cli_error("new-plugin: cannot create folder '%s': %s%s", dir, strerror(errno),
                  errno == EEXIST ? " (choose another --dir; nothing is overwritten)" : "");
        return PS_EXIT_USAGE;
    }
    char prefix[PATH_MAX];
    own_prefix(prefix, sizeof prefix);
    const subst subs[] = {
        {"@NAME@", name},
        {"@KIND@", kind},
        {"@PREFIX@", prefix[0] ? prefix : "/usr"},
        {"@TEST_ARGS@",
         strcmp(tkind, "provider") == 0 ? " ${CMAKE_CURRENT_SOURCE_DIR}/fixture.csv" : ""},
    };
    size_t nfiles = 0;
    /* The kind's own files, then the shared ones (templates/common) it does not replace. */
    for (int pass = 0; pass < 2; pass++) {
        const char *folder = pass == 0 ? tkind : "common";
        size_t flen = strlen(folder);
        for (const ps_template *t = ps_templates; t->path; t++) {
            if (strncmp(t->path, folder, flen) != 0 || t->path[flen] != '/')
                continue;
            const char *rel = t->path + flen + 1;
            if (pass == 1 && own_template(tkind, rel))
                continue;
            if (write_template(dir, rel, t, subs, sizeof subs / sizeof subs[0]) != 0)
                return PS_EXIT_USAGE;
            nfiles++;
        }
    }
    printf("\n%s plugin '%s': %zu files in %s/\n", kind, name, nfiles, dir);
    printf("  cd %s && ./build.sh   (builds build/%s.so against the SDK in %s, runs its test)\n",
           dir, name, prefix[0] ? prefix : "/usr");
    if (strcmp(kind, "provider") == 0)
        printf("  paysync test-plugin build/%s.so --config example.yaml --dataset %s_demo\n", name,
               name);
    else
        printf("  paysync test-plugin build/%s.so\n", name);
    return PS_EXIT_OK;
}

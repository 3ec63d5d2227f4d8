/* paysync core: file sinks and the datasets that share them (see file_sinks.h). */
#include "config/file_sinks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_kind.h"
#include "util/pathtext.h"

static const ps_kv *sink_opt(const ps_sink_def *s, const char *name)
{
    for (size_t i = 0; i < s->ref.nopts; i++)
        if (strcmp(s->ref.opts[i].key, name) == 0)
            return &s->ref.opts[i];
    return NULL;
}

const char *ps_file_sink_path(const ps_sink_def *s)
{
    if (!s || !s->ref.plugin || ps_store_kind_known(s->ref.plugin))
        return NULL;
    const ps_kv *p = sink_opt(s, "path");
    if (!p || !p->value || !p->value[0] || strcmp(p->value, "-") == 0)
        return NULL;
    return p->value;
}

int ps_file_sink_per_dataset(const ps_sink_def *s)
{
    const char *p = ps_file_sink_path(s);
    return p && strstr(p, PS_DATASET_PLACEHOLDER) != NULL;
}

char *ps_file_sink_expand(const char *path, const char *dataset)
{
    const size_t pl = strlen(PS_DATASET_PLACEHOLDER), dl = strlen(dataset);
    size_t n = 0;
    for (const char *p = strstr(path, PS_DATASET_PLACEHOLDER); p;
         p = strstr(p + pl, PS_DATASET_PLACEHOLDER))
        n++;
    size_t len = strlen(path) - n * pl + n * dl;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const char *p = path; *p;) {
        if (strncmp(p, PS_DATASET_PLACEHOLDER, pl) == 0) {
            memcpy(o, dataset, dl);
            o += dl;
            p += pl;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* 1 when dataset d lists sink s. */
static int writes(const ps_dataset_def *d, const ps_sink_def *s)
{
    for (size_t i = 0; i < d->nsinks; i++)
        if (strcmp(d->sinks[i], s->name) == 0)
            return 1;
    return 0;
}

/* 1 when s is a file sink without {dataset} written by two datasets or more. */
static int shared(const ps_config *c, const ps_sink_def *s)
{
    if (!ps_file_sink_path(s) || ps_file_sink_per_dataset(s))
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < c->ndatasets; i++)
        n += (size_t)writes(&c->datasets[i], s);
    return n >= 2;
}

static int listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* Appends to buf (NUL-terminated, cap bytes) as much of the text as fits. */
static void add(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* The path with {dataset} before its extension, for suggestions: "out/p.jsonl" ->
 * "out/p-{dataset}.jsonl". */
static void suggest_path(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        dot = base + strlen(base);
    snprintf(buf, cap, "%.*s-%s%s", (int)(dot - path), path, PS_DATASET_PLACEHOLDER, dot);
}

/* The schedule as written, for messages: "daily (at 02:00)", "no schedule". */
static void schedule_text(const ps_dataset_def *d, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!d->nschedule) {
        add(buf, cap, "no schedule");
        return;
    }
    for (size_t i = 0; i < d->nschedule; i++) {
        const ps_kv *kv = &d->schedule[i];
        if (strcmp(kv->key, "kind") == 0)
            add(buf, cap, "%s", kv->value);
        else
            add(buf, cap, "%s%s %s", i == 1 ? " (" : ", ", kv->key, kv->value);
    }
    if (d->nschedule > 1)
        add(buf, cap, ")");
}

static int same_schedule(const ps_dataset_def *a, const ps_dataset_def *b)
{
    if (a->nschedule != b->nschedule)
        return 0;
    for (size_t i = 0; i < a->nschedule; i++)
        if (strcmp(a->schedule[i].key, b->schedule[i].key) != 0 ||
            strcmp(a->schedule[i].value, b->schedule[i].value) != 0)
            return 0;
    return 1;
}

/* "'a', 'b'" for the datasets writing s (all, or those listed / not listed in only). */
static void writers(const ps_config *c, const ps_sink_def *s, int with_schedule, char *const *only,
                    size_t nonly, int want_listed, char *buf, size_t cap)
{
    buf[0] = '\0';
    int first = 1;
    for (size_t i = 0; i < c->ndatasets; i++) {
        const ps_dataset_def *d = &c->datasets[i];
        if (!writes(d, s))
            continue;
        if (only && listed(only, nonly, d->name) != want_listed)
            continue;
        add(buf, cap, "%s'%s'", first ? "" : ", ", d->name);
        if (with_schedule) {
            char t[160];
            schedule_text(d, t, sizeof t);
            add(buf, cap, " (%s)", t);
        }
        first = 0;
    }
}

static ps_status check_placeholders(const ps_config *c, const ps_sink_def *s, ps_error *err)
{
    const ps_kv *p = sink_opt(s, "path");
    if (!p || !p->value)
        return PS_OK;
    const char *open = p->value;
    while ((open = strchr(open, '{')) != NULL) {
        const char *q = open + 1;
        while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_')
            q++;
        if (*q == '}' && q > open + 1) {
            size_t len = (size_t)(q - open + 1);
            int is_ds = len == strlen(PS_DATASET_PLACEHOLDER) &&
                        strncmp(open, PS_DATASET_PLACEHOLDER, len) == 0;
            if (!is_ds)
                return ps_error_setf(err, PS_ERR_CONFIG,
                                     "%s:%d:%d: sinks.%s.path: unknown placeholder '%.*s' in "
                                     "'%s': the only one is %s (the dataset's name)",
                                     PS_SHOWN(c->path), p->line, p->col, s->name, (int)len, open, p->value,
                                     PS_DATASET_PLACEHOLDER);
            if (ps_store_kind_known(s->ref.plugin))
                return ps_error_setf(err, PS_ERR_CONFIG,
                                     "%s:%d:%d: sinks.%s.path: %s is for file sinks (jsonl, csv); "
                                     "a store keeps every dataset's payments apart by itself, "
                                     "so its path names one database",
                                     PS_SHOWN(c->path), p->line, p->col, s->name, PS_DATASET_PLACEHOLDER);
        }
        open++;
    }
    return PS_OK;
}

/* Drops "." components and repeated slashes from a path, in place ("a/./b//c" -> "a/b/c"),
 * so that two spellings of one file compare equal ("..", which may cross a symlink, stays). */
static void normalise(char *p)
{
    char *o = p;
    const char *r = p;
    while (*r) {
        if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || !r[2])))) {
            r += r[1] == '/' ? 1 : 2;
            continue;
        }
        if (r == p && r[0] == '.' && r[1] == '/') {
            r += 2;
            continue;
        }
        *o++ = *r++;
    }
    if (o > p + 1 && o[-1] == '/')
        o--;
    *o = '\0';
}

/* A file one sink writes for one dataset (or for all of them). */
typedef struct target {
    char *path; /* resolved, malloc'd */
    const ps_sink_def *sink;
    const char *dataset; /* for a {dataset} path, else NULL */
} target;

static ps_status check_targets(const ps_config *c, ps_error *err)
{
    size_t cap = c->nsinks * (c->ndatasets + 1) + 1, n = 0;
    target *t = calloc(cap, sizeof *t);
    if (!t)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_status st = PS_OK;
    for (size_t i = 0; i < c->nsinks && st == PS_OK; i++) {
        const ps_sink_def *s = &c->sinks[i];
        const char *path = ps_file_sink_path(s);
        if (!path && ps_store_kind_known(s->ref.plugin)) {
            /* a store's file must not be a file sink's either */
            const ps_kv *p = sink_opt(s, "path");
            if (p && p->value && p->value[0] && !(t[n].path = ps_path_resolve(c->dir, p->value)))
                st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            if (t[n].path) {
                normalise(t[n].path);
                t[n].sink = s;
                t[n].dataset = NULL;
                n++;
            }
            continue;
        }
        if (!path)
            continue;
        int per = ps_file_sink_per_dataset(s);
        for (size_t k = 0; k < c->ndatasets && st == PS_OK; k++) {
            const ps_dataset_def *d = &c->datasets[k];
            if (!writes(d, s))
                continue;
            if (per && (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0)) {
                st = ps_error_setf(err, PS_ERR_CONFIG,
                                   "%s:%d:%d: datasets[%s]: the dataset name '%s' can not stand "
                                   "for %s in sink '%s''s path '%s' (it names a folder); "
                                   "rename the dataset",
                                   PS_SHOWN(c->path), d->line, d->col, d->name, d->name,
                                   PS_DATASET_PLACEHOLDER, s->name, path);
                break;
            }
            char *x = per ? ps_file_sink_expand(path, d->name) : NULL;
            t[n].path = ps_path_resolve(c->dir, x ? x : path);
            free(x);
            if (!t[n].path) {
                st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
                break;
            }
            normalise(t[n].path);
            t[n].sink = s;
            t[n].dataset = per ? d->name : NULL;
            n++;
            if (!per)
                break; /* one file for every dataset */
        }
    }
    for (size_t i = 0; i < n && st == PS_OK; i++)
        for (size_t k = i + 1; k < n && st == PS_OK; k++)
            if (t[i].sink != t[k].sink && strcmp(t[i].path, t[k].path) == 0) {
                char a[200] = "", b[200] = "";
                if (t[i].dataset)
                    snprintf(a, sizeof a, " (for dataset '%s')", t[i].dataset);
                if (t[k].dataset)
                    snprintf(b, sizeof b, " (for dataset '%s')", t[k].dataset);
                st =
                    ps_error_setf(err, PS_ERR_CONFIG,
                                  "%s:%d:%d: sinks.%s: sinks '%s'%s and '%s'%s both write '%s': "
                                  "one would replace the other's file; give them different "
                                  "paths",
                                  PS_SHOWN(c->path), t[k].sink->ref.line, t[k].sink->ref.col, t[k].sink->name,
                                  t[i].sink->name, a, t[k].sink->name, b, t[i].path);
            }
    for (size_t i = 0; i < n; i++)
        free(t[i].path);
    free(t);
    return st;
}

ps_status ps_file_sinks_check(const ps_config *c, ps_error *err)
{
    for (size_t i = 0; i < c->nsinks; i++) {
        ps_status st = check_placeholders(c, &c->sinks[i], err);
        if (st != PS_OK)
            return st;
    }
    ps_status st = check_targets(c, err);
    if (st != PS_OK)
        return st;
    for (size_t i = 0; i < c->nsinks; i++) {
        const ps_sink_def *s = &c->sinks[i];
        if (!shared(c, s))
            continue;
        const ps_dataset_def *first = NULL;
        for (size_t k = 0; k < c->ndatasets; k++) {
            const ps_dataset_def *d = &c->datasets[k];
            if (!writes(d, s))
                continue;
            if (!first) {
                first = d;
                continue;
            }
            if (same_schedule(first, d))
                continue;
            char who[600], sug[400];
            writers(c, s, 1, NULL, 0, 0, who, sizeof who);
            suggest_path(ps_file_sink_path(s), sug, sizeof sug);
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "%s:%d:%d: sinks.%s: sink '%s' (%s) is written by datasets %s, "
                                 "which do not always run together (`run --due` and the daemon "
                                 "run each on its own schedule): every run replaces the file "
                                 "with the payments of its own datasets only. Give each dataset "
                                 "its own file with %s in the path (path: %s), or give them one "
                                 "schedule",
                                 PS_SHOWN(c->path), s->ref.line, s->ref.col, s->name, s->name,
                                 ps_file_sink_path(s), who, PS_DATASET_PLACEHOLDER, sug);
        }
    }
    return PS_OK;
}

ps_status ps_file_sinks_check_selection(const ps_config *c, char *const *only, size_t nonly,
                                        ps_error *err)
{
    if (nonly == 0)
        return PS_OK;
    for (size_t i = 0; i < c->nsinks; i++) {
        const ps_sink_def *s = &c->sinks[i];
        if (!shared(c, s))
            continue;
        size_t in = 0, out = 0;
        for (size_t k = 0; k < c->ndatasets; k++) {
            const ps_dataset_def *d = &c->datasets[k];
            if (writes(d, s))
                listed(only, nonly, d->name) ? in++ : out++;
        }
        if (in == 0 || out == 0)
            continue;
        char inside[400], left[400], sug[400];
        writers(c, s, 0, only, nonly, 1, inside, sizeof inside);
        writers(c, s, 0, only, nonly, 0, left, sizeof left);
        suggest_path(ps_file_sink_path(s), sug, sizeof sug);
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "%s:%d:%d: sinks.%s: sink '%s' (%s) is also written by dataset%s %s, "
                             "which this run leaves out: the file would be replaced with the "
                             "payments of %s only. Run all its datasets together (add --dataset "
                             "for each, or no --dataset), or give each dataset its own file with "
                             "%s in the path (path: %s)",
                             PS_SHOWN(c->path), s->ref.line, s->ref.col, s->name, s->name,
                             ps_file_sink_path(s), out > 1 ? "s" : "", left, inside,
                             PS_DATASET_PLACEHOLDER, sug);
    }
    return PS_OK;
}

ps_status ps_file_sinks_check_separate(const ps_config *c,
                                       int (*scheduled)(const ps_config *c,
                                                        const ps_dataset_def *d),
                                       ps_error *err)
{
    for (size_t i = 0; i < c->nsinks; i++) {
        const ps_sink_def *s = &c->sinks[i];
        if (!shared(c, s))
            continue;
        int any = 0;
        for (size_t k = 0; k < c->ndatasets && !any; k++)
            any = writes(&c->datasets[k], s) && scheduled(c, &c->datasets[k]);
        if (!any)
            continue;
        char who[400], sug[400];
        writers(c, s, 0, NULL, 0, 0, who, sizeof who);
        suggest_path(ps_file_sink_path(s), sug, sizeof sug);
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "%s:%d:%d: sinks.%s: sink '%s' (%s) is written by datasets %s, "
                             "which the daemon runs one at a time: each run would replace the "
                             "file with its own dataset's payments only. Give each dataset its "
                             "own file with %s in the path (path: %s)",
                             PS_SHOWN(c->path), s->ref.line, s->ref.col, s->name, s->name,
                             ps_file_sink_path(s), who, PS_DATASET_PLACEHOLDER, sug);
    }
    return PS_OK;
}

size_t ps_file_sinks_close_selection(const ps_config *c, const char **names, size_t *n)
{
    size_t added = 0;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < c->nsinks; i++) {
            const ps_sink_def *s = &c->sinks[i];
            if (!shared(c, s))
                continue;
            int in = 0;
            for (size_t k = 0; k < c->ndatasets && !in; k++)
                in = writes(&c->datasets[k], s) &&
                     listed((char *const *)names, *n, c->datasets[k].name);
            if (!in)
                continue;
            for (size_t k = 0; k < c->ndatasets; k++) {
                const ps_dataset_def *d = &c->datasets[k];
                if (writes(d, s) && !listed((char *const *)names, *n, d->name) &&
                    *n < c->ndatasets) {
                    names[(*n)++] = d->name;
                    added++;
                    changed = 1;
                }
            }
        }
    }
    return added;
}

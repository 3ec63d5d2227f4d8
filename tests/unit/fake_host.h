/* Unit-test helper: a small ps_host for driving plugins through their descriptors without the
 * loader or the pipeline. Header-only; include it from one test file.
 *
 *   fake_host fh;
 *   const char *opts[] = {"path", "x.csv", "delimiter", ";", NULL};
 *   fake_host_init(&fh, desc, opts);          // options as key, value, ..., NULL
 *   desc->create(&fh.ctx, &inst, &err);
 *   ...
 *   fake_host_fini(&fh);
 *
 * Options: a value given in `opts` is "set"; otherwise the descriptor's default is returned
 * (opt_is_set 0). Ints and bools are parsed from the text (opt_int as the core does: durations
 * in ms, sizes in bytes, enums as an index). Log lines are appended to fh.log
 * (one per line, "LEVEL message") so tests can assert on them. Arena, CSV and field-name
 * services are the real core functions (unit tests link the static core), and so are the host
 * services (sleep_ms, http_*, outfile_*, utf8_check, time_format). */
#ifndef PS_TEST_FAKE_HOST_H
#define PS_TEST_FAKE_HOST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/csv.h"
#include "model/model_fields.h"
#include "plugin/host.h"
#include "util/arena.h"
#include "paysync/plugin.h"
#include "plugin/options.h"

#define FAKE_HOST_MAX_OPTS 32

typedef struct fake_options {
    const ps_option_spec *spec;
    const char *key[FAKE_HOST_MAX_OPTS];
    const char *value[FAKE_HOST_MAX_OPTS];
    size_t n;
} fake_options;

typedef struct fake_host {
    ps_host host;
    fake_options opts;
    ps_plugin_ctx ctx;
    char log[16384];
    size_t log_len;
    int64_t now_ms;
} fake_host;

static const char *fake_opt_raw(const ps_options *o, const char *name, int *is_set)
{
    const fake_options *fo = (const fake_options *)(const void *)o;
    for (size_t i = 0; i < fo->n; i++)
        if (strcmp(fo->key[i], name) == 0) {
            *is_set = 1;
            return fo->value[i];
        }
    *is_set = 0;
    for (const ps_option_spec *s = fo->spec; s && s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s->default_value;
    return NULL;
}

static const char *fake_opt_string(const ps_options *o, const char *name)
{
    int set;
    return fake_opt_raw(o, name, &set);
}

static int64_t fake_opt_int(const ps_options *o, const char *name)
{
    int set;
    const char *v = fake_opt_raw(o, name, &set);
    if (!v)
        return 0;
    /* typed like the core (DURATION in ms, SIZE in bytes, ENUM index); values the core would
     * refuse are passed through as plain numbers so that tests can still reach the plugin */
    const fake_options *fo = (const fake_options *)(const void *)o;
    for (const ps_option_spec *s = fo->spec; s && s->name; s++) {
        int64_t n;
        if (strcmp(s->name, name) == 0 && ps_option_check(s, NULL, v, &n, NULL, NULL, 0) == 0)
            return n;
    }
    return (int64_t)strtoll(v, NULL, 10);
}

static int fake_opt_bool(const ps_options *o, const char *name)
{
    int set;
    const char *v = fake_opt_raw(o, name, &set);
    return v && (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0);
}

static int fake_opt_is_set(const ps_options *o, const char *name)
{
    int set;
    fake_opt_raw(o, name, &set);
    return set;
}

static void fake_log(const ps_env *env, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fake_log(const ps_env *env, int level, const char *fmt, ...)
{
    fake_host *fh = (fake_host *)(void *)env;
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    size_t room = sizeof fh->log - fh->log_len;
    if (room < 2)
        return;
    int n =
        snprintf(fh->log + fh->log_len, room, "%s ", level >= 0 && level <= 3 ? names[level] : "?");
    if (n < 0 || (size_t)n >= room)
        return;
    fh->log_len += (size_t)n;
    room -= (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(fh->log + fh->log_len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room - 1) {
        fh->log_len = sizeof fh->log - 1;
        return;
    }
    fh->log_len += (size_t)n;
    fh->log[fh->log_len++] = '\n';
    fh->log[fh->log_len] = '\0';
}

static int fake_match_header(const ps_env *env, const char *name, size_t len)
{
    (void)env;
    return ps_field_lookup(name, len);
}

static int64_t fake_now_ms(void)
{
    return 1709648161350LL; /* 2024-03-05T14:16:01.350Z */
}

static int64_t fake_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sets up fh for descriptor d with options kv = {key, value, ..., NULL} (NULL: none).
 * The strings must outlive fh. */
static inline void fake_host_init(fake_host *fh, const ps_plugin_descriptor *d,
                                  const char *const *kv)
{
    memset(fh, 0, sizeof *fh);
    fh->host.abi_major = PS_ABI_MAJOR;
    fh->host.abi_minor = PS_ABI_MINOR;
    fh->host.struct_size = sizeof(ps_host);
    fh->host.log = fake_log;
    fh->host.opt_string = fake_opt_string;
    fh->host.opt_int = fake_opt_int;
    fh->host.opt_bool = fake_opt_bool;
    fh->host.opt_is_set = fake_opt_is_set;
    fh->host.arena_alloc = ps_arena_alloc;
    fh->host.arena_strndup = ps_arena_strndup;
    fh->host.match_header = fake_match_header;
    fh->host.field_name = ps_field_name;
    fh->host.csv_new = ps_csv_new;
    fh->host.csv_next = ps_csv_next;
    fh->host.csv_free = ps_csv_free;
    fh->host.now_ms = fake_now_ms;
    fh->host.monotonic_ms = fake_monotonic_ms;
    /* host services: the core's own (unit tests link the static core) */
    {
        const ps_host *core = ps_host_get();
        fh->host.sleep_ms = core->sleep_ms;
        fh->host.http_new = core->http_new;
        fh->host.http_free = core->http_free;
        fh->host.http_add_secret = core->http_add_secret;
        fh->host.http_request = core->http_request;
        fh->host.http_response_free = core->http_response_free;
        fh->host.http_redact = core->http_redact;
        fh->host.http_stats = core->http_stats;
        fh->host.outfile_new = core->outfile_new;
        fh->host.outfile_begin = core->outfile_begin;
        fh->host.outfile_reserve = core->outfile_reserve;
        fh->host.outfile_advance = core->outfile_advance;
        fh->host.outfile_put = core->outfile_put;
        fh->host.outfile_check = core->outfile_check;
        fh->host.outfile_commit = core->outfile_commit;
        fh->host.outfile_abort = core->outfile_abort;
        fh->host.outfile_finish = core->outfile_finish;
        fh->host.outfile_free = core->outfile_free;
        fh->host.utf8_check = core->utf8_check;
        fh->host.time_format = core->time_format;
        fh->host.csv_record_flags = core->csv_record_flags;
    }
    fh->opts.spec = d->options;
    for (size_t i = 0; kv && kv[i] && kv[i + 1] && fh->opts.n < FAKE_HOST_MAX_OPTS; i += 2) {
        fh->opts.key[fh->opts.n] = kv[i];
        fh->opts.value[fh->opts.n] = kv[i + 1];
        fh->opts.n++;
    }
    fh->ctx.struct_size = sizeof fh->ctx;
    fh->ctx.host = &fh->host;
    fh->ctx.env = (const ps_env *)(const void *)fh;
    fh->ctx.options = (const ps_options *)(const void *)&fh->opts;
    fh->ctx.instance_name = "source of test";
    fh->ctx.config_dir = ".";
}

/* Nothing to free today; kept so tests read symmetrically. */
static inline void fake_host_fini(fake_host *fh)
{
    (void)fh;
}

/* ---- a provider instance under test ----------------------------------------------------- */

typedef struct fake_provider {
    fake_host fh;
    const ps_plugin_descriptor *d;
    void *inst;
    ps_arena *run, *batch;
    ps_table_info info;
    ps_error err;
} fake_provider;

/* Creates an instance of provider d with options kv (see fake_host_init) plus a run and a
 * batch arena. Returns the plugin's create status (p->err says why); always pair with
 * fake_provider_free. */
static inline ps_status fake_provider_create(fake_provider *p, const ps_plugin_descriptor *d,
                                             const char *const *kv)
{
    memset(p, 0, sizeof *p);
    p->d = d;
    fake_host_init(&p->fh, d, kv);
    p->run = ps_arena_create(0);
    p->batch = ps_arena_create(0);
    return d->create(&p->fh.ctx, &p->inst, &p->err);
}

/* Opens the source for dataset "ds" with batches of batch_rows; fills p->info. */
static inline ps_status fake_provider_open(fake_provider *p, size_t batch_rows)
{
    ps_open_args a = {sizeof(a), "ds", NULL, p->run, batch_rows};
    return p->d->provider->open(p->inst, &a, &p->info, &p->err);
}

/* Closes and destroys the instance (if created) and frees the arenas. */
static inline void fake_provider_free(fake_provider *p)
{
    if (p->inst) {
        p->d->provider->close(p->inst);
        p->d->destroy(p->inst);
    }
    ps_arena_destroy(p->run);
    ps_arena_destroy(p->batch);
    fake_host_fini(&p->fh);
}

/* Runs the core's option engine over kv = {key, value, ..., NULL} for d, as the loader does
 * before create (the fake host itself checks nothing): PS_OK, or PS_ERR_CONFIG with err
 * "test.yaml:N:3: source of test: option 'x' must be ..., got '...'" (N = 2 + pair index). */
static inline ps_status fake_host_check_options(const ps_plugin_descriptor *d,
                                                const char *const *kv, ps_error *err)
{
    ps_kv kvs[FAKE_HOST_MAX_OPTS];
    size_t n = 0;
    for (; kv && kv[2 * n] && n < FAKE_HOST_MAX_OPTS; n++)
        kvs[n] = (ps_kv){(char *)kv[2 * n], (char *)kv[2 * n + 1], (int)n + 2, 3};
    ps_options *o = NULL;
    ps_status st = ps_options_build_at(d, kvs, n, "test.yaml", "/tmp", "source of test", 1, 1, &o,
                                       err);
    ps_options_free(o);
    return st;
}

#endif

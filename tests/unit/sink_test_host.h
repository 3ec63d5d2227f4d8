/* Test helper for sink plugins: a fake ps_host with settable options, captured logs, and a
 * record builder. Header-only; one sth_host per plugin instance under test. */
#ifndef SINK_TEST_HOST_H
#define SINK_TEST_HOST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_fields.h"
#include "model/validate.h" /* ps_record_content_hash: the core's definition */
#include "paysync/plugin.h"
#include "plugin/host.h"

#define STH_MAX_OPTS 16

typedef struct sth_host {
    ps_host host;
    ps_plugin_ctx ctx;
    const char *names[STH_MAX_OPTS];
    const char *values[STH_MAX_OPTS];
    size_t nopts;
    char last_log[1024];
    int last_level;
    int nlogs;
} sth_host;

static inline sth_host *sth_from_opts(const ps_options *o)
{
    return (sth_host *)(void *)(uintptr_t)o;
}

static inline const char *sth_lookup(const sth_host *h, const char *name)
{
    for (size_t i = 0; i < h->nopts; i++)
        if (strcmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

static inline void sth_log(const ps_env *env, int level, const char *fmt, ...)
{
    sth_host *h = (sth_host *)(void *)(uintptr_t)env;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->last_log, sizeof h->last_log, fmt, ap);
    va_end(ap);
    h->last_level = level;
    h->nlogs++;
}

static inline const char *sth_opt_string(const ps_options *o, const char *name)
{
    return sth_lookup(sth_from_opts(o), name);
}

static inline int64_t sth_opt_int(const ps_options *o, const char *name)
{
    const char *v = sth_lookup(sth_from_opts(o), name);
    return v ? strtoll(v, NULL, 10) : 0;
}

static inline int sth_opt_bool(const ps_options *o, const char *name)
{
    const char *v = sth_lookup(sth_from_opts(o), name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
                 strcmp(v, "on") == 0);
}

static inline int sth_opt_is_set(const ps_options *o, const char *name)
{
    return sth_lookup(sth_from_opts(o), name) != NULL;
}

static inline int64_t sth_now(void)
{
    return 1700000000000LL;
}

/* Initialises h (no options set). */
static inline void sth_init(sth_host *h, const char *instance_name)
{
    memset(h, 0, sizeof *h);
    h->host.abi_major = PS_ABI_MAJOR;
    h->host.abi_minor = PS_ABI_MINOR;
    h->host.struct_size = sizeof(ps_host);
    h->host.log = sth_log;
    h->host.opt_string = sth_opt_string;
    h->host.opt_int = sth_opt_int;
    h->host.opt_bool = sth_opt_bool;
    h->host.opt_is_set = sth_opt_is_set;
    h->host.now_ms = sth_now;
    h->host.monotonic_ms = sth_now;
    h->host.field_name = ps_field_name; /* the core's table (unit tests link the static core) */
    h->ctx.struct_size = sizeof h->ctx;
    /* host services: the core's own (unit tests link the static core) */
    {
        const ps_host *core = ps_host_get();
        h->host.sleep_ms = core->sleep_ms;
        h->host.http_new = core->http_new;
        h->host.http_free = core->http_free;
        h->host.http_add_secret = core->http_add_secret;
        h->host.http_request = core->http_request;
        h->host.http_response_free = core->http_response_free;
        h->host.http_redact = core->http_redact;
        h->host.http_stats = core->http_stats;
        h->host.outfile_new = core->outfile_new;
        h->host.outfile_begin = core->outfile_begin;
        h->host.outfile_reserve = core->outfile_reserve;
        h->host.outfile_advance = core->outfile_advance;
        h->host.outfile_put = core->outfile_put;
        h->host.outfile_check = core->outfile_check;
        h->host.outfile_commit = core->outfile_commit;
        h->host.outfile_abort = core->outfile_abort;
        h->host.outfile_finish = core->outfile_finish;
        h->host.outfile_free = core->outfile_free;
        h->host.utf8_check = core->utf8_check;
        h->host.time_format = core->time_format;
        h->host.csv_record_flags = core->csv_record_flags;
    }
    h->ctx.host = &h->host;
    h->ctx.env = (const ps_env *)(const void *)h;
    h->ctx.options = (const ps_options *)(const void *)h;
    h->ctx.instance_name = instance_name;
    h->ctx.config_dir = ".";
}

/* Sets option name to value (strings must outlive h). */
static inline void sth_set(sth_host *h, const char *name, const char *value)
{
    for (size_t i = 0; i < h->nopts; i++)
        if (strcmp(h->names[i], name) == 0) {
            h->values[i] = value;
            return;
        }
    if (h->nopts < STH_MAX_OPTS) {
        h->names[h->nopts] = name;
        h->values[h->nopts++] = value;
    }
}

/* ---- records ---------------------------------------------------------------------------- */

/* Exact decimal from text like "-12.50" (test inputs are well formed). */
static inline ps_decimal sth_decimal(const char *s)
{
    ps_decimal d = {0, 0};
    int neg = *s == '-', frac = 0;
    if (neg)
        s++;
    for (; *s; s++) {
        if (*s == '.') {
            frac = 1;
            continue;
        }
        d.units = d.units * 10 + (*s - '0');
        if (frac)
            d.scale++;
    }
    if (neg)
        d.units = -d.units;
    return d;
}

/* A valid record: id, canonical timestamp text + its ms, amount text; the other required
 * fields get fixed values. Call sth_finish_record after changing fields. */
static inline void sth_record(ps_record *r, const char *id, const char *ts, int64_t ts_ms,
                              const char *amount)
{
    memset(r, 0, sizeof *r);
    r->field[PS_F_ID] = ps_str_from(id);
    r->field[PS_F_TIMESTAMP] = ps_str_from(ts);
    r->field[PS_F_PAYMENT_AMOUNT] = ps_str_from(amount);
    r->field[PS_F_PAYMENT_CURRENCY] = ps_str_from("NGN");
    r->field[PS_F_TRANSACTION_TYPE] = ps_str_from("FULL_PAYMENT");
    r->field[PS_F_CUSTOMER_ID] = ps_str_from("C1");
    r->field[PS_F_METER_ID] = ps_str_from("M1");
    r->field[PS_F_CUSTOMER_NAME] = ps_str_from("Ada");
    r->field[PS_F_CUSTOMER_CATEGORY] = ps_str_from("Residential");
    r->timestamp_ms = ts_ms;
    r->source_row = 2;
    r->amount = sth_decimal(amount);
    r->content_hash = ps_record_content_hash(r);
}

/* Recomputes derived members after fields changed. */
static inline void sth_finish_record(ps_record *r)
{
    r->amount = sth_decimal(r->field[PS_F_PAYMENT_AMOUNT].ptr);
    r->has_charges = r->field[PS_F_TRANSACTION_CHARGES].ptr != NULL;
    if (r->has_charges)
        r->charges = sth_decimal(r->field[PS_F_TRANSACTION_CHARGES].ptr);
    r->content_hash = ps_record_content_hash(r);
}

/* Reads a whole file into a malloc'd NUL-terminated string (NULL when missing). */
static inline char *sth_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Writes text to path (replacing it). Returns 0 on success. */
static inline int sth_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* A fresh temporary folder (mkdtemp) path written into buf. */
static inline const char *sth_tmpdir(char *buf, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, cap, "%s/ps-sink-test-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(buf);
}

/* ---- a sink instance under test --------------------------------------------------------- */

typedef struct sth_sink {
    char dir[256];  /* a fresh temporary folder, removed by sth_sink_free */
    char path[300]; /* dir/<rel>, given to the plugin as option "path" */
    sth_host h;
    const ps_plugin_descriptor *d;
    void *inst; /* NULL until sth_sink_create */
} sth_sink;

/* A fixture for sink d named instance, with option path = <fresh temp folder>/rel (the folder
 * below it is not created). Caller frees with sth_sink_free; NULL if out of memory or the
 * folder could not be made. */
static inline sth_sink *sth_sink_new(const ps_plugin_descriptor *d, const char *instance,
                                     const char *rel)
{
    sth_sink *f = calloc(1, sizeof *f);
    if (!f || !sth_tmpdir(f->dir, sizeof f->dir)) {
        free(f);
        return NULL;
    }
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, rel);
    sth_init(&f->h, instance);
    sth_set(&f->h, "path", f->path);
    f->d = d;
    return f;
}

/* Creates the plugin instance from the options set so far: the plugin's status, err filled
 * on failure. */
static inline ps_status sth_sink_create(sth_sink *f, ps_error *err)
{
    return f->d->create(&f->h.ctx, &f->inst, err);
}

/* Opens a dataset on the instance and writes recs in one batch: the first failing status. */
static inline ps_status sth_sink_write(sth_sink *f, const ps_sink_open_args *oa,
                                       const ps_record *recs, size_t n, ps_error *err)
{
    ps_status st = f->d->sink->open(f->inst, oa, err);
    if (st != PS_OK)
        return st;
    ps_record_batch b = {.struct_size = sizeof(b), .count = n, .records = recs};
    return f->d->sink->write_batch(f->inst, &b, err);
}

/* Writes recs in one batch (the dataset already open) with record_flags (NULL: none):
 * the plugin's status. */
static inline ps_status sth_sink_write_flagged(sth_sink *f, const ps_record *recs, size_t n,
                                               const uint8_t *flags, ps_error *err)
{
    ps_record_batch b = {
        .struct_size = sizeof(b), .count = n, .records = recs, .record_flags = flags};
    return f->d->sink->write_batch(f->inst, &b, err);
}

/* Destroys the instance (if created), removes the temporary folder and frees f. Returns 0,
 * or -1 if the folder could not be removed. */
static inline int sth_sink_free(sth_sink *f)
{
    if (f->inst)
        f->d->destroy(f->inst);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd) == 0 ? 0 : -1;
    free(f);
    return rc;
}

#endif

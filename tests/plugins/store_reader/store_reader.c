/* Test-only sink `store_reader` (PS_SINK_AFTER_STORE): checks at commit that the store it is
 * handed (ps_commit_info.stored_payments) holds exactly the records written to it in this
 * dataset, in the store's order (TIMESTAMP, then ID), and fails the commit with a message
 * otherwise; logs "read N stored payments (FIRST .. LAST)". Writes no file. Used by
 * tests/integration/test_kit.py: `paysync test-plugin` must give such a sink a store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paysync/plugin.h"

typedef struct reader {
    const ps_host *host;
    const ps_env *env;
    char **ids; /* written since open */
    size_t n, cap;
    /* the walk */
    size_t seen;
    int64_t last_ts;
    char last_id[128], first_id[128];
    char problem[256];
} reader;

static const ps_option_spec reader_options[] = {
    {0},
};

static void forget(reader *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->ids[i]);
    r->n = 0;
}

static ps_status reader_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    reader *r = calloc(1, sizeof *r);
    if (!r)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    r->host = ctx->host;
    r->env = ctx->env;
    *inst = r;
    return PS_OK;
}

static void reader_destroy(void *inst)
{
    reader *r = inst;
    forget(r);
    free(r->ids);
    free(r);
}

static ps_status reader_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    (void)args;
    (void)err;
    forget(inst);
    return PS_OK;
}

static ps_status reader_write(void *inst, const ps_record_batch *b, ps_error *err)
{
    reader *r = inst;
    for (size_t i = 0; i < b->count; i++) {
        if (r->n == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 32;
            char **ni = realloc(r->ids, cap * sizeof *ni);
            if (!ni)
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            r->ids = ni;
            r->cap = cap;
        }
        r->ids[r->n] = strdup(b->records[i].field[PS_F_ID].ptr);
        if (!r->ids[r->n])
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        r->n++;
    }
    return PS_OK;
}

/* One stored payment: written in this dataset, after the previous one in store order. */
static int each(void *ctx, const ps_record *rec)
{
    reader *r = ctx;
    const char *id = rec->field[PS_F_ID].ptr;
    size_t i = 0;
    while (i < r->n && strcmp(r->ids[i], id) != 0)
        i++;
    if (i == r->n) {
        snprintf(r->problem, sizeof r->problem, "stored payment '%.60s' was not written", id);
        return 1;
    }
    if (r->seen && (rec->timestamp_ms < r->last_ts ||
                    (rec->timestamp_ms == r->last_ts && strcmp(id, r->last_id) <= 0))) {
        snprintf(r->problem, sizeof r->problem, "stored payment '%.60s' out of order", id);
        return 1;
    }
    if (!r->seen)
        snprintf(r->first_id, sizeof r->first_id, "%s", id);
    r->seen++;
    r->last_ts = rec->timestamp_ms;
    snprintf(r->last_id, sizeof r->last_id, "%s", id);
    return 0;
}

static ps_status reader_commit(void *inst, const ps_commit_info *info, ps_change_counts *ch,
                               ps_error *err)
{
    (void)ch;
    reader *r = inst;
    if (!PS_HAS_MEMBER(ps_commit_info, stored_payments, info->struct_size) ||
        !info->stored_payments)
        return ps_error_setf(err, PS_ERR_SINK,
                             "no store to read: ps_commit_info.stored_payments is NULL");
    r->seen = 0;
    r->problem[0] = '\0';
    ps_status st = info->stored_payments(info, each, r, err);
    if (r->problem[0])
        return ps_error_setf(err, PS_ERR_SINK, "%s", r->problem);
    if (st != PS_OK)
        return st;
    if (r->seen != r->n)
        return ps_error_setf(err, PS_ERR_SINK, "the store holds %zu payments, %zu were written",
                             r->seen, r->n);
    r->host->log(r->env, PS_LOG_INFO, "read %zu stored payments (%s .. %s)", r->seen, r->first_id,
                 r->last_id);
    forget(r);
    return PS_OK;
}

static void reader_abort(void *inst, const char *reason)
{
    (void)reason;
    forget(inst);
}

static const ps_sink_ops reader_ops = {
    .struct_size = sizeof(ps_sink_ops),
    .open = reader_open,
    .write_batch = reader_write,
    .commit = reader_commit,
    .abort = reader_abort,
};

static const ps_plugin_descriptor reader_desc = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "store_reader",
    .version = "1.0.0",
    .description = "test sink: checks the store it reads after the store commits",
    .kind = PS_PLUGIN_SINK,
    .flags = PS_SINK_AFTER_STORE,
    .options = reader_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = reader_create,
    .destroy = reader_destroy,
    .sink = &reader_ops,
};

PS_PLUGIN_DEFINE(store_reader, reader_desc)

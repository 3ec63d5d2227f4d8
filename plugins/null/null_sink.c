/* paysync sink `null`: discards records, counting them (benchmarks, pipeline tests).
 * Logs "<n> records in <d> dataset(s)" at finish. Touches every record's ID and content
 * hash so that the work of producing them cannot be skipped by the optimiser. */
#include <stdlib.h>

#include "paysync/plugin.h"

typedef struct null_sink {
    const ps_host *host;
    const ps_env *env;
    uint64_t records;  /* over the whole run */
    uint64_t pending;  /* written since the current dataset's open */
    uint64_t datasets; /* committed */
    uint64_t checksum; /* xor of content hashes, logged at debug level */
} null_sink;

static const ps_option_spec null_options[] = {
    {0},
};

static ps_status null_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    null_sink *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    s->host = ctx->host;
    s->env = ctx->env;
    *inst = s;
    return PS_OK;
}

static void null_destroy(void *inst)
{
    free(inst);
}

static ps_status null_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    (void)args;
    (void)err;
    ((null_sink *)inst)->pending = 0;
    return PS_OK;
}

static ps_status null_write(void *inst, const ps_record_batch *b, ps_error *err)
{
    (void)err;
    null_sink *s = inst;
    for (size_t i = 0; i < b->count; i++)
        s->checksum ^=
            b->records[i].content_hash ^ (uint64_t)(unsigned char)b->records[i].field[PS_F_ID].ptr[0];
    s->pending += b->count;
    return PS_OK;
}

static ps_status null_commit(void *inst, const ps_commit_info *info, ps_change_counts *ch,
                             ps_error *err)
{
    (void)info;
    (void)ch;
    (void)err;
    null_sink *s = inst;
    s->records += s->pending;
    s->pending = 0;
    s->datasets++;
    return PS_OK;
}

static void null_abort(void *inst, const char *reason)
{
    (void)reason;
    ((null_sink *)inst)->pending = 0;
}

static ps_status null_finish(void *inst, int all_ok, ps_error *err)
{
    (void)all_ok;
    (void)err;
    null_sink *s = inst;
    s->host->log(s->env, PS_LOG_INFO, "%llu records in %llu dataset(s) discarded",
                 (unsigned long long)s->records, (unsigned long long)s->datasets);
    s->host->log(s->env, PS_LOG_DEBUG, "checksum %016llx", (unsigned long long)s->checksum);
    return PS_OK;
}

static const ps_sink_ops null_ops = {
    .struct_size = sizeof(ps_sink_ops),
    .open = null_open,
    .write_batch = null_write,
    .commit = null_commit,
    .abort = null_abort,
    .finish = null_finish,
};

static const ps_plugin_descriptor null_desc = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "null",
    .version = "1.0.0",
    .description = "discards records, counting them (benchmarks)",
    .kind = PS_PLUGIN_SINK,
    .flags = 0,
    .options = null_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = null_create,
    .destroy = null_destroy,
    .sink = &null_ops,
};

PS_PLUGIN_DEFINE(null, null_desc)

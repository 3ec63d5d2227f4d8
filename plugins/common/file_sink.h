/* paysync sink plugins: what the file sinks (csv, jsonl) share. Each keeps a ps_file_sink as
 * the FIRST member of its instance, so that the commit, abort and finish operations below
 * serve as its own; the host's atomic output file does the writing (docs/sinks.md
 * "Atomicity of the file sinks"). Header-only (static inline), so the csv and jsonl modules
 * link no library for it. */
#ifndef PS_PLUGINS_FILE_SINK_H
#define PS_PLUGINS_FILE_SINK_H

#include <stdlib.h>

#include "paysync/plugin.h"

typedef struct ps_file_sink {
    const ps_host *host;
    const ps_env *env;
    ps_outfile *out; /* the host's atomic output file */
    int ds_open;     /* a dataset is between open and commit/abort */
} ps_file_sink;

/* The options every file sink takes: its path and fsync (spread into the plugin's table). */
#define PS_FILE_SINK_OPTIONS                                                                       \
    {.name = "path",                                                                               \
     .type = PS_OPT_PATH,                                                                          \
     .required = 1,                                                                                \
     .description =                                                                                \
         "output file; \"-\" = standard output. Replaced atomically when the run succeeds"},       \
    {                                                                                              \
        .name = "fsync", .type = PS_OPT_BOOL, .default_value = "true",                             \
        .description =                                                                             \
            "fsync the file and its folder before publishing (set false only for scratch "         \
            "output)"                                                                              \
    }

/* Reads the options 'path' (required) and 'fsync' (default true) and makes the output file.
 * On an error nothing is held (err says why). */
static inline ps_status ps_file_sink_init(ps_file_sink *fs, const ps_plugin_ctx *ctx, ps_error *err)
{
    const ps_host *h = ctx->host;
    const char *path = h->opt_string(ctx->options, "path");
    if (!path || !*path)
        return ps_error_setf(err, PS_ERR_CONFIG, "sink '%s': option 'path' is required",
                             ctx->instance_name);
    int do_fsync = h->opt_is_set(ctx->options, "fsync") ? h->opt_bool(ctx->options, "fsync") : 1;
    fs->host = h;
    fs->env = ctx->env;
    fs->ds_open = 0;
    fs->out = h->outfile_new(path, do_fsync, err);
    if (!fs->out)
        return err && err->code != PS_OK ? err->code : PS_ERR_NOMEM;
    return PS_OK;
}

/* Frees the output file (an unpublished temp file is removed). */
static inline void ps_file_sink_free(ps_file_sink *fs)
{
    fs->host->outfile_free(fs->out);
}

/* Starts a dataset's file, preamble (a header row, or nothing) first. */
static inline ps_status ps_file_sink_begin(ps_file_sink *fs, const char *preamble, size_t n,
                                           ps_error *err)
{
    ps_status st = fs->host->outfile_begin(fs->out, preamble, n, err);
    fs->ds_open = st == PS_OK;
    return st;
}

/* sink op commit: publishes the file; a file sink counts no changes. */
static inline ps_status ps_file_sink_commit(void *inst, const ps_commit_info *info,
                                            ps_change_counts *changes, ps_error *err)
{
    ps_file_sink *fs = inst;
    (void)info;
    if (changes)
        changes->valid = 0;
    ps_status st = fs->host->outfile_commit(fs->out, err);
    if (st == PS_OK)
        fs->ds_open = 0;
    return st;
}

/* sink op abort: drops the dataset's unpublished file. */
static inline void ps_file_sink_abort(void *inst, const char *reason)
{
    ps_file_sink *fs = inst;
    (void)reason;
    fs->host->outfile_abort(fs->out);
    fs->ds_open = 0;
}

/* sink op finish. */
static inline ps_status ps_file_sink_finish(void *inst, int all_ok, ps_error *err)
{
    ps_file_sink *fs = inst;
    fs->ds_open = 0;
    return fs->host->outfile_finish(fs->out, all_ok, err);
}

#endif

/* paysync sink plugin "csv": the platform's 21-column upload format (docs/sinks.md). */
#include <stdlib.h>
#include <string.h>

#include "paysync/plugin.h"

typedef struct csv_sink {
    const ps_host *host;
    const ps_env *env;
    ps_outfile *out; /* the host's atomic output file */
    int ds_open;     /* a dataset is between open and commit/abort */
    char delim;
    char *header; /* header row (with line end), NULL when disabled */
    size_t header_len;
} csv_sink;

#define CSV_EOL "\r\n"

/* Writes one cell into p (room for 2 * n + 2), quoted when it holds the delimiter, a quote,
 * CR or LF (RFC 4180: quotes doubled). Returns bytes written. */
static size_t csv_cell(char *p, const char *s, size_t n, char delim)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == delim || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        memcpy(p, s, n);
        return n;
    }
    char *q = p;
    *q++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *q++ = '"';
        *q++ = s[i];
    }
    *q++ = '"';
    return (size_t)(q - p);
}

/* The delimiter option: one byte, or "tab" / "\t". 0 when unusable. */
static char parse_delim(const char *v)
{
    if (!v || !*v)
        return ',';
    if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0)
        return '\t';
    if (v[1] != '\0')
        return 0;
    char c = v[0];
    if (c == '"' || c == '\r' || c == '\n' || (unsigned char)c >= 0x80)
        return 0;
    return c;
}

static ps_status csv_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const ps_host *h = ctx->host;
    const char *path = h->opt_string(ctx->options, "path");
    if (!path || !*path)
        return ps_error_setf(err, PS_ERR_CONFIG, "sink '%s': option 'path' is required",
                             ctx->instance_name);
    const char *dv = h->opt_string(ctx->options, "delimiter");
    char delim = parse_delim(dv);
    if (!delim)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "sink '%s': option 'delimiter' must be one character other than a "
                             "double quote or line break (or \"tab\"), got '%s'",
                             ctx->instance_name, dv);
    int header = h->opt_is_set(ctx->options, "header") ? h->opt_bool(ctx->options, "header") : 1;
    int do_fsync = h->opt_is_set(ctx->options, "fsync") ? h->opt_bool(ctx->options, "fsync") : 1;
    csv_sink *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    s->host = h;
    s->env = ctx->env;
    s->delim = delim;
    if (header) {
        s->header = malloc(1024);
        if (!s->header) {
            free(s);
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        }
        size_t k = 0;
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            if (f)
                s->header[k++] = delim;
            k += csv_cell(s->header + k, h->field_name(f), strlen(h->field_name(f)), delim);
        }
        memcpy(s->header + k, CSV_EOL, 2);
        s->header_len = k + 2;
    }
    s->out = ctx->host->outfile_new(path, do_fsync, err);
    if (!s->out) {
        ps_status st = err && err->code != PS_OK ? err->code : PS_ERR_NOMEM;
        free(s->header);
        free(s);
        return st;
    }
    *inst = s;
    return PS_OK;
}

static void csv_destroy(void *inst)
{
    csv_sink *s = inst;
    if (!s)
        return;
    s->host->outfile_free(s->out);
    free(s->header);
    free(s);
}

static ps_status csv_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    csv_sink *s = inst;
    (void)args;
    ps_status st = s->host->outfile_begin(s->out, s->header, s->header_len, err);
    s->ds_open = st == PS_OK;
    return st;
}

static ps_status csv_write_batch(void *inst, const ps_record_batch *batch, ps_error *err)
{
    csv_sink *s = inst;
    if (!s->ds_open)
        return ps_error_setf(err, PS_ERR_INTERNAL, "csv sink: write_batch without open");
    for (size_t r = 0; r < batch->count; r++) {
        const ps_record *rec = &batch->records[r];
        size_t need = 2 + 3 * PS_FIELD_COUNT;
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            need += 2 * (size_t)rec->field[f].len;
        char *p = s->host->outfile_reserve(s->out, need);
        if (!p)
            return s->host->outfile_check(s->out, err);
        char *q = p;
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            if (f)
                *q++ = s->delim;
            if (rec->field[f].ptr)
                q += csv_cell(q, rec->field[f].ptr, rec->field[f].len, s->delim);
        }
        memcpy(q, CSV_EOL, 2);
        q += 2;
        s->host->outfile_advance(s->out, (size_t)(q - p));
    }
    return s->host->outfile_check(s->out, err);
}

static ps_status csv_commit(void *inst, const ps_commit_info *info, ps_change_counts *changes,
                            ps_error *err)
{
    csv_sink *s = inst;
    (void)info;
    if (changes)
        changes->valid = 0;
    ps_status st = s->host->outfile_commit(s->out, err);
    if (st == PS_OK)
        s->ds_open = 0;
    return st;
}

static void csv_abort(void *inst, const char *reason)
{
    csv_sink *s = inst;
    (void)reason;
    s->host->outfile_abort(s->out);
    s->ds_open = 0;
}

static ps_status csv_finish(void *inst, int all_ok, ps_error *err)
{
    csv_sink *s = inst;
    s->ds_open = 0;
    return s->host->outfile_finish(s->out, all_ok, err);
}

static const ps_option_spec csv_options[] = {
    {.name = "path",
     .type = PS_OPT_PATH,
     .required = 1,
     .description =
         "output file; \"-\" = standard output. Replaced atomically when the run succeeds"},
    {.name = "header",
     .type = PS_OPT_BOOL,
     .default_value = "true",
     .description = "write the 21 column names as the first row"},
    {.name = "delimiter",
     .type = PS_OPT_STRING,
     .default_value = ",",
     .description = "field separator: one character, or \"tab\""},
    {.name = "fsync",
     .type = PS_OPT_BOOL,
     .default_value = "true",
     .description = "fsync the file and its folder before publishing"},
    {0},
};

static const ps_sink_ops csv_ops = {
    .struct_size = sizeof(ps_sink_ops),
    .open = csv_open,
    .write_batch = csv_write_batch,
    .commit = csv_commit,
    .abort = csv_abort,
    .finish = csv_finish,
    .load_cursor = NULL,
    .record_failure = NULL,
};

static const ps_plugin_descriptor csv_descriptor = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "csv",
    .version = "1.0.0",
    .description = "CSV file in the platform's 21-column upload format, published atomically",
    .kind = PS_PLUGIN_SINK,
    .flags = 0,
    .options = csv_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = csv_create,
    .check = NULL,
    .destroy = csv_destroy,
    .provider = NULL,
    .sink = &csv_ops,
};

PS_PLUGIN_DEFINE(csv, csv_descriptor)

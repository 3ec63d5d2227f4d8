/* paysync sink plugin "csv": the platform's 21-column upload format (docs/sinks.md). */
#include <stdlib.h>
#include <string.h>

#include "../common/file_sink.h"
#include "paysync/plugin.h"

typedef struct csv_sink {
    ps_file_sink fs; /* first: the shared file sink operations take the instance as one */
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
    const char *dv = h->opt_string(ctx->options, "delimiter");
    char delim = parse_delim(dv);
    if (!delim)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "sink '%s': option 'delimiter' must be one character other than a "
                             "double quote or line break (or \"tab\"), got '%s'",
                             ctx->instance_name, dv);
    int header = h->opt_is_set(ctx->options, "header") ? h->opt_bool(ctx->options, "header") : 1;
    csv_sink *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
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
    ps_status st = ps_file_sink_init(&s->fs, ctx, err);
    if (st != PS_OK) {
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
    ps_file_sink_free(&s->fs);
    free(s->header);
    free(s);
}

static ps_status csv_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    csv_sink *s = inst;
    (void)args;
    return ps_file_sink_begin(&s->fs, s->header, s->header_len, err);
}

static ps_status csv_write_batch(void *inst, const ps_record_batch *batch, ps_error *err)
{
    csv_sink *s = inst;
    const ps_host *h = s->fs.host;
    if (!s->fs.ds_open)
        return ps_error_setf(err, PS_ERR_INTERNAL, "csv sink: write_batch without open");
    for (size_t r = 0; r < batch->count; r++) {
        const ps_record *rec = &batch->records[r];
        size_t need = 2 + 3 * PS_FIELD_COUNT;
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            need += 2 * (size_t)rec->field[f].len;
        char *p = h->outfile_reserve(s->fs.out, need);
        if (!p)
            return h->outfile_check(s->fs.out, err);
        char *q = p;
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            if (f)
                *q++ = s->delim;
            if (rec->field[f].ptr)
                q += csv_cell(q, rec->field[f].ptr, rec->field[f].len, s->delim);
        }
        memcpy(q, CSV_EOL, 2);
        q += 2;
        h->outfile_advance(s->fs.out, (size_t)(q - p));
    }
    return h->outfile_check(s->fs.out, err);
}

static const ps_option_spec csv_options[] = {
    PS_FILE_SINK_OPTIONS,
    {.name = "header",
     .type = PS_OPT_BOOL,
     .default_value = "true",
     .description = "write the 21 column names as the first row"},
    {.name = "delimiter",
     .type = PS_OPT_STRING,
     .default_value = ",",
     .description = "field separator: one character, or \"tab\""},
    {0},
};

static const ps_sink_ops csv_ops = {
    .struct_size = sizeof(ps_sink_ops),
    .open = csv_open,
    .write_batch = csv_write_batch,
    .commit = ps_file_sink_commit,
    .abort = ps_file_sink_abort,
    .finish = ps_file_sink_finish,
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

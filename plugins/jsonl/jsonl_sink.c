/* paysync sink plugin "jsonl": one JSON object per accepted record (docs/sinks.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "paysync/plugin.h"

/* A key as written: "NAME": (built once per instance; the row loop copies it). */
typedef struct json_key {
    char text[40];
    size_t len;
} json_key;

typedef struct jsonl_sink {
    json_key keys[PS_FIELD_COUNT];
    const ps_host *host;
    const ps_env *env;
    ps_outfile *out;    /* the host's atomic output file */
    int ds_open;        /* a dataset is between open and commit/abort */
    char *dataset_json; /* ,"DATASET":"..."}\n of the open dataset */
    size_t dataset_json_len;
} jsonl_sink;

/* Fields written as JSON numbers (their canonical text is an exact decimal). */
static int numeric_field(int f)
{
    return f == PS_F_PAYMENT_AMOUNT || f == PS_F_TRANSACTION_CHARGES || f == PS_F_LATITUDE ||
           f == PS_F_LONGITUDE || f == PS_F_FAILED_BATTERY_CAPACITY_COUNT;
}

/* 1 when s is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)? (no exponent needed). */
static int json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

/* The field names come from the core (host->field_name), never from a copy here. */
static void build_keys(json_key *keys, const ps_host *host)
{
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        const char *name = host->field_name(f);
        size_t n = strlen(name);
        keys[f].text[0] = '"';
        memcpy(keys[f].text + 1, name, n);
        keys[f].text[n + 1] = '"';
        keys[f].text[n + 2] = ':';
        keys[f].len = n + 3;
    }
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Nonzero when one of the 8 bytes of w may need escaping (< 0x20, '"' or '\\'); false
 * positives only send the word to the byte loop. */
static inline uint64_t word_needs_escape(uint64_t w)
{
    uint64_t ctl = (w - ONES * 0x20) & ~w;
    uint64_t q = w ^ (ONES * '"');
    uint64_t b = w ^ (ONES * '\\');
    return (ctl | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/* Writes s as a JSON string body (no quotes) into p (room for 6 * n, and at least 8 bytes);
 * returns bytes. */
static inline size_t json_escape(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *q = p;
    size_t i = 0;
    if (n < 8) { /* a short value: gathered into one word padded with spaces, checked once */
        uint64_t w = ONES * ' ';
        unsigned char *b = (unsigned char *)&w;
        if (n & 4)
            memcpy(b, s, 4);
        if (n & 2)
            memcpy(b + (n & 4), s + (n & 4), 2);
        if (n & 1)
            b[n - 1] = (unsigned char)s[n - 1];
        if (!word_needs_escape(w)) {
            memcpy(p, &w, 8); /* the bytes past n are overwritten by what follows */
            return n;
        }
        goto bytes;
    }
    while (i + 8 <= n) { /* 8 plain bytes at a time (the common case) */
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (word_needs_escape(w))
            goto bytes;
        memcpy(q, &w, 8);
        q += 8;
        i += 8;
    }
    if (i < n && n >= 8) { /* the last 1-7 bytes: the value's last 8, overlapping */
        uint64_t w;
        memcpy(&w, s + n - 8, 8);
        if (!word_needs_escape(w)) { /* all written so far is verbatim: q - p == i */
            memcpy(p + n - 8, &w, 8);
            return n;
        }
    }
bytes:
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *q++ = (char)c;
            continue;
        }
        *q++ = '\\';
        switch (c) {
        case '"':
            *q++ = '"';
            break;
        case '\\':
            *q++ = '\\';
            break;
        case '\n':
            *q++ = 'n';
            break;
        case '\r':
            *q++ = 'r';
            break;
        case '\t':
            *q++ = 't';
            break;
        case '\b':
            *q++ = 'b';
            break;
        case '\f':
            *q++ = 'f';
            break;
        default:
            *q++ = 'u';
            *q++ = '0';
            *q++ = '0';
            *q++ = hex[c >> 4];
            *q++ = hex[c & 15];
        }
    }
    return (size_t)(q - p);
}

static ps_status jsonl_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const char *path = ctx->host->opt_string(ctx->options, "path");
    if (!path || !*path)
        return ps_error_setf(err, PS_ERR_CONFIG, "sink '%s': option 'path' is required",
                             ctx->instance_name);
    int do_fsync = ctx->host->opt_is_set(ctx->options, "fsync")
                       ? ctx->host->opt_bool(ctx->options, "fsync")
                       : 1;
    jsonl_sink *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    build_keys(s->keys, ctx->host);
    s->host = ctx->host;
    s->env = ctx->env;
    s->out = ctx->host->outfile_new(path, do_fsync, err);
    if (!s->out) {
        ps_status st = err && err->code != PS_OK ? err->code : PS_ERR_NOMEM;
        free(s);
        return st;
    }
    *inst = s;
    return PS_OK;
}

static void jsonl_destroy(void *inst)
{
    jsonl_sink *s = inst;
    if (!s)
        return;
    s->host->outfile_free(s->out);
    free(s->dataset_json);
    free(s);
}

static ps_status jsonl_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    jsonl_sink *s = inst;
    const char *ds = args->dataset ? args->dataset : "";
    size_t n = strlen(ds);
    char *dj = malloc(6 * n + 32);
    if (!dj)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t k = 0;
    memcpy(dj, ",\"DATASET\":\"", 12);
    k = 12;
    k += json_escape(dj + k, ds, n);
    memcpy(dj + k, "\"}\n", 3);
    k += 3;
    ps_status st = s->host->outfile_begin(s->out, NULL, 0, err);
    if (st != PS_OK) {
        free(dj);
        return st;
    }
    s->ds_open = 1;
    free(s->dataset_json);
    s->dataset_json = dj;
    s->dataset_json_len = k;
    return PS_OK;
}

static ps_status jsonl_write_batch(void *inst, const ps_record_batch *batch, ps_error *err)
{
    jsonl_sink *s = inst;
    if (!s->ds_open)
        return ps_error_setf(err, PS_ERR_INTERNAL, "jsonl sink: write_batch without open");
    for (size_t r = 0; r < batch->count; r++) {
        const ps_record *rec = &batch->records[r];
        size_t need = 2 + s->dataset_json_len + 48 * PS_FIELD_COUNT; /* comma, key (copied
                                                                      * as 40 bytes), quotes */
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            need += 6 * (size_t)rec->field[f].len;
        char *p = s->host->outfile_reserve(s->out, need);
        if (!p)
            return s->host->outfile_check(s->out, err);
        char *q = p;
        *q++ = '{';
        int first = 1;
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            const char *v = rec->field[f].ptr;
            size_t vlen = rec->field[f].len;
            if (!v)
                continue;
            if (!first)
                *q++ = ',';
            first = 0;
            memcpy(q, s->keys[f].text, sizeof s->keys[f].text); /* fixed size: one wide copy */
            q += s->keys[f].len;
            if (numeric_field(f) && json_number(v, vlen)) {
                memcpy(q, v, vlen);
                q += vlen;
            } else {
                *q++ = '"';
                q += json_escape(q, v, vlen);
                *q++ = '"';
            }
        }
        const char *tail = s->dataset_json;
        size_t tl = s->dataset_json_len;
        if (first) { /* no field at all: cannot happen (ID is required), stay valid JSON */
            tail++;
            tl--;
        }
        memcpy(q, tail, tl);
        q += tl;
        s->host->outfile_advance(s->out, (size_t)(q - p));
    }
    return s->host->outfile_check(s->out, err);
}

static ps_status jsonl_commit(void *inst, const ps_commit_info *info, ps_change_counts *changes,
                              ps_error *err)
{
    jsonl_sink *s = inst;
    (void)info;
    if (changes)
        changes->valid = 0;
    ps_status st = s->host->outfile_commit(s->out, err);
    if (st == PS_OK)
        s->ds_open = 0;
    return st;
}

static void jsonl_abort(void *inst, const char *reason)
{
    jsonl_sink *s = inst;
    (void)reason;
    s->host->outfile_abort(s->out);
    s->ds_open = 0;
}

static ps_status jsonl_finish(void *inst, int all_ok, ps_error *err)
{
    jsonl_sink *s = inst;
    s->ds_open = 0;
    return s->host->outfile_finish(s->out, all_ok, err);
}

static const ps_option_spec jsonl_options[] = {
    {.name = "path",
     .type = PS_OPT_PATH,
     .required = 1,
     .description =
         "output file; \"-\" = standard output. Replaced atomically when the run succeeds"},
    {.name = "fsync",
     .type = PS_OPT_BOOL,
     .default_value = "true",
     .description =
         "fsync the file and its folder before publishing (set false only for scratch output)"},
    {0},
};

static const ps_sink_ops jsonl_ops = {
    .struct_size = sizeof(ps_sink_ops),
    .open = jsonl_open,
    .write_batch = jsonl_write_batch,
    .commit = jsonl_commit,
    .abort = jsonl_abort,
    .finish = jsonl_finish,
    .load_cursor = NULL,
    .record_failure = NULL,
};

static const ps_plugin_descriptor jsonl_descriptor = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "jsonl",
    .version = "1.0.0",
    .description = "JSON Lines file: one object per accepted payment, published atomically",
    .kind = PS_PLUGIN_SINK,
    .flags = 0,
    .options = jsonl_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = jsonl_create,
    .check = NULL,
    .destroy = jsonl_destroy,
    .provider = NULL,
    .sink = &jsonl_ops,
};

PS_PLUGIN_DEFINE(jsonl, jsonl_descriptor)

/* paysync sink plugin "jsonl": one JSON object per accepted record (docs/sinks.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "../common/file_sink.h"
#include "paysync/plugin.h"

/* A key as written before a string value: ,"NAME":" (built once per instance; the row loop
 * copies all KEY_COPY bytes as one fixed-size move and advances by len, or len - 1 before a
 * number). The leading comma of the first key written becomes the record's '{'. */
#define KEY_COPY 48
typedef struct json_key {
    char text[KEY_COPY];
    size_t len;
} json_key;

/* The dataset's tail ,"DATASET":"..."}\n is copied as TAIL_COPY fixed bytes when it fits. */
#define TAIL_COPY 64

typedef struct jsonl_sink {
    ps_file_sink fs; /* first: the shared file sink operations take the instance as one */
    json_key keys[PS_FIELD_COUNT];
    char *dataset_json; /* ,"DATASET":"..."}\n of the open dataset */
    size_t dataset_json_len;
} jsonl_sink;

/* Fields written as JSON numbers (their canonical text is an exact decimal), one bit each. */
#define NUMERIC_FIELDS                                                                             \
    ((1u << PS_F_PAYMENT_AMOUNT) | (1u << PS_F_TRANSACTION_CHARGES) | (1u << PS_F_LATITUDE) |      \
     (1u << PS_F_LONGITUDE) | (1u << PS_F_FAILED_BATTERY_CAPACITY_COUNT))

/* 1 when s is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)? (no exponent needed). */
static inline int json_number(const char *s, size_t n)
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
        if (n > KEY_COPY - 5) /* the 21 names are at most 29 bytes */
            n = KEY_COPY - 5;
        memset(keys[f].text, 0, KEY_COPY);
        keys[f].text[0] = ',';
        keys[f].text[1] = '"';
        memcpy(keys[f].text + 2, name, n);
        memcpy(keys[f].text + 2 + n, "\":\"", 3);
        keys[f].len = n + 5;
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

#ifdef __SSE2__
/* Nonzero when one of the 16 bytes of v needs escaping (< 0x20, '"' or '\\'); exact. */
static inline int vec_needs_escape(__m128i v)
{
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    __m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    return _mm_movemask_epi8(_mm_or_si128(ctl, _mm_or_si128(q, b)));
}
#endif

/* Writes s as a JSON string body (no quotes) into p (room for 6 * n, and at least 8 bytes);
 * returns bytes. */
static inline size_t json_escape(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *q = p;
    size_t i = 0;
    if (n < 8) { /* a short value: checked as one word made of its overlapping first and last
                  * 4 bytes (or, under 4, its first, middle and last byte), stored as it is */
        uint32_t a = 0x20202020u, b = 0x20202020u;
        if (n >= 4) {
            memcpy(&a, s, 4);
            memcpy(&b, s + n - 4, 4);
        } else if (n) {
            unsigned char *ab = (unsigned char *)&a;
            ab[0] = (unsigned char)s[0];
            ab[1] = (unsigned char)s[n / 2];
            ab[2] = (unsigned char)s[n - 1];
        }
        if (word_needs_escape((uint64_t)a | (uint64_t)b << 32))
            goto bytes;
        memcpy(p, &a, 4); /* bytes past n are overwritten by what follows */
        if (n >= 4)
            memcpy(p + n - 4, &b, 4);
        return n;
    }
#ifdef __SSE2__
    /* 16 bytes a step: a value of 8-16 bytes is checked as one vector made of its first and
     * last 8 (overlapping), a longer one 16 at a time and by its last 16 */
    if (n <= 16) {
        __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)s),
                                       _mm_loadl_epi64((const __m128i *)(s + n - 8)));
        if (vec_needs_escape(v))
            goto bytes;
        _mm_storel_epi64((__m128i *)p, v);
        _mm_storel_epi64((__m128i *)(p + n - 8), _mm_unpackhi_epi64(v, v));
        return n;
    }
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        if (vec_needs_escape(v))
            goto bytes;
        _mm_storeu_si128((__m128i *)q, v);
        q += 16;
        i += 16;
    }
    if (i < n) { /* the last 1-15 bytes: the value's last 16, overlapping */
        __m128i v = _mm_loadu_si128((const __m128i *)(s + n - 16));
        if (!vec_needs_escape(v)) { /* all written so far is verbatim: q - p == i */
            _mm_storeu_si128((__m128i *)(p + n - 16), v);
            return n;
        }
    }
#endif
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

/* Copies n bytes of a value known to need no escaping into p (room for n + 16): 4-16 bytes as
 * two fixed-size, possibly overlapping moves. Returns n. */
static inline size_t plain_copy(char *p, const char *s, size_t n)
{
    if (n > 16) {
        memcpy(p, s, n);
    } else if (n >= 8) {
        memcpy(p, s, 8);
        memcpy(p + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(p, s, 4);
        memcpy(p + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            p[i] = s[i];
    }
    return n;
}

static ps_status jsonl_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    jsonl_sink *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_status st = ps_file_sink_init(&s->fs, ctx, err);
    if (st != PS_OK) {
        free(s);
        return st;
    }
    build_keys(s->keys, ctx->host);
    *inst = s;
    return PS_OK;
}

static void jsonl_destroy(void *inst)
{
    jsonl_sink *s = inst;
    if (!s)
        return;
    ps_file_sink_free(&s->fs);
    free(s->dataset_json);
    free(s);
}

static ps_status jsonl_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    jsonl_sink *s = inst;
    const char *ds = args->dataset ? args->dataset : "";
    size_t n = strlen(ds);
    char *dj = calloc(1, 6 * n + 32 + TAIL_COPY); /* TAIL_COPY: room for the fixed-size copy */
    if (!dj)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t k = 0;
    memcpy(dj, ",\"DATASET\":\"", 12);
    k = 12;
    k += json_escape(dj + k, ds, n);
    memcpy(dj + k, "\"}\n", 3);
    k += 3;
    ps_status st = ps_file_sink_begin(&s->fs, NULL, 0, err);
    if (st != PS_OK) {
        free(dj);
        return st;
    }
    free(s->dataset_json);
    s->dataset_json = dj;
    s->dataset_json_len = k;
    return PS_OK;
}

/* Ends the record p..q: its '{' and the dataset tail (tl bytes, at least TAIL_COPY of room).
 * Returns the new end. */
static inline char *finish_record(char *p, char *q, const char *tail, size_t tl)
{
    if (q == p) { /* no field at all: cannot happen (ID is required), stay valid JSON */
        *q++ = '{';
        memcpy(q, tail + 1, tl - 1);
        return q + tl - 1;
    }
    *p = '{'; /* over the first key's comma */
    if (tl <= TAIL_COPY)
        memcpy(q, tail, TAIL_COPY);
    else
        memcpy(q, tail, tl);
    return q + tl;
}

/* Writes rec's fields at p as ,"KEY":value pairs (the first comma left for finish_record);
 * plain: the values need no escaping; numbers: the numeric fields are JSON numbers
 * (PS_RECF_NUMBERS), not checked again. Returns the end. Inlined with plain and numbers
 * constants, so each form is its own loop. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline char *
write_fields(const json_key *keys, const ps_record *rec, char *p, int plain, int numbers)
{
    char *q = p;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        const char *v = rec->field[f].ptr;
        size_t vlen = rec->field[f].len;
        if (!v)
            continue;
        memcpy(q, keys[f].text, KEY_COPY); /* fixed size: one wide copy */
        if (((NUMERIC_FIELDS >> f) & 1) && (numbers || json_number(v, vlen))) {
            q += keys[f].len - 1; /* no opening quote */
            q += plain ? plain_copy(q, v, vlen) : json_escape(q, v, vlen);
        } else {
            q += keys[f].len;
            q += plain ? plain_copy(q, v, vlen) : json_escape(q, v, vlen);
            *q++ = '"';
        }
    }
    return q;
}

static ps_status jsonl_write_batch(void *inst, const ps_record_batch *batch, ps_error *err)
{
    jsonl_sink *s = inst;
    const ps_host *h = s->fs.host;
    if (!s->fs.ds_open)
        return ps_error_setf(err, PS_ERR_INTERNAL, "jsonl sink: write_batch without open");
    const char *tail = s->dataset_json;
    const size_t tl = s->dataset_json_len;
    /* ABI 2.5: records whose values need no escaping (PS_RECF_PLAIN) are copied as they are */
    const uint8_t *flags = PS_HAS_MEMBER(ps_record_batch, record_flags, batch->struct_size)
                               ? batch->record_flags
                               : NULL;
    for (size_t r = 0; r < batch->count; r++) {
        const ps_record *rec = &batch->records[r];
        const unsigned fl = flags ? flags[r] : 0;
        const int plain = (fl & PS_RECF_PLAIN) != 0;
        /* per field: the key (copied as KEY_COPY bytes), 6 bytes a value byte escaped (1 for a
         * plain record), 16 for a short value's fixed-size moves, the closing quote; then the
         * tail (at least TAIL_COPY) */
        size_t need = 2 + tl + TAIL_COPY + (KEY_COPY + 16) * PS_FIELD_COUNT;
        size_t bytes = 0;
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            bytes += rec->field[f].len;
        need += plain ? bytes : 6 * bytes;
        char *p = h->outfile_reserve(s->fs.out, need);
        if (!p)
            return h->outfile_check(s->fs.out, err);
        char *q;
        if (fl & PS_RECF_NUMBERS) /* ABI 2.7: the numbers need no second look */
            q = plain ? write_fields(s->keys, rec, p, 1, 1) : write_fields(s->keys, rec, p, 0, 1);
        else
            q = plain ? write_fields(s->keys, rec, p, 1, 0) : write_fields(s->keys, rec, p, 0, 0);
        q = finish_record(p, q, tail, tl);
        h->outfile_advance(s->fs.out, (size_t)(q - p));
    }
    return h->outfile_check(s->fs.out, err);
}

static const ps_option_spec jsonl_options[] = {
    PS_FILE_SINK_OPTIONS,
    {0},
};

static const ps_sink_ops jsonl_ops = {
    .struct_size = sizeof(ps_sink_ops),
    .open = jsonl_open,
    .write_batch = jsonl_write_batch,
    .commit = ps_file_sink_commit,
    .abort = ps_file_sink_abort,
    .finish = ps_file_sink_finish,
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

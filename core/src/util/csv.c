/* paysync core: streaming RFC 4180 CSV reader.
 *
 * A resumable state machine: input is pulled into a fixed buffer and consumed as it is
 * parsed; the decoded fields of the record under construction live in a scratch buffer
 * (`fb`, every field followed by a NUL) that grows only for a long record and shrinks back
 * after it. A finished record is copied into the caller's arena with one allocation. */
#include "util/csv.h"
#include "util/inline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "util/loadle.h"

#define CSV_IN_SIZE (64u * 1024u)
#define CSV_FB_INITIAL 4096u
#define CSV_FB_KEEP (1024u * 1024u) /* scratch larger than this is shrunk after a record */
#define CSV_F_INITIAL 64u
#define CSV_F_KEEP 4096u
#define CSV_DEFAULT_MAX_FIELD ((size_t)64 * 1024 * 1024)
#define CSV_DEFAULT_MAX_COLUMNS ((size_t)16384)

typedef enum csv_state {
    ST_RECORD_START = 0, /* nothing of the record consumed yet */
    ST_FIELD_START,      /* a field has begun, nothing of it consumed */
    ST_UNQUOTED,         /* inside an unquoted field */
    ST_QUOTED,           /* inside a quoted field */
    ST_QUOTE_IN_QUOTED   /* a quote seen inside a quoted field: closing or doubled */
} csv_state;

struct ps_csv_reader {
    ps_csv_read_fn read;
    void *ctx;
    unsigned char delim;
    unsigned char special[256]; /* bytes ending an unquoted span */

    char *in;
    size_t in_cap, in_pos, in_end;
    int eof;
    int started; /* BOM check done */
    int skip_lf; /* previous record ended with CR: a following LF belongs to it */
    int q_cr;    /* inside quotes, the last byte seen was CR */

    uint64_t line;       /* physical line of the next unconsumed byte (1-based) */
    uint64_t rec_line;   /* line the record under construction started on */
    uint64_t quote_line; /* line the current quoted field opened on */
    csv_state state;

    char *fb; /* decoded fields, each followed by NUL */
    size_t fb_len, fb_cap;
    size_t *fstart; /* offset in fb of each field */
    size_t nf, f_cap;

    size_t max_field, max_columns;

    unsigned last_flags; /* PS_ROWF_* of the record returned last (ps_csv_record_flags) */

    ps_status sticky; /* once an error is returned, every later call returns it */
    char sticky_msg[sizeof(((ps_error *)0)->message)];
};

ps_csv_reader *ps_csv_new(ps_csv_read_fn read, void *ctx, char delimiter)
{
    unsigned char d = (unsigned char)(delimiter ? delimiter : ',');
    if (!read || d == '"' || d == '\n' || d == '\r')
        return NULL;
    ps_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->read = read;
    r->ctx = ctx;
    r->delim = d;
    r->special[d] = 1;
    r->special['\n'] = 1;
    r->special['\r'] = 1;
    r->in_cap = CSV_IN_SIZE;
    r->in = malloc(r->in_cap);
    r->fb_cap = CSV_FB_INITIAL;
    r->fb = malloc(r->fb_cap);
    r->f_cap = CSV_F_INITIAL;
    r->fstart = malloc(r->f_cap * sizeof *r->fstart);
    if (!r->in || !r->fb || !r->fstart) {
        ps_csv_free(r);
        return NULL;
    }
    r->line = 1;
    r->max_field = CSV_DEFAULT_MAX_FIELD;
    r->max_columns = CSV_DEFAULT_MAX_COLUMNS;
    r->sticky = PS_OK;
    return r;
}

void ps_csv_set_limits(ps_csv_reader *r, size_t max_field_bytes, size_t max_columns)
{
    if (!r)
        return;
    r->max_field = max_field_bytes ? max_field_bytes : CSV_DEFAULT_MAX_FIELD;
    if (r->max_field > UINT32_MAX)
        r->max_field = UINT32_MAX; /* ps_cell.len is 32-bit */
    r->max_columns = max_columns ? max_columns : CSV_DEFAULT_MAX_COLUMNS;
}

void ps_csv_free(ps_csv_reader *r)
{
    if (!r)
        return;
    free(r->in);
    free(r->fb);
    free(r->fstart);
    free(r);
}

unsigned ps_csv_record_flags(const ps_csv_reader *r)
{
    return r ? r->last_flags : 0;
}

size_t ps_csv_scratch_capacity(const ps_csv_reader *r)
{
    return r ? r->fb_cap + r->f_cap * sizeof *r->fstart + r->in_cap : 0;
}

/* Records a printf-formatted error, makes it sticky and copies it to err. */
static ps_status fail(ps_csv_reader *r, ps_error *err, ps_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static ps_status fail(ps_csv_reader *r, ps_error *err, ps_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->sticky_msg, sizeof r->sticky_msg, fmt, ap);
    va_end(ap);
    r->sticky = code;
    if (err) {
        err->code = code;
        memcpy(err->message, r->sticky_msg, sizeof err->message);
    }
    return code;
}

static ps_status fail_nomem(ps_csv_reader *r, ps_error *err)
{
    return fail(r, err, PS_ERR_NOMEM, "line %llu: out of memory reading CSV",
                (unsigned long long)r->rec_line);
}

/* Pulls more input when the buffer is consumed. 1: data available, 0: EOF, -1: read error. */
static int refill(ps_csv_reader *r)
{
    if (r->eof)
        return 0;
    long n = r->read(r->ctx, r->in, r->in_cap);
    if (n < 0 || (size_t)n > r->in_cap)
        return -1;
    r->in_pos = 0;
    r->in_end = (size_t)n;
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    return 1;
}

/* Reads until 3 bytes are buffered (or EOF) and drops a UTF-8 byte order mark. */
static int check_bom(ps_csv_reader *r)
{
    while (r->in_end < 3 && !r->eof) {
        long n = r->read(r->ctx, r->in + r->in_end, r->in_cap - r->in_end);
        if (n < 0 || (size_t)n > r->in_cap - r->in_end)
            return -1;
        if (n == 0)
            r->eof = 1;
        r->in_end += (size_t)n;
    }
    if (r->in_end >= 3 && memcmp(r->in, "\xEF\xBB\xBF", 3) == 0)
        r->in_pos = 3;
    r->started = 1;
    return 0;
}

static int fb_reserve(ps_csv_reader *r, size_t extra)
{
    if (r->fb_cap - r->fb_len >= extra)
        return 0;
    size_t cap = r->fb_cap;
    while (cap - r->fb_len < extra)
        cap *= 2;
    char *p = realloc(r->fb, cap);
    if (!p)
        return -1;
    r->fb = p;
    r->fb_cap = cap;
    return 0;
}

static ps_status append_slow(ps_csv_reader *r, const char *p, size_t n, ps_error *err);

/* Appends decoded bytes to the current field, enforcing the field-size limit. The common case
 * (room in the scratch, a short field) is inlined into the parser loop. */
static inline ps_status append(ps_csv_reader *r, const char *p, size_t n, ps_error *err)
{
    if (r->fb_cap - r->fb_len > n && r->fb_len - r->fstart[r->nf - 1] + n <= r->max_field) {
        memcpy(r->fb + r->fb_len, p, n);
        r->fb_len += n;
        return PS_OK;
    }
    return append_slow(r, p, n, err);
}

static ps_status append_slow(ps_csv_reader *r, const char *p, size_t n, ps_error *err)
{
    size_t cur = r->fb_len - r->fstart[r->nf - 1];
    if (n > r->max_field - cur)
        return fail(r, err, PS_ERR_DATA,
                    "line %llu: field %llu is longer than the limit of %llu bytes",
                    (unsigned long long)r->rec_line, (unsigned long long)r->nf,
                    (unsigned long long)r->max_field);
    if (fb_reserve(r, n + 1) != 0) /* +1: room for the field's NUL */
        return fail_nomem(r, err);
    memcpy(r->fb + r->fb_len, p, n);
    r->fb_len += n;
    return PS_OK;
}

static ps_status begin_field_slow(ps_csv_reader *r, ps_error *err);

/* Starts a new field, enforcing the column limit (common case inlined). */
static inline ps_status begin_field(ps_csv_reader *r, ps_error *err)
{
    if (r->nf < r->f_cap && r->nf < r->max_columns && r->fb_len < r->fb_cap) {
        r->fstart[r->nf++] = r->fb_len;
        return PS_OK;
    }
    return begin_field_slow(r, err);
}

static ps_status begin_field_slow(ps_csv_reader *r, ps_error *err)
{
    if (r->nf >= r->max_columns)
        return fail(r, err, PS_ERR_DATA, "line %llu: record has more than %llu columns",
                    (unsigned long long)r->rec_line, (unsigned long long)r->max_columns);
    if (r->nf == r->f_cap) {
        size_t *p = realloc(r->fstart, r->f_cap * 2 * sizeof *p);
        if (!p)
            return fail_nomem(r, err);
        r->fstart = p;
        r->f_cap *= 2;
    }
    if (fb_reserve(r, 1) != 0)
        return fail_nomem(r, err);
    r->fstart[r->nf++] = r->fb_len;
    return PS_OK;
}

/* Terminates the current field (room for the NUL is always reserved). */
static void end_field(ps_csv_reader *r)
{
    r->fb[r->fb_len++] = '\0';
}

/* Copies the finished record into the arena and resets the scratch for the next one. */
static ps_status emit(ps_csv_reader *r, ps_arena *arena, ps_cell **cells, size_t *ncells,
                      uint64_t *line, ps_error *err)
{
    size_t nf = r->nf;
    ps_cell *out = ps_arena_alloc(arena, nf * sizeof *out + r->fb_len);
    if (!out)
        return fail_nomem(r, err);
    char *text = (char *)(out + nf);
    memcpy(text, r->fb, r->fb_len);
    for (size_t i = 0; i < nf; i++) {
        size_t end = i + 1 < nf ? r->fstart[i + 1] : r->fb_len;
        out[i].text = text + r->fstart[i];
        out[i].len = (uint32_t)(end - r->fstart[i] - 1);
        out[i].kind = PS_CELL_TEXT;
    }
    *cells = out;
    *ncells = nf;
    if (line)
        *line = r->rec_line;
    r->state = ST_RECORD_START;
    r->nf = 0;
    r->fb_len = 0;
    if (r->fb_cap > CSV_FB_KEEP) {
        char *p = realloc(r->fb, CSV_FB_INITIAL);
        if (p) {
            r->fb = p;
            r->fb_cap = CSV_FB_INITIAL;
        }
    }
    if (r->f_cap > CSV_F_KEEP) {
        size_t *p = realloc(r->fstart, CSV_F_INITIAL * sizeof *p);
        if (p) {
            r->fstart = p;
            r->f_cap = CSV_F_INITIAL;
        }
    }
    return PS_OK;
}

/* Length of the leading run of bytes that do not end an unquoted span. */
static inline size_t scan_plain(const unsigned char *p, size_t n, const unsigned char *special)
{
    size_t i = 0;
    while (i + 4 <= n) {
        if (special[p[i]])
            return i;
        if (special[p[i + 1]])
            return i + 1;
        if (special[p[i + 2]])
            return i + 2;
        if (special[p[i + 3]])
            return i + 3;
        i += 4;
    }
    while (i < n && !special[p[i]])
        i++;
    return i;
}

/* Counts physical lines in a span of quoted content (CRLF, LF or a lone CR end a line). */
static void count_quoted_lines(ps_csv_reader *r, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (!memchr(p, '\n', n) && !memchr(p, '\r', n)) {
        r->q_cr = 0;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            if (!r->q_cr)
                r->line++;
            r->q_cr = 0;
        } else if (p[i] == '\r') {
            r->line++;
            r->q_cr = 1;
        } else {
            r->q_cr = 0;
        }
    }
}

#define CSV_FAST_MAX 4096u /* longest record (bytes) the fast path takes */
#define ONES8 UINT64_C(0x0101010101010101)
#define LOW7 UINT64_C(0x7f7f7f7f7f7f7f7f)

/* 0x01 in each byte of w that equals the byte repeated in pat, 0x00 elsewhere (exact). */
static inline uint64_t byte_matches(uint64_t w, uint64_t pat)
{
    uint64_t x = w ^ pat;
    return (~(((x & LOW7) + LOW7) | x | LOW7)) >> 7;
}

/* The 0x01 bytes of b gathered into bits: bit k = byte k. */
static inline uint64_t byte_bits(uint64_t b)
{
    return (b * UINT64_C(0x0102040810204080)) >> 56;
}

/* 0x80 in each byte of w below 0x20, 0x00 elsewhere (exact: no carry crosses a byte). */
static inline uint64_t byte_controls(uint64_t w)
{
    return ~(((w & LOW7) + ONES8 * 0x60) | w) & ~LOW7;
}

/* One 64-byte block, 8 bytes a step: bit k of the result = b[k] is the delimiter; *cr gets
 * nonzero bits when a byte is CR, *high when a byte is above 0x7f; bit k of *special = b[k]
 * is not the delimiter and is below 0x20, '"' or '\\' (a byte a JSON string must escape). */
static inline uint64_t block_swar(const unsigned char *b, uint64_t dpat, uint64_t *cr,
                                  uint64_t *high, uint64_t *special)
{
    uint64_t m = 0, sp = 0;
    for (int k = 0; k < 8; k++) {
        uint64_t w = ps_load_le(b + 8 * k, 8);
        uint64_t d = byte_matches(w, dpat);
        uint64_t x =
            (byte_controls(w) >> 7) | byte_matches(w, ONES8 * '"') | byte_matches(w, ONES8 * '\\');
        m |= byte_bits(d) << (8 * k);
        sp |= byte_bits(x & ~d) << (8 * k);
        *cr |= byte_matches(w, ONES8 * '\r');
        *high |= w & ~LOW7;
    }
    *special = sp;
    return m;
}

#if defined(__SSE2__)
/* 0xff in each byte of v below 0x20, '"' or '\\'. */
static inline __m128i special_sse2(__m128i v)
{
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    return _mm_or_si128(ctl, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
}

/* The same with SSE2, 16 bytes a step. */
static PS_ALWAYS_INLINE uint64_t block_sse2(const unsigned char *b, __m128i dv, uint64_t *cr,
                                            uint64_t *high, uint64_t *special)
{
    const __m128i crv = _mm_set1_epi8('\r');
    __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)b);
    __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(b + 16));
    __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(b + 32));
    __m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(b + 48));
    uint64_t m = (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, dv)) |
                 (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, dv)) << 16 |
                 (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v2, dv)) << 32 |
                 (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v3, dv)) << 48;
    uint64_t sp = (uint64_t)(unsigned)_mm_movemask_epi8(special_sse2(v0)) |
                  (uint64_t)(unsigned)_mm_movemask_epi8(special_sse2(v1)) << 16 |
                  (uint64_t)(unsigned)_mm_movemask_epi8(special_sse2(v2)) << 32 |
                  (uint64_t)(unsigned)_mm_movemask_epi8(special_sse2(v3)) << 48;
    __m128i c = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v0, crv), _mm_cmpeq_epi8(v1, crv)),
                             _mm_or_si128(_mm_cmpeq_epi8(v2, crv), _mm_cmpeq_epi8(v3, crv)));
    *cr |= (uint64_t)(unsigned)_mm_movemask_epi8(c);
    *high |= (uint64_t)(unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3)));
    *special = sp & ~m;
    return m;
}
#endif

/* POPCNT through a target attribute and a run-time check: gcc and clang on x86-64 when the
 * build does not already assume it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__POPCNT__)
#define PS_CSV_HW_POPCOUNT 1
#endif

/* Bits set in w. */
static inline size_t popcount64(uint64_t w)
{
    w = w - ((w >> 1) & UINT64_C(0x5555555555555555));
    w = (w & UINT64_C(0x3333333333333333)) + ((w >> 2) & UINT64_C(0x3333333333333333));
    w = (w + (w >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (size_t)((w * ONES8) >> 56);
}

/* delim_bitmap (below): SSE2 where the compiler has it (x86-64 always does), 8 bytes a step
 * elsewhere; the bits counted by POPCNT when hw_popcount (a constant where inlined). */
static PS_ALWAYS_INLINE size_t delim_bitmap_with(const unsigned char *p, size_t len,
                                                 unsigned char delim, uint64_t *bm,
                                                 size_t *nspecial, int *ascii, int hw_popcount)
{
    unsigned char tail[64];
    size_t whole = len & ~(size_t)63, count = 0, nsp = 0;
    uint64_t cr = 0, high = 0, sp;
#if defined(__SSE2__)
    const __m128i dv = _mm_set1_epi8((char)delim);
#define PS_CSV_BLOCK(b) block_sse2((b), dv, &cr, &high, &sp)
#if defined(PS_CSV_HW_POPCOUNT)
#define POPCOUNT(w) (hw_popcount ? (size_t)__builtin_popcountll(w) : popcount64(w))
#else
#define POPCOUNT(w) ((void)hw_popcount, popcount64(w))
#endif
#else
    const uint64_t dpat = ONES8 * delim;
#define PS_CSV_BLOCK(b) block_swar((b), dpat, &cr, &high, &sp)
#define POPCOUNT(w) ((void)hw_popcount, popcount64(w))
#endif
    for (size_t i = 0; i < whole; i += 64) {
        count += POPCOUNT(bm[i >> 6] = PS_CSV_BLOCK(p + i));
        if (sp)
            nsp += POPCOUNT(sp);
    }
    if (whole < len) { /* the last 1-63 bytes, zero-padded (the delimiter is never NUL; the
                        * padding's special bits are masked off) */
        memset(tail, 0, sizeof tail);
        memcpy(tail, p + whole, len - whole);
        count += POPCOUNT(bm[whole >> 6] = PS_CSV_BLOCK(tail));
        sp &= (UINT64_C(1) << (len - whole)) - 1;
        if (sp)
            nsp += POPCOUNT(sp);
    }
#undef PS_CSV_BLOCK
#undef POPCOUNT
    *nspecial = nsp;
    *ascii = high == 0;
    return cr ? (size_t)-1 : count;
}

#if defined(PS_CSV_HW_POPCOUNT)
/* delim_bitmap_with counting bits with the POPCNT instruction (x86-64 CPUs since 2008). */
__attribute__((target("popcnt"))) static size_t delim_bitmap_hw(const unsigned char *p, size_t len,
                                                                unsigned char delim, uint64_t *bm,
                                                                size_t *nspecial, int *ascii)
{
    return delim_bitmap_with(p, len, delim, bm, nspecial, ascii, 1);
}
#endif

/* Fills bm[0 .. (len + 63) / 64) with one bit a byte of p[0..len) (bit i % 64 of word i / 64)
 * set where the byte is delim, *nspecial with the number of bytes other than delim that
 * are below 0x20, '"' or '\\', and *ascii with 1 when no byte is above 0x7f (else 0). Returns
 * the number of delimiters, or (size_t)-1 when p holds a CR. The bits are counted by POPCNT
 * when the CPU has it (the build targets x86-64 without it), else 8 bytes at a time in
 * registers: the same counts (ps_csv_bitmap_agrees compares the two). */
static size_t delim_bitmap(const unsigned char *p, size_t len, unsigned char delim, uint64_t *bm,
                           size_t *nspecial, int *ascii)
{
#if defined(PS_CSV_HW_POPCOUNT)
    if (__builtin_cpu_supports("popcnt"))
        return delim_bitmap_hw(p, len, delim, bm, nspecial, ascii);
#endif
    return delim_bitmap_with(p, len, delim, bm, nspecial, ascii, 0);
}

int ps_csv_bitmap_agrees(const char *p, size_t len, char delim)
{
    uint64_t bm[CSV_FAST_MAX / 64 + 1];
    unsigned char tail[64] = {0};
    const unsigned char *u = (const unsigned char *)p;
    if (len > CSV_FAST_MAX || !delim)
        return 0;
    size_t nsp = 0, nsp2 = 0;
    int ascii = 0;
    size_t count = delim_bitmap(u, len, (unsigned char)delim, bm, &nsp, &ascii), count2 = 0;
    uint64_t cr = 0, high = 0, sp = 0;
    for (size_t i = 0; i < len; i += 64) {
        const unsigned char *b = u + i;
        if (len - i < 64) {
            memcpy(tail, u + i, len - i);
            b = tail;
        }
        uint64_t m = block_swar(b, ONES8 * (unsigned char)delim, &cr, &high, &sp);
        if (len - i < 64)
            sp &= (UINT64_C(1) << (len - i)) - 1;
        if (count != (size_t)-1 && m != bm[i >> 6])
            return 0;
        count2 += popcount64(m);
        nsp2 += popcount64(sp);
    }
    if (nsp != nsp2 || ascii != (high == 0))
        return 0;
    return cr ? count == (size_t)-1 : count == count2;
}

/* Fast path for the common record: it starts at the current input position and ends with LF
 * (or CRLF) inside the buffered input, is at most CSV_FAST_MAX bytes, has no other CR, no line
 * break inside quotes and no text after a closing quote. The record is copied into the arena
 * once, whole; a bitmap of its delimiters (built 8 bytes a step) gives the cell boundaries,
 * each delimiter becomes the previous cell's NUL, and unquoted cells are used in place. A
 * quoted cell is decoded in place (its text moves left over its quotes; only a doubled quote
 * shifts bytes). Returns 1 when the record was emitted, 0 when the general path must handle it
 * (nothing consumed), -1 when out of memory. */
static int fast_record(ps_csv_reader *r, ps_arena *arena, ps_cell **cells, size_t *ncells,
                       uint64_t *line)
{
    const char *p = r->in + r->in_pos;
    size_t n = r->in_end - r->in_pos;
    const char *nl = memchr(p, '\n', n < CSV_FAST_MAX + 2 ? n : CSV_FAST_MAX + 2);
    if (!nl)
        return 0;
    size_t span = (size_t)(nl - p), len = span;
    if (len && p[len - 1] == '\r')
        len--; /* CRLF */
    if (len > CSV_FAST_MAX)
        return 0;
    uint64_t bm[CSV_FAST_MAX / 64 + 1];
    size_t nspecial;
    int ascii;
    size_t ndelim = delim_bitmap((const unsigned char *)p, len, r->delim, bm, &nspecial, &ascii);
    if (ndelim == (size_t)-1)
        return 0; /* a CR inside the record */
    size_t ndelim_all = ndelim;
    if (ndelim + 1 > r->max_columns)
        ndelim = r->max_columns; /* more cells than allowed: found below, general path */
    /* at most ndelim + 1 cells: each but the last ends at a delimiter */
    ps_cell *out = ps_arena_alloc(arena, (ndelim + 1) * sizeof *out + len + 1);
    if (!out)
        return -1;
    char *text = (char *)(out + ndelim + 1);
    memcpy(text, p, len);
    text[len] = '\0';
    const char delim = (char)r->delim;
    size_t nf = 0, pos = 0, nquoted = 0;
    /* the delimiters are taken from the bitmap in order, one bit a cell: m holds the bits of
     * word wi not consumed yet */
    size_t max_cells = ndelim + 1 < r->max_columns ? ndelim + 1 : r->max_columns;
    size_t wi = 0, nw = (len + 63) >> 6;
    uint64_t m = nw ? bm[0] : 0;
    int may_be_long = len > r->max_field; /* else no cell is over the limit */
    for (;;) {
        if (nf == max_cells)
            return 0; /* the general path reports it */
        size_t start = pos, clen, next;
        if (text[pos] == '"') { /* pos < len here: text[len] is NUL */
            size_t rd = pos + 1, wr = pos;
            for (;;) {
                const char *q = memchr(text + rd, '"', len - rd);
                if (!q)
                    return 0; /* closes on a later line, or never */
                size_t k = (size_t)(q - text) - rd;
                if (wr != rd)
                    memmove(text + wr, text + rd, k);
                wr += k;
                rd += k + 1;
                if (rd < len && text[rd] == '"') { /* doubled quote */
                    text[wr++] = '"';
                    rd++;
                    continue;
                }
                break;
            }
            if (rd < len && text[rd] != delim)
                return 0; /* text after the closing quote */
            clen = wr - pos;
            text[wr] = '\0';
            next = rd;
            nquoted++;
            if (next < len) { /* delimiters inside the quotes are text: go on after next */
                wi = next >> 6;
                m = bm[wi] & ((~UINT64_C(0) << (next & 63)) << 1);
            }
        } else {
            while (!m && ++wi < nw)
                m = bm[wi];
            next = m ? (wi << 6) + (size_t)__builtin_ctzll(m) : len;
            m &= m - 1;
            clen = next - pos;
            text[next] = '\0';
        }
        if (may_be_long && clen > r->max_field)
            return 0;
        out[nf].text = text + start;
        out[nf].len = (uint32_t)clen;
        out[nf].kind = PS_CELL_TEXT;
        nf++;
        if (next >= len)
            break;
        pos = next + 1; /* after the delimiter */
    }
    /* The cells are plain (PS_ROWF_PLAIN) when every special byte of the record is one of
     * the quotes around a quoted cell (a doubled quote adds two more). A delimiter that is itself
     * special (a tab) must also have separated cells every time (none inside quotes). */
    unsigned char d = r->delim;
    int delim_special = d < 0x20 || d == '\\';
    if (nspecial == 2 * nquoted && (!delim_special || ndelim_all == nf - 1))
        r->last_flags = PS_ROWF_PLAIN | PS_ROWF_NO_NUL;
    else
        r->last_flags = memchr(p, '\0', len) ? 0 : PS_ROWF_NO_NUL;
    /* the cells' bytes are some of the record's: none above 0x7f when the record has none */
    if (ascii)
        r->last_flags |= PS_ROWF_ASCII;
    *cells = out;
    *ncells = nf;
    r->rec_line = r->line;
    if (line)
        *line = r->line;
    r->line++;
    r->in_pos += span + 1;
    return 1;
}

ps_status ps_csv_next(ps_csv_reader *r, ps_arena *arena, ps_cell **cells, size_t *ncells,
                      uint64_t *line, ps_error *err)
{
    ps_status st;
    if (r->sticky != PS_OK) {
        if (err) {
            err->code = r->sticky;
            memcpy(err->message, r->sticky_msg, sizeof err->message);
        }
        return r->sticky;
    }
    r->last_flags = 0;
    if (!r->started && check_bom(r) != 0)
        return fail(r, err, PS_ERR_IO, "line 1: read error");

    for (;;) {
        if (r->in_pos == r->in_end) {
            int rc = refill(r);
            if (rc < 0)
                return fail(r, err, PS_ERR_IO, "line %llu: read error",
                            (unsigned long long)r->line);
            if (rc == 0) {
                switch (r->state) {
                case ST_RECORD_START:
                    return PS_END;
                case ST_QUOTED:
                    return fail(r, err, PS_ERR_DATA,
                                "line %llu: unterminated quoted field: the quote opened on "
                                "line %llu is never closed (end of input reached at line %llu)",
                                (unsigned long long)r->quote_line,
                                (unsigned long long)r->quote_line, (unsigned long long)r->line);
                default:
                    end_field(r);
                    return emit(r, arena, cells, ncells, line, err);
                }
            }
        }
        const char *p = r->in + r->in_pos;
        size_t n = r->in_end - r->in_pos;

        switch (r->state) {
        case ST_RECORD_START:
            if (r->skip_lf) {
                r->skip_lf = 0;
                if (*p == '\n') {
                    r->in_pos++;
                    continue;
                }
            }
            switch (fast_record(r, arena, cells, ncells, line)) {
            case 1:
                return PS_OK;
            case -1:
                r->rec_line = r->line;
                return fail_nomem(r, err);
            default:
                break;
            }
            r->rec_line = r->line;
            if ((st = begin_field(r, err)) != PS_OK)
                return st;
            r->state = ST_FIELD_START;
            /* fall through */
        case ST_FIELD_START:
            if (*p == '"') {
                r->in_pos++;
                r->quote_line = r->line;
                r->q_cr = 0;
                r->state = ST_QUOTED;
                continue;
            }
            r->state = ST_UNQUOTED;
            /* fall through */
        case ST_UNQUOTED: {
            size_t k = scan_plain((const unsigned char *)p, n, r->special);
            if (k && (st = append(r, p, k, err)) != PS_OK)
                return st;
            r->in_pos += k;
            if (k == n)
                continue; /* need more input */
            unsigned char c = (unsigned char)p[k];
            r->in_pos++;
            end_field(r);
            if (c == r->delim) {
                if ((st = begin_field(r, err)) != PS_OK)
                    return st;
                r->state = ST_FIELD_START;
                continue;
            }
            r->line++;
            r->skip_lf = c == '\r';
            return emit(r, arena, cells, ncells, line, err);
        }
        case ST_QUOTED: {
            const char *q = memchr(p, '"', n);
            size_t k = q ? (size_t)(q - p) : n;
            count_quoted_lines(r, p, k);
            if (k && (st = append(r, p, k, err)) != PS_OK)
                return st;
            r->in_pos += k;
            if (q) {
                r->in_pos++;
                r->q_cr = 0;
                r->state = ST_QUOTE_IN_QUOTED;
            }
            continue;
        }
        case ST_QUOTE_IN_QUOTED: {
            unsigned char c = (unsigned char)*p;
            if (c == '"') { /* doubled quote: a literal quote, still quoted */
                if ((st = append(r, p, 1, err)) != PS_OK)
                    return st;
                r->in_pos++;
                r->state = ST_QUOTED;
                continue;
            }
            if (c == r->delim) {
                r->in_pos++;
                end_field(r);
                if ((st = begin_field(r, err)) != PS_OK)
                    return st;
                r->state = ST_FIELD_START;
                continue;
            }
            if (c == '\n' || c == '\r') {
                r->in_pos++;
                end_field(r);
                r->line++;
                r->skip_lf = c == '\r';
                return emit(r, arena, cells, ncells, line, err);
            }
            /* Lenient: text after the closing quote is kept as is ("ab"c -> abc). */
            r->state = ST_UNQUOTED;
            continue;
        }
        }
    }
}

/* paysync core: row validation and normalisation (see validate.h and docs/data-model.md).
 * The accept path allocates only from the caller's arena and never formats text with
 * snprintf; messages are built only for problems. */
#include "model/validate.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/amount.h"
#include "model/currency.h"
#include "model/model_fields.h"
#include "model/phone.h"
#include "model/phonecache.h"
#include "model/space.h"
#include "model/txtype.h"
#include "util/bytescan.h"
#include "util/inline.h"
#include "util/loadle.h"

struct ps_validator {
    char *dataset;
    size_t dataset_len;
    ps_profile profile;
    const ps_tz *naive_zone;
    const ps_tz *serial_zone;
    char **ts_formats;
    size_t n_ts_formats;
    char region[3]; /* country of national phone numbers ("NG"), "" = none */
    ps_txtype_alias *aliases;
    size_t n_aliases;
    char *defaults[PS_FIELD_COUNT];
    size_t default_len[PS_FIELD_COUNT];
    unsigned char required[PS_FIELD_COUNT]; /* ps_field_required under profile */
    int defaults_plain;                     /* no default holds a byte below 0x20, '"' or '\\' */
    unsigned char order[PS_FIELD_COUNT];    /* field_at(0 .. PS_FIELD_COUNT - 1) */
};

/* Fields kept as written (trimmed text): field_value's default case, which the row loop
 * handles inline. */
#define TEXT_FIELDS                                                                                \
    ((1u << PS_F_ID) | (1u << PS_F_REFERENCE_ID) | (1u << PS_F_CUSTOMER_ID) |                      \
     (1u << PS_F_METER_ID) | (1u << PS_F_CUSTOMER_NAME) | (1u << PS_F_CUSTOMER_CATEGORY) |         \
     (1u << PS_F_FINANCING_ID) | (1u << PS_F_AGENT_ID) | (1u << PS_F_UTILITY_ID) |                 \
     (1u << PS_F_ACCOUNT_TYPE) | (1u << PS_F_STATUS) | (1u << PS_F_NOTES))

/* ---- small helpers ------------------------------------------------------------------- */

size_t ps_utf8_check(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c;
        /* fast path: 8 ASCII bytes without NUL at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w | ((w - UINT64_C(0x0101010101010101)) & ~w)) & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return i;
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= len || (s[i + 1] & 0xC0) != 0x80)
                return i;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            if (i + 2 >= len || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80)
                return i;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
            if (i + 3 >= len || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                return i;
            i += 4;
        } else {
            return i;
        }
    }
    return len;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* 1 when s[0..len) is ASCII without NUL (the common cell: valid UTF-8 with no non-ASCII
 * whitespace to trim), checked 8 bytes at a time; 0 sends the cell to ps_utf8_check and trim. */
static inline int plain_ascii(const char *s, size_t len)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w | ((w - UINT64_C(0x0101010101010101)) & ~w);
    }
    if (i < len) { /* the last 1-7 bytes: the value's last 8 when there are, else gathered */
        uint64_t w = UINT64_C(0x2020202020202020);
        if (len >= 8) {
            memcpy(&w, s + len - 8, 8);
        } else {
            unsigned char *b = (unsigned char *)&w;
            if (len & 4)
                memcpy(b, s, 4);
            if (len & 2)
                memcpy(b + (len & 4), s + (len & 4), 2);
            if (len & 1)
                b[len - 1] = (unsigned char)s[len - 1];
        }
        acc |= w | ((w - UINT64_C(0x0101010101010101)) & ~w);
    }
    return (acc & UINT64_C(0x8080808080808080)) == 0;
}

/* Trims whitespace (model/space.h: the Unicode White_Space characters) from both ends. */
static void trim(const char **ps, size_t *plen)
{
    ps_space_trim(ps, plen);
}

/* Trims ASCII whitespace from both ends of an ASCII value (*plen > 0); a value whose end bytes
 * are above ' ' is left alone after two compares. */
static inline void trim_ascii(const char **ps, size_t *plen)
{
    const char *s = *ps;
    size_t len = *plen;
    if ((unsigned char)s[0] > ' ' && (unsigned char)s[len - 1] > ' ')
        return;
    while (len && is_ws((unsigned char)s[0])) {
        s++;
        len--;
    }
    while (len && is_ws((unsigned char)s[len - 1]))
        len--;
    *ps = s;
    *plen = len;
}

int ps_row_is_blank(const ps_cell *cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cells[i].text && !ps_text_is_blank(cells[i].text, cells[i].len))
            return 0;
    return 1;
}

/* Copies at most ~60 bytes of a (valid UTF-8) value for a message, cut at a character
 * boundary, with "..." when shortened. */
static void clip(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = len;
    if (n > 60) {
        n = 60;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (n > cap - 4)
        n = cap - 4;
    memcpy(out, s, n);
    if (n < len)
        memcpy(out + n, "...", 4);
    else
        out[n] = '\0';
}

/* Content hash (docs/data-model.md): the byte stream [0x00] or [0x01 value 0x00] per field is
 * padded with 0x00 to a multiple of 8 bytes and consumed as 64-bit little-endian words. Each
 * word costs a multiply on one dependency chain, so the hash is as fast as that chain can
 * start early: ps_record_content_hash stages the stream in a buffer (values up to 32 bytes with
 * fixed-size moves) CH_GROUP fields at a time and hashes the words of the group before while
 * the next group is staged (a word loaded right after its bytes were stored would wait for the
 * stores). A record with a value longer than CH_FAST_MAX bytes goes through content_hash_any:
 * a CH_BUF buffer hashed a whole buffer at a time, long values in pieces. Both are the same
 * stream (tests/unit/model/test_validate.c compares them with the plain definition). */
#define CH_PRIME UINT64_C(0x100000001b3)
#define CH_BUF 512      /* multiple of 8 */
#define CH_FAST_MAX 255 /* longest value of the staged path */
#define CH_GROUP 5      /* fields staged before the words of the group before are hashed */

static inline uint64_t ch_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * CH_PRIME;
    return h ^ (h >> 32);
}

/* Hashes the first n (a multiple of 8) bytes of b into h. */
static inline uint64_t ch_words(uint64_t h, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i += 8)
        h = ch_mix(h, ps_load_le(b + i, 8));
    return h;
}

/* Copies n <= 16 bytes with fixed-size (possibly overlapping) moves. */
static inline void ch_copy16(unsigned char *d, const char *s, size_t n)
{
    if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n) {
        d[0] = (unsigned char)s[0];
        d[n / 2] = (unsigned char)s[n / 2];
        d[n - 1] = (unsigned char)s[n - 1];
    }
}

/* The content hash of a record of any value lengths. */
static uint64_t content_hash_any(const ps_record *r)
{
    /* room for a whole buffer plus one field's markers and a short value */
    unsigned char buf[CH_BUF + 32];
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t n = 0;
    for (int f = PS_F_ID + 1; f < PS_FIELD_COUNT; f++) {
        const char *s = r->field[f].ptr;
        if (n >= CH_BUF) { /* keep the buffer below CH_BUF at the start of a field */
            h = ch_words(h, buf, CH_BUF);
            n -= CH_BUF;
            memcpy(buf, buf + CH_BUF, n);
        }
        if (!s) {
            buf[n++] = 0x00;
            continue;
        }
        size_t len = r->field[f].len;
        buf[n++] = 0x01;
        if (len <= 16) {
            ch_copy16(buf + n, s, len);
            n += len;
        } else {
            while (len) { /* fill up to CH_BUF, hash, repeat */
                size_t k = CH_BUF - n < len ? CH_BUF - n : len;
                memcpy(buf + n, s, k);
                n += k;
                s += k;
                len -= k;
                if (n == CH_BUF) {
                    h = ch_words(h, buf, CH_BUF);
                    n = 0;
                }
            }
        }
        buf[n++] = 0x00;
    }
    size_t whole = n & ~(size_t)7;
    h = ch_words(h, buf, whole);
    if (n > whole) {
        unsigned char last[8] = {0};
        memcpy(last, buf + whole, n - whole);
        h = ch_mix(h, ps_load_le(last, 8));
    }
    return h;
}

uint64_t ps_record_content_hash(const ps_record *r)
{
    /* the whole stream: every value at most CH_FAST_MAX bytes, and 8 bytes of padding */
    unsigned char buf[(PS_FIELD_COUNT - 1) * (CH_FAST_MAX + 2) + 8];
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t n = 0, done = 0, mark = 0; /* staged, hashed, end of the group before */
    int f = PS_F_ID + 1;
    while (f < PS_FIELD_COUNT) {
        int end = f + CH_GROUP < PS_FIELD_COUNT ? f + CH_GROUP : PS_FIELD_COUNT;
        for (; f < end; f++) {
            const char *s = r->field[f].ptr;
            size_t len = r->field[f].len;
            if (!s) {
                buf[n++] = 0x00;
                continue;
            }
            if (len > CH_FAST_MAX)
                return content_hash_any(r);
            unsigned char *d = buf + n + 1;
            buf[n] = 0x01;
            if (len <= 16) {
                ch_copy16(d, s, len);
            } else if (len <= 32) {
                memcpy(d, s, 16);
                memcpy(d + len - 16, s + len - 16, 16);
            } else {
                memcpy(d, s, len);
            }
            d[len] = 0x00;
            n += len + 2;
        }
        size_t upto = mark & ~(size_t)7; /* the whole words of the groups before */
        h = ch_words(h, buf + done, upto - done);
        done = upto;
        mark = n;
    }
    memset(buf + n, 0, 8);
    return ch_words(h, buf + done, ((n + 7) & ~(size_t)7) - done);
}

/* ---- per-field normalisation --------------------------------------------------------- */

/* A field-level problem before it is routed to errors or warnings. */
typedef struct fprob {
    const char *code;
    char message[200];
} fprob;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(fprob *p, const char *code, const char *fmt, ...)
{
    va_list ap;
    p->code = code;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    return -1;
}

static char *dup(ps_arena *a, const char *s, size_t len)
{
    return ps_arena_strndup(a, s, len);
}

/* Stores field f's value (s may be NULL: out of memory); returns 1 when s is set. */
static int set_field(ps_record *out, int f, const char *s, size_t len)
{
    out->field[f].ptr = s;
    out->field[f].len = s ? (uint32_t)len : 0;
    return s != NULL;
}

/* Decimal degrees: [sign] digits [. digits] (or ".5"), |value| <= limit. Canonical text:
 * no '+', no superfluous leading zeros, "0" before a bare fraction, no trailing '.'. Sets
 * *same to 1, and writes nothing to out, when the canonical text is s[0..len) itself. */
static int coord(const char *s, size_t len, int limit, char *out, size_t cap, int *same)
{
    size_t i = 0, n = 0, ib, ib0, ie, fb, fe;
    int neg = 0;
    long ip = 0;
    int frac_nonzero = 0;
    if (len && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i++;
    }
    ib = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    ie = i;
    fb = fe = i;
    if (i < len && s[i] == '.') {
        fb = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        fe = i;
    }
    if (i != len || (ie == ib && fe == fb))
        return -1;
    ib0 = ib;
    while (ib + 1 < ie && s[ib] == '0')
        ib++;
    if (ie - ib > 3)
        return -2;
    for (i = ib; i < ie; i++)
        ip = ip * 10 + (s[i] - '0');
    for (i = fb; i < fe; i++)
        if (s[i] != '0')
            frac_nonzero = 1;
    if (ip > limit || (ip == limit && frac_nonzero))
        return -2;
    /* the text is canonical when it has no '+', no leading zero dropped, a whole part, and
     * no '.' without digits after it */
    *same = s[0] != '+' && ib == ib0 && ie > ib && !(fb > ie && fe == fb);
    if (*same)
        return (int)len;
    if (2 + (ie - ib) + 1 + (fe - fb) + 1 > cap)
        return -1;
    if (neg)
        out[n++] = '-';
    if (ie == ib)
        out[n++] = '0';
    memcpy(out + n, s + ib, ie - ib);
    n += ie - ib;
    if (fe > fb) {
        out[n++] = '.';
        memcpy(out + n, s + fb, fe - fb);
        n += fe - fb;
    }
    out[n] = '\0';
    return (int)n;
}

/* Non-negative integer, "3.0"/"3.00" accepted as 3. Sets *same to 1, and writes nothing to
 * out, when the canonical text is s[0..len) itself. */
static int count(const char *s, size_t len, char *out, size_t cap, int *same)
{
    size_t i = 0, b, b0, e, n = 0;
    if (len && s[0] == '+')
        i++;
    b = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    e = i;
    if (e == b)
        return -1;
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] == '0'; i++)
            ;
    }
    if (i != len)
        return -1;
    b0 = b;
    while (b + 1 < e && s[b] == '0')
        b++;
    if (e - b > 18 || e - b + 1 > cap)
        return -1;
    *same = b == 0 && b0 == 0 && e == len; /* no '+', no leading zero, no ".0" */
    if (*same)
        return (int)len;
    memcpy(out, s + b, e - b);
    n = e - b;
    out[n] = '\0';
    return (int)n;
}

/* Normalises one present, trimmed, UTF-8-valid value of field f into out. currency is the
 * row's code (NULL when unknown). Returns 0, or -1 with *p filled. */
static int field_value(const ps_validator *v, ps_phonecache *phones, int f, const char *s,
                       size_t len, int kind, const char *currency, ps_arena *a, ps_record *out,
                       fprob *p)
{
    char clipped[72];
    char buf[PS_DECIMAL_TEXT_MAX + 32];
    int rc;
    size_t k;

    switch (f) {
    case PS_F_TIMESTAMP: {
        int64_t ms = 0;
        char *t = NULL;
        if (kind != PS_CELL_NUMBER && ps_time_parse_canonical(s, len, &ms)) {
            /* already canonical: the value is its own canonical text */
            out->timestamp_ms = ms;
            if (!set_field(out, f, s[len] == '\0' ? s : dup(a, s, len), len))
                return fail(p, "out_of_memory", "out of memory");
            return 0;
        }
        if (kind != PS_CELL_NUMBER && !v->naive_zone && len == 19) {
            /* to the second, no zone, read as UTC: the canonical text without formatting */
            t = ps_arena_alloc(a, PS_TIME_TEXT_MAX);
            if (!t)
                return fail(p, "out_of_memory", "out of memory");
            if (ps_time_parse_seconds_utc(s, len, &ms, t)) {
                out->timestamp_ms = ms;
                set_field(out, f, t, 24);
                return 0;
            }
        }
        rc = PS_TIME_SYNTAX;
        if (kind == PS_CELL_NUMBER)
            rc = ps_time_parse_serial(s, len, v->serial_zone ? v->serial_zone : v->naive_zone, &ms);
        if (rc != PS_TIME_OK)
            rc = ps_time_parse_iso(s, len, v->naive_zone, &ms);
        for (k = 0; rc == PS_TIME_SYNTAX && k < v->n_ts_formats; k++)
            rc = ps_time_parse_format(s, len, v->ts_formats[k], v->naive_zone, &ms);
        if (rc == PS_TIME_RANGE) {
            clip(s, len, clipped, sizeof clipped);
            return fail(p, "bad_timestamp", "TIMESTAMP '%s' is an impossible date or time",
                        clipped);
        }
        if (rc != PS_TIME_OK) {
            clip(s, len, clipped, sizeof clipped);
            return fail(p, "bad_timestamp",
                        "TIMESTAMP '%s' is not a date/time in ISO 8601 form "
                        "(e.g. 2024-03-05T14:16:01Z)%s",
                        clipped, v->n_ts_formats ? " or a configured format" : "");
        }
        if (!t && !(t = ps_arena_alloc(a, PS_TIME_TEXT_MAX)))
            return fail(p, "out_of_memory", "out of memory");
        k = ps_time_format(ms, t);
        out->timestamp_ms = ms;
        set_field(out, f, t, k);
        return 0;
    }
    case PS_F_PAYMENT_CURRENCY: {
        const char *code, *cand;
        rc = ps_currency_parse(s, len, &code, &cand);
        if (rc != PS_CUR_OK)
            clip(s, len, clipped, sizeof clipped);
        if (rc == PS_CUR_AMBIGUOUS)
            return fail(p, "ambiguous_currency",
                        "PAYMENT_CURRENCY '%s' is ambiguous (%s): write the ISO 4217 code", clipped,
                        cand);
        if (rc != PS_CUR_OK)
            return fail(p, "unknown_currency",
                        "PAYMENT_CURRENCY '%s' is not an ISO 4217 code or a known currency name",
                        clipped);
        set_field(out, f, code, code[3] == '\0' ? 3 : strlen(code)); /* ISO 4217: 3 letters */
        return 0;
    }
    case PS_F_PAYMENT_AMOUNT:
    case PS_F_TRANSACTION_CHARGES: {
        ps_decimal d;
        const char *t;
        if (ps_amount_parse_plain(s, len, &d)) {
            /* a plain decimal in canonical form: the value is its own canonical text */
            t = s[len] == '\0' ? s : dup(a, s, len);
            k = len;
        } else {
            rc = ps_amount_parse(s, len, currency, &d);
            if (rc != PS_AMOUNT_OK) {
                clip(s, len, clipped, sizeof clipped);
                if (rc == PS_AMOUNT_MISMATCH)
                    return fail(p, "currency_mismatch",
                                "%s '%s': currency symbol or code does not agree with "
                                "PAYMENT_CURRENCY %s",
                                ps_field_name(f), clipped, currency ? currency : "");
                return fail(p, "bad_amount", "%s '%s' is not a valid amount: %s", ps_field_name(f),
                            clipped, ps_amount_reason(rc));
            }
            k = ps_decimal_format(d, buf);
            t = dup(a, buf, k);
        }
        if (!set_field(out, f, t, k))
            return fail(p, "out_of_memory", "out of memory");
        if (f == PS_F_PAYMENT_AMOUNT) {
            out->amount = d;
        } else {
            out->charges = d;
            out->has_charges = 1;
        }
        return 0;
    }
    case PS_F_TRANSACTION_TYPE:
        rc = ps_txtype_parse_with(s, len, v->aliases, v->n_aliases);
        if (rc < 0) {
            clip(s, len, clipped, sizeof clipped);
            return fail(p, "unknown_transaction_type",
                        "TRANSACTION_TYPE '%s' is not one of FULL_PAYMENT, INSTALLMENT_PAYMENT, "
                        "NON_CONTRACT_PAYMENT, DISCOUNT, REVERSAL, ENERGY_CREDIT or a configured "
                        "alias",
                        clipped);
        }
        set_field(out, f, ps_txtype_name(rc), ps_txtype_name_len(rc));
        return 0;
    case PS_F_CUSTOMER_PHONE: {
        char why[PS_PHONE_WHY_MAX];
        rc = ps_phonecache_normalise(phones, s, len, v->region, buf, why);
        if (rc < 0) {
            clip(s, len, clipped, sizeof clipped);
            return fail(p, "bad_phone", "CUSTOMER_PHONE '%s' %s", clipped, why);
        }
        /* already E.164 as written: the cell is its own canonical text */
        if ((size_t)rc == len && s[len] == '\0' && memcmp(buf, s, len) == 0) {
            set_field(out, f, s, len);
            return 0;
        }
        if (!set_field(out, f, dup(a, buf, (size_t)rc), (size_t)rc))
            return fail(p, "out_of_memory", "out of memory");
        return 0;
    }
    case PS_F_LATITUDE:
    case PS_F_LONGITUDE: {
        int lim = f == PS_F_LATITUDE ? 90 : 180;
        char cbuf[96];
        int same = 0;
        rc = len < 64 ? coord(s, len, lim, cbuf, sizeof cbuf, &same) : -1;
        if (rc < 0) {
            clip(s, len, clipped, sizeof clipped);
            return fail(p, f == PS_F_LATITUDE ? "bad_latitude" : "bad_longitude",
                        rc == -2 ? "%s '%s' is outside -%d..%d"
                                 : "%s '%s' is not decimal degrees (-%d..%d)",
                        ps_field_name(f), clipped, lim, lim);
        }
        if (same && s[len] == '\0') { /* canonical as written: used in place */
            set_field(out, f, s, len);
            return 0;
        }
        if (!set_field(out, f, same ? dup(a, s, len) : dup(a, cbuf, (size_t)rc), (size_t)rc))
            return fail(p, "out_of_memory", "out of memory");
        return 0;
    }
    case PS_F_FAILED_BATTERY_CAPACITY_COUNT: {
        int same = 0;
        rc = count(s, len, buf, sizeof buf, &same);
        if (rc < 0) {
            clip(s, len, clipped, sizeof clipped);
            return fail(p, "bad_count",
                        "FAILED_BATTERY_CAPACITY_COUNT '%s' is not a non-negative integer",
                        clipped);
        }
        if (same && s[len] == '\0') { /* canonical as written: used in place */
            set_field(out, f, s, len);
            return 0;
        }
        if (!set_field(out, f, same ? dup(a, s, len) : dup(a, buf, (size_t)rc), (size_t)rc))
            return fail(p, "out_of_memory", "out of memory");
        return 0;
    }
    default:
        /* text: trimmed, kept as written (IDs keep leading zeros). Cells are NUL-terminated
         * and live as long as the record (the batch), so a value that needed no trimming at
         * its end is used in place instead of copied. */
        if (s[len] == '\0') {
            set_field(out, f, s, len);
            return 0;
        }
        if (!set_field(out, f, dup(a, s, len), len))
            return fail(p, "out_of_memory", "out of memory");
        return 0;
    }
}

/* ---- derived ID ---------------------------------------------------------------------- */

static const int id_parts[] = {PS_F_METER_ID,       PS_F_CUSTOMER_ID,      PS_F_TIMESTAMP,
                               PS_F_PAYMENT_AMOUNT, PS_F_PAYMENT_CURRENCY, PS_F_TRANSACTION_TYPE,
                               PS_F_REFERENCE_ID};

static unsigned char *put_part(unsigned char *p, const char *s, size_t n)
{
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    memcpy(p + 4, s, n);
    return p + 4 + n;
}

/* SHA-256 for derived IDs, fetched once per process when a row first needs one: fetching
 * initialises OpenSSL's library context (about 2 MB of RSS), which runs whose rows all carry
 * an ID never need. Never freed (one per process). */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256_md;

static void sha256_fetch(void)
{
    EVP_MD *m = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha256_md = m ? m : EVP_sha256();
}

/* "ps-" + first 32 hex digits of SHA-256 over length-prefixed parts (see docs). */
static const char *derive_id(const ps_validator *v, const ps_record *r, ps_arena *a)
{
    unsigned char stackbuf[1024], *buf = stackbuf, *p, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t total = 4 + v->dataset_len, lens[7], i;
    char *id;
    static const char hex[] = "0123456789abcdef";
    for (i = 0; i < 7; i++) {
        lens[i] = r->field[id_parts[i]].len;
        total += 4 + lens[i];
    }
    if (total > sizeof stackbuf && !(buf = ps_arena_alloc(a, total)))
        return NULL;
    p = put_part(buf, v->dataset, v->dataset_len);
    for (i = 0; i < 7; i++)
        p = put_part(p, lens[i] ? r->field[id_parts[i]].ptr : "", lens[i]);
    pthread_once(&sha256_once, sha256_fetch);
    if (!EVP_Digest(buf, total, md, &mdlen, sha256_md, NULL) || mdlen < 16)
        return NULL;
    if (!(id = ps_arena_alloc(a, 36)))
        return NULL;
    memcpy(id, "ps-", 3);
    for (i = 0; i < 16; i++) {
        id[3 + 2 * i] = hex[md[i] >> 4];
        id[4 + 2 * i] = hex[md[i] & 15];
    }
    id[35] = '\0';
    return id;
}

/* ---- rows ---------------------------------------------------------------------------- */

static void add(ps_problem *list, int *n, int f, const char *code, const char *msg, const char *raw)
{
    ps_problem *p;
    if (*n >= PS_MAX_PROBLEMS)
        return;
    p = &list[(*n)++];
    p->field = f;
    p->code = code;
    p->raw = raw;
    snprintf(p->message, sizeof p->message, "%s", msg);
}

ps_row_outcome ps_validate_row(const ps_validator *v, const ps_cell *const by_field[PS_FIELD_COUNT],
                               uint64_t source_row, ps_arena *arena, ps_record *out,
                               ps_row_check *chk)
{
    return ps_validate_row_flags(v, NULL, by_field, 0, source_row, arena, out, chk);
}

ps_row_outcome ps_validate_row_memo(const ps_validator *v, ps_phonecache *phones,
                                    const ps_cell *const by_field[PS_FIELD_COUNT],
                                    uint64_t source_row, ps_arena *arena, ps_record *out,
                                    ps_row_check *chk)
{
    return ps_validate_row_flags(v, phones, by_field, 0, source_row, arena, out, chk);
}

/* The i-th field validated: PAYMENT_CURRENCY first (amounts depend on it), then the others in
 * field order. */
static inline int field_at(int i)
{
    return i == 0 ? PS_F_PAYMENT_CURRENCY : i - (i <= PS_F_PAYMENT_CURRENCY);
}

/* Field f of a row, its value s[0..len) trimmed (NULL: empty or missing, after defaults), raw
 * the text a problem quotes: normalised into out, or a problem added to chk. *currency is the
 * row's canonical currency code once PAYMENT_CURRENCY (validated first) has one. */
static PS_ALWAYS_INLINE void one_field(const ps_validator *v, ps_phonecache *phones, int f,
                                       const char *s, size_t len, int kind, const char *raw,
                                       const char **currency, ps_arena *arena, ps_record *out,
                                       ps_row_check *chk)
{
    fprob fp;
    int req = v->required[f];
    if (!s) {
        if (req) {
            char m[200];
            snprintf(m, sizeof m, "required field %s is empty or missing", ps_field_name(f));
            add(chk->errors, &chk->n_errors, f, "missing_required", m, raw);
        }
        return;
    }
    if ((TEXT_FIELDS >> f) & 1) { /* field_value's text case, inline */
        const char *t = s;
        if (t[len] != '\0' && !(t = dup(arena, t, len))) {
            fp.code = "out_of_memory";
            snprintf(fp.message, sizeof fp.message, "out of memory");
        } else {
            set_field(out, f, t, len);
            return;
        }
    } else if (field_value(v, phones, f, s, len, kind, *currency, arena, out, &fp) == 0) {
        if (f == PS_F_PAYMENT_CURRENCY)
            *currency = out->field[f].ptr;
        return;
    }
    set_field(out, f, NULL, 0);
    if (req || v->profile == PS_PROFILE_STRICT || strcmp(fp.code, "out_of_memory") == 0) {
        add(chk->errors, &chk->n_errors, f, fp.code, fp.message, raw);
    } else {
        add(chk->warnings, &chk->n_warnings, f, fp.code, fp.message, raw);
        if (f == PS_F_TRANSACTION_CHARGES)
            out->has_charges = 0;
    }
}

/* The start of every row: out cleared, no problems yet. */
static void row_start(uint64_t source_row, ps_record *out, ps_row_check *chk)
{
    memset(out, 0, sizeof *out);
    out->source_row = source_row;
    chk->n_errors = 0;
    chk->n_warnings = 0;
}

/* The fields of a row whose cells are ASCII without NUL (the provider said so): valid UTF-8,
 * nothing but ASCII whitespace (all <= ' ') to trim, no bad_utf8 problem possible. One pass in
 * validation order, each value trimmed where it is normalised. Field f's cell is by_field[f],
 * or, when by_field is NULL, cells[field_col[f]] (none when that is -1 or >= ncells). Inlined
 * with by_field NULL or not, so each form is its own loop. */
static PS_ALWAYS_INLINE void ascii_fields(const ps_validator *v, ps_phonecache *phones,
                                          const ps_cell *const *by_field, const ps_cell *cells,
                                          uint32_t ncells, const int *field_col, ps_arena *arena,
                                          ps_record *out, ps_row_check *chk)
{
    const char *currency = NULL;
    for (int i = 0; i < PS_FIELD_COUNT; i++) {
        const ps_cell *c;
        const char *s = NULL, *raw = NULL;
        size_t len = 0;
        int kind = PS_CELL_TEXT;
        int f = v->order[i];
        if (by_field) {
            c = by_field[f];
        } else {
            c = ps_field_cell(cells, ncells, field_col[f]);
        }
        if (c && c->text && c->len) {
            const char *t = c->text;
            size_t n = c->len;
            raw = t;
            trim_ascii(&t, &n);
            if (n) {
                s = t;
                len = n;
                kind = c->kind;
            }
        }
        if (!s && v->defaults[f]) {
            s = raw = v->defaults[f];
            len = v->default_len[f];
        }
        one_field(v, phones, f, s, len, kind, raw, &currency, arena, out, chk);
    }
}

/* The end of every row: the content hash and, without an ID, the derived one; the outcome. */
static ps_row_outcome row_end(const ps_validator *v, ps_arena *arena, ps_record *out,
                              ps_row_check *chk)
{
    if (chk->n_errors)
        return PS_ROW_REJECTED;

    out->content_hash = ps_record_content_hash(out);
    if (!out->field[PS_F_ID].ptr) {
        set_field(out, PS_F_ID, derive_id(v, out, arena), 35);
        out->id_derived = 1;
        if (!out->field[PS_F_ID].ptr) {
            add(chk->errors, &chk->n_errors, PS_F_ID, "out_of_memory",
                "could not derive an ID (out of memory or digest failure)", NULL);
            return PS_ROW_REJECTED;
        }
    }
    return PS_ROW_ACCEPTED;
}

#define ASCII_ROW(flags)                                                                           \
    (((flags) & (PS_ROWF_ASCII | PS_ROWF_NO_NUL)) == (PS_ROWF_ASCII | PS_ROWF_NO_NUL))

ps_row_outcome ps_validate_row_flags(const ps_validator *v, ps_phonecache *phones,
                                     const ps_cell *const by_field[PS_FIELD_COUNT],
                                     unsigned row_flags, uint64_t source_row, ps_arena *arena,
                                     ps_record *out, ps_row_check *chk)
{
    const char *currency = NULL;
    int f, i;

    row_start(source_row, out, chk);
    if (ASCII_ROW(row_flags)) {
        ascii_fields(v, phones, by_field, NULL, 0, NULL, arena, out, chk);
    } else {
        const char *val[PS_FIELD_COUNT], *raw[PS_FIELD_COUNT];
        size_t vlen[PS_FIELD_COUNT];
        unsigned char kind[PS_FIELD_COUNT];
        for (f = 0; f < PS_FIELD_COUNT; f++) {
            const ps_cell *c = by_field[f];
            size_t bad;
            val[f] = NULL;
            vlen[f] = 0;
            raw[f] = NULL;
            kind[f] = PS_CELL_TEXT;
            if (c && c->text && c->len) {
                const char *s = c->text;
                size_t len = c->len;
                raw[f] = c->text;
                if (plain_ascii(s, len)) {
                    /* no U+00A0 possible: only ASCII whitespace (all <= ' ') to trim */
                    trim_ascii(&s, &len);
                    if (len) {
                        val[f] = s;
                        vlen[f] = len;
                        kind[f] = c->kind;
                    }
                } else if ((bad = ps_utf8_check(s, len)) != len) {
                    char m[200];
                    snprintf(m, sizeof m, "%s is not valid UTF-8 (bad byte at offset %zu)",
                             ps_field_name(f), bad);
                    add(chk->errors, &chk->n_errors, f, "bad_utf8", m, NULL);
                    vlen[f] = (size_t)-1; /* present but unusable */
                    continue;
                } else {
                    trim(&s, &len);
                    if (len) {
                        val[f] = s;
                        vlen[f] = len;
                        kind[f] = c->kind;
                    }
                }
            }
            if (!val[f] && v->defaults[f]) {
                val[f] = v->defaults[f];
                vlen[f] = v->default_len[f];
                raw[f] = v->defaults[f];
            }
        }
        for (i = 0; i < PS_FIELD_COUNT; i++) {
            f = v->order[i];
            if (vlen[f] == (size_t)-1)
                continue; /* bad_utf8 already reported */
            one_field(v, phones, f, val[f], vlen[f], kind[f], raw[f], &currency, arena, out, chk);
        }
    }
    return row_end(v, arena, out, chk);
}

ps_row_outcome ps_validate_row_cols(const ps_validator *v, ps_phonecache *phones,
                                    const ps_cell *cells, uint32_t ncells,
                                    const int field_col[PS_FIELD_COUNT], unsigned row_flags,
                                    uint64_t source_row, ps_arena *arena, ps_record *out,
                                    ps_row_check *chk)
{
    if (!ASCII_ROW(row_flags)) {
        const ps_cell *by_field[PS_FIELD_COUNT];
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            by_field[f] = ps_field_cell(cells, ncells, field_col[f]);
        return ps_validate_row_flags(v, phones, by_field, row_flags, source_row, arena, out, chk);
    }
    row_start(source_row, out, chk);
    ascii_fields(v, phones, NULL, cells, ncells, field_col, arena, out, chk);
    return row_end(v, arena, out, chk);
}

/* ---- validator ----------------------------------------------------------------------- */

static int format_ok(const char *fmt)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%')
            continue;
        fmt++;
        if (!*fmt || !strchr("YmdHMSybBpIfzZ%", *fmt))
            return 0;
    }
    return 1;
}

void ps_validator_free(ps_validator *v)
{
    size_t i;
    if (!v)
        return;
    free(v->dataset);
    for (i = 0; i < v->n_ts_formats; i++)
        free(v->ts_formats[i]);
    free(v->ts_formats);
    free(v->aliases);
    for (i = 0; i < PS_FIELD_COUNT; i++)
        free(v->defaults[i]);
    free(v);
}

/* The country of national phone numbers: cfg->country ("NG", any case), else the main
 * country of cfg->phone_country_code ("234"); when both are set they must agree. */
static ps_status set_region(ps_validator *v, const ps_validate_config *cfg, ps_error *err)
{
    const char *cc = cfg->phone_country_code, *country = cfg->country;
    char from_code[3] = "";
    int code = 0;
    if (cc && cc[0] && ps_phone_region_for_code(cc, from_code) != 0)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "phone_country_code '%s' is not the calling code of a country "
                             "(1 to 3 digits, e.g. 234)",
                             cc);
    if (country && country[0]) {
        if ((code = ps_phone_calling_code(country)) == 0)
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "country '%s' is not an ISO 3166 alpha-2 country code with a "
                                 "telephone numbering plan (e.g. NG, KE, GH)",
                                 country);
        v->region[0] = (char)(country[0] & ~0x20);
        v->region[1] = (char)(country[1] & ~0x20);
        v->region[2] = '\0';
        if (from_code[0] && ps_phone_calling_code(from_code) != code)
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "country '%s' has the calling code +%d, not phone_country_code "
                                 "'%s'",
                                 country, code, cc);
    } else if (from_code[0]) {
        memcpy(v->region, from_code, sizeof v->region);
    }
    return PS_OK;
}

static ps_status nomem(ps_validator *v, ps_error *err)
{
    ps_validator_free(v);
    return ps_error_setf(err, PS_ERR_NOMEM, "out of memory creating the validator");
}

ps_status ps_validator_new(const ps_validate_config *cfg, ps_validator **out, ps_error *err)
{
    ps_validator *v;
    size_t i;
    int f;
    if (out)
        *out = NULL;
    if (!cfg || !out)
        return ps_error_setf(err, PS_ERR_USAGE, "ps_validator_new: missing argument");
    v = calloc(1, sizeof *v);
    if (!v)
        return nomem(NULL, err);
    v->dataset = strdup(cfg->dataset ? cfg->dataset : "");
    if (!v->dataset)
        return nomem(v, err);
    v->dataset_len = strlen(v->dataset);
    v->profile = cfg->profile;
    for (f = 0; f < PS_FIELD_COUNT; f++) {
        v->required[f] = (unsigned char)ps_field_required(f, v->profile);
        v->order[f] = (unsigned char)field_at(f);
    }
    v->naive_zone = cfg->naive_zone;
    v->serial_zone = cfg->serial_zone;

    {
        ps_status st = set_region(v, cfg, err);
        if (st != PS_OK) {
            ps_validator_free(v);
            return st;
        }
    }

    if (cfg->n_ts_formats) {
        v->ts_formats = calloc(cfg->n_ts_formats, sizeof *v->ts_formats);
        if (!v->ts_formats)
            return nomem(v, err);
        for (i = 0; i < cfg->n_ts_formats; i++) {
            const char *fmt = cfg->ts_formats[i];
            if (!fmt || !*fmt || !format_ok(fmt)) {
                ps_status st = ps_error_setf(
                    err, PS_ERR_CONFIG,
                    "timestamp format '%s' is not valid: use %%Y %%m %%d %%H %%M %%S %%y %%b "
                    "%%B %%p %%I %%f %%z %%Z %%%% and literal characters",
                    fmt ? fmt : "");
                ps_validator_free(v);
                return st;
            }
            if (!(v->ts_formats[i] = strdup(fmt)))
                return nomem(v, err);
            v->n_ts_formats = i + 1;
        }
    }

    if (cfg->n_txtype_aliases) {
        v->aliases = calloc(cfg->n_txtype_aliases, sizeof *v->aliases);
        if (!v->aliases)
            return nomem(v, err);
        for (i = 0; i < cfg->n_txtype_aliases; i++) {
            const char *from = cfg->txtype_alias_from[i], *to = cfg->txtype_alias_to[i];
            int t = to ? ps_txtype_parse(to, strlen(to)) : -1;
            size_t kl = from ? ps_txtype_key(from, strlen(from), v->aliases[i].key,
                                             sizeof v->aliases[i].key)
                             : 0;
            if (t < 0 || kl == 0 || kl >= sizeof v->aliases[i].key) {
                ps_status st = ps_error_setf(
                    err, PS_ERR_CONFIG,
                    "transaction type alias '%s': target '%s' must be one of FULL_PAYMENT, "
                    "INSTALLMENT_PAYMENT, NON_CONTRACT_PAYMENT, DISCOUNT, REVERSAL, "
                    "ENERGY_CREDIT%s",
                    from ? from : "", to ? to : "",
                    (t >= 0) ? " (and the alias itself must be 1 to 63 characters)" : "");
                ps_validator_free(v);
                return st;
            }
            v->aliases[i].type = t;
            v->n_aliases = i + 1;
        }
    }

    for (f = 0; f < PS_FIELD_COUNT; f++) {
        const char *d = cfg->defaults[f];
        if (!d)
            continue;
        if (!(v->defaults[f] = strdup(d)))
            return nomem(v, err);
    }
    /* Check the defaults by normalising them on their own (amounts without a currency). */
    for (f = 0; f < PS_FIELD_COUNT; f++) {
        const char *s = v->defaults[f];
        size_t len;
        ps_arena *a;
        ps_record tmp;
        fprob fp;
        int rc;
        if (!s)
            continue;
        len = strlen(s);
        if (ps_utf8_check(s, len) != len) {
            ps_status st = ps_error_setf(err, PS_ERR_CONFIG, "default for %s is not valid UTF-8",
                                         ps_field_name(f));
            ps_validator_free(v);
            return st;
        }
        trim(&s, &len);
        if (len == 0) {
            free(v->defaults[f]);
            v->defaults[f] = NULL;
            continue;
        }
        memmove(v->defaults[f], s, len);
        v->defaults[f][len] = '\0';
        v->default_len[f] = len;
        if (!(a = ps_arena_create(4096)))
            return nomem(v, err);
        memset(&tmp, 0, sizeof tmp);
        rc = field_value(v, NULL, f, v->defaults[f], len, PS_CELL_TEXT, NULL, a, &tmp, &fp);
        ps_arena_destroy(a);
        if (rc != 0) {
            ps_status st = ps_error_setf(err, PS_ERR_CONFIG, "default for %s: %s", ps_field_name(f),
                                         fp.message);
            ps_validator_free(v);
            return st;
        }
    }
    v->defaults_plain = 1;
    for (f = 0; f < PS_FIELD_COUNT; f++)
        for (i = 0; i < v->default_len[f]; i++) {
            if (ps_json_must_escape((unsigned char)v->defaults[f][i]))
                v->defaults_plain = 0;
        }
    *out = v;
    return PS_OK;
}

int ps_validator_defaults_plain(const ps_validator *v)
{
    return v && v->defaults_plain;
}

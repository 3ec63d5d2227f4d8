/* gsheet: strict single-pass reader for Sheets values (ValueRange) JSON, without a tree. */
#include "gs_vjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_number.h"

typedef struct scan {
    const char *s;
    size_t len, i;
    const char *why;
    ps_gs_vrow *rows;
    size_t nrows, cap;
    int has_values, not_rows, nomem;
    size_t range_at; /* offset of the top-level "range" string value, or SIZE_MAX */
} scan;

size_t ps_gs_vjson_skip_ws(const char *s, size_t len, size_t pos)
{
    while (pos < len && (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t'))
        pos++;
    return pos;
}

static int fail(scan *sc, const char *why)
{
    if (!sc->why)
        sc->why = why;
    return -1;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1, s[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* <= U+10FFFF */
    } else
        return 0;
    if (n < need + 1 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return need + 1;
}

/* Checks the escape sequence at s[i] ('\\'); returns its length or 0 (sc->why set). */
static size_t check_escape(scan *sc, size_t i)
{
    const char *s = sc->s;
    if (i + 1 >= sc->len)
        return fail(sc, "unexpected end of input"), 0;
    switch (s[i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return 2;
    case 'u': {
        unsigned u, lo;
        if (i + 6 > sc->len)
            return fail(sc, "unexpected end of input"), 0;
        if (hex4(s + i + 2, &u) != 0)
            return fail(sc, "invalid \\u escape"), 0;
        if (u >= 0xDC00 && u <= 0xDFFF)
            return fail(sc, "invalid Unicode escape (lone low surrogate)"), 0;
        if (u < 0xD800 || u > 0xDBFF)
            return 6;
        if (i + 12 > sc->len)
            return fail(sc, i + 6 >= sc->len ? "unexpected end of input"
                                             : "invalid Unicode escape (lone high surrogate)"),
                   0;
        if (s[i + 6] != '\\' || s[i + 7] != 'u' || hex4(s + i + 8, &lo) != 0 || lo < 0xDC00 ||
            lo > 0xDFFF)
            return fail(sc, "invalid Unicode escape (lone high surrogate)"), 0;
        return 12;
    }
    default:
        return fail(sc, "invalid escape in a string"), 0;
    }
}

/* String at sc->i ('"'): validates it and moves past it. *esc says whether it had escapes. */
static int scan_string(scan *sc, int *esc)
{
    const unsigned char *s = (const unsigned char *)sc->s;
    size_t i = sc->i + 1, n = sc->len;
    *esc = 0;
    for (;;) {
        while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
            i++;
        if (i >= n) {
            sc->i = n;
            return fail(sc, "unexpected end of input");
        }
        unsigned char c = s[i];
        if (c == '"') {
            sc->i = i + 1;
            return 0;
        }
        if (c == '\\') {
            size_t k = check_escape(sc, i);
            if (!k) {
                sc->i = i;
                return -1;
            }
            *esc = 1;
            i += k;
        } else if (c < 0x20) {
            sc->i = i;
            return fail(sc, "control character in a string (must be escaped)");
        } else {
            size_t k = utf8_len(s + i, n - i);
            if (!k) {
                sc->i = i;
                return fail(sc, "invalid UTF-8 in a string");
            }
            i += k;
        }
    }
}

/* Decodes a validated string body s[b..e) (between the quotes) into out; returns length. */
static size_t unescape(const char *s, size_t b, size_t e, char *out)
{
    size_t p = 0;
    while (b < e) {
        const char *bs = memchr(s + b, '\\', e - b);
        size_t run = bs ? (size_t)(bs - (s + b)) : e - b;
        memcpy(out + p, s + b, run);
        p += run;
        b += run;
        if (b >= e)
            break;
        char c = s[b + 1];
        b += 2;
        switch (c) {
        case 'b':
            out[p++] = '\b';
            break;
        case 'f':
            out[p++] = '\f';
            break;
        case 'n':
            out[p++] = '\n';
            break;
        case 'r':
            out[p++] = '\r';
            break;
        case 't':
            out[p++] = '\t';
            break;
        case 'u': {
            unsigned u = 0, lo = 0;
            hex4(s + b, &u);
            b += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                hex4(s + b + 2, &lo);
                b += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (u < 0x80)
                out[p++] = (char)u;
            else if (u < 0x800) {
                out[p++] = (char)(0xC0 | (u >> 6));
                out[p++] = (char)(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
                out[p++] = (char)(0xE0 | (u >> 12));
                out[p++] = (char)(0x80 | ((u >> 6) & 0x3F));
                out[p++] = (char)(0x80 | (u & 0x3F));
            } else {
                out[p++] = (char)(0xF0 | (u >> 18));
                out[p++] = (char)(0x80 | ((u >> 12) & 0x3F));
                out[p++] = (char)(0x80 | ((u >> 6) & 0x3F));
                out[p++] = (char)(0x80 | (u & 0x3F));
            }
            break;
        }
        default:
            out[p++] = c;
            break; /* " \ / */
        }
    }
    out[p] = '\0';
    return p;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Number at sc->i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(scan *sc)
{
    const char *s = sc->s;
    size_t i = sc->i, n = sc->len;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return sc->i = i, fail(sc, "unexpected end of input");
    if (s[i] == '0') {
        i++;
        if (i < n && is_digit(s[i]))
            return sc->i = i, fail(sc, "invalid number (leading zero)");
    } else if (is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else
        return sc->i = i, fail(sc, "invalid number");
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n)
            return sc->i = i, fail(sc, "unexpected end of input");
        if (!is_digit(s[i]))
            return sc->i = i, fail(sc, "invalid number (no digit after '.')");
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n)
            return sc->i = i, fail(sc, "unexpected end of input");
        if (!is_digit(s[i]))
            return sc->i = i, fail(sc, "invalid number (no digit in the exponent)");
        while (i < n && is_digit(s[i]))
            i++;
    }
    sc->i = i;
    return 0;
}

static int scan_literal(scan *sc, const char *word, size_t wlen)
{
    size_t avail = sc->len - sc->i;
    size_t k = avail < wlen ? avail : wlen;
    if (memcmp(sc->s + sc->i, word, k) != 0)
        return fail(sc, "invalid literal");
    if (k < wlen) {
        sc->i = sc->len;
        return fail(sc, "unexpected end of input");
    }
    sc->i += wlen;
    return 0;
}

enum { ROLE_ANY, ROLE_TOP, ROLE_VALUES, ROLE_ROW };

static int scan_value(scan *sc, int depth, int role, uint32_t *count);

static int push_row(scan *sc, size_t off)
{
    if (sc->nrows == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 1024;
        ps_gs_vrow *nr = realloc(sc->rows, cap * sizeof *nr);
        if (!nr) {
            sc->nomem = 1;
            return fail(sc, "out of memory");
        }
        sc->rows = nr;
        sc->cap = cap;
    }
    sc->rows[sc->nrows].off = off;
    sc->rows[sc->nrows].ncells = PS_GS_ROW_NOT_LIST;
    sc->nrows++;
    return 0;
}

/* Array at sc->i ('['). role ROLE_VALUES: its elements are rows (indexed); ROLE_ROW: count
 * the elements into *count. */
static int scan_array(scan *sc, int depth, int role, uint32_t *count)
{
    sc->i++;
    uint32_t n = 0;
    sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i);
    if (sc->i < sc->len && sc->s[sc->i] == ']') {
        sc->i++;
        if (count)
            *count = 0;
        return 0;
    }
    for (;;) {
        sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i);
        if (role == ROLE_VALUES) {
            if (push_row(sc, sc->i) != 0)
                return -1;
            size_t r = sc->nrows - 1;
            uint32_t cells = PS_GS_ROW_NOT_LIST;
            if (scan_value(sc, depth + 1, ROLE_ROW, &cells) != 0)
                return -1;
            sc->rows[r].ncells = cells;
        } else if (scan_value(sc, depth + 1, ROLE_ANY, NULL) != 0)
            return -1;
        if (n < UINT32_MAX - 1)
            n++;
        sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i);
        if (sc->i >= sc->len)
            return fail(sc, "unexpected end of input");
        char c = sc->s[sc->i++];
        if (c == ']')
            break;
        if (c != ',') {
            sc->i--;
            return fail(sc, "expected ',' or ']' in an array");
        }
    }
    if (role == ROLE_ROW && count)
        *count = n;
    return 0;
}

/* Whether the validated key s[b..e) (inside the quotes) decodes to name (at most 6 bytes). */
static int key_is(const char *s, size_t b, size_t e, int esc, const char *name)
{
    size_t nl = strlen(name);
    if (!esc)
        return e - b == nl && memcmp(s + b, name, nl) == 0;
    if (e - b > 6 * 12)
        return 0;
    char buf[6 * 12 + 1];
    size_t n = unescape(s, b, e, buf);
    return n == nl && memcmp(buf, name, nl) == 0;
}

static int scan_object(scan *sc, int depth, int top)
{
    sc->i++;
    sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i);
    if (sc->i < sc->len && sc->s[sc->i] == '}') {
        sc->i++;
        return 0;
    }
    for (;;) {
        sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i);
        if (sc->i >= sc->len)
            return fail(sc, "unexpected end of input");
        if (sc->s[sc->i] != '"')
            return fail(sc, "expected a string as an object key");
        size_t kb = sc->i + 1;
        int esc;
        if (scan_string(sc, &esc) != 0)
            return -1;
        int is_values = top && key_is(sc->s, kb, sc->i - 1, esc, "values");
        int is_range = top && key_is(sc->s, kb, sc->i - 1, esc, "range");
        sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i);
        if (sc->i >= sc->len)
            return fail(sc, "unexpected end of input");
        if (sc->s[sc->i] != ':')
            return fail(sc, "expected ':' after an object key");
        sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i + 1);
        if (is_values) {
            /* a repeated key: the last one counts (as jansson did) */
            sc->nrows = 0;
            sc->has_values = 1;
            sc->not_rows = !(sc->i < sc->len && sc->s[sc->i] == '[');
            if (scan_value(sc, depth + 1, sc->not_rows ? ROLE_ANY : ROLE_VALUES, NULL) != 0)
                return -1;
        } else {
            /* a repeated key: the last one counts */
            if (is_range)
                sc->range_at = sc->i < sc->len && sc->s[sc->i] == '"' ? sc->i : SIZE_MAX;
            if (scan_value(sc, depth + 1, ROLE_ANY, NULL) != 0)
                return -1;
        }
        sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i);
        if (sc->i >= sc->len)
            return fail(sc, "unexpected end of input");
        char c = sc->s[sc->i++];
        if (c == '}')
            return 0;
        if (c != ',') {
            sc->i--;
            return fail(sc, "expected ',' or '}' in an object");
        }
    }
}

static int scan_value(scan *sc, int depth, int role, uint32_t *count)
{
    if (depth > PS_GS_VJSON_MAX_DEPTH)
        return fail(sc, "nesting too deep");
    sc->i = ps_gs_vjson_skip_ws(sc->s, sc->len, sc->i);
    if (sc->i >= sc->len)
        return fail(sc, "unexpected end of input");
    int esc;
    switch (sc->s[sc->i]) {
    case '{':
        return scan_object(sc, depth, role == ROLE_TOP);
    case '[':
        return scan_array(sc, depth, role == ROLE_TOP ? ROLE_ANY : role, count);
    case '"':
        return scan_string(sc, &esc);
    case 't':
        return scan_literal(sc, "true", 4);
    case 'f':
        return scan_literal(sc, "false", 5);
    case 'n':
        return scan_literal(sc, "null", 4);
    default:
        if (sc->s[sc->i] == '-' || is_digit(sc->s[sc->i]))
            return scan_number(sc);
        return fail(sc, "unexpected character");
    }
}

ps_gs_vjson_result ps_gs_vjson_index(const char *s, size_t len, ps_gs_vrow **rows, size_t *nrows,
                                     int *has_values, size_t *range_at, char *why, size_t whysize,
                                     size_t *at)
{
    scan sc;
    memset(&sc, 0, sizeof sc);
    sc.s = s;
    sc.len = len;
    sc.range_at = SIZE_MAX;
    *range_at = SIZE_MAX;
    *rows = NULL;
    *nrows = 0;
    *has_values = 0;
    sc.i = ps_gs_vjson_skip_ws(s, len, 0);
    int rc;
    if (sc.i < len && s[sc.i] != '{')
        rc = fail(&sc, "the top level is not an object");
    else
        rc = scan_value(&sc, 1, ROLE_TOP, NULL);
    if (rc == 0) {
        sc.i = ps_gs_vjson_skip_ws(s, len, sc.i);
        if (sc.i < len)
            rc = fail(&sc, "data after the end of the JSON value");
    }
    if (rc != 0) {
        free(sc.rows);
        if (sc.nomem)
            return PS_GS_VJSON_NOMEM;
        snprintf(why, whysize, "%s", sc.why);
        *at = sc.i;
        return PS_GS_VJSON_SYNTAX;
    }
    *has_values = sc.has_values;
    *range_at = sc.range_at;
    if (sc.not_rows) {
        free(sc.rows);
        return PS_GS_VJSON_NOT_ROWS;
    }
    if (sc.nrows == 0) {
        free(sc.rows);
        sc.rows = NULL;
    }
    *rows = sc.rows;
    *nrows = sc.nrows;
    return PS_GS_VJSON_OK;
}

static int set_text(const ps_host *host, ps_arena *arena, const char *t, size_t n, uint8_t kind,
                    ps_cell *out)
{
    char *c = host->arena_strndup(arena, t, n);
    if (!c)
        return PS_GS_CELL_NOMEM;
    out->text = c;
    out->len = (uint32_t)n;
    out->kind = kind;
    return PS_GS_CELL_OK;
}

int ps_gs_vjson_cell(const ps_host *host, ps_arena *arena, const char *s, size_t len, size_t *pos,
                     ps_cell *out)
{
    size_t i = *pos;
    if (i >= len)
        return PS_GS_CELL_BAD;
    char c = s[i];
    if (c == '"') {
        size_t b = i + 1, e = b;
        int esc = 0;
        for (;;) { /* the string is valid: find its closing quote */
            while (e < len && s[e] != '"' && s[e] != '\\')
                e++;
            if (e >= len)
                return PS_GS_CELL_BAD;
            if (s[e] == '"')
                break;
            esc = 1;
            e += 2;
        }
        *pos = e + 1;
        if (!esc)
            return set_text(host, arena, s + b, e - b, PS_CELL_TEXT, out);
        /* decoded text is never longer than the escaped form */
        char *t = host->arena_alloc(arena, e - b + 1);
        if (!t)
            return PS_GS_CELL_NOMEM;
        size_t n = unescape(s, b, e, t);
        out->text = t;
        out->len = (uint32_t)n;
        out->kind = PS_CELL_TEXT;
        return PS_GS_CELL_OK;
    }
    if (c == '-' || is_digit(c)) {
        size_t e = i + 1;
        int point = 0, exp = 0;
        while (e < len && (is_digit(s[e]) || s[e] == '.' || s[e] == 'e' || s[e] == 'E' ||
                           s[e] == '+' || s[e] == '-')) {
            point |= s[e] == '.';
            exp |= s[e] == 'e' || s[e] == 'E';
            e++;
        }
        *pos = e;
        /* what Google writes ("1500", "2348012345678", "45356.5935300926") is already in its
         * final form: no exponent, no trailing fraction zero, not -0 */
        if (!exp && !(point && s[e - 1] == '0') && !(c == '-' && e - i == 2 && s[i + 1] == '0') &&
            e - i < PS_GS_NUM_MAX)
            return set_text(host, arena, s + i, e - i, PS_CELL_NUMBER, out);
        size_t n = ps_gs_number_plain(s + i, e - i, NULL, 0);
        if (!n)
            return PS_GS_CELL_HUGE;
        char *t = host->arena_alloc(arena, n + 1);
        if (!t)
            return PS_GS_CELL_NOMEM;
        ps_gs_number_plain(s + i, e - i, t, n);
        out->text = t;
        out->len = (uint32_t)n;
        out->kind = PS_CELL_NUMBER;
        return PS_GS_CELL_OK;
    }
    if (c == 't' && len - i >= 4 && memcmp(s + i, "true", 4) == 0) {
        *pos = i + 4;
        return set_text(host, arena, "TRUE", 4, PS_CELL_BOOL, out);
    }
    if (c == 'f' && len - i >= 5 && memcmp(s + i, "false", 5) == 0) {
        *pos = i + 5;
        return set_text(host, arena, "FALSE", 5, PS_CELL_BOOL, out);
    }
    if (c == 'n' && len - i >= 4 && memcmp(s + i, "null", 4) == 0) {
        *pos = i + 4;
        return set_text(host, arena, "", 0, PS_CELL_TEXT, out);
    }
    if (c == '[' || c == '{')
        return PS_GS_CELL_NOT_SCALAR;
    return PS_GS_CELL_BAD;
}

size_t ps_gs_vjson_string(const char *s, size_t len, size_t pos, char *out, size_t cap)
{
    if (pos >= len || s[pos] != '"' || cap == 0)
        return SIZE_MAX;
    size_t b = pos + 1, e = b;
    for (;;) { /* the string is valid: find its closing quote */
        while (e < len && s[e] != '"' && s[e] != '\\')
            e++;
        if (e >= len)
            return SIZE_MAX;
        if (s[e] == '"')
            break;
        e += 2;
    }
    if (e - b + 1 > cap) /* decoded text is never longer than the escaped form */
        return SIZE_MAX;
    return unescape(s, b, e, out);
}

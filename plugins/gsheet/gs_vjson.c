/* gsheet: strict single-pass reader for Sheets values (ValueRange) JSON, without a tree. */
#include "gs_vjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_number.h"
#include "json_lex.h"

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
    return ps_jlex_skip_ws(s, len, pos);
}

static int fail(scan *sc, const char *why)
{
    if (!sc->why)
        sc->why = why;
    return -1;
}

/* A token checked by json_lex: end (0 = error: *why and *at, read after the call that set
 * them) becomes sc->i. */
static int took(scan *sc, size_t end, const char *const *why, const size_t *at)
{
    if (!end) {
        sc->i = *at;
        return fail(sc, *why);
    }
    sc->i = end;
    return 0;
}

/* String at sc->i ('"'): validates it and moves past it. *esc says whether it had escapes. */
static int scan_string(scan *sc, int *esc)
{
    const char *why = NULL;
    size_t at = 0;
    return took(sc, ps_jlex_string(sc->s, sc->len, sc->i, esc, &why, &at), &why, &at);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
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
    size_t n = ps_jlex_unescape(s, b, e, buf);
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
    const char *why = NULL;
    size_t at = 0;
    switch (sc->s[sc->i]) {
    case '{':
        return scan_object(sc, depth, role == ROLE_TOP);
    case '[':
        return scan_array(sc, depth, role == ROLE_TOP ? ROLE_ANY : role, count);
    case '"':
        return scan_string(sc, &esc);
    case 't':
        return took(sc, ps_jlex_literal(sc->s, sc->len, sc->i, "true", &why, &at), &why, &at);
    case 'f':
        return took(sc, ps_jlex_literal(sc->s, sc->len, sc->i, "false", &why, &at), &why, &at);
    case 'n':
        return took(sc, ps_jlex_literal(sc->s, sc->len, sc->i, "null", &why, &at), &why, &at);
    default:
        if (sc->s[sc->i] == '-' || is_digit(sc->s[sc->i]))
            return took(sc, ps_jlex_number(sc->s, sc->len, sc->i, &why, &at), &why, &at);
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
        size_t b = i + 1;
        int esc;
        size_t e = ps_jlex_string_close(s, len, i, &esc); /* the string is valid */
        if (e >= len)
            return PS_GS_CELL_BAD;
        *pos = e + 1;
        if (!esc)
            return set_text(host, arena, s + b, e - b, PS_CELL_TEXT, out);
        /* decoded text is never longer than the escaped form */
        char *t = host->arena_alloc(arena, e - b + 1);
        if (!t)
            return PS_GS_CELL_NOMEM;
        size_t n = ps_jlex_unescape(s, b, e, t);
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
    size_t b = pos + 1;
    int esc;
    size_t e = ps_jlex_string_close(s, len, pos, &esc); /* the string is valid */
    if (e >= len)
        return SIZE_MAX;
    if (e - b + 1 > cap) /* decoded text is never longer than the escaped form */
        return SIZE_MAX;
    return ps_jlex_unescape(s, b, e, out);
}

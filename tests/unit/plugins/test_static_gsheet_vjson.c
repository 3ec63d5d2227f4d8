/* Unit tests: the gsheet values JSON reader (gs_vjson.c) through the page API (gs_values.h):
 * cell decoding (escapes, surrogate pairs, numbers rewritten as plain decimal without a
 * double, literals), invalid JSON with its reason and byte offset, the ValueRange shape
 * (missing/odd `values`, ragged and non-list rows, non-scalar cells) and huge numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../plugins/gsheet/gs_number.h"
#include "../../../plugins/gsheet/gs_values.h"
#include "../../../plugins/gsheet/gs_vjson.h"
#include "util/arena.h"

static ps_host g_host;

static int setup(void **state)
{
    (void)state;
    memset(&g_host, 0, sizeof g_host);
    g_host.arena_alloc = ps_arena_alloc;
    g_host.arena_strndup = ps_arena_strndup;
    return 0;
}

/* body -> page; the body is copied into an exactly-sized heap buffer (no NUL after it) */
static ps_status page_of(ps_gs_page *p, const char *json, size_t len, int *syntax, ps_error *err)
{
    char *body = malloc(len ? len : 1);
    assert_non_null(body);
    memcpy(body, json, len);
    return ps_gs_page_parse(p, body, len, 10, "Sheet1!A10:U", syntax, err);
}

typedef struct cell_case {
    const char *json; /* one cell as JSON text */
    const char *text; /* expected text */
    size_t len;       /* expected length (0 = strlen(text)) */
    int kind;
} cell_case;

static const cell_case cell_cases[] = {
    /* strings */
    {"\"plain\"", "plain", 0, PS_CELL_TEXT},
    {"\"\"", "", 0, PS_CELL_TEXT},
    {"\"0803\"", "0803", 0, PS_CELL_TEXT}, /* leading zeros in strings kept */
    {"\"007.50\"", "007.50", 0, PS_CELL_TEXT},
    {"\"1.2E7\"", "1.2E7", 0, PS_CELL_TEXT}, /* a string that looks like a number stays */
    {"\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 0, PS_CELL_TEXT},
    {"\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 0, PS_CELL_TEXT},
    {"\"\\u0041BC\"", "ABC", 0, PS_CELL_TEXT},
    {"\"caf\\u00e9\"", "caf\xc3\xa9", 0, PS_CELL_TEXT},
    {"\"\\u20AC 5\"", "\xe2\x82\xac 5", 0, PS_CELL_TEXT},
    {"\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!", 0, PS_CELL_TEXT}, /* surrogate pair */
    {"\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 0, PS_CELL_TEXT},   /* U+10FFFF */
    {"\"\xe1\xbb\x8c\xcc\x80 \xf0\x9f\x98\x80\"", "\xe1\xbb\x8c\xcc\x80 \xf0\x9f\x98\x80", 0,
     PS_CELL_TEXT}, /* raw UTF-8 as is */
    {"\"x\\u007f\\u0080\\u07ff\\u0800\\uffff\"", "x\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", 0,
     PS_CELL_TEXT},
    /* numbers: plain decimal kept, exponents applied textually, same integer rules */
    {"45356.5935300926", "45356.5935300926", 0, PS_CELL_NUMBER},
    {"2348012345678", "2348012345678", 0, PS_CELL_NUMBER},
    {"-7", "-7", 0, PS_CELL_NUMBER},
    {"0", "0", 0, PS_CELL_NUMBER},
    {"-0", "0", 0, PS_CELL_NUMBER},
    {"-0.0", "0", 0, PS_CELL_NUMBER},
    {"0.1", "0.1", 0, PS_CELL_NUMBER},
    {"3.0", "3", 0, PS_CELL_NUMBER},
    {"2.50", "2.5", 0, PS_CELL_NUMBER},
    {"1500.5", "1500.5", 0, PS_CELL_NUMBER},
    {"1.2E7", "12000000", 0, PS_CELL_NUMBER},
    {"1.5E-5", "0.000015", 0, PS_CELL_NUMBER},
    {"1e-7", "0.0000001", 0, PS_CELL_NUMBER},
    {"1E+2", "100", 0, PS_CELL_NUMBER},
    {"1e0", "1", 0, PS_CELL_NUMBER},
    {"-1.25e1", "-12.5", 0, PS_CELL_NUMBER},
    {"12345e-2", "123.45", 0, PS_CELL_NUMBER},
    {"100e-2", "1", 0, PS_CELL_NUMBER},
    {"5e-1", "0.5", 0, PS_CELL_NUMBER},
    {"0.00e5", "0", 0, PS_CELL_NUMBER},
    {"-0e-3", "0", 0, PS_CELL_NUMBER},
    {"2.348012345678E12", "2348012345678", 0, PS_CELL_NUMBER},
    {"4.53565935300926E4", "45356.5935300926", 0, PS_CELL_NUMBER},
    /* huge numbers: exact digits, never through a double */
    {"123456789012345678901234567890", "123456789012345678901234567890", 0, PS_CELL_NUMBER},
    {"-9223372036854775809", "-9223372036854775809", 0, PS_CELL_NUMBER},
    {"0.1000000000000000055511151231257827", "0.1000000000000000055511151231257827", 0,
     PS_CELL_NUMBER},
    {"1.5E20", "150000000000000000000", 0, PS_CELL_NUMBER},
    /* a NUL inside text is kept (len 3): the core rejects the row as bad_text */
    {"\"a\\u0000b\"", "a\0b", 3, PS_CELL_TEXT},
    /* literals */
    {"true", "TRUE", 0, PS_CELL_BOOL},
    {"false", "FALSE", 0, PS_CELL_BOOL},
    {"null", "", 0, PS_CELL_TEXT},
};

static void test_cells_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cell_cases / sizeof *cell_cases; i++) {
        const cell_case *c = &cell_cases[i];
        char json[256];
        int w = snprintf(json, sizeof json, "{\"values\": [[ %s , \"next\"]]}", c->json);
        ps_gs_page p;
        int syntax = -1;
        ps_error err = {0};
        if (page_of(&p, json, (size_t)w, &syntax, &err) != PS_OK) {
            print_error("case %zu (%s): %s\n", i, c->json, err.message);
            fail();
        }
        assert_int_equal(p.nrows, 1);
        assert_int_equal(ps_gs_page_row_width(&p, 0), 2);
        ps_arena *a = ps_arena_create(0);
        ps_cell *cells;
        uint32_t n;
        assert_int_equal(ps_gs_page_row(&g_host, a, &p, 0, 0, 10, &cells, &n, &err), PS_OK);
        assert_int_equal(n, 2);
        size_t len = c->len ? c->len : strlen(c->text);
        if (cells[0].len != len || memcmp(cells[0].text, c->text, len) != 0 ||
            cells[0].kind != c->kind) {
            print_error("case %zu (%s): got '%s' (%u, kind %d)\n", i, c->json, cells[0].text,
                        cells[0].len, cells[0].kind);
            fail();
        }
        assert_int_equal(cells[0].text[len], '\0');
        assert_string_equal(cells[1].text, "next");
        ps_arena_destroy(a);
        ps_gs_page_free(&p);
    }
}

typedef struct bad_case {
    const char *json;
    size_t len;      /* 0 = strlen */
    const char *why; /* expected reason */
    long at;         /* expected byte offset, -1 = do not check */
} bad_case;

static const bad_case bad_cases[] = {
    {"", 0, "unexpected end of input", 0},
    {"   ", 0, "unexpected end of input", 3},
    {"{\"values\": [[1, 2]", 0, "unexpected end of input", 18},   /* truncated */
    {"{\"values\": [[\"abc", 0, "unexpected end of input", 17},   /* inside a string */
    {"{\"values\": [[\"a\\", 0, "unexpected end of input", -1},   /* inside an escape */
    {"{\"values\": [[\"\\u12", 0, "unexpected end of input", -1}, /* inside \u */
    {"{\"values\": [[1.", 0, "unexpected end of input", -1},
    {"{\"values\": [[tr", 0, "unexpected end of input", -1},
    {"{\"values\": [[-", 0, "unexpected end of input", -1},
    {"{\"values\"", 0, "unexpected end of input", -1},
    {"{\"values\":", 0, "unexpected end of input", -1},
    {"{\"values\": [[\"a\\x\"]]}", 0, "invalid escape in a string", 15},
    {"{\"values\": [[\"\\u12G4\"]]}", 0, "invalid \\u escape", 14},
    {"{\"values\": [[\"\\ud83d\"]]}", 0, "lone high surrogate", -1},
    {"{\"values\": [[\"\\ud83d\\u0041\"]]}", 0, "lone high surrogate", -1},
    {"{\"values\": [[\"\\ude00\"]]}", 0, "lone low surrogate", -1},
    {"{\"values\": [[\"a\tb\"]]}", 0, "control character", 15},
    {"{\"values\": [[\"a\nb\"]]}", 0, "control character", -1},
    {"{\"values\": [[\"\xff\"]]}", 0, "invalid UTF-8", 14},
    {"{\"values\": [[\"\xc0\xaf\"]]}", 0, "invalid UTF-8", -1},         /* overlong */
    {"{\"values\": [[\"\xed\xa0\x80\"]]}", 0, "invalid UTF-8", -1},     /* encoded surrogate */
    {"{\"values\": [[\"\xe2\x82\"]]}", 0, "invalid UTF-8", -1},         /* cut sequence */
    {"{\"values\": [[\"\xf4\x90\x80\x80\"]]}", 0, "invalid UTF-8", -1}, /* > U+10FFFF */
    {"{\"values\": [[01]]}", 0, "leading zero", -1},
    {"{\"values\": [[1.]]}", 0, "no digit after '.'", -1},
    {"{\"values\": [[1e]]}", 0, "no digit in the exponent", -1},
    {"{\"values\": [[1e+]]}", 0, "no digit in the exponent", -1},
    {"{\"values\": [[-x]]}", 0, "invalid number", -1},
    {"{\"values\": [[.5]]}", 0, "unexpected character", 13},
    {"{\"values\": [[+1]]}", 0, "unexpected character", -1},
    {"{\"values\": [[NaN]]}", 0, "unexpected character", -1},
    {"{\"values\": [[tru]]}", 0, "invalid literal", -1},
    {"{\"values\": [[nul]]}", 0, "invalid literal", -1},
    {"{\"values\": [[True]]}", 0, "unexpected character", -1},
    {"{\"values\": [[1 2]]}", 0, "expected ',' or ']'", 15},
    {"{\"values\": [[1,]]}", 0, "unexpected character", -1},
    {"{\"values\": [[1]],}", 0, "expected a string as an object key", -1},
    {"{\"values\" [[1]]}", 0, "expected ':'", 10},
    {"{1: 2}", 0, "expected a string as an object key", 1},
    {"{\"a\": 1 \"b\": 2}", 0, "expected ',' or '}'", 8},
    {"{\"values\": [[1]]}}", 0, "data after the end", 17},
    {"{\"values\": [[1]]} x", 0, "data after the end", 18},
    {"{} {}", 0, "data after the end", 3},
    {"[[1]]", 0, "the top level is not an object", 0},
    {"\"values\"", 0, "the top level is not an object", 0},
    {"42", 0, "the top level is not an object", 0},
    {"{\"values\": [[1]]}\0", 18, "data after the end", 17}, /* a NUL is not whitespace */
    {"{\"values\": [[\"a\0b\"]]}", 20, "control character", 15},
};

static void test_invalid_json_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        const bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->json);
        ps_gs_page p;
        int syntax = 0;
        ps_error err = {0};
        ps_status st = page_of(&p, c->json, len, &syntax, &err);
        char want[160], at[64];
        snprintf(want, sizeof want, "(%s", c->why);
        snprintf(at, sizeof at, " at byte %ld)", c->at);
        if (st != PS_ERR_SOURCE || syntax != 1 ||
            !strstr(err.message, "Sheet1!A10:U: Google's answer is not valid JSON") ||
            !strstr(err.message, want) || (c->at >= 0 && !strstr(err.message, at)) ||
            !strstr(err.message, "cut short or corrupted")) {
            print_error("case %zu (%s): st %d syntax %d: %s (want %s)\n", i, c->json, st, syntax,
                        err.message, want);
            fail();
        }
        assert_null(p.body);
        assert_int_equal(p.nrows, 0);
    }
}

static void test_nesting(void **state)
{
    (void)state;
    /* deep but within the limit: valid JSON (a cell that is not a scalar, found later) */
    enum { DEEP = PS_GS_VJSON_MAX_DEPTH + 5 };
    char *s = malloc(2 * DEEP + 32);
    assert_non_null(s);
    for (int depth = PS_GS_VJSON_MAX_DEPTH - 3; depth <= DEEP; depth += 8) {
        size_t n = 0;
        n += (size_t)sprintf(s, "{\"values\": ");
        for (int k = 0; k < depth - 1; k++)
            s[n++] = '[';
        for (int k = 0; k < depth - 1; k++)
            s[n++] = ']';
        s[n++] = '}';
        ps_gs_page p;
        int syntax = 0;
        ps_error err = {0};
        ps_status st = page_of(&p, s, n, &syntax, &err);
        if (depth <= PS_GS_VJSON_MAX_DEPTH) {
            assert_int_equal(st, PS_OK);
            assert_int_equal(p.nrows, 1);
            ps_arena *a = ps_arena_create(0);
            ps_cell *cells;
            uint32_t nc;
            assert_int_equal(ps_gs_page_row(&g_host, a, &p, 0, 0, 10, &cells, &nc, &err),
                             PS_ERR_SOURCE);
            assert_non_null(strstr(err.message, "row 10, column 1: Google sent a cell that is "
                                                "not text, a number or a boolean"));
            ps_arena_destroy(a);
            ps_gs_page_free(&p);
        } else {
            assert_int_equal(st, PS_ERR_SOURCE);
            assert_int_equal(syntax, 1);
            assert_non_null(strstr(err.message, "(nesting too deep at byte"));
        }
    }
    free(s);
}

typedef struct shape_case {
    const char *json;
    size_t nrows;
    const char *widths; /* per row: digit = cells, '-' = not a list */
} shape_case;

static const shape_case shape_cases[] = {
    {"{\"range\": \"Sheet1!A1:C1000\", \"majorDimension\": \"ROWS\"}", 0, ""}, /* no values */
    {"{}", 0, ""},
    {"{\"values\": []}", 0, ""},
    {" \t\r\n{ \"values\" : [ [ 1 , \"a\" ] ,\n [ ] ] } \n", 2, "20"},
    {"{\"values\": [[\"a\"], [], [1, 2, 3], \"x\", {\"a\": 1}, null, 5]}", 7, "103----"},
    {"{\"values\": [[1]], \"values\": [[1, 2], [3]]}", 2, "21"}, /* repeated: the last */
    {"{\"values\": [[1]], \"values\": []}", 0, ""},
    {"{\"\\u0076alues\": [[1, 2, 3]]}", 1, "3"},                           /* escaped key */
    {"{\"other\": {\"values\": [[1]]}, \"x\": [{\"values\": 1}]}", 0, ""}, /* nested: ignored */
    {"{\"Values\": [[1]]}", 0, ""},
    {"{\"valuesX\": [[1]]}", 0, ""},
    {"{\"range\": \"A1\", \"values\": [[[1], {}], [\"\\\"]\"]]}", 2, "21"},
};

static void test_shape_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof shape_cases / sizeof *shape_cases; i++) {
        const shape_case *c = &shape_cases[i];
        ps_gs_page p;
        int syntax = 0;
        ps_error err = {0};
        if (page_of(&p, c->json, strlen(c->json), &syntax, &err) != PS_OK) {
            print_error("case %zu: %s\n", i, err.message);
            fail();
        }
        assert_int_equal(p.nrows, c->nrows);
        assert_int_equal(p.first_row, 10);
        for (size_t r = 0; r < p.nrows; r++) {
            if (c->widths[r] == '-')
                assert_int_equal(p.rows[r].ncells, PS_GS_ROW_NOT_LIST);
            else
                assert_int_equal(ps_gs_page_row_width(&p, r), (size_t)(c->widths[r] - '0'));
        }
        ps_gs_page_free(&p);
        assert_null(p.body);
    }
}

static void test_values_not_rows(void **state)
{
    (void)state;
    static const char *const bad[] = {"{\"values\": \"x\"}", "{\"values\": null}",
                                      "{\"values\": {\"a\": [1]}}", "{\"values\": 3}",
                                      "{\"values\": [[1]], \"values\": true}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ps_gs_page p;
        int syntax = -1;
        ps_error err = {0};
        assert_int_equal(page_of(&p, bad[i], strlen(bad[i]), &syntax, &err), PS_ERR_SOURCE);
        assert_int_equal(syntax, 0); /* not retried: Google meant it */
        assert_string_equal(err.message,
                            "Google's values answer has a 'values' that is not a list of rows");
    }
    /* invalid JSON wins over the shape, as with jansson */
    ps_gs_page p;
    int syntax = 0;
    ps_error err = {0};
    assert_int_equal(page_of(&p, "{\"values\": \"x\"", 14, &syntax, &err), PS_ERR_SOURCE);
    assert_int_equal(syntax, 1);
}

static void test_row_errors(void **state)
{
    (void)state;
    static const char json[] = "{\"values\": [[\"a\", 1e400], \"x\", [1, [2]], [{\"k\": 1}], "
                               "[1e-100000000000], [\"ok\", 2.5e-1], [], null]}";
    ps_gs_page p;
    int syntax = 0;
    ps_error err = {0};
    assert_int_equal(page_of(&p, json, strlen(json), &syntax, &err), PS_OK);
    assert_int_equal(p.nrows, 8);
    static const char *const want[] = {
        "row 10, column 2: Google sent a number too long to write out in full (more than 399 "
        "characters)",
        "row 11: Google sent a row that is not a list",
        "row 12, column 2: Google sent a cell that is not text, a number or a boolean",
        "row 13, column 1: Google sent a cell that is not text, a number or a boolean",
        "row 14, column 1: Google sent a number too long to write out in full",
        NULL,
        NULL,
        "row 17: Google sent a row that is not a list",
    };
    ps_arena *a = ps_arena_create(0);
    for (size_t r = 0; r < p.nrows; r++) {
        ps_cell *cells = NULL;
        uint32_t n = 0;
        memset(&err, 0, sizeof err);
        ps_status st = ps_gs_page_row(&g_host, a, &p, r, 3, 10 + r, &cells, &n, &err);
        if (!want[r]) {
            assert_int_equal(st, PS_OK);
            assert_int_equal(n, 3); /* padded to min_width */
            assert_string_equal(cells[2].text, "");
            if (r == 5) {
                assert_string_equal(cells[0].text, "ok");
                assert_string_equal(cells[1].text, "0.25");
            }
            continue;
        }
        assert_int_equal(st, PS_ERR_SOURCE);
        if (!strstr(err.message, want[r])) {
            print_error("row %zu: %s\n", r, err.message);
            fail();
        }
    }
    /* out of range index */
    ps_cell *cells;
    uint32_t n;
    assert_int_equal(ps_gs_page_row(&g_host, a, &p, 99, 0, 5, &cells, &n, &err), PS_ERR_SOURCE);
    assert_int_equal(ps_gs_page_row_width(&p, 99), 0);
    ps_arena_destroy(a);
    ps_gs_page_free(&p);
}

typedef struct plain_case {
    const char *lit;
    const char *want; /* NULL = refused (0) */
} plain_case;

static const plain_case plain_cases[] = {
    {"0", "0"},
    {"-0", "0"},
    {"10", "10"},
    {"1.10", "1.1"},
    {"1.2E7", "12000000"},
    {"1.2e-0", "1.2"},
    {"0.012e2", "1.2"},
    {"0.012e1", "0.12"},
    {"0.012e5", "1200"},
    {"-123.456e-5", "-0.00123456"},
    {"9e399", NULL},  /* 400 digits: too long */
    {"-1e398", NULL}, /* 400 characters with the sign */
    {"1e-400", NULL},
    {"1e99999999999999999999", NULL},
    {"", NULL},
    {"-", NULL},
    {"1.", NULL},
    {"1e", NULL},
    {"1x", NULL},
    {".5", NULL},
};

static void test_number_plain(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof plain_cases / sizeof *plain_cases; i++) {
        const plain_case *c = &plain_cases[i];
        char out[PS_GS_NUM_MAX];
        size_t need = ps_gs_number_plain(c->lit, strlen(c->lit), NULL, 0);
        size_t n = ps_gs_number_plain(c->lit, strlen(c->lit), out, sizeof out - 1);
        if (!c->want) {
            assert_int_equal(need, 0);
            assert_int_equal(n, 0);
            continue;
        }
        assert_int_equal(need, strlen(c->want));
        assert_int_equal(n, need);
        assert_string_equal(out, c->want);
        /* too small a buffer is refused, not overrun */
        assert_int_equal(ps_gs_number_plain(c->lit, strlen(c->lit), out, need - 1), 0);
    }
    /* the longest accepted: 399 characters */
    char out[PS_GS_NUM_MAX];
    assert_int_equal(ps_gs_number_plain("1e398", 5, out, sizeof out - 1), 399);
    assert_int_equal(out[0], '1');
    assert_int_equal(out[398], '0');
    assert_int_equal(ps_gs_number_plain("1e399", 5, out, sizeof out - 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells_table),     cmocka_unit_test(test_invalid_json_table),
        cmocka_unit_test(test_nesting),         cmocka_unit_test(test_shape_table),
        cmocka_unit_test(test_values_not_rows), cmocka_unit_test(test_row_errors),
        cmocka_unit_test(test_number_plain),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

/* Unit tests: the one whitespace rule (core/src/model/space.h) and column references
 * (ps_column_ref, core/src/model/model_fields.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/model_fields.h"
#include "model/space.h"

/* UTF-8 of code point u into out; returns its length. */
static size_t utf8(unsigned u, char *out)
{
    if (u < 0x80) {
        out[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (char)(0xC0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (u >> 12));
    out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
    out[2] = (char)(0x80 | (u & 0x3F));
    return 3;
}

/* Unicode 15 PropList.txt, White_Space. */
static int white_space(unsigned u)
{
    return (u >= 0x09 && u <= 0x0D) || u == 0x20 || u == 0x85 || u == 0xA0 || u == 0x1680 ||
           (u >= 0x2000 && u <= 0x200A) || u == 0x2028 || u == 0x2029 || u == 0x202F ||
           u == 0x205F || u == 0x3000;
}

/* Every code point of the Basic Multilingual Plane (outside surrogates): lead, trail and
 * blank agree with the property, alone and around a letter. */
static void test_every_bmp_code_point(void **state)
{
    (void)state;
    for (unsigned u = 1; u < 0x10000; u++) {
        if (u >= 0xD800 && u <= 0xDFFF)
            continue;
        char b[8];
        size_t n = utf8(u, b);
        int ws = white_space(u);
        if ((ps_space_lead(b, n) == n) != ws || (ps_space_trail(b, n) == n) != ws ||
            ps_text_is_blank(b, n) != ws) {
            print_error("U+%04X: lead %zu trail %zu blank %d, White_Space %d\n", u,
                        ps_space_lead(b, n), ps_space_trail(b, n), ps_text_is_blank(b, n), ws);
            fail();
        }
        char t[16];
        memcpy(t, b, n);
        t[n] = 'x';
        memcpy(t + n + 1, b, n);
        const char *s = t;
        size_t len = 2 * n + 1;
        ps_space_trim(&s, &len);
        if (ws ? (len != 1 || *s != 'x') : len != 2 * n + 1) {
            print_error("U+%04X: trim left %zu bytes\n", u, len);
            fail();
        }
    }
}

static void test_blank_texts(void **state)
{
    (void)state;
    assert_true(ps_text_is_blank("", 0));
    assert_true(ps_text_is_blank("\xc2\xa0\xc2\xa0", 4));      /* no-break spaces */
    assert_true(ps_text_is_blank("\v", 1));                    /* the reproduction */
    assert_true(ps_text_is_blank(" \t\r\n\f\xe3\x80\x80", 8)); /* ideographic space */
    assert_false(ps_text_is_blank("\xe2\x80\x8b", 3));         /* U+200B is not */
    assert_false(ps_text_is_blank("\xef\xbb\xbf", 3));         /* nor U+FEFF */
    assert_false(ps_text_is_blank(" \0 ", 3));                 /* a NUL is text */
    assert_false(ps_text_is_blank("\xc2", 1));                 /* cut sequence */
    assert_false(ps_text_is_blank("\xe2\x80", 2));
    assert_int_equal(ps_space_trail("a\xc2", 2), 0); /* no overread at the start */
    assert_int_equal(ps_space_trail("\xa0", 1), 0);  /* lone continuation byte */
}

static void test_column_refs(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        int rc;
        size_t index;
    } cases[] = {
        {"@A", 1, 0},         {"@d", 1, 3},       {"@Z", 1, 25},       {"@AA", 1, 26},
        {"@aZ", 1, 51},       {"@ZZZ", 1, 18277}, {"@1", 1, 0},        {"@4", 1, 3},
        {"@18278", 1, 18277}, {"Amount", 0, 0},   {"@@x", 0, 0},       {"@@D", 0, 0},
        {"", 0, 0},           {"/a/b", 0, 0},     {"@", -1, 0},        {"@0", -1, 0},
        {"@18279", -1, 0},    {"@AAAA", -1, 0},   {"@4D", -1, 0},      {"@D4", -1, 0},
        {"@ D", -1, 0},       {"@-1", -1, 0},     {"@1234567", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t idx = 99999;
        int rc = ps_column_ref(cases[i].key, &idx);
        if (rc != cases[i].rc || (rc == 1 && idx != cases[i].index)) {
            print_error("'%s': rc %d index %zu\n", cases[i].key, rc, idx);
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_bmp_code_point),
        cmocka_unit_test(test_blank_texts),
        cmocka_unit_test(test_column_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

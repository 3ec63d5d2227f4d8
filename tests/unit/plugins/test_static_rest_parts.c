/* Unit tests: the rest provider's parts: the bounded JSON parser (exact number text, escapes,
 * surrogate pairs, every error with its reason and byte offset, the depth limit), JSON
 * pointers, ISO 8601 times with offsets and impossible dates, durations, templates (unknown
 * variables, percent-encoding) and the YAML reader (aliases, duplicate keys, line numbers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../plugins/rest/rs_json.h"
#include "../../../plugins/rest/rs_time.h"
#include "../../../plugins/rest/rs_tmpl.h"
#include "../../../plugins/rest/rs_yaml.h"

static rs_node *parse(rs_pool *p, const char *s, char *why, size_t cap)
{
    return rs_json_parse(p, s, strlen(s), why, cap);
}

static void test_exact_numbers(void **state)
{
    (void)state;
    rs_pool *p = rs_pool_new();
    char why[200];
    rs_node *r = parse(p,
                       "{\"a\": 1500.50, \"b\": \"1500.50\", \"c\": -0.0001, \"d\": 12, "
                       "\"e\": 1e3, \"f\": 123456789012345678901234567890.12}",
                       why, sizeof why);
    assert_non_null(r);
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/a")), "1500.50");
    assert_int_equal(rs_pointer(r, "/a")->type, RS_NUM);
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/b")), "1500.50");
    assert_int_equal(rs_pointer(r, "/b")->type, RS_STR);
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/c")), "-0.0001");
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/d")), "12");
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/e")), "1e3");
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/f")), "123456789012345678901234567890.12");
    rs_pool_free(p);
}

static void test_strings_and_pointers(void **state)
{
    (void)state;
    rs_pool *p = rs_pool_new();
    char why[200];
    rs_node *r =
        parse(p,
              "{\"s\": \"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\", \"a/b\": {\"m~n\": [10, "
              "true, null, false]}, \"k\": 1, \"k\": 2}",
              why, sizeof why);
    assert_non_null(r);
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/s")), "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/a~1b/m~0n/0")), "10");
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/a~1b/m~0n/1")), "true");
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/a~1b/m~0n/2")), "");
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/a~1b/m~0n/3")), "false");
    assert_null(rs_pointer(r, "/a~1b/m~0n/4"));
    assert_null(rs_pointer(r, "/a~1b/m~0n/01"));
    assert_null(rs_pointer(r, "/a~1b/m~0n/x"));
    assert_null(rs_pointer(r, "/missing"));
    assert_null(rs_pointer(r, "s"));
    assert_string_equal(rs_scalar_text(rs_pointer(r, "/k")), "2"); /* the last one wins */
    assert_ptr_equal(rs_pointer(r, ""), r);
    rs_pool_free(p);
}

static void test_invalid_json(void **state)
{
    (void)state;
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"", "unexpected end of input at byte 0 of 0"},
        {"{\"a\": [1, 2", "unexpected end of input at byte 11 of 11"},
        {"{\"a\": \"abc", "unexpected end of input at byte 10 of 10"},
        {"{\"a\" 1}", "expected ':' at byte 5 of 7"},
        {"{\"a\": 1,}", "expected a key at byte 8 of 9"},
        {"[1 2]", "expected ',' or ']' at byte 3 of 5"},
        {"{} x", "text after the JSON value at byte 3 of 4"},
        {"[01]", "invalid number (leading zero) at byte 2 of 4"},
        {"[1.]", "invalid number (no digit after '.') at byte 3 of 4"},
        {"[1e+]", "invalid number (no digit in the exponent) at byte 4 of 5"},
        {"[-]", "invalid number at byte 2 of 3"},
        {"[.5]", "unexpected character at byte 1 of 4"},
        {"[tru]", "invalid literal at byte 1 of 5"},
        {"[tr", "unexpected end of input at byte 3 of 3"},
        {"[\"\\x\"]", "invalid escape in a string at byte 2 of 6"},
        {"[\"\\ud800\"]", "invalid Unicode escape (lone high surrogate) at byte 2 of 10"},
        {"[\"\\udc00\"]", "invalid Unicode escape (lone low surrogate) at byte 2 of 10"},
        {"[\"\\u12G4\"]", "invalid \\u escape at byte 2 of 10"},
        {"[\"\\u0000\"]", "\\u0000 in a string at byte 2 of 10"},
        {"[\"a\tb\"]", "control character in a string (must be escaped) at byte 3 of 7"},
        {"[\"\xc3\x28\"]", "invalid UTF-8 in a string at byte 2 of 6"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_pool *p = rs_pool_new();
        char why[200] = "";
        assert_null(parse(p, cases[i].in, why, sizeof why));
        if (strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu '%s': got '%s', want '%s'", i, cases[i].in, why, cases[i].why);
        rs_pool_free(p);
    }
}

static void test_depth_limit(void **state)
{
    (void)state;
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < RS_JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < RS_JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    rs_pool *p = rs_pool_new();
    char why[200];
    assert_non_null(parse(p, deep, why, sizeof why));
    memmove(deep + 1, deep, n + 1);
    deep[0] = '[';
    deep[n + 1] = ']';
    deep[n + 2] = '\0';
    assert_null(parse(p, deep, why, sizeof why));
    assert_string_equal(why, "nested too deeply at byte 64 of 130");
    rs_pool_free(p);
}

static void test_times(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(rs_time_parse("2024-03-05T14:16:01.350Z", &ms), 0);
    assert_int_equal(ms, 1709648161350LL);
    assert_int_equal(rs_time_parse("2024-03-05T15:16:01.350123+01:00", &ms), 0);
    assert_int_equal(ms, 1709648161350LL);
    assert_int_equal(rs_time_parse("2024-03-05 12:16:01-0200", &ms), 0);
    assert_int_equal(ms, 1709648161000LL);
    assert_int_equal(rs_time_parse("2024-03-05T14:16:01+00", &ms), 0);
    assert_int_equal(rs_time_parse("2024-03-05T14:16", &ms), 0);
    assert_int_equal(ms, 1709648160000LL);
    assert_int_equal(rs_time_parse("2024-03-05", &ms), 0);
    assert_int_equal(ms, 1709596800000LL);
    assert_int_equal(rs_time_parse("2024-02-29", &ms), 0);
    static const char *const bad[] = {"2023-02-29",
                                      "2024-13-01",
                                      "2024-03-05T24:00:00Z",
                                      "2024-03-05T14:16:01+25:00",
                                      "2024-03-05T14:16:01.Z",
                                      "2024-03-05T14:16:01Zx",
                                      "yesterday",
                                      "2024-3-5",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rs_time_parse(bad[i], &ms) == 0)
            fail_msg("'%s' parsed", bad[i]);
}

static void test_durations(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(rs_duration_parse("3d", &ms), 0);
    assert_int_equal(ms, 3 * 86400000LL);
    assert_int_equal(rs_duration_parse("1h30m", &ms), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(rs_duration_parse("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    static const char *const bad[] = {"", "3", "-1d", "1.5h", "3w", "99999999999d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rs_duration_parse(bad[i], &ms) == 0)
            fail_msg("'%s' parsed", bad[i]);
}

static const char *vars(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "since") == 0)
        return "2024-03-07T13:15:01.000Z";
    if (strcmp(name, "empty") == 0)
        return "";
    if (strcmp(name, "q") == 0)
        return "a b&c=d/é";
    return NULL;
}

static void test_templates(void **state)
{
    (void)state;
    char *b = NULL, bad[80];
    size_t l = 0, c = 0;
    int ne = 0;
    assert_int_equal(rs_tmpl_expand("from {since} {q}{empty} {x {} }", vars, NULL, 0, &b, &l, &c,
                                    &ne, bad, sizeof bad),
                     0);
    assert_string_equal(b, "from 2024-03-07T13:15:01.000Z a b&c=d/é {x {} }");
    assert_int_equal(ne, 1);
    l = 0;
    assert_int_equal(rs_tmpl_expand("{q}", vars, NULL, 1, &b, &l, &c, NULL, bad, sizeof bad), 0);
    assert_string_equal(b, "a%20b%26c%3Dd%2F%C3%A9");
    l = 0;
    assert_int_equal(rs_tmpl_expand("x{nope}", vars, NULL, 0, &b, &l, &c, NULL, bad, sizeof bad),
                     -1);
    assert_string_equal(bad, "nope");
    free(b);
    assert_true(rs_tmpl_is_single("{since}"));
    assert_false(rs_tmpl_is_single("{since}x"));
    assert_false(rs_tmpl_is_single("{Since}"));
}

static void test_yaml(void **state)
{
    (void)state;
    rs_pool *p = rs_pool_new();
    char msg[300];
    const char *ok = "a: 1\nb:\n  - x\n  - 'y'\nc: {d: ~}\n";
    rs_node *r = rs_yaml_parse(p, "m.yaml", ok, strlen(ok), msg, sizeof msg);
    assert_non_null(r);
    assert_string_equal(rs_pointer(r, "/a")->text, "1");
    assert_true(rs_pointer(r, "/a")->plain);
    assert_false(rs_pointer(r, "/b/1")->plain);
    assert_int_equal(rs_pointer(r, "/b/1")->line, 4);
    assert_int_equal(rs_pointer(r, "/c/d")->type, RS_NULL);
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"a: &x 1\nb: *x\n", "m.yaml:1:4: anchors and tags are not supported"},
        {"a: 1\na: 2\n", "m.yaml:2:1: key 'a' given twice"},
        {"- 1\n", "m.yaml: the manifest must be a mapping (key: value lines)"},
        {"", "m.yaml: the manifest is empty"},
        {"a: [1\n", "m.yaml:2:1: did not find expected ',' or ']'"},
        {"a: 1\n---\nb: 2\n", "m.yaml:2:1: more than one YAML document"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        assert_null(rs_yaml_parse(p, "m.yaml", bad[i].in, strlen(bad[i].in), msg, sizeof msg));
        if (strcmp(msg, bad[i].msg) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, msg, bad[i].msg);
    }
    assert_null(rs_yaml_load(p, "/nonexistent/m.yaml", msg, sizeof msg));
    assert_string_equal(msg, "cannot open manifest '/nonexistent/m.yaml': No such file or "
                             "directory");
    rs_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_numbers), cmocka_unit_test(test_strings_and_pointers),
        cmocka_unit_test(test_invalid_json),  cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_times),         cmocka_unit_test(test_durations),
        cmocka_unit_test(test_templates),     cmocka_unit_test(test_yaml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

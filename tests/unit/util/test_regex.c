/* Unit tests: bounded regular expressions (util/regex.h) and STATUS value counts
 * (engine/valuecount.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/valuecount.h"
#include "util/regex.h"

static void test_compile_errors(void **state)
{
    (void)state;
    ps_regex *re = NULL;
    ps_error e = {0};
    assert_int_equal(ps_regex_compile("succ(ess", 0, &re, &e), PS_ERR_CONFIG);
    assert_null(re);
    assert_string_equal(e.message,
                        "invalid regular expression at offset 8: missing closing parenthesis");
    assert_int_equal(ps_regex_compile("[a-", 0, &re, &e), PS_ERR_CONFIG);
    assert_non_null(strstr(e.message, "missing terminating ] for character class"));
    /* \C could split a UTF-8 character: refused */
    assert_int_equal(ps_regex_compile("a\\Cb", 0, &re, &e), PS_ERR_CONFIG);
    assert_non_null(strstr(e.message, "invalid regular expression at offset"));
    char big[PS_REGEX_MAX_PATTERN + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(ps_regex_compile(big, 0, &re, &e), PS_ERR_CONFIG);
    assert_string_equal(e.message, "the regular expression is 1025 bytes long, the limit is 1024");
    char groups[200] = "";
    for (int i = 0; i < 33; i++)
        strcat(groups, "(a)");
    assert_int_equal(ps_regex_compile(groups, 0, &re, &e), PS_ERR_CONFIG);
    assert_string_equal(e.message, "the regular expression has 33 capture groups, the limit is 32");
}

static void test_named_groups_and_spans(void **state)
{
    (void)state;
    ps_regex *re = NULL;
    ps_error e = {0};
    const char *pat = "from (?<CUSTOMER_PHONE>\\d+) - (?<CUSTOMER_NAME>.+?) Acc\\. "
                      "(?<METER_ID>\\S+)(?: (x))?$";
    assert_int_equal(ps_regex_compile(pat, 0, &re, &e), PS_OK);
    assert_int_equal(ps_regex_groups(re), 4);
    assert_int_equal(ps_regex_names(re), 3);
    int seen = 0;
    for (size_t i = 0; i < ps_regex_names(re); i++) {
        uint32_t g = 0;
        const char *n = ps_regex_name_at(re, i, &g);
        if (strcmp(n, "CUSTOMER_PHONE") == 0 && g == 1)
            seen |= 1;
        if (strcmp(n, "CUSTOMER_NAME") == 0 && g == 2)
            seen |= 2;
        if (strcmp(n, "METER_ID") == 0 && g == 3)
            seen |= 4;
    }
    assert_int_equal(seen, 7);
    assert_null(ps_regex_name_at(re, 3, NULL));
    const char *s = "Customer Transfer from 254712345678 - JOHN KAMAU Acc. MTR-0042";
    size_t span[10];
    assert_int_equal(ps_regex_match(re, s, strlen(s), span, 5), PS_REGEX_MATCH);
    assert_int_equal(span[2], 23);
    assert_int_equal(span[3], 35);
    assert_memory_equal(s + span[4], "JOHN KAMAU", span[5] - span[4]);
    assert_memory_equal(s + span[6], "MTR-0042", span[7] - span[6]);
    assert_true(span[8] == SIZE_MAX && span[9] == SIZE_MAX); /* group 4 did not take part */
    assert_int_equal(ps_regex_match(re, "Pay Bill Charge", 15, span, 5), PS_REGEX_NOMATCH);
    /* the subject is read by its length, not up to a NUL */
    assert_int_equal(ps_regex_match(re, s, 40, span, 5), PS_REGEX_NOMATCH);
    ps_regex_free(re);
}

static void test_caseless_and_invalid_utf8(void **state)
{
    (void)state;
    ps_regex *re = NULL;
    ps_error e = {0};
    assert_int_equal(ps_regex_compile("^élan$", 1, &re, &e), PS_OK);
    assert_int_equal(ps_regex_match(re, "ÉLAN", strlen("ÉLAN"), NULL, 0), PS_REGEX_MATCH);
    ps_regex_free(re);
    assert_int_equal(ps_regex_compile("^succ.*ss$", 0, &re, &e), PS_OK);
    const char bad[] = "succ\xff\xfe"
                       "ess";
    assert_int_equal(ps_regex_match(re, bad, sizeof bad - 1, NULL, 0), PS_REGEX_NOMATCH);
    assert_int_equal(ps_regex_match(re, "success", 7, NULL, 0), PS_REGEX_MATCH);
    ps_regex_free(re);
}

static void test_hostile_pattern_hits_the_limit(void **state)
{
    (void)state;
    ps_regex *re = NULL;
    ps_error e = {0};
    assert_int_equal(ps_regex_compile("^(a|a?)+$", 0, &re, &e), PS_OK);
    char s[5002];
    memset(s, 'a', 5000);
    s[5000] = '!';
    s[5001] = '\0';
    assert_int_equal(ps_regex_match(re, s, 5001, NULL, 0), PS_REGEX_LIMIT);
    ps_regex_free(re);
}

static void test_value_counts(void **state)
{
    (void)state;
    ps_value_counts *vc = calloc(1, sizeof *vc);
    assert_non_null(vc);
    ps_value_counts_add(vc, " success ", 9);
    ps_value_counts_add(vc, "failed", 6);
    ps_value_counts_add(vc, "success\xc2\xa0", 9);
    ps_value_counts_add(vc, "", 0);
    ps_value_counts_add(vc, "bad\x01", 4);
    ps_value_counts_sort(vc);
    char buf[512];
    ps_value_counts_format(vc, 20, buf, sizeof buf);
    assert_string_equal(buf, "success 2, (empty) 1, bad? 1, failed 1");
    ps_value_counts_format(vc, 2, buf, sizeof buf);
    assert_string_equal(buf, "success 2, (empty) 1, and 2 more values (2 rows)");
    char longv[200];
    memset(longv, 'x', sizeof longv);
    ps_value_counts_add(vc, longv, sizeof longv);
    for (int i = 0; i < 70; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%02d", i);
        ps_value_counts_add(vc, v, strlen(v));
    }
    assert_int_equal(vc->n, PS_VALUES_TRACKED);
    assert_int_equal(vc->other_rows, 70 - (PS_VALUES_TRACKED - 5));
    int cut = 0;
    for (size_t i = 0; i < vc->n; i++)
        if (strlen(vc->v[i].text) == PS_VALUE_TEXT_MAX + 3 &&
            strcmp(vc->v[i].text + PS_VALUE_TEXT_MAX, "...") == 0)
            cut = 1;
    assert_true(cut);
    free(vc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_named_groups_and_spans),
        cmocka_unit_test(test_caseless_and_invalid_utf8),
        cmocka_unit_test(test_hostile_pattern_hits_the_limit),
        cmocka_unit_test(test_value_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

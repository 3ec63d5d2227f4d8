/* Unit tests: max_vanished parsing (config/vanish_limit.h) and the vanish guard's decision
 * (engine/vanish_guard.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/vanish_limit.h"
#include "engine/vanish_guard.h"

static ps_vanish_limit parse_ok(const char *text)
{
    ps_vanish_limit l;
    char why[200] = "";
    int rc = ps_vanish_limit_parse(text, &l, why, sizeof why);
    if (rc != 0)
        fail_msg("'%s' refused: %s", text, why);
    return l;
}

static void test_parse_forms(void **state)
{
    (void)state;
    ps_vanish_limit l = parse_ok("25%");
    assert_int_equal(l.kind, PS_VANISH_PERCENT);
    assert_int_equal(l.value, 2500);
    l = parse_ok("2.5%");
    assert_int_equal(l.value, 250);
    l = parse_ok("0.25%");
    assert_int_equal(l.value, 25);
    l = parse_ok("100%");
    assert_int_equal(l.value, 10000);
    l = parse_ok("0%");
    assert_int_equal(l.value, 0);
    l = parse_ok("500");
    assert_int_equal(l.kind, PS_VANISH_COUNT);
    assert_int_equal(l.value, 500);
    l = parse_ok("unlimited");
    assert_int_equal(l.kind, PS_VANISH_UNLIMITED);
    char buf[32];
    assert_string_equal(
        ps_vanish_limit_text(&(ps_vanish_limit){PS_VANISH_PERCENT, 250}, buf, sizeof buf), "2.5%");
    assert_string_equal(
        ps_vanish_limit_text(&(ps_vanish_limit){PS_VANISH_PERCENT, 25}, buf, sizeof buf), "0.25%");
    assert_string_equal(ps_vanish_limit_text(&(ps_vanish_limit){0}, buf, sizeof buf), "10%");
    assert_string_equal(
        ps_vanish_limit_text(&(ps_vanish_limit){PS_VANISH_COUNT, 7}, buf, sizeof buf), "7");
}

static void refused(const char *text, const char *reason)
{
    ps_vanish_limit l;
    char why[200] = "";
    assert_int_equal(ps_vanish_limit_parse(text, &l, why, sizeof why), -1);
    if (!strstr(why, reason))
        fail_msg("'%s': message '%s' lacks '%s'", text, why, reason);
    assert_non_null(strstr(why, "25%"));
}

static void test_parse_refused(void **state)
{
    (void)state;
    refused("", "a value is required");
    refused("abc", "expected a percentage");
    refused("-5%", "expected a percentage");
    refused("10 %", "expected a percentage");
    refused("%", "expected a percentage");
    refused("150%", "at most 100%");
    refused("100.01%", "at most 100%");
    refused("1.234%", "at most 2 decimals");
    refused("5.%", "expected a percentage");
    refused("2.5", "expected a percentage"); /* a count is a whole number */
    refused("Unlimited", "expected a percentage");
    refused("99999999999999999999999", "too large");
}

static void test_limit_of(void **state)
{
    (void)state;
    ps_vanish_limit def = {0};
    assert_int_equal(ps_vanish_limit_of(&def, 310), 31);
    assert_int_equal(ps_vanish_limit_of(&def, 9), 0);
    assert_int_equal(ps_vanish_limit_of(&def, 100), 10);
    ps_vanish_limit p = {PS_VANISH_PERCENT, 250}; /* 2.5 % */
    assert_int_equal(ps_vanish_limit_of(&p, 1000), 25);
    assert_int_equal(ps_vanish_limit_of(&p, 39), 0);
    assert_int_equal(ps_vanish_limit_of(&p, 40), 1);
    ps_vanish_limit all = {PS_VANISH_PERCENT, 10000};
    assert_true(ps_vanish_limit_of(&all, UINT64_MAX) == UINT64_MAX);
    ps_vanish_limit big = {PS_VANISH_PERCENT, 9999};
    assert_true(ps_vanish_limit_of(&big, UINT64_MAX) < UINT64_MAX); /* no overflow */
    ps_vanish_limit u = {PS_VANISH_UNLIMITED, 0};
    assert_true(ps_vanish_limit_of(&u, 5) == UINT64_MAX);
}

static void test_decide(void **state)
{
    (void)state;
    ps_vanish_guard g = {0};
    char msg[1024] = "";
    ps_vanish_limit def = {0};
    /* 10 of 100 is the limit itself: passes; 11 trips */
    assert_int_equal(ps_vanish_guard_decide(&g, &def, 0, 100, 10, 0, msg, sizeof msg),
                     PS_GUARD_PASSED);
    assert_int_equal(g.limit, 10);
    assert_int_equal(ps_vanish_guard_decide(&g, &def, 0, 100, 11, 0, msg, sizeof msg),
                     PS_GUARD_TRIPPED);
    assert_string_equal(msg,
                        "vanish_guard: this run would vanish 11 of 100 stored payments, limit "
                        "10 (max_vanished 10%); nothing was committed. If they really were "
                        "removed from the source, run again with --allow-vanish, or raise the "
                        "dataset's max_vanished (a percentage such as 25%, a count such as 500, "
                        "or unlimited)");
    assert_int_equal(ps_vanish_guard_decide(&g, &def, 1, 100, 11, 0, msg, sizeof msg),
                     PS_GUARD_ALLOWED);
    /* an emptied source: never within a percentage or count, even 100 % */
    ps_vanish_limit all = {PS_VANISH_PERCENT, 10000};
    msg[0] = '\0';
    assert_int_equal(ps_vanish_guard_decide(&g, &all, 0, 310, 310, 1, msg, sizeof msg),
                     PS_GUARD_TRIPPED);
    assert_true(g.empty_source);
    assert_non_null(strstr(msg, "vanish_guard: the source has a header but no data row: this "
                                "run would vanish 310 of 310 stored payments, limit 310 "
                                "(max_vanished 100%; an emptied source passes only with "
                                "unlimited)"));
    assert_non_null(strstr(msg, "--allow-vanish"));
    ps_vanish_limit u = {PS_VANISH_UNLIMITED, 0};
    assert_int_equal(ps_vanish_guard_decide(&g, &u, 0, 310, 310, 1, msg, sizeof msg),
                     PS_GUARD_ALLOWED);
    assert_int_equal(ps_vanish_guard_decide(&g, &all, 1, 310, 310, 1, msg, sizeof msg),
                     PS_GUARD_ALLOWED);
    /* nothing stored: an empty source changes nothing and passes */
    assert_int_equal(ps_vanish_guard_decide(&g, &def, 0, 0, 0, 1, msg, sizeof msg),
                     PS_GUARD_PASSED);
    assert_false(g.empty_source);
    /* a count */
    ps_vanish_limit c = {PS_VANISH_COUNT, 3};
    assert_int_equal(ps_vanish_guard_decide(&g, &c, 0, 5, 3, 0, msg, sizeof msg), PS_GUARD_PASSED);
    assert_int_equal(ps_vanish_guard_decide(&g, &c, 0, 5, 4, 0, msg, sizeof msg), PS_GUARD_TRIPPED);
    assert_non_null(strstr(msg, "would vanish 4 of 5 stored payments, limit 3 (max_vanished 3)"));
    /* a windowed source: the counts are the window's and the message says so */
    g.windowed = 1;
    g.window_from_ms = 1709817301001; /* 2024-03-07T13:15:01.001Z */
    g.window_to_ms = INT64_MAX;
    assert_int_equal(ps_vanish_guard_decide(&g, &c, 0, 6, 4, 0, msg, sizeof msg), PS_GUARD_TRIPPED);
    assert_non_null(strstr(msg, "would vanish 4 of 6 stored payments in the window read "
                                "(TIMESTAMP 2024-03-07T13:15:01.001Z to the end), limit 3 "
                                "(max_vanished 3); nothing was committed"));
    char t[32];
    assert_string_equal(ps_vanish_window_text(INT64_MIN, t, sizeof t), "the start");
    assert_string_equal(ps_vanish_window_text(0, t, sizeof t), "1970-01-01T00:00:00.000Z");
    assert_string_equal(ps_vanish_guard_outcome_name(PS_GUARD_TRIPPED), "tripped");
    assert_string_equal(ps_vanish_guard_outcome_name(PS_GUARD_NOT_CHECKED), "not_checked");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_limit_of),
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

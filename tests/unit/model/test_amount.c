/* Unit tests: the amount normaliser (core/src/model/amount.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/amount.h"
#include "test_rng.h"

typedef struct {
    const char *in;
    const char *currency;
    int rc;
    const char *out;
} amount_case;

static const amount_case cases[] = {
    {"1500.50", "NGN", PS_AMOUNT_OK, "1500.50"},
    {"1,500.50", "NGN", PS_AMOUNT_OK, "1500.50"},
    {"  1,500.50  ", "NGN", PS_AMOUNT_OK, "1500.50"},
    {"\xc2\xa0"
     "1500\xc2\xa0",
     "NGN", PS_AMOUNT_OK, "1500"},
    {"1,234,567", "NGN", PS_AMOUNT_OK, "1234567"},
    {"-250", "NGN", PS_AMOUNT_OK, "-250"},
    {"+250.0", "NGN", PS_AMOUNT_OK, "250.0"},
    {"0.0001", "USD", PS_AMOUNT_OK, "0.0001"},
    {"NGN 1,500.50", "NGN", PS_AMOUNT_OK, "1500.50"},
    {"ngn1500", "NGN", PS_AMOUNT_OK, "1500"},
    {"1500 NGN", "NGN", PS_AMOUNT_OK, "1500"},
    {"1500NGN", "NGN", PS_AMOUNT_OK, "1500"},
    {"\xe2\x82\xa6"
     "1,500.50",
     "NGN", PS_AMOUNT_OK, "1500.50"},
    {"\xe2\x82\xa6 1,500", "NGN", PS_AMOUNT_OK, "1500"},
    {"-\xe2\x82\xa6"
     "5",
     "NGN", PS_AMOUNT_OK, "-5"},
    {"\xe2\x82\xa6-5", "NGN", PS_AMOUNT_OK, "-5"},
    {"1500 Naira", "NGN", PS_AMOUNT_OK, "1500"},
    {"KSh 100", "KES", PS_AMOUNT_OK, "100"},
    {"$10.25", "USD", PS_AMOUNT_OK, "10.25"},
    {"US$ 10", "USD", PS_AMOUNT_OK, "10"},
    {"NGN 10", NULL, PS_AMOUNT_OK, "10"},
    /* mismatching currency */
    {"KES 100", "NGN", PS_AMOUNT_MISMATCH, NULL},
    {"\xe2\x82\xa6"
     "100",
     "GHS", PS_AMOUNT_MISMATCH, NULL},
    {"$100", "NGN", PS_AMOUNT_MISMATCH, NULL},
    {"100 Cedi", "NGN", PS_AMOUNT_MISMATCH, NULL},
    /* rejected */
    {"", "NGN", PS_AMOUNT_EMPTY, NULL},
    {"   ", "NGN", PS_AMOUNT_EMPTY, NULL},
    {"abc", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"twelve", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"12abc", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"NGN", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"1,50", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"1500,000", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"1,500,00", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {",500", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"1.500,50", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"1,500.5,0", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"1.2.3", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"--5", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"-NGN-5", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"NGN 5 NGN", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"1 500", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"1e3", "NGN", PS_AMOUNT_SYNTAX, NULL},
    {"12.34567", "NGN", PS_AMOUNT_SCALE, NULL},
    {"1,500.12345", "NGN", PS_AMOUNT_SCALE, NULL},
    {"99999999999999999999", "NGN", PS_AMOUNT_OVERFLOW, NULL},
};

static void test_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const amount_case *c = &cases[i];
        ps_decimal d;
        char buf[PS_DECIMAL_TEXT_MAX];
        int rc = ps_amount_parse(c->in, strlen(c->in), c->currency, &d);
        print_message("case %zu '%s'\n", i, c->in);
        assert_int_equal(rc, c->rc);
        if (rc == PS_AMOUNT_OK) {
            ps_decimal_format(d, buf);
            assert_string_equal(buf, c->out);
        }
    }
}

static void test_reasons(void **state)
{
    (void)state;
    assert_string_equal(ps_amount_reason(PS_AMOUNT_SCALE), "more than 4 fractional digits");
    assert_string_equal(ps_amount_reason(PS_AMOUNT_SYNTAX), "not a number");
    assert_string_equal(ps_amount_reason(PS_AMOUNT_EMPTY), "empty");
    assert_string_equal(ps_amount_reason(PS_AMOUNT_OVERFLOW), "too large");
    assert_non_null(strstr(ps_amount_reason(PS_AMOUNT_MISMATCH), "PAYMENT_CURRENCY"));
}

/* ps_amount_parse_plain against ps_amount_parse + ps_decimal_format: whenever the fast path
 * decides, the full path says PS_AMOUNT_OK (with and without a currency) with the same
 * decimal, which it writes back as the input. Edge cases, then random texts of digits, '.',
 * ',', signs and spaces, and random plain decimals. */
static int plain_agrees(const char *s, size_t len)
{
    ps_decimal fast = {0, 0}, full = {0, 0}, full2 = {0, 0};
    char back[PS_DECIMAL_TEXT_MAX];
    int d = ps_amount_parse_plain(s, len, &fast);
    int rc = ps_amount_parse(s, len, "NGN", &full);
    int rc2 = ps_amount_parse(s, len, NULL, &full2);
    if (!d)
        return 0;
    if (rc != PS_AMOUNT_OK || fast.units != full.units || fast.scale != full.scale)
        print_message("'%.*s': fast %lld/%d, full rc %d %lld/%d\n", (int)len, s,
                      (long long)fast.units, fast.scale, rc, (long long)full.units, full.scale);
    assert_int_equal(rc, PS_AMOUNT_OK);
    assert_int_equal(rc2, PS_AMOUNT_OK);
    assert_true(fast.units == full.units && fast.scale == full.scale);
    assert_true(fast.units == full2.units && fast.scale == full2.scale);
    assert_int_equal(ps_decimal_format(fast, back), len);
    assert_memory_equal(back, s, len);
    return 1;
}

static void test_plain_fast_path(void **state)
{
    static const struct {
        const char *s;
        int fast;
    } cases[] = {
        {"0", 1},
        {"7", 1},
        {"207", 1},
        {"2.04", 1},
        {"0.76", 1},
        {"0.0", 1},
        {"0.0000", 1},
        {"2.50", 1},
        {"12.3456", 1},
        {"999999999999999999", 1},
        {"99999999999999.9999", 1},
        {"", 0},
        {"00", 0},
        {"05", 0},
        {"0.", 0},
        {"5.", 0},
        {".5", 0},
        {"1.23456", 0},
        {"1,000", 0},
        {"-5", 0},
        {"+5", 0},
        {" 5", 0},
        {"5 ", 0},
        {"1.2.3", 0},
        {"1e5", 0},
        {"1000000000000000000", 0},
        {"9999999999999999999", 0},
        {"99999999999999.99999", 0},
        {"123456789012345.6789", 0},
    };
    static const char alpha[] = "0123456789012345678901234567890123456789..,-+ ";
    int decided = 0;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int d = plain_agrees(cases[i].s, strlen(cases[i].s));
        if (d != cases[i].fast)
            print_message("'%s': fast path %d\n", cases[i].s, d);
        assert_int_equal(d, cases[i].fast);
    }
    for (int r = 0; r < 300000; r++) {
        char s[32];
        size_t len = rnd(24);
        if (r % 2) {
            for (size_t i = 0; i < len; i++)
                s[i] = alpha[rnd(sizeof alpha - 1)];
        } else { /* a plain decimal, maybe with a leading zero or too many digits */
            size_t ni = 1 + rnd(20), nf = rnd(3) ? 0 : rnd(6);
            len = 0;
            for (size_t i = 0; i < ni; i++)
                s[len++] = (char)('0' + rnd(10));
            if (nf || rnd(10) == 0)
                s[len++] = '.';
            for (size_t i = 0; i < nf; i++)
                s[len++] = (char)('0' + rnd(10));
        }
        decided += plain_agrees(s, len);
    }
    assert_true(decided > 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_plain_fast_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

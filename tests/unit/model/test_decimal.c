/* Unit tests: exact decimals (core/include/paysync/decimal.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/decimal.h"

typedef struct {
    const char *in;
    int max_scale;
    int rc;
    int64_t units;
    int scale;
    const char *text;
} parse_case;

static const parse_case parse_cases[] = {
    {"0", 4, 0, 0, 0, "0"},
    {"1500.50", 4, 0, 150050, 2, "1500.50"},
    {"-12.50", 4, 0, -1250, 2, "-12.50"},
    {"+7", 4, 0, 7, 0, "7"},
    {"007", 4, 0, 7, 0, "7"},
    {"0.0001", 4, 0, 1, 4, "0.0001"},
    {"-0.5", 4, 0, -5, 1, "-0.5"},
    {".5", 4, 0, 5, 1, "0.5"},
    {"1.", 4, 0, 1, 0, "1"},
    {"9223372036854775807", 4, 0, INT64_MAX, 0, "9223372036854775807"},
    {"-9223372036854775808", 4, 0, INT64_MIN, 0, "-9223372036854775808"},
    {"1.23", 2, 0, 123, 2, "1.23"},
    {"1.234", 2, -2, 0, 0, NULL},
    {"1.12345", 4, -2, 0, 0, NULL},
    {"1.2x345", 4, -1, 0, 0, NULL},
    {"9223372036854775808", 4, -3, 0, 0, NULL},
    {"-9223372036854775809", 4, -3, 0, 0, NULL},
    {"922337203685477580.80", 4, -3, 0, 0, NULL},
    {"", 4, -1, 0, 0, NULL},
    {"-", 4, -1, 0, 0, NULL},
    {".", 4, -1, 0, 0, NULL},
    {"1,500", 4, -1, 0, 0, NULL},
    {" 1", 4, -1, 0, 0, NULL},
    {"1e5", 4, -1, 0, 0, NULL},
    {"1.2.3", 4, -1, 0, 0, NULL},
    {"abc", 4, -1, 0, 0, NULL},
};

static void test_parse_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const parse_case *c = &parse_cases[i];
        ps_decimal d = {0, 0};
        char buf[PS_DECIMAL_TEXT_MAX];
        int rc = ps_decimal_parse(c->in, strlen(c->in), c->max_scale, &d);
        print_message("case %zu '%s'\n", i, c->in);
        assert_int_equal(rc, c->rc);
        if (rc == 0) {
            assert_true(d.units == c->units);
            assert_int_equal(d.scale, c->scale);
            assert_int_equal(ps_decimal_format(d, buf), strlen(c->text));
            assert_string_equal(buf, c->text);
        }
    }
}

static void test_format_negative_fraction(void **state)
{
    char buf[PS_DECIMAL_TEXT_MAX];
    ps_decimal d = {-5, 4};
    (void)state;
    ps_decimal_format(d, buf);
    assert_string_equal(buf, "-0.0005");
    d.units = 0;
    d.scale = 2;
    ps_decimal_format(d, buf);
    assert_string_equal(buf, "0.00");
}

static void test_cmp(void **state)
{
    ps_decimal a = {15, 1}, b = {150, 2}, c = {151, 2}, n = {-1, 0}, z = {0, 3};
    (void)state;
    assert_int_equal(ps_decimal_cmp(a, b), 0);
    assert_true(ps_decimal_cmp(a, c) < 0);
    assert_true(ps_decimal_cmp(c, a) > 0);
    assert_true(ps_decimal_cmp(n, z) < 0);
    assert_true(ps_decimal_cmp(z, n) > 0);
    assert_int_equal(ps_decimal_cmp(z, (ps_decimal){0, 0}), 0);
    /* -1.5 < -1.49 */
    assert_true(ps_decimal_cmp((ps_decimal){-15, 1}, (ps_decimal){-149, 2}) < 0);
    /* extreme values do not overflow */
    assert_true(ps_decimal_cmp((ps_decimal){INT64_MAX, 0}, (ps_decimal){INT64_MAX, 4}) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_format_negative_fraction),
        cmocka_unit_test(test_cmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

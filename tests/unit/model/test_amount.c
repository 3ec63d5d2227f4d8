/* Unit tests: the amount normaliser (core/src/model/amount.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/amount.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

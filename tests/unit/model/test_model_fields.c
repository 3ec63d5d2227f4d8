/* Unit tests: field names, header normalisation, required-ness (core/src/model/model_fields.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/model_fields.h"

typedef struct {
    const char *header;
    int field;
} header_case;

static const header_case cases[] = {
    {"PAYMENT_AMOUNT", PS_F_PAYMENT_AMOUNT},
    {"Payment Amount", PS_F_PAYMENT_AMOUNT},
    {"payment-amount", PS_F_PAYMENT_AMOUNT},
    {"  payment  amount\t", PS_F_PAYMENT_AMOUNT},
    {"Payment_-_Amount", PS_F_PAYMENT_AMOUNT},
    {"\xc2\xa0"
     "id"
     "\xc2\xa0",
     PS_F_ID},
    {"\xef\xbb\xbf"
     "ID",
     PS_F_ID},
    {"Timestamp", PS_F_TIMESTAMP},
    {"failed battery capacity count", PS_F_FAILED_BATTERY_CAPACITY_COUNT},
    {"notes", PS_F_NOTES},
    {"PAYMENTAMOUNT", -1},
    {"Amount", -1},
    {"", -1},
    {"   ", -1},
    {"ID2", -1},
};

static void test_lookup_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu '%s'\n", i, cases[i].header);
        assert_int_equal(ps_field_lookup(cases[i].header, strlen(cases[i].header)), cases[i].field);
    }
}

static void test_names_round_trip(void **state)
{
    int f;
    (void)state;
    for (f = 0; f < PS_FIELD_COUNT; f++) {
        const char *n = ps_field_name(f);
        assert_non_null(n);
        assert_int_equal(ps_field_lookup(n, strlen(n)), f);
    }
    assert_string_equal(ps_field_name(PS_F_CUSTOMER_PHONE), "CUSTOMER_PHONE");
    assert_null(ps_field_name(-1));
    assert_null(ps_field_name(PS_FIELD_COUNT));
}

static void test_normalise(void **state)
{
    char out[64], small[5];
    (void)state;
    assert_int_equal(ps_header_normalise(" Payment  - Amount ", 19, out, sizeof out), 14);
    assert_string_equal(out, "PAYMENT_AMOUNT");
    assert_int_equal(ps_header_normalise("abcdefgh", 8, small, sizeof small), 4);
    assert_string_equal(small, "ABCD");
    assert_int_equal(ps_header_normalise("", 0, out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_required(void **state)
{
    static const int std_req[] = {
        PS_F_TIMESTAMP,   PS_F_PAYMENT_AMOUNT, PS_F_PAYMENT_CURRENCY, PS_F_TRANSACTION_TYPE,
        PS_F_CUSTOMER_ID, PS_F_METER_ID,       PS_F_CUSTOMER_NAME,    PS_F_CUSTOMER_CATEGORY};
    int f, n_std = 0, n_strict = 0;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof std_req / sizeof std_req[0]; i++) {
        assert_true(ps_field_required(std_req[i], PS_PROFILE_STANDARD));
        assert_true(ps_field_required(std_req[i], PS_PROFILE_STRICT));
    }
    for (f = 0; f < PS_FIELD_COUNT; f++) {
        n_std += ps_field_required(f, PS_PROFILE_STANDARD);
        n_strict += ps_field_required(f, PS_PROFILE_STRICT);
    }
    assert_int_equal(n_std, 8);
    assert_int_equal(n_strict, 10);
    assert_false(ps_field_required(PS_F_ID, PS_PROFILE_STANDARD));
    assert_true(ps_field_required(PS_F_ID, PS_PROFILE_STRICT));
    assert_false(ps_field_required(PS_F_CUSTOMER_PHONE, PS_PROFILE_STANDARD));
    assert_true(ps_field_required(PS_F_CUSTOMER_PHONE, PS_PROFILE_STRICT));
    assert_false(ps_field_required(PS_F_NOTES, PS_PROFILE_STRICT));
    assert_false(ps_field_required(-1, PS_PROFILE_STRICT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_table),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_required),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: the column_missing check (core/src/engine/column_check.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/column_check.h"
#include "paysync/model.h"

static const char *const alias_header[] = {"Payment ID", "Amount (NGN)", "Tel"};
static const int alias_field[] = {PS_F_ID, PS_F_PAYMENT_AMOUNT, PS_F_CUSTOMER_PHONE};
static const ps_mapping_spec spec = {alias_header, alias_field, 3, NULL, PS_PROFILE_STANDARD, NULL};

static ps_mapping map_of(const int *fields, size_t n)
{
    ps_mapping m;
    memset(&m, 0, sizeof m);
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        m.field_col[f] = -1;
    for (size_t i = 0; i < n; i++)
        m.field_col[fields[i]] = (int)i;
    return m;
}

static void test_missing_mapped_columns(void **state)
{
    (void)state;
    const char *prev[] = {"Payment ID", "Amount (NGN)", "Customer Phone", "Region",
                          "customer-name", NULL};
    const char *missing[6];
    int fields[6];
    /* this run: ID and amount only; Region maps to nothing, so its loss is no warning */
    const int now[] = {PS_F_ID, PS_F_PAYMENT_AMOUNT};
    ps_mapping cur = map_of(now, 2);
    size_t n = ps_columns_missing(&spec, prev, 6, &cur, missing, fields);
    assert_int_equal(n, 2);
    assert_string_equal(missing[0], "Customer Phone");
    assert_int_equal(fields[0], PS_F_CUSTOMER_PHONE);
    assert_string_equal(missing[1], "customer-name"); /* canonical name after normalising */
    assert_int_equal(fields[1], PS_F_CUSTOMER_NAME);
    assert_ptr_equal(missing[0], prev[2]); /* pointers into prev */
}

static void test_field_still_mapped_by_another_name(void **state)
{
    (void)state;
    /* Customer Phone renamed to the alias Tel: the field still has a column */
    const char *prev[] = {"Payment ID", "Customer Phone", "Tel"};
    const char *missing[3];
    int fields[3];
    const int now[] = {PS_F_ID, PS_F_CUSTOMER_PHONE};
    ps_mapping cur = map_of(now, 2);
    assert_int_equal(ps_columns_missing(&spec, prev, 3, &cur, missing, fields), 0);
    /* both gone: the field is reported once, under its first column */
    const int none[] = {PS_F_ID};
    cur = map_of(none, 1);
    assert_int_equal(ps_columns_missing(&spec, prev, 3, &cur, missing, fields), 1);
    assert_string_equal(missing[0], "Customer Phone");
    /* no previous header: nothing */
    assert_int_equal(ps_columns_missing(&spec, NULL, 0, &cur, missing, fields), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_mapped_columns),
        cmocka_unit_test(test_field_still_mapped_by_another_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

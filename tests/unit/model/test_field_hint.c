/* Unit tests: column header -> field hints (model/field_hint.h) and the onboarding help built
 * on them (engine/onboard.h): suggestions, picks and the mapping block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/onboard.h"
#include "model/field_hint.h"
#include "model/model_fields.h"

static int score(int f, const char *h)
{
    return ps_field_hint_score(f, h, strlen(h));
}

static void test_scores(void **state)
{
    (void)state;
    /* the issue's examples */
    assert_true(score(PS_F_PAYMENT_AMOUNT, "Amount") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_METER_ID, "Meter No") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_PAYMENT_CURRENCY, "Currency") >= PS_FIELD_HINT_MIN);
    /* synonyms, punctuation, case */
    assert_true(score(PS_F_TIMESTAMP, "Payment Date") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_METER_ID, "meter #") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_METER_ID, "Meter No.") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_PAYMENT_AMOUNT, "Amount (NGN)") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_CUSTOMER_PHONE, "Client mobile") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_CUSTOMER_NAME, "Client Name") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_CUSTOMER_CATEGORY, "Tariff class") >= PS_FIELD_HINT_MIN);
    /* typos: one edit in a short word, two in a long one */
    assert_true(score(PS_F_PAYMENT_AMOUNT, "Ammount") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_PAYMENT_CURRENCY, "Curency") >= PS_FIELD_HINT_MIN);
    assert_true(score(PS_F_CUSTOMER_CATEGORY, "Custmer Categry") >= PS_FIELD_HINT_MIN);
    /* the closer header scores higher */
    assert_true(score(PS_F_METER_ID, "Meter No") > score(PS_F_METER_ID, "Meter"));
    assert_true(score(PS_F_CUSTOMER_ID, "Client ID") > score(PS_F_CUSTOMER_NAME, "Client ID"));
    /* generic words alone suggest nothing; unrelated headers nothing */
    assert_int_equal(score(PS_F_CUSTOMER_ID, "Meter No"), 0);
    assert_int_equal(score(PS_F_CUSTOMER_NAME, "Name"), 0);
    assert_int_equal(score(PS_F_TRANSACTION_TYPE, "Type"), 0);
    assert_int_equal(score(PS_F_PAYMENT_AMOUNT, "Payment ID"), 0);
    assert_int_equal(score(PS_F_METER_ID, "Region"), 0);
    assert_int_equal(score(PS_F_PAYMENT_AMOUNT, "Rate"), 0);
    assert_int_equal(score(PS_F_CUSTOMER_NAME, "Rate"), 0);
    assert_int_equal(score(PS_F_PAYMENT_AMOUNT, ""), 0);
    assert_int_equal(score(-1, "Amount"), 0);
    assert_int_equal(ps_field_hint_score(PS_F_PAYMENT_AMOUNT, NULL, 0), 0);
    /* long and odd headers are cut safely */
    char big[600];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(score(PS_F_PAYMENT_AMOUNT, big), 0);
    assert_int_equal(score(PS_F_PAYMENT_AMOUNT, "#######################"), 0);
    assert_true(score(PS_F_PAYMENT_AMOUNT, "a_b_c_d_e_f_g_amount") >= 0);
}

static ps_cell cell(const char *s)
{
    return (ps_cell){s, (uint32_t)strlen(s), PS_CELL_TEXT};
}

static char *mapping_text(const ps_dataset_def *def, const ps_cell *h, size_t n,
                          const ps_onboard *ob)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ps_onboard_print_mapping(f, def, h, n, ob, 4);
    fclose(f);
    return buf;
}

static void test_onboard(void **state)
{
    (void)state;
    /* A: Payment ID, B: Timestamp (mapped), C: Amount, D: Currency, E: Meter No, F: Amount
     * again (not unique), G: Customer ID (mapped) */
    ps_cell h[] = {cell("Payment ID"), cell("Timestamp"), cell("Amount"),     cell("Currency"),
                   cell("Meter No"),   cell("Amount"),    cell("Customer ID")};
    int col_field[] = {-1, PS_F_TIMESTAMP, -1, -1, -1, -1, PS_F_CUSTOMER_ID};
    ps_kv defaults[] = {{.key = (char *)"CUSTOMER_NAME", .value = (char *)"A \"quoted\" name"}};
    ps_kv columns[] = {{.key = (char *)"Client", .value = (char *)"CUSTOMER_ID"}};
    ps_dataset_def def = {.name = (char *)"d",
                          .profile = PS_PROFILE_STANDARD,
                          .defaults = defaults,
                          .ndefaults = 1,
                          .columns = columns,
                          .ncolumns = 1};
    unsigned char extracted[PS_FIELD_COUNT] = {0};
    extracted[PS_F_TRANSACTION_TYPE] = 1;
    ps_onboard ob;
    ps_onboard_build(&def, h, 7, col_field, extracted, &ob);
    /* required: TIMESTAMP (column), PAYMENT_AMOUNT, PAYMENT_CURRENCY, TRANSACTION_TYPE
     * (extract), CUSTOMER_ID (column), METER_ID, CUSTOMER_NAME (default), CUSTOMER_CATEGORY */
    assert_int_equal(ob.nmissing, 4);
    assert_int_equal(ob.missing[0], PS_F_PAYMENT_AMOUNT);
    assert_int_equal(ob.missing[1], PS_F_PAYMENT_CURRENCY);
    assert_int_equal(ob.missing[2], PS_F_METER_ID);
    assert_int_equal(ob.missing[3], PS_F_CUSTOMER_CATEGORY);
    assert_int_equal(ob.ncand[PS_F_PAYMENT_AMOUNT], 2); /* both Amount columns */
    assert_int_equal(ob.cand[PS_F_PAYMENT_AMOUNT][0], 2);
    assert_int_equal(ob.cand[PS_F_PAYMENT_AMOUNT][1], 5);
    assert_int_equal(ob.pick[PS_F_PAYMENT_AMOUNT], 2);
    assert_int_equal(ob.pick[PS_F_PAYMENT_CURRENCY], 3);
    assert_int_equal(ob.pick[PS_F_METER_ID], 4);
    assert_int_equal(ob.ncand[PS_F_CUSTOMER_CATEGORY], 0);
    assert_int_equal(ob.pick[PS_F_CUSTOMER_CATEGORY], -1);
    assert_int_equal(ob.pick[PS_F_ID], -1); /* not required: never picked */

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ps_onboard_print_missing(f, &ob, h);
    fclose(f);
    assert_non_null(strstr(buf, "missing required fields (4)"));
    assert_non_null(
        strstr(buf, "  PAYMENT_AMOUNT     'Amount' (column C)?, 'Amount' (column F)?\n"));
    assert_non_null(strstr(buf, "  METER_ID           'Meter No' (column E)?\n"));
    assert_non_null(strstr(buf, "  CUSTOMER_CATEGORY  no column looks like it: map one in "
                                "mapping.columns or set mapping.defaults.CUSTOMER_CATEGORY\n"));
    free(buf);

    /* "Amount" is not unique: named by its letters; the configured entries are kept */
    buf = mapping_text(&def, h, 7, &ob);
    assert_string_equal(buf, "    mapping:\n"
                             "      columns:\n"
                             "        \"Client\": CUSTOMER_ID\n"
                             "        \"@C\": PAYMENT_AMOUNT\n"
                             "        \"Currency\": PAYMENT_CURRENCY\n"
                             "        \"Meter No\": METER_ID\n"
                             "      defaults:\n"
                             "        CUSTOMER_NAME: \"A \\\"quoted\\\" name\"\n"
                             "        # CUSTOMER_CATEGORY: \"...\"   (no column found: map one "
                             "above or set a value)\n");
    free(buf);

    /* one column is picked for one field only; other mapping keys are named */
    ps_cell h2[] = {cell("Amount"), cell("Tab\there")};
    int cf2[] = {-1, -1};
    ps_dataset_def d2 = {.name = (char *)"d2",
                         .profile = PS_PROFILE_STANDARD,
                         .nfilters = 1,
                         .time_zone = (char *)"Africa/Lagos"};
    ps_onboard_build(&d2, h2, 2, cf2, NULL, &ob);
    assert_int_equal(ob.nmissing, 8);
    assert_int_equal(ob.pick[PS_F_PAYMENT_AMOUNT], 0);
    buf = mapping_text(&d2, h2, 2, &ob);
    assert_non_null(strstr(buf, "        \"Amount\": PAYMENT_AMOUNT\n      defaults:\n"));
    assert_non_null(strstr(buf, "        # METER_ID: \"...\""));
    assert_non_null(strstr(buf, "      # keep the dataset's other mapping keys as they are: "
                                "timestamp, filters\n"));
    free(buf);

    /* no mapping at all (col_field NULL): every column counts as unmapped */
    ps_onboard_build(&d2, h, 7, NULL, NULL, &ob);
    assert_int_equal(ob.pick[PS_F_PAYMENT_AMOUNT], 2);
    /* nothing missing: nothing printed */
    ps_dataset_def d3 = {.name = (char *)"d3", .profile = PS_PROFILE_STANDARD};
    int all[PS_FIELD_COUNT];
    ps_cell hall[PS_FIELD_COUNT];
    for (int i = 0; i < PS_FIELD_COUNT; i++) {
        all[i] = i;
        hall[i] = cell(ps_field_name(i));
    }
    ps_onboard_build(&d3, hall, PS_FIELD_COUNT, all, NULL, &ob);
    assert_int_equal(ob.nmissing, 0);
    f = open_memstream(&buf, &len);
    ps_onboard_print_missing(f, &ob, hall);
    fclose(f);
    assert_string_equal(buf, "");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores),
        cmocka_unit_test(test_onboard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

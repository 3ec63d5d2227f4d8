/* Unit tests of the gsheet_writer sink's tab names (template check, expansion, matching of
 * existing tabs) and rows (JSON text of the 21 cells, escaping, absent fields). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../plugins/gsheet_writer/gw_rows.h"

static void test_template_check(void **state)
{
    (void)state;
    char bad[32];
    assert_int_equal(ps_gw_tmpl_check("{month}_{dataset}", bad), 0);
    assert_int_equal(ps_gw_tmpl_check("Payments", bad), 0);
    assert_int_equal(ps_gw_tmpl_check("{month}_{site}", bad), -1);
    assert_string_equal(bad, "{site}");
    assert_int_equal(ps_gw_tmpl_check("x{month", bad), -1);
    assert_string_equal(bad, "{month");
}

static void test_title(void **state)
{
    (void)state;
    char out[PS_GW_TITLE_MAX + 1];
    assert_int_equal(ps_gw_tab_title("{month}_{dataset}", "Kuje", "2024-01-31T23:59:59.999Z", out),
                     12);
    assert_string_equal(out, "01_2024_Kuje");
    assert_int_equal(ps_gw_tab_title("{dataset}", "Kuje", NULL, out), 4);
    assert_string_equal(out, "Kuje");
    char longname[120];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ps_gw_tab_title("{dataset}", longname, NULL, out), 0); /* over 100 */
    longname[100] = '\0';
    assert_int_equal(ps_gw_tab_title("{dataset}", longname, NULL, out), 100);
    assert_int_equal(ps_gw_tab_title("", "Kuje", NULL, out), 0); /* empty */
}

static void test_matches(void **state)
{
    (void)state;
    assert_true(ps_gw_tab_matches("{month}_{dataset}", "Kuje", "12_2023_Kuje"));
    assert_false(ps_gw_tab_matches("{month}_{dataset}", "Kuje", "13_2023_Kuje"));
    assert_false(ps_gw_tab_matches("{month}_{dataset}", "Kuje", "00_2023_Kuje"));
    assert_false(ps_gw_tab_matches("{month}_{dataset}", "Kuje", "01_2023_Kujex"));
    assert_false(ps_gw_tab_matches("{month}_{dataset}", "Kuje", "01_20x3_Kuje"));
    assert_false(ps_gw_tab_matches("{month}_{dataset}", "Kuje", "01_2023"));
    assert_true(ps_gw_tab_matches("{dataset}", "Kuje", "Kuje"));
    assert_false(ps_gw_tab_matches("{dataset}", "Kuje", "README"));
}

static void test_json_str(void **state)
{
    (void)state;
    const char in[] = "a\"b\\c\n\x01\xc3\xa9";
    char out[ps_gw_json_bound(sizeof in)];
    size_t n = ps_gw_json_str(out, in, sizeof in - 1);
    out[n] = '\0';
    assert_string_equal(out, "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\"");
}

static void test_record_row(void **state)
{
    (void)state;
    ps_record rec;
    memset(&rec, 0, sizeof rec);
    rec.field[PS_F_ID] = ps_str_from("P1");
    rec.field[PS_F_TIMESTAMP] = ps_str_from("2024-03-05T14:16:01.350Z");
    rec.field[PS_F_PAYMENT_AMOUNT] = ps_str_from("1500.50");
    rec.field[PS_F_METER_ID] = ps_str_from("0004204");
    rec.field[PS_F_CUSTOMER_NAME] = ps_str_from("Bello, \"Amina\"");
    size_t len = 0;
    char *row = ps_gw_record_row(&rec, &len);
    assert_non_null(row);
    assert_int_equal(strlen(row), len);
    assert_string_equal(row, "[\"P1\",\"2024-03-05T14:16:01.350Z\",\"1500.50\",\"\",\"\",\"\","
                             "\"\",\"\",\"0004204\",\"Bello, \\\"Amina\\\"\",\"\",\"\",\"\","
                             "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]");
    free(row);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_check), cmocka_unit_test(test_title),
        cmocka_unit_test(test_matches),        cmocka_unit_test(test_json_str),
        cmocka_unit_test(test_record_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

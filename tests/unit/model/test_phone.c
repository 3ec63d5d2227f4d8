/* Unit tests: CUSTOMER_PHONE validation and E.164 normalisation (core/src/model/phone.h),
 * numbering plans from libphonenumber. Expected values agree with python3-phonenumbers of
 * the same release (tests/integration/test_phone_oracle.py compares 10,000+ numbers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/phone.h"

typedef struct {
    const char *in;
    const char *region;
    int rc;             /* length, or a negative code */
    const char *out;    /* E.164 text, or a part of the reason */
    const char *reason; /* a second part of the reason, or NULL */
} phone_case;

static const phone_case cases[] = {
    {"+2348031234567", NULL, 14, "+2348031234567", NULL},
    {"+234 803 123 4567", NULL, 14, "+2348031234567", NULL},
    {"+234-803-123-4567", "KE", 14, "+2348031234567", NULL},
    {"+234 (803) 123.4567", NULL, 14, "+2348031234567", NULL},
    {"002348031234567", NULL, 14, "+2348031234567", NULL},
    {"00 234 803 123 4567", "GH", 14, "+2348031234567", NULL},
    /* without a country, digits that lost their '+' */
    {"2348031234567", NULL, 14, "+2348031234567", NULL},
    /* national numbers of the dataset's country, with and without the trunk prefix */
    {"08031234567", "NG", 14, "+2348031234567", NULL},
    {"8031239999", "NG", 14, "+2348031239999", NULL}, /* issue 12: was "+8031239999" */
    {"2348031234567", "NG", 14, "+2348031234567", NULL},
    {"07400 123456", "GB", 13, "+447400123456", NULL},
    {"(201) 555-0123", "CA", 12, "+12015550123", NULL},
    {"+6834002", NULL, 8, "+6834002", NULL},                      /* Niue: 7 digits, valid */
    {"+49301234567890123", NULL, 18, "+49301234567890123", NULL}, /* 17 digits, valid in DE */
    /* invalid: the reason names the country */
    {"0805 123 45", "NG", PS_PHONE_INVALID, "is not a valid number for NG (+234)",
     "+234 802 123 4567"}, /* issue 12: was accepted */
    {"0803 123 4567", "KE", PS_PHONE_INVALID, "is not a valid number for KE (+254)", NULL},
    {"+44 12", NULL, PS_PHONE_INVALID, "is too short for +44 (GB and 3 more countries)", NULL},
    {"+1234567", NULL, PS_PHONE_INVALID, "is too short for +1 (US and 24 more countries)", NULL},
    {"+1234567890123456", NULL, PS_PHONE_INVALID, "is too long for +1", NULL},
    {"+2341234567890123456789012345678901234567890", NULL, PS_PHONE_INVALID, "is too long", NULL},
    {"+999 1234 5678", NULL, PS_PHONE_INVALID, "does not start with a known country calling code",
     NULL},
    {"+", NULL, PS_PHONE_INVALID, "is not a phone number", NULL},
    {"00", "NG", PS_PHONE_INVALID, "is not a phone number", NULL},
    {"08031234567", NULL, PS_PHONE_LOCAL, "the dataset sets no country", NULL},
    {"08031234567", "", PS_PHONE_LOCAL, "mapping.country", NULL},
    {"", NULL, PS_PHONE_EMPTY, "is empty", NULL},
    {"  ", "NG", PS_PHONE_EMPTY, "is empty", NULL},
    {"phone", "NG", PS_PHONE_SYNTAX, "characters other than digits", NULL},
    {"+234 803 ext 5", NULL, PS_PHONE_SYNTAX, "characters", NULL},
    {"234+803", NULL, PS_PHONE_SYNTAX, "characters", NULL},
    {"++234803123456", NULL, PS_PHONE_SYNTAX, "characters", NULL},
};

static void test_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const phone_case *c = &cases[i];
        char out[PS_PHONE_MAX], why[PS_PHONE_WHY_MAX];
        int rc = ps_phone_normalise(c->in, strlen(c->in), c->region, out, why);
        print_message("case %zu '%s' %s -> %d '%s' '%s'\n", i, c->in, c->region ? c->region : "-",
                      rc, out, why);
        assert_int_equal(rc, c->rc);
        if (rc > 0) {
            assert_string_equal(out, c->out);
            assert_int_equal(strlen(out), (size_t)rc);
            assert_string_equal(why, "");
        } else {
            assert_string_equal(out, "");
            assert_non_null(strstr(why, c->out));
            if (c->reason)
                assert_non_null(strstr(why, c->reason));
        }
    }
}

static void test_null_reason_and_not_terminated(void **state)
{
    char out[PS_PHONE_MAX];
    (void)state;
    /* why may be NULL; the input need not be NUL-terminated */
    assert_int_equal(ps_phone_normalise("0805 123 45", 11, "NG", out, NULL), PS_PHONE_INVALID);
    assert_int_equal(ps_phone_normalise("08031234567XYZ", 11, "NG", out, NULL), 14);
    assert_string_equal(out, "+2348031234567");
    assert_int_equal(ps_phone_normalise(NULL, 0, "NG", out, NULL), PS_PHONE_EMPTY);
}

static void test_regions(void **state)
{
    char r[3];
    (void)state;
    assert_int_equal(ps_phone_region_for_code("234", r), 0);
    assert_string_equal(r, "NG");
    assert_int_equal(ps_phone_region_for_code("+254", r), 0);
    assert_string_equal(r, "KE");
    /* shared codes: libphonenumber's main country */
    assert_int_equal(ps_phone_region_for_code("1", r), 0);
    assert_string_equal(r, "US");
    assert_int_equal(ps_phone_region_for_code("7", r), 0);
    assert_string_equal(r, "RU");
    assert_int_equal(ps_phone_region_for_code("44", r), 0);
    assert_string_equal(r, "GB");
    /* not a country's code */
    static const char *const bad[] = {"800", "999", "0", "023", "2345", "23a", "", "+"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ps_phone_region_for_code(bad[i], r), -1);
        assert_string_equal(r, "");
    }
    assert_int_equal(ps_phone_region_for_code(NULL, r), -1);

    assert_int_equal(ps_phone_calling_code("NG"), 234);
    assert_int_equal(ps_phone_calling_code("ng"), 234);
    assert_int_equal(ps_phone_calling_code("Gb"), 44);
    assert_int_equal(ps_phone_calling_code("XX"), 0);
    assert_int_equal(ps_phone_calling_code("ZZ"), 0);
    assert_int_equal(ps_phone_calling_code("N"), 0);
    assert_int_equal(ps_phone_calling_code("NGA"), 0);
    assert_int_equal(ps_phone_calling_code("1A"), 0);
    assert_int_equal(ps_phone_calling_code(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_null_reason_and_not_terminated),
        cmocka_unit_test(test_regions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

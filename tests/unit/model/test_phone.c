/* Unit tests: CUSTOMER_PHONE normalisation (core/src/model/phone.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/phone.h"

typedef struct {
    const char *in;
    const char *cc;
    int rc; /* length, or a negative code */
    const char *out;
} phone_case;

static const phone_case cases[] = {
    {"+2348031234567", NULL, 14, "+2348031234567"},
    {"+234 803 123 4567", NULL, 14, "+2348031234567"},
    {"+234-803-123-4567", NULL, 14, "+2348031234567"},
    {"+234 (803) 123.4567", NULL, 14, "+2348031234567"},
    {"002348031234567", NULL, 14, "+2348031234567"},
    {"2348031234567", NULL, 14, "+2348031234567"},
    {"08031234567", "234", 14, "+2348031234567"},
    {"0803 123 4567", "254", 14, "+2548031234567"},
    {"+12345678", NULL, 9, "+12345678"},
    {"+123456789012345", NULL, 16, "+123456789012345"},
    {"08031234567", NULL, PS_PHONE_LOCAL, NULL},
    {"08031234567", "", PS_PHONE_LOCAL, NULL},
    {"+1234567", NULL, PS_PHONE_LENGTH, NULL},
    {"+1234567890123456", NULL, PS_PHONE_LENGTH, NULL},
    {"+", NULL, PS_PHONE_LENGTH, NULL},
    {"", NULL, PS_PHONE_EMPTY, NULL},
    {"  ", NULL, PS_PHONE_EMPTY, NULL},
    {"phone", NULL, PS_PHONE_SYNTAX, NULL},
    {"+234 803 ext 5", NULL, PS_PHONE_SYNTAX, NULL},
    {"234+803", NULL, PS_PHONE_SYNTAX, NULL},
    {"++234803123456", NULL, PS_PHONE_SYNTAX, NULL},
};

static void test_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const phone_case *c = &cases[i];
        char out[PS_PHONE_MAX];
        int rc = ps_phone_normalise(c->in, strlen(c->in), c->cc, out);
        print_message("case %zu '%s'\n", i, c->in);
        assert_int_equal(rc, c->rc);
        if (rc > 0)
            assert_string_equal(out, c->out);
    }
}

static void test_reasons(void **state)
{
    (void)state;
    assert_non_null(strstr(ps_phone_reason(PS_PHONE_LENGTH), "8 to 15 digits"));
    assert_non_null(strstr(ps_phone_reason(PS_PHONE_LOCAL), "phone_country_code"));
    assert_non_null(strstr(ps_phone_reason(PS_PHONE_SYNTAX), "characters"));
    assert_non_null(strstr(ps_phone_reason(PS_PHONE_EMPTY), "empty"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

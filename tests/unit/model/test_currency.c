/* Unit tests: ISO 4217 codes, currency names and symbols (core/src/model/currency.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/currency.h"

typedef struct {
    const char *in;
    int rc;
    const char *code;       /* PS_CUR_OK */
    const char *candidates; /* PS_CUR_AMBIGUOUS: substring */
} cur_case;

static const cur_case cases[] = {
    {"NGN", PS_CUR_OK, "NGN", NULL},
    {"ngn", PS_CUR_OK, "NGN", NULL},
    {"Kes", PS_CUR_OK, "KES", NULL},
    {"XOF", PS_CUR_OK, "XOF", NULL},
    {"ZWG", PS_CUR_OK, "ZWG", NULL},
    {"SLE", PS_CUR_OK, "SLE", NULL},
    {"Naira", PS_CUR_OK, "NGN", NULL},
    {"NAIRA", PS_CUR_OK, "NGN", NULL},
    {"Nigerian  Naira", PS_CUR_OK, "NGN", NULL},
    {"Cedi", PS_CUR_OK, "GHS", NULL},
    {"ghana-cedi", PS_CUR_OK, "GHS", NULL},
    {"Rand", PS_CUR_OK, "ZAR", NULL},
    {"Kenyan Shilling", PS_CUR_OK, "KES", NULL},
    {"Zambian Kwacha", PS_CUR_OK, "ZMW", NULL},
    {"Malawian Kwacha", PS_CUR_OK, "MWK", NULL},
    {"US Dollar", PS_CUR_OK, "USD", NULL},
    {"Euro", PS_CUR_OK, "EUR", NULL},
    {"Kwacha", PS_CUR_AMBIGUOUS, NULL, "ZMW or MWK"},
    {"Shilling", PS_CUR_AMBIGUOUS, NULL, "KES"},
    {"CFA Franc", PS_CUR_AMBIGUOUS, NULL, "XOF or XAF"},
    {"Franc CFA", PS_CUR_AMBIGUOUS, NULL, "XOF or XAF"},
    {"FCFA", PS_CUR_AMBIGUOUS, NULL, "XOF or XAF"},
    {"Dollar", PS_CUR_AMBIGUOUS, NULL, "USD"},
    {"Rupee", PS_CUR_AMBIGUOUS, NULL, "INR"},
    {"XYZ", PS_CUR_UNKNOWN, NULL, NULL},
    {"HRK", PS_CUR_UNKNOWN, NULL, NULL}, /* withdrawn 2023 */
    {"NG", PS_CUR_UNKNOWN, NULL, NULL},
    {"NGNN", PS_CUR_UNKNOWN, NULL, NULL},
    {"N1N", PS_CUR_UNKNOWN, NULL, NULL},
    {"", PS_CUR_UNKNOWN, NULL, NULL},
    {"Bitcoin", PS_CUR_UNKNOWN, NULL, NULL},
    {"\xe2\x82\xa6", PS_CUR_UNKNOWN, NULL, NULL}, /* a symbol is not a currency cell value */
};

static void test_parse_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *code = (const char *)1, *cand = (const char *)1;
        int rc = ps_currency_parse(cases[i].in, strlen(cases[i].in), &code, &cand);
        print_message("case %zu '%s'\n", i, cases[i].in);
        assert_int_equal(rc, cases[i].rc);
        if (rc == PS_CUR_OK) {
            assert_string_equal(code, cases[i].code);
            assert_null(cand);
        } else {
            assert_null(code);
        }
        if (rc == PS_CUR_AMBIGUOUS)
            assert_non_null(strstr(cand, cases[i].candidates));
    }
}

static void test_list_sorted_and_complete(void **state)
{
    size_t i, n = ps_currency_count();
    (void)state;
    assert_true(n >= 175);
    for (i = 0; i < n; i++) {
        const char *c = ps_currency_at(i);
        assert_int_equal(strlen(c), 3);
        assert_ptr_equal(ps_currency_code(c, 3), c);
        if (i)
            assert_true(strcmp(ps_currency_at(i - 1), c) < 0);
    }
    assert_null(ps_currency_at(n));
}

/* Every three letters (and the same in lower or mixed case, and with a byte outside A-Z):
 * ps_currency_code finds exactly the listed codes, as a linear search does. */
static void test_code_lookup_exhaustive(void **state)
{
    size_t n = ps_currency_count(), found = 0;
    (void)state;
    for (int a = 0; a < 28; a++)
        for (int b = 0; b < 26; b++)
            for (int c = 0; c < 26; c++) {
                char k[4] = {(char)(a < 26    ? 'A' + a
                                    : a == 26 ? '@'
                                              : '['),
                             (char)('A' + b), (char)('a' + c), '\0'};
                char u[4] = {k[0], k[1], (char)('A' + c), '\0'};
                const char *want = NULL;
                for (size_t i = 0; i < n && !want; i++)
                    if (strcmp(ps_currency_at(i), u) == 0)
                        want = ps_currency_at(i);
                assert_ptr_equal(ps_currency_code(u, 3), want);
                assert_ptr_equal(ps_currency_code(k, 3), want);
                assert_null(ps_currency_code(u, 2));
                found += want != NULL;
            }
    assert_int_equal(found, n);
    /* every byte value in each position of every listed code: only the letter itself, in
     * either case, keeps it found (bytes such as '@', '`', '{' and 0xc1 sit next to the
     * letters in the ASCII table or differ from one only in bit 0x20) */
    for (size_t i = 0; i < n; i++)
        for (int pos = 0; pos < 3; pos++)
            for (int x = 0; x < 256; x++) {
                char k[4];
                memcpy(k, ps_currency_at(i), 4);
                k[pos] = (char)x;
                char u[4];
                for (int j = 0; j < 4; j++)
                    u[j] = k[j] >= 'a' && k[j] <= 'z' ? (char)(k[j] - 32) : k[j];
                const char *want = NULL;
                for (size_t j = 0; j < n && !want; j++)
                    if (strcmp(ps_currency_at(j), u) == 0)
                        want = ps_currency_at(j);
                assert_ptr_equal(ps_currency_code(k, 3), want);
            }
}

typedef struct {
    const char *tok;
    const char *code;
    int agrees;
} affix_case;

static const affix_case affixes[] = {
    {"NGN", "NGN", 1},
    {"ngn", "NGN", 1},
    {"KES", "NGN", 0},
    {"\xe2\x82\xa6", "NGN", 1}, /* ₦ */
    {"\xe2\x82\xa6", "GHS", 0},
    {"GH\xe2\x82\xb5", "GHS", 1},
    {"$", "USD", 1},
    {"$", "LRD", 1},
    {"$", "NGN", 0},
    {"US$", "USD", 1},
    {"KSh", "KES", 1},
    {"ksh", "KES", 1},
    {"KSh", "UGX", 0},
    {"K", "ZMW", 1},
    {"K", "MWK", 1},
    {"CFA", "XOF", 1},
    {"Naira", "NGN", 1},
    {"Naira", "GHS", 0},
    {"Shilling", "UGX", 1},
    {"Shilling", "NGN", 0},
    {"NGN", NULL, 1},
    {"\xe2\x82\xa6", NULL, 1},
    {"abc", "NGN", -1},
    {"abc", NULL, -1},
    {"XYZ", "NGN", -1},
    {"", "NGN", -1},
};

static void test_affix_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof affixes / sizeof affixes[0]; i++) {
        print_message("affix %zu '%s' vs %s\n", i, affixes[i].tok,
                      affixes[i].code ? affixes[i].code : "(none)");
        assert_int_equal(
            ps_currency_affix_agrees(affixes[i].tok, strlen(affixes[i].tok), affixes[i].code),
            affixes[i].agrees);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_list_sorted_and_complete),
        cmocka_unit_test(test_code_lookup_exhaustive),
        cmocka_unit_test(test_affix_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

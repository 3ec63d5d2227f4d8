/* Unit tests: TRANSACTION_TYPE matching (core/src/model/txtype.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/txtype.h"

typedef struct {
    const char *in;
    int type;
} tx_case;

static const tx_case cases[] = {
    {"FULL_PAYMENT", PS_TX_FULL_PAYMENT},
    {"full payment", PS_TX_FULL_PAYMENT},
    {"Installment payment", PS_TX_INSTALLMENT_PAYMENT},
    {"installment-payment", PS_TX_INSTALLMENT_PAYMENT},
    {"  Installment  -  Payment ", PS_TX_INSTALLMENT_PAYMENT},
    {"Non Contract Payment", PS_TX_NON_CONTRACT_PAYMENT},
    {"non-contract_payment", PS_TX_NON_CONTRACT_PAYMENT},
    {"discount", PS_TX_DISCOUNT},
    {"REVERSAL", PS_TX_REVERSAL},
    {"Energy Credit", PS_TX_ENERGY_CREDIT},
    {"PAY", -1},
    {"FULLPAYMENT", -1},
    {"Instalment payment", -1},
    {"", -1},
    {"   ", -1},
    {"_FULL_PAYMENT", -1},
    {"FULL_PAYMENT_", -1},
    {"FULL_PAYMENT FULL_PAYMENT FULL_PAYMENT FULL_PAYMENT FULL_PAYMENT FULL_PAYMENT", -1},
};

static void test_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu '%s'\n", i, cases[i].in);
        assert_int_equal(ps_txtype_parse(cases[i].in, strlen(cases[i].in)), cases[i].type);
    }
}

static void test_names(void **state)
{
    int t;
    (void)state;
    for (t = 0; t < PS_TX_COUNT; t++)
        assert_int_equal(ps_txtype_parse(ps_txtype_name(t), strlen(ps_txtype_name(t))), t);
    assert_null(ps_txtype_name(-1));
    assert_null(ps_txtype_name(PS_TX_COUNT));
}

static void test_aliases(void **state)
{
    ps_txtype_alias al[2];
    (void)state;
    ps_txtype_key("pay", 3, al[0].key, sizeof al[0].key);
    al[0].type = PS_TX_FULL_PAYMENT;
    ps_txtype_key("Part pay", 8, al[1].key, sizeof al[1].key);
    al[1].type = PS_TX_INSTALLMENT_PAYMENT;
    assert_string_equal(al[1].key, "PART_PAY");
    assert_int_equal(ps_txtype_parse_with("PAY", 3, al, 2), PS_TX_FULL_PAYMENT);
    assert_int_equal(ps_txtype_parse_with(" part-pay ", 10, al, 2), PS_TX_INSTALLMENT_PAYMENT);
    assert_int_equal(ps_txtype_parse_with("reversal", 8, al, 2), PS_TX_REVERSAL);
    assert_int_equal(ps_txtype_parse_with("payment", 7, al, 2), -1);
    /* an alias may redefine a canonical name: it wins over the exact-name fast path */
    ps_txtype_key("Reversal", 8, al[1].key, sizeof al[1].key);
    al[1].type = PS_TX_DISCOUNT;
    assert_int_equal(ps_txtype_parse_with("REVERSAL", 8, al, 2), PS_TX_DISCOUNT);
    assert_int_equal(ps_txtype_parse_with("REVERSAL", 8, al, 0), PS_TX_REVERSAL);
    assert_int_equal(ps_txtype_parse_with("FULL_PAYMENT", 12, al, 2), PS_TX_FULL_PAYMENT);
}

static void test_key_truncation(void **state)
{
    char out[4];
    (void)state;
    assert_int_equal(ps_txtype_key("abcdef", 6, out, sizeof out), 6);
    assert_string_equal(out, "ABC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_key_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

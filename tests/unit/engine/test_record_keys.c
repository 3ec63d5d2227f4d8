/* Unit tests: record-shaped providers' keys (ps_mapping_match_path, the path map in
 * engine/mapping.h) and the host's checks on their batches (ps_protocol_check_records). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mapping.h"
#include "engine/protocol.h"

static const char *const alias_header[] = {"/customer/phone", "Amount (NGN)", "/items/0/amount"};
static const int alias_field[] = {PS_F_CUSTOMER_PHONE, PS_F_PAYMENT_AMOUNT,
                                  PS_F_TRANSACTION_CHARGES};
static const ps_mapping_spec spec = {alias_header, alias_field, 3, NULL, PS_PROFILE_STANDARD, NULL};

static int match(const char *path)
{
    return ps_mapping_match_path(&spec, path, strlen(path));
}

static void test_match_path(void **state)
{
    (void)state;
    /* configured paths, compared exactly */
    assert_int_equal(match("/customer/phone"), PS_F_CUSTOMER_PHONE);
    assert_int_equal(match("/items/0/amount"), PS_F_TRANSACTION_CHARGES);
    assert_int_equal(match("/Customer/Phone"), -1);
    /* top-level keys: the header rules (canonical names, normalisation, aliases) */
    assert_int_equal(match("/PAYMENT_AMOUNT"), PS_F_PAYMENT_AMOUNT);
    assert_int_equal(match("/payment_amount"), PS_F_PAYMENT_AMOUNT);
    assert_int_equal(match("/timestamp"), PS_F_TIMESTAMP);
    assert_int_equal(match("/Amount (NGN)"), PS_F_PAYMENT_AMOUNT);
    assert_int_equal(match("/id"), PS_F_ID);
    /* nested or escaped keys map only through mapping.columns */
    assert_int_equal(match("/customer/name"), -1);
    assert_int_equal(match("/a~1b"), -1);
    /* not a path */
    assert_int_equal(match("customer/phone"), -1);
    assert_int_equal(match("/"), -1);
    assert_int_equal(match(""), -1);
    assert_int_equal(ps_mapping_match_path(NULL, "/notes", 6), PS_F_NOTES);
}

static void test_path_map(void **state)
{
    (void)state;
    ps_path_map *m = ps_path_map_new(&spec);
    assert_non_null(m);
    for (int round = 0; round < 3; round++) { /* cached after the first round */
        assert_int_equal(ps_path_map_field(m, "/customer/phone", 15), PS_F_CUSTOMER_PHONE);
        assert_int_equal(ps_path_map_field(m, "/status", 7), PS_F_STATUS);
        assert_int_equal(ps_path_map_field(m, "/extra/thing", 12), -1);
        assert_int_equal(ps_path_map_field(m, "/other", 6), -1);
    }
    size_t n = 0;
    char **unknown = ps_path_map_take_unknown(m, &n);
    assert_int_equal(n, 2); /* each unmapped path once */
    assert_string_equal(unknown[0], "/extra/thing");
    assert_string_equal(unknown[1], "/other");
    for (size_t i = 0; i < n; i++)
        free(unknown[i]);
    free(unknown);
    assert_null(ps_path_map_take_unknown(m, &n));
    assert_int_equal(n, 0);
    /* bounded: many distinct paths still map (uncached past the limit), unknowns capped */
    char p[32];
    for (int i = 0; i < 3 * PS_PATH_CACHE_MAX; i++) {
        int k = snprintf(p, sizeof p, "/k%d/x", i);
        assert_int_equal(ps_path_map_field(m, p, (size_t)k), -1);
    }
    assert_int_equal(ps_path_map_field(m, "/customer/phone", 15), PS_F_CUSTOMER_PHONE);
    assert_int_equal(ps_path_map_field(m, "/payment_amount", 15), PS_F_PAYMENT_AMOUNT);
    unknown = ps_path_map_take_unknown(m, &n);
    assert_int_equal(n, PS_PATH_UNKNOWN_MAX);
    for (size_t i = 0; i < n; i++)
        free(unknown[i]);
    free(unknown);
    ps_path_map_free(m);
    ps_path_map_free(NULL);
}

/* One record of one value through ps_protocol_check_records: NULL when accepted, else the
 * message. */
static const char *check_value(ps_value v)
{
    static ps_error err;
    ps_keyed_row row = {7, 1, &v};
    ps_row_batch b = {.struct_size = sizeof b, .count = 1, .records = &row};
    memset(&err, 0, sizeof err);
    return ps_protocol_check_records("rec", &b, &err) == PS_OK ? NULL : err.message;
}

static ps_value val(const char *path, ps_value_type type, const char *text)
{
    ps_value v = {path, path ? (uint32_t)strlen(path) : 0, (uint8_t)type, text,
                  text ? (uint32_t)strlen(text) : 0};
    return v;
}

static void expect(ps_value v, const char *want)
{
    const char *got = check_value(v);
    if (!want) {
        if (got)
            fail_msg("unexpected refusal: %s", got);
        return;
    }
    if (!got || !strstr(got, want))
        fail_msg("got '%s', wanted '%s'", got ? got : "(accepted)", want);
}

static void test_protocol_records(void **state)
{
    (void)state;
    expect(val("/a", PS_VAL_TEXT, "x"), NULL);
    expect(val("/a", PS_VAL_TEXT, ""), NULL);
    expect(val("/a", PS_VAL_NULL, ""), NULL);
    expect(val("/a", PS_VAL_DECIMAL, "-1500.50"), NULL);
    expect(val("/a", PS_VAL_DECIMAL, "7"), NULL);
    expect(val("/a", PS_VAL_INT, "42"), NULL);
    expect(val("/a", PS_VAL_BOOL, "false"), NULL);
    expect(val("/a", PS_VAL_NULL, "x"),
           "record 7, value 1 ('/a'): a NULL value must have empty text");
    expect(val("/a", PS_VAL_DECIMAL, "1e3"), "a DECIMAL value is not exact decimal text");
    expect(val("/a", PS_VAL_DECIMAL, "1."), "a DECIMAL value is not exact decimal text");
    expect(val("/a", PS_VAL_DECIMAL, ".5"), "a DECIMAL value is not exact decimal text");
    expect(val("/a", PS_VAL_DECIMAL, "-"), "a DECIMAL value is not exact decimal text");
    expect(val("/a", PS_VAL_INT, "4.0"), "an INT value is not -?[0-9]+");
    expect(val("/a", PS_VAL_BOOL, "TRUE"), "a BOOL value is not true or false");
    expect(val("/a", (ps_value_type)9, "x"), "type is not a ps_value_type");
    expect(val("/a", PS_VAL_TEXT, NULL), "protocol error: provider 'rec' record 7, value 1 ('/a'): "
                                         "text is NULL");
    expect(val(NULL, PS_VAL_TEXT, "x"), "record 7, value 1: path is NULL");
    expect(val("a", PS_VAL_TEXT, "x"), "path must start with '/'");
    ps_value v = val("/abc", PS_VAL_TEXT, "xyz");
    v.len = 2;
    expect(v, "len disagrees with the text");
    v = val("/abc", PS_VAL_TEXT, "xyz");
    v.path_len = 2;
    expect(v, "path must start with '/' and end at path[path_len]");

    ps_error err = {0};
    ps_row_batch b = {.struct_size = sizeof b};
    assert_int_equal(ps_protocol_check_records("rec", &b, &err), PS_ERR_SOURCE);
    assert_non_null(strstr(err.message, "provider 'rec' returned PS_OK with no rows"));
    b.count = 2;
    assert_int_equal(ps_protocol_check_records("rec", &b, &err), PS_ERR_SOURCE);
    assert_non_null(strstr(err.message, "returned 2 records but records is NULL"));
    ps_keyed_row row = {3, 4, NULL};
    b.count = 1;
    b.records = &row;
    assert_int_equal(ps_protocol_check_records("rec", &b, &err), PS_ERR_SOURCE);
    assert_non_null(strstr(err.message, "record 3 has 4 values but values is NULL"));
    row.nvalues = 0; /* an empty record is well formed (a blank row) */
    assert_int_equal(ps_protocol_check_records("rec", &b, &err), PS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_path),
        cmocka_unit_test(test_path_map),
        cmocka_unit_test(test_protocol_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

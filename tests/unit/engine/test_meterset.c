/* Unit tests: the verify_meters meter set and its near-miss keys (core/src/engine/meterset.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/meterset.h"

static const char *key(const char *id, char *buf, size_t cap)
{
    size_t n = ps_meterset_key(id, strlen(id), buf, cap - 1);
    if (n == (size_t)-1)
        return NULL;
    buf[n] = '\0';
    return buf;
}

static void test_keys(void **state)
{
    char b[64];
    (void)state;
    assert_string_equal(key("MTR-0042", b, sizeof b), "MTR42");
    assert_string_equal(key("mtr 042", b, sizeof b), "MTR42");
    assert_string_equal(key("0007781", b, sizeof b), "7781");
    assert_string_equal(key("000", b, sizeof b), "0");
    assert_string_equal(key("A-0-0", b, sizeof b), "A0");   /* one run across separators */
    assert_string_equal(key("10-05", b, sizeof b), "1005"); /* inner zeros are kept */
    assert_string_equal(key("sm_a.17/b", b, sizeof b), "SMA17B");
    assert_string_equal(key("MTR-1000", b, sizeof b), "MTR1000");
    assert_string_equal(key("\xc3\xa9-01", b, sizeof b), "\xc3\xa9"
                                                         "1"); /* bytes >= 0x80 kept */
    assert_null(key("ABCDEFGH", b, 4));
}

static void test_has_and_near(void **state)
{
    ps_meterset *s = ps_meterset_new();
    size_t n = 0;
    (void)state;
    assert_non_null(s);
    assert_int_equal(ps_meterset_add(s, "MTR-0042", 8), PS_METERSET_ADDED);
    assert_int_equal(ps_meterset_add(s, "MTR-0042", 8), PS_METERSET_PRESENT);
    assert_int_equal(ps_meterset_add(s, "MTR-42", 6), PS_METERSET_ADDED); /* same key */
    assert_int_equal(ps_meterset_add(s, "", 0), PS_METERSET_TOO_LONG);
    char big[PS_METER_ID_MAX + 1];
    memset(big, 'x', sizeof big);
    assert_int_equal(ps_meterset_add(s, big, sizeof big), PS_METERSET_TOO_LONG);
    assert_int_equal(ps_meterset_add(s, big, PS_METER_ID_MAX), PS_METERSET_ADDED);
    assert_int_equal(ps_meterset_count(s), 3);
    assert_true(ps_meterset_has(s, "MTR-0042", 8));
    assert_false(ps_meterset_has(s, "MTR-004", 7));
    assert_false(ps_meterset_has(s, "mtr-0042", 8)); /* exact bytes only */
    const char *m = ps_meterset_near(s, "mtr 0042", 8, &n);
    assert_non_null(m);
    assert_int_equal(n, 8);
    assert_string_equal(m, "MTR-0042"); /* the first ID added with that key */
    assert_null(ps_meterset_near(s, "MTR-1042", 8, &n));
    assert_null(ps_meterset_near(s, "--", 2, &n)); /* an empty key matches nothing */
    ps_meterset_free(s);
    ps_meterset_free(NULL);
}

static void test_growth(void **state)
{
    ps_meterset *s = ps_meterset_new();
    char id[32];
    (void)state;
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(id, sizeof id, "M-%06d", i);
        assert_int_equal(ps_meterset_add(s, id, (size_t)n), PS_METERSET_ADDED);
    }
    assert_int_equal(ps_meterset_count(s), 50000);
    for (int i = 0; i < 50000; i += 997) {
        int n = snprintf(id, sizeof id, "M-%06d", i);
        assert_true(ps_meterset_has(s, id, (size_t)n));
        n = snprintf(id, sizeof id, "m%d", i);
        size_t nl = 0;
        const char *near = ps_meterset_near(s, id, (size_t)n, &nl);
        assert_non_null(near);
        snprintf(id, sizeof id, "M-%06d", i);
        assert_string_equal(near, id);
    }
    assert_false(ps_meterset_has(s, "M-050000", 8));
    ps_meterset_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_has_and_near),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

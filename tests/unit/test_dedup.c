/* Unit tests: in-run duplicate/conflict detection (ps_dedup in core/src/validate.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "validate.h"

static void test_new_duplicate_conflict(void **state)
{
    ps_dedup *d = ps_dedup_new();
    uint64_t first = 0;
    (void)state;
    assert_non_null(d);
    assert_int_equal(ps_dedup_check(d, "P-001", 42, 2, &first), PS_DEDUP_NEW);
    assert_int_equal(ps_dedup_check(d, "P-002", 42, 3, &first), PS_DEDUP_NEW);
    assert_int_equal(ps_dedup_check(d, "P-001", 42, 7, &first), PS_DEDUP_DUPLICATE);
    assert_int_equal(first, 2);
    assert_int_equal(ps_dedup_check(d, "P-001", 43, 9, &first), PS_DEDUP_CONFLICT);
    assert_int_equal(first, 2);
    /* leading zeros make a different ID */
    assert_int_equal(ps_dedup_check(d, "0001", 1, 10, &first), PS_DEDUP_NEW);
    assert_int_equal(ps_dedup_check(d, "1", 1, 11, &first), PS_DEDUP_NEW);
    assert_int_equal(ps_dedup_count(d), 4);
    assert_int_equal(ps_dedup_check(d, NULL, 1, 12, &first), PS_DEDUP_ERROR);
    assert_int_equal(ps_dedup_check(NULL, "x", 1, 12, &first), PS_DEDUP_ERROR);
    ps_dedup_free(d);
    ps_dedup_free(NULL);
}

static void test_growth(void **state)
{
    ps_dedup *d = ps_dedup_new();
    char id[32];
    uint64_t i, first = 0;
    (void)state;
    /* many IDs force several rehashes; every one stays findable with its first row */
    for (i = 0; i < 50000; i++) {
        snprintf(id, sizeof id, "ID-%llu", (unsigned long long)i);
        assert_int_equal(ps_dedup_check(d, id, i * 7, i + 2, &first), PS_DEDUP_NEW);
    }
    assert_int_equal(ps_dedup_count(d), 50000);
    for (i = 0; i < 50000; i += 97) {
        snprintf(id, sizeof id, "ID-%llu", (unsigned long long)i);
        assert_int_equal(ps_dedup_check(d, id, i * 7, 999999, &first), PS_DEDUP_DUPLICATE);
        assert_int_equal(first, i + 2);
        assert_int_equal(ps_dedup_check(d, id, i * 7 + 1, 999999, &first), PS_DEDUP_CONFLICT);
    }
    assert_int_equal(ps_dedup_count(d), 50000);
    ps_dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_duplicate_conflict),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

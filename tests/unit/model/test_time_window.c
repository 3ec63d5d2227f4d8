/* Unit tests: the FROM/TO window shared by export and serve (core/src/model/time_window.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/time_window.h"
#include "model/timestamp.h"

#define D0 INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */

static void test_bound_units(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        int64_t ms, unit;
    } c[] = {
        {"2024-01-01", PS_TIME_OK, D0, 86400000},
        {"2024-01-01T00:00", PS_TIME_OK, D0, 60000},
        {"2024-01-01T01:00+01:00", PS_TIME_OK, D0, 60000},
        {"2024-01-01T00:00:00Z", PS_TIME_OK, D0, 1000},
        {"2024-01-01 00:00:00", PS_TIME_OK, D0, 1000},
        {"2024-01-01T03:00:00+03:00", PS_TIME_OK, D0, 1000},
        {"2024-01-01T00:00:00.5Z", PS_TIME_OK, D0 + 500, 1},
        {"2024-01-01T00:00:00,250", PS_TIME_OK, D0 + 250, 1},
        {"2024-01-01T00:00:00.000Z", PS_TIME_OK, D0, 1},
        {"2024-02-30", PS_TIME_RANGE, 0, 0},
        {"yesterday", PS_TIME_SYNTAX, 0, 0},
        {"2024-01-01T", PS_TIME_SYNTAX, 0, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int64_t ms = -7, unit = -7;
        int rc = ps_time_window_bound(c[i].in, strlen(c[i].in), &ms, &unit);
        if (rc != c[i].rc)
            fail_msg("'%s': rc %d, expected %d", c[i].in, rc, c[i].rc);
        if (rc == PS_TIME_OK) {
            if (ms != c[i].ms || unit != c[i].unit)
                fail_msg("'%s': ms %lld unit %lld", c[i].in, (long long)ms, (long long)unit);
        } else {
            assert_int_equal(ms, -7); /* untouched on error */
            assert_int_equal(unit, -7);
        }
    }
}

static void test_close(void **state)
{
    (void)state;
    int64_t end = -1;
    /* TO without a fraction: its whole second. */
    assert_int_equal(ps_time_window_close(D0, D0 + 59000, 1000, &end), 0);
    assert_int_equal(end, D0 + 59999);
    /* A date alone: its whole day; a fraction: exactly that millisecond. */
    assert_int_equal(ps_time_window_close(D0, D0, 86400000, &end), 0);
    assert_int_equal(end, D0 + 86399999);
    assert_int_equal(ps_time_window_close(D0, D0 + 500, 1, &end), 0);
    assert_int_equal(end, D0 + 500);
    /* FROM equal to TO is a window; FROM after TO is refused and end left alone. */
    end = 42;
    assert_int_equal(ps_time_window_close(D0 + 1, D0, 1000, &end), -1);
    assert_int_equal(end, 42);
    /* No overflow at the top. */
    assert_int_equal(ps_time_window_close(0, INT64_MAX - 10, 1000, &end), 0);
    assert_int_equal(end, INT64_MAX);
    assert_string_equal(ps_time_window_order_message(), "FROM must not be after TO");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_units),
        cmocka_unit_test(test_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

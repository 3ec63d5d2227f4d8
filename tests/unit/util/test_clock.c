/* Unit tests: core/src/util/clock.c (real and fake clocks, PS_TEST_FAKE_SLEEP). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "plugin/host.h"
#include "util/clock.h"

static void test_fake_clock(void **state)
{
    (void)state;
    ps_clock_set_fake(1, 5000);
    assert_int_equal(ps_clock_now_ms(), 5000);
    assert_int_equal(ps_clock_monotonic_ms(), 5000);
    ps_clock_sleep_ms(250);
    ps_clock_sleep_ms(0);
    ps_clock_sleep_ms(-7);
    assert_int_equal(ps_clock_now_ms(), 5250);
    assert_int_equal(ps_clock_monotonic_ms(), 5250);
    assert_int_equal(ps_clock_slept_ms(), 250);
    /* the host table reads and sleeps on the same clock */
    const ps_host *h = ps_host_get();
    h->sleep_ms(1000);
    assert_int_equal(h->now_ms(), 6250);
    assert_int_equal(h->monotonic_ms(), 6250);
    assert_int_equal(ps_now_ms(), 6250);
    ps_clock_set_fake(0, 0);
    assert_int_equal(ps_clock_slept_ms(), 0);
}

static void test_real_clock(void **state)
{
    (void)state;
    int64_t a = ps_clock_monotonic_ms();
    ps_clock_sleep_ms(20);
    int64_t b = ps_clock_monotonic_ms();
    assert_true(b - a >= 20);
    assert_true(ps_clock_now_ms() > 1700000000000LL); /* after 2023 */
    setenv("PAYSYNC_FAKE_NOW_MS", "1234", 1);
    assert_int_equal(ps_clock_now_ms(), 1234);
    unsetenv("PAYSYNC_FAKE_NOW_MS");
}

static void test_env_fake_sleep(void **state)
{
    (void)state;
    setenv("PS_TEST_FAKE_SLEEP", "1", 1);
    setenv("PAYSYNC_FAKE_NOW_MS", "1000", 1);
    int64_t m = ps_clock_monotonic_ms();
    ps_clock_sleep_ms(3600 * 1000); /* an hour, in no time */
    assert_true(ps_clock_monotonic_ms() - m >= 3600 * 1000);
    assert_true(ps_clock_monotonic_ms() - m < 3600 * 1000 + 5000);
    assert_int_equal(ps_clock_now_ms(), 1000 + 3600 * 1000);
    unsetenv("PAYSYNC_FAKE_NOW_MS");
    unsetenv("PS_TEST_FAKE_SLEEP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_clock),
        cmocka_unit_test(test_real_clock),
        cmocka_unit_test(test_env_fake_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

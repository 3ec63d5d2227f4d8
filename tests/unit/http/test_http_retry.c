/* Unit tests: core/src/http/retry.c (retry statuses, backoff, Retry-After) and
 * core/src/http/redact.c (secret scrubbing), pure functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http/redact.h"
#include "http/retry.h"

static void test_statuses(void **state)
{
    (void)state;
    long yes[] = {408, 429, 500, 502, 503, 504, 599};
    long no[] = {200, 204, 301, 400, 401, 403, 404, 409, 410, 422, 600};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(ps_retry_status(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(ps_retry_status(no[i]));
}

/* The gsheet plugin's former schedule is the default one: min(2^n s + 0..1 s, 32 s). */
static void test_backoff(void **state)
{
    (void)state;
    ps_retry_policy p = {4, 1000, 32000, 64000};
    uint64_t rng = 12345;
    int saw_jitter = 0;
    for (int attempt = 0; attempt < 10; attempt++) {
        int64_t base = attempt >= 5 ? 32000 : (int64_t)1000 << attempt;
        for (int k = 0; k < 20; k++) {
            int64_t d = ps_retry_delay_ms(&p, &rng, attempt, -1);
            assert_true(d >= (base < 32000 ? base : 32000));
            assert_true(d <= (base + 1000 < 32000 ? base + 1000 : 32000));
            saw_jitter |= d != base && d != 32000;
        }
    }
    assert_true(saw_jitter);
    assert_int_equal(ps_retry_delay_ms(&p, &rng, 0, 7000), 7000); /* Retry-After honoured */
    assert_int_equal(ps_retry_delay_ms(&p, &rng, 3, 0), 0);
    assert_int_equal(ps_retry_delay_ms(&p, &rng, 0, 600000), 64000); /* capped */
    /* another policy: base 100 ms, cap 250 ms */
    ps_retry_policy q = {3, 100, 250, 1000};
    for (int k = 0; k < 50; k++) {
        int64_t d0 = ps_retry_delay_ms(&q, &rng, 0, -1);
        assert_true(d0 >= 100 && d0 <= 200);
        assert_true(ps_retry_delay_ms(&q, &rng, 1, -1) >= 200);
        assert_int_equal(ps_retry_delay_ms(&q, &rng, 9, -1), 250);
    }
    uint64_t zero = 0; /* a zero seed still jitters (xorshift never sticks at 0) */
    assert_true(ps_retry_delay_ms(&q, &zero, 0, -1) >= 100);
    assert_true(zero != 0);
}

#define RA(s, now) ps_retry_after_parse(s, strlen(s), now)

static void test_retry_after(void **state)
{
    (void)state;
    /* 1994-11-06T08:49:37Z = 784111777 s */
    const int64_t t = 784111777000LL;
    assert_int_equal(RA("0", 0), 0);
    assert_int_equal(RA("7", 0), 7000);
    assert_int_equal(RA(" 120 \r\n", 0), 120000);
    assert_int_equal(RA("99999999999999", 0), (int64_t)INT32_MAX * 1000);
    assert_int_equal(RA("Sun, 06 Nov 1994 08:49:37 GMT", t - 5000), 5000);
    assert_int_equal(RA("Sunday, 06-Nov-94 08:49:37 GMT", t - 3000), 3000);
    assert_int_equal(RA("Sun Nov  6 08:49:37 1994", t - 1500), 1500);
    assert_int_equal(RA("Sun, 06 Nov 1994 08:49:37 GMT", t + 9000), 0); /* past: now */
    assert_int_equal(RA("Wed, 21 Oct 2015 07:28:00 GMT", 1445412473000LL), 7000);
    const char *bad[] = {"",
                         "soon",
                         "-5",
                         "5s",
                         "1.5",
                         "Sun, 06 Nov 1994 08:49:37 UTC",
                         "Sun, 06 Foo 1994 08:49:37 GMT",
                         "Sun, 6 Nov 1994 08:49:37 GMT",
                         "Sun, 06 Nov 1994 25:49:37 GMT",
                         "Sun Nov  6 08:49:37",
                         "Sun, 00 Nov 1994 08:49:37 GMT"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(RA(bad[i], t), -1);
}

static void test_secrets(void **state)
{
    (void)state;
    ps_secrets s = {0};
    assert_int_equal(ps_secrets_add(&s, "s3cr/t+key"), 0);
    assert_int_equal(ps_secrets_add(&s, "s3cr/t+key"), 0); /* duplicate ignored */
    assert_int_equal(ps_secrets_add(&s, ""), 0);
    assert_int_equal(ps_secrets_add(&s, "abc"), 0); /* too short: not a secret we can find */
    assert_int_equal(ps_secrets_add(&s, NULL), 0);
    assert_int_equal(s.n, 2); /* raw and percent-encoded */
    char msg[200] = "key s3cr/t+key in s3cr%2Ft%2Bkey and abc then s3cr/t+keys3cr/t+key";
    ps_secrets_scrub(&s, msg);
    assert_string_equal(msg, "key *** in *** and abc then ******");
    char *u = ps_secrets_url(&s, "https://h/p?a=1&key=zzz&ACCESS_TOKEN=t0k&q=s3cr%2Ft%2Bkey&"
                                 "token=#frag");
    assert_non_null(u);
    assert_string_equal(u, "https://h/p?a=1&key=***&ACCESS_TOKEN=***&q=***&token=***#frag");
    free(u);
    u = ps_secrets_url(&s, "http://h/no/query");
    assert_string_equal(u, "http://h/no/query");
    free(u);
    ps_secrets_free(&s);
    assert_int_equal(s.n, 0);
    ps_secrets_scrub(&s, msg); /* empty list: no-op */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

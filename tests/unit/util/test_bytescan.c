/* Unit tests: ps_has_nul (core/src/util/bytescan.h) says what memchr says: every length
 * 0-80 with no NUL, and with a NUL at every position (alone, or among other NULs and bytes
 * 0x01 / 0x80 / 0xff that a word trick could mistake for one); random strings; and it reads
 * nothing past the end (each string ends at the end of its own heap block, so ASan and
 * valgrind see an over-read). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "util/bytescan.h"

static void check(const char *bytes, size_t n)
{
    char *s = malloc(n ? n : 1); /* exactly n bytes */
    assert_non_null(s);
    if (n) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(s, bytes, n);
    int want = n > 0 && memchr(s, '\0', n) != NULL;
    if (ps_has_nul(s, n) != want)
        print_message("length %zu: ps_has_nul %d, memchr %d\n", n, ps_has_nul(s, n), want);
    assert_int_equal(ps_has_nul(s, n), want);
    free(s);
}

static void every_position(void **state)
{
    static const char fill[] = {'a', '\x01', '\x80', '\xff'};
    char b[80];
    (void)state;
    check(NULL, 0);
    for (size_t n = 1; n <= sizeof b; n++) {
        for (size_t k = 0; k < sizeof fill; k++) {
            memset(b, fill[k], n);
            check(b, n);
            for (size_t pos = 0; pos < n; pos++) {
                memset(b, fill[k], n);
                b[pos] = '\0';
                check(b, n);
                if (pos + 1 < n) { /* a NUL, then a byte 0x01 (a borrow's trap) */
                    b[pos + 1] = '\x01';
                    check(b, n);
                }
            }
        }
    }
}

static void random_strings(void **state)
{
    char b[100];
    int with = 0;
    (void)state;
    for (int r = 0; r < 200000; r++) {
        size_t n = rnd(sizeof b + 1);
        for (size_t i = 0; i < n; i++)
            b[i] = rnd(40) == 0 ? '\0' : (char)(1 + rnd(255));
        with += n > 0 && memchr(b, '\0', n) != NULL;
        check(b, n);
    }
    assert_true(with > 50000 && with < 150000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_position),
        cmocka_unit_test(random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: duration and size text (util/duration.h, util/size.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/duration.h"
#include "util/size.h"

static void test_duration_parse_and_format(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
        const char *compact, *exact;
    } ok[] = {
        {"500ms", 500, "500ms", "500ms"}, {"90s", 90000, "1m30s", "1m30s"},
        {"10m", 600000, "10m", "10m"},    {"1h30m", 5400000, "1h30m", "1h30m"},
        {"2d", 172800000, "2d", "2d"},    {"1s500ms", 1500, "1s", "1s500ms"},
        {"1m1ms", 60001, "1m", "1m1ms"},  {"0ms", 0, "0s", "0s"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        const char *why = NULL;
        assert_int_equal(ps_duration_parse(ok[i].in, 1, &ms, &why), 0);
        assert_int_equal(ms, ok[i].ms);
        char buf[40];
        ps_duration_format(ms, buf, sizeof buf);
        assert_string_equal(buf, ok[i].compact);
        ps_duration_format_exact(ms, buf, sizeof buf);
        assert_string_equal(buf, ok[i].exact);
        int64_t back = -1;
        assert_int_equal(ps_duration_parse(buf, 1, &back, &why), 0);
        assert_int_equal(back, ms);
    }
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"", "a duration is required"},
        {"5", "a number needs a unit ms, s, m, h or d"},
        {"5x", "unknown unit: use ms, s, m, h or d"},
        {"5mss", "expected a number followed by a unit ms, s, m, h or d"},
        {"1.5h", "unknown unit"},
        {" 5s", "expected a number"},
        {"-5s", "expected a number"},
        {"3661d", "too long"},
        {"99999999999999999999s", "too long"},
        {"0s", "longer than zero"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 0;
        const char *why = NULL;
        assert_int_equal(ps_duration_parse(bad[i].in, 0, &ms, &why), -1);
        if (!strstr(why, bad[i].why))
            fail_msg("'%s': '%s' lacks '%s'", bad[i].in, why, bad[i].why);
    }
}

static void test_size_parse_and_format(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t bytes;
        const char *shown;
    } ok[] = {
        {"0", 0, "0B"},
        {"512", 512, "512B"},
        {"512b", 512, "512B"},
        {"64k", 65536, "64KiB"},
        {"64K", 65536, "64KiB"},
        {"64KiB", 65536, "64KiB"},
        {"64 KiB", 65536, "64KiB"},
        {"64kB", 64000, "64000B"},
        {"10MB", 10000000, "10000000B"},
        {"10MiB", 10485760, "10MiB"},
        {"10m", 10485760, "10MiB"},
        {"1G", 1073741824, "1GiB"},
        {"3GB", 3000000000LL, "3000000000B"},
        {"2TiB", 2199023255552LL, "2TiB"},
        {"1536", 1536, "1536B"},
        {"8388607TiB", 9223370937343148032LL, "8388607TiB"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -1;
        const char *why = NULL;
        if (ps_size_parse(ok[i].in, &v, &why) != 0)
            fail_msg("'%s' refused: %s", ok[i].in, why);
        assert_int_equal(v, ok[i].bytes);
        char buf[32];
        ps_size_format(v, buf, sizeof buf);
        assert_string_equal(buf, ok[i].shown);
        int64_t back = -1;
        assert_int_equal(ps_size_parse(buf, &back, &why), 0);
        assert_int_equal(back, v);
    }
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"", "a size is required"},
        {"k", "expected a whole number of bytes"},
        {"-1", "expected a whole number of bytes"},
        {"1.5k", "unknown unit"},
        {"10X", "unknown unit: use B, KiB, MiB, GiB, TiB (or k, M, G, T: powers of 1024) or kB, "
                "MB, GB, TB (powers of 1000)"},
        {"10 MB extra", "unknown unit"},
        {"9223372036854775808", "size is too large"},
        {"8388608TiB", "size is too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 0;
        const char *why = NULL;
        assert_int_equal(ps_size_parse(bad[i].in, &v, &why), -1);
        if (!strstr(why, bad[i].why))
            fail_msg("'%s': '%s' lacks '%s'", bad[i].in, why, bad[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parse_and_format),
        cmocka_unit_test(test_size_parse_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

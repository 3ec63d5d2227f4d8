/* Unit tests: timestamp parsing and formatting (core/include/paysync/timestamp.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/timestamp.h"
#include "test_rng.h"

typedef struct {
    const char *in;
    int rc;
    const char *out; /* canonical form when rc == OK */
} iso_case;

static const iso_case iso_cases[] = {
    /* the spec's canonical form and its own example */
    {"2024-03-05T14:16:01.350Z", PS_TIME_OK, "2024-03-05T14:16:01.350Z"},
    {"2021-05-16T14:16:01", PS_TIME_OK, "2021-05-16T14:16:01.000Z"},
    /* fractions: 1..9 digits truncated to ms */
    {"2024-03-05T14:16:01.3Z", PS_TIME_OK, "2024-03-05T14:16:01.300Z"},
    {"2024-03-05T14:16:01.35Z", PS_TIME_OK, "2024-03-05T14:16:01.350Z"},
    {"2024-03-05T14:16:01.3509Z", PS_TIME_OK, "2024-03-05T14:16:01.350Z"},
    {"2024-03-05T14:16:01.999999999Z", PS_TIME_OK, "2024-03-05T14:16:01.999Z"},
    {"2024-03-05T14:16:01,5Z", PS_TIME_OK, "2024-03-05T14:16:01.500Z"},
    {"2024-03-05T14:16:01.1234567890Z", PS_TIME_SYNTAX, NULL},
    {"2024-03-05T14:16:01.Z", PS_TIME_SYNTAX, NULL},
    /* offsets */
    {"2024-03-05T14:16:01+01:00", PS_TIME_OK, "2024-03-05T13:16:01.000Z"},
    {"2024-03-05T14:16:01+0100", PS_TIME_OK, "2024-03-05T13:16:01.000Z"},
    {"2024-03-05T14:16:01+01", PS_TIME_OK, "2024-03-05T13:16:01.000Z"},
    {"2024-03-05T14:16:01-05:30", PS_TIME_OK, "2024-03-05T19:46:01.000Z"},
    {"2024-03-05T00:10:00+03:00", PS_TIME_OK, "2024-03-04T21:10:00.000Z"},
    {"2024-03-05T14:16:01z", PS_TIME_OK, "2024-03-05T14:16:01.000Z"},
    {"2024-03-05T14:16:01+1", PS_TIME_SYNTAX, NULL},
    {"2024-03-05T14:16:01+01:0", PS_TIME_SYNTAX, NULL},
    {"2024-03-05T14:16:01+19:00", PS_TIME_RANGE, NULL},
    /* separators and partial forms */
    {"2024-03-05 14:16:01", PS_TIME_OK, "2024-03-05T14:16:01.000Z"},
    {"2024-03-05 14:16", PS_TIME_OK, "2024-03-05T14:16:00.000Z"},
    {"2024-03-05", PS_TIME_OK, "2024-03-05T00:00:00.000Z"},
    {"2024-02-29", PS_TIME_OK, "2024-02-29T00:00:00.000Z"},
    {"2000-02-29", PS_TIME_OK, "2000-02-29T00:00:00.000Z"},
    {"1970-01-01T00:00:00Z", PS_TIME_OK, "1970-01-01T00:00:00.000Z"},
    {"1969-12-31T23:59:59.999Z", PS_TIME_OK, "1969-12-31T23:59:59.999Z"},
    /* impossible dates and times */
    {"2024-02-30", PS_TIME_RANGE, NULL},
    {"2023-02-29", PS_TIME_RANGE, NULL},
    {"1900-02-29", PS_TIME_RANGE, NULL},
    {"2024-04-31", PS_TIME_RANGE, NULL},
    {"2024-13-01", PS_TIME_RANGE, NULL},
    {"2024-00-10", PS_TIME_RANGE, NULL},
    {"2024-01-00", PS_TIME_RANGE, NULL},
    {"2024-03-05T25:00:00", PS_TIME_RANGE, NULL},
    {"2024-03-05T24:00:00", PS_TIME_RANGE, NULL},
    {"2024-03-05T14:60:00", PS_TIME_RANGE, NULL},
    {"2024-03-05T14:16:60", PS_TIME_RANGE, NULL},
    /* syntax */
    {"", PS_TIME_SYNTAX, NULL},
    {"yesterday", PS_TIME_SYNTAX, NULL},
    {"05/03/2024", PS_TIME_SYNTAX, NULL},
    {"2024-3-5", PS_TIME_SYNTAX, NULL},
    {"2024-03-05T", PS_TIME_SYNTAX, NULL},
    {"2024-03-05T14", PS_TIME_SYNTAX, NULL},
    {"2024-03-05X14:16:01", PS_TIME_SYNTAX, NULL},
    {"2024-03-05T14:16:01Z junk", PS_TIME_SYNTAX, NULL},
    {"24-03-05", PS_TIME_SYNTAX, NULL},
};

static void test_iso_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof iso_cases / sizeof iso_cases[0]; i++) {
        const iso_case *c = &iso_cases[i];
        int64_t ms = 0;
        char buf[PS_TIME_TEXT_MAX];
        int rc = ps_time_parse_iso(c->in, strlen(c->in), NULL, &ms);
        print_message("case %zu '%s'\n", i, c->in);
        assert_int_equal(rc, c->rc);
        if (rc == PS_TIME_OK) {
            assert_int_equal(ps_time_format(ms, buf), 24);
            assert_string_equal(buf, c->out);
        }
    }
}

static void test_iso_naive_zone(void **state)
{
    ps_tz *tz = NULL;
    ps_error err;
    int64_t ms;
    char buf[PS_TIME_TEXT_MAX];
    (void)state;
    assert_int_equal(ps_tz_load("+01:00", &tz, &err), PS_OK);
    /* no zone: wall clock in the naive zone */
    assert_int_equal(ps_time_parse_iso("2024-03-05T14:16:01", 19, tz, &ms), PS_TIME_OK);
    ps_time_format(ms, buf);
    assert_string_equal(buf, "2024-03-05T13:16:01.000Z");
    /* a date alone is midnight in the naive zone */
    assert_int_equal(ps_time_parse_iso("2024-03-05", 10, tz, &ms), PS_TIME_OK);
    ps_time_format(ms, buf);
    assert_string_equal(buf, "2024-03-04T23:00:00.000Z");
    /* an explicit offset wins over the naive zone */
    assert_int_equal(ps_time_parse_iso("2024-03-05T14:16:01Z", 20, tz, &ms), PS_TIME_OK);
    ps_time_format(ms, buf);
    assert_string_equal(buf, "2024-03-05T14:16:01.000Z");
    ps_tz_free(tz);
}

typedef struct {
    const char *in;
    const char *fmt;
    int rc;
    const char *out;
} fmt_case;

static const fmt_case fmt_cases[] = {
    {"05/03/2024 14:16", "%d/%m/%Y %H:%M", PS_TIME_OK, "2024-03-05T14:16:00.000Z"},
    {"5/3/2024 4:06", "%d/%m/%Y %H:%M", PS_TIME_OK, "2024-03-05T04:06:00.000Z"},
    {"03/05/24 14:16:01", "%m/%d/%y %H:%M:%S", PS_TIME_OK, "2024-03-05T14:16:01.000Z"},
    {"03/05/69", "%m/%d/%y", PS_TIME_OK, "1969-03-05T00:00:00.000Z"},
    {"5 Mar 2024 2:16 PM", "%d %b %Y %I:%M %p", PS_TIME_OK, "2024-03-05T14:16:00.000Z"},
    {"5 march 2024 12:00 am", "%d %B %Y %I:%M %p", PS_TIME_OK, "2024-03-05T00:00:00.000Z"},
    {"5 Sep 2024 12:30 pm", "%d %b %Y %I:%M %p", PS_TIME_OK, "2024-09-05T12:30:00.000Z"},
    {"2024.03.05 14:16:01.123456 +0100", "%Y.%m.%d %H:%M:%S.%f %z", PS_TIME_OK,
     "2024-03-05T13:16:01.123Z"},
    {"2024-03-05 14:16 UTC", "%Y-%m-%d %H:%M %Z", PS_TIME_OK, "2024-03-05T14:16:00.000Z"},
    {"100% 2024-03-05", "100%% %Y-%m-%d", PS_TIME_OK, "2024-03-05T00:00:00.000Z"},
    {"30/02/2024", "%d/%m/%Y", PS_TIME_RANGE, NULL},
    {"05/03/2024 25:00", "%d/%m/%Y %H:%M", PS_TIME_RANGE, NULL},
    {"13:00 PM 05/03/2024", "%I:%M %p %d/%m/%Y", PS_TIME_RANGE, NULL},
    {"05/03/2024", "%d/%m/%Y %H:%M", PS_TIME_SYNTAX, NULL},
    {"05/03/2024 14:16 extra", "%d/%m/%Y %H:%M", PS_TIME_SYNTAX, NULL},
    {"05-03-2024", "%d/%m/%Y", PS_TIME_SYNTAX, NULL},
    {"14:16", "%H:%M", PS_TIME_SYNTAX, NULL}, /* no date */
    {"5 Foo 2024", "%d %b %Y", PS_TIME_SYNTAX, NULL},
    {"2024-03-05 CET", "%Y-%m-%d %Z", PS_TIME_SYNTAX, NULL},
    {"2024-03-05", "%Y-%m-%d %Q", PS_TIME_SYNTAX, NULL},
};

static void test_format_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof fmt_cases / sizeof fmt_cases[0]; i++) {
        const fmt_case *c = &fmt_cases[i];
        int64_t ms = 0;
        char buf[PS_TIME_TEXT_MAX];
        int rc = ps_time_parse_format(c->in, strlen(c->in), c->fmt, NULL, &ms);
        print_message("case %zu '%s' with '%s'\n", i, c->in, c->fmt);
        assert_int_equal(rc, c->rc);
        if (rc == PS_TIME_OK) {
            ps_time_format(ms, buf);
            assert_string_equal(buf, c->out);
        }
    }
}

typedef struct {
    const char *in;
    int rc;
    const char *out;
} serial_case;

static const serial_case serial_cases[] = {
    {"45356", PS_TIME_OK, "2024-03-05T00:00:00.000Z"},
    {"45356.5", PS_TIME_OK, "2024-03-05T12:00:00.000Z"},
    {"45356.5935300926", PS_TIME_OK, "2024-03-05T14:14:41.000Z"},
    {"45356.59446", PS_TIME_OK, "2024-03-05T14:16:01.344Z"},
    {"25569", PS_TIME_OK, "1970-01-01T00:00:00.000Z"},
    {"0", PS_TIME_OK, "1899-12-30T00:00:00.000Z"},
    {"1.25", PS_TIME_OK, "1899-12-31T06:00:00.000Z"},
    {"45356.99999999999", PS_TIME_OK, "2024-03-06T00:00:00.000Z"},
    {"-1", PS_TIME_RANGE, NULL},
    {"99999999", PS_TIME_RANGE, NULL},
    {"4.5E4", PS_TIME_SYNTAX, NULL},
    {"", PS_TIME_SYNTAX, NULL},
    {".", PS_TIME_SYNTAX, NULL},
    {"abc", PS_TIME_SYNTAX, NULL},
};

static void test_serial_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof serial_cases / sizeof serial_cases[0]; i++) {
        const serial_case *c = &serial_cases[i];
        int64_t ms = 0;
        char buf[PS_TIME_TEXT_MAX];
        int rc = ps_time_parse_serial(c->in, strlen(c->in), NULL, &ms);
        print_message("case %zu '%s'\n", i, c->in);
        assert_int_equal(rc, c->rc);
        if (rc == PS_TIME_OK) {
            ps_time_format(ms, buf);
            assert_string_equal(buf, c->out);
        }
    }
}

static void test_serial_in_zone(void **state)
{
    ps_tz *tz = NULL;
    int64_t ms;
    char buf[PS_TIME_TEXT_MAX];
    (void)state;
    assert_int_equal(ps_tz_load("+03:00", &tz, NULL), PS_OK);
    assert_int_equal(ps_time_parse_serial("45356.5", 7, tz, &ms), PS_TIME_OK);
    ps_time_format(ms, buf);
    assert_string_equal(buf, "2024-03-05T09:00:00.000Z");
    ps_tz_free(tz);
}

static void test_civil_round_trip(void **state)
{
    int64_t d, y;
    unsigned m, dd;
    (void)state;
    assert_int_equal(ps_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(ps_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(ps_days_from_civil(1899, 12, 30), -25569);
    for (d = -800000; d < 800000; d += 997) {
        ps_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(ps_days_from_civil(y, m, dd), d);
    }
}

static void test_format_bounds(void **state)
{
    char buf[PS_TIME_TEXT_MAX];
    int64_t ms;
    (void)state;
    assert_int_equal(ps_time_parse_iso("9999-12-31T23:59:59.999Z", 24, NULL, &ms), PS_TIME_OK);
    ps_time_format(ms, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
    /* an offset that pushes past year 9999 is out of range */
    assert_int_equal(ps_time_parse_iso("9999-12-31T23:59:59-01:00", 25, NULL, &ms), PS_TIME_RANGE);
    assert_int_equal(ps_time_parse_iso("0000-01-01T00:00:00Z", 20, NULL, &ms), PS_TIME_OK);
    ps_time_format(ms, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
}

/* ps_time_parse_canonical against ps_time_parse_iso + ps_time_format: whenever the fast
 * path decides, the full path gives the same instant and writes the input back; a value the
 * full path writes back unchanged is one the fast path decides. Edge cases, then random
 * 24-byte values of the canonical shape (digits anywhere, leap days, range limits) with a
 * byte changed now and then. */
/* A random timestamp of the canonical form (canonical 1: 24 bytes) or to the second with a
 * space or 'T' (0: 19 bytes) into s (>= 32 bytes): digits anywhere, mostly in range, leap
 * days often; a quarter get one byte replaced by one of mutate, one in twenty are cut short.
 * Returns the length. */
static size_t random_stamp(char *s, int canonical, const char *mutate)
{
    unsigned y = rnd(4) ? 1900 + rnd(200) : rnd(10000);
    unsigned mon = rnd(8) ? 1 + rnd(12) : rnd(100), day = rnd(8) ? 1 + rnd(31) : rnd(100);
    unsigned hh = rnd(8) ? rnd(24) : rnd(100), mi = rnd(8) ? rnd(60) : rnd(100);
    unsigned ss = rnd(8) ? rnd(60) : rnd(100), ms = rnd(1000);
    size_t len = canonical ? 24 : 19;
    if (rnd(10) == 0)
        mon = 2, day = 28 + rnd(2);
    if (canonical)
        snprintf(s, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mon, day, hh, mi, ss, ms);
    else
        snprintf(s, 32, "%04u-%02u-%02u%c%02u:%02u:%02u", y, mon, day, rnd(2) ? ' ' : 'T', hh, mi,
                 ss);
    if (rnd(4) == 0)
        s[rnd((unsigned)len)] = mutate[rnd((unsigned)strlen(mutate))];
    if (rnd(20) == 0)
        len = rnd((unsigned)len + 1);
    return len;
}

/* Runs agree (which asserts) over the n edge cases, of which `decided` are decided, then over
 * 300,000 random stamps of the form (canonical or not) with mutations from mutate. */
static void run_fast_path(int (*agree)(const char *, size_t), const char *const *cases, size_t n,
                          int decided, int canonical, const char *mutate)
{
    int got = 0;
    for (size_t i = 0; i < n; i++)
        got += agree(cases[i], strlen(cases[i]));
    assert_int_equal(got, decided);
    got = 0;
    for (int r = 0; r < 300000; r++) {
        char s[32];
        size_t len = random_stamp(s, canonical, mutate);
        got += agree(s, len);
    }
    assert_true(got > 100000);
}

static int canonical_agrees(const char *s, size_t len)
{
    int64_t fast = 0, full = 0;
    char back[PS_TIME_TEXT_MAX];
    int d = ps_time_parse_canonical(s, len, &fast);
    int rc = ps_time_parse_iso(s, len, NULL, &full);
    int round_trip =
        rc == PS_TIME_OK && ps_time_format(full, back) == len && memcmp(back, s, len) == 0;
    if (d != round_trip || (d && fast != full))
        print_message("'%.*s': fast %d (%lld), full %d (%lld)\n", (int)len, s, d, (long long)fast,
                      rc, (long long)full);
    assert_int_equal(d, round_trip);
    if (d)
        assert_true(fast == full);
    return d;
}

static void test_canonical_fast_path(void **state)
{
    static const char *const cases[] = {
        "2024-02-29T12:00:00.000Z",  "2023-02-29T12:00:00.000Z", "1900-02-29T00:00:00.000Z",
        "2000-02-29T00:00:00.000Z",  "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
        "1969-12-31T23:59:59.999Z",  "1970-01-01T00:00:00.000Z", "2024-01-01t00:00:00.000Z",
        "2024-01-01T00:00:00.000z",  "2024-13-01T00:00:00.000Z", "2024-00-01T00:00:00.000Z",
        "2024-01-00T00:00:00.000Z",  "2024-04-31T00:00:00.000Z", "2024-01-01T24:00:00.000Z",
        "2024-01-01T23:60:00.000Z",  "2024-01-01T23:59:60.000Z", "2024-01-01 00:00:00.000Z",
        "2024-01-01T00:00:00,000Z",  "2024-01-01T00:00:00.000+", "2024-01-01T00:00:00.00Z",
        "2024-01-01T00:00:00.0000Z", "+024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z",
    };
    (void)state;
    run_fast_path(canonical_agrees, cases, sizeof cases / sizeof *cases, 6, 1,
                  "0123456789-T:.Zz t+/");
}

/* ps_time_parse_seconds_utc against ps_time_parse_iso (naive zone UTC) + ps_time_format:
 * it decides exactly the 19-byte values to the second the full path accepts (not the ones
 * to the minute with a zone), with the same instant and text. */
static int seconds_agree(const char *s, size_t len)
{
    int64_t fast = 0, full = 0;
    char text[PS_TIME_TEXT_MAX], back[PS_TIME_TEXT_MAX];
    int d = ps_time_parse_seconds_utc(s, len, &fast, text);
    int rc = ps_time_parse_iso(s, len, NULL, &full);
    int want = len == 19 && rc == PS_TIME_OK && s[16] == ':'; /* not "...T00:51-00" */
    if (d != want)
        print_message("'%.*s': fast %d, full %d\n", (int)len, s, d, rc);
    assert_int_equal(d, want);
    if (d) {
        assert_true(fast == full);
        assert_int_equal(ps_time_format(full, back), 24);
        assert_string_equal(text, back);
    }
    return d;
}

static void test_seconds_fast_path(void **state)
{
    static const char *const cases[] = {
        "2024-02-29 12:00:00", "2023-02-29 12:00:00", "2024-01-01T00:00:07", "2024-01-01t00:00:07",
        "0000-01-01 00:00:00", "9999-12-31 23:59:59", "2024-01-01 24:00:00", "2024-01-01 00:60:00",
        "2024-01-01 00:00:60", "2024-01-01 00:00",    "2024-01-01_00:00:00", "2024-01-01 00:00:0Z",
        "2024-1-01 00:00:00 ",
    };
    (void)state;
    run_fast_path(seconds_agree, cases, sizeof cases / sizeof *cases, 5, 0, "0123456789-T:. t/Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_table),         cmocka_unit_test(test_iso_naive_zone),
        cmocka_unit_test(test_format_table),      cmocka_unit_test(test_serial_table),
        cmocka_unit_test(test_serial_in_zone),    cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_format_bounds),     cmocka_unit_test(test_canonical_fast_path),
        cmocka_unit_test(test_seconds_fast_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

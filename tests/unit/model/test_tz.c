/* Unit tests: time zones read from the TZif database (core/src/model/tz.c). Skips (77) when the
 * system has no zoneinfo for the zones under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model/timestamp.h"

static int64_t utc(const char *iso)
{
    int64_t ms = 0;
    assert_int_equal(ps_time_parse_iso(iso, strlen(iso), NULL, &ms), PS_TIME_OK);
    return ms / 1000;
}

static ps_tz *load(const char *name)
{
    ps_tz *tz = NULL;
    ps_error err;
    ps_status st = ps_tz_load(name, &tz, &err);
    if (st != PS_OK)
        print_error("%s\n", err.message);
    assert_int_equal(st, PS_OK);
    assert_non_null(tz);
    assert_string_equal(ps_tz_name(tz), name);
    return tz;
}

static void test_lagos_nairobi_gmt(void **state)
{
    ps_tz *lagos = load("Africa/Lagos"), *nairobi = load("Africa/Nairobi"), *gmt = load("Etc/GMT");
    (void)state;
    assert_int_equal(ps_tz_offset_at(lagos, utc("2024-03-05T12:00:00Z")), 3600);
    assert_int_equal(ps_tz_offset_at(lagos, utc("2045-07-01T12:00:00Z")), 3600);
    assert_int_equal(ps_tz_local_to_utc(lagos, utc("2024-03-05T14:16:01Z")),
                     utc("2024-03-05T13:16:01Z"));
    assert_int_equal(ps_tz_offset_at(nairobi, utc("2024-03-05T12:00:00Z")), 3 * 3600);
    assert_int_equal(ps_tz_local_to_utc(nairobi, utc("2024-01-01T00:30:00Z")),
                     utc("2023-12-31T21:30:00Z"));
    assert_int_equal(ps_tz_offset_at(gmt, utc("2024-06-01T00:00:00Z")), 0);
    assert_int_equal(ps_tz_local_to_utc(gmt, 1000), 1000);
    ps_tz_free(lagos);
    ps_tz_free(nairobi);
    ps_tz_free(gmt);
}

static void test_new_york_transitions(void **state)
{
    ps_tz *ny = load("America/New_York");
    (void)state;
    /* 2024-03-10 02:00 EST -> 03:00 EDT at 07:00Z */
    assert_int_equal(ps_tz_offset_at(ny, utc("2024-03-10T06:59:59Z")), -5 * 3600);
    assert_int_equal(ps_tz_offset_at(ny, utc("2024-03-10T07:00:00Z")), -4 * 3600);
    assert_int_equal(ps_tz_local_to_utc(ny, utc("2024-03-10T01:59:59Z")),
                     utc("2024-03-10T06:59:59Z"));
    assert_int_equal(ps_tz_local_to_utc(ny, utc("2024-03-10T03:00:00Z")),
                     utc("2024-03-10T07:00:00Z"));
    /* in the gap the pre-transition offset (EST) is used */
    assert_int_equal(ps_tz_local_to_utc(ny, utc("2024-03-10T02:30:00Z")),
                     utc("2024-03-10T07:30:00Z"));
    /* 2024-11-03 02:00 EDT -> 01:00 EST at 06:00Z */
    assert_int_equal(ps_tz_offset_at(ny, utc("2024-11-03T05:59:59Z")), -4 * 3600);
    assert_int_equal(ps_tz_offset_at(ny, utc("2024-11-03T06:00:00Z")), -5 * 3600);
    /* in the overlap the earlier instant (EDT) is used */
    assert_int_equal(ps_tz_local_to_utc(ny, utc("2024-11-03T01:30:00Z")),
                     utc("2024-11-03T05:30:00Z"));
    assert_int_equal(ps_tz_local_to_utc(ny, utc("2024-11-03T02:30:00Z")),
                     utc("2024-11-03T07:30:00Z"));
    /* summer and winter far in the future (footer rule in slim files) */
    assert_int_equal(ps_tz_offset_at(ny, utc("2061-07-01T12:00:00Z")), -4 * 3600);
    assert_int_equal(ps_tz_offset_at(ny, utc("2061-12-01T12:00:00Z")), -5 * 3600);
    /* 2061: second Sunday of March is the 13th */
    assert_int_equal(ps_tz_offset_at(ny, utc("2061-03-13T06:59:59Z")), -5 * 3600);
    assert_int_equal(ps_tz_offset_at(ny, utc("2061-03-13T07:00:00Z")), -4 * 3600);
    /* history: before standard time (LMT -4:56:02) */
    assert_int_equal(ps_tz_offset_at(ny, utc("1800-01-01T00:00:00Z")), -17762);
    ps_tz_free(ny);
}

static void test_iso_with_zone(void **state)
{
    ps_tz *ny = load("America/New_York");
    int64_t ms;
    char buf[PS_TIME_TEXT_MAX];
    (void)state;
    assert_int_equal(ps_time_parse_iso("2024-07-04 12:00", 16, ny, &ms), PS_TIME_OK);
    ps_time_format(ms, buf);
    assert_string_equal(buf, "2024-07-04T16:00:00.000Z");
    assert_int_equal(ps_time_parse_iso("2024-01-04 12:00", 16, ny, &ms), PS_TIME_OK);
    ps_time_format(ms, buf);
    assert_string_equal(buf, "2024-01-04T17:00:00.000Z");
    ps_tz_free(ny);
}

typedef struct {
    const char *name;
    int32_t off;
} fixed_case;

static void test_fixed(void **state)
{
    static const fixed_case cases[] = {{"UTC", 0},        {"Z", 0},         {"+01:00", 3600},
                                       {"-0530", -19800}, {"+03", 10800},   {"+14:00", 50400},
                                       {"-00:00", 0},     {"+18:00", 64800}};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_tz *tz = load(cases[i].name);
        assert_int_equal(ps_tz_offset_at(tz, 0), cases[i].off);
        assert_int_equal(ps_tz_local_to_utc(tz, 100000), 100000 - cases[i].off);
        ps_tz_free(tz);
    }
    assert_int_equal(ps_tz_offset_at(NULL, 5), 0);
    assert_int_equal(ps_tz_local_to_utc(NULL, 5), 5);
}

static void test_errors(void **state)
{
    static const struct {
        const char *name;
        const char *msg;
    } cases[] = {
        {"+1", "not a UTC offset"},
        {"+19:00", "not a UTC offset"},
        {"+01:60", "not a UTC offset"},
        {"+01:00x", "not a UTC offset"},
        {"Mars/Olympus", "unknown zone"},
        {"../etc/passwd", "not a valid IANA zone name"},
        {"/etc/passwd", "not a valid IANA zone name"},
        {"Africa/../../etc", "not a valid IANA zone name"},
        {"", "not a valid IANA zone name"},
        {"Africa/La gos", "not a valid IANA zone name"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_tz *tz = (ps_tz *)1;
        ps_error err;
        assert_int_equal(ps_tz_load(cases[i].name, &tz, &err), PS_ERR_CONFIG);
        assert_null(tz);
        assert_non_null(strstr(err.message, cases[i].msg));
        assert_non_null(strstr(err.message, cases[i].name));
    }
}

static void test_not_tzif(void **state)
{
    char dir[] = "/tmp/ps_tz_XXXXXX", path[256];
    FILE *f;
    ps_tz *tz = NULL;
    ps_error err;
    const char *old = getenv("TZDIR");
    char *saved = old ? strdup(old) : NULL;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/Bad", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a zone file", f);
    fclose(f);
    setenv("TZDIR", dir, 1);
    assert_int_equal(ps_tz_load("Bad", &tz, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "not a TZif version 2+ file"));
    /* TZDIR is honoured: a real zone is not found there */
    assert_int_equal(ps_tz_load("Africa/Lagos", &tz, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "unknown zone"));
    if (saved) {
        setenv("TZDIR", saved, 1);
        free(saved);
    } else {
        unsetenv("TZDIR");
    }
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lagos_nairobi_gmt),
        cmocka_unit_test(test_new_york_transitions),
        cmocka_unit_test(test_iso_with_zone),
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_not_tzif),
    };
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/America/New_York", dir && *dir ? dir : "/usr/share/zoneinfo");
    if (access(path, R_OK) != 0) {
        printf("SKIP: no time zone database (%s not readable)\n", path);
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: gsheet URL/A1 encoding, sheet URL -> ID, number rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../plugins/gsheet/gs_encode.h"
#include "../../../plugins/gsheet/gs_number.h"

typedef struct {
    const char *title;
    uint64_t r1;
    uint32_t col;
    uint64_t r2;
    const char *range;
    const char *encoded;
} range_case;

static const range_case ranges[] = {
    {"Sheet1", 1, 21, 10000, "'Sheet1'!A1:U10000", "%27Sheet1%27%21A1%3AU10000"},
    {"Payments 2024", 1, 26, 5000, "'Payments 2024'!A1:Z5000",
     "%27Payments%202024%27%21A1%3AZ5000"},
    {"Jon's data", 3, 1, 4, "'Jon''s data'!A3:A4", "%27Jon%27%27s%20data%27%21A3%3AA4"},
    {"D3", 1, 27, 2, "'D3'!A1:AA2", "%27D3%27%21A1%3AAA2"},
    {"a#b+c/d&e", 1, 52, 9, "'a#b+c/d&e'!A1:AZ9", "%27a%23b%2Bc%2Fd%26e%27%21A1%3AAZ9"},
    {"\xf0\x9f\x8c\xb5 x", 1, 3, 10, "'\xf0\x9f\x8c\xb5 x'!A1:C10",
     "%27%F0%9F%8C%B5%20x%27%21A1%3AC10"},
    {"", 1, 702, 1, "''!A1:ZZ1", "%27%27%21A1%3AZZ1"},
};

static void test_a1_ranges(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        char *r = ps_gs_a1_range(ranges[i].title, ranges[i].r1, ranges[i].col, ranges[i].r2);
        assert_non_null(r);
        assert_string_equal(r, ranges[i].range);
        char *e = ps_gs_pct_encode(r);
        assert_non_null(e);
        assert_string_equal(e, ranges[i].encoded);
        free(r);
        free(e);
    }
}

/* Ranges as Google writes them in answers: quoted or not, '' inside quotes, no end cell. */
static void test_a1_split(void **state)
{
    (void)state;
    static const struct {
        const char *range, *title, *start;
    } ok[] = {
        {"Sheet1!A1:D4", "Sheet1", "A1"},
        {"'My Tab'!A26:I50", "My Tab", "A26"},
        {"'Jon''s data'!C5:N24", "Jon's data", "C5"},
        {"'Pay #1/+&''s 2024'!A1", "Pay #1/+&'s 2024", "A1"},
        {"'a!b'!A3:B", "a!b", "A3"},
        {"'\xf0\x9f\x8c\xb5 test'!A1:J10", "\xf0\x9f\x8c\xb5 test", "A1"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char title[64], start[16];
        assert_int_equal(ps_gs_a1_split(ok[i].range, title, sizeof title, start, sizeof start),
                         0);
        assert_string_equal(title, ok[i].title);
        assert_string_equal(start, ok[i].start);
    }
    static const char *const bad[] = {"", "A1:D4", "'open!A1", "'x'A1", "Sheet1!", "'x'!:B2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char title[64], start[16];
        assert_int_equal(ps_gs_a1_split(bad[i], title, sizeof title, start, sizeof start), -1);
    }
    char small[4], start[16];
    assert_int_equal(ps_gs_a1_split("'Long title'!A1", small, sizeof small, start, sizeof start),
                     -1);
}

static void test_col_letters(void **state)
{
    (void)state;
    static const struct {
        uint32_t col;
        const char *s;
    } c[] = {{0, "A"},   {1, "A"},    {26, "Z"},    {27, "AA"},    {52, "AZ"},
             {53, "BA"}, {702, "ZZ"}, {703, "AAA"}, {18278, "ZZZ"}};
    char buf[8];
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        ps_gs_col_letters(c[i].col, buf);
        assert_string_equal(buf, c[i].s);
    }
}

static void test_pct_unreserved_kept(void **state)
{
    (void)state;
    char *e = ps_gs_pct_encode("AZaz09-._~ :?=");
    assert_string_equal(e, "AZaz09-._~%20%3A%3F%3D");
    free(e);
}

typedef struct {
    const char *in;
    int rc;
    const char *id;
    int64_t gid;
} ref_case;

static const ref_case refs[] = {
    {"1M2mlIn8G_4hZYnBE1oh10QU9qUFp9KhiIxBT9oTCKOI", 0,
     "1M2mlIn8G_4hZYnBE1oh10QU9qUFp9KhiIxBT9oTCKOI", -1},
    {"  abc-DEF_123  ", 0, "abc-DEF_123", -1},
    {"https://docs.google.com/spreadsheets/d/1abc-XYZ_9/edit#gid=123456", 0, "1abc-XYZ_9", 123456},
    {"https://docs.google.com/spreadsheets/d/1abc/edit?usp=sharing", 0, "1abc", -1},
    {"https://docs.google.com/spreadsheets/d/1abc", 0, "1abc", -1},
    {"https://docs.google.com/spreadsheets/u/1/d/1abc/edit?gid=7#gid=7", 0, "1abc", 7},
    {"docs.google.com/spreadsheets/d/1abc/htmlview", 0, "1abc", -1},
    {"https://docs.google.com/spreadsheets/d/e/2PACX-1vQ/pubhtml", -2, NULL, -1},
    {"https://example.com/file.csv", -1, NULL, -1},
    {"abc/../../x", -1, NULL, -1},
    {"abc def", -1, NULL, -1},
    {"", -1, NULL, -1},
    {"abc?x=1", -1, NULL, -1},
    {"https://docs.google.com/spreadsheets/d/", -1, NULL, -1},
    {"https://docs.google.com/spreadsheets/d/ab%2Fc/edit", -1, NULL, -1},
};

static void test_sheet_refs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refs / sizeof *refs; i++) {
        char id[128] = "";
        int64_t gid = 99;
        int rc = ps_gs_parse_sheet_ref(refs[i].in, id, sizeof id, &gid);
        assert_int_equal(rc, refs[i].rc);
        if (rc == 0) {
            assert_string_equal(id, refs[i].id);
            assert_int_equal(gid, refs[i].gid);
        }
    }
    char small[4];
    int64_t gid;
    assert_int_equal(ps_gs_parse_sheet_ref("abcdef", small, sizeof small, &gid), -1);
}

typedef struct {
    double d;
    const char *text;
} num_case;

static const num_case nums[] = {
    {0.0, "0"},
    {-0.0, "0"},
    {1.0, "1"},
    {-250.0, "-250"},
    {1500.5, "1500.5"},
    {0.1, "0.1"},
    {0.0001, "0.0001"},
    {1e-7, "0.0000001"},
    {45356.5935300926, "45356.5935300926"},
    {2348012345678.0, "2348012345678"},
    {1.2e12, "1200000000000"},
    {9007199254740993.0, "9007199254740992"},
    {1e21, "1000000000000000000000"},
    {0.30000000000000004, "0.30000000000000004"},
    {123456.789, "123456.789"},
    {-6.524379, "-6.524379"},
    {1.5e-300, NULL},
};

static void test_numbers(void **state)
{
    (void)state;
    char buf[PS_GS_NUM_MAX];
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        size_t n = ps_gs_format_double(nums[i].d, buf);
        assert_int_equal(n, strlen(buf));
        assert_null(strchr(buf, 'e'));
        assert_null(strchr(buf, 'E'));
        assert_true(strtod(buf, NULL) == nums[i].d); /* round-trips */
        if (nums[i].text)
            assert_string_equal(buf, nums[i].text);
    }
    assert_int_equal(ps_gs_format_double(1.0 / 0.0, buf), 0);
    assert_string_equal(buf, "");
    ps_gs_format_int(-9223372036854775807LL - 1, buf);
    assert_string_equal(buf, "-9223372036854775808");
    ps_gs_format_int(0, buf);
    assert_string_equal(buf, "0");
    ps_gs_format_int(2348012345678LL, buf);
    assert_string_equal(buf, "2348012345678");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a1_ranges),
        cmocka_unit_test(test_a1_split),
        cmocka_unit_test(test_col_letters),
        cmocka_unit_test(test_pct_unreserved_kept),
        cmocka_unit_test(test_sheet_refs),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

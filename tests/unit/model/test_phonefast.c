/* Unit tests: the exact phone pre-check (core/src/model/phonefast.h) against libphonenumber.
 * For every region libphonenumber knows, its example mobile number and variants (national
 * with and without the trunk prefix, calling code without '+', digits changed, dropped and
 * added, random digits) go through both; whenever the pre-check decides, libphonenumber must
 * say valid with the same E.164 text. The pre-check must decide the common forms of NG, KE
 * and GH numbers, and must leave shared calling codes, invalid numbers, and a number without
 * country or '+' to the library. ps_phone_precheck must agree with ps_phone_check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/phone.h"
#include "model/phonefast.h"
#include "model/phonelib.h"
#include "test_rng.h"

static unsigned long long compared, decided;

/* One number through both; returns 1 when the pre-check decided. */
static int agree(ps_phonefast *f, const char *num, const char *region)
{
    char fast[PS_PHONE_MAX], lib[PS_PHONE_MAX];
    size_t n = strlen(num);
    int d = ps_phonefast_valid(f, num, n, region, fast, sizeof fast);
    compared++;
    if (!d)
        return 0;
    decided++;
    ps_phonelib_verdict v = ps_phonelib_parse(num, n, region, lib, sizeof lib, NULL);
    if (v != PS_PHONELIB_VALID || strcmp(fast, lib) != 0)
        print_message("'%s' in %s: pre-check %s, libphonenumber %d '%s'\n", num,
                      region ? region : "-", fast, (int)v, lib);
    assert_int_equal(v, PS_PHONELIB_VALID);
    assert_string_equal(fast, lib);
    return 1;
}

/* digits of s (a formatted number) into out */
static void digits(const char *s, char *out)
{
    for (; *s; s++)
        if (*s >= '0' && *s <= '9')
            *out++ = *s;
    *out = '\0';
}

static void variants(ps_phonefast *f, const char *region, int code)
{
    char ex[48], d[48], nsn[48], b[64];
    int cl = code >= 100 ? 3 : code >= 10 ? 2 : 1;
    if (!ps_phonelib_example(region, ex, sizeof ex))
        return;
    digits(ex, d);
    strcpy(nsn, d + cl);
    snprintf(b, sizeof b, "+%s", d);
    agree(f, b, region);
    agree(f, b, NULL);
    agree(f, b, "NG");
    snprintf(b, sizeof b, "0%s", nsn);
    agree(f, b, region);
    agree(f, nsn, region);
    agree(f, d, region); /* calling code without '+' */
    for (int k = 0; k < 12; k++) {
        size_t n = strlen(nsn), i = rnd((unsigned)n);
        strcpy(b, nsn);
        switch (rnd(4)) {
        case 0:
            b[i] = (char)('0' + (b[i] - '0' + 1 + rnd(9)) % 10);
            break;
        case 1:
            memmove(b + i, b + i + 1, n - i);
            break;
        case 2:
            memmove(b + i + 1, b + i, n - i + 1);
            b[i] = (char)('0' + rnd(10));
            break;
        default:
            b[n] = (char)('0' + rnd(10));
            b[n + 1] = '\0';
            break;
        }
        char w[72];
        snprintf(w, sizeof w, "+%d%s", code, b);
        agree(f, w, region);
        snprintf(w, sizeof w, "0%s", b);
        agree(f, w, region);
        agree(f, b, region);
    }
    for (int k = 0; k < 6; k++) { /* random digits */
        char w[40];
        unsigned n = 2 + rnd(16);
        for (unsigned i = 0; i < n; i++)
            w[i] = (char)('0' + rnd(10));
        w[n] = '\0';
        agree(f, w, region);
        snprintf(b, sizeof b, "+%d%s", code, w);
        agree(f, b, region);
    }
}

static void every_region_agrees(void **state)
{
    (void)state;
    int regions = 0;
    /* more calling codes than the pre-check keeps plans for: use a fresh object per region,
     * as a run would for its country */
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++) {
            char r[3] = {a, b, 0};
            int code = ps_phonelib_calling_code(r);
            if (code <= 0)
                continue;
            regions++;
            ps_phonefast *g = ps_phonefast_new();
            assert_non_null(g);
            variants(g, r, code);
            ps_phonefast_free(g);
        }
    print_message("pre-check: %d regions, %llu numbers compared, %llu decided, all as "
                  "libphonenumber decides\n",
                  regions, compared, decided);
    assert_int_equal(regions, 245);
    assert_true(decided > compared / 10);
}

static void common_forms_decided(void **state)
{
    (void)state;
    /* the bench's ranges (bench/gen_csv.c): NG 10 digits after +234, KE and GH 9 */
    static const char *const ng[] = {"803", "806", "813", "816", "703", "905", "810", "802"};
    static const char *const ke[] = {"712", "722", "733", "710", "795", "701", "745", "768"};
    static const char *const gh[] = {"244", "544", "200", "554", "277", "501", "246", "240"};
    ps_phonefast *f = ps_phonefast_new();
    char b[32];
    assert_non_null(f);
    for (int i = 0; i < 400; i++) {
        unsigned s7 = rnd(10000000), s6 = rnd(1000000);
        snprintf(b, sizeof b, "+234%s%07u", ng[i % 8], s7);
        assert_true(agree(f, b, "NG"));
        snprintf(b, sizeof b, "0%s%07u", ng[i % 8], s7);
        assert_true(agree(f, b, "NG"));
        snprintf(b, sizeof b, "%s%07u", ng[i % 8], s7);
        assert_true(agree(f, b, "NG"));
        snprintf(b, sizeof b, "+254%s%06u", ke[i % 8], s6);
        assert_true(agree(f, b, "NG"));
        snprintf(b, sizeof b, "0%s%06u", ke[i % 8], s6);
        assert_true(agree(f, b, "KE"));
        snprintf(b, sizeof b, "+233%s%06u", gh[i % 8], s6);
        assert_true(agree(f, b, NULL));
    }
    /* the trunk prefix after the calling code is stripped, as libphonenumber strips it */
    assert_true(agree(f, "+23408031234567", "NG"));
    char out[PS_PHONE_MAX];
    assert_int_equal(ps_phonefast_valid(f, "08031234567", 11, "NG", out, sizeof out), 1);
    assert_string_equal(out, "+2348031234567");
    /* left to libphonenumber: a shared calling code (+1: US, CA and 23 more), an invalid
     * number, too short, a national number without country, the country's calling code
     * without '+', a code that does not exist */
    static const char *const undecided[][2] = {{"+12015550123", "NG"},
                                               {"2015550123", "US"},
                                               {"080512345", "NG"},
                                               {"+2348", "NG"},
                                               {"08031234567", NULL},
                                               {"2348031234567", "NG"},
                                               {"+9991234567", "NG"},
                                               {"+0123456789", "NG"},
                                               {"+", "NG"},
                                               {"", "NG"},
                                               {"+44 7400 123456", "NG"}};
    for (size_t i = 0; i < sizeof undecided / sizeof undecided[0]; i++) {
        const char *num = undecided[i][0];
        if (ps_phonefast_valid(f, num, strlen(num), undecided[i][1], out, sizeof out))
            print_message("'%s' was decided: %s\n", num, out);
        assert_int_equal(ps_phonefast_valid(f, num, strlen(num), undecided[i][1], out, sizeof out),
                         0);
    }
    /* the output must fit */
    assert_int_equal(ps_phonefast_valid(f, "08031234567", 11, "NG", out, 10), 0);
    assert_int_equal(ps_phonefast_valid(NULL, "08031234567", 11, "NG", out, sizeof out), 0);
    unsigned long long d, u;
    ps_phonefast_counts(f, &d, &u);
    assert_true(d >= 2400);
    assert_true(u >= 12);
    ps_phonefast_free(f);
}

/* Every number libphonenumber calls valid under +234, +254 and +233 (random national
 * numbers of 6-11 digits, not starting with 0: fixed lines, mobiles, toll-free and the other
 * types alike) is decided by the pre-check, with libphonenumber's E.164 text: whether a type
 * matches must not depend on the order the types are tried in. */
static void every_valid_type_decided(void **state)
{
    (void)state;
    static const char *const codes[] = {"234", "254", "233"};
    ps_phonefast *f = ps_phonefast_new();
    char b[32], lib[PS_PHONE_MAX], fast[PS_PHONE_MAX];
    unsigned long long valid = 0, fixed = 0;
    assert_non_null(f);
    for (int i = 0; i < 300000; i++) {
        const char *cc = codes[i % 3];
        int nd = 6 + (int)rnd(6), k = snprintf(b, sizeof b, "+%s", cc);
        /* a first digit that is not 0, then digits; every fourth number starts like the
         * country's fixed lines (NG 1 and 9, KE 20, GH 30) */
        b[k++] = (char)('1' + rnd(9));
        if (i % 4 == 0)
            b[k - 1] = i % 3 == 0 ? (i % 8 ? '1' : '9') : i % 3 == 1 ? '2' : '3';
        if (i % 4 == 0 && i % 3 != 0)
            b[k++] = '0', nd--;
        for (int j = 1; j < nd; j++)
            b[k++] = (char)('0' + rnd(10));
        b[k] = '\0';
        if (ps_phonelib_parse(b, (size_t)k, NULL, lib, sizeof lib, NULL) != PS_PHONELIB_VALID)
            continue;
        valid++;
        fixed += i % 4 == 0;
        if (!ps_phonefast_valid(f, b, (size_t)k, NULL, fast, sizeof fast))
            print_message("'%s' is valid (%s) but was not decided\n", b, lib);
        assert_true(agree(f, b, NULL));
    }
    /* the generator reaches many valid numbers, fixed lines among them */
    assert_true(valid >= 1000);
    assert_true(fixed >= 100);
    ps_phonefast_free(f);
}

static void precheck_equals_check(void **state)
{
    (void)state;
    static const char *const raws[] = {"0803 123 4567",   "+234 (803) 123-4567",
                                       "8031234567",      "0805 123 45",
                                       "phone",           "",
                                       "+1 201 555 0123", "00254712345678",
                                       "0712 345678",     "2348031234567",
                                       "0803\t123 4567",  "+233 24 412 3456"};
    static const char *const regions[] = {NULL, "NG", "KE", "GH", "US"};
    ps_phonefast *f = ps_phonefast_new();
    int decided_here = 0;
    assert_non_null(f);
    for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++)
        for (size_t j = 0; j < sizeof regions / sizeof regions[0]; j++) {
            ps_phone_verdict a, b;
            ps_phone_check(raws[i], strlen(raws[i]), regions[j], &a);
            if (!ps_phone_precheck(f, raws[i], strlen(raws[i]), regions[j], &b))
                continue;
            decided_here++;
            assert_int_equal(a.rc, b.rc);
            assert_string_equal(a.e164, b.e164);
            assert_int_equal(a.lib, b.lib);
            assert_int_equal(a.code, b.code);
            assert_int_equal(a.international, b.international);
        }
    assert_true(decided_here >= 20);
    ps_phonefast_free(f);
}

static void switched_off(void **state)
{
    (void)state;
    char out[PS_PHONE_MAX];
    setenv("PS_PHONE_FASTPATH", "off", 1);
    ps_phonefast *f = ps_phonefast_new();
    unsetenv("PS_PHONE_FASTPATH");
    assert_non_null(f);
    assert_int_equal(ps_phonefast_valid(f, "08031234567", 11, "NG", out, sizeof out), 0);
    ps_phonefast_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_region_agrees),
        cmocka_unit_test(common_forms_decided),
        cmocka_unit_test(every_valid_type_decided),
        cmocka_unit_test(precheck_equals_check),
        cmocka_unit_test(switched_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

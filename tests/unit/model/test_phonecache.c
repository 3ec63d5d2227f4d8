/* Unit tests: the run-wide memo of phone verdicts (core/src/model/phonecache.h). Every
 * verdict through the memo (first sight and repeats) must equal ps_phone_normalise's: rc,
 * E.164 text and reason, over repeated and distinct numbers and the same raw text under
 * different countries; and a full memo stops storing but keeps answering correctly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/phonecache.h"
#include "model/phonefast.h"

/* Raw texts: valid and invalid in some of the regions below, national and international,
 * every kind of rejection, and texts differing only in separators (distinct keys). */
static const char *const raws[] = {
    "08031234567",
    "8031239999",
    "+2348031234567",
    "+234 803 123 4567",
    "002348031234567",
    "0805 123 45",
    "0803 123 4567",
    "07400 123456",
    "0712 345678",
    "024 412 3456",
    "(201) 555-0123",
    "+44 12",
    "+1234567890123456",
    "+999 1234 5678",
    "+",
    "00",
    "",
    "  ",
    "phone",
    "234+803",
    "2348031234567",
    "0803-123-4567",
    "0803.123.4567",
    "+6834002",
    "+2341234567890123456789012345678901234567890",
    "0803123456701234567890123456789012345678901234567890123456789012345678",
    "0803\t123 4567"};
static const char *const regions[] = {NULL, "", "NG", "KE", "GH", "GB", "CA"};

#define NRAW (sizeof raws / sizeof raws[0])
#define NREG (sizeof regions / sizeof regions[0])

/* Checks one text through the memo against the uncached verdict; returns the rc. */
static int same(ps_phonecache *c, const char *raw, const char *region)
{
    char o1[PS_PHONE_MAX], o2[PS_PHONE_MAX], w1[PS_PHONE_WHY_MAX], w2[PS_PHONE_WHY_MAX];
    int r1 = ps_phone_normalise(raw, strlen(raw), region, o1, w1);
    int r2 = ps_phonecache_normalise(c, raw, strlen(raw), region, o2, w2);
    if (r1 != r2 || strcmp(o1, o2) != 0 || strcmp(w1, w2) != 0)
        print_message("'%s' %s: %d '%s' '%s' vs memo %d '%s' '%s'\n", raw, region ? region : "-",
                      r1, o1, w1, r2, o2, w2);
    assert_int_equal(r1, r2);
    assert_string_equal(o1, o2);
    assert_string_equal(w1, w2);
    /* without a reason buffer too */
    assert_int_equal(ps_phonecache_normalise(c, raw, strlen(raw), region, o2, NULL), r1);
    assert_string_equal(o1, o2);
    return r1;
}

static void test_identical_verdicts(void **state)
{
    ps_phonecache *c = ps_phonecache_new(0, 0);
    ps_phonefast *f = ps_phonefast_new();
    ps_phonecache_stats st;
    size_t i, j, valid = 0, invalid = 0, decided = 0, keys = 0, lookups = 0, refused = 0;
    int pass;
    (void)state;
    assert_non_null(c);
    assert_non_null(f);
    for (pass = 0; pass < 3; pass++)
        for (j = 0; j < NREG; j++)
            for (i = 0; i < NRAW; i++) {
                int rc = same(c, raws[i], regions[j]);
                ps_phone_verdict v;
                int d = ps_phone_precheck(f, raws[i], strlen(raws[i]), regions[j], &v);
                /* same() asks the memo twice; a tab has no 4-bit code: never stored */
                int tab = strchr(raws[i], '\t') != NULL;
                if (d)
                    decided += 2;
                else if (tab)
                    refused += 2;
                else
                    lookups += 2;
                /* NULL and "" are the same setting (no country): one entry for both */
                if (pass == 0 && !d && !tab && !(regions[j] && !regions[j][0]))
                    keys++;
                if (pass == 0)
                    rc >= 0 ? valid++ : invalid++;
            }
    assert_true(valid > 10);
    assert_true(invalid > 10);
    ps_phonecache_get_stats(c, &st);
    /* what the pre-check decides (syntax errors, the 70-digit text, common valid numbers)
     * never reaches the memo; the rest is remembered once, then answered from the memo */
    assert_int_equal(st.fast, decided);
    assert_true(st.fast > 0);
    assert_true(keys > 0);
    assert_true(refused > 0);
    assert_int_equal(st.refused, refused);
    assert_int_equal(st.entries, keys);
    assert_int_equal(st.misses, st.entries + st.refused);
    assert_int_equal(st.hits, lookups - st.entries);
    ps_phonefast_free(f);
    ps_phonecache_free(c);
}

/* The same raw text means different numbers in different countries: never mixed up. */
static void test_region_in_key(void **state)
{
    ps_phonecache *c = ps_phonecache_new(0, 0);
    char out[PS_PHONE_MAX], why[PS_PHONE_WHY_MAX];
    (void)state;
    assert_int_equal(ps_phonecache_normalise(c, "08031234567", 11, "NG", out, why), 14);
    assert_string_equal(out, "+2348031234567");
    assert_int_equal(ps_phonecache_normalise(c, "08031234567", 11, "KE", out, why),
                     PS_PHONE_INVALID);
    assert_non_null(strstr(why, "KE (+254)"));
    assert_int_equal(ps_phonecache_normalise(c, "08031234567", 11, NULL, out, why), PS_PHONE_LOCAL);
    assert_int_equal(ps_phonecache_normalise(c, "08031234567", 11, "NG", out, why), 14);
    assert_string_equal(out, "+2348031234567");
    assert_string_equal(why, "");
    assert_int_equal(ps_phonecache_normalise(c, "0712 345678", 11, "KE", out, why), 13);
    assert_string_equal(out, "+254712345678");
    /* a region name the memo cannot key (not 2 letters) is checked without it */
    assert_int_equal(ps_phonecache_normalise(c, "08031234567", 11, "NGA", out, why),
                     ps_phone_normalise("08031234567", 11, "NGA", out, why));
    ps_phonecache_free(c);
}

/* A memo of 8 entries: the first 8 distinct texts are stored, later ones are computed each
 * time (counted as refused), and every answer stays right. US numbers: +1 is shared by 25
 * countries, so the pre-check leaves them to libphonenumber and the memo. */
static void test_cap(void **state)
{
    ps_phonecache *c = ps_phonecache_new(8, 0);
    ps_phonecache_stats st;
    char raw[16];
    int pass, i;
    (void)state;
    assert_non_null(c);
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < 20; i++) {
            snprintf(raw, sizeof raw, "20155501%02d", i);
            assert_int_equal(same(c, raw, "US"), 12);
        }
    ps_phonecache_get_stats(c, &st);
    assert_int_equal(st.entries, 8);
    /* per call of same(): two lookups; pass 0: 8 stored then hit, 12 refused twice; pass 1:
     * the 8 hit twice, the 12 refused twice again */
    assert_int_equal(st.hits, 8 + 16);
    assert_int_equal(st.misses, 8 + 24 + 24);
    assert_int_equal(st.refused, 24 + 24);
    ps_phonecache_free(c);

    /* an arena too small for a second entry (4 + 5 + 6 bytes each): one stored */
    c = ps_phonecache_new(0, 20);
    assert_non_null(c);
    for (i = 0; i < 3; i++) {
        snprintf(raw, sizeof raw, "20155501%02d", i);
        same(c, raw, "US");
    }
    ps_phonecache_get_stats(c, &st);
    assert_int_equal(st.entries, 1);
    ps_phonecache_free(c);
}

static void test_null_memo(void **state)
{
    char out[PS_PHONE_MAX], why[PS_PHONE_WHY_MAX];
    ps_phonecache_stats st;
    (void)state;
    assert_int_equal(ps_phonecache_normalise(NULL, "08031234567", 11, "NG", out, why), 14);
    assert_string_equal(out, "+2348031234567");
    ps_phonecache_get_stats(NULL, &st);
    assert_int_equal(st.hits + st.misses + st.entries + st.refused, 0);
    ps_phonecache_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_verdicts),
        cmocka_unit_test(test_region_in_key),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_null_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: in-run duplicate/conflict detection (ps_dedup in core/src/model/validate.h). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model/validate.h"

static void test_new_duplicate_conflict(void **state)
{
    ps_dedup *d = ps_dedup_new();
    uint64_t first = 0;
    (void)state;
    assert_non_null(d);
    assert_int_equal(ps_dedup_check(d, "P-001", 42, 2, &first), PS_DEDUP_NEW);
    assert_int_equal(ps_dedup_check(d, "P-002", 42, 3, &first), PS_DEDUP_NEW);
    assert_int_equal(ps_dedup_check(d, "P-001", 42, 7, &first), PS_DEDUP_DUPLICATE);
    assert_int_equal(first, 2);
    assert_int_equal(ps_dedup_check(d, "P-001", 43, 9, &first), PS_DEDUP_CONFLICT);
    assert_int_equal(first, 2);
    /* leading zeros make a different ID */
    assert_int_equal(ps_dedup_check(d, "0001", 1, 10, &first), PS_DEDUP_NEW);
    assert_int_equal(ps_dedup_check(d, "1", 1, 11, &first), PS_DEDUP_NEW);
    assert_int_equal(ps_dedup_count(d), 4);
    assert_int_equal(ps_dedup_check(d, NULL, 1, 12, &first), PS_DEDUP_ERROR);
    assert_int_equal(ps_dedup_check(NULL, "x", 1, 12, &first), PS_DEDUP_ERROR);
    ps_dedup_free(d);
    ps_dedup_free(NULL);
}

static void test_growth(void **state)
{
    ps_dedup *d = ps_dedup_new();
    char id[32];
    uint64_t i, first = 0;
    (void)state;
    /* many IDs force several rehashes; every one stays findable with its first row */
    for (i = 0; i < 50000; i++) {
        snprintf(id, sizeof id, "ID-%llu", (unsigned long long)i);
        assert_int_equal(ps_dedup_check(d, id, i * 7, i + 2, &first), PS_DEDUP_NEW);
    }
    assert_int_equal(ps_dedup_count(d), 50000);
    for (i = 0; i < 50000; i += 97) {
        snprintf(id, sizeof id, "ID-%llu", (unsigned long long)i);
        assert_int_equal(ps_dedup_check(d, id, i * 7, 999999, &first), PS_DEDUP_DUPLICATE);
        assert_int_equal(first, i + 2);
        assert_int_equal(ps_dedup_check(d, id, i * 7 + 1, 999999, &first), PS_DEDUP_CONFLICT);
    }
    assert_int_equal(ps_dedup_count(d), 50000);
    ps_dedup_free(d);
}

/* Checks ID "<prefix>-<n>" with (content, row): the result is want and, for a repeat, the
 * first row is first_want. */
static void expect_id(ps_dedup *d, const char *prefix, uint64_t n, uint64_t content, uint64_t row,
                      ps_dedup_result want, uint64_t first_want)
{
    char id[32];
    uint64_t first = 0;
    snprintf(id, sizeof id, "%s-%llu", prefix, (unsigned long long)n);
    assert_int_equal(ps_dedup_check(d, id, content, row, &first), want);
    if (want != PS_DEDUP_NEW)
        assert_int_equal(first, first_want);
}

/* A tiny table and filter force many spills, merges and false-positive run lookups: every ID
 * keeps its first row and content, new IDs stay new. */
static void test_spill_to_runs(void **state)
{
    ps_dedup *d = ps_dedup_new_bounded(64, 64, NULL);
    uint64_t i;
    (void)state;
    assert_non_null(d);
    for (i = 0; i < 20000; i++) {
        expect_id(d, "ID", i, i * 7, i + 2, PS_DEDUP_NEW, 0);
        if (i % 1000 == 999) /* repeats of old and recent IDs interleaved with new ones */
            expect_id(d, "ID", i / 3, i / 3 * 7, 1, PS_DEDUP_DUPLICATE, i / 3 + 2);
    }
    assert_true(ps_dedup_runs(d) >= 1);
    assert_true(ps_dedup_runs(d) <= 8);
    assert_int_equal(ps_dedup_count(d), 20000);
    /* about 450 spills of 44 IDs: size-tiered merging rewrites each ID about 3.8 times;
     * merging every run at each merge rewrote each about 32 times */
    assert_true(ps_dedup_rewritten(d) > 20000);
    assert_true(ps_dedup_rewritten(d) <= 6 * 20000);
    for (i = 0; i < 20000; i += 13) {
        expect_id(d, "ID", i, i * 7, 999999, PS_DEDUP_DUPLICATE, i + 2);
        expect_id(d, "ID", i, i * 7 + 1, 999999, PS_DEDUP_CONFLICT, i + 2);
    }
    for (i = 0; i < 2000; i++)
        expect_id(d, "NEW", i, 1, 30000 + i, PS_DEDUP_NEW, 0);
    assert_int_equal(ps_dedup_count(d), 22000);
    ps_dedup_free(d);
}

/* The Bloom filter starts at a quarter of its largest size and grows, rebuilt from the table
 * and the runs, when it holds fewer than 12 bits an ID (here every 2,730 IDs up to 16 KiB):
 * an ID recorded before a rebuild, whether still in the table or in a run, is still a repeat
 * after it (a rebuild that missed the runs or the table would answer NEW), and new IDs stay
 * new. */
static void test_filter_grows(void **state)
{
    ps_dedup *d = ps_dedup_new_bounded(256, 16384, NULL);
    uint64_t i;
    (void)state;
    assert_non_null(d);
    for (i = 0; i < 30000; i++) {
        expect_id(d, "G", i, i * 3, i + 2, PS_DEDUP_NEW, 0);
        if (i % 97 == 96) { /* the latest ID (in the table) and an old one (in a run) */
            expect_id(d, "G", i, i * 3, 1, PS_DEDUP_DUPLICATE, i + 2);
            expect_id(d, "G", i / 5, i / 5 * 3 + 1, 1, PS_DEDUP_CONFLICT, i / 5 + 2);
        }
    }
    for (i = 0; i < 30000; i++)
        expect_id(d, "G", i, i * 3, 999999, PS_DEDUP_DUPLICATE, i + 2);
    for (i = 0; i < 3000; i++)
        expect_id(d, "H", i, 1, 40000 + i, PS_DEDUP_NEW, 0);
    assert_int_equal(ps_dedup_count(d), 33000);
    ps_dedup_free(d);
}

/* Spilling needs a temporary file: an unusable folder is an error, never a silent miss. */
static void test_spill_error(void **state)
{
    ps_dedup *d = ps_dedup_new_bounded(64, 64, "/nonexistent/paysync-test-dir");
    char id[32];
    uint64_t i, first = 0;
    ps_dedup_result r = PS_DEDUP_NEW;
    (void)state;
    assert_non_null(d);
    for (i = 0; i < 1000 && r == PS_DEDUP_NEW; i++) {
        snprintf(id, sizeof id, "ID-%llu", (unsigned long long)i);
        r = ps_dedup_check(d, id, i, i + 2, &first);
    }
    assert_int_equal(r, PS_DEDUP_ERROR);
    assert_true(i > 40); /* the table itself held the first IDs */
    ps_dedup_free(d);
}

/* Truncates every spill run file the process holds in dir (unlinked temporary files, found
 * through /proc/self/fd) to 0 bytes; returns how many. */
static int truncate_runs(const char *dir)
{
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s/paysync-ids-", dir);
    DIR *fds = opendir("/proc/self/fd");
    assert_non_null(fds);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(fds)) != NULL) {
        char link[300], target[700];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, prefix, strlen(prefix)) == 0) {
            assert_int_equal(ftruncate(atoi(e->d_name), 0), 0);
            n++;
        }
    }
    closedir(fds);
    return n;
}

/* A filter rebuild that cannot read a spill run (here: the run files truncated behind the
 * dedup's back, a real short read) fails the dedup for good: the check that grew the filter
 * and every later one, even of an ID still in the table, answer PS_DEDUP_ERROR (the pipeline
 * then fails the dataset). Answering NEW instead would let a repeat of an ID the rebuilt
 * filter missed pass as new. Table of 256 slots: a spill every 179 IDs; filter of 4 KiB:
 * created with 1 KiB (16 blocks) at the first spill, holding 16 * 512 / 12 = 682 IDs, so the
 * 683rd ID grows it, reading the 3 runs written by then. */
static void test_filter_rebuild_fails(void **state)
{
    (void)state;
    char dir[] = "/tmp/paysync-dedup-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    ps_dedup *d = ps_dedup_new_bounded(256, 4096, dir);
    assert_non_null(d);
    uint64_t i;
    for (i = 0; i < 682; i++)
        expect_id(d, "R", i, i, i + 2, PS_DEDUP_NEW, 0);
    assert_int_equal(ps_dedup_runs(d), 3);
    assert_int_equal(truncate_runs(dir), 3);
    expect_id(d, "R", 682, 682, 684, PS_DEDUP_ERROR, 0);
    /* failed for good: the latest IDs (in the table) and new ones alike */
    expect_id(d, "R", 681, 681, 999, PS_DEDUP_ERROR, 0);
    expect_id(d, "R", 5000, 1, 999, PS_DEDUP_ERROR, 0);
    ps_dedup_free(d);
    assert_int_equal(rmdir(dir), 0); /* the run files were unlinked from the start */
}

/* ps_dedup_key over a copy of s[0..len) in a block of exactly len bytes (ASan and valgrind
 * see any read past the ID), at every offset 0..7 of a larger buffer as well: one key. */
static uint64_t key_of(const char *s, size_t len)
{
    char *exact = malloc(len ? len : 1);
    assert_non_null(exact);
    memcpy(exact, s, len);
    uint64_t k = ps_dedup_key(exact, len);
    free(exact);
    char buf[80];
    for (size_t off = 0; off < 8 && len + off <= sizeof buf; off++) {
        memcpy(buf + off, s, len);
        assert_true(ps_dedup_key(buf + off, len) == k);
    }
    assert_true(k != 0);
    return k;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Different IDs get different keys: an ID and every one-byte change of it (each position,
 * every other byte value), for every length 0..40 (around each multiple of 8); every prefix of
 * an ID and the ID with one more byte (length and trailing bytes); a million IDs of the bench
 * shape (PAY-00000001 ...) and of other shapes, all distinct. */
static void test_key_distinct(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    char id[48] = {0}, v[48] = {0};
    for (size_t len = 0; len <= 40; len++) {
        for (size_t i = 0; i < len; i++) {
            seed = seed * UINT64_C(6364136223846793005) + 1442695040888963407u;
            id[i] = (char)(0x21 + (seed >> 33) % 94);
        }
        uint64_t k = key_of(id, len);
        for (size_t i = 0; i < len; i++) {
            memcpy(v, id, len);
            for (int b = 1; b < 256; b++) {
                if ((char)b == id[i])
                    continue;
                v[i] = (char)b;
                assert_true(ps_dedup_key(v, len) != k);
            }
        }
        /* one more byte at the end (any value, NUL too: lengths count, not terminators) */
        memcpy(v, id, len);
        for (int b = 0; b < 256; b++) {
            v[len] = (char)b;
            assert_true(key_of(v, len + 1) != k);
        }
    }
    /* every prefix of one ID: 41 distinct keys */
    uint64_t pk[41];
    for (size_t len = 0; len <= 40; len++)
        pk[len] = key_of(id, len);
    qsort(pk, 41, sizeof pk[0], cmp_u64);
    for (size_t i = 1; i < 41; i++)
        assert_true(pk[i] != pk[i - 1]);
    /* IDs only differing by a trailing space or zero, or by case */
    assert_true(ps_dedup_key("P-1", 3) != ps_dedup_key("P-1 ", 4));
    assert_true(ps_dedup_key("P-1", 3) != ps_dedup_key("P-10", 4));
    assert_true(ps_dedup_key("P-1", 3) != ps_dedup_key("p-1", 3));
    assert_true(ps_dedup_key("", 0) != ps_dedup_key("0", 1));
    /* shapes of real IDs, a million each: no two keys equal */
    size_t n = 1000000;
    uint64_t *keys = malloc(n * sizeof *keys);
    assert_non_null(keys);
    static const char *const shapes[] = {"PAY-%08zu", "%zu", "TX-2024-03-%06zu-ABCDEFGHIJ",
                                         "ps-%032zx"};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (size_t i = 0; i < n; i++) {
            int len = snprintf(v, sizeof v, shapes[s], i + 1);
            keys[i] = ps_dedup_key(v, (size_t)len);
        }
        qsort(keys, n, sizeof *keys, cmp_u64);
        for (size_t i = 1; i < n; i++)
            assert_true(keys[i] != keys[i - 1]);
    }
    free(keys);
}

/* The key path answers exactly as the text path: ps_dedup_check(id) is
 * ps_dedup_check_key(ps_dedup_key(id, strlen(id))), the two mixed freely; key 0 is an error.
 * Against the truth on bench-shaped input (PAY-%08u, 1 % repeats with the same or another
 * content, beyond the table into spill runs): the same NEW / DUPLICATE / CONFLICT answers and
 * first rows as a plain search. */
static void test_check_key(void **state)
{
    (void)state;
    ps_dedup *d = ps_dedup_new_bounded(1024, 65536, NULL);
    assert_non_null(d);
    uint64_t first = 0;
    char id[32];
    size_t n = 60000, dup = 0, conflict = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = i % 100 == 99 ? i / 2 : i; /* a repeat of an earlier row's ID */
        uint64_t content = i % 300 == 99 ? 7 : k * 3;
        int len = snprintf(id, sizeof id, "PAY-%08zu", k + 1);
        ps_dedup_result want = k == i             ? PS_DEDUP_NEW
                               : content == k * 3 ? PS_DEDUP_DUPLICATE
                                                  : PS_DEDUP_CONFLICT;
        if (k != i && (k % 100 == 99)) /* that row itself repeated an earlier one */
            continue;
        ps_dedup_result got =
            i % 2 ? ps_dedup_check(d, id, content, i + 2, &first)
                  : ps_dedup_check_key(d, ps_dedup_key(id, (size_t)len), content, i + 2, &first);
        assert_int_equal(got, want);
        if (want != PS_DEDUP_NEW)
            assert_int_equal(first, k + 2);
        dup += want == PS_DEDUP_DUPLICATE;
        conflict += want == PS_DEDUP_CONFLICT;
    }
    assert_true(ps_dedup_runs(d) >= 1);
    assert_int_equal(dup, 200);
    assert_int_equal(conflict, 100);
    assert_int_equal(ps_dedup_check_key(d, 0, 1, 1, &first), PS_DEDUP_ERROR);
    assert_int_equal(ps_dedup_check_key(NULL, 5, 1, 1, &first), PS_DEDUP_ERROR);
    ps_dedup_prefetch_key(NULL, 5);
    ps_dedup_prefetch(d, NULL, 3);
    ps_dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_duplicate_conflict),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_spill_to_runs),
        cmocka_unit_test(test_filter_grows),
        cmocka_unit_test(test_spill_error),
        cmocka_unit_test(test_filter_rebuild_fails),
        cmocka_unit_test(test_key_distinct),
        cmocka_unit_test(test_check_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

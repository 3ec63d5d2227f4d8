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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_duplicate_conflict),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_spill_to_runs),
        cmocka_unit_test(test_filter_grows),
        cmocka_unit_test(test_spill_error),
        cmocka_unit_test(test_filter_rebuild_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the sorter of a first load's meter keys (store/meter_sort.c): the keys come
 * back in SQLite's order of the meter index's key (checked against SQLite's own ORDER BY on
 * the same keys), whether they fit in memory or were spilled in many runs to a temporary
 * file; keys longer than a run reader's buffer, empty texts and embedded NUL bytes survive;
 * misuse and an unusable temporary folder fail with errno and lose nothing silently. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/meter_sort.h"

typedef struct key_text {
    char meter[64];
    size_t mlen;
    char id[40];
    size_t idlen;
    int64_t ts, vf;
} key_text;

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) & 0xffffff;
}

/* n keys with shared prefixes, lengths across the 8- and 16-byte prefix words, repeated
 * meters and timestamps, negative timestamps, a NUL byte inside some texts. */
static key_text *make_keys(size_t n, unsigned seed)
{
    key_text *k = calloc(n, sizeof *k);
    assert_non_null(k);
    static const char *const pre[] = {"GH-SM0141", "GH-SM01", "KE-", "", "GH-SM0141486512345"};
    for (size_t i = 0; i < n; i++) {
        const char *p = pre[rnd(&seed) % 5];
        int len = snprintf(k[i].meter, sizeof k[i].meter, "%s%u", p, rnd(&seed) % 97);
        k[i].mlen = (size_t)len;
        if (rnd(&seed) % 13 == 0 && k[i].mlen > 2)
            k[i].meter[1] = '\0';
        if (rnd(&seed) % 17 == 0)
            k[i].mlen = 0;
        k[i].idlen = (size_t)snprintf(k[i].id, sizeof k[i].id, "ID-%zu", i);
        if (rnd(&seed) % 11 == 0)
            k[i].id[2] = '\0';
        k[i].ts = (int64_t)(rnd(&seed) % 50) * 1000 - 20000;
        k[i].vf = rnd(&seed) % 3;
    }
    return k;
}

/* The keys in SQLite's order (a WITHOUT ROWID table keyed like the meter index), as one
 * text of "meter|ts|id|vf" lines with hex texts. */
static char *sqlite_order(const key_text *k, size_t n)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE m (meter_id TEXT NOT NULL, ts INTEGER NOT NULL,"
                                  " id TEXT NOT NULL, vf INTEGER NOT NULL,"
                                  " PRIMARY KEY (meter_id, ts, id, vf)) WITHOUT ROWID",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO m VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, k[i].meter, (int)k[i].mlen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, k[i].ts);
        sqlite3_bind_text(st, 3, k[i].id, (int)k[i].idlen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, k[i].vf);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    size_t cap = n * 256 + 1, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT hex(meter_id) || '|' || ts || '|' || hex(id) ||"
                                        " '|' || vf FROM m ORDER BY meter_id, ts, id, vf",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        len += (size_t)snprintf(out + len, cap - len, "%s\n", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static void hex(char *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02X", (unsigned char)p[i]);
    out[2 * n] = '\0';
}

/* Adds the keys to a sorter of budget bytes and reads them back as sqlite_order's text. */
static char *sorter_order(const key_text *k, size_t n, size_t budget, size_t *runs)
{
    ps_meter_sort *m = ps_meter_sort_new(budget, NULL);
    assert_non_null(m);
    for (size_t i = 0; i < n; i++) {
        ps_meter_key key = {k[i].meter, k[i].mlen, k[i].ts, k[i].id, k[i].idlen, k[i].vf};
        assert_int_equal(ps_meter_sort_add(m, &key), 0);
    }
    assert_int_equal(ps_meter_sort_count(m), n);
    assert_int_equal(ps_meter_sort_finish(m), 0);
    *runs = ps_meter_sort_spilled_runs(m);
    size_t cap = n * 256 + 1, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    ps_meter_key key;
    int got;
    while ((got = ps_meter_sort_next(m, &key)) == 1) {
        char hm[130], hi[90];
        hex(hm, key.meter, key.meter_len);
        hex(hi, key.id, key.id_len);
        len += (size_t)snprintf(out + len, cap - len, "%s|%lld|%s|%lld\n", hm,
                                (long long)key.timestamp_ms, hi, (long long)key.valid_from);
    }
    assert_int_equal(got, 0);
    assert_int_equal(ps_meter_sort_next(m, &key), 0); /* stays at the end */
    ps_meter_sort_free(m);
    return out;
}

static void check_order(size_t n, size_t budget, unsigned seed, int want_spill)
{
    key_text *k = make_keys(n, seed);
    char *want = sqlite_order(k, n);
    size_t runs = 0;
    char *got = sorter_order(k, n, budget, &runs);
    if (want_spill)
        assert_true(runs > 1);
    else
        assert_int_equal(runs, 0);
    assert_string_equal(got, want);
    free(want);
    free(got);
    free(k);
}

static void test_in_memory_order(void **state)
{
    (void)state;
    check_order(5000, (size_t)64 << 20, 1, 0);
    check_order(1, (size_t)64 << 20, 2, 0);
    check_order(0, (size_t)64 << 20, 3, 0);
}

/* A tiny budget: a run of about 10 keys, hundreds of runs merged. */
static void test_spilled_runs_order(void **state)
{
    (void)state;
    check_order(3000, 1200, 4, 1);
    check_order(5000, 100000, 5, 1);
    /* a budget below one key still holds one key a run */
    check_order(200, 1, 6, 1);
}

/* Keys far longer than a spilled run's read buffer (16 KiB) come back whole. */
static void test_long_keys(void **state)
{
    (void)state;
    enum { N = 12, LEN = 40000 };
    ps_meter_sort *m = ps_meter_sort_new(50000, NULL);
    assert_non_null(m);
    char *big = malloc(LEN);
    assert_non_null(big);
    for (int i = 0; i < N; i++) {
        memset(big, 'a' + (N - 1 - i), LEN);
        ps_meter_key key = {big, LEN, i, big, (size_t)i, 0};
        assert_int_equal(ps_meter_sort_add(m, &key), 0);
    }
    assert_int_equal(ps_meter_sort_finish(m), 0);
    assert_true(ps_meter_sort_spilled_runs(m) > 1);
    ps_meter_key key;
    for (int i = 0; i < N; i++) {
        assert_int_equal(ps_meter_sort_next(m, &key), 1);
        assert_int_equal(key.meter_len, LEN);
        assert_int_equal(key.meter[0], 'a' + i);
        assert_int_equal(key.meter[LEN - 1], 'a' + i);
        assert_int_equal(key.timestamp_ms, N - 1 - i);
        assert_int_equal(key.id_len, (size_t)(N - 1 - i));
    }
    assert_int_equal(ps_meter_sort_next(m, &key), 0);
    ps_meter_sort_free(m);
    free(big);
}

/* Reading before the end of the adding, adding after it, and a temporary folder that cannot
 * hold the spilled run: -1 with errno; a sorter that never spills needs no folder. */
static void test_errors(void **state)
{
    (void)state;
    ps_meter_key key = {"M1", 2, 1, "P1", 2, 0};
    ps_meter_sort *m = ps_meter_sort_new(1 << 20, "/nonexistent-paysync-dir");
    assert_non_null(m);
    assert_string_equal(ps_meter_sort_tmpdir(m), "/nonexistent-paysync-dir");
    ps_meter_key out; /* the sorter's bytes: gone with it */
    assert_int_equal(ps_meter_sort_add(m, &key), 0);
    errno = 0;
    assert_int_equal(ps_meter_sort_next(m, &out), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ps_meter_sort_finish(m), 0);
    errno = 0;
    assert_int_equal(ps_meter_sort_add(m, &key), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ps_meter_sort_next(m, &out), 1);
    assert_int_equal(out.meter_len, 2);
    assert_memory_equal(out.meter, "M1", 2);
    assert_int_equal(ps_meter_sort_next(m, &out), 0);
    ps_meter_sort_free(m);

    m = ps_meter_sort_new(1, "/nonexistent-paysync-dir");
    assert_non_null(m);
    assert_int_equal(ps_meter_sort_add(m, &key), 0);
    errno = 0;
    assert_int_equal(ps_meter_sort_add(m, &key), -1); /* the first spill */
    assert_int_equal(errno, ENOENT);
    ps_meter_sort_free(m);

    /* $TMPDIR when no folder is given */
    setenv("TMPDIR", "/nonexistent-paysync-tmp", 1);
    m = ps_meter_sort_new(1, NULL);
    unsetenv("TMPDIR");
    assert_non_null(m);
    assert_string_equal(ps_meter_sort_tmpdir(m), "/nonexistent-paysync-tmp");
    ps_meter_sort_free(m);
    m = ps_meter_sort_new(1, NULL);
    assert_string_equal(ps_meter_sort_tmpdir(m), "/tmp");
    ps_meter_sort_free(m);
    ps_meter_sort_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory_order),
        cmocka_unit_test(test_spilled_runs_order),
        cmocka_unit_test(test_long_keys),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

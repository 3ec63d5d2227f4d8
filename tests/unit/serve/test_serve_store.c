/* Unit tests: serve's store queries (core/src/serve/serve_store.h) on a database built with the
 * schema migrations of store_schema.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "serve/serve_store.h"
#include "store/store.h"
#include "store/store_schema.h"

#define D0 INT64_C(1704067200000)

typedef struct fixture {
    char path[64];
    ps_serve_store *store;
} fixture;

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static void add_payment(sqlite3 *db, const char *ds, const char *id, int64_t ms, const char *amount,
                        const char *level, const char *target, const char *fin,
                        const char *vanished)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(
                         db,
                         "INSERT INTO payments (dataset, id, timestamp, timestamp_ms, "
                         "payment_amount, amount_units, amount_scale, payment_currency, "
                         "transaction_type, customer_id, meter_id, financing_id, target_level, "
                         "target_id, content_hash, first_seen_run, last_seen_run, vanished_run) "
                         "VALUES (?1, ?2, 'x', ?3, ?4, 1, 0, 'NGN', 'FULL_PAYMENT', 'C', 'M', ?5, "
                         "?6, ?7, 0, 'r1', 'r1', ?8)",
                         -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, ds, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ms);
    sqlite3_bind_text(st, 4, amount, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, fin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, level, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, vanished, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    /* published by a successful run (readers show only published datasets) */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT OR IGNORE INTO cursors (dataset, cursor_json, "
                                        "run_id) VALUES (?1, NULL, 'r1')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, ds, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->path, sizeof f->path, "/tmp/ps-serve-store-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    for (int v = 0; ps_store_migration(v); v++) {
        exec_ok(db, ps_store_migration(v));
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        exec_ok(db, pragma);
    }
    exec_ok(db, "PRAGMA journal_mode = WAL");
    add_payment(db, "a", "P2", D0 + 1000, "1500.50", "project", "site-a", "L1", NULL);
    add_payment(db, "a", "P1", D0 + 1000, "2", "project", "site-a", NULL, NULL);
    add_payment(db, "b", "P1", D0 + 1000, "3", "program", "prog-b", "L1", NULL);
    add_payment(db, "b", "P0", D0 + 500, "4", "program", "prog-b", NULL, NULL);
    add_payment(db, "a", "GONE", D0 + 600, "5", "project", "site-a", NULL, "r2");
    add_payment(db, "a", "LATE", D0 + 86400000, "6", "project", "site-a", NULL, NULL);
    add_payment(db, "orphan", "X", D0 + 700, "7", "project", "site-o", NULL, NULL);
    exec_ok(db, "INSERT INTO runs (run_id, dataset, started, started_ms, finished, finished_ms, "
                "outcome, read, accepted, rejected) VALUES "
                "('r1', 'a', 's', 1000, 'f', 3500, 'ok', 10, 8, 2),"
                "('r2', 'a', 's', 5000, 'f', 6000, 'ok', 10, 9, 1),"
                "('r3', 'a', 's', 7000, NULL, NULL, 'failed', 0, 0, 0),"
                "('r1', 'b', 's', 100, 'f', 200, 'ok', 2, 2, 0)");
    sqlite3_close(db);
    ps_store_ref ref = {ps_store_backend_find("sqlite"), f->path};
    assert_int_equal(ps_serve_store_new(&ref, 2, &f->store, NULL), PS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ps_serve_store_free(f->store);
    char side[80];
    unlink(f->path);
    snprintf(side, sizeof side, "%s-wal", f->path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", f->path);
    unlink(side);
    free(f);
    return 0;
}

typedef struct collected {
    char ids[16][32];
    ps_target_level level[16];
    size_t n;
} collected;

static int collect(void *ud, const ps_store_payment *r)
{
    collected *c = ud;
    if (c->n < 16) {
        snprintf(c->ids[c->n], sizeof c->ids[c->n], "%s/%s", r->dataset, r->field[PS_F_ID]);
        c->level[c->n] = r->target_level;
    }
    c->n++;
    return 0;
}

static void query(fixture *f, const ps_serve_filter *flt, const char *want)
{
    ps_store *db;
    ps_error err = {0};
    assert_int_equal(ps_serve_store_acquire(f->store, &db, &err), PS_OK);
    collected c = {0};
    int broken = 0;
    ps_status st = ps_serve_store_payments(db, flt, collect, &c, &broken, &err);
    ps_serve_store_release(f->store, db, broken);
    assert_int_equal(st, PS_OK);
    char got[512] = "";
    for (size_t i = 0; i < c.n && i < 16; i++) {
        strcat(got, i ? " " : "");
        strcat(got, c.ids[i]);
    }
    assert_string_equal(got, want);
}

static void test_window_order_and_vanished(void **state)
{
    fixture *f = *state;
    ps_serve_filter flt = {D0, D0 + 86400000 - 1, NULL, 0, 1, NULL, NULL};
    /* timestamp, then ID, then dataset; GONE (vanished), LATE (outside) and orphan (a dataset
     * without runs: never written by a sink) are left out */
    query(f, &flt, "b/P0 a/P1 b/P1 a/P2");
    flt.to_ms = D0 + 86400000;
    query(f, &flt, "b/P0 a/P1 b/P1 a/P2 a/LATE");
    flt.from_ms = D0 + 1001;
    flt.to_ms = D0 + 2000;
    query(f, &flt, "");
}

static void test_filters(void **state)
{
    fixture *f = *state;
    const char *const only_a[] = {"a"};
    const char *const both[] = {"b", "a", "nope"};
    ps_serve_filter flt = {D0, D0 + 86400000 - 1, only_a, 1, 0, NULL, NULL};
    query(f, &flt, "a/P1 a/P2");
    flt.datasets = both;
    flt.ndatasets = 3;
    query(f, &flt, "b/P0 a/P1 b/P1 a/P2");
    flt.site_id = "prog-b";
    query(f, &flt, "b/P0 b/P1");
    flt.site_id = NULL;
    flt.financing_id = "L1";
    query(f, &flt, "b/P1 a/P2");
    flt.financing_id = "' OR 1=1 --";
    query(f, &flt, "");
    flt.financing_id = NULL;
    flt.site_id = "site-a";
    flt.datasets = only_a + 0;
    flt.ndatasets = 0; /* explicit empty list: nothing */
    query(f, &flt, "");
}

static void test_row_contents(void **state)
{
    fixture *f = *state;
    ps_store *db;
    assert_int_equal(ps_serve_store_acquire(f->store, &db, NULL), PS_OK);
    collected c = {0};
    ps_serve_filter flt = {D0, D0 + 600, NULL, 0, 1, NULL, NULL};
    assert_int_equal(ps_serve_store_payments(db, &flt, collect, &c, NULL, NULL), PS_OK);
    ps_serve_store_release(f->store, db, 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.ids[0], "b/P0");
    assert_int_equal(c.level[0], PS_TARGET_PROGRAM);
}

static int stop_early(void *ud, const ps_store_payment *r)
{
    (void)r;
    (*(int *)ud)++;
    return 1;
}

static void test_callback_stop(void **state)
{
    fixture *f = *state;
    ps_store *db;
    assert_int_equal(ps_serve_store_acquire(f->store, &db, NULL), PS_OK);
    int calls = 0;
    ps_error err = {0};
    ps_serve_filter flt = {D0, D0 + 86400000, NULL, 0, 1, NULL, NULL};
    assert_int_equal(ps_serve_store_payments(db, &flt, stop_early, &calls, NULL, &err),
                     PS_ERR_NOMEM);
    ps_serve_store_release(f->store, db, 0);
    assert_int_equal(calls, 1);
    assert_string_equal(err.message, "out of memory");
}

static void test_stats(void **state)
{
    fixture *f = *state;
    ps_store *db;
    assert_int_equal(ps_serve_store_acquire(f->store, &db, NULL), PS_OK);
    ps_store_stats *s = NULL;
    size_t n = 0;
    assert_int_equal(ps_store_stats_read(db, &s, &n, NULL), PS_OK);
    ps_serve_store_release(f->store, db, 0);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].dataset, "a");
    assert_int_equal(s[0].runs_ok, 2);
    assert_int_equal(s[0].runs_failed, 1);
    assert_int_equal(s[0].rows[0], 20); /* read */
    assert_int_equal(s[0].rows[1], 17); /* accepted */
    assert_int_equal(s[0].rows[2], 3);  /* rejected */
    assert_int_equal(s[0].has_success, 1);
    assert_int_equal(s[0].last_success_ms, 6000);
    assert_int_equal(s[0].last_success_duration_ms, 1000);
    assert_int_equal(s[0].has_run, 1);
    assert_int_equal(s[0].last_run_ok, 0); /* r3 failed last */
    assert_int_equal(s[0].last_run_ms, 7000);
    assert_string_equal(s[1].dataset, "b");
    assert_int_equal(s[1].last_run_ok, 1);
    assert_int_equal(s[1].last_success_duration_ms, 100);
    ps_store_stats_free(s, n);
}

static void test_pool_reuse(void **state)
{
    fixture *f = *state;
    ps_store *a, *b, *c;
    assert_int_equal(ps_serve_store_acquire(f->store, &a, NULL), PS_OK);
    assert_int_equal(ps_serve_store_acquire(f->store, &b, NULL), PS_OK);
    assert_int_equal(ps_serve_store_acquire(f->store, &c, NULL), PS_OK);
    assert_ptr_not_equal(a, b);
    ps_serve_store_release(f->store, a, 0);
    ps_serve_store_release(f->store, b, 1); /* broken: closed */
    ps_serve_store_release(f->store, c, 0);
    ps_store *d;
    assert_int_equal(ps_serve_store_acquire(f->store, &d, NULL), PS_OK);
    assert_true(d == c || d == a);
    ps_serve_store_release(f->store, d, 0);
    /* a reader in the middle of a query never blocks the writer, and sees its snapshot */
    assert_int_equal(ps_serve_store_acquire(f->store, &d, NULL), PS_OK);
    ps_store_query q = {.unbounded = 1};
    ps_store_iter *it = NULL;
    ps_store_payment p;
    assert_int_equal(ps_store_payments(d, &q, &it, NULL), PS_OK);
    assert_int_equal(ps_store_next_payment(it, &p, NULL), PS_OK);
    sqlite3 *w;
    assert_int_equal(sqlite3_open(f->path, &w), SQLITE_OK);
    sqlite3_busy_timeout(w, 100);
    exec_ok(w, "DELETE FROM payments");
    sqlite3_close(w);
    size_t rest = 0;
    while (ps_store_next_payment(it, &p, NULL) == PS_OK)
        rest++;
    assert_int_equal(rest, 5); /* 7 payments, 1 vanished, 1 read before the delete */
    ps_store_iter_free(it);
    ps_serve_store_release(f->store, d, 0);
}

static void unavailable(const char *path, const char *want)
{
    ps_serve_store *s;
    ps_store_ref ref = {ps_store_backend_find("sqlite"), (char *)path};
    assert_int_equal(ps_serve_store_new(&ref, 1, &s, NULL), PS_OK);
    assert_string_equal(ps_serve_store_path(s), path);
    ps_store *db = NULL;
    ps_error err = {0};
    assert_int_equal(ps_serve_store_acquire(s, &db, &err), PS_ERR_IO);
    assert_null(db);
    if (!strstr(err.message, want))
        fail_msg("'%s' lacks '%s'", err.message, want);
    ps_serve_store_free(s);
}

static void test_unavailable(void **state)
{
    (void)state;
    unavailable("/nonexistent/ps.db", "store '/nonexistent/ps.db' does not exist");
    char path[] = "/tmp/ps-serve-bad-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char junk[4096];
    memset(junk, 'j', sizeof junk);
    assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    unavailable(path, "is not a SQLite database");
    sqlite3 *db;
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "CREATE TABLE t (x)");
    sqlite3_close(db);
    unavailable(path, "is not a paysync store (no schema version)");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA user_version = 1");
    sqlite3_close(db);
    unavailable(path, "has schema version 1, older than this paysync");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA user_version = 99");
    sqlite3_close(db);
    unavailable(path, "has schema version 99, newer than this paysync");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_window_order_and_vanished, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_reuse, setup, teardown),
        cmocka_unit_test(test_unavailable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

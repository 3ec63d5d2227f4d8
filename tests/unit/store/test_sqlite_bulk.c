/* Unit tests of the SQLite store writer's first-load path (store/sqlite_writer.c, owned by
 * bench/perf): into an empty store the payments indexes are dropped with the load's first
 * chunk and built after its rows, before the publishing commit; an aborted first load leaves
 * them exactly as they were, and one that was killed leaves them missing until the next
 * writer opens a dataset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sink_test_host.h"
#include "store/sqlite_store.h"

typedef sth_sink fx;

static int setup(void **state)
{
    fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "store.db");
    assert_non_null(f);
    ps_error err = {0};
    if (sth_sink_create(f, &err) != PS_OK)
        fail_msg("create: %s", err.message);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(sth_sink_free(*state), 0);
    return 0;
}

/* "name:sql;" of every payments index, in name order, into buf (another connection). */
static const char *indexes(const char *path, char *buf, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT name || ':' || sql FROM sqlite_master WHERE "
                                        "type = 'index' AND tbl_name = 'payments' AND sql IS "
                                        "NOT NULL ORDER BY name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t n = 0;
    buf[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW)
        n += (size_t)snprintf(buf + n, cap - n, "%s;", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

static long long count_payments(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM payments", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void recs(ps_record r[3])
{
    sth_record(&r[0], "A", "2024-01-01T08:00:00.000Z", 1704096000000, "100.50");
    sth_record(&r[1], "B", "2024-01-01T09:00:00.000Z", 1704099600000, "7");
    sth_record(&r[2], "C", "2024-01-02T10:00:00.000Z", 1704189600000, "-0.0001");
}

static void open_write(fx *f, const char *dataset, const char *run_id, const ps_record *r, size_t n)
{
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), dataset, PS_TARGET_PROJECT, "site-1", run_id, 1000};
    if (sth_sink_write(f, &oa, r, n, &err) != PS_OK)
        fail_msg("open/write: %s", err.message);
}

static ps_change_counts commit(fx *f, const char *dataset, const char *run_id, size_t n)
{
    ps_error err = {0};
    ps_commit_info ci = {.struct_size = sizeof ci,
                         .dataset = dataset,
                         .run_id = run_id,
                         .started_ms = 1000,
                         .finished_ms = 2000,
                         .read = n,
                         .accepted = n};
    ps_change_counts cc = {0};
    if (f->d->sink->commit(f->inst, &ci, &cc, &err) != PS_OK)
        fail_msg("commit: %s", err.message);
    return cc;
}

static void test_first_load_rebuilds_indexes(void **state)
{
    fx *f = *state;
    char before[2048], after[2048];
    ps_record r[3];
    recs(r);
    indexes(f->path, before, sizeof before);
    /* the schema's three secondary indexes on payments */
    assert_non_null(strstr(before, "payments_meter:CREATE INDEX"));
    assert_non_null(strstr(before, "payments_dataset_time:"));
    assert_non_null(strstr(before, "payments_target_time:"));

    /* an aborted first load: nothing stored, indexes as before */
    open_write(f, "ds", "run-1", r, 3);
    f->d->sink->abort(f->inst, "test");
    assert_int_equal(count_payments(f->path), 0);
    assert_string_equal(indexes(f->path, after, sizeof after), before);

    /* a committed first load: rows stored, same indexes, and they are used and consistent */
    open_write(f, "ds", "run-2", r, 3);
    ps_change_counts c = commit(f, "ds", "run-2", 3);
    assert_int_equal(c.inserted, 3);
    assert_int_equal(count_payments(f->path), 3);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* later runs (store not empty) keep change tracking as usual */
    open_write(f, "ds", "run-3", r, 2);
    c = commit(f, "ds", "run-3", 2);
    assert_int_equal(c.unchanged, 2);
    assert_int_equal(c.vanished, 1);
    open_write(f, "other", "run-4", r, 1);
    c = commit(f, "other", "run-4", 1);
    assert_int_equal(c.inserted, 1);
    assert_int_equal(count_payments(f->path), 4);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
}

static void test_killed_first_load_indexes_restored(void **state)
{
    fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "store.db");
    assert_non_null(f);
    sth_set(&f->h, "chunk_rows", "1");
    ps_error err = {0};
    if (sth_sink_create(f, &err) != PS_OK)
        fail_msg("create: %s", err.message);
    (void)state;
    char before[2048], during[2048], after[2048];
    indexes(f->path, before, sizeof before);
    ps_record r[3];
    recs(r);
    /* a first load whose chunks are committed: indexes dropped, rows in the file */
    open_write(f, "ds", "run-1", r, 3);
    indexes(f->path, during, sizeof during);
    assert_null(strstr(during, "payments_meter"));
    assert_null(strstr(during, "payments_dataset_time"));
    assert_null(strstr(during, "payments_target_time"));
    /* the partial index of closed versions stays: a first load has none */
    assert_non_null(strstr(during, "payments_superseded"));
    assert_int_equal(count_payments(f->path), 3);
    /* killed: no abort, no commit (destroy rolls back only the open chunk) */
    f->d->destroy(f->inst);
    f->inst = NULL;
    assert_string_equal(indexes(f->path, after, sizeof after), during);
    /* the next writer opening another dataset creates them again */
    if (sth_sink_create(f, &err) != PS_OK)
        fail_msg("create: %s", err.message);
    open_write(f, "other", "run-2", r, 1);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
    assert_int_equal(commit(f, "other", "run-2", 1).inserted, 1);
    /* and the next run of the killed dataset replaces its unpublished rows */
    open_write(f, "ds", "run-3", r, 3);
    assert_int_equal(commit(f, "ds", "run-3", 3).inserted, 3);
    assert_int_equal(count_payments(f->path), 4);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
    assert_int_equal(sth_sink_free(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_load_rebuilds_indexes, setup, teardown),
        cmocka_unit_test(test_killed_first_load_indexes_restored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

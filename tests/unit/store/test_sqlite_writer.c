/* Unit tests of the SQLite store writer (the built-in sink `sqlite`): change tracking, run
 * history, cursors, locking, atomicity and schema migration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include "plugin/options.h"
#include "sink_test_host.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "store/store_schema.h"
#include "util/proc.h"

typedef sth_sink fx;

static int setup(void **state)
{
    fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "var/sub/paysync.db");
    assert_non_null(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(sth_sink_free(*state), 0);
    return 0;
}

static void create(fx *f)
{
    ps_error err = {0};
    if (sth_sink_create(f, &err) != PS_OK)
        fail_msg("create: %s", err.message);
}

/* A new store is built in a side file and appears at its first commit or at the end of the
 * run (test_sqlite_build.c): finish publishes it empty, for tests of the store file itself. */
static void create_published(fx *f)
{
    create(f);
    ps_error err = {0};
    if (f->d->sink->finish(f->inst, 1, &err) != PS_OK)
        fail_msg("finish: %s", err.message);
}

/* One dataset run: open, write recs, commit with the cursor; returns the change counts. */
static ps_change_counts run(fx *f, const char *dataset, const char *run_id, const ps_record *recs,
                            size_t n, const char *cursor)
{
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), dataset, PS_TARGET_PROGRAM, "prog-7", run_id, 1000};
    if (sth_sink_write(f, &oa, recs, n, &err) != PS_OK)
        fail_msg("open/write: %s", err.message);
    ps_commit_info ci = {sizeof(ci), dataset, run_id, cursor, 1000, 2500, n + 1, n,    1,    0,   0,
                         2,          0,       NULL,   NULL,   0,    0,    NULL,  NULL, NULL, NULL};
    ps_change_counts cc = {0};
    ps_status st = f->d->sink->commit(f->inst, &ci, &cc, &err);
    if (st != PS_OK)
        fail_msg("commit: %s", err.message);
    assert_int_equal(cc.valid, 1);
    return cc;
}

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

/* First column of the first row of sql as text ("" for none/NULL), into buf. */
static const char *q1(sqlite3 *db, const char *sql, char *buf, size_t cap)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    buf[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

static long long qint(sqlite3 *db, const char *sql)
{
    char buf[64];
    return atoll(q1(db, sql, buf, sizeof buf));
}

/* Every row of every table as text: to compare a store before and after. Runs that recorded
 * no outcome (the start marker of a run in progress or interrupted: checked by
 * marker_of) are left out. */
static char *dump(const char *path)
{
    sqlite3 *db = db_open(path);
    static const char *const sql[] = {
        "SELECT * FROM payments ORDER BY dataset, id",
        "SELECT * FROM runs WHERE finished IS NOT NULL ORDER BY dataset, run_id",
        "SELECT * FROM cursors ORDER BY dataset",
    };
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, sql[i], -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const char *v = (const char *)sqlite3_column_text(st, c);
                n += (size_t)snprintf(out + n, cap - n, "%s|", v ? v : "<null>");
                assert_true(n < cap);
            }
            n += (size_t)snprintf(out + n, cap - n, "\n");
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

static void recs3(ps_record r[4])
{
    sth_record(&r[0], "A", "2024-01-01T08:00:00.000Z", 1704096000000, "100.50");
    sth_record(&r[1], "B", "2024-01-01T09:00:00.000Z", 1704099600000, "12345678901234.5678");
    sth_record(&r[2], "C", "2024-01-02T10:00:00.000Z", 1704189600000, "-0.0001");
    sth_record(&r[3], "D", "2024-01-03T11:00:00.000Z", 1704279600000, "7");
    r[0].field[PS_F_TRANSACTION_CHARGES] = ps_str_from("1.10");
    r[0].field[PS_F_FINANCING_ID] = ps_str_from("F-1");
    sth_finish_record(&r[0]);
}

static void test_descriptor(void **state)
{
    fx *f = *state;
    assert_string_equal(f->d->name, "sqlite");
    assert_int_equal(f->d->flags & PS_SINK_KEEPS_STATE, PS_SINK_KEEPS_STATE);
    assert_non_null(f->d->sink->load_cursor);
    assert_non_null(f->d->sink->record_failure);
    assert_string_equal(f->d->options[0].name, "path");
    assert_string_equal(f->d->options[0].default_value, "var/paysync.db");
}

static void test_creates_schema(void **state)
{
    fx *f = *state;
    create_published(f); /* parent folders var/sub are created */
    sqlite3 *db = db_open(f->path);
    char buf[64];
    assert_int_equal(qint(db, "PRAGMA user_version"), PS_STORE_USER_VERSION);
    assert_string_equal(q1(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_int_equal(qint(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('payments',"
                              "'runs','cursors','payments_dataset_time','payments_target_time',"
                              "'payments_meter_idx')"),
                     6);
    /* the meter index is a table kept by triggers (schema version 8), not an index */
    assert_int_equal(qint(db, "SELECT count(*) FROM sqlite_master WHERE name = 'payments_meter'"),
                     0);
    assert_int_equal(qint(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                              " AND tbl_name = 'payments'"),
                     3);
    /* no REAL column anywhere */
    assert_int_equal(qint(db, "SELECT count(*) FROM pragma_table_info('payments') WHERE type "
                              "NOT IN ('TEXT','INTEGER')"),
                     0);
    sqlite3_close(db);
}

static void test_change_tracking_three_runs(void **state)
{
    fx *f = *state;
    ps_record r[4];
    recs3(r);
    create(f);

    /* run 1: A B C */
    ps_change_counts c = run(f, "ds", "run-001", r, 3, "{\"page\":1}");
    assert_int_equal(c.inserted, 3);
    assert_int_equal(c.changed + c.unchanged + c.vanished, 0);

    /* run 2: A same, B changed, C gone, D new */
    ps_record r2[3] = {r[0], r[1], r[3]};
    r2[1].field[PS_F_NOTES] = ps_str_from("edited");
    sth_finish_record(&r2[1]);
    c = run(f, "ds", "run-002", r2, 3, NULL);
    assert_int_equal(c.inserted, 1);
    assert_int_equal(c.changed, 1);
    assert_int_equal(c.unchanged, 1);
    assert_int_equal(c.vanished, 1);

    /* run 3: A, B (as in run 2), C reappears, D gone */
    ps_record r3[3] = {r[0], r2[1], r[2]};
    c = run(f, "ds", "run-003", r3, 3, "{\"page\":3}");
    assert_int_equal(c.inserted, 0);
    assert_int_equal(c.changed, 1); /* C came back */
    assert_int_equal(c.unchanged, 2);
    assert_int_equal(c.vanished, 1); /* D */

    sqlite3 *db = db_open(f->path);
    char buf[256];
    assert_string_equal(q1(db, "SELECT vanished_run FROM payments WHERE id='D'", buf, sizeof buf),
                        "run-003");
    assert_string_equal(q1(db,
                           "SELECT coalesce(vanished_run,'none') || first_seen_run || "
                           "last_seen_run FROM payments WHERE id='C'",
                           buf, sizeof buf),
                        "nonerun-001run-003");
    assert_string_equal(q1(db, "SELECT notes FROM payments WHERE id='B'", buf, sizeof buf),
                        "edited");
    /* an unchanged payment is never rewritten: A keeps the row of run 1 ... */
    assert_string_equal(q1(db, "SELECT last_seen_run FROM payments WHERE id='A'", buf, sizeof buf),
                        "run-001");
    /* ... and D, last written by run 2, was last seen by run 2 */
    assert_string_equal(q1(db, "SELECT last_seen_run FROM payments WHERE id='D'", buf, sizeof buf),
                        "run-002");
    /* the reader: a present payment was seen by the dataset's last successful run */
    {
        ps_store_ref ref = {&ps_store_sqlite, f->path};
        ps_store *st = NULL;
        ps_store_iter *it = NULL;
        ps_error e = {0};
        assert_int_equal(ps_store_open(&ref, 1000, &st, &e), PS_OK);
        ps_store_query q = {.unbounded = 1, .include_vanished = 1};
        assert_int_equal(ps_store_payments(st, &q, &it, &e), PS_OK);
        ps_store_payment p;
        char seen[256] = "";
        while (ps_store_next_payment(it, &p, &e) == PS_OK)
            snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s:%s:%s ", p.field[PS_F_ID],
                     p.last_seen_run, p.vanished_run ? p.vanished_run : "-");
        assert_string_equal(seen, "A:run-003:- B:run-003:- C:run-003:- D:run-002:run-003 ");
        ps_store_iter_free(it);
        ps_store_close(st);
    }
    /* exact amounts as text plus minor units and scale */
    assert_string_equal(q1(db,
                           "SELECT payment_amount || '/' || typeof(payment_amount) || '/' || "
                           "amount_units || '/' || amount_scale FROM payments WHERE id='B'",
                           buf, sizeof buf),
                        "12345678901234.5678/text/123456789012345678/4");
    assert_string_equal(q1(db,
                           "SELECT transaction_charges || '/' || charges_units || '/' || "
                           "charges_scale || '/' || target_level || '/' || target_id "
                           "FROM payments WHERE id='A'",
                           buf, sizeof buf),
                        "1.10/110/2/program/prog-7");
    assert_string_equal(q1(db, "SELECT amount_units FROM payments WHERE id='C'", buf, sizeof buf),
                        "-1");
    assert_int_equal(qint(db, "SELECT count(*) FROM payments WHERE transaction_charges IS NULL"),
                     3);
    /* runs: three ok rows with their counts; the cursor of the last run */
    assert_int_equal(qint(db, "SELECT count(*) FROM runs WHERE outcome='ok' AND dataset='ds'"), 3);
    assert_string_equal(q1(db,
                           "SELECT started || ' ' || finished || ' ' || read || ' ' || "
                           "accepted || ' ' || rejected || ' ' || warnings || ' ' || inserted "
                           "|| ' ' || changed || ' ' || unchanged || ' ' || vanished "
                           "FROM runs WHERE run_id='run-002'",
                           buf, sizeof buf),
                        "1970-01-01T00:00:01.000Z 1970-01-01T00:00:02.500Z 4 3 1 2 1 1 1 1");
    assert_string_equal(q1(db, "SELECT cursor_json || run_id FROM cursors", buf, sizeof buf),
                        "{\"page\":3}run-003");
    sqlite3_close(db);
    char *cur = f->d->sink->load_cursor(f->inst, "ds");
    assert_string_equal(cur, "{\"page\":3}");
    free(cur);
    assert_null(f->d->sink->load_cursor(f->inst, "other"));
}

/* Datasets are independent: a run of one never flags IDs of another. */
/* A re-run finds stored payments with one ordered read merged against the incoming IDs and
 * keeps the unchanged ones as ranges of that order (sqlite_writer.c: scan_lookup,
 * flush_range). Input that runs in order, skips stored payments (a few, then many), goes
 * back, repeats IDs (ranges that overlap and are merged) and mixes in writes: exactly the
 * payments it did not carry vanish. */
static void test_rerun_out_of_order(void **state)
{
    fx *f = *state;
    enum { N = 60 };
    static char ids[N + 1][8];
    ps_record all[N + 1];
    for (int i = 0; i <= N; i++) {
        snprintf(ids[i], sizeof ids[i], "P%02d", i);
        sth_record(&all[i], ids[i], "2024-01-01T08:00:00.000Z", 1704096000000, "5");
    }
    create(f);
    ps_change_counts c = run(f, "ds", "run-1", all, N, NULL);
    assert_int_equal(c.inserted, N);

    /* the order of the second run (N = P60: a new payment; P30 changed) */
    static const int order[] = {0,  1,  2,  3,  4,  5,  6,  7, 8, 9, 12, 13, 14, 40,
                                41, 42, 43, 44, 20, 19, 21, 5, 6, 7, 30, 31, N,  9};
    enum { M = sizeof order / sizeof order[0] };
    ps_record r2[M];
    for (int i = 0; i < M; i++)
        r2[i] = all[order[i]];
    r2[24].field[PS_F_NOTES] = ps_str_from("edited");
    sth_finish_record(&r2[24]);
    c = run(f, "ds", "run-2", r2, M, NULL);
    assert_int_equal(c.inserted, 1);
    assert_int_equal(c.changed, 1);
    assert_int_equal(c.unchanged, M - 2);
    /* 60 stored, 23 of them carried (some twice) */
    assert_int_equal(c.vanished, N - 23);

    sqlite3 *db = db_open(f->path);
    char buf[512];
    assert_string_equal(
        q1(db,
           "SELECT group_concat(id, ' ') FROM (SELECT id FROM payments WHERE vanished_run ="
           " 'run-2' AND valid_to IS NULL ORDER BY id)",
           buf, sizeof buf),
        "P10 P11 P15 P16 P17 P18 P22 P23 P24 P25 P26 P27 P28 P29 P32 P33 P34 P35 P36 P37 P38 "
        "P39 P45 P46 P47 P48 P49 P50 P51 P52 P53 P54 P55 P56 P57 P58 P59");
    assert_int_equal(qint(db, "SELECT count(*) FROM payments WHERE valid_to IS NULL AND"
                              " vanished_run IS NULL"),
                     23 + 1);
    sqlite3_close(db);

    /* the same input again: nothing changes, nothing more vanishes */
    c = run(f, "ds", "run-3", r2, M, NULL);
    assert_int_equal(c.inserted + c.changed + c.vanished, 0);
    assert_int_equal(c.unchanged, M);
}

static void test_datasets_independent(void **state)
{
    fx *f = *state;
    ps_record r[4];
    recs3(r);
    create(f);
    run(f, "one", "run-1", r, 2, NULL);
    ps_change_counts c = run(f, "two", "run-1", &r[2], 2, NULL);
    assert_int_equal(c.inserted, 2);
    assert_int_equal(c.vanished, 0);
    c = run(f, "one", "run-2", r, 1, NULL);
    assert_int_equal(c.vanished, 1);
    sqlite3 *db = db_open(f->path);
    assert_int_equal(qint(db, "SELECT count(*) FROM payments WHERE vanished_run IS NOT NULL"), 1);
    /* same ID in two datasets: two rows */
    sqlite3_close(db);
    c = run(f, "two", "run-2", r, 1, NULL);
    assert_int_equal(c.inserted, 1);
    assert_int_equal(c.vanished, 2);
}

/* An aborted run leaves every table byte-identical; record_failure only adds a runs row. */
/* Asserts that run_id's row is the start marker of a run without outcome (this process's). */
static void assert_marker(const char *path, const char *run_id)
{
    sqlite3 *db = db_open(path);
    char sql[256], buf[512], want[512];
    snprintf(sql, sizeof sql,
             "SELECT outcome || '|' || coalesce(finished, 'null') || '|' || error FROM runs"
             " WHERE run_id = '%s'",
             run_id);
    unsigned long long since = 0;
    assert_int_equal(ps_proc_start_time((long)getpid(), &since), 0);
    snprintf(want, sizeof want, "failed|null|%s%ld%s%llu", PS_STORE_RUN_INTERRUPTED, (long)getpid(),
             PS_STORE_RUN_START, since);
    assert_string_equal(q1(db, sql, buf, sizeof buf), want);
    sqlite3_close(db);
}

static void test_abort_leaves_store_identical(void **state)
{
    fx *f = *state;
    ps_record r[4];
    recs3(r);
    create(f);
    run(f, "ds", "run-1", r, 3, "{\"c\":1}");
    char *before = dump(f->path);

    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), "ds", PS_TARGET_PROGRAM, "prog-7", "run-2", 0};
    assert_int_equal(f->d->sink->open(f->inst, &oa, &err), PS_OK);
    ps_record changed = r[0];
    changed.field[PS_F_NOTES] = ps_str_from("x");
    sth_finish_record(&changed);
    ps_record_batch b = {.struct_size = sizeof(b), .count = 1, .records = &changed};
    assert_int_equal(f->d->sink->write_batch(f->inst, &b, &err), PS_OK);
    b.records = &r[3];
    assert_int_equal(f->d->sink->write_batch(f->inst, &b, &err), PS_OK);
    f->d->sink->abort(f->inst, "provider failed");
    char *after = dump(f->path);
    assert_string_equal(before, after);
    free(after);
    assert_marker(f->path, "run-2"); /* committed before the data: replaced below */

    ps_commit_info ci = {sizeof(ci), "ds", "run-2", "{\"c\":2}", 5000, 6000, 9,
                         0,          0,    0,       0,           0,    0,    NULL,
                         NULL,       0,    0,       NULL,        NULL, NULL, NULL};
    f->d->sink->record_failure(f->inst, &ci, "source unreachable: HTTP 503");
    sqlite3 *db = db_open(f->path);
    char buf[256];
    assert_string_equal(q1(db,
                           "SELECT outcome || '|' || error || '|' || read || '|' || "
                           "coalesce(inserted, 'null') FROM runs WHERE run_id='run-2'",
                           buf, sizeof buf),
                        "failed|source unreachable: HTTP 503|9|null");
    sqlite3_close(db);
    /* data and cursor untouched */
    after = dump(f->path);
    char *p = strstr(before, "run-1|ds|"), *q = strstr(after, "run-1|ds|");
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal(p - before, q - after); /* payments section identical */
    assert_memory_equal(before, after, (size_t)(p - before));
    char *cur = f->d->sink->load_cursor(f->inst, "ds");
    assert_string_equal(cur, "{\"c\":1}");
    free(cur);
    free(before);
    free(after);

    /* The next successful run still compares with run-1. */
    ps_change_counts c = run(f, "ds", "run-3", r, 3, NULL);
    assert_int_equal(c.unchanged, 3);
    assert_int_equal(c.vanished, 0);
}

static void test_locked_database(void **state)
{
    fx *f = *state;
    sth_set(&f->h, "busy_timeout_ms", "0");
    create_published(f);
    sqlite3 *other = db_open(f->path);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), "ds", PS_TARGET_PROJECT, NULL, "run-1", 0};
    assert_int_equal(f->d->sink->open(f->inst, &oa, &err), PS_ERR_SINK);
    assert_non_null(strstr(err.message, "is locked by another process"));
    assert_non_null(strstr(err.message, f->path));
    assert_non_null(strstr(err.message, "dataset 'ds'"));

    /* a second instance cannot even migrate a new file while another holds its lock */
    sth_host h2;
    char p2[400];
    snprintf(p2, sizeof p2, "%s/fresh.db", f->dir);
    sqlite3 *other2 = db_open(p2);
    assert_int_equal(sqlite3_exec(other2, "BEGIN IMMEDIATE; CREATE TABLE x(y);", NULL, NULL, NULL),
                     SQLITE_OK);
    sth_init(&h2, "store2");
    sth_set(&h2, "path", p2);
    sth_set(&h2, "busy_timeout_ms", "0");
    void *i2 = NULL;
    assert_int_equal(f->d->create(&h2.ctx, &i2, &err), PS_ERR_SINK);
    assert_non_null(strstr(err.message, p2));
    assert_non_null(strstr(err.message, "locked"));
    assert_null(i2);
    sqlite3_exec(other2, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other2);

    /* released: the same instance works again */
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    ps_record r[4];
    recs3(r);
    assert_int_equal(run(f, "ds", "run-1", r, 1, NULL).inserted, 1);
}

static void test_bad_files(void **state)
{
    fx *f = *state;
    static const struct {
        const char *content;
        const char *message;
    } cases[] = {
        {"this is not a database, just some text that is long enough to have a header....",
         "is not a valid paysync database"},
        {NULL, "newer than this paysync understands"},
    };
    for (size_t i = 0; i < 2; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/bad%zu.db", f->dir, i);
        if (cases[i].content) {
            assert_int_equal(sth_write_file(p, cases[i].content), 0);
        } else {
            sqlite3 *db = db_open(p);
            assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
                             SQLITE_OK);
            sqlite3_close(db);
        }
        sth_set(&f->h, "path", p);
        ps_error err = {0};
        void *inst = NULL;
        assert_int_equal(f->d->create(&f->h.ctx, &inst, &err), PS_ERR_SINK);
        assert_non_null(strstr(err.message, p));
        assert_non_null(strstr(err.message, cases[i].message));
    }
    sth_set(&f->h, "path", f->path); /* p went out of scope */
    /* busy_timeout_ms is a duration (a plain number means ms) of 0..1h, checked by the core */
    static const struct {
        const char *value, *msg;
    } bad[] = {
        {"-5", "sink 'store': option 'busy_timeout_ms' must be a duration from 0s to 1h (units ms, "
               "s, m, h, d, e.g. 500ms, 90s, 1h30m; a plain number means milliseconds), got '-5'"},
        {"2h", "got '2h'"},
        {"5 s", "got '5 s' (unknown unit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_kv kv = {(char *)"busy_timeout_ms", (char *)bad[i].value, 3, 5};
        ps_options *o = NULL;
        ps_error err = {0};
        assert_int_equal(ps_options_build(f->d, &kv, 1, "c.yaml", "/", "sink 'store'", &o, &err),
                         PS_ERR_CONFIG);
        assert_null(o);
        if (!strstr(err.message, bad[i].msg))
            fail_msg("'%s' lacks '%s'", err.message, bad[i].msg);
    }
    static const struct {
        const char *value;
        long long ms;
    } good[] = {{"5000", 5000}, {"5s", 5000}, {"0", 0}, {"1m30s", 90000}, {"250ms", 250}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ps_kv kv = {(char *)"busy_timeout_ms", (char *)good[i].value, 3, 5};
        ps_options *o = NULL;
        ps_error err = {0};
        assert_int_equal(ps_options_build(f->d, &kv, 1, "c.yaml", "/", "sink 'store'", &o, &err),
                         PS_OK);
        assert_int_equal(ps_options_int(o, "busy_timeout_ms"), good[i].ms);
        ps_options_free(o);
    }
}

/* A version-1 store (as the first release wrote it) upgrades in place, keeping its data. */
static void test_migration_from_v1(void **state)
{
    fx *f = *state;
    char p[400];
    snprintf(p, sizeof p, "%s/v1.db", f->dir);
    sqlite3 *db = db_open(p);
    assert_int_equal(sqlite3_exec(db, ps_store_migration(0), NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "PRAGMA user_version = 1;"
                     "INSERT INTO payments (dataset, id, timestamp, timestamp_ms, payment_amount,"
                     " amount_units, amount_scale, payment_currency, transaction_type,"
                     " target_level, content_hash, first_seen_run, last_seen_run) VALUES"
                     " ('ds', 'OLD', '2023-01-01T00:00:00.000Z', 1672531200000, '5.00', 500, 2,"
                     " 'NGN', 'FULL_PAYMENT', 'project', 1, 'run-0', 'run-0');"
                     "INSERT INTO runs (run_id, dataset, started, outcome, read) VALUES"
                     " ('run-0', 'ds', '2023-01-01T00:00:00.000Z', 'ok', 1);"
                     "INSERT INTO cursors VALUES ('ds', '{\"v\":1}', 'run-0');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    sth_set(&f->h, "path", p);
    create(f);
    assert_non_null(strstr(f->h.last_log, "upgraded sqlite store"));
    db = db_open(p);
    char buf[128];
    assert_int_equal(qint(db, "PRAGMA user_version"), PS_STORE_USER_VERSION);
    assert_string_equal(q1(db,
                           "SELECT payment_amount || coalesce(vanished_run, '-') || id_derived "
                           "FROM payments WHERE id='OLD'",
                           buf, sizeof buf),
                        "5.00-0");
    assert_int_equal(qint(db, "SELECT count(*) FROM runs WHERE inserted IS NULL"), 1);
    sqlite3_close(db);
    char *cur = f->d->sink->load_cursor(f->inst, "ds");
    assert_string_equal(cur, "{\"v\":1}");
    free(cur);

    ps_record r[4];
    recs3(r);
    ps_change_counts c = run(f, "ds", "run-1", r, 1, NULL);
    assert_int_equal(c.inserted, 1);
    assert_int_equal(c.vanished, 1); /* OLD was in the previous run, absent now */
}

/* "dataset:id " of the payments the reader (store.c) shows for meter m (with the vanished
 * ones when vanished is set), in the reader's order, into buf. */
static const char *by_meter(const char *path, const char *m, int vanished, char *buf, size_t cap)
{
    ps_store_ref ref = {&ps_store_sqlite, (char *)path};
    ps_store *st = NULL;
    ps_store_iter *it = NULL;
    ps_error e = {0};
    assert_int_equal(ps_store_open(&ref, 1000, &st, &e), PS_OK);
    ps_store_query q = {.unbounded = 1, .include_vanished = vanished, .meter_id = m};
    assert_int_equal(ps_store_payments(st, &q, &it, &e), PS_OK);
    ps_store_payment p;
    buf[0] = '\0';
    while (ps_store_next_payment(it, &p, &e) == PS_OK)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s:%s ", p.dataset, p.field[PS_F_ID]);
    ps_store_iter_free(it);
    ps_store_close(st);
    return buf;
}

/* The same through SQL on the payments table itself (the published_payments view): what a
 * version-7 store's meter index answered. */
static const char *by_meter_sql(sqlite3 *db, const char *m, int vanished, char *buf, size_t cap)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(k, '') FROM (SELECT dataset || ':' || id || ' ' AS k FROM"
             " published_payments WHERE meter_id = '%s'%s ORDER BY timestamp_ms, id, dataset)",
             m, vanished ? "" : " AND vanished_run IS NULL");
    return q1(db, sql, buf, cap);
}

/* A version-7 store (meter index on payments) upgrades to version 8 (the meter index a table
 * of its own): every payment row with a meter is in it, the reader's meter queries answer
 * what the version-7 store answered, and later runs keep it in step. */
static void test_migration_v7_meter_index(void **state)
{
    fx *f = *state;
    char p[400];
    snprintf(p, sizeof p, "%s/v7.db", f->dir);
    sqlite3 *db = db_open(p);
    for (int v = 0; v < 7; v++)
        assert_int_equal(sqlite3_exec(db, ps_store_migration(v), NULL, NULL, NULL), SQLITE_OK);
    /* ds published at version 1: A's version 0 closed by version 1 (another meter), B
     * current, C without a meter, D vanished; ds2 published at version 0; ks a killed first
     * load (no cursors row: never shown) */
    static const char *const rows[][6] = {
        {"ds", "A", "1000", "M1", "0", "1"},  {"ds", "A", "1000", "M2", "1", NULL},
        {"ds", "B", "2000", "M1", "0", NULL}, {"ds", "C", "3000", NULL, "0", NULL},
        {"ds", "D", "500", "M1", "0", NULL},  {"ds2", "F", "1500", "M1", "0", NULL},
        {"ks", "E", "1200", "M1", "0", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char sql[1024];
        snprintf(sql, sizeof sql,
                 "INSERT INTO payments (dataset, id, timestamp, timestamp_ms, payment_amount,"
                 " amount_units, amount_scale, payment_currency, transaction_type, meter_id,"
                 " target_level, content_hash, first_seen_run, last_seen_run, vanished_run,"
                 " valid_from, valid_to) VALUES ('%s', '%s', 't', %s, '1', 1, 0, 'NGN',"
                 " 'FULL_PAYMENT', %s%s%s, 'project', %zu, 'r0', 'r0', %s, %s, %s)",
                 rows[i][0], rows[i][1], rows[i][2], rows[i][3] ? "'" : "",
                 rows[i][3] ? rows[i][3] : "NULL", rows[i][3] ? "'" : "", i,
                 strcmp(rows[i][1], "D") == 0 ? "'r1'" : "NULL", rows[i][4],
                 rows[i][5] ? rows[i][5] : "NULL");
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO cursors (dataset, run_id, version) VALUES"
                                  " ('ds', 'r1', 1), ('ds2', 'r0', 0);"
                                  "PRAGMA user_version = 7;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    static const struct {
        const char *meter;
        int vanished;
    } qs[] = {{"M1", 0}, {"M1", 1}, {"M2", 0}, {"M9", 1}};
    char want[4][128], got[128];
    for (size_t i = 0; i < 4; i++)
        by_meter_sql(db, qs[i].meter, qs[i].vanished, want[i], sizeof want[i]);
    assert_string_equal(want[0], "ds2:F ds:B ");
    assert_string_equal(want[1], "ds:D ds2:F ds:B ");
    assert_string_equal(want[2], "ds:A ");
    sqlite3_close(db);

    sth_set(&f->h, "path", p);
    create(f);
    assert_non_null(strstr(f->h.last_log, "upgraded sqlite store"));
    db = db_open(p);
    assert_int_equal(qint(db, "PRAGMA user_version"), 8);
    assert_int_equal(qint(db, "SELECT count(*) FROM sqlite_master WHERE name = 'payments_meter'"),
                     0);
    /* every row with a meter, every version, the killed load's too */
    assert_int_equal(qint(db, "SELECT count(*) FROM payments_meter_idx"), 6);
    assert_int_equal(qint(db, "SELECT count(*) FROM payments p JOIN payments_meter_idx m USING"
                              " (meter_id, timestamp_ms, dataset, id, valid_from)"),
                     6);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(by_meter(p, qs[i].meter, qs[i].vanished, got, sizeof got), want[i]);

    /* later runs: ds re-run (A back on M1, B to M2, C and D as recs3 has them), ks's first
     * load replaces the killed one's rows; the index holds exactly the rows with a meter */
    ps_record r[4];
    recs3(r);
    r[1].field[PS_F_METER_ID] = ps_str_from("M2");
    sth_finish_record(&r[1]);
    run(f, "ds", "run-1", r, 4, NULL);
    run(f, "ks", "run-2", r, 1, NULL);
    assert_int_equal(qint(db, "SELECT (SELECT count(*) FROM payments WHERE meter_id IS NOT NULL)"
                              " - (SELECT count(*) FROM payments p JOIN payments_meter_idx m"
                              " USING (meter_id, timestamp_ms, dataset, id, valid_from))"
                              " + (SELECT count(*) FROM payments_meter_idx)"
                              " - (SELECT count(*) FROM payments WHERE meter_id IS NOT NULL)"),
                     0);
    assert_int_equal(qint(db, "SELECT count(*) FROM payments_meter_idx WHERE dataset = 'ks'"
                              " AND id = 'E'"),
                     0);
    for (size_t i = 0; i < 3; i++) {
        by_meter_sql(db, qs[i].meter, qs[i].vanished, want[i], sizeof want[i]);
        assert_string_equal(by_meter(p, qs[i].meter, qs[i].vanished, got, sizeof got), want[i]);
    }
    assert_string_equal(want[2], "ds:B ");
    sqlite3_close(db);
}

/* Reopening an up-to-date store does not migrate again; two instances coexist. */
static void test_two_instances(void **state)
{
    fx *f = *state;
    create(f);
    sth_host h2;
    sth_init(&h2, "store2");
    sth_set(&h2, "path", f->path);
    void *i2 = NULL;
    ps_error err = {0};
    assert_int_equal(f->d->create(&h2.ctx, &i2, &err), PS_OK);
    assert_int_equal(h2.nlogs, 0);
    ps_record r[4];
    recs3(r);
    run(f, "one", "run-1", r, 2, "{\"one\":1}");
    char *cur = f->d->sink->load_cursor(i2, "one");
    assert_string_equal(cur, "{\"one\":1}");
    free(cur);
    f->d->destroy(i2);
}

static void test_lifecycle_misuse(void **state)
{
    fx *f = *state;
    create(f);
    ps_error err = {0};
    ps_record r[4];
    recs3(r);
    ps_record_batch b = {.struct_size = sizeof(b), .count = 1, .records = r};
    assert_int_equal(f->d->sink->write_batch(f->inst, &b, &err), PS_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "write without open"));
    ps_commit_info ci = {sizeof(ci), "ds", "run-1", NULL, 0, 0, 0,    0,    0,    0,   0,
                         0,          0,    NULL,    NULL, 0, 0, NULL, NULL, NULL, NULL};
    assert_int_equal(f->d->sink->commit(f->inst, &ci, NULL, &err), PS_ERR_INTERNAL);
    ps_sink_open_args oa = {sizeof(oa), "ds", PS_TARGET_PROJECT, NULL, "run-1", 0};
    assert_int_equal(f->d->sink->open(f->inst, &oa, &err), PS_OK);
    assert_int_equal(f->d->sink->open(f->inst, &oa, &err), PS_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "still open"));
    ci.dataset = "other";
    assert_int_equal(f->d->sink->commit(f->inst, &ci, NULL, &err), PS_ERR_INTERNAL);
    assert_int_equal(f->d->sink->write_batch(f->inst, &b, &err), PS_OK);
    /* finish with an open dataset rolls it back */
    assert_int_equal(f->d->sink->finish(f->inst, 1, &err), PS_OK);
    assert_non_null(strstr(f->h.last_log, "rolled back"));
    sqlite3 *db = db_open(f->path);
    assert_int_equal(qint(db, "SELECT count(*) FROM payments"), 0);
    sqlite3_close(db);
}

/* A full disk (a file size limit stands in for it) fails the dataset with a message naming
 * the cause and the file; the store is left as it was. */
static void test_disk_full(void **state)
{
    fx *f = *state;
    ps_record r[4];
    recs3(r);
    create(f);
    run(f, "ds", "run-1", r, 3, NULL);
    char *before = dump(f->path);

    enum { N = 2000 };
    ps_record *many = calloc(N, sizeof *many);
    static char ids[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "N%06d", i);
        sth_record(&many[i], ids[i], "2024-01-01T00:00:00.000Z", 1704067200000, "1");
        many[i].field[PS_F_NOTES].ptr =
            "a note long enough to fill pages quickly ......................"
            "...............................................................";
        sth_finish_record(&many[i]);
    }
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 256 * 1024;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), "ds", PS_TARGET_PROJECT, NULL, "run-2", 0};
    ps_status st = f->d->sink->open(f->inst, &oa, &err);
    for (int k = 0; k < 20 && st == PS_OK; k++) {
        ps_record_batch b = {.struct_size = sizeof(b), .count = N, .records = many};
        st = f->d->sink->write_batch(f->inst, &b, &err);
        for (int i = 0; i < N; i++)
            many[i].source_row += N; /* keep going with new content */
        for (int i = 0; i < N; i++) {
            ids[i][0] = (char)('A' + k);
            sth_finish_record(&many[i]);
        }
    }
    if (st == PS_OK) {
        ps_commit_info ci = {sizeof(ci), "ds", "run-2", NULL, 0, 0, 0,    0,    0,    0,   0,
                             0,          0,    NULL,    NULL, 0, 0, NULL, NULL, NULL, NULL};
        st = f->d->sink->commit(f->inst, &ci, NULL, &err);
    }
    if (st != PS_OK)
        f->d->sink->abort(f->inst, "failed");
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(st, PS_ERR_SINK);
    assert_non_null(strstr(err.message, f->path));
    assert_non_null(strstr(err.message, "disk full (or file size limit reached) while writing"));
    assert_non_null(strstr(err.message, "File too large"));
    char *after = dump(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_marker(f->path, "run-2"); /* no failure recorded: it shows as interrupted */
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_creates_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_tracking_three_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rerun_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_datasets_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_store_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_v7_meter_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

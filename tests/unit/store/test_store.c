/* Unit tests of the read-only store API (store.c) over a database built with the shared
 * schema (store_schema.h), as the sqlite sink writes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_schema.h"

/* Opens the SQLite store at path through the store interface, as status/export do. */
static ps_status open_at(const char *path, ps_store **s, ps_error *err)
{
    ps_store_ref ref = {ps_store_backend_find("sqlite"), (char *)path};
    assert_non_null(ref.backend);
    return ps_store_open(&ref, PS_STORE_WAIT_MS, s, err);
}

typedef struct fx {
    char dir[256];
    char path[300];
    sqlite3 *w; /* writer connection */
} fx;

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* Inserts a payment with the fields tests look at. */
static void pay(sqlite3 *db, const char *ds, const char *id, int64_t ms, const char *amount,
                const char *target, const char *financing, const char *meter, const char *vanished)
{
    char ts[32], sql[1024];
    ps_store_format_ms(ms, ts);
    snprintf(sql, sizeof sql,
             "INSERT INTO payments (dataset, id, timestamp, timestamp_ms, payment_amount,"
             " amount_units, amount_scale, payment_currency, transaction_type, customer_id,"
             " meter_id, financing_id, target_level, target_id, source_row, content_hash,"
             " first_seen_run, last_seen_run, vanished_run) VALUES ('%s', '%s', '%s', %lld,"
             " '%s', 0, 0, 'NGN', 'FULL_PAYMENT', 'C1', %s%s%s, %s%s%s, '%s', %s%s%s, 7, 1,"
             " 'r1', 'r2', %s%s%s)",
             ds, id, ts, (long long)ms, amount, meter ? "'" : "", meter ? meter : "NULL",
             meter ? "'" : "", financing ? "'" : "", financing ? financing : "NULL",
             financing ? "'" : "", target && strcmp(target, "P") == 0 ? "program" : "project",
             target ? "'" : "", target ? target : "NULL", target ? "'" : "", vanished ? "'" : "",
             vanished ? vanished : "NULL", vanished ? "'" : "");
    exec_ok(db, sql);
    /* published by a successful run (readers show only published datasets) */
    snprintf(sql, sizeof sql,
             "INSERT OR IGNORE INTO cursors (dataset, cursor_json, run_id) VALUES ('%s', NULL,"
             " 'r2')",
             ds);
    exec_ok(db, sql);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    const char *base = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/ps-store-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/paysync.db", f->dir);
    assert_int_equal(sqlite3_open(f->path, &f->w), SQLITE_OK);
    exec_ok(f->w, "PRAGMA journal_mode = WAL");
    for (int v = 0; ps_store_migration(v); v++)
        exec_ok(f->w, ps_store_migration(v));
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", PS_STORE_USER_VERSION);
    exec_ok(f->w, pragma);

    pay(f->w, "site", "B", 1704067200000, "10.50", "S1", "F1", "M1", NULL); /* 2024-01-01 */
    pay(f->w, "site", "A", 1704067200000, "-3", "S1", NULL, "M2", NULL);    /* same instant */
    pay(f->w, "site", "C", 1704153599999, "0.0001", "S1", "F2", "M1", NULL);
    pay(f->w, "site", "GONE", 1704100000000, "1", "S1", NULL, "M1", "r3");
    pay(f->w, "shs", "A", 1704067200000, "99", "P", "F1", "SER-1", NULL);
    pay(f->w, "shs", "Z", 1704240000000, "5", "P", NULL, "SER-2", NULL); /* 2024-01-03 */
    exec_ok(f->w,
            "INSERT INTO runs (run_id, dataset, started, started_ms, finished, finished_ms,"
            " outcome, read, accepted, rejected, blank, duplicates, warnings, inserted,"
            " changed, unchanged, vanished, error) VALUES"
            " ('r1', 'site', 's1', 1000, 'f1', 2000, 'ok', 10, 8, 1, 1, 0, 2, 8, 0, 0, 0, NULL),"
            " ('r2', 'site', 's2', 3000, 'f2', 4000, 'ok', 9, 9, 0, 0, 0, 0, 1, 1, 7, 1, NULL),"
            " ('r3', 'site', 's3', 5000, 'f3', 6000, 'failed', 0, 0, 0, 0, 0, 0, NULL, NULL,"
            "  NULL, NULL, 'HTTP 503'),"
            " ('r1', 'shs', 's1', 1000, 'f1b', 2500, 'ok', 2, 2, 0, 0, 0, 0, 2, 0, 0, 0, NULL),"
            " ('r9', 'empty', 's9', 9000, 'f9', 9500, 'failed', 0, 0, 0, 0, 0, 0, NULL, NULL,"
            "  NULL, NULL, 'no such sheet')");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    sqlite3_close(f->w);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void test_open_errors(void **state)
{
    fx *f = *state;
    char p[400];
    ps_store *s = NULL;
    ps_error err = {0};

    snprintf(p, sizeof p, "%s/missing.db", f->dir);
    assert_int_equal(open_at(p, &s, &err), PS_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(err.message, "does not exist"));
    assert_non_null(strstr(err.message, p));

    snprintf(p, sizeof p, "%s/text.db", f->dir);
    FILE *fp = fopen(p, "w");
    fputs("not a database at all, but long enough to be read as one by sqlite......", fp);
    fclose(fp);
    assert_int_equal(open_at(p, &s, &err), PS_ERR_IO);
    assert_non_null(strstr(err.message, "is not a SQLite database"));

    static const struct {
        int version;
        const char *message;
    } versions[] = {
        {0, "is not a paysync store"},
        {1, "older than this paysync"},
        {99, "newer than this paysync"},
    };
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/v%d.db", f->dir, versions[i].version);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
        char sql[64];
        snprintf(sql, sizeof sql, "CREATE TABLE t(x); PRAGMA user_version = %d",
                 versions[i].version);
        exec_ok(db, sql);
        sqlite3_close(db);
        assert_int_equal(open_at(p, &s, &err), PS_ERR_IO);
        assert_non_null(strstr(err.message, versions[i].message));
        assert_non_null(strstr(err.message, p));
    }
}

static void test_datasets(void **state)
{
    fx *f = *state;
    ps_store *s;
    ps_error err = {0};
    assert_int_equal(open_at(f->path, &s, &err), PS_OK);
    ps_store_iter *it;
    assert_int_equal(ps_store_datasets(s, &it, &err), PS_OK);
    ps_store_dataset d;

    assert_int_equal(ps_store_next_dataset(it, &d, &err), PS_OK);
    assert_string_equal(d.name, "empty");
    assert_int_equal(d.payments, 0);
    assert_int_equal(d.has_run, 1);
    assert_string_equal(d.last_run.outcome, "failed");
    assert_string_equal(d.last_run.error, "no such sheet");
    assert_int_equal(d.last_run.has_changes, 0);
    assert_null(d.last_ok_finished);

    assert_int_equal(ps_store_next_dataset(it, &d, &err), PS_OK);
    assert_string_equal(d.name, "shs");
    assert_int_equal(d.payments, 2);
    assert_string_equal(d.last_run.run_id, "r1");
    assert_string_equal(d.last_ok_finished, "f1b");

    assert_int_equal(ps_store_next_dataset(it, &d, &err), PS_OK);
    assert_string_equal(d.name, "site");
    assert_int_equal(d.payments, 3);
    assert_int_equal(d.vanished, 1);
    assert_string_equal(d.last_run.run_id, "r3"); /* the newest run, even though it failed */
    assert_string_equal(d.last_run.outcome, "failed");
    assert_string_equal(d.last_ok_finished, "f2");

    assert_int_equal(ps_store_next_dataset(it, &d, &err), PS_END);
    ps_store_payment p;
    assert_int_equal(ps_store_next_payment(it, &p, &err), PS_ERR_USAGE);
    assert_non_null(strstr(err.message, "not a payment iterator"));
    ps_store_iter_free(it);
    ps_store_close(s);
}

/* Collects the IDs (dataset:ID) the query yields, space-separated, into buf. */
static const char *ids(ps_store *s, const ps_store_query *q, char *buf, size_t cap)
{
    ps_store_iter *it;
    ps_error err = {0};
    assert_int_equal(ps_store_payments(s, q, &it, &err), PS_OK);
    ps_store_payment p;
    size_t n = 0;
    buf[0] = '\0';
    ps_status st;
    while ((st = ps_store_next_payment(it, &p, &err)) == PS_OK)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s:%s", n ? " " : "", p.dataset,
                              p.field[PS_F_ID]);
    assert_int_equal(st, PS_END);
    ps_store_iter_free(it);
    return buf;
}

static void test_payment_queries(void **state)
{
    fx *f = *state;
    ps_store *s;
    ps_error err = {0};
    assert_int_equal(open_at(f->path, &s, &err), PS_OK);
    const char *site[] = {"site"}, *both[] = {"site", "shs"}, *nope[] = {"nope"};
    const struct {
        const char *name;
        ps_store_query q;
        const char *want;
    } cases[] = {
        {"all, ordered by time then id then dataset",
         {.unbounded = 1},
         "shs:A site:A site:B site:C shs:Z"},
        {"inclusive day window",
         {.from_ms = 1704067200000, .to_ms = 1704153599999},
         "shs:A site:A site:B site:C"},
        {"window excludes edges", {.from_ms = 1704067200001, .to_ms = 1704153599998}, ""},
        {"one dataset", {.datasets = site, .ndatasets = 1, .unbounded = 1}, "site:A site:B site:C"},
        {"two datasets and a window",
         {.datasets = both, .ndatasets = 2, .from_ms = 1704153599999, .to_ms = 1704240000000},
         "site:C shs:Z"},
        {"target", {.unbounded = 1, .target_id = "P"}, "shs:A shs:Z"},
        {"financing", {.unbounded = 1, .financing_id = "F1"}, "shs:A site:B"},
        {"meter and dataset",
         {.datasets = site, .ndatasets = 1, .unbounded = 1, .meter_id = "M1"},
         "site:B site:C"},
        {"vanished included",
         {.unbounded = 1, .include_vanished = 1, .target_id = "S1"},
         "site:A site:B site:GONE site:C"},
        {"empty window", {.from_ms = 5, .to_ms = 4}, ""},
        {"unknown dataset", {.datasets = nope, .ndatasets = 1, .unbounded = 1}, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[512];
        const char *got = ids(s, &cases[i].q, buf, sizeof buf);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got '%s', want '%s'", cases[i].name, got, cases[i].want);
    }
    ps_store_close(s);
}

static void test_payment_fields(void **state)
{
    fx *f = *state;
    ps_store *s;
    ps_error err = {0};
    assert_int_equal(open_at(f->path, &s, &err), PS_OK);
    ps_store_query q = {.unbounded = 1, .financing_id = "F1", .include_vanished = 1};
    ps_store_iter *it;
    assert_int_equal(ps_store_payments(s, &q, &it, &err), PS_OK);
    ps_store_payment p;
    assert_int_equal(ps_store_next_payment(it, &p, &err), PS_OK);
    assert_string_equal(p.dataset, "shs");
    assert_string_equal(p.field[PS_F_PAYMENT_AMOUNT], "99");
    assert_string_equal(p.field[PS_F_TIMESTAMP], "2024-01-01T00:00:00.000Z");
    assert_string_equal(p.field[PS_F_METER_ID], "SER-1");
    assert_null(p.field[PS_F_NOTES]);
    assert_int_equal(p.target_level, PS_TARGET_PROGRAM);
    assert_string_equal(p.target_id, "P");
    assert_int_equal(p.timestamp_ms, 1704067200000);
    assert_int_equal(p.source_row, 7);
    assert_null(p.vanished_run);
    assert_int_equal(ps_store_next_payment(it, &p, &err), PS_OK);
    assert_string_equal(p.field[PS_F_PAYMENT_AMOUNT], "10.50");
    assert_int_equal(p.target_level, PS_TARGET_PROJECT);
    assert_int_equal(ps_store_next_payment(it, &p, &err), PS_END);
    ps_store_iter_free(it);

    q = (ps_store_query){.unbounded = 1, .include_vanished = 1, .meter_id = "M1"};
    assert_int_equal(ps_store_payments(s, &q, &it, &err), PS_OK);
    int vanished = 0;
    while (ps_store_next_payment(it, &p, &err) == PS_OK)
        if (p.vanished_run) {
            assert_string_equal(p.vanished_run, "r3");
            assert_string_equal(p.field[PS_F_ID], "GONE");
            vanished++;
        }
    assert_int_equal(vanished, 1);
    ps_store_iter_free(it);
    ps_store_close(s);
}

static void test_runs(void **state)
{
    fx *f = *state;
    ps_store *s;
    ps_error err = {0};
    assert_int_equal(open_at(f->path, &s, &err), PS_OK);
    ps_store_iter *it;
    assert_int_equal(ps_store_runs(s, "site", 0, &it, &err), PS_OK);
    ps_store_run r;
    const char *want[] = {"r3", "r2", "r1"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ps_store_next_run(it, &r, &err), PS_OK);
        assert_string_equal(r.run_id, want[i]);
        assert_string_equal(r.dataset, "site");
    }
    assert_int_equal(ps_store_next_run(it, &r, &err), PS_END);
    ps_store_iter_free(it);

    assert_int_equal(ps_store_runs(s, "site", 1, &it, &err), PS_OK);
    assert_int_equal(ps_store_next_run(it, &r, &err), PS_OK);
    assert_string_equal(r.error, "HTTP 503");
    assert_int_equal(r.has_changes, 0);
    assert_int_equal(ps_store_next_run(it, &r, &err), PS_END);
    ps_store_iter_free(it);

    assert_int_equal(ps_store_runs(s, NULL, 0, &it, &err), PS_OK);
    int n = 0;
    while (ps_store_next_run(it, &r, &err) == PS_OK) {
        if (n++ == 0)
            assert_string_equal(r.dataset, "empty"); /* newest first */
        if (strcmp(r.run_id, "r2") == 0) {
            assert_int_equal(r.has_changes, 1);
            assert_int_equal(r.read, 9);
            assert_int_equal(r.inserted, 1);
            assert_int_equal(r.unchanged, 7);
            assert_int_equal(r.vanished, 1);
            assert_int_equal(r.started_ms, 3000);
            assert_int_equal(r.finished_ms, 4000);
            assert_string_equal(r.outcome, "ok");
            assert_null(r.error);
        }
    }
    assert_int_equal(n, 5);
    ps_store_dataset d;
    assert_int_equal(ps_store_next_dataset(it, &d, &err), PS_ERR_USAGE);
    ps_store_iter_free(it);
    ps_store_close(s);
}

/* Readers see only committed data, and never block a writer holding a transaction. */
static void test_reader_sees_commits_only(void **state)
{
    fx *f = *state;
    ps_store *s;
    ps_error err = {0};
    assert_int_equal(open_at(f->path, &s, &err), PS_OK);
    exec_ok(f->w, "BEGIN IMMEDIATE");
    pay(f->w, "site", "NEW", 1704067200000, "1", "S1", NULL, NULL, NULL);
    const char *site[] = {"site"};
    ps_store_query q = {.datasets = site, .ndatasets = 1, .unbounded = 1};
    char buf[256];
    assert_string_equal(ids(s, &q, buf, sizeof buf), "site:A site:B site:C");
    exec_ok(f->w, "COMMIT");
    assert_string_equal(ids(s, &q, buf, sizeof buf), "site:A site:B site:NEW site:C");
    ps_store_close(s);
}

static void test_format_ms(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1709648161350, "2024-03-05T14:16:01.350Z"},
        {951782400000, "2000-02-29T00:00:00.000Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {253402300799999, "9999-12-31T23:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        assert_int_equal(ps_store_format_ms(cases[i].ms, buf), 24);
        assert_string_equal(buf, cases[i].text);
    }
    assert_string_equal(ps_store_field_column(PS_F_FAILED_BATTERY_CAPACITY_COUNT),
                        "failed_battery_capacity_count");
    assert_null(ps_store_field_column(PS_FIELD_COUNT));
    assert_null(ps_store_migration(PS_STORE_USER_VERSION));
    assert_int_equal(ps_store_target_level_parse(ps_store_target_level_name(PS_TARGET_PROGRAM)),
                     PS_TARGET_PROGRAM);
    assert_int_equal(ps_store_target_level_parse("project"), PS_TARGET_PROJECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_datasets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_sees_commits_only, setup, teardown),
        cmocka_unit_test(test_format_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the SQLite store writer's first-load path (store/sqlite_writer.c, owned by
 * bench/perf): into an empty store the payments indexes are dropped with the load's first
 * chunk and built after its rows, before the publishing commit; an aborted first load leaves
 * them exactly as they were, and one that was killed leaves them missing until the next
 * writer opens a dataset. The meter index (a table of its own, filled from a sort before a
 * first load publishes) holds exactly the keys of the payments with a meter after every run,
 * also after a killed first load is replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sink_test_host.h"
#include "store/sqlite_store.h"
#include "store/store_schema.h"

typedef sth_sink fx;

/* Creates the instance and publishes the new store empty (finish): these tests look at the
 * store file during a first load, which an existing store shows (a new store's first load is
 * built in a side file: test_sqlite_build.c). */
static void create_published(fx *f)
{
    ps_error err = {0};
    if (sth_sink_create(f, &err) != PS_OK)
        fail_msg("create: %s", err.message);
    if (f->d->sink->finish(f->inst, 1, &err) != PS_OK)
        fail_msg("finish: %s", err.message);
}

static int setup(void **state)
{
    fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "store.db");
    assert_non_null(f);
    create_published(f);
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

/* Integer result of sql on another connection. */
static long long qint(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Payments with a meter missing from the meter index, plus index entries of no payment. */
static long long meter_mismatches(const char *path)
{
    return qint(path, "SELECT (SELECT count(*) FROM payments p WHERE meter_id IS NOT NULL AND"
                      " NOT EXISTS (SELECT 1 FROM payments_meter_idx m WHERE"
                      " m.meter_id = p.meter_id AND m.timestamp_ms = p.timestamp_ms AND"
                      " m.dataset = p.dataset AND m.id = p.id AND m.valid_from = p.valid_from))"
                      " + (SELECT count(*) FROM payments_meter_idx m WHERE NOT EXISTS (SELECT 1"
                      " FROM payments p WHERE p.dataset = m.dataset AND p.id = m.id AND"
                      " p.valid_from = m.valid_from AND p.meter_id = m.meter_id AND"
                      " p.timestamp_ms = m.timestamp_ms))");
}

static void recs(ps_record r[3])
{
    sth_record(&r[0], "A", "2024-01-01T08:00:00.000Z", 1704096000000, "100.50");
    sth_record(&r[1], "B", "2024-01-01T09:00:00.000Z", 1704099600000, "7");
    sth_record(&r[2], "C", "2024-01-02T10:00:00.000Z", 1704189600000, "-0.0001");
    r[1].field[PS_F_METER_ID] = ps_str_from("M2");
    r[2].field[PS_F_METER_ID] = (ps_str){0}; /* no meter: not in the meter index */
    for (int i = 1; i < 3; i++)
        sth_finish_record(&r[i]);
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
    /* the schema's secondary indexes on payments; the meter index is a table */
    assert_null(strstr(before, "payments_meter"));
    assert_non_null(strstr(before, "payments_dataset_time:"));
    assert_non_null(strstr(before, "payments_target_time:"));

    /* an aborted first load: nothing stored, indexes as before */
    open_write(f, "ds", "run-1", r, 3);
    f->d->sink->abort(f->inst, "test");
    assert_int_equal(count_payments(f->path), 0);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_deferred"), 0);

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
    /* the meter index: filled before the publishing commit, the dataset no longer deferred */
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"), 2);
    assert_int_equal(meter_mismatches(f->path), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_deferred"), 0);

    /* later runs (store not empty) keep change tracking as usual, and the meter index in
     * step: B moves to another meter (a new version, the old one closed), C vanishes (a
     * copy), A is unchanged */
    r[1].field[PS_F_METER_ID] = ps_str_from("M3");
    sth_finish_record(&r[1]);
    open_write(f, "ds", "run-3", r, 2);
    c = commit(f, "ds", "run-3", 2);
    assert_int_equal(c.unchanged, 1);
    assert_int_equal(c.changed, 1);
    assert_int_equal(c.vanished, 1);
    assert_int_equal(meter_mismatches(f->path), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx WHERE"
                                   " meter_id = 'M3'"),
                     1);
    open_write(f, "other", "run-4", r, 1);
    c = commit(f, "other", "run-4", 1);
    assert_int_equal(c.inserted, 1);
    assert_int_equal(count_payments(f->path), 4);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
    assert_int_equal(meter_mismatches(f->path), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx WHERE"
                                   " dataset = 'other'"),
                     1);
}

static void test_killed_first_load_indexes_restored(void **state)
{
    fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "store.db");
    assert_non_null(f);
    sth_set(&f->h, "chunk_rows", "1");
    ps_error err = {0};
    create_published(f);
    (void)state;
    char before[2048], during[2048], after[2048];
    indexes(f->path, before, sizeof before);
    ps_record r[3];
    recs(r);
    /* a first load whose chunks are committed and whose rows come in no time order (B before
     * A): indexes dropped, rows in the file */
    ps_record unordered[3] = {r[1], r[0], r[2]};
    open_write(f, "ds", "run-1", unordered, 3);
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
    /* its meter keys were deferred to the fill before publishing, which never came; as if
     * it had been killed in the middle of the fill, one key is in the index already */
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_deferred"
                                   " WHERE dataset = 'ds'"),
                     1);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO payments_meter_idx SELECT meter_id, timestamp_ms,"
                                  " dataset, id, valid_from FROM payments WHERE id = 'A'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"), 1);
    /* the next writer opening another dataset creates them again */
    if (sth_sink_create(f, &err) != PS_OK)
        fail_msg("create: %s", err.message);
    open_write(f, "other", "run-2", r, 1);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
    assert_int_equal(commit(f, "other", "run-2", 1).inserted, 1);
    /* and the next run of the killed dataset replaces its unpublished rows */
    /* other's first load filled its key; ds's partial fill waits for ds's next run */
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"), 2);
    /* (A on another meter now: the key the killed load's fill wrote must go, not stay) */
    r[0].field[PS_F_METER_ID] = ps_str_from("M9");
    sth_finish_record(&r[0]);
    open_write(f, "ds", "run-3", r, 3);
    assert_int_equal(commit(f, "ds", "run-3", 3).inserted, 3);
    assert_int_equal(count_payments(f->path), 4);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
    /* other's payment (a first load too, filled at its commit) and ds's A and B */
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"), 3);
    assert_int_equal(meter_mismatches(f->path), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_deferred"), 0);
    assert_int_equal(sth_sink_free(f), 0);
}

/* A first load into an empty store keeps the time indexes while its rows come in time order
 * (equal times too); the first older row drops them, and they are built after the rows. The
 * indexes hold every row after the commit and answer queries. */
static void test_first_load_time_order(void **state)
{
    (void)state;
    fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "store.db");
    assert_non_null(f);
    sth_set(&f->h, "chunk_rows", "1");
    create_published(f);
    char before[2048], during[2048], after[2048];
    indexes(f->path, before, sizeof before);
    ps_record r[3], older[2];
    recs(r);
    open_write(f, "ds", "run-1", r, 3);
    /* in time order: the chunks committed so far show them kept */
    assert_string_equal(indexes(f->path, during, sizeof during), before);
    sth_record(&older[0], "D", "2024-01-02T10:00:00.000Z", 1704189600000, "5");
    sth_record(&older[1], "E", "2024-01-01T07:00:00.000Z", 1704092400000, "6");
    ps_error err = {0};
    if (sth_sink_write_flagged(f, older, 1, NULL, &err) != PS_OK) /* as late as C: kept */
        fail_msg("write: %s", err.message);
    assert_string_equal(indexes(f->path, during, sizeof during), before);
    if (sth_sink_write_flagged(f, &older[1], 1, NULL, &err) != PS_OK) /* older: dropped */
        fail_msg("write: %s", err.message);
    indexes(f->path, during, sizeof during);
    assert_null(strstr(during, "payments_dataset_time"));
    assert_null(strstr(during, "payments_target_time"));
    assert_int_equal(commit(f, "ds", "run-1", 5).inserted, 5);
    assert_string_equal(indexes(f->path, after, sizeof after), before);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments INDEXED BY"
                                   " payments_dataset_time WHERE dataset = 'ds' AND"
                                   " timestamp_ms >= 1704092400000"),
                     5);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments INDEXED BY"
                                   " payments_target_time WHERE target_id = 'site-1' AND"
                                   " timestamp_ms < 1704099600000"),
                     2);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM pragma_integrity_check WHERE"
                                   " integrity_check <> 'ok'"),
                     0);
    assert_int_equal(meter_mismatches(f->path), 0);
    assert_int_equal(sth_sink_free(f), 0);
}

/* Every column of payments but the dataset's. */
#define ROW_COLUMNS                                                                                \
    "id, timestamp, timestamp_ms, payment_amount, amount_units, amount_scale, payment_currency,"   \
    " transaction_type, transaction_charges, charges_units, charges_scale, reference_id,"          \
    " customer_id, meter_id, customer_name, customer_phone, customer_category, financing_id,"      \
    " agent_id, latitude, longitude, utility_id, failed_battery_capacity_count, account_type,"     \
    " status, notes, target_level, target_id, source_row, content_hash, first_seen_run,"           \
    " last_seen_run, id_derived, vanished_run, valid_from, valid_to"

enum { N_GROUPED = 75 }; /* two statements of 32 rows, then 11 rows one by one */

/* N_GROUPED records, each different: optional fields present or not by row. */
static void many_recs(ps_record *r, char ids[][16], char ts[][32])
{
    static const char *const amounts[] = {"100.50", "7", "-0.0001", "12345678.9"};
    for (int i = 0; i < N_GROUPED; i++) {
        snprintf(ids[i], 16, "P%03d", i);
        int64_t ms = 1704067200000 + (int64_t)i * 61001;
        ps_store_format_ms(ms, ts[i]);
        sth_record(&r[i], ids[i], ts[i], ms, amounts[i % 4]);
        if (i % 3 == 0)
            r[i].field[PS_F_METER_ID] = (ps_str){0};
        if (i % 2)
            r[i].field[PS_F_TRANSACTION_CHARGES] = ps_str_from("0.25");
        if (i % 5 == 0)
            r[i].field[PS_F_NOTES] = ps_str_from("note");
        if (i % 7 == 0)
            r[i].field[PS_F_CUSTOMER_NAME] = (ps_str){0};
        r[i].id_derived = i % 11 == 0;
        r[i].source_row = (uint64_t)i + 2;
        sth_finish_record(&r[i]);
    }
}

/* A first load writes a batch's new payments 32 to a statement (sqlite_writer.c
 * st_insert_rows), the rest one by one: the rows stored are exactly those of the same records
 * written one by one, and the meter index holds their keys. publish_first: into an existing
 * store (with chunk commits in between), else into a new store built aside. */
static void check_grouped_rows(int publish_first)
{
    fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "store.db");
    assert_non_null(f);
    sth_set(&f->h, "chunk_rows", "40");
    ps_error err = {0};
    if (publish_first) {
        create_published(f);
    } else if (sth_sink_create(f, &err) != PS_OK) {
        fail_msg("create: %s", err.message);
    }
    static ps_record r[N_GROUPED];
    static char ids[N_GROUPED][16], ts[N_GROUPED][32];
    many_recs(r, ids, ts);
    open_write(f, "grouped", "run-1", r, N_GROUPED);
    ps_change_counts c = commit(f, "grouped", "run-1", N_GROUPED);
    assert_int_equal(c.inserted, N_GROUPED);
    open_write(f, "single", "run-1", r, 1);
    for (int i = 1; i < N_GROUPED; i++)
        if (sth_sink_write_flagged(f, &r[i], 1, NULL, &err) != PS_OK)
            fail_msg("write: %s", err.message);
    c = commit(f, "single", "run-1", N_GROUPED);
    assert_int_equal(c.inserted, N_GROUPED);
    assert_int_equal(count_payments(f->path), 2 * N_GROUPED);
    assert_int_equal(qint(f->path,
                          "SELECT count(*) FROM (SELECT " ROW_COLUMNS
                          " FROM payments WHERE dataset = 'grouped' EXCEPT SELECT " ROW_COLUMNS
                          " FROM payments WHERE dataset = 'single')"),
                     0);
    assert_int_equal(qint(f->path, "SELECT count(DISTINCT source_row) FROM payments"), N_GROUPED);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments WHERE charges_units = 25 AND"
                                   " charges_scale = 2 AND dataset = 'grouped'"),
                     N_GROUPED / 2);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx WHERE"
                                   " dataset = 'grouped'"),
                     N_GROUPED - (N_GROUPED + 2) / 3);
    assert_int_equal(meter_mismatches(f->path), 0);
    assert_int_equal(sth_sink_free(f), 0);
}

static void test_first_load_rows_grouped(void **state)
{
    (void)state;
    check_grouped_rows(1);
    check_grouped_rows(0);
}

/* A statement of 32 rows that does not store them all (an ID twice: the store's conflict
 * clause skips the second) or a record without an ID fails the write with the source rows;
 * the aborted load leaves nothing. */
static void test_first_load_group_errors(void **state)
{
    fx *f = *state;
    static ps_record r[N_GROUPED];
    static char ids[N_GROUPED][16], ts[N_GROUPED][32];
    many_recs(r, ids, ts);
    r[20].field[PS_F_ID] = r[5].field[PS_F_ID];
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), "ds", PS_TARGET_PROJECT, "site-1", "run-1", 1000};
    assert_int_equal(sth_sink_write(f, &oa, r, N_GROUPED, &err), PS_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "writing the payments of source rows 2 to 33: an ID was"
                                        " stored by another writer"));
    f->d->sink->abort(f->inst, "test");
    assert_int_equal(count_payments(f->path), 0);

    many_recs(r, ids, ts);
    r[40].field[PS_F_ID] = (ps_str){0};
    memset(&err, 0, sizeof err);
    assert_int_equal(sth_sink_write(f, &oa, r, N_GROUPED, &err), PS_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "record of source row 42 has no ID"));
    f->d->sink->abort(f->inst, "test");
    assert_int_equal(count_payments(f->path), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"), 0);
}

enum { METER_BATCH = 1000 };

/* Batch b of a first load: METER_BATCH records with IDs after those of the batches before,
 * 37 meters, timestamps in no order (some shared), every 9th without a meter. texts holds
 * the IDs, timestamps and meters. */
static void meter_batch(ps_record *r, char (*texts)[3][32], int b)
{
    for (int i = 0; i < METER_BATCH; i++) {
        int n = b * METER_BATCH + i;
        snprintf(texts[i][0], 32, "P%07d", n);
        int64_t ms = 1704067200000 + (int64_t)((n * 7919) % 5003) * 1000;
        ps_store_format_ms(ms, texts[i][1]);
        snprintf(texts[i][2], 32, "MTR-%d", (n * 31) % 37);
        sth_record(&r[i], texts[i][0], texts[i][1], ms, "10");
        r[i].field[PS_F_METER_ID] = n % 9 == 4 ? (ps_str){0} : ps_str_from(texts[i][2]);
        r[i].source_row = (uint64_t)n + 2;
        sth_finish_record(&r[i]);
    }
}

/* The meter keys of a first load are sorted by paysync (store/meter_sort.c) and inserted 64 to
 * a statement, the rest one by one: after a first load of 5 batches (3 of them written one
 * record at a time, so both write paths add keys) into a new store built aside and into an
 * existing one (chunk commits in between), the meter index holds exactly the payments' keys. */
static void test_first_load_meter_keys(void **state)
{
    (void)state;
    static ps_record r[METER_BATCH];
    static char texts[METER_BATCH][3][32];
    for (int publish_first = 0; publish_first < 2; publish_first++) {
        fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "store.db");
        assert_non_null(f);
        sth_set(&f->h, "chunk_rows", "700");
        ps_error err = {0};
        if (publish_first)
            create_published(f);
        else if (sth_sink_create(f, &err) != PS_OK)
            fail_msg("create: %s", err.message);
        meter_batch(r, texts, 0);
        open_write(f, "meters", "run-1", r, METER_BATCH);
        for (int b = 1; b < 5; b++) {
            meter_batch(r, texts, b);
            for (int i = 0; i < METER_BATCH; i++)
                if (sth_sink_write_flagged(f, &r[i], b % 2 ? 1 : METER_BATCH - i, NULL, &err) !=
                    PS_OK)
                    fail_msg("write: %s", err.message);
                else if (b % 2 == 0)
                    break;
        }
        commit(f, "meters", "run-1", 5 * METER_BATCH);
        assert_int_equal(count_payments(f->path), 5 * METER_BATCH);
        assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"),
                         5 * METER_BATCH - (5 * METER_BATCH + 4) / 9);
        assert_int_equal(meter_mismatches(f->path), 0);
        /* later writes keep it in step (the insert trigger is back) */
        meter_batch(r, texts, 5);
        open_write(f, "meters", "run-2", r, 10);
        commit(f, "meters", "run-2", 10);
        assert_int_equal(meter_mismatches(f->path), 0);
        assert_int_equal(sth_sink_free(f), 0);
    }
}

/* A first load whose meter keys outgrow the sort's memory (4 MiB) and cannot be written to
 * the temporary folder fails the write with the folder and the cause; the aborted load
 * stores nothing. */
static void test_first_load_meter_sort_fails(void **state)
{
    fx *f = *state;
    static ps_record r[METER_BATCH];
    static char texts[METER_BATCH][3][32];
    setenv("TMPDIR", "/nonexistent-paysync-tmp", 1);
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), "ds", PS_TARGET_PROJECT, "site-1", "run-1", 1000};
    if (f->d->sink->open(f->inst, &oa, &err) != PS_OK)
        fail_msg("open: %s", err.message);
    ps_status st = PS_OK;
    for (int b = 0; b < 60 && st == PS_OK; b++) {
        meter_batch(r, texts, b);
        st = sth_sink_write_flagged(f, r, METER_BATCH, NULL, &err);
    }
    unsetenv("TMPDIR");
    assert_int_equal(st, PS_ERR_SINK);
    assert_non_null(strstr(err.message, "cannot sort the meter index's keys in a temporary file"
                                        " in '/nonexistent-paysync-tmp' (set TMPDIR to a writable"
                                        " folder with room): No such file or directory"));
    assert_non_null(strstr(err.message, "writing the payment"));
    f->d->sink->abort(f->inst, "test");
    assert_int_equal(count_payments(f->path), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_idx"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_load_rebuilds_indexes, setup, teardown),
        cmocka_unit_test(test_killed_first_load_indexes_restored),
        cmocka_unit_test(test_first_load_rows_grouped),
        cmocka_unit_test_setup_teardown(test_first_load_group_errors, setup, teardown),
        cmocka_unit_test(test_first_load_meter_keys),
        cmocka_unit_test(test_first_load_time_order),
        cmocka_unit_test_setup_teardown(test_first_load_meter_sort_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* paysync store: the SQLite backend's reader (store.h, sqlite_store.h): read-only handles,
 * the payment query, run history and statistics. */
#include "store/store.h"
#include "store/sqlite_store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/run_marker.h"
#include "store/sqlite_columns.h"
#include "store/store_schema.h"
#include "store/store_stats.h"
#include "store/store_version.h"
#include "store/totals_agg.h"
#include "util/pathtext.h"

/* The readers' visibility rule (store_schema.h) for the payments table aliased p, and not
 * aliased. */
#define VISIBLE_P PS_STORE_VISIBLE("p")
#define VISIBLE_PAYMENTS PS_STORE_VISIBLE(PS_STORE_T_PAYMENTS)

typedef struct sq_store {
    ps_store base;
    sqlite3 *db;
    char *path;
    dev_t dev; /* identity of the file opened: a deleted or replaced store is noticed */
    ino_t ino;
} sq_store;

enum iter_kind { IT_DATASETS, IT_PAYMENTS, IT_RUNS, IT_TOTALS };

typedef struct sq_iter {
    ps_store_iter base;
    sq_store *s;
    sqlite3_stmt *st;
    enum iter_kind kind;
    ps_totals_agg *agg; /* IT_TOTALS: the groups, summed at the first next_total */
    size_t next, ngroups;
} sq_iter;

static sq_store *SQ(ps_store *s)
{
    return (sq_store *)s;
}

static sq_iter *IT(ps_store_iter *it)
{
    return (sq_iter *)it;
}

#define DAMAGED_HINT "(restore it from a backup, or move it away and run a sync to rebuild it)"

static int damaged(sqlite3 *db)
{
    int code = sqlite3_errcode(db) & 0xff;
    return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

static ps_status db_error(sq_store *s, const char *what, ps_error *err)
{
    if (damaged(s->db))
        return ps_error_setf(err, PS_ERR_IO, "store '%s' is damaged: %s failed: %s " DAMAGED_HINT,
                             PS_SHOWN(s->path), what, sqlite3_errmsg(s->db));
    return ps_error_setf(err, PS_ERR_IO, "store '%s': %s failed: %s", PS_SHOWN(s->path), what,
                         sqlite3_errmsg(s->db));
}

char *ps_store_sqlite_locate(const ps_kv *opts, size_t nopts, const char *config_dir)
{
    const char *path = PS_SQLITE_DEFAULT_PATH;
    for (size_t i = 0; i < nopts; i++)
        if (strcmp(opts[i].key, PS_SQLITE_PATH_OPTION) == 0 && opts[i].value && opts[i].value[0])
            path = opts[i].value;
    return ps_path_resolve(config_dir, path);
}

/* Missing only when the file is known to be absent (other errors surface at open). */
static int sq_exists(const char *location)
{
    struct stat sb;
    return location && (stat(location, &sb) == 0 || errno != ENOENT);
}

static void sq_close(ps_store *ps)
{
    sq_store *s = SQ(ps);
    if (!s)
        return;
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

static ps_status sq_check(ps_store *ps, ps_error *err)
{
    sq_store *s = SQ(ps);
    struct stat sb;
    if (stat(s->path, &sb) != 0)
        return ps_error_setf(err, PS_ERR_IO, "store '%s' is missing (deleted or moved): %s",
                             PS_SHOWN(s->path), strerror(errno));
    if (sb.st_dev != s->dev || sb.st_ino != s->ino)
        return ps_error_setf(err, PS_ERR_IO, "store '%s' was replaced by another file",
                             PS_SHOWN(s->path));
    return ps_store_check_version(s->db, PS_SHOWN(s->path), err);
}

/* SQL ps_running(error): 1 when a run row is the start marker of a run whose writer process
 * still lives (store.h: PS_STORE_RUN_INTERRUPTED); readers leave such runs out. */
static void fn_running(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_int(ctx, ps_store_marker_live((const char *)sqlite3_value_text(argv[0]), NULL));
}

static ps_status sq_open(const char *path, int wait_ms, ps_store **out, ps_error *err)
{
    *out = NULL;
    struct stat sb;
    if (!path || stat(path, &sb) != 0)
        return ps_error_setf(err, PS_ERR_IO,
                             "store '%s' does not exist: run a sync with the sqlite sink first",
                             PS_SHOWN(path));
    sq_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    s->base.backend = &ps_store_sqlite;
    s->dev = sb.st_dev;
    s->ino = sb.st_ino;
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    ps_status st = PS_OK;
    if (rc != SQLITE_OK)
        st = ps_error_setf(err, PS_ERR_IO, "cannot open store '%s': %s", PS_SHOWN(path),
                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    if (st == PS_OK) {
        sqlite3_busy_timeout(s->db, wait_ms);
        /* Reads through a shared mapping: no page copies per query (best effort). */
        sqlite3_exec(s->db, "PRAGMA mmap_size = 268435456", NULL, NULL, NULL);
        if (sqlite3_create_function(s->db, "ps_running", 1, SQLITE_UTF8, NULL, fn_running, NULL,
                                    NULL) != SQLITE_OK)
            st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    if (st == PS_OK) {
        st = sq_check(&s->base, err);
    }
    if (st != PS_OK) {
        sq_close(&s->base);
        return st;
    }
    *out = &s->base;
    return PS_OK;
}

static ps_status start(sq_store *s, enum iter_kind kind, const char *sql, ps_store_iter **it,
                       ps_error *err)
{
    *it = NULL;
    sq_iter *i = calloc(1, sizeof *i);
    if (!i)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (sqlite3_prepare_v2(s->db, sql, -1, &i->st, NULL) != SQLITE_OK) {
        ps_status e = db_error(s, "preparing a query", err);
        free(i);
        return e;
    }
    i->base.backend = &ps_store_sqlite;
    i->s = s;
    i->kind = kind;
    *it = &i->base;
    return PS_OK;
}

static void sq_iter_free(ps_store_iter *it)
{
    if (!it)
        return;
    sqlite3_finalize(IT(it)->st);
    ps_totals_agg_free(IT(it)->agg);
    free(it);
}

/* Steps it: PS_OK with a row, PS_END, or PS_ERR_IO. */
static ps_status step(sq_iter *it, ps_error *err)
{
    int rc = sqlite3_step(it->st);
    if (rc == SQLITE_ROW)
        return PS_OK;
    if (rc == SQLITE_DONE)
        return PS_END;
    return db_error(it->s, "reading", err);
}

static const char *text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col); /* NULL for SQL NULL */
}

static uint64_t u64(sqlite3_stmt *st, int col)
{
    sqlite3_int64 v = sqlite3_column_int64(st, col);
    return v < 0 ? 0 : (uint64_t)v;
}

/* ---- the readers' row decoder (store.h), shared with pg_reader.c ---- */

/* Columns of the payment query: dataset, the fields, then these. */
enum {
    PC_FIELD0 = 1,
    PC_TIMESTAMP_MS = PC_FIELD0 + PS_FIELD_COUNT,
    PC_AMOUNT_UNITS,
    PC_AMOUNT_SCALE,
    PC_TARGET_LEVEL,
    PC_TARGET_ID,
    PC_SOURCE_ROW,
    PC_FIRST_SEEN,
    PC_LAST_SEEN,
    PC_VANISHED
};

size_t ps_store_payment_select(char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "SELECT dataset");
    for (int f = 0; f < PS_FIELD_COUNT && n < cap; f++)
        n += (size_t)snprintf(buf + n, cap - n, ", %s", ps_store_field_column(f));
    if (n < cap)
        n += (size_t)snprintf(
            buf + n, cap - n,
            ", timestamp_ms, amount_units, amount_scale, target_level, target_id,"
            " source_row, first_seen_run,"
            /* the writer leaves an unchanged payment untouched: a present one was seen by
             * the dataset's last successful run (the run of its cursor row) */
            " CASE WHEN vanished_run IS NULL THEN coalesce((SELECT c.run_id"
            " FROM " PS_STORE_T_CURSORS " c WHERE c.dataset = " PS_STORE_T_PAYMENTS ".dataset),"
            " last_seen_run) ELSE last_seen_run END, vanished_run");
    return n;
}

int64_t ps_store_text_i64(const char *p)
{
    if (!p)
        return 0;
    int neg = *p == '-';
    p += neg;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return neg ? (int64_t)(0 - v) : (int64_t)v;
}

static const char *row_col(const ps_store_row *row, int c)
{
    return row->text(row->ctx, c);
}

static int64_t row_i64_of(const ps_store_row *row, int c)
{
    return row->i64(row->ctx, c);
}

static uint64_t row_u64_of(const ps_store_row *row, int c)
{
    int64_t v = row->i64(row->ctx, c);
    return v < 0 ? 0 : (uint64_t)v;
}

void ps_store_row_run(const ps_store_row *row, int c, ps_store_run *r)
{
    memset(r, 0, sizeof *r);
    r->run_id = row_col(row, c);
    r->dataset = row_col(row, c + 1);
    r->started = row_col(row, c + 2);
    r->finished = row_col(row, c + 3);
    r->outcome = row_col(row, c + 4);
    r->error = row_col(row, c + 5);
    r->started_ms = row_i64_of(row, c + 6);
    r->finished_ms = row_i64_of(row, c + 7);
    uint64_t *counts[6] = {&r->read,  &r->accepted,   &r->rejected,
                           &r->blank, &r->duplicates, &r->warnings};
    for (int i = 0; i < 6; i++)
        *counts[i] = row_u64_of(row, c + 8 + i);
    r->has_changes = row_col(row, c + 14) != NULL;
    r->inserted = row_u64_of(row, c + 14);
    r->changed = row_u64_of(row, c + 15);
    r->unchanged = row_u64_of(row, c + 16);
    r->vanished = row_u64_of(row, c + 17);
    r->filtered = row_u64_of(row, c + 18);
}

void ps_store_row_dataset(const ps_store_row *row, ps_store_dataset *out)
{
    memset(out, 0, sizeof *out);
    out->name = row_col(row, 0);
    out->payments = row_u64_of(row, 1);
    out->vanished = row_u64_of(row, 2);
    out->last_ok_finished = row_col(row, 3);
    const char *has = row_col(row, 4); /* t/f (PostgreSQL) or 1/0 (SQLite) */
    out->has_run = has && (has[0] == 't' || has[0] == '1');
    if (out->has_run)
        ps_store_row_run(row, 5, &out->last_run);
}

void ps_store_row_payment(const ps_store_row *row, ps_store_payment *out)
{
    memset(out, 0, sizeof *out);
    out->dataset = row_col(row, 0);
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        out->field[f] = row_col(row, PC_FIELD0 + f);
    out->timestamp_ms = row_i64_of(row, PC_TIMESTAMP_MS);
    out->amount.units = row_i64_of(row, PC_AMOUNT_UNITS);
    int64_t scale = row_i64_of(row, PC_AMOUNT_SCALE);
    out->amount.scale = (uint8_t)(scale < 0 ? 0 : scale > 255 ? 255 : scale);
    out->target_level = ps_store_target_level_parse(row_col(row, PC_TARGET_LEVEL));
    out->target_id = row_col(row, PC_TARGET_ID);
    out->source_row = row_u64_of(row, PC_SOURCE_ROW);
    out->first_seen_run = row_col(row, PC_FIRST_SEEN);
    out->last_seen_run = row_col(row, PC_LAST_SEEN);
    out->vanished_run = row_col(row, PC_VANISHED);
}

static const char *row_text(const void *st, int c)
{
    return text((sqlite3_stmt *)st, c);
}

static int64_t row_i64(const void *st, int c)
{
    return sqlite3_column_int64((sqlite3_stmt *)st, c);
}

/* The current row of st, for the shared decoder (store.h). */
static ps_store_row get_row(sqlite3_stmt *st)
{
    return (ps_store_row){.ctx = st, .text = row_text, .i64 = row_i64};
}

static ps_status sq_datasets(ps_store *s, ps_store_iter **it, ps_error *err)
{
    return start(SQ(s), IT_DATASETS,
                 "WITH names(dataset) AS (SELECT dataset FROM " PS_STORE_T_RUNS
                 " UNION SELECT dataset FROM " PS_STORE_T_PAYMENTS ")"
                 " SELECT n.dataset,"
                 " (SELECT count(*) FROM " PS_STORE_T_PAYMENTS " p"
                 "  WHERE p.dataset = n.dataset AND p.vanished_run IS NULL AND " VISIBLE_P "),"
                 " (SELECT count(*) FROM " PS_STORE_T_PAYMENTS " p"
                 "  WHERE p.dataset = n.dataset AND p.vanished_run IS NOT NULL AND " VISIBLE_P "),"
                 " (SELECT finished FROM " PS_STORE_T_RUNS " o WHERE o.dataset = n.dataset"
                 "  AND o.outcome = 'ok' ORDER BY o.started_ms DESC, o.run_id DESC LIMIT 1),"
                 " r.rowid IS NOT NULL, " PS_STORE_RUN_COLS
                 " FROM names n LEFT JOIN " PS_STORE_T_RUNS
                 " r ON r.rowid = (SELECT rowid FROM " PS_STORE_T_RUNS " x"
                 "  WHERE x.dataset = n.dataset AND NOT ps_running(x.error)"
                 "  ORDER BY x.started_ms DESC, x.run_id DESC"
                 "  LIMIT 1)"
                 " ORDER BY n.dataset",
                 it, err);
}

static ps_status sq_next_dataset(ps_store_iter *pit, ps_store_dataset *out, ps_error *err)
{
    sq_iter *it = IT(pit);
    if (it->kind != IT_DATASETS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a dataset iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    ps_store_row row = get_row(it->st);
    ps_store_row_dataset(&row, out);
    return PS_OK;
}

/* The WHERE clause of the payment query (every filter a bound parameter; bind_query binds
 * them): appended to sql at *n. Shared by the payment rows and their totals, so both always
 * select the same payments. */
static void where_clause(const ps_store_query *q, char *sql, size_t cap, size_t *np)
{
    size_t n = *np;
    /* With a meter, the meter index (a table of its own since schema version 8:
     * store_schema.h) finds the payments by primary key; "+" keeps the planner from scanning
     * a time or target index instead. */
    const char *u = q->meter_id ? "+" : "";
    /* only the versions valid at each dataset's published version: what a run is writing, in
     * chunks, or what a killed one left, is not shown (sqlite_versions.h) */
    n += (size_t)snprintf(sql + n, cap - n,
                          " WHERE %sdataset IN (SELECT dataset FROM " PS_STORE_T_CURSORS
                          ") AND " VISIBLE_PAYMENTS,
                          u);
    if (!q->unbounded)
        n += (size_t)snprintf(sql + n, cap - n, " AND %stimestamp_ms BETWEEN :from AND :to", u);
    if (q->ndatasets) {
        n += (size_t)snprintf(sql + n, cap - n, " AND %sdataset IN (", u);
        for (size_t i = 0; i < q->ndatasets; i++)
            n += (size_t)snprintf(sql + n, cap - n, i ? ",?" : "?");
        n += (size_t)snprintf(sql + n, cap - n, ")");
    } else if (q->recorded_only) {
        /* Lets the (dataset, timestamp_ms, id) index serve the window per dataset. */
        n += (size_t)snprintf(
            sql + n, cap - n,
            " AND %sdataset IN (SELECT DISTINCT dataset FROM " PS_STORE_T_RUNS ")", u);
    }
    if (q->target_id)
        n += (size_t)snprintf(sql + n, cap - n, " AND %starget_id = :target", u);
    if (q->financing_id)
        n += (size_t)snprintf(sql + n, cap - n, " AND financing_id = :financing");
    if (q->meter_id)
        n += (size_t)snprintf(
            sql + n, cap - n,
            " AND meter_id = :meter AND (dataset, id, valid_from) IN (SELECT dataset, id,"
            " valid_from FROM " PS_STORE_T_METER " WHERE meter_id = :meter%s)",
            q->unbounded ? "" : " AND timestamp_ms BETWEEN :from AND :to");
    if (q->vanished_in_run)
        n += (size_t)snprintf(sql + n, cap - n, " AND vanished_run = :vanished_in");
    else if (!q->include_vanished)
        n += (size_t)snprintf(sql + n, cap - n, " AND vanished_run IS NULL");
    if (q->changed_in_run)
        /* the writer sets last_seen_run only on the payments a run writes: new or changed */
        n += (size_t)snprintf(sql + n, cap - n,
                              " AND last_seen_run = :changed_in AND first_seen_run <> :changed_in");
    *np = n;
}

static int bind_name(sqlite3_stmt *stmt, const char *name, const char *value)
{
    return sqlite3_bind_text(stmt, sqlite3_bind_parameter_index(stmt, name), value, -1,
                             SQLITE_TRANSIENT);
}

/* Binds the parameters of where_clause(q). Returns SQLITE_OK or an error code. */
static int bind_query(sqlite3_stmt *stmt, const ps_store_query *q)
{
    int rc = SQLITE_OK;
    if (!q->unbounded) {
        rc |= sqlite3_bind_int64(stmt, sqlite3_bind_parameter_index(stmt, ":from"), q->from_ms);
        rc |= sqlite3_bind_int64(stmt, sqlite3_bind_parameter_index(stmt, ":to"), q->to_ms);
    }
    /* Anonymous "?" parameters are numbered after the named ones that precede them. */
    int first_ds = q->unbounded ? 1 : 3;
    for (size_t i = 0; i < q->ndatasets; i++)
        rc |= sqlite3_bind_text(stmt, first_ds + (int)i, q->datasets[i], -1, SQLITE_TRANSIENT);
    if (q->target_id)
        rc |= bind_name(stmt, ":target", q->target_id);
    if (q->financing_id)
        rc |= bind_name(stmt, ":financing", q->financing_id);
    if (q->meter_id)
        rc |= bind_name(stmt, ":meter", q->meter_id);
    if (q->vanished_in_run)
        rc |= bind_name(stmt, ":vanished_in", q->vanished_in_run);
    if (q->changed_in_run)
        rc |= bind_name(stmt, ":changed_in", q->changed_in_run);
    return rc;
}

/* Prepares SELECT <select> FROM payments WHERE <q> <tail> as an iterator of kind. */
static ps_status query_start(sq_store *s, enum iter_kind kind, const char *select,
                             const ps_store_query *q, const char *tail, ps_store_iter **it,
                             ps_error *err)
{
    size_t cap = strlen(select) + strlen(tail) + 1024 + 4 * q->ndatasets;
    char *sql = malloc(cap);
    if (!sql)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t n = (size_t)snprintf(sql, cap, "%s FROM " PS_STORE_T_PAYMENTS, select);
    where_clause(q, sql, cap, &n);
    snprintf(sql + n, cap - n, "%s", tail);
    ps_status st = start(s, kind, sql, it, err);
    free(sql);
    if (st != PS_OK)
        return st;
    if (bind_query(IT(*it)->st, q) != SQLITE_OK) {
        ps_status e = db_error(s, "binding the query", err);
        sq_iter_free(*it);
        *it = NULL;
        return e;
    }
    return PS_OK;
}

/* The payment query: the rows of where_clause(q). */
static ps_status sq_payments(ps_store *ps, const ps_store_query *q, ps_store_iter **it,
                             ps_error *err)
{
    char select[1024];
    ps_store_payment_select(select, sizeof select);
    return query_start(SQ(ps), IT_PAYMENTS, select, q, " ORDER BY timestamp_ms, id, dataset", it,
                       err);
}

/* Totals of the payment query: its rows (no ORDER BY) summed per UTC day, currency and
 * transaction type in a hash table at the first next_total (totals_agg.h); an SQL GROUP BY
 * would sort every row first (a million rows: about 1 s more). */
static ps_status sq_totals(ps_store *ps, const ps_store_query *q, ps_store_iter **it, ps_error *err)
{
    ps_status st = query_start(SQ(ps), IT_TOTALS,
                               "SELECT timestamp_ms, payment_currency, transaction_type,"
                               " amount_units, amount_scale",
                               q, "", it, err);
    if (st == PS_OK && !(IT(*it)->agg = ps_totals_agg_new())) {
        sq_iter_free(*it);
        *it = NULL;
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    return st;
}

static ps_status sum_totals(sq_iter *it, ps_error *err)
{
    ps_status st;
    while ((st = step(it, err)) == PS_OK) {
        sqlite3_stmt *s = it->st;
        const char *cur = text(s, 1), *type = text(s, 2);
        int scale = sqlite3_column_int(s, 4);
        ps_decimal amount = {.units = sqlite3_column_int64(s, 3),
                             .scale = (uint8_t)(scale < 0 || scale > PS_DECIMAL_MAX_SCALE
                                                    ? PS_DECIMAL_MAX_SCALE
                                                    : scale)};
        int rc = ps_totals_agg_add(it->agg, sqlite3_column_int64(s, 0), cur ? cur : "",
                                   (size_t)sqlite3_column_bytes(s, 1), type ? type : "",
                                   (size_t)sqlite3_column_bytes(s, 2), amount);
        if (rc == -1)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        if (rc == -2)
            return ps_error_setf(err, PS_ERR_IO,
                                 "store '%s': the amounts of one day, currency and type add up "
                                 "past 64 bits",
                                 PS_SHOWN(it->s->path));
    }
    if (st != PS_END)
        return st;
    it->ngroups = ps_totals_agg_finish(it->agg);
    return PS_OK;
}

static ps_status sq_next_total(ps_store_iter *pit, ps_store_total *out, ps_error *err)
{
    sq_iter *it = IT(pit);
    if (it->kind != IT_TOTALS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a totals iterator");
    if (it->st) {
        ps_status st = sum_totals(it, err);
        sqlite3_finalize(it->st); /* the query is done: its read transaction ends here */
        it->st = NULL;
        if (st != PS_OK) {
            it->ngroups = 0;
            return st;
        }
    }
    if (it->next >= it->ngroups)
        return PS_END;
    memset(out, 0, sizeof *out);
    ps_totals_agg_get(it->agg, it->next++, &out->day, &out->currency, &out->transaction_type,
                      &out->count, &out->amount);
    return PS_OK;
}

static ps_status sq_next_payment(ps_store_iter *pit, ps_store_payment *out, ps_error *err)
{
    sq_iter *it = IT(pit);
    if (it->kind != IT_PAYMENTS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a payment iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    ps_store_row row = get_row(it->st);
    ps_store_row_payment(&row, out);
    return PS_OK;
}

static ps_status sq_runs(ps_store *s, const char *dataset, size_t limit, ps_store_iter **it,
                         ps_error *err)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT " PS_STORE_RUN_COLS " FROM " PS_STORE_T_RUNS
             " r WHERE (?1 IS NULL OR r.dataset = ?1)"
             " AND NOT ps_running(r.error)"
             " ORDER BY r.started_ms DESC, r.run_id DESC, r.dataset LIMIT %lld",
             limit ? (long long)limit : -1LL);
    ps_status st = start(SQ(s), IT_RUNS, sql, it, err);
    if (st != PS_OK)
        return st;
    if (dataset)
        sqlite3_bind_text(IT(*it)->st, 1, dataset, -1, SQLITE_TRANSIENT);
    return PS_OK;
}

static ps_status sq_next_run(ps_store_iter *pit, ps_store_run *out, ps_error *err)
{
    sq_iter *it = IT(pit);
    if (it->kind != IT_RUNS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a run iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    ps_store_row row = get_row(it->st);
    ps_store_row_run(&row, 0, out);
    return PS_OK;
}

static const char q_counts[] =
    "SELECT dataset, outcome, COUNT(*), SUM(read), SUM(accepted), SUM(rejected), SUM(blank),"
    " SUM(duplicates), SUM(warnings), SUM(inserted), SUM(changed), SUM(unchanged),"
    " SUM(vanished), SUM(filtered) FROM " PS_STORE_T_RUNS " WHERE NOT ps_running(error)"
    " GROUP BY dataset, outcome ORDER BY dataset";
/* SQLite takes the bare columns from the row holding the MAX. */
static const char q_success[] =
    "SELECT dataset, MAX(COALESCE(finished_ms, started_ms)), started_ms, finished_ms "
    "FROM " PS_STORE_T_RUNS " WHERE outcome = 'ok' GROUP BY dataset";
static const char q_last[] =
    "SELECT dataset, MAX(COALESCE(started_ms, finished_ms)), outcome FROM " PS_STORE_T_RUNS
    " WHERE NOT ps_running(error) GROUP BY dataset";

static const char q_codes[] = "SELECT dataset, code, SUM(count) FROM " PS_STORE_T_RUN_REJECTS
                              " GROUP BY dataset, code ORDER BY dataset, code";

static const char q_wcodes[] = "SELECT dataset, code, SUM(count) FROM " PS_STORE_T_RUN_WARNINGS
                               " GROUP BY dataset, code ORDER BY dataset, code";

static const char q_guard[] =
    "SELECT dataset, COUNT(*) FROM " PS_STORE_T_RUNS
    " WHERE outcome = 'failed' AND error LIKE 'vanish!_guard:%' ESCAPE '!'"
    " GROUP BY dataset";

/* The rows of the six queries go to store_stats.c, shared with the other backends. */
static ps_status sq_stats(ps_store *ps, ps_store_stats **out, size_t *nout, ps_error *err)
{
    sq_store *store = SQ(ps);
    sqlite3 *db = store->db;
    ps_stats_build b = {0};
    const char *const qs[PS_STATS_NQUERIES] = {q_counts, q_success, q_last,
                                               q_codes,  q_guard,   q_wcodes};
    ps_status st = PS_OK;
    for (int q = 0; q < PS_STATS_NQUERIES && st == PS_OK; q++) {
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(db, qs[q], -1, &s, NULL);
        if (rc != SQLITE_OK) {
            st = db_error(store, "reading the run statistics", err);
            break;
        }
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *col[16];
            int ncol = sqlite3_column_count(s);
            ncol = ncol > 16 ? 16 : ncol;
            for (int i = 0; i < ncol; i++)
                col[i] = (const char *)sqlite3_column_text(s, i);
            if (ps_stats_add_row(&b, q, col, ncol) != 0) {
                st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (st == PS_OK && rc != SQLITE_DONE)
            st = db_error(store, "reading the run statistics", err);
        sqlite3_finalize(s);
    }
    if (st != PS_OK) {
        ps_stats_free(b.v, b.n);
        return st;
    }
    *out = b.v;
    *nout = b.n;
    return PS_OK;
}

static ps_status sq_verify(ps_store *ps, ps_error *err)
{
    sq_store *s = SQ(ps);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    ps_status out = PS_OK;
    if (rc == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (!r || strcmp(r, "ok") != 0)
            out = ps_error_setf(err, PS_ERR_IO, "store '%s' is damaged: %s " DAMAGED_HINT,
                                PS_SHOWN(s->path), r ? r : "no result");
    } else {
        out = db_error(s, "checking the store", err);
    }
    sqlite3_finalize(st);
    return out;
}

/* The codes of one run from run_rejects or run_warnings, sorted by code. */
static ps_status sq_run_codes(ps_store *ps, const char *dataset, const char *run_id, int warnings,
                              struct ps_store_code_count **out, size_t *nout, ps_error *err)
{
    sq_store *store = SQ(ps);
    *out = NULL;
    *nout = 0;
    sqlite3_stmt *s = NULL;
    const char *sql = warnings ? "SELECT code, count FROM " PS_STORE_T_RUN_WARNINGS
                                 " WHERE dataset = ?1 AND run_id = ?2 ORDER BY code"
                               : "SELECT code, count FROM " PS_STORE_T_RUN_REJECTS
                                 " WHERE dataset = ?1 AND run_id = ?2 ORDER BY code";
    if (sqlite3_prepare_v2(store->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_error(store, "reading a run's codes", err);
    sqlite3_bind_text(s, 1, dataset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, run_id, -1, SQLITE_TRANSIENT);
    struct ps_store_code_count *v = NULL;
    size_t n = 0;
    ps_status st = PS_OK;
    int rc;
    while (st == PS_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *code = (const char *)sqlite3_column_text(s, 0);
        struct ps_store_code_count *nv = realloc(v, (n + 1) * sizeof *nv);
        if (!nv || !(nv[n].code = strdup(code ? code : ""))) {
            v = nv ? nv : v;
            st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            break;
        }
        v = nv;
        nv[n++].count = u64(s, 1);
    }
    if (st == PS_OK && rc != SQLITE_DONE)
        st = db_error(store, "reading a run's codes", err);
    sqlite3_finalize(s);
    if (st != PS_OK) {
        for (size_t i = 0; i < n; i++)
            free(v[i].code);
        free(v);
        return st;
    }
    *out = v;
    *nout = n;
    return PS_OK;
}

static ps_status sq_missing_columns(ps_store *ps, const char *dataset, const char *run_id,
                                    char ***names, size_t *n, ps_error *err)
{
    sq_store *s = SQ(ps);
    if (ps_sqlite_columns_missing(s->db, dataset, run_id, names, n) != SQLITE_OK)
        return db_error(s, "reading the missing columns", err);
    return PS_OK;
}

const ps_store_backend ps_store_sqlite = {
    .plugin = PS_SQLITE_PLUGIN,
    .sink = ps_store_sqlite_sink,
    .locate = ps_store_sqlite_locate,
    .exists = sq_exists,
    .open = sq_open,
    .check = sq_check,
    .close = sq_close,
    .datasets = sq_datasets,
    .next_dataset = sq_next_dataset,
    .payments = sq_payments,
    .next_payment = sq_next_payment,
    .totals = sq_totals,
    .next_total = sq_next_total,
    .run_codes = sq_run_codes,
    .runs = sq_runs,
    .next_run = sq_next_run,
    .iter_free = sq_iter_free,
    .stats = sq_stats,
    .verify = sq_verify,
    .previous_columns = ps_store_sqlite_previous_columns,
    .record_columns = ps_store_sqlite_record_columns,
    .missing_columns = sq_missing_columns,
    .pending_vanish = ps_store_sqlite_pending_vanish,
    .set_window = ps_store_sqlite_set_window,
};

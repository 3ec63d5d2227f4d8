/* paysync core: read-only store API (see store.h). */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store/store_schema.h"
#include "store/store_version.h"

struct ps_store {
    sqlite3 *db;
    char *path;
};

enum iter_kind { IT_DATASETS, IT_PAYMENTS, IT_RUNS };

struct ps_store_iter {
    ps_store *s;
    sqlite3_stmt *st;
    enum iter_kind kind;
};

#define RUN_COLS                                                                                   \
    "r.run_id, r.dataset, r.started, r.finished, r.outcome, r.error, r.started_ms,"                \
    " r.finished_ms, r.read, r.accepted, r.rejected, r.blank, r.duplicates, r.warnings,"           \
    " r.inserted, r.changed, r.unchanged, r.vanished"

static ps_status db_error(ps_store *s, const char *what, ps_error *err)
{
    return ps_error_setf(err, PS_ERR_IO, "store '%s': %s failed: %s", s->path, what,
                         sqlite3_errmsg(s->db));
}

ps_status ps_store_open(const char *path, ps_store **out, ps_error *err)
{
    *out = NULL;
    struct stat stt;
    if (!path || stat(path, &stt) != 0)
        return ps_error_setf(err, PS_ERR_IO,
                             "store '%s' does not exist: run a sync with the sqlite sink first",
                             path ? path : "(null)");
    ps_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL);
    ps_status st = PS_OK;
    if (rc != SQLITE_OK)
        st = ps_error_setf(err, PS_ERR_IO, "cannot open store '%s': %s", path,
                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    if (st == PS_OK) {
        sqlite3_busy_timeout(s->db, 5000);
        st = ps_store_check_version(s->db, s->path, err);
    }
    if (st != PS_OK) {
        ps_store_close(s);
        return st;
    }
    *out = s;
    return PS_OK;
}

void ps_store_close(ps_store *s)
{
    if (!s)
        return;
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

static ps_status start(ps_store *s, enum iter_kind kind, const char *sql, ps_store_iter **it,
                       ps_error *err)
{
    *it = NULL;
    ps_store_iter *i = calloc(1, sizeof *i);
    if (!i)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (sqlite3_prepare_v2(s->db, sql, -1, &i->st, NULL) != SQLITE_OK) {
        ps_status e = db_error(s, "preparing a query", err);
        free(i);
        return e;
    }
    i->s = s;
    i->kind = kind;
    *it = i;
    return PS_OK;
}

void ps_store_iter_free(ps_store_iter *it)
{
    if (!it)
        return;
    sqlite3_finalize(it->st);
    free(it);
}

/* Steps it: PS_OK with a row, PS_END, or PS_ERR_IO. */
static ps_status step(ps_store_iter *it, ps_error *err)
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

/* Fills r from RUN_COLS starting at column c. */
static void read_run(sqlite3_stmt *st, int c, ps_store_run *r)
{
    memset(r, 0, sizeof *r);
    r->run_id = text(st, c);
    r->dataset = text(st, c + 1);
    r->started = text(st, c + 2);
    r->finished = text(st, c + 3);
    r->outcome = text(st, c + 4);
    r->error = text(st, c + 5);
    r->started_ms = sqlite3_column_int64(st, c + 6);
    r->finished_ms = sqlite3_column_int64(st, c + 7);
    uint64_t *counts[6] = {&r->read,  &r->accepted,   &r->rejected,
                           &r->blank, &r->duplicates, &r->warnings};
    for (int i = 0; i < 6; i++)
        *counts[i] = u64(st, c + 8 + i);
    r->has_changes = sqlite3_column_type(st, c + 14) != SQLITE_NULL;
    r->inserted = u64(st, c + 14);
    r->changed = u64(st, c + 15);
    r->unchanged = u64(st, c + 16);
    r->vanished = u64(st, c + 17);
}

ps_status ps_store_datasets(ps_store *s, ps_store_iter **it, ps_error *err)
{
    return start(s, IT_DATASETS,
                 "WITH names(dataset) AS (SELECT dataset FROM " PS_STORE_T_RUNS
                 " UNION SELECT dataset FROM " PS_STORE_T_PAYMENTS ")"
                 " SELECT n.dataset,"
                 " (SELECT count(*) FROM " PS_STORE_T_PAYMENTS " p"
                 "  WHERE p.dataset = n.dataset AND p.vanished_run IS NULL),"
                 " (SELECT count(*) FROM " PS_STORE_T_PAYMENTS " p"
                 "  WHERE p.dataset = n.dataset AND p.vanished_run IS NOT NULL),"
                 " (SELECT finished FROM " PS_STORE_T_RUNS " o WHERE o.dataset = n.dataset"
                 "  AND o.outcome = 'ok' ORDER BY o.started_ms DESC, o.run_id DESC LIMIT 1),"
                 " r.rowid IS NOT NULL, " RUN_COLS " FROM names n LEFT JOIN " PS_STORE_T_RUNS
                 " r ON r.rowid = (SELECT rowid FROM " PS_STORE_T_RUNS " x"
                 "  WHERE x.dataset = n.dataset ORDER BY x.started_ms DESC, x.run_id DESC"
                 "  LIMIT 1)"
                 " ORDER BY n.dataset",
                 it, err);
}

ps_status ps_store_next_dataset(ps_store_iter *it, ps_store_dataset *out, ps_error *err)
{
    if (it->kind != IT_DATASETS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a dataset iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    memset(out, 0, sizeof *out);
    out->name = text(it->st, 0);
    out->payments = u64(it->st, 1);
    out->vanished = u64(it->st, 2);
    out->last_ok_finished = text(it->st, 3);
    out->has_run = sqlite3_column_int(it->st, 4);
    if (out->has_run)
        read_run(it->st, 5, &out->last_run);
    return PS_OK;
}

/* Columns of the payments query: dataset, the 21 fields, then these. */
enum {
    PC_FIELD0 = 1,
    PC_TIMESTAMP_MS = PC_FIELD0 + PS_FIELD_COUNT,
    PC_TARGET_LEVEL,
    PC_TARGET_ID,
    PC_SOURCE_ROW,
    PC_FIRST_SEEN,
    PC_LAST_SEEN,
    PC_VANISHED
};

ps_status ps_store_payments(ps_store *s, const ps_store_query *q, ps_store_iter **it, ps_error *err)
{
    size_t cap = 2048 + 4 * q->ndatasets;
    char *sql = malloc(cap);
    if (!sql)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t n = (size_t)snprintf(sql, cap, "SELECT dataset");
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        n += (size_t)snprintf(sql + n, cap - n, ", %s", ps_store_field_column(f));
    n += (size_t)snprintf(sql + n, cap - n,
                          ", timestamp_ms, target_level, target_id, source_row, first_seen_run,"
                          " last_seen_run, vanished_run FROM " PS_STORE_T_PAYMENTS " WHERE 1");
    if (!q->unbounded)
        n += (size_t)snprintf(sql + n, cap - n, " AND timestamp_ms BETWEEN :from AND :to");
    if (q->ndatasets) {
        n += (size_t)snprintf(sql + n, cap - n, " AND dataset IN (");
        for (size_t i = 0; i < q->ndatasets; i++)
            n += (size_t)snprintf(sql + n, cap - n, i ? ",?" : "?");
        n += (size_t)snprintf(sql + n, cap - n, ")");
    }
    if (q->target_id)
        n += (size_t)snprintf(sql + n, cap - n, " AND target_id = :target");
    if (q->financing_id)
        n += (size_t)snprintf(sql + n, cap - n, " AND financing_id = :financing");
    if (q->meter_id)
        n += (size_t)snprintf(sql + n, cap - n, " AND meter_id = :meter");
    if (!q->include_vanished)
        n += (size_t)snprintf(sql + n, cap - n, " AND vanished_run IS NULL");
    snprintf(sql + n, cap - n, " ORDER BY timestamp_ms, id, dataset");

    ps_status st = start(s, IT_PAYMENTS, sql, it, err);
    free(sql);
    if (st != PS_OK)
        return st;
    sqlite3_stmt *stmt = (*it)->st;
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
        rc |= sqlite3_bind_text(stmt, sqlite3_bind_parameter_index(stmt, ":target"), q->target_id,
                                -1, SQLITE_TRANSIENT);
    if (q->financing_id)
        rc |= sqlite3_bind_text(stmt, sqlite3_bind_parameter_index(stmt, ":financing"),
                                q->financing_id, -1, SQLITE_TRANSIENT);
    if (q->meter_id)
        rc |= sqlite3_bind_text(stmt, sqlite3_bind_parameter_index(stmt, ":meter"), q->meter_id, -1,
                                SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        ps_status e = db_error(s, "binding the query", err);
        ps_store_iter_free(*it);
        *it = NULL;
        return e;
    }
    return PS_OK;
}

ps_status ps_store_next_payment(ps_store_iter *it, ps_store_payment *out, ps_error *err)
{
    if (it->kind != IT_PAYMENTS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a payment iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    sqlite3_stmt *s = it->st;
    memset(out, 0, sizeof *out);
    out->dataset = text(s, 0);
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        out->field[f] = text(s, PC_FIELD0 + f);
    out->timestamp_ms = sqlite3_column_int64(s, PC_TIMESTAMP_MS);
    out->target_level = ps_store_target_level_parse(text(s, PC_TARGET_LEVEL));
    out->target_id = text(s, PC_TARGET_ID);
    out->source_row = u64(s, PC_SOURCE_ROW);
    out->first_seen_run = text(s, PC_FIRST_SEEN);
    out->last_seen_run = text(s, PC_LAST_SEEN);
    out->vanished_run = text(s, PC_VANISHED);
    return PS_OK;
}

ps_status ps_store_runs(ps_store *s, const char *dataset, size_t limit, ps_store_iter **it,
                        ps_error *err)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT " RUN_COLS " FROM " PS_STORE_T_RUNS " r WHERE (?1 IS NULL OR r.dataset = ?1)"
             " ORDER BY r.started_ms DESC, r.run_id DESC, r.dataset LIMIT %lld",
             limit ? (long long)limit : -1LL);
    ps_status st = start(s, IT_RUNS, sql, it, err);
    if (st != PS_OK)
        return st;
    if (dataset)
        sqlite3_bind_text((*it)->st, 1, dataset, -1, SQLITE_TRANSIENT);
    return PS_OK;
}

ps_status ps_store_next_run(ps_store_iter *it, ps_store_run *out, ps_error *err)
{
    if (it->kind != IT_RUNS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a run iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    read_run(it->st, 0, out);
    return PS_OK;
}

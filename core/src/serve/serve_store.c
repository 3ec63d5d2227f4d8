/* paysync serve: read-only store access (pool, payments window, run statistics). */
#include "serve/serve_store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store_schema.h"
#include "store/store_version.h"

const char *const PS_SERVE_ROW_OUTCOMES[10] = {"read",       "accepted", "rejected", "blank",
                                               "duplicates", "warnings", "inserted", "changed",
                                               "unchanged",  "vanished"};

struct ps_serve_store {
    char *path;
    pthread_mutex_t mu;
    sqlite3 **idle;
    size_t nidle, cap;
};

ps_status ps_serve_store_new(const char *path, size_t pool, ps_serve_store **out, ps_error *err)
{
    ps_serve_store *s = calloc(1, sizeof *s);
    if (pool == 0)
        pool = 1;
    if (!s || !(s->path = strdup(path)) || !(s->idle = calloc(pool, sizeof *s->idle))) {
        if (s)
            free(s->path);
        free(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    s->cap = pool;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return PS_OK;
}

void ps_serve_store_free(ps_serve_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nidle; i++)
        sqlite3_close_v2(s->idle[i]);
    pthread_mutex_destroy(&s->mu);
    free(s->idle);
    free(s->path);
    free(s);
}

const char *ps_serve_store_path(const ps_serve_store *s)
{
    return s->path;
}

ps_status ps_serve_store_acquire(ps_serve_store *s, sqlite3 **out, ps_error *err)
{
    sqlite3 *db = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->nidle > 0)
        db = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->mu);
    if (!db) {
        struct stat sb;
        if (stat(s->path, &sb) != 0)
            return ps_error_setf(err, PS_ERR_IO,
                                 "store '%s' does not exist: run a sync with the sqlite sink "
                                 "first",
                                 s->path);
        int rc = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
            ps_error_setf(err, PS_ERR_IO, "store '%s' cannot be opened: %s", s->path,
                          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
            sqlite3_close_v2(db);
            return PS_ERR_IO;
        }
        sqlite3_busy_timeout(db, 2000);
        /* Reads through a shared mapping: no page copies per request (best effort). */
        sqlite3_exec(db, "PRAGMA mmap_size = 268435456", NULL, NULL, NULL);
    }
    ps_status st = ps_store_check_version(db, s->path, err);
    if (st != PS_OK) {
        sqlite3_close_v2(db);
        return st;
    }
    *out = db;
    return PS_OK;
}

void ps_serve_store_release(ps_serve_store *s, sqlite3 *db, int broken)
{
    if (!db)
        return;
    if (!broken) {
        pthread_mutex_lock(&s->mu);
        if (s->nidle < s->cap) {
            s->idle[s->nidle++] = db;
            db = NULL;
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (db)
        sqlite3_close_v2(db);
}

static int is_broken(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB || rc == SQLITE_IOERR ||
           rc == SQLITE_CANTOPEN || rc == SQLITE_SCHEMA || rc == SQLITE_ERROR;
}

static ps_status sq_err(sqlite3 *db, int rc, const char *what, int *broken, ps_error *err)
{
    if (broken)
        *broken = is_broken(rc);
    return ps_error_setf(err, PS_ERR_IO, "store query (%s) failed: %s", what, sqlite3_errmsg(db));
}

/* Columns: 0 dataset, 1..21 fields, 22 timestamp_ms, 23 amount_units, 24 amount_scale,
 * 25 target_level. */
#define C_FIELD0 1
#define C_TS (C_FIELD0 + PS_FIELD_COUNT)

ps_status ps_serve_store_payments(sqlite3 *db, const ps_serve_filter *f,
                                  int (*fn)(void *ud, const ps_serve_row *row), void *ud,
                                  int *broken, ps_error *err)
{
    size_t cap = 2048 + 8 * f->ndatasets;
    char *sql = malloc(cap);
    if (!sql)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t n = (size_t)snprintf(sql, cap, "SELECT dataset");
    for (int i = 0; i < PS_FIELD_COUNT; i++)
        n += (size_t)snprintf(sql + n, cap - n, ", %s", ps_store_field_column(i));
    n += (size_t)snprintf(
        sql + n, cap - n,
        ", timestamp_ms, amount_units, amount_scale, target_level FROM " PS_STORE_T_PAYMENTS
        " WHERE timestamp_ms >= ?1 AND timestamp_ms <= ?2"
        " AND vanished_run IS NULL");
    if (f->site_id)
        n += (size_t)snprintf(sql + n, cap - n, " AND target_id = ?3");
    if (f->financing_id)
        n += (size_t)snprintf(sql + n, cap - n, " AND financing_id = ?4");
    if (f->all_datasets) {
        /* Lets the (dataset, timestamp_ms, id) index serve the window per dataset. */
        n += (size_t)snprintf(sql + n, cap - n,
                              " AND dataset IN (SELECT DISTINCT dataset FROM " PS_STORE_T_RUNS ")");
    } else {
        n += (size_t)snprintf(sql + n, cap - n, " AND dataset IN (");
        for (size_t i = 0; i < f->ndatasets; i++)
            n += (size_t)snprintf(sql + n, cap - n, "%s?%zu", i ? ", " : "", i + 5);
        n += (size_t)snprintf(sql + n, cap - n, ")");
    }
    snprintf(sql + n, cap - n, " ORDER BY timestamp_ms, id, dataset");

    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK)
        return sq_err(db, rc, "payments", broken, err);
    sqlite3_bind_int64(st, 1, f->from_ms);
    sqlite3_bind_int64(st, 2, f->to_ms);
    if (f->site_id)
        sqlite3_bind_text(st, 3, f->site_id, -1, SQLITE_STATIC);
    if (f->financing_id)
        sqlite3_bind_text(st, 4, f->financing_id, -1, SQLITE_STATIC);
    for (size_t i = 0; !f->all_datasets && i < f->ndatasets; i++)
        sqlite3_bind_text(st, (int)i + 5, f->datasets[i], -1, SQLITE_STATIC);

    ps_status out = PS_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ps_serve_row r;
        r.dataset = (const char *)sqlite3_column_text(st, 0);
        for (int i = 0; i < PS_FIELD_COUNT; i++)
            r.field[i] = (const char *)sqlite3_column_text(st, C_FIELD0 + i);
        r.timestamp_ms = sqlite3_column_int64(st, C_TS);
        r.amount.units = sqlite3_column_int64(st, C_TS + 1);
        int scale = sqlite3_column_int(st, C_TS + 2);
        r.amount.scale = (uint8_t)(scale < 0 ? 0 : scale > 255 ? 255 : scale);
        r.target_level =
            ps_store_target_level_parse((const char *)sqlite3_column_text(st, C_TS + 3));
        if (fn(ud, &r) != 0) {
            out = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (out == PS_OK && rc != SQLITE_DONE)
        out = sq_err(db, rc, "payments", broken, err);
    sqlite3_finalize(st);
    return out;
}

void ps_serve_stats_free(ps_serve_stats *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        free(s[i].dataset);
        for (size_t k = 0; k < s[i].ncodes; k++)
            free(s[i].codes[k].code);
        free(s[i].codes);
    }
    free(s);
}

/* Finds or appends the entry of dataset name (list kept sorted by the ORDER BY of the first
 * query; later queries only look up). NULL when absent and add == 0, or out of memory. */
static ps_serve_stats *entry(ps_serve_stats **v, size_t *n, size_t *cap, const char *name, int add)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].dataset, name) == 0)
            return &(*v)[i];
    if (!add)
        return NULL;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        ps_serve_stats *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return NULL;
        *v = nv;
        *cap = nc;
    }
    ps_serve_stats *e = &(*v)[*n];
    memset(e, 0, sizeof *e);
    if (!(e->dataset = strdup(name)))
        return NULL;
    e->last_success_duration_ms = -1;
    (*n)++;
    return e;
}

static const char q_counts[] =
    "SELECT dataset, outcome, COUNT(*), SUM(read), SUM(accepted), SUM(rejected), SUM(blank),"
    " SUM(duplicates), SUM(warnings), SUM(inserted), SUM(changed), SUM(unchanged),"
    " SUM(vanished) FROM " PS_STORE_T_RUNS " GROUP BY dataset, outcome ORDER BY dataset";
/* SQLite takes the bare columns from the row holding the MAX. */
static const char q_success[] =
    "SELECT dataset, MAX(COALESCE(finished_ms, started_ms)), started_ms, finished_ms "
    "FROM " PS_STORE_T_RUNS " WHERE outcome = 'ok' GROUP BY dataset";
static const char q_last[] =
    "SELECT dataset, MAX(COALESCE(started_ms, finished_ms)), outcome FROM " PS_STORE_T_RUNS
    " GROUP BY dataset";

static const char q_codes[] = "SELECT dataset, code, SUM(count) FROM " PS_STORE_T_RUN_REJECTS
                              " GROUP BY dataset, code ORDER BY dataset, code";

ps_status ps_serve_store_stats(sqlite3 *db, ps_serve_stats **out, size_t *nout, ps_error *err)
{
    ps_serve_stats *v = NULL;
    size_t n = 0, cap = 0;
    const char *const qs[4] = {q_counts, q_success, q_last, q_codes};
    ps_status st = PS_OK;
    for (int q = 0; q < 4 && st == PS_OK; q++) {
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(db, qs[q], -1, &s, NULL);
        if (rc != SQLITE_OK) {
            st = sq_err(db, rc, "runs", NULL, err);
            break;
        }
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(s, 0);
            ps_serve_stats *e = name ? entry(&v, &n, &cap, name, q == 0) : NULL;
            if (!e) {
                if (q == 0 && name) {
                    st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
                    break;
                }
                continue;
            }
            if (q == 0) {
                const char *outcome = (const char *)sqlite3_column_text(s, 1);
                uint64_t runs = (uint64_t)sqlite3_column_int64(s, 2);
                if (outcome && strcmp(outcome, "ok") == 0)
                    e->runs_ok += runs;
                else
                    e->runs_failed += runs;
                for (int k = 0; k < 10; k++)
                    e->rows[k] += (uint64_t)sqlite3_column_int64(s, 3 + k);
            } else if (q == 3) {
                const char *code = (const char *)sqlite3_column_text(s, 1);
                struct ps_serve_code_count *nc =
                    code ? realloc(e->codes, (e->ncodes + 1) * sizeof *nc) : NULL;
                if (!nc) {
                    if (code) {
                        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
                        break;
                    }
                    continue;
                }
                e->codes = nc;
                if (!(nc[e->ncodes].code = strdup(code))) {
                    st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
                    break;
                }
                nc[e->ncodes++].count = (uint64_t)sqlite3_column_int64(s, 2);
            } else if (q == 1) {
                e->has_success = 1;
                e->last_success_ms =
                    sqlite3_column_type(s, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 1);
                if (sqlite3_column_type(s, 2) != SQLITE_NULL &&
                    sqlite3_column_type(s, 3) != SQLITE_NULL)
                    e->last_success_duration_ms =
                        sqlite3_column_int64(s, 3) - sqlite3_column_int64(s, 2);
            } else {
                const char *outcome = (const char *)sqlite3_column_text(s, 2);
                e->has_run = 1;
                e->last_run_ok = outcome && strcmp(outcome, "ok") == 0;
                e->last_run_ms =
                    sqlite3_column_type(s, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 1);
            }
        }
        if (st == PS_OK && rc != SQLITE_DONE)
            st = sq_err(db, rc, "runs", NULL, err);
        sqlite3_finalize(s);
    }
    if (st != PS_OK) {
        ps_serve_stats_free(v, n);
        return st;
    }
    *out = v;
    *nout = n;
    return PS_OK;
}

/* paysync store: row versions of the SQLite store (sqlite_versions.h). */
#include "store/sqlite_versions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_schema.h"

/* Rows handled per statement: small, so that `progress` can commit between them. */
#define BATCH 256
#define BATCH_SQL "256"

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Runs `sql` (?1 dataset, ?2 n, ?3 LIMIT) until it changes no row, reporting each batch. */
static int repeat(sqlite3 *db, const char *sql, const char *dataset, int64_t n,
                  ps_sqlite_progress_fn progress, void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, n);
        sqlite3_bind_int(st, 3, BATCH);
        rc = step_done(st);
        int changed = rc == SQLITE_OK ? sqlite3_changes(db) : 0;
        if (rc != SQLITE_OK || changed == 0)
            break;
        rc = progress(ctx, (uint64_t)changed);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The keys (id, valid_from) of up to BATCH rows of `sel` (bound by `bind`) after *last, in ID
 * order; *last moves to the last one. */
typedef struct keys {
    char *id[BATCH];
    int64_t from[BATCH];
    size_t n;
} keys;

static void keys_free(keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->id[i]);
    k->n = 0;
}

static int keys_next(sqlite3_stmt *sel, keys *k, char **last)
{
    keys_free(k);
    sqlite3_bind_text(sel, 3, *last ? *last : "", -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW && k->n < BATCH) {
        const char *id = (const char *)sqlite3_column_text(sel, 0);
        if (!id || !(k->id[k->n] = strdup(id))) {
            rc = SQLITE_NOMEM;
            break;
        }
        k->from[k->n++] = sqlite3_column_int64(sel, 1);
    }
    sqlite3_reset(sel);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    if (k->n) {
        free(*last);
        if (!(*last = strdup(k->id[k->n - 1])))
            return SQLITE_NOMEM;
    }
    return SQLITE_OK;
}

/* Applies `apply` to every row of `sel` (?3 = the last ID of the previous batch), BATCH rows
 * at a time read into memory first (the table is written meanwhile), and reports each batch
 * to `progress`; the number of rows in *count when count is not NULL. */
typedef int (*key_fn)(void *arg, const char *id, int64_t from);

static int each_key(sqlite3_stmt *sel, key_fn apply, void *arg, ps_sqlite_progress_fn progress,
                    void *ctx, uint64_t *count)
{
    keys k = {.n = 0};
    char *last = NULL;
    int rc = SQLITE_OK;
    while (rc == SQLITE_OK) {
        rc = keys_next(sel, &k, &last);
        if (rc != SQLITE_OK || k.n == 0)
            break;
        for (size_t i = 0; i < k.n && rc == SQLITE_OK; i++)
            rc = apply(arg, k.id[i], k.from[i]);
        if (rc == SQLITE_OK && count)
            *count += k.n;
        if (rc == SQLITE_OK)
            rc = progress(ctx, k.n);
    }
    keys_free(&k);
    free(last);
    return rc;
}

/* The statements of one dataset's version changes: ?1 dataset, ?2 id, ?3 valid_from. */
typedef struct key_stmts {
    sqlite3 *db;
    sqlite3_stmt *del, *copy, *close;
    const char *dataset, *run_id, *prev_run;
    int64_t version;
} key_stmts;

static void bind_key(sqlite3_stmt *st, const key_stmts *x, const char *id, int64_t from)
{
    sqlite3_bind_text(st, 1, x->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from);
}

static int delete_key(void *arg, const char *id, int64_t from)
{
    key_stmts *x = arg;
    bind_key(x->del, x, id, from);
    return step_done(x->del);
}

int ps_sqlite_versions_discard(sqlite3 *db, const char *dataset, int64_t published,
                               ps_sqlite_progress_fn progress, void *ctx)
{
    /* The new versions: one pass over the dataset in ID order (no index on valid_from; this
     * runs only after a run that did not publish). */
    key_stmts x = {.db = db, .dataset = dataset};
    sqlite3_stmt *sel = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, valid_from FROM " PS_STORE_T_PAYMENTS
                                " WHERE dataset = ?1 AND valid_from > ?2 AND id > ?3"
                                " ORDER BY id LIMIT " BATCH_SQL,
                                -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "DELETE FROM " PS_STORE_T_PAYMENTS
                                " WHERE dataset = ?1 AND id = ?2 AND valid_from = ?3",
                                -1, &x.del, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(sel, 1, dataset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sel, 2, published);
        rc = each_key(sel, delete_key, &x, progress, ctx, NULL);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(x.del);
    /* The versions they had closed are current again (found through the partial index). */
    if (rc == SQLITE_OK)
        rc = repeat(db,
                    "UPDATE " PS_STORE_T_PAYMENTS " SET valid_to = NULL"
                    " WHERE (dataset, id, valid_from) IN (SELECT dataset, id, valid_from "
                    "FROM " PS_STORE_T_PAYMENTS " WHERE dataset = ?1 AND valid_to IS NOT NULL"
                    " AND valid_to > ?2 LIMIT ?3)",
                    dataset, published, progress, ctx);
    return rc;
}

int ps_sqlite_versions_collect(sqlite3 *db, const char *dataset, int64_t published,
                               ps_sqlite_progress_fn progress, void *ctx)
{
    return repeat(db,
                  "DELETE FROM " PS_STORE_T_PAYMENTS
                  " WHERE (dataset, id, valid_from) IN (SELECT dataset, id, valid_from "
                  "FROM " PS_STORE_T_PAYMENTS " WHERE dataset = ?1 AND valid_to IS NOT NULL"
                  " AND valid_to <= ?2 LIMIT ?3)",
                  dataset, published, progress, ctx);
}

/* INSERT of the vanished copy: ?1 dataset, ?2 id, ?3 valid_from of the current version,
 * ?4 run, ?5 previous run, ?6 the new version. OR FAIL (a conflict fails it as before): a
 * statement that fires the meter trigger and may ABORT needs a statement journal, a page
 * copy a row (sqlite_writer.c: the payment insert). */
static char *copy_sql(void)
{
    size_t cap = 4096, n = 0;
    char cols[2048];
    size_t c = (size_t)snprintf(cols, sizeof cols, "dataset");
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        c += (size_t)snprintf(cols + c, sizeof cols - c, ", %s", ps_store_field_column(f));
    for (int i = 0; i < PS_STORE_EXTRA_COLUMNS; i++)
        c += (size_t)snprintf(cols + c, sizeof cols - c, ", %s", ps_store_extra_column(i));
    snprintf(cols + c, sizeof cols - c, ", first_seen_run");
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    n += (size_t)snprintf(sql + n, cap - n,
                          "INSERT OR FAIL INTO " PS_STORE_T_PAYMENTS
                          " (%s, last_seen_run, vanished_run, valid_from) SELECT %s,"
                          " coalesce(?5, last_seen_run), ?4, ?6 FROM " PS_STORE_T_PAYMENTS
                          " WHERE dataset = ?1 AND id = ?2 AND valid_from = ?3",
                          cols, cols);
    (void)n;
    return sql;
}

/* Marks one payment vanished: a copy of its current version (valid_from `from`) as the new
 * version, then the current one closed. */
static int vanish_key(void *arg, const char *id, int64_t from)
{
    key_stmts *x = arg;
    bind_key(x->copy, x, id, from);
    sqlite3_bind_text(x->copy, 4, x->run_id, -1, SQLITE_STATIC);
    if (x->prev_run)
        sqlite3_bind_text(x->copy, 5, x->prev_run, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(x->copy, 5);
    sqlite3_bind_int64(x->copy, 6, x->version);
    int rc = step_done(x->copy);
    if (rc == SQLITE_OK && sqlite3_changes(x->db) != 1)
        rc = SQLITE_CONSTRAINT; /* the version exists: another writer */
    if (rc == SQLITE_OK) {
        bind_key(x->close, x, id, from);
        sqlite3_bind_int64(x->close, 4, x->version);
        rc = step_done(x->close);
    }
    return rc;
}

int ps_sqlite_versions_vanish(sqlite3 *db, const char *dataset, const char *run_id,
                              const char *prev_run, int64_t version, int64_t from_ms, int64_t to_ms,
                              ps_sqlite_progress_fn progress, void *ctx, uint64_t *count)
{
    *count = 0;
    key_stmts x = {
        .db = db, .dataset = dataset, .run_id = run_id, .prev_run = prev_run, .version = version};
    sqlite3_stmt *sel = NULL;
    char *csql = copy_sql();
    int rc = csql ? SQLITE_OK : SQLITE_NOMEM;
    /* Present payments this run did not see: neither written (last_seen_run = this run) nor
     * found unchanged (in a range of temp.ps_seen). */
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db,
            "SELECT id, valid_from FROM " PS_STORE_T_PAYMENTS " p WHERE dataset = ?1"
            " AND valid_to IS NULL AND vanished_run IS NULL AND last_seen_run <> ?2 AND id > ?3"
            " AND timestamp_ms BETWEEN ?4 AND ?5"
            " AND NOT " PS_STORE_SEEN("p") " ORDER BY id LIMIT " BATCH_SQL,
            -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, csql, -1, &x.copy, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "UPDATE " PS_STORE_T_PAYMENTS " SET valid_to = ?4"
                                " WHERE dataset = ?1 AND id = ?2 AND valid_from = ?3",
                                -1, &x.close, NULL);
    free(csql);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(sel, 1, dataset, -1, SQLITE_STATIC);
        sqlite3_bind_text(sel, 2, run_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sel, 4, from_ms);
        sqlite3_bind_int64(sel, 5, to_ms);
        rc = each_key(sel, vanish_key, &x, progress, ctx, count);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(x.copy);
    sqlite3_finalize(x.close);
    return rc;
}

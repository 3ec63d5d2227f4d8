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

int ps_sqlite_versions_discard(sqlite3 *db, const char *dataset, int64_t published,
                               ps_sqlite_progress_fn progress, void *ctx)
{
    /* The new versions: one pass over the dataset in ID order (no index on valid_from; this
     * runs only after a run that did not publish). */
    sqlite3_stmt *sel = NULL, *del = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, valid_from FROM " PS_STORE_T_PAYMENTS
                                " WHERE dataset = ?1 AND valid_from > ?2 AND id > ?3"
                                " ORDER BY id LIMIT " BATCH_SQL,
                                -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "DELETE FROM " PS_STORE_T_PAYMENTS
                                " WHERE dataset = ?1 AND id = ?2 AND valid_from = ?3",
                                -1, &del, NULL);
    keys k = {.n = 0};
    char *last = NULL;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(sel, 1, dataset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sel, 2, published);
    }
    while (rc == SQLITE_OK) {
        rc = keys_next(sel, &k, &last);
        if (rc != SQLITE_OK || k.n == 0)
            break;
        for (size_t i = 0; i < k.n && rc == SQLITE_OK; i++) {
            sqlite3_bind_text(del, 1, dataset, -1, SQLITE_STATIC);
            sqlite3_bind_text(del, 2, k.id[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(del, 3, k.from[i]);
            rc = step_done(del);
        }
        if (rc == SQLITE_OK)
            rc = progress(ctx, k.n);
    }
    keys_free(&k);
    free(last);
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
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
 * ?4 run, ?5 previous run, ?6 the new version. */
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
                          "INSERT INTO " PS_STORE_T_PAYMENTS
                          " (%s, last_seen_run, vanished_run, valid_from) SELECT %s,"
                          " coalesce(?5, last_seen_run), ?4, ?6 FROM " PS_STORE_T_PAYMENTS
                          " WHERE dataset = ?1 AND id = ?2 AND valid_from = ?3",
                          cols, cols);
    (void)n;
    return sql;
}

int ps_sqlite_versions_vanish(sqlite3 *db, const char *dataset, const char *run_id,
                              const char *prev_run, int64_t version, ps_sqlite_progress_fn progress,
                              void *ctx, uint64_t *count)
{
    *count = 0;
    sqlite3_stmt *sel = NULL, *copy = NULL, *close = NULL;
    char *csql = copy_sql();
    int rc = csql ? SQLITE_OK : SQLITE_NOMEM;
    /* Present payments this run did not see: neither written (last_seen_run = this run) nor
     * found unchanged (in temp.ps_seen). */
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db,
            "SELECT id, valid_from FROM " PS_STORE_T_PAYMENTS " p WHERE dataset = ?1"
            " AND valid_to IS NULL AND vanished_run IS NULL AND last_seen_run <> ?2 AND id > ?3"
            " AND NOT EXISTS (SELECT 1 FROM temp.ps_seen s WHERE s.id = p.id)"
            " ORDER BY id LIMIT " BATCH_SQL,
            -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, csql, -1, &copy, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "UPDATE " PS_STORE_T_PAYMENTS " SET valid_to = ?4"
                                " WHERE dataset = ?1 AND id = ?2 AND valid_from = ?3",
                                -1, &close, NULL);
    free(csql);
    keys k = {.n = 0};
    char *last = NULL;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(sel, 1, dataset, -1, SQLITE_STATIC);
        sqlite3_bind_text(sel, 2, run_id, -1, SQLITE_STATIC);
    }
    while (rc == SQLITE_OK) {
        rc = keys_next(sel, &k, &last);
        if (rc != SQLITE_OK || k.n == 0)
            break;
        for (size_t i = 0; i < k.n && rc == SQLITE_OK; i++) {
            sqlite3_bind_text(copy, 1, dataset, -1, SQLITE_STATIC);
            sqlite3_bind_text(copy, 2, k.id[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(copy, 3, k.from[i]);
            sqlite3_bind_text(copy, 4, run_id, -1, SQLITE_STATIC);
            if (prev_run)
                sqlite3_bind_text(copy, 5, prev_run, -1, SQLITE_STATIC);
            else
                sqlite3_bind_null(copy, 5);
            sqlite3_bind_int64(copy, 6, version);
            rc = step_done(copy);
            if (rc == SQLITE_OK && sqlite3_changes(db) != 1)
                rc = SQLITE_CONSTRAINT; /* the version exists: another writer */
            if (rc == SQLITE_OK) {
                sqlite3_bind_text(close, 1, dataset, -1, SQLITE_STATIC);
                sqlite3_bind_text(close, 2, k.id[i], -1, SQLITE_STATIC);
                sqlite3_bind_int64(close, 3, k.from[i]);
                sqlite3_bind_int64(close, 4, version);
                rc = step_done(close);
            }
        }
        if (rc == SQLITE_OK) {
            *count += k.n;
            rc = progress(ctx, k.n);
        }
    }
    keys_free(&k);
    free(last);
    sqlite3_finalize(sel);
    sqlite3_finalize(copy);
    sqlite3_finalize(close);
    return rc;
}

/* paysync store: the run_columns table of the SQLite store (sqlite_columns.h). */
#include "store/sqlite_columns.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store_schema.h"

char *ps_sqlite_names_json(const char *const *names, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *s = json_string(names[i] ? names[i] : "");
        if (!s || json_array_append_new(a, s) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

int ps_sqlite_names_parse(const char *json, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!json)
        return 0;
    json_t *a = json_loads(json, 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return -1;
    }
    size_t len = json_array_size(a);
    char **v = calloc(len + 1, sizeof *v);
    int rc = v ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !(v[i] = strdup(s)))
            rc = -1;
    }
    json_decref(a);
    if (rc != 0) {
        free_names(v, len);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

/* Runs a one-text-column query with bound text parameters; parses the first row's value. */
static int query_names(sqlite3 *db, const char *sql, const char *a, const char *b, char ***out,
                       size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *json = (const char *)sqlite3_column_text(st, 0);
        rc = ps_sqlite_names_parse(json, out, n) == 0 ? SQLITE_OK : SQLITE_CORRUPT;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int ps_sqlite_columns_previous(sqlite3 *db, const char *dataset, char ***out, size_t *n)
{
    return query_names(db,
                       "SELECT c.columns FROM " PS_STORE_T_RUN_COLUMNS " c JOIN " PS_STORE_T_RUNS
                       " r ON r.dataset = c.dataset AND r.run_id = c.run_id"
                       " WHERE c.dataset = ?1 AND r.outcome = 'ok'"
                       " ORDER BY r.started_ms DESC, r.run_id DESC LIMIT 1",
                       dataset, NULL, out, n);
}

int ps_sqlite_columns_missing(sqlite3 *db, const char *dataset, const char *run_id, char ***out,
                              size_t *n)
{
    return query_names(
        db, "SELECT missing FROM " PS_STORE_T_RUN_COLUMNS " WHERE dataset = ?1 AND run_id = ?2",
        dataset, run_id, out, n);
}

int ps_sqlite_columns_write(sqlite3 *db, const char *dataset, const char *run_id,
                            const char *columns_json, const char *missing_json)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT OR REPLACE INTO " PS_STORE_T_RUN_COLUMNS
                                " (dataset, run_id, columns, missing) VALUES (?1, ?2, ?3, ?4)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, columns_json, -1, SQLITE_STATIC);
    if (missing_json)
        sqlite3_bind_text(st, 4, missing_json, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* paysync store: the SQLite store's run_columns table (store_schema.h, migration 3 -> 4):
 * the source's header of each successful run and the mapped columns it lost against the
 * previous one (the column_missing warning, docs/data-model.md). Shared by the writer
 * (sqlite_writer.c) and the reader (store.c). Private to core/src/store. */
#ifndef PS_SQLITE_COLUMNS_H
#define PS_SQLITE_COLUMNS_H

#include <stddef.h>

#include <sqlite3.h>

/* A JSON array of n names (malloc'd text; NULL when out of memory or a name is not UTF-8). */
char *ps_sqlite_names_json(const char *const *names, size_t n);

/* The names of a JSON array written by ps_sqlite_names_json: *out malloc'd array of malloc'd
 * strings (free each, then the array: ps_store_names_free in store.h). 0, or -1 when json is not
 * such an array or out of memory (*out NULL, *n 0). NULL json is the empty list. */
int ps_sqlite_names_parse(const char *json, char ***out, size_t *n);

/* The header of dataset's newest successful run: *out / *n as ps_sqlite_names_parse, empty
 * when the dataset has none. Returns a SQLite result code (SQLITE_OK). */
int ps_sqlite_columns_previous(sqlite3 *db, const char *dataset, char ***out, size_t *n);

/* The missing columns recorded with run_id of dataset, empty when none. SQLite result code. */
int ps_sqlite_columns_missing(sqlite3 *db, const char *dataset, const char *run_id, char ***out,
                              size_t *n);

/* Writes (replaces) the run's row; missing_json NULL when nothing is missing. Inside the
 * caller's transaction. SQLite result code. */
int ps_sqlite_columns_write(sqlite3 *db, const char *dataset, const char *run_id,
                            const char *columns_json, const char *missing_json);

#endif

/* paysync serve: read-only access to the SQLite store for the HTTP server: a small pool of
 * read-only connections and the queries serve needs (payments in a window across datasets,
 * run statistics per dataset). Table and column names come from store_schema.h; every value
 * from a request is a bound parameter. */
#ifndef PS_SERVE_STORE_H
#define PS_SERVE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/model.h"
#include "paysync/status.h"

typedef struct sqlite3 sqlite3;
typedef struct ps_serve_store ps_serve_store;

/* Creates a pool of at most `pool` read-only connections to path (opened lazily, so a
 * missing database is not an error here). Errors: PS_ERR_NOMEM. Free with
 * ps_serve_store_free (after every connection was released). */
ps_status ps_serve_store_new(const char *path, size_t pool, ps_serve_store **out, ps_error *err);
void ps_serve_store_free(ps_serve_store *s);
/* The database path (owned by s). */
const char *ps_serve_store_path(const ps_serve_store *s);

/* Takes a connection (opening one when none is idle) and checks that the store has the
 * schema this build reads. Errors (PS_ERR_IO) say why the store is unavailable: missing
 * file, not a database, no schema yet, schema too old. Release it with
 * ps_serve_store_release; broken = 1 closes it instead of pooling it. */
ps_status ps_serve_store_acquire(ps_serve_store *s, sqlite3 **db, ps_error *err);
void ps_serve_store_release(ps_serve_store *s, sqlite3 *db, int broken);

/* Filter of ps_serve_store_payments. */
typedef struct ps_serve_filter {
    int64_t from_ms, to_ms;      /* inclusive */
    const char *const *datasets; /* allowed datasets; ignored when all_datasets */
    size_t ndatasets;
    int all_datasets;
    const char *site_id;      /* target_id = ?, NULL = any */
    const char *financing_id; /* financing_id = ?, NULL = any */
} ps_serve_filter;

/* One stored payment as read. Strings are valid only during the callback; field[f] is NULL
 * when absent. */
typedef struct ps_serve_row {
    const char *dataset;
    const char *field[PS_FIELD_COUNT];
    int64_t timestamp_ms;
    ps_decimal amount; /* from amount_units / amount_scale */
    ps_target_level target_level;
} ps_serve_row;

/* Calls fn for each payment not marked vanished in the window, ordered by timestamp then ID
 * (then dataset). fn returns 0 to go on, non-zero to stop with PS_ERR_NOMEM.
 * Errors: PS_ERR_IO with the SQLite message; *broken set when the connection should not be
 * reused. */
ps_status ps_serve_store_payments(sqlite3 *db, const ps_serve_filter *f,
                                  int (*fn)(void *ud, const ps_serve_row *row), void *ud,
                                  int *broken, ps_error *err);

/* Run statistics of one dataset (sums over every recorded run). */
typedef struct ps_serve_stats {
    char *dataset;
    uint64_t runs_ok, runs_failed;
    /* read, accepted, rejected, blank, duplicates, warnings, inserted, changed, unchanged,
     * vanished (see PS_SERVE_ROW_OUTCOMES). */
    uint64_t rows[10];
    int has_success;
    int64_t last_success_ms;          /* finished (or started) of the last ok run */
    int64_t last_success_duration_ms; /* -1 when unknown */
    int has_run;
    int last_run_ok;
    int64_t last_run_ms;
    /* Rejected rows by problem code over every successful run, sorted by code. */
    struct ps_serve_code_count {
        char *code;
        uint64_t count;
    } *codes;
    size_t ncodes;
} ps_serve_stats;

/* Names of ps_serve_stats.rows in order. */
extern const char *const PS_SERVE_ROW_OUTCOMES[10];

/* Reads the statistics of every dataset with a recorded run, sorted by name. Caller frees
 * with ps_serve_stats_free. Errors: PS_ERR_IO / PS_ERR_NOMEM. */
ps_status ps_serve_store_stats(sqlite3 *db, ps_serve_stats **out, size_t *n, ps_error *err);
void ps_serve_stats_free(ps_serve_stats *s, size_t n);

#endif

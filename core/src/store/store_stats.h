/* paysync store: the run statistics (store.h: ps_store_stats_read): their type, and how they
 * are built from the rows of the six queries every backend runs, so that the backends share
 * one meaning of them. A leaf of the store (it includes none of it): store.h, the readers
 * (store.c, pg_reader.c) and store_api.c use it. */
#ifndef PS_STORE_STATS_H
#define PS_STORE_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Run statistics of one dataset (sums over every recorded run), for serve's health and
 * metrics endpoints. */
/* Row outcomes summed per dataset (PS_STORE_ROW_OUTCOMES). */
#define PS_STORE_NOUTCOMES 11

typedef struct ps_store_stats {
    char *dataset;
    uint64_t runs_ok, runs_failed;
    /* read, accepted, rejected, blank, duplicates, warnings, inserted, changed, unchanged,
     * vanished, filtered (see PS_STORE_ROW_OUTCOMES). */
    uint64_t rows[PS_STORE_NOUTCOMES];
    int has_success;
    int64_t last_success_ms;          /* finished (or started) of the last ok run */
    int64_t last_success_duration_ms; /* -1 when unknown */
    int has_run;
    int last_run_ok;
    int64_t last_run_ms;
    uint64_t guard_trips; /* failed runs stopped by the vanish guard (error "vanish_guard:") */
    /* Rejected rows by problem code over every successful run, sorted by code. */
    struct ps_store_code_count {
        char *code;
        uint64_t count;
    } * codes;
    size_t ncodes;
    /* Rows with warnings by problem code over every successful run, sorted by code. */
    struct ps_store_code_count *wcodes;
    size_t nwcodes;
} ps_store_stats;

/* The queries, in the order a backend runs them; each row's columns (text, NULL for SQL
 * NULL) as listed:
 *   COUNTS  dataset, outcome, runs, then the sums of PS_STORE_ROW_OUTCOMES in order (only
 *           these rows add a dataset; the backend sorts them by dataset)
 *   SUCCESS dataset, its last successful run's finished (else started) ms, started ms,
 *           finished ms
 *   LAST    dataset, its last run's started (else finished) ms, outcome
 *   CODES   dataset, reject code, rows (ordered by dataset, code)
 *   GUARD   dataset, failed runs stopped by the vanish guard
 *   WCODES  dataset, warning code, rows (ordered by dataset, code) */
enum {
    PS_STATS_COUNTS,
    PS_STATS_SUCCESS,
    PS_STATS_LAST,
    PS_STATS_CODES,
    PS_STATS_GUARD,
    PS_STATS_WCODES,
    PS_STATS_NQUERIES
};

/* The statistics being built: zero-initialise. */
typedef struct ps_stats_build {
    ps_store_stats *v;
    size_t n, cap;
} ps_stats_build;

/* Applies one row of query q with ncol columns col. Returns 0, or -1 when out of memory
 * (b stays valid: free it with ps_stats_free). A row of a dataset COUNTS did not add is
 * ignored. */
int ps_stats_add_row(ps_stats_build *b, int q, const char *const *col, int ncol);

/* Frees n statistics and the array (store.h: ps_store_stats_free). NULL is ignored. */
void ps_stats_free(ps_store_stats *s, size_t n);

#endif

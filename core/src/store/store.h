/* paysync core: read-only API over the sqlite sink's database (for the CLI and the HTTP
 * server). The schema is in store_schema.h. Readers never block the writer (WAL) and see only
 * committed datasets. A ps_store and its iterators belong to one thread at a time. */
#ifndef PS_STORE_H
#define PS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/model.h"
#include "paysync/plugin.h"
#include "paysync/status.h"

typedef struct ps_store ps_store;
typedef struct ps_store_iter ps_store_iter;

/* One row of the runs table. Strings are owned by the iterator and valid until the next
 * call on it; NULL when absent (finished/error, or counts from a v1 database). */
typedef struct ps_store_run {
    const char *run_id;
    const char *dataset;
    const char *started;  /* canonical UTC text */
    const char *finished; /* canonical UTC text */
    const char *outcome;  /* "ok" or "failed" */
    const char *error;    /* message of a failed run, else NULL */
    int64_t started_ms, finished_ms;
    uint64_t read, accepted, rejected, blank, duplicates, warnings;
    int has_changes; /* 1 when the four counts below were recorded (successful runs) */
    uint64_t inserted, changed, unchanged, vanished;
} ps_store_run;

/* A dataset known to the store (it has payments or runs). */
typedef struct ps_store_dataset {
    const char *name;
    uint64_t payments; /* present (not vanished) payments */
    uint64_t vanished; /* payments flagged vanished */
    int has_run;       /* last_run is valid */
    ps_store_run last_run;
    const char *last_ok_finished; /* finish time of the last successful run, NULL if none */
} ps_store_dataset;

/* One stored payment. field[f] is the canonical text of model field f, NULL when absent. */
typedef struct ps_store_payment {
    const char *dataset;
    const char *field[PS_FIELD_COUNT];
    int64_t timestamp_ms;
    ps_target_level target_level;
    const char *target_id; /* NULL when the dataset has none */
    uint64_t source_row;
    const char *first_seen_run, *last_seen_run;
    const char *vanished_run; /* NULL unless the ID vanished from its source */
} ps_store_payment;

/* Filters of ps_store_payments. Zero-initialise, then set what you need. */
typedef struct ps_store_query {
    const char *const *datasets; /* ndatasets names; ndatasets 0 = every dataset */
    size_t ndatasets;
    int64_t from_ms, to_ms; /* inclusive window on TIMESTAMP; from > to yields nothing */
    int unbounded;          /* 1: ignore from_ms/to_ms */
    const char *target_id;  /* NULL = any */
    const char *financing_id;
    const char *meter_id;
    int include_vanished; /* 0: vanished payments are left out */
} ps_store_query;

/* Opens the database at path read-only. Errors (PS_ERR_IO naming the file): missing file,
 * not a SQLite database, not a paysync store, schema older (run a sync to upgrade) or newer
 * than this build. Caller closes with ps_store_close. */
ps_status ps_store_open(const char *path, ps_store **out, ps_error *err);

/* Closes the store; every iterator must be freed first. NULL is ignored. */
void ps_store_close(ps_store *s);

/* Iterates the datasets by name, each with its last run. Free with ps_store_iter_free. */
ps_status ps_store_datasets(ps_store *s, ps_store_iter **it, ps_error *err);
/* Next dataset: PS_OK, PS_END, or PS_ERR_IO. */
ps_status ps_store_next_dataset(ps_store_iter *it, ps_store_dataset *out, ps_error *err);

/* Iterates the payments matching q ordered by timestamp, then ID, then dataset. */
ps_status ps_store_payments(ps_store *s, const ps_store_query *q, ps_store_iter **it,
                            ps_error *err);
ps_status ps_store_next_payment(ps_store_iter *it, ps_store_payment *out, ps_error *err);

/* Iterates the run history of dataset (NULL = all), newest first, at most limit rows
 * (0 = all). */
ps_status ps_store_runs(ps_store *s, const char *dataset, size_t limit, ps_store_iter **it,
                        ps_error *err);
ps_status ps_store_next_run(ps_store_iter *it, ps_store_run *out, ps_error *err);

/* Frees an iterator of any kind. NULL is ignored. */
void ps_store_iter_free(ps_store_iter *it);

/* The SQLite store's writer: the descriptor of the built-in sink `sqlite` (static storage),
 * registered in every plugin registry (ps_registry_new). */
const ps_plugin_descriptor *ps_store_sqlite_sink(void);

#endif

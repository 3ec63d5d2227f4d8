/* paysync core: the store. A store keeps the payments of every dataset that writes to it,
 * with change tracking, run history and provider cursors; `status`, `export`, `run --due`,
 * the daemon and `serve` read it. This header is the seam between the core and a store
 * implementation (a backend): the writer is the backend's sink (built in, named like a
 * plugin in configs), the reader is the table of queries below. The backends: SQLite
 * (sqlite_store.h; the schema of its database is in store_schema.h) and PostgreSQL
 * (pg_store.h, pg_schema.h).
 *
 * Readers never block the writer and see only committed datasets. A ps_store and its
 * iterators belong to one thread at a time. Nothing outside core/src/store knows a
 * backend's plugin name, its options or its default location: callers ask ps_store_locate. */
#ifndef PS_STORE_H
#define PS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "paysync/decimal.h"
#include "paysync/model.h"
#include "paysync/plugin.h"
#include "paysync/status.h"
#include "store/store_kind.h"  /* ps_store_kinds, ps_store_kind_known */
#include "store/store_stats.h" /* ps_store_stats */

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
    uint64_t filtered; /* rows dropped by mapping.filters */
    int has_changes;   /* 1 when the four counts below were recorded (successful runs) */
    uint64_t inserted, changed, unchanged, vanished;
} ps_store_run;

/* 1 when r is a run that started but recorded no outcome and whose writer is gone: killed,
 * or its failure could not be recorded. Readers show it with outcome "failed" and an error
 * starting "interrupted:"; a run still in progress is left out by every reader. */
int ps_store_run_interrupted(const ps_store_run *r);

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
    ps_decimal amount; /* exact PAYMENT_AMOUNT */
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
    int recorded_only;    /* 1 with ndatasets 0: only datasets with a recorded run */
    /* Changes of one run (NULL = no such filter): vanished_in_run, only the payments that run
     * marked vanished (include_vanished is implied); changed_in_run, only the payments that
     * run found changed (written again with other content, or back after vanishing). */
    const char *vanished_in_run;
    const char *changed_in_run;
} ps_store_query;

/* One group of ps_store_totals: the payments of one UTC day, currency and transaction type.
 * Strings are owned by the iterator and valid until the next call on it. */
typedef struct ps_store_total {
    int64_t day; /* days since 1970-01-01 of TIMESTAMP in UTC (floor of ms / 86,400,000) */
    const char *currency;
    const char *transaction_type;
    uint64_t count;
    ps_decimal amount; /* exact sum of PAYMENT_AMOUNT, at the largest scale among them */
} ps_store_total;

/* ps_store_stats, the run statistics of one dataset: store_stats.h. */

/* Names of ps_store_stats.rows in order. */
extern const char *const PS_STORE_ROW_OUTCOMES[PS_STORE_NOUTCOMES];

/* A dataset's lease (ps_store_lease_holder): which worker runs it. */
typedef struct ps_store_lease {
    char worker[200];
    int64_t acquired_ms; /* server time the worker took it */
    int64_t beat_age_ms; /* since its last heartbeat (server time) */
    int64_t timeout_ms;  /* the lease_timeout it was taken with */
    int expired;         /* no heartbeat for timeout_ms: another worker may take it over */
} ps_store_lease;

/* A worker's connection for leases (ps_store_coord_open). */
typedef struct ps_store_coord {
    const struct ps_store_backend *backend;
} ps_store_coord;

/* What ps_store_lease_take found. */
typedef struct ps_store_take_result {
    int taken;          /* 1: this worker holds the lease now */
    char holder[200];   /* when not taken: the worker holding it ("" when unknown) */
    int has_last_ok;    /* the dataset has a successful run */
    int64_t last_ok_ms; /* start of its newest successful run (any worker's) */
} ps_store_take_result;

/* ---- the store interface: what a backend implements ------------------------------------ */

/* A handle or iterator of a backend starts with this header (the backend fills it). */
struct ps_store {
    const struct ps_store_backend *backend;
};
struct ps_store_iter {
    const struct ps_store_backend *backend;
};

typedef struct ps_store_backend {
    const char *plugin; /* the name configs give its sink (`{plugin: sqlite, ...}`) */
    /* The writer: the built-in sink's descriptor (static storage). Its sink ops are the
     * writer's interface: open (begin a dataset's transaction), write_batch, commit (data,
     * run row, reject codes and cursor in one transaction), abort, record_failure,
     * load_cursor; flag PS_SINK_KEEPS_STATE. */
    const ps_plugin_descriptor *(*sink)(void);
    /* Where the store of a sink configured with these options lives (a file path for
     * SQLite), resolved against config_dir; the backend's defaults apply. malloc'd; NULL when
     * out of memory. */
    char *(*locate)(const ps_kv *opts, size_t nopts, const char *config_dir);
    /* 1 when something exists at location (a store was written there, or is being). */
    int (*exists)(const char *location);
    /* The location as messages and `status` show it, without secrets (malloc'd; NULL when
     * out of memory). NULL: the location itself (a file path). */
    char *(*shown)(const char *location);
    /* 1 when the store keeps no run state file beside its location (store/run_state.h):
     * a database server rather than a file. */
    int no_state_file;

    /* The reader. open: read-only, waiting up to wait_ms for a writer's lock; errors
     * (PS_ERR_IO naming the location): missing, unreadable, not a paysync store, schema
     * older or newer than this build. check: the schema is still the one this build reads
     * (for pooled handles). The others are the functions of the same name below. */
    ps_status (*open)(const char *location, int wait_ms, ps_store **out, ps_error *err);
    ps_status (*check)(ps_store *s, ps_error *err);
    void (*close)(ps_store *s);
    ps_status (*datasets)(ps_store *s, ps_store_iter **it, ps_error *err);
    ps_status (*next_dataset)(ps_store_iter *it, ps_store_dataset *out, ps_error *err);
    ps_status (*payments)(ps_store *s, const ps_store_query *q, ps_store_iter **it, ps_error *err);
    ps_status (*next_payment)(ps_store_iter *it, ps_store_payment *out, ps_error *err);
    /* Optional. totals NULL: ps_store_totals sums the payment query's rows itself (slower);
     * run_codes NULL: ps_store_run_codes answers PS_ERR_IO. */
    ps_status (*totals)(ps_store *s, const ps_store_query *q, ps_store_iter **it, ps_error *err);
    ps_status (*next_total)(ps_store_iter *it, ps_store_total *out, ps_error *err);
    ps_status (*run_codes)(ps_store *s, const char *dataset, const char *run_id, int warnings,
                           struct ps_store_code_count **codes, size_t *n, ps_error *err);
    ps_status (*runs)(ps_store *s, const char *dataset, size_t limit, ps_store_iter **it,
                      ps_error *err);
    ps_status (*next_run)(ps_store_iter *it, ps_store_run *out, ps_error *err);
    void (*iter_free)(ps_store_iter *it);
    ps_status (*stats)(ps_store *s, ps_store_stats **out, size_t *n, ps_error *err);
    /* A cheap integrity check of the whole store (see ps_store_verify). */
    ps_status (*verify)(ps_store *s, ps_error *err);
    /* The source's header between runs (see ps_store_previous_columns,
     * ps_store_record_columns: the writer; ps_store_missing_columns: the reader). */
    ps_status (*previous_columns)(void *writer, char ***prev, size_t *n, ps_error *err);
    ps_status (*record_columns)(void *writer, const char *const *cols, size_t ncols,
                                const char *const *missing, size_t nmissing, ps_error *err);
    ps_status (*missing_columns)(ps_store *s, const char *dataset, const char *run_id,
                                 char ***names, size_t *n, ps_error *err);
    /* The writer, before commit (see ps_store_pending_vanish). */
    ps_status (*pending_vanish)(void *writer, uint64_t *stored, uint64_t *vanishing, ps_error *err);
    /* The writer, before pending_vanish and commit (see ps_store_set_window). */
    void (*set_window)(void *writer, int64_t from_ms, int64_t to_ms);
    /* Leases for many workers (see ps_store_coord_open and the ps_store_lease_* calls);
     * NULL when the backend has none (SQLite: one machine, its runs serialised by the
     * daemon). lease_ms is the sink's lease_timeout option. */
    ps_status (*coord_open)(const char *location, const ps_kv *opts, size_t nopts,
                            const char *worker, ps_store_coord **out, ps_error *err);
    void (*coord_close)(ps_store_coord *c);
    ps_status (*lease_take)(ps_store_coord *c, const char *dataset, ps_store_take_result *out,
                            ps_error *err);
    ps_status (*lease_beat)(ps_store_coord *c, ps_error *err);
    void (*lease_release)(ps_store_coord *c, const char *dataset);
    int64_t (*lease_timeout_ms)(const ps_store_coord *c);
    ps_status (*lease_holder)(ps_store *s, const char *dataset, ps_store_lease *out, ps_error *err);
} ps_store_backend;

/* ---- finding the configured store ------------------------------------------------------ */

/* A configured store: its backend and location (malloc'd). Free with ps_store_ref_free. */
typedef struct ps_store_ref {
    const ps_store_backend *backend;
    char *location;
} ps_store_ref;

/* Number of built-in backends, and backend i (NULL out of range). The plugin registry
 * registers each one's sink (ps_registry_new). */
size_t ps_store_backend_count(void);
const ps_store_backend *ps_store_backend_at(size_t i);

/* The backend whose sink is named plugin; NULL when plugin is not a store. */
const ps_store_backend *ps_store_backend_find(const char *plugin);

/* The store sink s keeps. PS_OK with *out filled; PS_ERR_CONFIG (no message) when s is not a
 * store; PS_ERR_NOMEM. */
ps_status ps_store_locate_sink(const ps_config *cfg, const ps_sink_def *s, ps_store_ref *out,
                               ps_error *err);

/* The store of dataset d: the one kept by its first sink that is a store. PS_OK with *out
 * filled; PS_END when the dataset writes to no store; PS_ERR_NOMEM. */
ps_status ps_store_locate(const ps_config *cfg, const ps_dataset_def *d, ps_store_ref *out,
                          ps_error *err);

/* Frees ref's location and zeroes it. NULL is ignored. */
void ps_store_ref_free(ps_store_ref *ref);

/* 1 when the store at ref exists (a sync created it). */
int ps_store_exists(const ps_store_ref *ref);

/* The store's location as messages and `status` show it (a PostgreSQL connection string
 * without its password). malloc'd; NULL when out of memory. */
char *ps_store_shown(const ps_store_ref *ref);

/* The location whose run state file (store/run_state.h) records the store's run attempts:
 * ref->location for a file store, NULL for a store that keeps none (PostgreSQL). */
const char *ps_store_state_location(const ps_store_ref *ref);

/* ---- leases: many workers on one store (docs/scaling.md) -------------------------------- */

/* Opens worker's connection for the leases of the store kept by sink s (a store whose
 * backend has leases: postgres). PS_END when the backend has none (the daemon then runs
 * alone); PS_ERR_IO naming the store when it cannot be reached; PS_ERR_NOMEM. Close with
 * ps_store_coord_close. */
ps_status ps_store_coord_open(const ps_config *cfg, const ps_sink_def *s, const char *worker,
                              ps_store_coord **out, ps_error *err);
void ps_store_coord_close(ps_store_coord *c);

/* Takes dataset's lease for c's worker when it is free, released, expired (no heartbeat for
 * lease_timeout, server time) or already c's, and no run holds the dataset's writer lock; one
 * statement, so two workers never both take it. Fills *out (taken, else the holder; the
 * start of the dataset's newest successful run either way). Errors: PS_ERR_IO. */
ps_status ps_store_lease_take(ps_store_coord *c, const char *dataset, ps_store_take_result *out,
                              ps_error *err);

/* Renews the heartbeat of every lease c's worker holds. Errors: PS_ERR_IO. */
ps_status ps_store_lease_beat(ps_store_coord *c, ps_error *err);

/* Releases dataset's lease if c's worker holds it (best effort: an unreleased lease expires). */
void ps_store_lease_release(ps_store_coord *c, const char *dataset);

/* The lease_timeout c's leases are taken with (ms). */
int64_t ps_store_lease_timeout_ms(const ps_store_coord *c);

/* Reader: dataset's current lease. PS_OK with *out; PS_END when none is held (or the backend
 * has no leases); PS_ERR_IO. */
ps_status ps_store_lease_holder(ps_store *s, const char *dataset, ps_store_lease *out,
                                ps_error *err);

/* ---- the source's header between runs (the column_missing warning) -------------------- */

/* For a store's writer (an instance of the sink `plugin`) with a dataset open: the header
 * (column names in order) of the dataset's last successful run. *prev is a malloc'd array of
 * malloc'd names (free with ps_store_names_free), empty (NULL, 0) when there is none. PS_END
 * when plugin is not a store; PS_ERR_SINK naming the store when it cannot be read. */
ps_status ps_store_previous_columns(const char *plugin, void *writer, char ***prev, size_t *n,
                                    ps_error *err);

/* Keeps this run's header and the mapped columns of the previous header it lacks (copied);
 * the writer records them with the run at commit. PS_END when plugin is not a store;
 * PS_ERR_NOMEM. */
ps_status ps_store_record_columns(const char *plugin, void *writer, const char *const *cols,
                                  size_t ncols, const char *const *missing, size_t nmissing,
                                  ps_error *err);

/* Reader: the missing columns recorded with run run_id of dataset (column_missing), as
 * above; empty when none or not recorded. Errors: PS_ERR_IO. */
ps_status ps_store_missing_columns(ps_store *s, const char *dataset, const char *run_id,
                                   char ***names, size_t *n, ps_error *err);

/* Frees n names and the array. NULL is ignored. */
void ps_store_names_free(char **names, size_t n);

/* ---- the vanish guard ------------------------------------------------------------------ */

/* For the vanish guard, after the last write_batch of a dataset and before any sink commits:
 * writer is an instance of the sink `plugin` (a store's writer) with a dataset open. Sets
 * *stored to the dataset's payments present before this run and *vanishing to how many of
 * them this run has not written (commit would mark them vanished). Changes nothing. PS_END
 * when plugin is not a store; PS_ERR_SINK naming the store when it cannot be read. */
ps_status ps_store_pending_vanish(const char *plugin, void *writer, uint64_t *stored,
                                  uint64_t *vanishing, ps_error *err);

/* Tells a store's writer (an instance of the sink `plugin` with a dataset open) that this run
 * read only the payments whose TIMESTAMP is in [from_ms, to_ms] (a windowed source,
 * ps_table_info.windowed): pending_vanish counts and commit marks vanished only present
 * payments inside that range; those outside are never touched. Until called, the writer
 * considers the whole dataset. Returns 1 when plugin is a store and took it, 0 otherwise.
 * Cannot fail. */
int ps_store_set_window(const char *plugin, void *writer, int64_t from_ms, int64_t to_ms);

/* ---- reading -------------------------------------------------------------------------- */

/* Opens the store at ref read-only, waiting up to wait_ms for a writer's lock (the CLI uses
 * PS_STORE_WAIT_MS). Errors (PS_ERR_IO naming the location): missing, not a database, not a
 * paysync store, schema older (run a sync to upgrade) or newer than this build; PS_ERR_NOMEM.
 * Caller closes with ps_store_close. */
#define PS_STORE_WAIT_MS 5000
ps_status ps_store_open(const ps_store_ref *ref, int wait_ms, ps_store **out, ps_error *err);

/* Checks that an open store still has the schema this build reads (a pooled handle may
 * outlive a replaced database). Errors as ps_store_open. */
ps_status ps_store_check(ps_store *s, ps_error *err);

/* Checks the store's pages and structure (SQLite: PRAGMA quick_check, reading every page
 * once: 0.7 s for a 136 MB store). Errors: PS_ERR_IO "store '...' is damaged: ..." naming
 * the first problem found; PS_ERR_IO when the store cannot be read. */
ps_status ps_store_verify(ps_store *s, ps_error *err);

/* Closes the store; every iterator must be freed first. NULL is ignored. */
void ps_store_close(ps_store *s);

/* Iterates the datasets by name, each with its last run. Free with ps_store_iter_free. */
ps_status ps_store_datasets(ps_store *s, ps_store_iter **it, ps_error *err);
/* Next dataset: PS_OK, PS_END, or PS_ERR_IO. */
ps_status ps_store_next_dataset(ps_store_iter *it, ps_store_dataset *out, ps_error *err);

/* Iterates the payments matching q ordered by timestamp, then ID, then dataset. The one
 * payment query of paysync: status/export and serve both read through it. */
ps_status ps_store_payments(ps_store *s, const ps_store_query *q, ps_store_iter **it,
                            ps_error *err);
ps_status ps_store_next_payment(ps_store_iter *it, ps_store_payment *out, ps_error *err);

/* Iterates the totals of the payments matching q (the same selection as ps_store_payments),
 * one ps_store_total per UTC day, currency and transaction type, ordered by day, currency,
 * transaction type; counted and summed by the store (a million payments are not read one by
 * one; a backend without its own totals is read through the payment query and summed here).
 * Errors: PS_ERR_IO (also when a sum overflows 64 bits);
 * PS_ERR_NOMEM. Free with ps_store_iter_free. */
ps_status ps_store_totals(ps_store *s, const ps_store_query *q, ps_store_iter **it, ps_error *err);
ps_status ps_store_next_total(ps_store_iter *it, ps_store_total *out, ps_error *err);

/* The problem codes of run run_id of dataset, with their row counts: rejected rows
 * (warnings 0) or rows with warnings (warnings 1), sorted by code; empty for a failed run.
 * *codes is malloc'd (free with ps_store_codes_free). Errors: PS_ERR_IO, PS_ERR_NOMEM. */
ps_status ps_store_run_codes(ps_store *s, const char *dataset, const char *run_id, int warnings,
                             struct ps_store_code_count **codes, size_t *n, ps_error *err);
void ps_store_codes_free(struct ps_store_code_count *codes, size_t n);

/* Iterates the run history of dataset (NULL = all), newest first, at most limit rows
 * (0 = all). */
ps_status ps_store_runs(ps_store *s, const char *dataset, size_t limit, ps_store_iter **it,
                        ps_error *err);
ps_status ps_store_next_run(ps_store_iter *it, ps_store_run *out, ps_error *err);

/* Frees an iterator of any kind. NULL is ignored. */
void ps_store_iter_free(ps_store_iter *it);

/* Reads the run statistics of every dataset with a recorded run, sorted by name. Caller
 * frees with ps_store_stats_free. Errors: PS_ERR_IO / PS_ERR_NOMEM. */
ps_status ps_store_stats_read(ps_store *s, ps_store_stats **out, size_t *n, ps_error *err);
void ps_store_stats_free(ps_store_stats *s, size_t n);

/* ---- for the backends' readers (store.c, pg_reader.c): their rows and the one decoder,
 * so both show the same payments, runs and datasets the same way ---- */

/* The row a reader's query stands on, read through its backend: column c as text (NULL for
 * SQL NULL; valid until the next step) and as an integer (0 for NULL). Columns are read one
 * call each, as the decoder needs them: copying a row's texts and lengths out first, or
 * having SQLite format its integers for the decoder to parse back, costs an export of a large
 * dataset 15-25% more CPU time. */
typedef struct ps_store_row {
    const void *ctx;
    const char *(*text)(const void *ctx, int c);
    int64_t (*i64)(const void *ctx, int c);
} ps_store_row;

/* The run columns, table alias r, in the order ps_store_row_run reads them. */
#define PS_STORE_RUN_COLS                                                                          \
    "r.run_id, r.dataset, r.started, r.finished, r.outcome, r.error, r.started_ms,"                \
    " r.finished_ms, r.read, r.accepted, r.rejected, r.blank, r.duplicates, r.warnings,"           \
    " r.inserted, r.changed, r.unchanged, r.vanished, r.filtered"

/* Writes "SELECT dataset, <fields>, ..." of the payment query (the columns
 * ps_store_row_payment reads; the last seen run of a present payment is its dataset's last
 * successful run) into buf. Returns the length (as snprintf). */
size_t ps_store_payment_select(char *buf, size_t cap);

/* Text as an integer, for a backend that hands integers as text (as strtoll, but no errno;
 * 0 for NULL or no digits). */
int64_t ps_store_text_i64(const char *text);

/* Fills out from PS_STORE_RUN_COLS starting at column c; strings point into the row. */
void ps_store_row_run(const ps_store_row *row, int c, ps_store_run *out);

/* Fills out from a dataset row: name, present and vanished payments, the finish time of the
 * last successful run, whether there is a last run (a boolean: 1/0 or t/f), then that run's
 * PS_STORE_RUN_COLS. */
void ps_store_row_dataset(const ps_store_row *row, ps_store_dataset *out);

/* Fills out from a row of ps_store_payment_select's columns. */
void ps_store_row_payment(const ps_store_row *row, ps_store_payment *out);

#endif

/* paysync core: runs datasets provider -> mapper/validator -> sinks in batches. */
#ifndef PS_PIPELINE_H
#define PS_PIPELINE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "engine/mapping.h"
#include "engine/onboard.h"
#include "engine/rowcheck.h"
#include "engine/valuecount.h"
#include "engine/vanish_guard.h"
#include "model/validate.h"
#include "paysync/plugin.h"
#include "plugin/loader.h"

typedef struct ps_code_count {
    const char *code; /* static */
    uint64_t count;
} ps_code_count;

#define PS_MAX_CODES 32

#define PS_STATUS_VIA_EXTRACT " via mapping.extract"

typedef struct ps_dataset_result {
    char name[128];
    char run_id[64];
    int ran; /* 0 when the dataset was not selected/run */
    int ok;  /* 1 committed, 0 failed */
    int store_committed; /* failed, but only in a sink committing after the store, which
                          * (and the sinks before it) committed the run */
    ps_status status;
    char error[1024];      /* when failed */
    char error_code[32];   /* machine code of the failure when it has one ("vanish_guard") */
    ps_vanish_guard guard; /* the vanish guard's counts and outcome */
    /* read = accepted + rejected + blank + duplicates + filtered (checked at the end of every
     * dataset run: a run whose counts do not add up fails with PS_ERR_INTERNAL) */
    uint64_t read, accepted, rejected, blank, duplicates, warnings, filtered;
    char **filter_desc;       /* [nfilters] "column 'Status' equals 'success'" (malloc'd) */
    uint64_t *filtered_by;    /* [nfilters] rows dropped by each filter (the first that failed) */
    uint64_t filtered_source; /* of filtered: items the provider left out (ps_row_batch) */
    size_t nfilters;
    char status_column[128];       /* column mapped to STATUS ("" when none; PS_STATUS_VIA_EXTRACT
                                      appended when an extract rule fills STATUS from it) */
    ps_value_counts status_values; /* its distinct values over the rows read (not blank) */
    char txtype_column[128];       /* column mapped to TRANSACTION_TYPE ("" when none) */
    ps_value_counts txtype_values; /* its values, counted like STATUS's (validate shows them) */
    ps_code_count rejected_by_code[PS_MAX_CODES];
    ps_code_count warnings_by_code[PS_MAX_CODES];
    ps_change_counts changes;
    /* verify_meters: IDs in the meter list, accepted-or-rejected payments whose METER_ID is
     * not in it, and how many of those nearly match a listed ID */
    int meters_checked;
    uint64_t meters_listed, meters_unknown, meters_near;
    char **unknown_columns;
    size_t nunknown;
    /* unnamed_column warnings: columns without a header holding values (one per column) */
    ps_unnamed_col unnamed[PS_UNNAMED_MAX];
    char *unnamed_message[PS_UNNAMED_MAX]; /* malloc'd */
    size_t nunnamed;
    /* column_missing: mapped columns of the last successful run's header that this run's
     * source lacks (malloc'd names), and the field each mapped to. */
    char **missing_columns;
    int *missing_fields;
    size_t nmissing;
    int64_t started_ms, finished_ms;
    int64_t elapsed_ms; /* monotonic */
} ps_dataset_result;

typedef struct ps_run_result {
    ps_dataset_result *datasets;
    size_t count;
} ps_run_result;

/* Called for each rejected or warned row (e.g. `paysync validate`). field_col[f] is the
 * 0-based column of the source holding field f or -1 (NULL when the row's cells are not a
 * table's columns: a record-shaped source, or a warning about a whole column). */
typedef void (*ps_problem_fn)(void *ctx, const char *dataset, uint64_t row,
                              const ps_problem *problems, int n, int is_warning,
                              const int *field_col);

typedef struct ps_run_options {
    char *const *only; /* dataset names to run; NULL/0 = all */
    size_t nonly;
    int dry_run;  /* read and validate only: no sink, no rejects file */
    int progress; /* progress line on a terminal */
    ps_problem_fn on_problem;
    void *on_problem_ctx;
    size_t batch_rows; /* 0 = default (2048) */
    /* When non-NULL and set (e.g. by a SIGTERM handler), the running dataset stops after the
     * current batch and rolls back ("interrupted"); later datasets are not started. */
    volatile sig_atomic_t *stop;
    int allow_vanish; /* --allow-vanish: a run over its max_vanished commits anyway */
} ps_run_options;

/* Validates every selected dataset's plugins and options, creates the instances, then runs
 * each dataset. Returns PS_OK when every dataset committed; PS_ERR_DATA (or the first
 * failure's status) when a dataset failed - res says which, and their state did not advance;
 * PS_ERR_CONFIG / PS_ERR_PLUGIN before anything ran (res empty). Caller frees res. */
ps_status ps_run(const ps_config *cfg, ps_registry *reg, const ps_run_options *opt,
                 ps_run_result *res, ps_error *err);

/* Like ps_run up to instance creation, then calls each plugin's check. */
ps_status ps_check(const ps_config *cfg, ps_registry *reg, char *const *only, size_t nonly,
                   ps_error *err);

void ps_run_result_free(ps_run_result *res);

/* Prints the per-dataset summary (human text). */
void ps_run_print_summary(const ps_run_result *res, FILE *out);

/* Writes the JSON report. Errors: PS_ERR_IO naming the path. */
ps_status ps_run_write_report(const ps_run_result *res, const char *path, ps_error *err);

/* ---- discovery (paysync discover) ----------------------------------------------------- */

typedef struct ps_discovery {
    ps_table_info info;
    ps_mapping map; /* may be partial: map_error says why it failed */
    char map_error[1024];
    int map_ok;
    char **sample_json; /* up to 5 normalised rows as JSON text (or the reject reasons) */
    size_t nsample;
    /* The STATUS column's values (see ps_dataset_result) over the first status_rows rows read
     * (at most PS_DISCOVER_STATUS_ROWS; status_complete = 1 when that was the whole source). */
    char status_column[128];
    unsigned char extracted[PS_FIELD_COUNT]; /* fields the dataset's extract rules fill */
    ps_value_counts status_values;
    uint64_t status_rows;
    int status_complete;
    /* The same for the TRANSACTION_TYPE column (counted with STATUS, over the same rows). */
    char txtype_column[128];
    ps_value_counts txtype_values;
    /* 1 when the values were counted from the raw cells of the columns the incomplete mapping
     * (or its suggestions) gives STATUS and TRANSACTION_TYPE, without extract or filters. */
    int values_raw;
    /* Tabular sources: the required fields nothing fills and the columns that look like them
     * (engine/onboard.h); nmissing 0 when the mapping is complete. */
    ps_onboard onboard;
    ps_unnamed *unnamed; /* values under columns without a header in the rows read, or NULL */
    void *priv;          /* owned storage (header strings) */
} ps_discovery;

#define PS_DISCOVER_STATUS_ROWS 100000

/* Opens the dataset's source, maps its header and normalises up to 5 rows (after the
 * dataset's extract rules and filters: a filtered row is shown as such), then counts the
 * STATUS column's values over up to PS_DISCOVER_STATUS_ROWS rows. Nothing is written. Caller
 * frees with ps_discovery_free. */
ps_status ps_discover(const ps_config *cfg, ps_registry *reg, const char *dataset,
                      ps_discovery *out, ps_error *err);
void ps_discovery_free(ps_discovery *d);

#endif

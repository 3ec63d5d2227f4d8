/* paysync CLI: what the store remembers of a dataset (for run --due, status and daemon). */
#ifndef PS_CLI_DS_STATE_H
#define PS_CLI_DS_STATE_H

#include <stdint.h>

#include "config/config.h"
#include "config/schedule.h"
#include "store/store.h"

/* Copy of a ps_store_run (owned). */
typedef struct cli_run_info {
    char run_id[64];
    char started[32], finished[32];
    char outcome[16];
    char *error; /* malloc'd, NULL when none */
    int64_t started_ms, finished_ms;
    uint64_t read, accepted, rejected, blank, duplicates, warnings, filtered;
    int has_changes;
    uint64_t inserted, changed, unchanged, vanished;
    int unrecorded; /* from the run state file: the store does not know this run */
    char **missing; /* column_missing: columns of the previous run's header gone (owned) */
    size_t nmissing;
} cli_run_info;

typedef struct cli_ds_state {
    char *store_path;  /* state store's location (ps_store_locate), malloc'd; NULL when none */
    char *store_shown; /* the location as shown (ps_store_shown), malloc'd; NULL when none */
    int state_file;    /* the store keeps a run state file (ps_store_state_location) */
    int store_missing; /* the file does not exist yet (never run) */
    int store_failed;  /* the store could not be read: message in error */
    char error[1024];
    int has_last; /* last: the newest run of any outcome */
    cli_run_info last;
    int has_last_ok; /* the newest successful run's start */
    int64_t last_ok_started_ms;
    char last_ok_started[32];
    uint64_t payments, vanished_payments;
    int has_lease; /* a worker holds the dataset's lease (a store with leases: postgres) */
    ps_store_lease lease;
} cli_ds_state;

/* Dataset d's state store (ps_store_locate): 0 with *ref filled (free with
 * ps_store_ref_free); -1 when the dataset writes to no store (or out of memory). */
int cli_state_store(const ps_config *cfg, const ps_dataset_def *d, ps_store_ref *ref);

/* The location of that store (a file path for SQLite), malloc'd; NULL when none. */
char *cli_state_path(const ps_config *cfg, const ps_dataset_def *d);

/* Fills st from the dataset's store. Never fails: store problems set store_failed/error (a
 * missing file sets store_missing). Free with cli_ds_state_free. */
void cli_ds_state_load(const ps_config *cfg, const ps_dataset_def *d, cli_ds_state *st);
void cli_ds_state_free(cli_ds_state *st);

/* Parses the dataset's schedule (already validated); 0 when it has one, -1 otherwise. */
int cli_dataset_schedule(const ps_config *cfg, const ps_dataset_def *d, ps_schedule *out);

/* Checks every schedule of cfg; prints the error and returns PS_EXIT_USAGE, else 0. */
int cli_check_schedules(const ps_config *cfg);

#endif

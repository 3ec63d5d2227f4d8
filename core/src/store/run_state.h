/* paysync store: the run state file beside a store (docs/reliability.md "Health tells the
 * truth"). A run writes its attempt of each dataset there (run ID, start, pid and the pid's
 * start time, outcome) before it touches the store and again when it ends, so that a run the
 * store never heard of (the store locked or unwritable at run start, a failure that could not
 * be recorded, a run killed before its start marker) still shows in `status`, `/healthz` and
 * `/metrics`. The file is "<store location>.state", JSON, written only through util/outfile.c
 * (exclusive temp file beside it, fsync, rename) under an flock of its folder. */
#ifndef PS_STORE_RUN_STATE_H
#define PS_STORE_RUN_STATE_H

#include <stdint.h>

#include "paysync/status.h"
#include "store/store.h"

/* One dataset's last attempt. */
typedef struct ps_run_attempt {
    char run_id[64];
    int64_t started_ms, finished_ms; /* finished_ms 0 while running */
    long pid;
    unsigned long long pid_start; /* util/proc.h; 0 when unknown */
    char outcome[16];             /* "running", "ok" or "failed" */
    char error[1024];             /* the failure's message */
} ps_run_attempt;

/* What an attempt means next to the store's newest run of its dataset. */
typedef enum ps_attempt_verdict {
    PS_ATTEMPT_KNOWN = 0,  /* the store has it (or a newer run), it succeeded, or it is
                              still running: the store tells the truth */
    PS_ATTEMPT_FAILED,     /* failed and the store does not know it */
    PS_ATTEMPT_INTERRUPTED /* started, never ended, its process is gone, the store has no
                              trace of it */
} ps_attempt_verdict;

/* The state file of the store at location (malloc'd; NULL when out of memory). */
char *ps_run_state_path(const char *location);

/* Records a (replacing the dataset's previous attempt). Best effort for the caller: a run never
 * fails because of its state file, it logs the error. Errors: PS_ERR_SINK naming the file. */
ps_status ps_run_state_record(const char *location, const char *dataset, const ps_run_attempt *a,
                              ps_error *err);

/* The dataset's last attempt: PS_OK, PS_END when none (no file, or no entry), PS_ERR_IO when
 * the file cannot be read or is not a state file. */
ps_status ps_run_state_read(const char *location, const char *dataset, ps_run_attempt *out,
                            ps_error *err);

/* Judges a against the store's newest run of the dataset (store_has_run 0 when none;
 * store_started_ms its start). */
ps_attempt_verdict ps_run_state_verdict(const ps_run_attempt *a, int store_has_run,
                                        int64_t store_started_ms);

/* For /healthz and /metrics (location NULL: nothing to apply): applies every dataset's unrecorded
 * failed or interrupted attempt to the store's statistics (runs_failed + 1, last_run_ok 0,
 * last_run_ms its start), adding an entry for a dataset the store has no run of. *stats may be
 * reallocated. Unreadable state files are ignored (the store's own figures stay). */
void ps_run_state_apply(const char *location, ps_store_stats **stats, size_t *n);

#endif

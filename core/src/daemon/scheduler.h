/* paysync core: the daemon's decisions (docs/operations.md "Daemon"), free of processes,
 * signals and clocks so that unit tests drive them through days of fake time.
 *
 * The scheduler keeps one entry per dataset: its schedule, the start of its last successful
 * run (the anchor), its consecutive failures and, while a run is going, the caller's handle
 * for it (the daemon uses the child's pid). It answers: which dataset starts now (due, a job
 * slot free, its store not in use by another run, the longest-waiting first), when to retry
 * after a failure (base delay doubling up to a cap), when a run has outlived --run-timeout
 * (TERM) and then --kill-after (KILL), and how long the caller may sleep.
 *
 * Time is always passed in (ps_sched_time): `wall_ms` (ms since the epoch, UTC) for schedules
 * and retries, `mono_ms` (a monotonic clock) for run timeouts, so a wall-clock jump neither
 * cuts a run short nor extends it. No function reads a clock, sleeps or logs. Not
 * thread-safe; entry pointers stay valid until ps_scheduler_set or ps_scheduler_compact. */
#ifndef PS_SCHEDULER_H
#define PS_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "config/schedule.h"

/* Options of `paysync daemon` (all milliseconds). */
typedef struct ps_sched_policy {
    int64_t retry_base_ms;  /* first retry delay after a failure (> 0) */
    int64_t retry_max_ms;   /* longest retry delay (raised to retry_base_ms when smaller) */
    int64_t run_timeout_ms; /* a run going this long gets TERM; 0 = no limit */
    int64_t kill_after_ms;  /* a run still going this long after its TERM gets KILL */
    int jobs;               /* most runs at the same time (>= 1) */
    int64_t max_sleep_ms;   /* longest single wait (the daemon uses 60000) */
} ps_sched_policy;

/* The daemon's defaults: retry 30s doubling to 1h, run timeout 2h, kill after 30s, 4 jobs,
 * sleep at most 60s. */
ps_sched_policy ps_sched_policy_default(void);

/* Now, as both clocks read it. */
typedef struct ps_sched_time {
    int64_t wall_ms;
    int64_t mono_ms;
} ps_sched_time;

typedef struct ps_sched_entry {
    char *name;  /* dataset name (owned) */
    char *store; /* runs sharing a store never overlap; NULL = none (owned) */
    int scheduled;
    ps_schedule sched; /* valid when scheduled */
    int has_anchor;
    int64_t anchor_ms; /* wall start of the last successful run */
    long handle;       /* the caller's id of the running run (a pid); 0 = idle */
    int64_t started_ms, started_mono;
    int termed; /* TERM decided (the run timed out), at term_mono */
    int64_t term_mono;
    int killed;         /* KILL decided */
    int failures;       /* consecutive failed runs (or failed starts) */
    int64_t retry_at;   /* wall time of the next try while failures > 0 */
    int removed;        /* left the config while running: dropped when its run ends */
    int64_t not_before; /* wall time before which it does not start (ps_scheduler_defer) */
} ps_sched_entry;

typedef struct ps_scheduler {
    ps_sched_policy policy;
    ps_sched_entry *entries; /* in config order */
    size_t n;
    int running; /* entries with a handle */
} ps_scheduler;

/* A dataset as the config (and, for a new one, the store) describes it. */
typedef struct ps_sched_def {
    const char *name;
    const char *store;         /* NULL = none */
    const ps_schedule *sched;  /* NULL = no schedule: never started */
    const int64_t *last_ok_ms; /* start of its last successful run; NULL = never ran */
} ps_sched_def;

/* Initialises s with policy p (copied; retry_max_ms raised to retry_base_ms, jobs and
 * max_sleep_ms at least 1). Free with ps_scheduler_free. */
void ps_scheduler_init(ps_scheduler *s, const ps_sched_policy *p);
void ps_scheduler_free(ps_scheduler *s);

/* Replaces the dataset list with defs[0..n) (a start or a config reload). A dataset already
 * known keeps its state (anchor, failures, a running run) and its def's last_ok_ms is ignored;
 * a new one starts from last_ok_ms. Known datasets missing from defs are kept, marked
 * removed, while their run goes on, and dropped otherwise. Returns 0, or -1 when out of
 * memory (s unchanged). */
int ps_scheduler_set(ps_scheduler *s, const ps_sched_def *defs, size_t n);

/* The entry of dataset name (removed ones included), or NULL. */
ps_sched_entry *ps_scheduler_find(ps_scheduler *s, const char *name);

/* The entry whose run is `handle`, or NULL. */
ps_sched_entry *ps_scheduler_by_handle(ps_scheduler *s, long handle);

/* Retry delay after `failures` consecutive failures (>= 1): retry_base_ms * 2^(failures-1),
 * at most retry_max_ms. */
int64_t ps_sched_backoff_ms(const ps_sched_policy *p, int failures);

/* When e should next start (wall ms; may lie in the past: overdue): now for a scheduled
 * dataset that never ran, its retry time after a failure, else the first slot after its
 * anchor; not before its not_before. INT64_MAX when it never starts (no schedule, running,
 * removed). */
int64_t ps_sched_next_start(const ps_sched_entry *e, int64_t now_wall_ms);

/* The entry to start now: due (next start <= now), a job slot free, and no run going on its
 * store; the earliest next start first, config order between equals. NULL when none. Call
 * again after each ps_scheduler_started/start_failed until NULL. */
ps_sched_entry *ps_scheduler_pick(const ps_scheduler *s, ps_sched_time now);

/* e does not start before wall time until (another worker holds its lease: the daemon asks
 * again then); cleared when its run starts. */
void ps_scheduler_defer(ps_sched_entry *e, int64_t until_wall_ms);

/* The store knows a later successful run of e (another worker's) started at anchor_ms: e's
 * anchor moves there (never back), its failures are cleared. */
void ps_scheduler_anchor(ps_sched_entry *e, int64_t anchor_ms);

/* The caller started e's run, identified by handle (!= 0). */
void ps_scheduler_started(ps_scheduler *s, ps_sched_entry *e, long handle, ps_sched_time now);

/* The run could not be started: counts as a failure. Returns the retry delay. */
int64_t ps_scheduler_start_failed(ps_scheduler *s, ps_sched_entry *e, ps_sched_time now);

/* e's run ended (ok != 0: success). Success sets the anchor to the run's start and clears the
 * failures; a failure counts and schedules the retry. Returns the retry delay (0 after a
 * success). Removed entries stay until ps_scheduler_compact. */
int64_t ps_scheduler_finished(ps_scheduler *s, ps_sched_entry *e, int ok, ps_sched_time now);

/* Drops removed entries whose run has ended (entry pointers move). */
void ps_scheduler_compact(ps_scheduler *s);

typedef enum ps_sched_action {
    PS_SCHED_NONE = 0,
    PS_SCHED_TERM, /* the run passed run_timeout_ms: ask it to stop */
    PS_SCHED_KILL  /* kill_after_ms passed since the TERM: kill it */
} ps_sched_action;

/* The next timeout action due at now.mono_ms and its entry (*out), recording it (a run gets
 * each action once); PS_SCHED_NONE when nothing is due. Call until PS_SCHED_NONE. */
ps_sched_action ps_scheduler_timeout(ps_scheduler *s, ps_sched_time now, ps_sched_entry **out);

/* Monotonic time of e's next timeout action; INT64_MAX when none (idle, no limit, killed). */
int64_t ps_sched_deadline(const ps_sched_policy *p, const ps_sched_entry *e);

/* How long the caller may sleep (ms, 0..max_sleep_ms) before a dataset falls due or a run
 * reaches a timeout; a due dataset that waits for a job slot or its store does not count (a
 * run's end wakes the caller). While stopping only timeouts count, and -1 means wait for a
 * run's end with no limit. */
int64_t ps_scheduler_wait_ms(const ps_scheduler *s, ps_sched_time now, int stopping);

#endif

/* paysync core: dataset schedules (`schedule:` key, docs/operations.md "Schedules").
 *
 * Forms (config.h flattens them to key/values, first entry {kind: ...}):
 *   daily                      every day at 00:00 UTC
 *   {daily: {at: "02:00", jitter: 10m}}   (also {daily: "02:00"})
 *   hourly                     every hour at minute 0; {hourly: {at: ":15", jitter: 5m}}
 *   {every: 6h}                6 hours after the previous run started (units s, m, h, d;
 *                              combinations such as 1h30m)
 *   "0 2 * * 1-5"              5-field cron (minute hour day-of-month month day-of-week) with
 *                              *, lists, ranges, steps and names; when both day fields are
 *                              restricted a day matches either (as in cron). Also
 *                              {cron: "...", jitter: 5m} and @hourly @daily @weekly @monthly
 *                              @yearly.
 * Times are UTC. Jitter delays each slot by a fixed offset in [0, jitter) derived from the
 * dataset name, so every process (daemon, `run --due`, `status`) computes the same times.
 * Never uses libc time functions. Times are milliseconds since the epoch, UTC. */
#ifndef PS_SCHEDULE_H
#define PS_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "config/kv.h"
#include "paysync/status.h"
#include "util/duration.h" /* ps_duration_parse/format, for schedule users */

typedef enum ps_sched_kind {
    PS_SCHED_DAILY = 0,
    PS_SCHED_HOURLY,
    PS_SCHED_EVERY,
    PS_SCHED_CRON
} ps_sched_kind;

typedef struct ps_schedule {
    ps_sched_kind kind;
    int64_t every_ms;  /* PS_SCHED_EVERY: interval */
    int64_t jitter_ms; /* configured maximum jitter (0 = none) */
    int64_t offset_ms; /* this dataset's fixed delay in [0, jitter_ms) */
    /* Calendar forms (daily and hourly are stored as cron sets too). */
    uint64_t minutes;         /* bit m: minute m (0-59) */
    uint32_t hours;           /* bit h (0-23) */
    uint32_t mdays;           /* bit d (1-31) */
    uint16_t months;          /* bit m (1-12) */
    uint8_t wdays;            /* bit d (0 = Sunday .. 6) */
    int mday_star, wday_star; /* the field began with '*' (cron's day OR rule) */
    char text[128];           /* human description, e.g. "daily at 02:00 UTC" */
} ps_schedule;

/* Parses a dataset's flattened schedule (kv, n as in ps_dataset_def; n must be > 0).
 * `dataset` seeds the jitter offset. Errors (PS_ERR_CONFIG) read
 * "FILE:LINE:COL: PATH: message" naming the offending entry; file NULL leaves out "FILE:",
 * path NULL reads "schedule". */
ps_status ps_schedule_parse(const ps_kv *kv, size_t n, const char *dataset, const char *file,
                            const char *path, ps_schedule *out, ps_error *err);

/* The first slot strictly after after_ms (calendar forms, jitter included), or
 * after_ms + every_ms. INT64_MAX when a cron expression has no slot within ten years. */
int64_t ps_schedule_next_slot(const ps_schedule *s, int64_t after_ms);

/* When the dataset is next due: now_ms when it never ran (last_start_ms NULL), else the first
 * slot after the last run's start (which may lie in the past: then it is overdue). */
int64_t ps_schedule_next_due(const ps_schedule *s, const int64_t *last_start_ms, int64_t now_ms);

/* 1 when the dataset is due at now_ms: ps_schedule_next_due(...) <= now_ms. */
int ps_schedule_due(const ps_schedule *s, const int64_t *last_start_ms, int64_t now_ms);

#endif

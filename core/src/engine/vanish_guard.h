/* paysync core: the vanish guard (docs/configuration.md `max_vanished`, docs/data-model.md
 * `vanish_guard`): a run that would mark more of a dataset's stored payments vanished than its
 * limit allows fails before any sink commits. The decision only; pipeline.c asks the store. */
#ifndef PS_VANISH_GUARD_H
#define PS_VANISH_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "config/vanish_limit.h"

typedef enum ps_guard_outcome {
    PS_GUARD_NOT_CHECKED = 0, /* no store, dry run, or the run failed before */
    PS_GUARD_PASSED,          /* within the limit */
    PS_GUARD_ALLOWED,         /* over the limit (or an empty source), let through by
                                 --allow-vanish or max_vanished: unlimited */
    PS_GUARD_TRIPPED          /* the run failed with vanish_guard */
} ps_guard_outcome;

typedef struct ps_vanish_guard {
    ps_guard_outcome outcome;
    uint64_t stored;    /* present payments before the run */
    uint64_t vanishing; /* how many the run would mark vanished */
    uint64_t limit;     /* UINT64_MAX when unlimited */
    int empty_source;   /* the source had a header but no data row */
    /* A windowed source (ps_table_info.windowed): stored and vanishing count only payments
     * whose TIMESTAMP is in [window_from_ms, window_to_ms]. Set by the caller before
     * deciding; 0 = the whole dataset. */
    int windowed;
    int64_t window_from_ms, window_to_ms;
} ps_vanish_guard;

/* The error code of a tripped guard (report.json error_code, start of the message). */
#define PS_VANISH_GUARD_CODE "vanish_guard"

/* Decides, fills g and returns g->outcome. When tripped, msg (>= 512 bytes useful) receives
 * the message starting "vanish_guard: " with the counts, the limit and how to allow it.
 * allow: --allow-vanish was given. empty_source: no non-blank row was read. */
ps_guard_outcome ps_vanish_guard_decide(ps_vanish_guard *g, const ps_vanish_limit *limit, int allow,
                                        uint64_t stored, uint64_t vanishing, int empty_source,
                                        char *msg, size_t msglen);

/* A window bound as text into buf (cap >= 32): "2024-03-05T00:00:00.000Z", "the start"
 * for INT64_MIN, "the end" for INT64_MAX. Returns buf. */
const char *ps_vanish_window_text(int64_t ms, char *buf, size_t cap);

/* "passed", "allowed", "tripped" or "not_checked". */
const char *ps_vanish_guard_outcome_name(ps_guard_outcome o);

#endif

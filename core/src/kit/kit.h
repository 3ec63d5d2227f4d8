/* paysync core: the plugin conformance kit (`paysync test-plugin`, the SDK's test host).
 *
 * Runs a battery of checks on one loaded plugin: descriptor and option table, create/destroy
 * cycles, the provider read contract (no PS_OK without rows, every cell well-formed UTF-8 with
 * the right length, rows numbered upwards), the error path with a missing source, the cursor
 * round trip, two reads giving identical rows, and for sinks that an aborted write leaves
 * nothing visible and that a committed one is repeatable. Each check runs in a child process
 * with a time limit, so a crash or a hang is reported as that check's failure instead of
 * taking the kit down. */
#ifndef PS_KIT_H
#define PS_KIT_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"
#include "paysync/plugin.h"

typedef enum ps_kit_outcome { PS_KIT_PASS = 0, PS_KIT_FAIL = 1, PS_KIT_SKIP = 2 } ps_kit_outcome;

typedef struct ps_kit_result {
    char check[40];
    ps_kit_outcome outcome;
    char detail[400];
} ps_kit_result;

#define PS_KIT_MAX_RESULTS 32

typedef struct ps_kit_report {
    ps_kit_result results[PS_KIT_MAX_RESULTS];
    size_t n;
    size_t passed, failed, skipped;
} ps_kit_report;

typedef struct ps_kit_options {
    /* The plugin's options as config key/values (may be NULL/0: defaults only). */
    const ps_kv *opts;
    size_t nopts;
    const char *cfg_file; /* for messages; may be NULL */
    const char *cfg_dir;  /* relative paths resolve against it; NULL = current folder */
    const char *dataset;  /* dataset name passed to open; NULL = "kit" */
    unsigned timeout_s;   /* per check; 0 = 60 */
    size_t batch_rows;    /* suggested rows per batch; 0 = 100 (several batches per read) */
} ps_kit_options;

/* Runs every check on d (already loaded and descriptor-checked by the caller, whose result
 * the caller may add as the first row with ps_kit_add). Never fails as a whole: problems are
 * rows of rep. */
void ps_kit_run(const ps_plugin_descriptor *d, const ps_kit_options *o, ps_kit_report *rep);

/* Appends a row (printf-style detail). Ignored past PS_KIT_MAX_RESULTS. */
void ps_kit_add(ps_kit_report *rep, const char *check, ps_kit_outcome outcome, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Prints the report as an aligned table followed by "N passed, N failed, N skipped". */
void ps_kit_print(const ps_kit_report *rep, FILE *out);

#endif

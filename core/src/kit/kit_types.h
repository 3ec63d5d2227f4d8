/* paysync core: the conformance kit's result and option types, shared by its API (kit.h)
 * and its checks (kit_checks.h), so that neither header needs the other's file. */
#ifndef PS_KIT_TYPES_H
#define PS_KIT_TYPES_H

#include <stddef.h>

#include "config/kv.h"

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

#endif

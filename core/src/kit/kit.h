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

#include "kit/kit_types.h"
#include "paysync/plugin.h"

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

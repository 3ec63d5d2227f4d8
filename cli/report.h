/* paysync CLI: the HTML report of `paysync report` and `run --html` (docs/report.md). */
#ifndef PS_CLI_REPORT_H
#define PS_CLI_REPORT_H

#include <stddef.h>

#include "config/config.h"

/* Writes one self-contained HTML file (inline CSS and SVG, no script, nothing fetched) to
 * output ("-" = standard output) through the one file writer (util/outfile.h) for the datasets
 * named (all of cfg's when n is 0; every name must be one of cfg's datasets), over the
 * TIMESTAMP window from/to (ISO 8601 texts, NULL = open; see cli_parse_window). Every figure
 * comes from each dataset's store (ps_store_totals, ps_store_runs, ps_store_run_codes, the
 * payment query) and from its rejects file. cmd prefixes error messages ("report").
 * Returns the exit code: 0 written; 1 a store or rejects file could not be read or the file
 * not written (nothing is left at output then); 2 a bad window. */
int cli_report_write(const ps_config *cfg, const char *const *names, size_t n, const char *from,
                     const char *to, const char *output, const char *cmd);

#endif

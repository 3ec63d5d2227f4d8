/* paysync CLI: the sections of the HTML report (report.c writes the page around them). Each
 * writes HTML to f from the open store s; returns 0, or -1 after setting msg (a store that
 * cannot be read, a sum past 64 bits, out of memory). */
#ifndef PS_CLI_REPORT_PARTS_H
#define PS_CLI_REPORT_PARTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "store/store.h"

/* Days shown at most: a window given with --from longer than this is refused; without
 * --from the window starts REPORT_DEFAULT_DAYS before the last day with payments. */
#define REPORT_MAX_DAYS 3660
#define REPORT_DEFAULT_DAYS 366

/* The dataset's payments in q's window (q->datasets names it), after a line naming the store
 * at location (with its number of payments when the window is open): payments and amount per UTC
 * day by currency with the days without payments marked, and counts and amounts by
 * transaction type. explicit_from: the window's start was given (else it is the first day
 * with payments, at most REPORT_DEFAULT_DAYS before the last). -2 (msg set) when the window
 * has more than REPORT_MAX_DAYS days. */
int report_payments(FILE *f, ps_store *s, const char *location, const ps_store_query *q,
                    int explicit_from, size_t index, char *msg, size_t cap);

/* The last runs with their outcome and counts, then for the last successful run: rejected
 * rows by code (store) and by column with the first rejected rows (the rejects file),
 * warnings by code, unknown_meter counts (when verify_meters is set), and the payments it
 * marked vanished or found changed. */
int report_runs(FILE *f, ps_store *s, const ps_dataset_def *d, char *msg, size_t cap);

#endif

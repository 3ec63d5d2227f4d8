/* paysync store: the readers' rows in a form neither backend owns, and their one decoder.
 * Each reader (store.c for SQLite, pg_reader.c for PostgreSQL) runs the queries below, puts
 * the columns of each row it steps to in a ps_store_row and decodes it here, so both show the
 * same payments, runs and datasets the same way. Private to core/src/store. */
#ifndef PS_STORE_ROWS_H
#define PS_STORE_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The row a reader's query stands on, read through its backend: column c as text (NULL for
 * SQL NULL; valid until the next step) and as an integer (0 for NULL). Columns are read one
 * call each, as the decoder needs them: copying a row's texts and lengths out first, or
 * having SQLite format its integers for the decoder to parse back, costs an export of a large
 * dataset 15-25% more CPU time. */
typedef struct ps_store_row {
    const void *ctx;
    const char *(*text)(const void *ctx, int c);
    int64_t (*i64)(const void *ctx, int c);
} ps_store_row;

/* The run columns, table alias r, in the order ps_store_row_run reads them. */
#define PS_STORE_RUN_COLS                                                                          \
    "r.run_id, r.dataset, r.started, r.finished, r.outcome, r.error, r.started_ms,"                \
    " r.finished_ms, r.read, r.accepted, r.rejected, r.blank, r.duplicates, r.warnings,"           \
    " r.inserted, r.changed, r.unchanged, r.vanished, r.filtered"

/* Writes "SELECT dataset, <fields>, ..." of the payment query (the columns
 * ps_store_row_payment reads; the last seen run of a present payment is its dataset's last
 * successful run) into buf. Returns the length (as snprintf). */
size_t ps_store_payment_select(char *buf, size_t cap);

/* Text as an integer, for a backend that hands integers as text (as strtoll, but no errno;
 * 0 for NULL or no digits). */
int64_t ps_store_text_i64(const char *text);

/* Fills out from PS_STORE_RUN_COLS starting at column c; strings point into the row. */
void ps_store_row_run(const ps_store_row *row, int c, ps_store_run *out);

/* Fills out from a dataset row: name, present and vanished payments, the finish time of the
 * last successful run, whether there is a last run (a boolean: 1/0 or t/f), then that run's
 * PS_STORE_RUN_COLS. */
void ps_store_row_dataset(const ps_store_row *row, ps_store_dataset *out);

/* Fills out from a row of ps_store_payment_select's columns. */
void ps_store_row_payment(const ps_store_row *row, ps_store_payment *out);

#endif

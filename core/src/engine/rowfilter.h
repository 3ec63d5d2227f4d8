/* paysync core: a dataset's mapping.extract and mapping.filters, applied to each non-blank row
 * before validation (docs/configuration.md "Filters and extraction"). Regular expressions are
 * compiled once per dataset run and matched under PCRE2 limits (util/regex.h). */
#ifndef PS_ROWFILTER_H
#define PS_ROWFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "model/validate.h"
#include "paysync/plugin.h"
#include "util/arena.h"

typedef struct ps_rowfilter ps_rowfilter;

/* Compiles d's filters and extract rules. *out is NULL when d has none. Errors:
 * PS_ERR_CONFIG "FILE:LINE:COL: datasets[NAME].mapping...: ..." (a pattern that does not
 * compile), PS_ERR_NOMEM. cfg_path and d must outlive the filter. Free with ps_rowfilter_free. */
ps_status ps_rowfilter_new(const char *cfg_path, const ps_dataset_def *d, ps_rowfilter **out,
                           ps_error *err);
void ps_rowfilter_free(ps_rowfilter *rf);

/* flags[f] = 1 for every field an extract rule fills (for the mapper: such a required field
 * needs no column). */
void ps_rowfilter_extracted(const ps_rowfilter *rf, unsigned char flags[PS_FIELD_COUNT]);

/* Binds rule columns to a tabular source's header. field_col: the mapper's column of each
 * field; defaults[f]: the dataset's default or NULL. Errors (PS_ERR_CONFIG, located at the
 * rule in the config file): a column not in the header (with the closest header as
 * suggestion), a filter on a field with no column, extract rule or default, an extracted field
 * that a column also maps to. */
ps_status ps_rowfilter_bind(ps_rowfilter *rf, const ps_cell *header, size_t ncols,
                            const int *field_col, const char *const *defaults, ps_error *err);

/* The column of the extract rule that fills field f, or NULL. */
const char *ps_rowfilter_field_column(const ps_rowfilter *rf, int f);

/* 1 when a bound rule reads column col (such a column is not "unknown"). */
int ps_rowfilter_uses_column(const ps_rowfilter *rf, int col);

/* Record-shaped sources: `column` names a key path ("/status", compared exactly) or a
 * top-level key (compared like a header); looked up in each record; a missing key is empty. */
void ps_rowfilter_bind_records(ps_rowfilter *rf, const char *const *defaults);

typedef enum ps_rf_outcome {
    PS_RF_KEEP = 0,   /* validate the row */
    PS_RF_DROP = 1,   /* a filter does not hold: the row is counted as filtered */
    PS_RF_REJECT = 2, /* a pattern hit its limits (regex_limit) or memory ran out */
} ps_rf_outcome;

/* Runs the extract rules, then the filters (all must hold), on one row. cells/ncells: the
 * row's cells; names: what each cell is called (the header, or a record's paths; used only for
 * record-shaped sources). by_field (in/out): the row's cell of each field; extracted fields
 * are set to cells allocated in arena. notes (room for max_notes): on KEEP, extract_no_match
 * warnings; on REJECT, the errors. *dropped_by: on DROP, the index of the first filter that
 * did not hold. */
ps_rf_outcome ps_rowfilter_apply(ps_rowfilter *rf, const ps_cell *cells, uint32_t ncells,
                                 const ps_cell *names, const ps_cell **by_field, ps_arena *arena,
                                 ps_problem *notes, int max_notes, int *nnotes, size_t *dropped_by);

/* Number of filters, and a short text of filter i for summaries:
 * "column 'Status' equals 'success'". buf >= 160 bytes. */
size_t ps_rowfilter_count(const ps_rowfilter *rf);
const char *ps_rowfilter_describe(const ps_rowfilter *rf, size_t i, char *buf, size_t cap);

#endif

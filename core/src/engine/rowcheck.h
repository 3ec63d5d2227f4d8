/* paysync core: the verdict on one source row. `run` and `discover` both classify rows with
 * ps_row_evaluate, so a sample row shown by discover ends exactly as run would end it. */
#ifndef PS_ROWCHECK_H
#define PS_ROWCHECK_H

#include <stdint.h>

#include "engine/mapping.h"
#include "engine/meterset.h"
#include "engine/rowfilter.h"
#include "engine/valuecount.h"
#include "model/validate.h"
#include "paysync/plugin.h"
#include "util/arena.h"

typedef enum ps_row_verdict {
    PS_VERDICT_BLANK = 0,     /* every cell empty or whitespace: skipped, counted as blank */
    PS_VERDICT_ACCEPTED = 1,  /* *rec complete; chk->warnings may hold warnings */
    PS_VERDICT_REJECTED = 2,  /* chk->errors says why */
    PS_VERDICT_DUPLICATE = 3, /* same ID and content as an earlier row: counted, written once */
    PS_VERDICT_FILTERED = 4   /* a mapping.filters filter does not hold: counted, not validated */
} ps_row_verdict;

/* Columns without a header name (a blank header cell, or beyond the header's last cell) that
 * no field is mapped to, and the values found in them: reported once per column at the end
 * of a run (unnamed_column), never a row reject, never dropped silently. */
#define PS_UNNAMED_MAX 64
typedef struct ps_unnamed_col {
    uint32_t col;       /* 0-based column index */
    uint64_t values;    /* non-blank cells seen */
    uint64_t first_row; /* row of the first */
} ps_unnamed_col;

typedef struct ps_unnamed {
    uint32_t ncolumns; /* header width */
    uint32_t *blank;   /* header columns with a blank name and no field (ascending) */
    uint32_t nblank;
    int field_col[PS_FIELD_COUNT];
    ps_unnamed_col cols[PS_UNNAMED_MAX]; /* in order of first value */
    size_t ncols;
    uint64_t other_values; /* values in further columns once PS_UNNAMED_MAX are tracked */
} ps_unnamed;

/* A tracker for a header of ncolumns cells; field_col (may be NULL) names the columns mapped
 * to a field (by letter, even beyond the header). NULL when out of memory. */
ps_unnamed *ps_unnamed_new(const ps_cell *header, uint32_t ncolumns, const int *field_col);
void ps_unnamed_free(ps_unnamed *u);
/* The warning text for tracked column i of u (at most cap bytes). */
void ps_unnamed_message(const ps_unnamed *u, size_t i, char *out, size_t cap);

/* What a row is checked against (borrowed; the caller keeps it alive). */
typedef struct ps_row_rules {
    const ps_validator *validator;
    ps_dedup *dedup;           /* duplicate detection across the rows evaluated; NULL = none */
    const ps_cell *header;     /* the header's cells (names the columns in messages) */
    uint32_t ncolumns;         /* header width */
    uint64_t header_line;      /* row number of the header */
    const ps_meterset *meters; /* verify_meters list; NULL = not configured */
    int strict;                /* strict profile: an unknown meter rejects the row */
    ps_unnamed *unnamed;       /* counts values under unnamed columns; NULL = none */
    ps_rowfilter *filter;      /* mapping.extract and mapping.filters (bound); NULL = none */
    /* when not NULL: every non-blank row's STATUS cell (after extraction) is counted here, an
     * absent one as "" unless status_skip_absent (record-shaped sources) */
    ps_value_counts *status_counts;
    int status_skip_absent;
    /* when not NULL: every non-blank row's TRANSACTION_TYPE cell (after extraction, before
     * validation), an absent one as "" unless status_skip_absent */
    ps_value_counts *txtype_counts;
    ps_phonecache *phones; /* the run's memo of phone verdicts (model/phonecache.h); NULL = none */
    /* the provider's PS_ROWF_* for this row: NO_NUL skips the NUL check; with ASCII as well
     * (and no filter) validation skips its UTF-8 check (ps_validate_row_flags) */
    unsigned row_flags;
    /* the row's ID cell and its dedup key, computed ahead by the caller; the duplicate check
     * uses the key when the record's ID is the same bytes; NULL = none */
    const ps_dedup_hint *id_hint;
} ps_row_rules;

/* The one row path: blank check (model/space.h), then NUL bytes in any cell (bad_text), then
 * values under unnamed columns (counted in rules->unnamed, the row goes on), then
 * mapping.extract and mapping.filters (rules->filter), then field validation (field_col[f] =
 * cell of field f or -1), then the meter list, then duplicate detection. Sets *verdict; on
 * FILTERED *dropped_by (when not NULL) is the first filter that did not hold; on REJECTED
 * chk->errors holds the problems (bad_text, regex_limit, extract_no_match first when an
 * extract rule did not match, unknown_meter under strict, duplicate_id_conflict naming the
 * first row, or the validator's); an unknown meter or extract_no_match of an accepted row is
 * a warning. *unknown_meter (when
 * not NULL) is 1 for an unknown meter, 2 for one with a near miss, to be counted; 0 else.
 * Errors (not verdicts): PS_ERR_NOMEM when duplicate tracking runs out of memory or
 * temporary space. */
ps_status ps_row_evaluate(const ps_row_rules *rules, const ps_row *row, const int *field_col,
                          ps_arena *arena, ps_record *rec, ps_row_check *chk,
                          ps_row_verdict *verdict, int *unknown_meter, size_t *dropped_by,
                          ps_error *err);

/* A record of a record-shaped provider as a row: its values become cells (in record order,
 * numbers as their exact text), its paths the row's header (*paths), and each path's field
 * comes from pm (first value wins when two map to one field). Cells live in arena. Errors:
 * PS_ERR_NOMEM. */
ps_status ps_record_as_row(const ps_keyed_row *kr, ps_path_map *pm, ps_arena *arena, ps_row *row,
                           ps_cell **paths, int field_col[PS_FIELD_COUNT], ps_error *err);

#endif

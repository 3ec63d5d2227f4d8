/* gsheet: ValueRange pages -> cells, and header-row detection. */
#ifndef PS_GS_VALUES_H
#define PS_GS_VALUES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "paysync/plugin.h"

/* Rows to scan for a header when header_row is not set, and model fields a header must name. */
#define PS_GS_HEADER_SCAN 20
#define PS_GS_HEADER_MIN_FIELDS 3

/* One page of a values read: the parsed JSON (owned), its `values` array (NULL when the key is
 * absent = no rows) and the sheet row number of values[0]. */
typedef struct ps_gs_page {
    json_t *root;
    const json_t *values;
    size_t nrows;
    size_t pos;         /* next row to hand out */
    uint64_t first_row; /* sheet row of values[0] */
} ps_gs_page;

/* Takes ownership of root (a ValueRange) and fills page. Errors: PS_ERR_SOURCE when `values`
 * is present but not an array of arrays (root is then released). */
ps_status ps_gs_page_init(ps_gs_page *page, json_t *root, uint64_t first_row, ps_error *err);
/* Releases the JSON; the page is empty afterwards. */
void ps_gs_page_free(ps_gs_page *page);

/* Converts one JSON cell into *out with text in arena: strings as they are (PS_CELL_TEXT),
 * numbers as exact decimal text (PS_CELL_NUMBER, see gs_number.h), booleans "TRUE"/"FALSE"
 * (PS_CELL_BOOL), null as "". Returns 0, or -1 when out of memory or the cell is an
 * array/object. */
int ps_gs_cell_from_json(const ps_host *host, ps_arena *arena, const json_t *v, ps_cell *out);

/* Converts row (a JSON array, [] allowed) into cells in arena, padded with "" up to min_width.
 * *ncells = max(len, min_width). Errors: PS_ERR_NOMEM, PS_ERR_SOURCE naming sheet_row when a
 * cell is not a scalar or the row is not an array. */
ps_status ps_gs_row_from_json(const ps_host *host, ps_arena *arena, const json_t *row,
                              uint32_t min_width, uint64_t sheet_row, ps_cell **cells,
                              uint32_t *ncells, ps_error *err);

/* Header matcher: the model field a header cell names, or -1. */
typedef int (*ps_gs_match_fn)(void *ctx, const char *name, size_t len);

/* Number of distinct model fields the cells name. */
size_t ps_gs_header_score(const ps_cell *cells, uint32_t n, ps_gs_match_fn match, void *ctx);

/* Index of the first of nrows rows (rows[i] with ncells[i]) naming at least min_fields
 * distinct fields, or -1 when none does. */
long ps_gs_detect_header(const ps_cell *const *rows, const uint32_t *ncells, size_t nrows,
                         size_t min_fields, ps_gs_match_fn match, void *ctx);

#endif

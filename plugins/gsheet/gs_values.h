/* gsheet: ValueRange pages -> cells (the header-row rule is paysync/header.h's). */
#ifndef PS_GS_VALUES_H
#define PS_GS_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "gs_vjson.h"
#include "paysync/header.h"
#include "paysync/plugin.h"

/* One page of a values read: the response body (owned, never copied: cells are decoded from
 * it on demand) and the index of its `values` rows (none when the key is absent). */
typedef struct ps_gs_page {
    char *body;
    size_t len;
    ps_gs_vrow *rows;
    size_t nrows;
    size_t pos;         /* next row to hand out */
    uint64_t first_row; /* sheet row of values[0] */
    size_t range_at;    /* offset of the answer's "range" string in body, SIZE_MAX = none */
} ps_gs_page;

/* Parses a ValueRange body (see gs_vjson.h) into page, taking ownership of body (malloc'd,
 * len bytes; freed by ps_gs_page_free, or here on error). Errors: PS_ERR_SOURCE "Google's
 * answer is not valid JSON (<why> at byte <n>)" (*syntax set to 1: the client retries those),
 * PS_ERR_SOURCE when `values` is present but not a list, PS_ERR_NOMEM. what prefixes the
 * invalid-JSON message (e.g. the range being read). */
ps_status ps_gs_page_parse(ps_gs_page *page, char *body, size_t len, uint64_t first_row,
                           const char *what, int *syntax, ps_error *err);
/* Releases the body and index; the page is empty afterwards. */
void ps_gs_page_free(ps_gs_page *page);

/* Number of cells of row i of the page (0 when it is [] or not a list). */
size_t ps_gs_page_row_width(const ps_gs_page *page, size_t i);

/* Converts row i of the page into cells in arena (strings unescaped, numbers as plain decimal
 * text, booleans "TRUE"/"FALSE", null "": see ps_gs_vjson_cell), padded with "" up to
 * min_width. *ncells = max(len, min_width). Errors: PS_ERR_NOMEM, PS_ERR_SOURCE naming
 * sheet_row (and the column) when the row is not a list, a cell is not a scalar, a number is
 * too long to write out, or the row has more cells than a sheet holds. */
ps_status ps_gs_page_row(const ps_host *host, ps_arena *arena, const ps_gs_page *page, size_t i,
                         uint32_t min_width, uint64_t sheet_row, ps_cell **cells, uint32_t *ncells,
                         ps_error *err);

#endif

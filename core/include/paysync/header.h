/* paysync plugin SDK: the one header-row rule of tabular sources (gsheet, csvfile) when
 * `header_row` is not set. Inline so that every provider applies the same rule without
 * linking anything: the header is the first of the first PS_HEADER_SCAN_ROWS rows whose
 * text cells name at least PS_HEADER_MIN_FIELDS distinct model fields, by the name matching
 * the provider passes (host->match_header in a plugin: canonical names after header
 * normalisation, and the dataset's mapping.columns aliases). */
#ifndef PAYSYNC_HEADER_H
#define PAYSYNC_HEADER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "paysync/plugin.h"

#define PS_HEADER_SCAN_ROWS 20
#define PS_HEADER_MIN_FIELDS 3

/* The field a header cell names (0 <= f < PS_FIELD_COUNT), or -1. */
typedef int (*ps_header_match_fn)(void *ctx, const char *name, size_t len);

/* How many distinct fields the n cells name (empty and non-text cells name none). */
static inline size_t ps_header_score(const ps_cell *cells, uint32_t n, ps_header_match_fn match,
                                     void *ctx)
{
    unsigned char seen[PS_FIELD_COUNT];
    memset(seen, 0, sizeof seen);
    size_t score = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (cells[i].kind != PS_CELL_TEXT || cells[i].len == 0)
            continue;
        int f = match(ctx, cells[i].text, cells[i].len);
        if (f >= 0 && f < PS_FIELD_COUNT && !seen[f]) {
            seen[f] = 1;
            score++;
        }
    }
    return score;
}

/* Index of the header among nrows rows (rows[i] with ncells[i] cells; only the first
 * PS_HEADER_SCAN_ROWS are looked at), or -1 when none names PS_HEADER_MIN_FIELDS fields. */
static inline long ps_header_detect(const ps_cell *const *rows, const uint32_t *ncells,
                                    size_t nrows, ps_header_match_fn match, void *ctx)
{
    for (size_t r = 0; r < nrows && r < PS_HEADER_SCAN_ROWS; r++)
        if (ps_header_score(rows[r], ncells[r], match, ctx) >= PS_HEADER_MIN_FIELDS)
            return (long)r;
    return -1;
}

#endif

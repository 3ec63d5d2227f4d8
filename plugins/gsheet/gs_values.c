/* gsheet: ValueRange pages -> cells. */
#include "gs_values.h"

#include <stdlib.h>
#include <string.h>

#include "gs_number.h"

ps_status ps_gs_page_parse(ps_gs_page *page, char *body, size_t len, uint64_t first_row,
                           const char *what, int *syntax, ps_error *err)
{
    memset(page, 0, sizeof *page);
    *syntax = 0;
    char why[96];
    size_t at = 0;
    int has_values;
    ps_gs_vjson_result r =
        ps_gs_vjson_index(body ? body : "", body ? len : 0, &page->rows, &page->nrows, &has_values,
                          &page->range_at, why, sizeof why, &at);
    if (r != PS_GS_VJSON_OK) {
        free(body);
        if (r == PS_GS_VJSON_NOMEM)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        if (r == PS_GS_VJSON_NOT_ROWS)
            return ps_error_setf(
                err, PS_ERR_SOURCE,
                "Google's values answer has a 'values' that is not a list of rows");
        *syntax = 1;
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "%s: Google's answer is not valid JSON (%s at byte %zu): the "
                             "response was cut short or corrupted",
                             what, why, at);
    }
    page->body = body;
    page->len = len;
    page->first_row = first_row;
    return PS_OK;
}

void ps_gs_page_free(ps_gs_page *page)
{
    free(page->body);
    free(page->rows);
    memset(page, 0, sizeof *page);
}

size_t ps_gs_page_row_width(const ps_gs_page *page, size_t i)
{
    if (i >= page->nrows || page->rows[i].ncells == PS_GS_ROW_NOT_LIST)
        return 0;
    return page->rows[i].ncells;
}

ps_status ps_gs_page_row(const ps_host *host, ps_arena *arena, const ps_gs_page *page, size_t i,
                         uint32_t min_width, uint64_t sheet_row, ps_cell **cells, uint32_t *ncells,
                         ps_error *err)
{
    if (i >= page->nrows || page->rows[i].ncells == PS_GS_ROW_NOT_LIST)
        return ps_error_setf(err, PS_ERR_SOURCE, "row %llu: Google sent a row that is not a list",
                             (unsigned long long)sheet_row);
    uint32_t len = page->rows[i].ncells;
    if (len > 18278)
        return ps_error_setf(err, PS_ERR_SOURCE, "row %llu: %u cells is more than a sheet holds",
                             (unsigned long long)sheet_row, len);
    uint32_t n = len > min_width ? len : min_width;
    ps_cell *c = host->arena_alloc(arena, (n ? n : 1) * sizeof *c);
    if (!c)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    const char *s = page->body;
    size_t pos = page->rows[i].off + 1; /* past '[' */
    for (uint32_t k = 0; k < len; k++) {
        pos = ps_gs_vjson_skip_ws(s, page->len, pos);
        int rc = ps_gs_vjson_cell(host, arena, s, page->len, &pos, &c[k]);
        switch (rc) {
        case PS_GS_CELL_OK:
            break;
        case PS_GS_CELL_NOMEM:
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        case PS_GS_CELL_HUGE:
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "row %llu, column %u: Google sent a number too long to write "
                                 "out in full (more than %d characters)",
                                 (unsigned long long)sheet_row, k + 1, PS_GS_NUM_MAX - 1);
        case PS_GS_CELL_NOT_SCALAR:
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "row %llu, column %u: Google sent a cell that is not text, a "
                                 "number or a boolean",
                                 (unsigned long long)sheet_row, k + 1);
        default:
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "row %llu, column %u: Google's answer is not valid JSON here",
                                 (unsigned long long)sheet_row, k + 1);
        }
        pos = ps_gs_vjson_skip_ws(s, page->len, pos);
        if (pos < page->len && s[pos] == ',')
            pos++;
    }
    for (uint32_t k = len; k < n; k++) {
        c[k].text = "";
        c[k].len = 0;
        c[k].kind = PS_CELL_TEXT;
    }
    *cells = c;
    *ncells = n;
    return PS_OK;
}

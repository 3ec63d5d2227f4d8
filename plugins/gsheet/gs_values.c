/* gsheet: ValueRange pages -> cells, and header-row detection. */
#include "gs_values.h"

#include <string.h>

#include "gs_number.h"

ps_status ps_gs_page_init(ps_gs_page *page, json_t *root, uint64_t first_row, ps_error *err)
{
    memset(page, 0, sizeof *page);
    const json_t *values = json_object_get(root, "values");
    if (values && !json_is_array(values)) {
        json_decref(root);
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "Google's values answer has a 'values' that is not a list of rows");
    }
    page->root = root;
    page->values = values;
    page->nrows = values ? json_array_size(values) : 0;
    page->first_row = first_row;
    return PS_OK;
}

void ps_gs_page_free(ps_gs_page *page)
{
    json_decref(page->root);
    memset(page, 0, sizeof *page);
}

static int set_text(const ps_host *host, ps_arena *arena, const char *s, size_t len, uint8_t kind,
                    ps_cell *out)
{
    char *t = host->arena_strndup(arena, s, len);
    if (!t)
        return -1;
    out->text = t;
    out->len = (uint32_t)len;
    out->kind = kind;
    return 0;
}

int ps_gs_cell_from_json(const ps_host *host, ps_arena *arena, const json_t *v, ps_cell *out)
{
    char buf[PS_GS_NUM_MAX];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return set_text(host, arena, json_string_value(v), json_string_length(v), PS_CELL_TEXT,
                        out);
    case JSON_INTEGER: {
        size_t n = ps_gs_format_int((int64_t)json_integer_value(v), buf);
        return set_text(host, arena, buf, n, PS_CELL_NUMBER, out);
    }
    case JSON_REAL: {
        size_t n = ps_gs_format_double(json_real_value(v), buf);
        return set_text(host, arena, buf, n, PS_CELL_NUMBER, out);
    }
    case JSON_TRUE:
        return set_text(host, arena, "TRUE", 4, PS_CELL_BOOL, out);
    case JSON_FALSE:
        return set_text(host, arena, "FALSE", 5, PS_CELL_BOOL, out);
    case JSON_NULL:
        return set_text(host, arena, "", 0, PS_CELL_TEXT, out);
    default:
        return -1;
    }
}

ps_status ps_gs_row_from_json(const ps_host *host, ps_arena *arena, const json_t *row,
                              uint32_t min_width, uint64_t sheet_row, ps_cell **cells,
                              uint32_t *ncells, ps_error *err)
{
    if (!json_is_array(row))
        return ps_error_setf(err, PS_ERR_SOURCE, "row %llu: Google sent a row that is not a list",
                             (unsigned long long)sheet_row);
    size_t len = json_array_size(row);
    if (len > 18278)
        return ps_error_setf(err, PS_ERR_SOURCE, "row %llu: %zu cells is more than a sheet holds",
                             (unsigned long long)sheet_row, len);
    uint32_t n = (uint32_t)len > min_width ? (uint32_t)len : min_width;
    ps_cell *c = host->arena_alloc(arena, (n ? n : 1) * sizeof *c);
    if (!c)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if (i < len) {
            const json_t *v = json_array_get(row, i);
            if (ps_gs_cell_from_json(host, arena, v, &c[i]) != 0)
                return json_is_array(v) || json_is_object(v)
                           ? ps_error_setf(err, PS_ERR_SOURCE,
                                           "row %llu, column %u: Google sent a cell that is not "
                                           "text, a number or a boolean",
                                           (unsigned long long)sheet_row, i + 1)
                           : ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        } else {
            c[i].text = "";
            c[i].len = 0;
            c[i].kind = PS_CELL_TEXT;
        }
    }
    *cells = c;
    *ncells = n;
    return PS_OK;
}

size_t ps_gs_header_score(const ps_cell *cells, uint32_t n, ps_gs_match_fn match, void *ctx)
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

long ps_gs_detect_header(const ps_cell *const *rows, const uint32_t *ncells, size_t nrows,
                         size_t min_fields, ps_gs_match_fn match, void *ctx)
{
    for (size_t r = 0; r < nrows; r++)
        if (ps_gs_header_score(rows[r], ncells[r], match, ctx) >= min_fields)
            return (long)r;
    return -1;
}

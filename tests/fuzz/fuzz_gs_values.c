/* Fuzz target: the Sheets values (ValueRange) JSON handling of plugins/gsheet (gs_values.c,
 * gs_vjson.c, gs_number.c): parse as the client does, then page, rows, cells and header
 * detection. */
#include <stdlib.h>
#include <string.h>

#include "../../plugins/gsheet/gs_values.h"
#include "fuzz.h"
#include "model/model_fields.h"
#include "util/arena.h"

static int gsv_match(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    return ps_field_lookup(name, len);
}

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    ps_host host;
    memset(&host, 0, sizeof host);
    host.arena_alloc = ps_arena_alloc;
    host.arena_strndup = ps_arena_strndup;
    /* exactly size bytes, no NUL after them: the reader must never look past len */
    char *body = malloc(size ? size : 1);
    PS_FUZZ_CHECK(body);
    if (size)
        memcpy(body, data, size);
    ps_gs_page page;
    ps_error err;
    int syntax = 0;
    if (ps_gs_page_parse(&page, body, size, 1, "fuzz", &syntax, &err) != PS_OK) { /* body freed */
        PS_FUZZ_CHECK(err.message[0]);
        return 0;
    }
    ps_arena *a = ps_arena_create(0);
    PS_FUZZ_CHECK(a);
    ps_cell *rows[PS_HEADER_SCAN_ROWS];
    uint32_t ns[PS_HEADER_SCAN_ROWS];
    size_t got = 0;
    for (size_t i = 0; i < page.nrows; i++) {
        ps_cell *cells = NULL;
        uint32_t n = 0;
        ps_status st = ps_gs_page_row(&host, a, &page, i, (uint32_t)(i % 5), page.first_row + i,
                                      &cells, &n, &err);
        if (st != PS_OK) {
            PS_FUZZ_CHECK(st == PS_ERR_SOURCE && err.message[0]);
            continue;
        }
        for (uint32_t c = 0; c < n; c++)
            PS_FUZZ_CHECK(cells[c].text && cells[c].text[cells[c].len] == '\0');
        if (got < PS_HEADER_SCAN_ROWS) {
            rows[got] = cells;
            ns[got++] = n;
        }
    }
    long h = ps_header_detect((const ps_cell *const *)rows, ns, got, gsv_match, NULL);
    PS_FUZZ_CHECK(h >= -1 && h < (long)got);
    ps_gs_page_free(&page);
    ps_arena_destroy(a);
    return 0;
}

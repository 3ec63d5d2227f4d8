/* Fuzz target: the streaming CSV reader (core/src/util/csv.c).
 * Byte 0 picks the delimiter, byte 1 the read chunk size and whether small limits apply; the
 * rest is the input, handed over in chunks so that records straddle buffer refills. */
#include <string.h>

#include "util/csv.h"
#include "fuzz.h"

typedef struct csvf_src {
    const uint8_t *p;
    size_t len, pos, chunk;
} csvf_src;

static long csvf_read(void *ctx, char *buf, size_t cap)
{
    csvf_src *s = ctx;
    size_t n = s->len - s->pos;
    if (n > cap)
        n = cap;
    if (n > s->chunk)
        n = s->chunk;
    memcpy(buf, s->p + s->pos, n);
    s->pos += n;
    return (long)n;
}

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static const char delims[] = {0, ',', ';', '\t', '|', ' ', '"', '\n'};
    if (size < 2)
        return 0;
    char delim = delims[data[0] & 7];
    size_t chunk = (size_t)(data[1] & 0x3f) + 1;
    int small = data[1] & 0x40;
    csvf_src src = {data + 2, size - 2, 0, (data[1] & 0x80) ? 1u << 20 : chunk};
    ps_csv_reader *r = ps_csv_new(csvf_read, &src, delim);
    if (!r) /* refused delimiter */
        return 0;
    if (small)
        ps_csv_set_limits(r, 64, 8);
    ps_arena *a = ps_arena_create(0);
    PS_FUZZ_CHECK(a);
    ps_error err;
    uint64_t last_line = 0;
    for (;;) {
        ps_cell *cells = NULL;
        size_t n = 0;
        uint64_t line = 0;
        ps_error_clear(&err);
        ps_status st = ps_csv_next(r, a, &cells, &n, &line, &err);
        if (st == PS_END)
            break;
        if (st != PS_OK) {
            PS_FUZZ_CHECK(st == PS_ERR_DATA);
            PS_FUZZ_CHECK(err.message[0] != '\0');
            /* errors are sticky */
            ps_error err2;
            PS_FUZZ_CHECK(ps_csv_next(r, a, &cells, &n, &line, &err2) == st);
            break;
        }
        PS_FUZZ_CHECK(n >= 1 && cells);
        PS_FUZZ_CHECK(line > last_line);
        last_line = line;
        for (size_t i = 0; i < n; i++) {
            PS_FUZZ_CHECK(cells[i].text);
            PS_FUZZ_CHECK(cells[i].text[cells[i].len] == '\0');
            if (small)
                PS_FUZZ_CHECK(cells[i].len <= 64);
        }
        if (small)
            PS_FUZZ_CHECK(n <= 8);
        ps_arena_reset(a);
    }
    ps_csv_free(r);
    ps_arena_destroy(a);
    return 0;
}

/* Fuzz target: the serve query string parser (core/src/serve/serve_query.c).
 * Invariants: on success FROM <= TO, the window is at most 24 h and the filters are
 * NUL-terminated within their buffers; the message is always NUL-terminated. */
#include <string.h>

#include "fuzz.h"
#include "serve/serve_query.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    /* a heap copy of exactly size bytes so that ASan sees any over-read */
    char *qs = malloc(size ? size : 1);
    PS_FUZZ_CHECK(qs);
    if (size)
        memcpy(qs, data, size);
    ps_payments_query q;
    char msg[256];
    memset(msg, 'x', sizeof msg);
    ps_query_error e = ps_serve_query_parse(qs, size, &q, msg, sizeof msg);
    PS_FUZZ_CHECK(memchr(msg, '\0', sizeof msg) != NULL || e == PS_QUERY_OK);
    if (e == PS_QUERY_OK) {
        PS_FUZZ_CHECK(q.from_ms <= q.to_ms);
        PS_FUZZ_CHECK(q.to_ms - q.from_ms <= PS_SERVE_WINDOW_MAX_MS + 999);
        PS_FUZZ_CHECK(memchr(q.site_id, '\0', sizeof q.site_id) != NULL);
        PS_FUZZ_CHECK(memchr(q.financing_id, '\0', sizeof q.financing_id) != NULL);
    } else {
        PS_FUZZ_CHECK(e >= PS_QUERY_TIMES && e <= PS_QUERY_FILTER);
    }
    /* a zero-size message buffer must not be written */
    (void)ps_serve_query_parse(qs, size, &q, NULL, 0);
    int64_t ms = 0;
    int frac = 0;
    int rc = ps_serve_parse_instant(qs, size, &ms, &frac);
    PS_FUZZ_CHECK(rc == 0 || rc == -1);
    free(qs);
    return 0;
}

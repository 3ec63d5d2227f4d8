/* paysync serve: the query string of GET /api/odyssey/payments (docs/serve.md).
 * Pure and allocation-free so that it can be fuzzed on its own. */
#ifndef PS_SERVE_QUERY_H
#define PS_SERVE_QUERY_H

#include <stddef.h>
#include <stdint.h>

/* Longest SITE_ID / FINANCING_ID value accepted (bytes, after decoding). */
#define PS_SERVE_FILTER_MAX 128
/* Longest FROM / TO value accepted (bytes, after decoding). */
#define PS_SERVE_TIME_MAX 40
/* Longest window: 24 hours. */
#define PS_SERVE_WINDOW_MAX_MS (INT64_C(24) * 3600 * 1000)

typedef enum ps_query_error {
    PS_QUERY_OK = 0,
    PS_QUERY_TIMES,    /* FROM or TO missing or not an ISO 8601 instant */
    PS_QUERY_RANGE,    /* TO - FROM longer than 24 hours */
    PS_QUERY_ORDER,    /* FROM after TO */
    PS_QUERY_ENCODING, /* malformed percent-encoding */
    PS_QUERY_REPEATED, /* a parameter given more than once (in either case) */
    PS_QUERY_FILTER    /* SITE_ID / FINANCING_ID too long or with forbidden characters */
} ps_query_error;

typedef struct ps_payments_query {
    int64_t from_ms; /* inclusive */
    int64_t to_ms;   /* inclusive: TO + 999 ms when TO has no fraction of a second */
    char site_id[PS_SERVE_FILTER_MAX + 1];      /* "" = no filter */
    char financing_id[PS_SERVE_FILTER_MAX + 1]; /* "" = no filter */
} ps_payments_query;

/* Parses the raw query string qs[0..len) (without the '?'): '&'-separated NAME=VALUE pairs,
 * percent-decoded, '+' = space. Known names (upper- or lower-case): FROM, TO, SITE_ID,
 * FINANCING_ID; others are ignored but must be well encoded. On error returns the code and
 * writes a user-facing message (the spec's exact texts for PS_QUERY_TIMES and PS_QUERY_RANGE)
 * into msg (msgsz bytes, may be 0); *out is then unspecified. */
ps_query_error ps_serve_query_parse(const char *qs, size_t len, ps_payments_query *out, char *msg,
                                    size_t msgsz);

/* Parses one FROM/TO value (already decoded): YYYY-MM-DDTHH:MM:SS[.fraction][zone] where zone
 * is Z, +hh:mm, +hhmm or +hh (a space in place of '+' is taken as '+'; no zone = UTC).
 * Sets *ms and *has_fraction. Returns 0, or -1 when not such an instant. */
int ps_serve_parse_instant(const char *s, size_t len, int64_t *ms, int *has_fraction);

#endif

/* paysync core: the HTTP client's retry policy: which outcomes are retried, how long to wait
 * (truncated exponential backoff with jitter, or the server's Retry-After), and parsing of
 * Retry-After. Pure functions; no I/O. */
#ifndef PS_HTTP_RETRY_H
#define PS_HTTP_RETRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct ps_retry_policy {
    int max_attempts;           /* tries per request, the first included (>= 1) */
    int64_t backoff_base_ms;    /* > 0 */
    int64_t backoff_cap_ms;     /* >= backoff_base_ms */
    int64_t retry_after_cap_ms; /* >= 0 */
} ps_retry_policy;

/* 1 for the statuses a request is retried on: 408, 429 and 500..599. */
int ps_retry_status(long status);

/* Wait before retry number retry (0 = the first retry):
 * min(base * 2^retry + jitter, cap) with jitter uniform in 0..base drawn from *rng
 * (xorshift; never 0), or min(retry_after_ms, retry_after_cap_ms) when retry_after_ms >= 0. */
int64_t ps_retry_delay_ms(const ps_retry_policy *p, uint64_t *rng, int retry,
                          int64_t retry_after_ms);

/* A Retry-After header value (n bytes, no CRLF): delta-seconds, or an HTTP-date (IMF-fixdate
 * "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" or asctime
 * "Sun Nov  6 08:49:37 1994") taken relative to now_ms (a date in the past gives 0).
 * Returns ms >= 0, or -1 when the value is not one of these. Huge values saturate at
 * INT32_MAX seconds. */
int64_t ps_retry_after_parse(const char *v, size_t n, int64_t now_ms);

#endif

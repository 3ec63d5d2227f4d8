/* paysync serve: request counters and the Prometheus text of GET /metrics
 * (docs/serve.md "Metrics"). */
#ifndef PS_SERVE_METRICS_H
#define PS_SERVE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "serve/serve_json.h"
#include "serve/serve_store.h"

/* Status codes counted one by one; anything else is counted as "other". */
#define PS_SERVE_STATUS_SLOTS 12

/* HTTP request counters, safe to bump from any thread. Zero-initialise. */
typedef struct ps_serve_counters {
    atomic_ullong by_status[PS_SERVE_STATUS_SLOTS + 1];
    atomic_llong in_flight;        /* requests whose header section is in, not yet completed */
    atomic_ullong header_timeouts; /* connections shut down by the header deadline */
    atomic_ullong no_request;      /* connections closed before any request line arrived */
} ps_serve_counters;

/* Counts one response with the given status. */
void ps_serve_count(ps_serve_counters *c, int status);

/* Appends the whole /metrics text: paysync_store_up, then (when stats is not NULL) the
 * per-dataset run metrics, then paysync_http_requests_total and paysync_http_requests_in_flight. */
void ps_serve_metrics_render(ps_sbuf *b, const ps_serve_counters *c, int store_up,
                             const ps_store_stats *stats, size_t n);

#endif
